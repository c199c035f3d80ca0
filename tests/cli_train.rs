//! `alignscope train` and `alignscope eval` through the real binary, on a generated pair
//! written to disk in AlignScope's format.

mod common;

use std::path::Path;

use common::alignscope;
use serde_json::Value;

fn dataset(root: &Path) -> String {
    let dir = root.join("planted");
    let pair = alignscope_models::synthetic::planted_pair(120, 8, 4, 0.1, 3);
    alignscope_datasets::write_alignscope(&pair, &dir).expect("write the generated pair");
    dir.to_string_lossy().into_owned()
}

/// `alignscope train --dataset <data> <args>`.
fn train_on(data: &str, args: &[&str]) -> common::Run {
    let mut all = vec!["train", "--dataset", data];
    all.extend_from_slice(args);
    alignscope(&all)
}

fn last_json(stdout: &str) -> Value {
    let line = stdout.lines().last().expect("some output");
    serde_json::from_str(line).unwrap_or_else(|e| panic!("last line is not JSON ({e}): {line}"))
}

#[test]
fn train_writes_a_run_that_eval_reproduces() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(tmp.path());
    let out = tmp.path().join("run");
    let out_str = out.to_string_lossy();
    let run = train_on(
        &data,
        &[
            "--epochs",
            "4",
            "--eval-every",
            "2",
            "--seed",
            "5",
            "--out",
            &out_str,
            "--json",
        ],
    );
    run.assert_no_panic();
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let result = last_json(&run.stdout);
    for key in [
        "hits_at_1",
        "hits_at_10",
        "mrr",
        "mr",
        "epochs",
        "seconds_per_epoch",
    ] {
        assert!(
            result.get(key).is_some_and(|v| !v.is_null()),
            "missing {key}: {result}"
        );
    }
    assert_eq!(result["epochs"], 4);
    let h1 = result["hits_at_1"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&h1));
    assert!(result["mr"].as_f64().unwrap() >= 1.0);
    assert!(
        run.stderr.contains("epoch    4/4"),
        "progress lines on stderr: {}",
        run.stderr
    );
    for file in [
        "config.json",
        "summary.json",
        "exports/candidates.tsv",
        "exports/ranks.tsv",
        "exports/manifest.json",
    ] {
        assert!(out.join(file).exists(), "{file} missing");
    }
    let config: Value =
        serde_json::from_slice(&std::fs::read(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["loginmea"]["fusion_rank"], 8);
    assert!(
        config["deviations"]
            .as_array()
            .is_some_and(|d| !d.is_empty())
    );

    let eval = alignscope(&["eval", "--checkpoint", &out_str, "--json"]);
    assert_eq!(eval.code, Some(0), "{}", eval.stderr);
    let again = last_json(&eval.stdout);
    assert_eq!(
        again["hits_at_1"], result["hits_at_1"],
        "eval of the saved model reproduces train's final metric"
    );
    assert_eq!(again["mrr"], result["mrr"]);

    let cosine = alignscope(&[
        "eval",
        "--checkpoint",
        &out_str,
        "--similarity",
        "cosine",
        "--candidates",
        "all",
    ]);
    assert_eq!(cosine.code, Some(0), "{}", cosine.stderr);
    assert!(
        cosine.stdout.contains("cosine, candidates: all entities"),
        "{}",
        cosine.stdout
    );

    // The same folder cannot take a different run.
    let clash = train_on(&data, &["--epochs", "2", "--seed", "6", "--out", &out_str]);
    assert_eq!(clash.code, Some(1));
    assert!(
        clash.stderr.contains("already holds a run"),
        "{}",
        clash.stderr
    );
}

#[test]
fn human_output_has_a_curve_and_a_metric_table() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(tmp.path());
    let run = train_on(
        &data,
        &[
            "--epochs",
            "2",
            "--eval-every",
            "1",
            "--similarity",
            "cosine",
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout
            .contains("Test metrics (cosine, candidates: test pairs)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("left to right") && run.stdout.contains("right to left"));
    assert!(run.stdout.contains("H@1 (left to right)"));
}

#[test]
fn bad_arguments_and_inputs_get_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(tmp.path());
    let bad_ratio = train_on(&data, &["--ratio", "1.5", "--epochs", "1"]);
    bad_ratio.assert_no_panic();
    assert_eq!(bad_ratio.code, Some(1));
    assert!(
        bad_ratio.stderr.contains("invalid split"),
        "{}",
        bad_ratio.stderr
    );

    let zero_epochs = train_on(&data, &["--epochs", "0"]);
    assert_eq!(zero_epochs.code, Some(2));

    let missing = train_on("/nonexistent/data", &["--epochs", "1"]);
    assert_eq!(missing.code, Some(1));
    assert!(
        missing.stderr.contains("/nonexistent/data"),
        "{}",
        missing.stderr
    );

    let not_a_run = alignscope(&["eval", "--checkpoint", &data]);
    assert_eq!(not_a_run.code, Some(1));
    assert!(
        not_a_run.stderr.contains("is not a run folder"),
        "{}",
        not_a_run.stderr
    );

    let resume_without_out = train_on(&data, &["--resume"]);
    assert_eq!(resume_without_out.code, Some(2));
}

#[test]
fn cuda_request_falls_back_to_the_cpu_with_a_message() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(tmp.path());
    let run = train_on(&data, &["--epochs", "1", "--device", "cuda", "--json"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stderr.contains("using the CPU"), "{}", run.stderr);
    assert!(
        last_json(&run.stdout)["device"]
            .as_str()
            .unwrap()
            .starts_with("cpu")
    );
}
