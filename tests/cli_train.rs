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

/// `alignscope train --dataset <data> <args>` with the data directory `home`.
fn train_in(home: &Path, data: &str, args: &[&str]) -> common::Run {
    let home = home.to_string_lossy();
    let mut all = vec!["--data-dir", &home, "train", "--dataset", data];
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
    let home = tmp.path().join("home");
    let home_str = home.to_string_lossy().into_owned();
    let run = train_in(
        &home,
        &data,
        &[
            "--epochs",
            "4",
            "--eval-every",
            "2",
            "--seed",
            "5",
            "--json",
        ],
    );
    run.assert_no_panic();
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let result = last_json(&run.stdout);
    for key in [
        "run_id",
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
    // Four epochs already rank true matches far above chance (about 1 in 84 for H@1, and
    // a mean rank near 42); measured: H@1 0.29, mean rank 10.8.
    let h1 = result["hits_at_1"].as_f64().unwrap();
    assert!(h1 >= 0.15, "H@1 {h1} after 4 epochs: {result}");
    let mr = result["mr"].as_f64().unwrap();
    assert!((1.0..=20.0).contains(&mr), "mean rank {mr}: {result}");
    assert!(
        run.stderr.contains("epoch    4/4"),
        "progress lines on stderr: {}",
        run.stderr
    );
    let run_id = result["run_id"].as_i64().unwrap();
    let out = home.join("runs").join(run_id.to_string());
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
    assert_eq!(config["model"], "loginmea");
    assert_eq!(
        config["settings"]["fusion_rank"], 8,
        "resolved settings stored"
    );
    assert_eq!(config["settings"]["epochs"], 4);
    // The split is stored once: 30% of 120 gold pairs train, the rest test.
    let split = std::fs::read_to_string(out.join("split.tsv")).unwrap();
    let count = |part: &str| split.lines().filter(|l| l.starts_with(part)).count();
    assert_eq!((count("train\t"), count("test\t")), (36, 84), "{split}");
    assert!(
        config["deviations"]
            .as_array()
            .is_some_and(|d| !d.is_empty())
    );

    let run_id_str = run_id.to_string();
    let eval = alignscope(&[
        "--data-dir",
        &home_str,
        "eval",
        "--run",
        &run_id_str,
        "--json",
    ]);
    assert_eq!(eval.code, Some(0), "{}", eval.stderr);
    let again = last_json(&eval.stdout);
    assert_eq!(
        again["hits_at_1"], result["hits_at_1"],
        "eval of the saved model reproduces train's final metric"
    );
    assert_eq!(again["mrr"], result["mrr"]);

    let out_str = out.to_string_lossy();
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

    // The store has the run, its metrics and its predictions.
    let list = alignscope(&["--data-dir", &home_str, "runs", "list", "--json"]);
    assert_eq!(list.code, Some(0), "{}", list.stderr);
    let runs = last_json(&list.stdout);
    let stored = &runs.as_array().unwrap()[0];
    assert_eq!(stored["id"], run_id);
    assert_eq!(stored["status"], "completed");
    assert_eq!(stored["hits_at_1"], result["hits_at_1"]);
    assert_eq!(stored["epochs_done"], 4);

    // A second run on the same split compares with the first.
    let second = train_in(
        &home,
        &data,
        &[
            "--epochs",
            "2",
            "--eval-every",
            "2",
            "--seed",
            "5",
            "--json",
        ],
    );
    let second_id = last_json(&second.stdout)["run_id"].to_string();
    let compare = alignscope(&[
        "--data-dir",
        &home_str,
        "--json",
        "runs",
        "compare",
        &run_id_str,
        &second_id,
    ]);
    assert_eq!(compare.code, Some(0), "{}", compare.stderr);
    let c = last_json(&compare.stdout);
    let count = |k: &str| c[k].as_u64().unwrap();
    let flips = c["a_only"].as_array().unwrap().len() + c["b_only"].as_array().unwrap().len();
    assert!(count("common_queries") > 0);
    assert_eq!(
        count("both_correct") + count("neither_correct") + flips as u64,
        count("common_queries")
    );
}

#[test]
fn human_output_has_a_curve_and_a_metric_table() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(tmp.path());
    let run = train_in(
        tmp.path(),
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
    let home = tmp.path();
    let bad_ratio = train_in(home, &data, &["--ratio", "1.5", "--epochs", "1"]);
    bad_ratio.assert_no_panic();
    assert_eq!(bad_ratio.code, Some(1));
    assert!(
        bad_ratio.stderr.contains("invalid split"),
        "{}",
        bad_ratio.stderr
    );

    let zero_epochs = train_in(home, &data, &["--epochs", "0"]);
    assert_eq!(zero_epochs.code, Some(2));

    let missing = train_in(home, "/nonexistent/data", &["--epochs", "1"]);
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

    let no_run = alignscope(&["--data-dir", &home.to_string_lossy(), "runs", "show", "99"]);
    assert_eq!(no_run.code, Some(1));
    assert!(no_run.stderr.contains("no run 99"), "{}", no_run.stderr);
}

#[test]
fn cuda_request_falls_back_to_the_cpu_with_a_message() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(tmp.path());
    let run = train_in(
        tmp.path(),
        &data,
        &["--epochs", "1", "--device", "cuda", "--json"],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stderr.contains("using the CPU"), "{}", run.stderr);
    assert!(
        last_json(&run.stdout)["device"]
            .as_str()
            .unwrap()
            .starts_with("cpu")
    );
}

/// The registry through the CLI: `models list --json` names every model with its schema;
/// a baseline trains with `--set`; a bad setting is refused before anything runs.
#[test]
fn models_are_listed_and_each_trains_with_set() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(tmp.path());
    let home = tmp.path().join("home");
    let list = alignscope(&["models", "list", "--json"]);
    assert_eq!(list.code, Some(0), "{}", list.stderr);
    let models: Value = serde_json::from_str(list.stdout.trim()).unwrap();
    let ids: Vec<&str> = models
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids.join(" "),
        "loginmea tmea mpsea rrea gcn-align eva mclea meaformer"
    );
    for m in models.as_array().unwrap() {
        for key in ["name", "citation", "modalities", "config"] {
            assert!(m.get(key).is_some_and(|v| !v.is_null()), "{key}: {m}");
        }
        assert!(
            m["config"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["key"] == "epochs" && f["help"].is_string()),
            "{m}"
        );
    }

    for (model, width) in [
        ("rrea", "dim=16"),
        ("gcn-align", "structure_dim=16"),
        ("eva", "structure_hidden=16"),
        ("mclea", "structure_dim=16"),
        ("meaformer", "dim=16"),
    ] {
        let run = train_in(
            &home,
            &data,
            &[
                "--model",
                model,
                "--set",
                width,
                "--set",
                "epochs=3",
                "--set",
                "eval_every=3",
                "--json",
            ],
        );
        run.assert_no_panic();
        assert_eq!(run.code, Some(0), "{model}: {}", run.stderr);
        let result = last_json(&run.stdout);
        assert_eq!(result["model"], model);
        assert_eq!(result["epochs"], 3);
        let dir = Path::new(result["run_dir"].as_str().unwrap());
        let config: Value =
            serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
        let (key, value) = width.split_once('=').unwrap();
        assert_eq!(config["settings"][key], value.parse::<i64>().unwrap());
    }

    let before = alignscope(&[
        "--data-dir",
        &home.to_string_lossy(),
        "runs",
        "list",
        "--json",
    ]);
    let refused = train_in(&home, &data, &["--model", "rrea", "--set", "dimm=16"]);
    assert_eq!(refused.code, Some(1));
    assert!(
        refused
            .stderr
            .contains("unknown setting `dimm` for rrea (did you mean `dim`?)"),
        "{}",
        refused.stderr
    );
    let refused = train_in(&home, &data, &["--model", "gcn-align", "--set", "beta=2"]);
    assert!(
        refused
            .stderr
            .contains("setting `beta` = 2: must be a number from 0 to 1"),
        "{}",
        refused.stderr
    );
    let after = alignscope(&[
        "--data-dir",
        &home.to_string_lossy(),
        "runs",
        "list",
        "--json",
    ]);
    assert_eq!(before.stdout, after.stdout, "a refused run stores nothing");
}

#[test]
fn bench_sets_a_model_beside_its_ablation_on_the_same_splits() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(tmp.path());
    let home = tmp.path().join("home").to_string_lossy().into_owned();
    let out = tmp.path().join("tables");
    let out_str = out.to_string_lossy().into_owned();
    let bench = |extra: &[&str]| {
        let mut args = vec![
            "--data-dir",
            &home,
            "bench",
            "--dataset",
            &data,
            "--models",
            "gcn-align",
            "--seeds",
            "2",
            "--set",
            "epochs=3",
            "--set",
            "eval_every=3",
            "--set",
            "structure_dim=16",
            "--out",
            &out_str,
        ];
        args.extend_from_slice(extra);
        alignscope(&args)
    };
    let run = bench(&["--ablations", "structure only", "--json"]);
    run.assert_no_panic();
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let result = last_json(&run.stdout);
    let rows = result["models"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{result}");
    assert_eq!(rows[0]["ablation"], Value::Null);
    assert_eq!(rows[1]["ablation"], "structure only (SE)");
    assert_eq!(rows[1]["name"], "GCN-Align structure only (SE)");
    for row in rows {
        assert_eq!(row["runs"].as_array().unwrap().len(), 2, "{row}");
        let h1 = row["hits_at_1"]["mean"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&h1), "{row}");
    }
    assert!(
        result["title"]
            .as_str()
            .unwrap()
            .contains("settings epochs=3, eval_every=3, structure_dim=16"),
        "{result}"
    );
    let markdown = std::fs::read_to_string(result["markdown"].as_str().unwrap()).unwrap();
    assert!(
        markdown.contains("| GCN-Align structure only (SE) |"),
        "{markdown}"
    );
    let csv = std::fs::read_to_string(result["csv"].as_str().unwrap()).unwrap();
    assert!(
        csv.starts_with("model,ablation,seed_ratio,hits_at_1_mean"),
        "{csv}"
    );
    assert!(
        csv.contains("\ngcn-align,structure only (SE),0.3,"),
        "{csv}"
    );

    // Several seed ratios: every seed at each, a table per ratio and H@1 against them.
    let ratios = bench(&["--ratios", "0.1,0.3", "--json"]);
    ratios.assert_no_panic();
    assert_eq!(ratios.code, Some(0), "{}", ratios.stderr);
    let result = last_json(&ratios.stdout);
    let rows = result["models"].as_array().unwrap();
    let at: Vec<f64> = rows
        .iter()
        .map(|r| r["seed_ratio"].as_f64().unwrap())
        .collect();
    assert_eq!(at, [0.1, 0.3], "{result}");
    assert!(
        result["title"].as_str().unwrap().contains("10%/30% seeds"),
        "{result}"
    );
    let markdown = std::fs::read_to_string(result["markdown"].as_str().unwrap()).unwrap();
    assert!(
        markdown.contains("### 10% seeds") && markdown.contains("### H@1 against the seed ratio"),
        "{markdown}"
    );
    for row in rows {
        assert!(
            row["seconds_per_epoch"]["mean"].as_f64().unwrap() > 0.0,
            "{row}"
        );
        assert!(
            row["peak_memory_mib"]["mean"].as_f64().unwrap() > 0.0,
            "{row}"
        );
    }

    // With a validation part, each run reports the test metrics of the epoch its
    // validation H@1 chose, not the last one.
    let validated = bench(&["--valid-ratio", "0.2", "--set", "eval_every=1", "--json"]);
    validated.assert_no_panic();
    assert_eq!(validated.code, Some(0), "{}", validated.stderr);
    let result = last_json(&validated.stdout);
    assert!(
        result["title"]
            .as_str()
            .unwrap()
            .contains("best validation H@1 (20% of gold pairs held out)"),
        "{result}"
    );
    let row = &result["models"][0];
    let mut reported = Vec::new();
    for id in row["runs"].as_array().unwrap() {
        let id = id.as_i64().unwrap().to_string();
        let show = alignscope(&["--data-dir", &home, "runs", "show", &id, "--json"]);
        let shown = last_json(&show.stdout);
        let best = shown["run"]["best_epoch"].as_i64().unwrap();
        let epoch = shown["epochs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["epoch"].as_i64() == Some(best))
            .unwrap();
        assert!(epoch["valid_hits_at_1"].is_f64(), "{epoch}");
        reported.push((best as f64, epoch["hits_at_1"].as_f64().unwrap()));
    }
    let mean = |f: fn(&(f64, f64)) -> f64| reported.iter().map(f).sum::<f64>() / 2.0;
    assert!(
        (row["epoch"]["mean"].as_f64().unwrap() - mean(|r| r.0)).abs() < 1e-9,
        "{row}"
    );
    assert!(
        (row["hits_at_1"]["mean"].as_f64().unwrap() - mean(|r| r.1)).abs() < 1e-9,
        "{row}"
    );

    let wrong = bench(&["--ablations", "w/o everything"]);
    wrong.assert_no_panic();
    assert_ne!(wrong.code, Some(0));
    assert!(
        wrong
            .stderr
            .contains("no ablation of gcn-align has `w/o everything` in its label; they are: gcn-align: structure only (SE)"),
        "{}",
        wrong.stderr
    );
}

#[test]
fn runs_decode_saves_pairs_that_export_and_review_use() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(tmp.path());
    let home = tmp.path().join("home");
    let home_str = home.to_string_lossy().into_owned();
    let trained = train_in(&home, &data, &["--epochs", "3", "--seed", "2", "--json"]);
    assert_eq!(trained.code, Some(0), "{}", trained.stderr);
    let id = last_json(&trained.stdout)["run_id"]
        .as_i64()
        .unwrap()
        .to_string();

    let export_greedy = || {
        alignscope(&[
            "--data-dir",
            &home_str,
            "decisions",
            "export",
            "--format",
            "tsv",
            "--run",
            &id,
            "--decoder",
            "greedy",
        ])
    };
    // Before a decoding, the export by a decoder says how to make one.
    let early = export_greedy();
    assert_ne!(early.code, Some(0));
    assert!(early.stderr.contains("runs decode"), "{}", early.stderr);

    let decoded = alignscope(&[
        "--data-dir",
        &home_str,
        "--json",
        "runs",
        "decode",
        &id,
        "--method",
        "greedy,sinkhorn",
    ]);
    assert_eq!(decoded.code, Some(0), "{}", decoded.stderr);
    let result = last_json(&decoded.stdout);
    let outcomes = result["outcomes"].as_array().unwrap();
    let names: Vec<&str> = outcomes
        .iter()
        .map(|o| o["decoder"]["method"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["rank", "greedy", "sinkhorn"]);
    let greedy_paired = outcomes[1]["quality"]["paired"].as_u64().unwrap() as usize;
    assert!(greedy_paired > 0);
    assert!(
        home.join(format!("runs/{id}/exports/decoding.json"))
            .is_file()
    );

    let exported = export_greedy();
    assert_eq!(exported.code, Some(0), "{}", exported.stderr);
    let rows: Vec<&str> = exported.stdout.lines().skip(1).collect();
    assert_eq!(rows.len(), greedy_paired, "one row per greedy pair");
    let rights: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r.split('\t').nth(1).unwrap()).collect();
    assert_eq!(rights.len(), rows.len(), "each right entity once");

    let review = alignscope(&[
        "--data-dir",
        &home_str,
        "--json",
        "runs",
        "review",
        &id,
        "--strategy",
        "one-to-one",
        "--limit",
        "5",
    ]);
    assert_eq!(review.code, Some(0), "{}", review.stderr);
    let items: Value = serde_json::from_str(review.stdout.trim()).unwrap();
    let scores: Vec<f64> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["score"].as_f64().unwrap())
        .collect();
    assert_eq!(scores.len(), 5);
    assert!(
        scores.windows(2).all(|w| w[0] <= w[1]),
        "least confident first: {scores:?}"
    );
}
