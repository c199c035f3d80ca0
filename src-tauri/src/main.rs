//! `alignscope`: the headless command-line interface (no WebKit, no UI build needed).

fn main() -> std::process::ExitCode {
    alignscope::cli::main()
}
