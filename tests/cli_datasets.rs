//! The CLI on real data: `dataset inspect` on DBP15K gives the true counts, and
//! `dataset convert` writes our format that reads back with the same fingerprint.

mod common;

use common::{alignscope, shared_dbp15k};
use serde_json::Value;

fn inspect_json(dir: &str) -> Value {
    let run = alignscope(&["dataset", "inspect", "--json", dir]);
    run.assert_no_panic();
    assert_eq!(run.code, Some(0), "inspect failed: {}", run.stderr);
    serde_json::from_str(&run.stdout).expect("inspect --json prints one JSON object")
}

/// Checks every count of a DBP15K folder: (entities, triples) per side, relations per
/// side (from the ids in the files), and the 15,000 one-to-one gold pairs.
fn check_dbp15k(report: &Value, left: (u64, u64, u64), right: (u64, u64, u64)) {
    assert_eq!(report["format"], "gcn-align");
    for (side, (entities, triples, relations)) in [("left", left), ("right", right)] {
        let g = &report[side];
        assert_eq!(g["entities"], entities, "{side} entities");
        assert_eq!(g["triples"], triples, "{side} triples");
        assert_eq!(g["relations"], relations, "{side} relations");
        assert_eq!(
            g["attribute_keys"], 0,
            "{side}: DBP15K here has no attribute files"
        );
        assert_eq!(g["entities_with_images"], 0, "{side}: no images here");
        assert_eq!(g["image_coverage"], 0.0);
        assert_eq!(g["dangling_entities"], entities - 15_000, "{side} dangling");
        let histogram = g["degree"]["histogram"].as_array().unwrap();
        let counted: u64 = histogram.iter().map(|b| b[1].as_u64().unwrap()).sum();
        assert_eq!(
            counted, entities,
            "{side}: the degree histogram covers every entity"
        );
        let degree_sum: u64 = histogram
            .iter()
            .map(|b| b[0].as_u64().unwrap() * b[1].as_u64().unwrap())
            .sum();
        assert_eq!(
            degree_sum,
            2 * triples,
            "{side}: each triple adds two to the degree sum"
        );
    }
    assert_eq!(report["gold_pairs"], 15_000);
    assert_eq!(report["gold_is_one_to_one"], true);
    assert_eq!(report["relations_total"], left.2 + right.2);
    assert!(
        report["fingerprint"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert_eq!(
        report["warnings"].as_array().unwrap().len(),
        0,
        "{}",
        report["warnings"]
    );
}

#[test]
fn inspect_reports_the_true_counts_of_dbp15k_zh_en() {
    let Some(dir) = shared_dbp15k("zh_en") else {
        return;
    };
    let report = inspect_json(dir.to_str().unwrap());
    check_dbp15k(&report, (19_388, 70_414, 1_701), (19_572, 95_142, 1_323));
}

#[test]
fn inspect_reports_the_true_counts_of_dbp15k_ja_en() {
    let Some(dir) = shared_dbp15k("ja_en") else {
        return;
    };
    let report = inspect_json(dir.to_str().unwrap());
    assert_eq!(report["left"]["entities"], 19_814);
    assert_eq!(report["right"]["entities"], 19_780);
    assert_eq!(report["left"]["triples"], 77_214);
    assert_eq!(report["right"]["triples"], 93_484);
    assert_eq!(report["gold_pairs"], 15_000);
}

#[test]
fn human_output_shows_the_table_and_the_degree_histogram() {
    let Some(dir) = shared_dbp15k("zh_en") else {
        return;
    };
    let run = alignscope(&["dataset", "inspect", dir.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    for expected in [
        "(gcn-align format)",
        "entities                              19,388            19,572",
        "relational triples                    70,414            95,142",
        "Gold pairs: 15,000 (one-to-one)",
        "Degree distribution",
        "Warnings: none",
    ] {
        assert!(
            run.stdout.contains(expected),
            "missing `{expected}` in:\n{}",
            run.stdout
        );
    }
}

#[test]
fn convert_writes_our_format_with_the_same_content() {
    let Some(dir) = shared_dbp15k("zh_en") else {
        return;
    };
    let original = inspect_json(dir.to_str().unwrap());
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("zh_en");
    let run = alignscope(&[
        "dataset",
        "convert",
        dir.to_str().unwrap(),
        "--to",
        dest.to_str().unwrap(),
    ]);
    run.assert_no_panic();
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout.contains("same content fingerprint"),
        "{}",
        run.stdout
    );

    let copy = inspect_json(dest.to_str().unwrap());
    assert_eq!(copy["format"], "alignscope");
    assert_eq!(copy["fingerprint"], original["fingerprint"]);
    for field in ["left", "right", "gold_pairs", "relations_total"] {
        assert_eq!(
            copy[field], original[field],
            "{field} differs after conversion"
        );
    }
    let entities = std::fs::read_to_string(dest.join("left/entities.tsv")).unwrap();
    assert!(
        entities.starts_with("key\tname\n0\thttp://zh.dbpedia.org/resource/"),
        "{}",
        &entities[..80]
    );

    // A second conversion to the same, now non-empty, destination is refused and the
    // first copy stays intact.
    let again = alignscope(&[
        "dataset",
        "convert",
        dir.to_str().unwrap(),
        "--to",
        dest.to_str().unwrap(),
    ]);
    assert_eq!(again.code, Some(1));
    assert!(
        again.stderr.contains("already exists and is not empty"),
        "{}",
        again.stderr
    );
    assert_eq!(
        inspect_json(dest.to_str().unwrap())["fingerprint"],
        original["fingerprint"]
    );
}

#[test]
fn synth_writes_a_pair_that_inspect_reads_and_refuses_bad_options() {
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("synthetic");
    let run = alignscope(&[
        "--json",
        "dataset",
        "synth",
        "--entities",
        "2000",
        "--to",
        dest.to_str().unwrap(),
    ]);
    run.assert_no_panic();
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let summary: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(summary["entities_per_side"], 2000);
    assert_eq!(summary["gold_pairs"], 1800);
    assert_eq!(summary["triples_left"], 8000);

    let report = inspect_json(dest.to_str().unwrap());
    assert_eq!(report["format"], "alignscope");
    assert_eq!(report["gold_pairs"], 1800);
    assert_eq!(report["left"]["entities"], 2000);
    assert_eq!(report["left"]["triples"], 8000);
    assert_eq!(report["right"]["triples"], summary["triples_right"]);

    let bad = alignscope(&[
        "dataset",
        "synth",
        "--entities",
        "2000",
        "--matched-share",
        "0",
        "--to",
        out.path().join("other").to_str().unwrap(),
    ]);
    bad.assert_no_panic();
    assert_eq!(bad.code, Some(1));
    assert!(
        bad.stderr
            .contains("matched share must be in (0, 1], got 0"),
        "{}",
        bad.stderr
    );
    assert!(!out.path().join("other").exists(), "nothing written");
}
