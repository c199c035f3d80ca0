//! Helpers shared by the cross-crate tests: running the real `alignscope` binary and
//! finding the shared DBP15K data.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// What a run of the CLI printed and returned.
#[derive(Debug)]
pub struct Run {
    /// Exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Fails the test if the process panicked.
    pub fn assert_no_panic(&self) -> &Self {
        assert!(
            !self.stderr.contains("panicked") && self.code != Some(101),
            "the CLI panicked:\n{}",
            self.stderr
        );
        self
    }
}

/// Runs the `alignscope` binary built by Cargo for this test.
pub fn alignscope(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_alignscope"))
        .args(args)
        .output()
        .expect("the alignscope binary runs");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `../shared/datasets/dbp15k/<pair>` beside the checkout, or `None` with a printed
/// reason. With `ALIGNSCOPE_REQUIRE_SHARED=1` (set by CI) a missing folder fails instead.
pub fn shared_dbp15k(pair: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/datasets/dbp15k")
        .join(pair);
    if dir.join("ent_ids_1").exists() {
        return Some(dir);
    }
    let message = format!(
        "{} is absent: skipping the test on real DBP15K {pair}",
        dir.display()
    );
    assert!(
        std::env::var("ALIGNSCOPE_REQUIRE_SHARED").as_deref() != Ok("1"),
        "{message}"
    );
    eprintln!("SKIP: {message}");
    None
}

/// Writes `files` (relative path, content) below `root`, creating folders.
pub fn write_files(root: &Path, files: &[(&str, &[u8])]) {
    for (name, content) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().expect("a file has a parent")).expect("mkdir");
        std::fs::write(&path, content).expect("write fixture");
    }
}

/// Whether what `scripts/setup.sh` installs for the demo (packages, encoder weights) is
/// there; panics when it is not and `ALIGNSCOPE_REQUIRE_SETUP` is set (CI).
pub fn demo_setup_ready() -> bool {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let ready = root
        .join("scripts/demo-sources/node_modules/emojibase-data")
        .is_dir()
        && alignscope_vision::locate_weights(&[]).is_ok();
    if !ready {
        if std::env::var_os("ALIGNSCOPE_REQUIRE_SETUP").is_some() {
            panic!(
                "the demo sources or the encoder weights are missing; run `bash scripts/setup.sh`"
            );
        }
        eprintln!(
            "SKIPPED: run `bash scripts/setup.sh` to install the demo sources and encoder weights"
        );
    }
    ready
}
