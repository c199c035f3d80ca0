//! `alignscope demo` end to end on a small cut of the real demo (the first 40 emoji):
//! the pinned emoji packages, the real encoder weights, a real SQLite data directory and
//! two real (short) LoginMEA runs. Needs `scripts/setup.sh` to have run.

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn demo(data_dir: &Path, extra: &[&str]) -> (String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_alignscope"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--json", "demo", "--limit", "40", "--epochs", "10"])
        .args(extra)
        .output()
        .expect("alignscope runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "demo failed:\n{stderr}\n{stdout}");
    (stdout, stderr)
}

#[test]
fn demo_builds_once_trains_with_and_without_images_and_reports_json() {
    if !common::demo_setup_ready() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let (stdout, stderr) = demo(home.path(), &[]);
    assert!(
        stderr.contains("encoding"),
        "no encoding progress:\n{stderr}"
    );
    let last = stdout.lines().last().expect("a JSON line");
    let summary: Value = serde_json::from_str(last).expect("the last line is JSON");
    for key in [
        "entities_left",
        "entities_right",
        "gold_pairs",
        "images_left",
        "images_right",
    ] {
        assert!(summary[key].as_u64().unwrap_or(0) > 0, "{key} in {summary}");
    }
    // 40 emoji and their variants have images on the left; the right lost about 10%.
    let images_left = summary["images_left"].as_u64().unwrap();
    let images_right = summary["images_right"].as_u64().unwrap();
    assert!(images_left >= 40 && images_right < images_left, "{summary}");
    // The demo's point: the images carry what the sparse right graph lacks. With only
    // 32 test pairs in this cut, MRR is the steadier measure (H@1 moves in 1/32 steps);
    // measured: MRR 0.76 with images, 0.40 without.
    println!("demo, first 40 emoji, 10 epochs: {summary}");
    let figure = |key: &str| summary[key].as_f64().unwrap_or(-1.0);
    let (with, without) = (figure("mrr_with_images"), figure("mrr_without_images"));
    assert!(
        (0.0..=1.0).contains(&without) && with > without + 0.05,
        "images should help: MRR {with} with, {without} without: {summary}"
    );
    assert!(figure("hits_at_1_with_images") >= figure("hits_at_1_without_images"));
    assert_ne!(summary["run_with_images"], summary["run_without_images"]);

    // The dataset is in our format, with a 1280-d feature for every image.
    let dir = home.path().join("demo/emoji-en-zh-first40");
    let loaded = alignscope_datasets::load(&dir, &Default::default()).expect("loads");
    let features = loaded.pair.left.image_features.as_ref().expect("features");
    assert_eq!(features.dim, 1280);
    assert_eq!(features.count() as u64, images_left);
    let toml = std::fs::read_to_string(dir.join("dataset.toml")).unwrap();
    assert!(
        toml.contains("CC-BY 4.0") && toml.contains("Apache-2.0"),
        "{toml}"
    );

    // The run without images really had no image modality.
    let show = Command::new(env!("CARGO_BIN_EXE_alignscope"))
        .arg("--data-dir")
        .arg(home.path())
        .args(["--json", "runs", "show"])
        .arg(summary["run_without_images"].to_string())
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&show.stdout);
    assert!(show.status.success(), "{shown}");
    assert!(
        shown.contains(r#""relation""#) && !shown.contains(r#""image""#),
        "{shown}"
    );

    // A second call reuses the built dataset.
    let (_, stderr) = demo(home.path(), &["--build-only"]);
    assert!(!stderr.contains("encoding"), "rebuilt:\n{stderr}");

    // More of the right graph's images removed: a pair of its own, beside the first.
    let (stdout, _) = demo(home.path(), &["--build-only", "--image-drop", "0.4"]);
    let dropped: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(dropped["images_left"], summary["images_left"]);
    let right = dropped["images_right"].as_u64().unwrap();
    assert!(
        right < images_right && (right as f64) < 0.7 * images_left as f64,
        "40% removed: {right} right images against {images_right} with 10% and {images_left} left"
    );
    assert_ne!(dropped["dataset_id"], summary["dataset_id"]);
    assert!(
        home.path()
            .join("demo/emoji-en-zh-first40-images-dropped40/dataset.toml")
            .is_file()
    );
    let refused = Command::new(env!("CARGO_BIN_EXE_alignscope"))
        .arg("--data-dir")
        .arg(home.path())
        .args(["demo", "--build-only", "--image-drop", "1.5"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && stderr.contains("not a share from 0 to 1"),
        "{stderr}"
    );
}
