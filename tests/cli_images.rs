//! A dataset in our own format whose images are files (no feature files) imports with
//! its images encoded: the real demo's first 40 emoji written without features, the real
//! encoder weights, a real data directory. Checked: every decodable image gets a feature,
//! a truncated file is counted and listed (not fatal), the user's folder is untouched, a
//! second folder with the same pictures is served from the content-hash cache, and a
//! LoginMEA run records that its image input came from the encoder. The import also
//! embeds the attribute statements and names with the sentence encoder (cached per
//! statement), and a run that asks for those modalities records where they came from.
//! Needs `scripts/setup.sh` to have run.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

use common::alignscope;
use serde_json::Value;

fn run_json(args: &[&str]) -> Value {
    let run = alignscope(args);
    run.assert_no_panic();
    assert_eq!(run.code, Some(0), "{args:?} failed:\n{}", run.stderr);
    // One JSON line last (pretty-printed, for `convert`, the whole output).
    let last = run.stdout.lines().last().expect("some output");
    serde_json::from_str(last)
        .or_else(|_| serde_json::from_str(&run.stdout))
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.stdout))
}

/// Every file below `dir` with its size and modification time.
fn snapshot(dir: &Path) -> BTreeMap<String, (u64, SystemTime)> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap().flatten() {
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                let name = entry
                    .path()
                    .strip_prefix(dir)
                    .unwrap()
                    .display()
                    .to_string();
                files.insert(name, (meta.len(), meta.modified().unwrap()));
            }
        }
    }
    files
}

#[test]
fn image_files_are_encoded_on_import_cached_by_content_and_used_by_a_run() {
    if !common::demo_setup_ready() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    // The demo is built in a data directory of its own, so that none of its pictures is
    // in the cache of the one the imports use.
    let demo_data = home.path().join("demo-data");
    let demo_data = demo_data.to_str().unwrap();
    run_json(&[
        "--data-dir",
        demo_data,
        "--json",
        "demo",
        "--build-only",
        "--limit",
        "40",
    ]);
    let demo = Path::new(demo_data).join("demo/emoji-en-zh-first40");
    let data = home.path().join("data");
    let data = data.to_str().unwrap();

    // Our format, images as files, no feature files: twice, in two folders.
    let ours = home.path().join("ours");
    let again = home.path().join("ours-again");
    for to in [&ours, &again] {
        let report = run_json(&[
            "--json",
            "dataset",
            "convert",
            demo.to_str().unwrap(),
            "--to",
            to.to_str().unwrap(),
            "--without-image-features",
        ]);
        assert_eq!(report["verified"], true);
        assert!(!to.join("left/image_features.npy").exists());
    }
    // One picture truncated after its header: its size reads, its pixels do not.
    let images = ours.join("left/images");
    let victim = std::fs::read_dir(&images)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let bytes = std::fs::read(&victim).unwrap();
    std::fs::write(&victim, &bytes[..bytes.len().min(120)]).unwrap();
    let before = snapshot(&ours);

    let imported = run_json(&[
        "--data-dir",
        data,
        "--json",
        "dataset",
        "import",
        ours.to_str().unwrap(),
    ]);
    assert_eq!(snapshot(&ours), before, "the user's folder was written to");
    let encoding = &imported["image_encoding"];
    assert_eq!(encoding["state"], "done", "{imported}");
    let result = &encoding["result"];
    assert_eq!(result["failed"], 1, "{result}");
    assert_eq!(
        result["from_cache"], 0,
        "a fresh data directory has no cache: {result}"
    );
    let failure = result["failures"][0]["path"].as_str().unwrap();
    assert!(
        failure.ends_with(victim.file_name().unwrap().to_str().unwrap()),
        "{failure}"
    );
    let stats = &imported["dataset"]["statistics"];
    for side in ["left", "right"] {
        let files = stats[side]["entities_with_image_files"].as_u64().unwrap();
        let features = stats[side]["entities_with_image_features"]
            .as_u64()
            .unwrap();
        let lost = u64::from(side == "left");
        assert!(files > 30, "{side}: {files} entities with image files");
        assert_eq!(
            features,
            files - lost,
            "{side}: every decodable image has a feature"
        );
    }
    assert_eq!(imported["images_to_encode"], false);
    let images = result["images"].as_u64().unwrap();

    // The attribute statements and names were embedded too, each distinct text once.
    let text = &imported["text_encoding"];
    assert_eq!(text["state"], "done", "{imported}");
    let embedded = &text["text_result"];
    for (index, side) in ["left", "right"].into_iter().enumerate() {
        let with_text = embedded["entities_with_attribute_text_features"][index]
            .as_u64()
            .unwrap();
        let named = embedded["entities_with_name_features"][index]
            .as_u64()
            .unwrap();
        assert!(with_text >= 40, "{side}: {embedded}");
        assert_eq!(
            named, stats[side]["entities"],
            "every entity has a name: {embedded}"
        );
    }
    // TMEA's abstract sentences: the demo's graphs share their attribute keys, so every
    // key used on both sides aligns with itself and the sentences keep those attributes.
    let aligned = embedded["aligned_attribute_keys"].as_u64().unwrap();
    let keys = &embedded["attribute_keys"];
    assert!(
        aligned > 0 && aligned <= keys[0].as_u64().unwrap().min(keys[1].as_u64().unwrap()),
        "{embedded}"
    );
    for index in 0..2 {
        let with_abstract = embedded["entities_with_attribute_abstract_features"][index]
            .as_u64()
            .unwrap();
        assert!(with_abstract >= 40, "{embedded}");
    }
    let distinct = embedded["distinct"].as_u64().unwrap();
    assert!(
        distinct < embedded["texts"].as_u64().unwrap(),
        "repeated statements are embedded once: {embedded}"
    );
    assert_eq!(imported["text_to_encode"], false);
    for side in ["left", "right"] {
        assert!(
            stats[side]["entities_with_attribute_text_features"]
                .as_u64()
                .unwrap()
                > 20
        );
    }

    // The same pictures in another folder cost nothing.
    let second = run_json(&[
        "--data-dir",
        data,
        "--json",
        "dataset",
        "import",
        again.to_str().unwrap(),
    ]);
    let cached = &second["image_encoding"]["result"];
    assert_eq!(cached["failed"], 0, "{cached}");
    assert_eq!(
        cached["from_cache"].as_u64().unwrap(),
        images - 1,
        "every picture but the truncated one was cached: {cached}"
    );
    let cached_text = &second["text_encoding"]["text_result"];
    assert_eq!(
        cached_text["from_cache"].as_u64().unwrap(),
        cached_text["distinct"].as_u64().unwrap(),
        "every statement and name was cached: {cached_text}"
    );

    // A run records where its image input came from.
    let id = imported["dataset"]["id"].as_i64().unwrap().to_string();
    // Two epochs of LoginMEA on `ours` with `extra` flags; the stored run.
    let train = |extra: &[&str]| {
        let mut args = vec!["--data-dir", data, "--json", "train", "--dataset"];
        args.extend([ours.to_str().unwrap(), "--epochs", "2"]);
        args.extend(extra);
        let trained = run_json(&args);
        assert_eq!(trained["status"], "completed", "{trained}");
        let run_id = trained["run_id"].as_i64().unwrap().to_string();
        run_json(&["--data-dir", data, "--json", "runs", "show", &run_id])["run"].clone()
    };
    let run = &train(&[]);
    let inputs = run["config"]["modality_inputs"].as_array().unwrap();
    let image = inputs.iter().find(|m| m["modality"] == "image").unwrap();
    let source = image["source"].as_str().unwrap();
    assert!(
        source.contains("left: encoded by AlignScope") && source.contains("weights sha256:"),
        "{source}"
    );
    assert!(
        run["config"]["dataset"]["derived_features"].is_string(),
        "{run}"
    );
    assert_eq!(run["dataset_id"].as_i64().unwrap().to_string(), id);
    let text_input = inputs.iter().find(|m| m["modality"] == "attribute_text");
    assert!(
        text_input.is_none(),
        "LoginMEA reads no attribute text by default"
    );

    // A run that asks for the sentence-embedding modalities records their source.
    let with_text = train(&[
        "--set",
        "modalities=structure,relation,attribute,image,attribute_text,name",
    ]);
    let config = &with_text["config"];
    for modality in ["attribute_text", "name"] {
        let input = config["modality_inputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["modality"] == modality)
            .unwrap_or_else(|| panic!("no {modality} input: {config}"));
        let source = input["source"].as_str().unwrap();
        assert!(
            source.contains("left: encoded by AlignScope with all-MiniLM-L6-v2")
                && source.contains("weights sha256:"),
            "{source}"
        );
        assert!(input["entities_with_features"].as_u64().unwrap() > 40);
    }
    let deviations = config["deviations"].to_string();
    assert!(
        deviations.contains("attribute_text modality"),
        "{deviations}"
    );

    // TMEA reads the abstract sentences by default and records where they came from.
    let tmea = train(&[
        "--model",
        "tmea",
        "--set",
        "dim=16",
        "--set",
        "latent_dim=8",
    ]);
    let input = tmea["config"]["modality_inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["modality"] == "attribute_abstract")
        .cloned()
        .unwrap_or_else(|| panic!("no attribute_abstract input: {tmea}"));
    assert!(
        input["source"]
            .as_str()
            .unwrap()
            .contains("left: encoded by AlignScope with all-MiniLM-L6-v2"),
        "{input}"
    );
    assert!(input["entities_with_features"].as_u64().unwrap() > 40);

    // Encoding again (e.g. after new weights) is served from the cache.
    let again = run_json(&[
        "--data-dir",
        data,
        "--json",
        "dataset",
        "encode-images",
        &id,
    ]);
    assert_eq!(again["state"], "done");
    assert_eq!(again["result"]["from_cache"].as_u64().unwrap(), images - 1);
    let text_again = run_json(&["--data-dir", data, "--json", "dataset", "encode-text", &id]);
    assert_eq!(text_again["state"], "done");
    assert_eq!(
        text_again["text_result"]["from_cache"],
        text_again["text_result"]["distinct"]
    );
}
