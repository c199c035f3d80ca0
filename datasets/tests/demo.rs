//! The built-in demo, built from the real pinned emoji packages: sizes, gold pairs,
//! dangling keyword nodes, the right graph's seeded drops, determinism, and a round trip
//! through our own format. Skips (with a message) where the packages are not installed;
//! install them with `npm ci --prefix scripts/demo-sources`.

use std::collections::{BTreeSet, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use alignscope_datasets::demo::{
    DATASET_NAME, EntityKind, GROUP_PREFIX, KEYWORD_PREFIX, PINNED_EMOJIBASE_DATA, Relation,
    SUBGROUP_PREFIX,
};
use alignscope_datasets::model::KnowledgeGraph;
use alignscope_datasets::problem::WarningKind;
use alignscope_datasets::{
    DemoError, DemoOptions, DemoReport, DemoSources, LoadOptions, MmkgPair, Side, build_demo_pair,
    fingerprint, load, write_alignscope,
};

fn node_modules() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/demo-sources/node_modules")
}

/// The installed packages, or `None` (with a message) where they are not installed.
fn sources() -> Option<DemoSources> {
    let dir = node_modules();
    if !dir.is_dir() {
        if std::env::var_os("ALIGNSCOPE_REQUIRE_SETUP").is_some() {
            panic!(
                "the demo sources are not installed at {}; run `bash scripts/setup.sh`",
                dir.display()
            );
        }
        eprintln!(
            "SKIPPED: the demo sources are not installed at {}; run `npm ci --prefix scripts/demo-sources`",
            dir.display()
        );
        return None;
    }
    Some(DemoSources::in_node_modules(&dir).unwrap_or_else(|e| panic!("{e}")))
}

fn build(sources: &DemoSources, options: &DemoOptions) -> (MmkgPair, DemoReport) {
    build_demo_pair(sources, options).unwrap_or_else(|e| panic!("{e}"))
}

/// The demo with default options, built once for all tests.
fn demo() -> Option<&'static (MmkgPair, DemoReport)> {
    static DEMO: OnceLock<Option<(MmkgPair, DemoReport)>> = OnceLock::new();
    DEMO.get_or_init(|| {
        let sources = sources()?;
        let start = Instant::now();
        let built = build(&sources, &DemoOptions::default());
        eprintln!("built the demo in {:.2?}\n{}", start.elapsed(), built.1);
        Some(built)
    })
    .as_ref()
}

fn images(graph: &KnowledgeGraph) -> usize {
    graph.images.iter().filter(|f| !f.is_empty()).count()
}

fn keys_with_prefix<'a>(graph: &'a KnowledgeGraph, prefix: &str) -> BTreeSet<&'a str> {
    graph
        .entities
        .iter()
        .map(|e| e.key.as_str())
        .filter(|k| k.starts_with(prefix))
        .collect()
}

/// The tails of `relation` from the entity `head`, as keys.
fn tails<'a>(pair: &'a MmkgPair, side: Side, head: &str, relation: Relation) -> Vec<&'a str> {
    let graph = pair.graph(side);
    let head = graph.find_key(head).expect("head exists");
    let relation = pair
        .relations
        .get(relation.name())
        .expect("relation exists");
    graph
        .triples
        .iter()
        .filter(|t| t.head == head && t.relation == relation)
        .map(|t| graph.entities[t.tail as usize].key.as_str())
        .collect()
}

#[test]
fn sizes_are_sensible_and_match_the_report() {
    let Some((pair, report)) = demo() else { return };
    assert_eq!(pair.meta.name, DATASET_NAME);
    for side in Side::BOTH {
        let (graph, counts) = (pair.graph(side), report.side(side));
        assert_eq!(graph.entities.len(), counts.entities.total(), "{side}");
        assert_eq!(graph.triples.len(), counts.triples, "{side}");
        assert_eq!(
            counts.triples_by_relation.values().sum::<usize>(),
            counts.triples
        );
        assert_eq!(graph.attributes.len(), counts.attributes, "{side}");
        assert_eq!(images(graph), counts.images, "{side}");
        assert_eq!(graph.images.len(), graph.entities.len());
        assert!(graph.image_features.is_none());
        assert!((1_800..2_500).contains(&counts.entities.emoji), "{side}");
        assert!(counts.entities.skin_tone_variants > 1_500, "{side}");
        assert!((8..=12).contains(&counts.entities.groups), "{side}");
        assert!((80..=120).contains(&counts.entities.subgroups), "{side}");
        assert!(counts.entities.keywords > 2_000, "{side}");
        assert!(counts.images > 2_500, "{side}");
        // Nearly every emoji has a label in both languages.
        assert!(counts.labels.fallback_names.total() < 50, "{side}");
    }
    let (left, right) = (&report.left.entities, &report.right.entities);
    assert_eq!(
        (
            left.emoji,
            left.skin_tone_variants,
            left.subgroups,
            left.groups
        ),
        (
            right.emoji,
            right.skin_tone_variants,
            right.subgroups,
            right.groups
        )
    );
    assert_eq!(report.left.images, left.emoji + left.skin_tone_variants);
    assert!(report.gold.emoji > 1_500);
    assert_eq!(report.gold.keywords, 0);
    assert_eq!(report.gold_pairs(), pair.gold.len());
    assert_eq!(
        report.gold_pairs(),
        left.total() - left.keywords,
        "every non-keyword entity has its counterpart"
    );
    let shown = report.to_string();
    assert!(shown.contains("English (Twemoji)") && shown.contains("dropped"));
}

#[test]
fn gold_pairs_join_existing_entities_of_equal_keys_one_to_one() {
    let Some((pair, _)) = demo() else { return };
    let mut lefts = HashSet::new();
    let mut rights = HashSet::new();
    for g in &pair.gold {
        let left = &pair.left.entities[g.left as usize];
        let right = &pair.right.entities[g.right as usize];
        assert_eq!(left.key, right.key);
        assert!(!left.key.starts_with(KEYWORD_PREFIX));
        assert!(
            lefts.insert(g.left) && rights.insert(g.right),
            "{}",
            left.key
        );
    }
    for key in [
        "1F600",
        "1F468-200D-1F469-200D-1F467",
        "1F44B-1F3FB",
        "group:smileys-emotion",
        "subgroup:face-smiling",
    ] {
        let l = pair.left.find_key(key).expect(key);
        let r = pair.right.find_key(key).expect(key);
        assert!(
            pair.gold.iter().any(|g| (g.left, g.right) == (l, r)),
            "{key}"
        );
    }
}

#[test]
fn names_relations_and_images_are_real() {
    let Some((pair, _)) = demo() else { return };
    let name = |side: Side, key: &str| {
        let graph = pair.graph(side);
        graph.entities[graph.find_key(key).expect(key) as usize]
            .name
            .clone()
    };
    assert_eq!(name(Side::Left, "1F600"), "grinning face");
    assert_eq!(name(Side::Right, "1F600"), "嘿嘿");
    assert_eq!(name(Side::Right, "subgroup:face-smiling"), "笑脸");
    assert_eq!(
        name(Side::Left, "group:smileys-emotion"),
        "smileys & emotion"
    );
    // The left graph is complete, so its facts can be checked exactly.
    let left = |head, relation| tails(pair, Side::Left, head, relation);
    assert_eq!(
        left("1F600", Relation::InSubgroup),
        ["subgroup:face-smiling"]
    );
    assert_eq!(
        left("subgroup:face-smiling", Relation::SubgroupInGroup),
        ["group:smileys-emotion"]
    );
    assert_eq!(left("1F44B-1F3FF", Relation::SkinToneVariantOf), ["1F44B"]);
    let family: BTreeSet<_> = left("1F468-200D-1F469-200D-1F467", Relation::HasComponent)
        .into_iter()
        .collect();
    assert_eq!(family, BTreeSet::from(["1F467", "1F468", "1F469"]));
    assert!(left("1F600", Relation::HasKeyword).contains(&"kw:en:happy"));
    assert!(tails(pair, Side::Right, "1F44B", Relation::HasKeyword).len() <= 8);
    // Images: Twemoji on the left, Noto on the right, PNG files that exist; none for
    // group, subgroup and keyword nodes.
    for (side, set) in [(Side::Left, "twitter"), (Side::Right, "google")] {
        let graph = pair.graph(side);
        for (entity, files) in graph.entities.iter().zip(&graph.images) {
            if entity.key.contains(':') {
                assert!(files.is_empty(), "{}", entity.key);
            }
            for file in files {
                assert!(file.is_file(), "{}", file.display());
                let folder = Path::new("img").join(set).join("64");
                assert!(file.parent().is_some_and(|p| p.ends_with(&folder)));
            }
        }
    }
    // Attributes: same keys on both sides, values as strings.
    let grinning = pair.left.find_key("1F600").unwrap();
    let attributes: Vec<(&str, &str)> = pair
        .left
        .attributes
        .iter()
        .filter(|a| a.entity == grinning)
        .map(|a| {
            (
                pair.attribute_keys.name(a.key),
                a.value.as_deref().unwrap_or(""),
            )
        })
        .collect();
    assert!(
        attributes.contains(&("unicode_version", "1.0")),
        "{attributes:?}"
    );
    assert!(attributes.contains(&("code_point_count", "1")));
    assert!(attributes.contains(&("is_zwj_sequence", "false")));
}

#[test]
fn keyword_nodes_are_dangling_and_never_shared_across_sides() {
    let Some((pair, _)) = demo() else { return };
    let left = keys_with_prefix(&pair.left, KEYWORD_PREFIX);
    let right = keys_with_prefix(&pair.right, KEYWORD_PREFIX);
    assert!(left.len() > 2_000 && right.len() > 2_000);
    assert!(left.is_disjoint(&right));
    assert!(left.iter().all(|k| k.starts_with("kw:en:")));
    assert!(right.iter().all(|k| k.starts_with("kw:zh:")));
    for g in &pair.gold {
        for (side, index) in [(Side::Left, g.left), (Side::Right, g.right)] {
            let key = &pair.graph(side).entities[index as usize].key;
            assert!(!key.starts_with(KEYWORD_PREFIX), "{key} is gold");
        }
    }
    // Groups and subgroups are shared by key.
    for prefix in [GROUP_PREFIX, SUBGROUP_PREFIX] {
        assert_eq!(
            keys_with_prefix(&pair.left, prefix),
            keys_with_prefix(&pair.right, prefix)
        );
    }
}

#[test]
fn both_sides_use_the_same_relations_and_attribute_keys() {
    let Some((pair, report)) = demo() else { return };
    let expected: Vec<&str> = Relation::ALL.iter().map(|r| r.name()).collect();
    assert_eq!(pair.relations.names(), expected);
    for side in Side::BOTH {
        let used: BTreeSet<&str> = report
            .side(side)
            .triples_by_relation
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(used, expected.iter().copied().collect(), "{side}");
        let keys: BTreeSet<u32> = pair.graph(side).attributes.iter().map(|a| a.key).collect();
        assert_eq!(keys.len(), pair.attribute_keys.len(), "{side}");
    }
}

#[test]
fn only_the_right_side_loses_the_requested_shares() {
    let Some(sources) = sources() else { return };
    let Some((pair, report)) = demo() else { return };
    let complete_options = DemoOptions {
        image_drop_share: 0.0,
        edge_drop_share: 0.0,
        ..DemoOptions::default()
    };
    let (complete, complete_report) = build(&sources, &complete_options);
    assert_eq!(complete.left, pair.left, "the left graph has no drops");
    assert_eq!(complete.gold, pair.gold);
    assert_eq!(complete.right.entities, pair.right.entities);
    assert_eq!(complete_report.right.dropped_images, 0);
    assert_eq!(complete_report.right.dropped_triples, 0);
    assert_eq!(
        (report.left.dropped_images, report.left.dropped_triples),
        (0, 0)
    );

    let right = &report.right;
    assert_eq!(right.images_before_drop(), images(&complete.right));
    assert_eq!(right.images, images(&pair.right));
    assert_eq!(right.triples_before_drop(), complete.right.triples.len());
    assert_eq!(right.triples, pair.right.triples.len());
    let image_share = right.dropped_images as f64 / right.images_before_drop() as f64;
    let triple_share = right.dropped_triples as f64 / right.triples_before_drop() as f64;
    assert!((image_share - 0.10).abs() < 0.02, "{image_share}");
    assert!((triple_share - 0.15).abs() < 0.02, "{triple_share}");

    // What remains is a subset of the complete graph.
    let all: HashSet<_> = complete.right.triples.iter().collect();
    assert!(pair.right.triples.iter().all(|t| all.contains(t)));
    for (kept, full) in pair.right.images.iter().zip(&complete.right.images) {
        assert!(kept.is_empty() || kept == full);
    }
}

#[test]
fn building_is_deterministic_and_the_seed_matters() {
    let Some(sources) = sources() else { return };
    let Some((pair, _)) = demo() else { return };
    let (again, _) = build(&sources, &DemoOptions::default());
    assert_eq!(&again, pair);
    let print = fingerprint(pair).unwrap();
    assert_eq!(fingerprint(&again).unwrap(), print);

    let reseeded = DemoOptions {
        seed: 7,
        ..DemoOptions::default()
    };
    let (other, _) = build(&sources, &reseeded);
    assert_eq!(other.left, pair.left);
    assert_ne!(other.right.triples, pair.right.triples);
    assert_ne!(fingerprint(&other).unwrap(), print);
}

#[test]
fn skin_tones_can_be_left_out() {
    let Some(sources) = sources() else { return };
    let options = DemoOptions {
        include_skin_tones: false,
        ..DemoOptions::default()
    };
    let (pair, report) = build(&sources, &options);
    for side in Side::BOTH {
        let counts = report.side(side);
        assert_eq!(counts.entities.skin_tone_variants, 0);
        assert!(
            !counts
                .triples_by_relation
                .contains_key(Relation::SkinToneVariantOf.name())
        );
        assert!(pair.graph(side).find_key("1F44B-1F3FB").is_none());
    }
    assert_eq!(report.gold.skin_tone_variants, 0);
    assert!(report.gold.emoji > 1_500);
    let expected: Vec<&str> = Relation::ALL.iter().map(|r| r.name()).collect();
    assert_eq!(pair.relations.names(), expected);
    assert_eq!(EntityKind::ALL.len(), 5);
}

#[test]
fn the_written_demo_loads_back_with_the_same_fingerprint() {
    let Some((pair, report)) = demo() else { return };
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("demo");
    write_alignscope(pair, &dest).unwrap_or_else(|e| panic!("{e}"));
    let loaded = load(&dest, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    // Only the expected warnings: groups, subgroups and keywords have no image, and some
    // keywords are spelt like an emoji or a subgroup (`dog`, `activities`).
    for warning in &loaded.warnings {
        assert!(
            matches!(
                warning.kind,
                WarningKind::EntitiesWithoutImage | WarningKind::DuplicateEntityNames
            ),
            "{warning}"
        );
    }
    assert_eq!(
        fingerprint(&loaded.pair).unwrap(),
        fingerprint(pair).unwrap()
    );
    assert_eq!(loaded.pair.meta, pair.meta);
    for side in Side::BOTH {
        let copied = fs::read_dir(dest.join(side.as_str()).join("images"))
            .unwrap()
            .count();
        assert_eq!(copied, report.side(side).images, "{side}");
    }
    let manifest = fs::read_to_string(dest.join("dataset.toml")).unwrap();
    for credit in [
        "CC-BY 4.0",
        "https://creativecommons.org/licenses/by/4.0/",
        "Apache-2.0",
        "emoji-datasource",
        "emojibase-data",
        "中文 (Noto Color Emoji)",
    ] {
        assert!(
            manifest.contains(credit),
            "{credit} missing from\n{manifest}"
        );
    }
}

#[test]
fn missing_or_wrong_sources_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let err = DemoSources::in_node_modules(dir.path()).unwrap_err();
    assert!(matches!(err, DemoError::PackageMissing { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("npm ci --prefix scripts/demo-sources"),
        "{err}"
    );

    let package = |name: &str, version: &str| {
        let folder = dir.path().join(name);
        fs::create_dir_all(&folder).unwrap();
        fs::write(
            folder.join("package.json"),
            format!(r#"{{"name": "{name}", "version": "{version}"}}"#),
        )
        .unwrap();
        folder
    };
    let twitter = package("emoji-datasource-twitter", "16.0.0");
    package("emoji-datasource-google", "16.0.0");
    package("emojibase-data", "16.0.0");
    let err = DemoSources::in_node_modules(dir.path()).unwrap_err();
    assert!(matches!(err, DemoError::VersionMismatch { .. }), "{err:?}");
    assert!(err.to_string().contains(PINNED_EMOJIBASE_DATA), "{err}");

    package("emojibase-data", PINNED_EMOJIBASE_DATA);
    let sources = DemoSources::in_node_modules(dir.path()).unwrap();
    let err = build_demo_pair(&sources, &DemoOptions::default()).unwrap_err();
    assert!(matches!(err, DemoError::PackageMissing { .. }), "{err:?}");
    assert!(err.to_string().contains("emoji.json"), "{err}");

    fs::write(twitter.join("emoji.json"), r#"[{"unified": "1F600"}"#).unwrap();
    let err = build_demo_pair(&sources, &DemoOptions::default()).unwrap_err();
    assert!(matches!(err, DemoError::Json { .. }), "{err:?}");
    assert!(err.to_string().contains("emoji.json"), "{err}");

    fs::write(
        twitter.join("emoji.json"),
        r#"[{"unified": "1F6ZZ", "image": "x.png", "category": "c", "subcategory": "s",
             "sort_order": 1, "added_in": "1.0"}]"#,
    )
    .unwrap();
    let err = build_demo_pair(&sources, &DemoOptions::default()).unwrap_err();
    assert!(matches!(err, DemoError::BadCodePoints { .. }), "{err:?}");

    let bad = DemoOptions {
        edge_drop_share: 1.5,
        ..DemoOptions::default()
    };
    let err = build_demo_pair(&sources, &bad).unwrap_err();
    assert!(matches!(err, DemoError::InvalidShare { .. }), "{err:?}");
}

#[test]
fn a_limit_keeps_only_the_first_emoji() {
    let Some(sources) = sources() else { return };
    let options = DemoOptions {
        emoji_limit: Some(40),
        ..DemoOptions::default()
    };
    let (pair, report) = build(&sources, &options);
    for side in Side::BOTH {
        assert_eq!(report.side(side).entities.emoji, 40);
    }
    assert!(
        pair.gold.len() >= 40 && pair.gold.len() < 200,
        "{}",
        pair.gold.len()
    );
    assert!(pair.left.images.iter().filter(|i| !i.is_empty()).count() >= 40);
}
