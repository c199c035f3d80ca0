//! Rebuilds when the migrations change (they are embedded), and records the commit.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    for git in ["../.git/HEAD", "../.git/refs/heads"] {
        if std::path::Path::new(git).exists() {
            println!("cargo:rerun-if-changed={git}");
        }
    }
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=10", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=ALIGNSCOPE_COMMIT={commit}");
}
