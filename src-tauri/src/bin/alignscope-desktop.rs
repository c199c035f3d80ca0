//! `alignscope-desktop`: the Tauri 2 desktop app (cargo feature `desktop`).

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    alignscope::desktop::main()
}
