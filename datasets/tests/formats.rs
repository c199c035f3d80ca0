//! Readers on small real folders: each format's content lands in the model exactly, our
//! writer round-trips every format with the same fingerprint, and no mutation of the
//! input files makes loading panic.

use std::fs;
use std::path::{Path, PathBuf};

use alignscope_datasets::model::{GoldPair, RelTriple};
use alignscope_datasets::npy::{NpyMatrix, write_npy_matrix};
use alignscope_datasets::problem::WarningKind;
use alignscope_datasets::{Format, LoadOptions, Loaded, Side, fingerprint, load, write_alignscope};

fn write(root: &Path, files: &[(&str, &[u8])]) {
    for (name, content) in files {
        let path = root.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }
}

fn load_ok(dir: &Path) -> Loaded {
    load(dir, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pickles")
        .join(name)
}

/// GCN-Align with attribute names, relation names and a blank line.
fn gcn_align(dir: &Path) {
    write(
        dir,
        &[
            ("ent_ids_1", b"0\thttp://zh/A\n1\thttp://zh/B\n2\thttp://zh/C\n"),
            ("ent_ids_2", b"17\thttp://en/A\n70000\thttp://en/B\n12\thttp://en/C\n"),
            ("rel_ids_1", b"0\thttp://zh/p/near\n1\thttp://zh/p/in\n"),
            ("triples_1", b"0\t0\t1\n\n1\t1\t2\n0\t0\t1\n"),
            ("triples_2", b"17\t5\t70000\n70000\t6\t12\n"),
            ("ref_ent_ids", b"0\t17\n1\t70000\n0\t17\n"),
            ("training_attrs_1", b"http://zh/A\thttp://zh/p/born\thttp://zh/p/name\nhttp://zh/UNKNOWN\thttp://zh/p/born\n"),
            ("training_attrs_2", b"http://en/C\thttp://en/p/name\t\n"),
        ],
    );
}

#[test]
fn gcn_align_content_is_read_exactly() {
    let dir = tempfile::tempdir().unwrap();
    gcn_align(dir.path());
    let loaded = load_ok(dir.path());
    assert_eq!(loaded.format, Format::GcnAlign);
    let pair = &loaded.pair;
    assert_eq!(pair.left.entities[1].key, "1");
    assert_eq!(pair.right.entities[1].name, "http://en/B");
    assert_eq!(pair.right.entities[1].label(), "B");
    assert_eq!(
        pair.relations.names(),
        ["http://zh/p/near", "http://zh/p/in", "5", "6"]
    );
    assert_eq!(pair.left.triples.len(), 3, "the duplicate triple is kept");
    assert_eq!(
        pair.right.triples[1],
        RelTriple {
            head: 1,
            relation: 3,
            tail: 2
        }
    );
    assert_eq!(
        pair.gold,
        vec![
            GoldPair { left: 0, right: 0 },
            GoldPair { left: 1, right: 1 }
        ]
    );
    assert_eq!(pair.left.attributes.len(), 2);
    assert_eq!(
        pair.right.attributes.len(),
        1,
        "a trailing tab is not an attribute"
    );
    assert_eq!(
        pair.attribute_keys.name(pair.right.attributes[0].key),
        "http://en/p/name"
    );
    let counts: Vec<(WarningKind, usize)> =
        loaded.warnings.iter().map(|w| (w.kind, w.count)).collect();
    assert_eq!(
        counts,
        vec![
            (WarningKind::BlankLines, 1),
            (WarningKind::DuplicateTriples, 1),
            (WarningKind::DuplicateGoldPairs, 1),
            (WarningKind::AttributesOfUnknownEntities, 1),
        ]
    );
    let blank = &loaded.warnings[0];
    assert!(blank.first.ends_with("triples_1:2"), "{}", blank.first);
}

#[test]
fn meaformer_reads_numpy_pickles_and_numerical_triples() {
    for pickle in [
        "np1_proto2.pkl",
        "np2_proto4.pkl",
        "np2_proto5.pkl",
        "np1_f64_proto4.pkl",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("FB_DB");
        gcn_align(&root);
        fs::rename(root.join("ref_ent_ids"), root.join("ill_ent_ids")).unwrap();
        fs::create_dir_all(root.join("pkls")).unwrap();
        fs::copy(
            fixture(pickle),
            root.join("pkls/FB_DB_id_img_feature_dict.pkl"),
        )
        .unwrap();
        write(
            &root,
            &[
                ("FB_NumericalTriples.txt", b"<http://zh/A>\t<http://zh/p/height>\t1.83\nhttp://zh/B\thttp://zh/p/year\t\"1950\"^^<xsd:int>\n"),
                ("DB_NumericalTriples.txt", b"http://en/C\thttp://en/p/area\t-12.5e3\nhttp://en/NOPE\thttp://en/p/area\t1\n"),
            ],
        );
        let loaded = load_ok(&root);
        assert_eq!(loaded.format, Format::Meaformer, "{pickle}");
        let pair = &loaded.pair;
        // Keys 17 and 70000 are right entities 0 and 1; 5000000000 is in neither graph.
        let features = pair.right.image_features.as_ref().unwrap();
        assert_eq!(features.dim, 4);
        let offset = if pickle.contains("f64") { 0.1 } else { 0.0 };
        let expected: Vec<f32> = (0..4)
            .map(|j| (0.0 * 0.5 + j as f64 * 0.25 - 1.0 + offset) as f32)
            .collect();
        assert_eq!(features.vector(0).unwrap(), expected.as_slice(), "{pickle}");
        let expected: Vec<f32> = (0..4)
            .map(|j| (1.0 * 0.5 + j as f64 * 0.25 - 1.0 + offset) as f32)
            .collect();
        assert_eq!(features.vector(1).unwrap(), expected.as_slice(), "{pickle}");
        assert!(features.vector(2).is_none());
        assert!(
            pair.left.image_features.is_none(),
            "no left entity has a vector"
        );
        let unknown = loaded
            .warnings
            .iter()
            .find(|w| w.kind == WarningKind::FeaturesOfUnknownEntities)
            .unwrap();
        assert_eq!(unknown.count, 1);
        // Numerical triples: each file lands on the side its prefix names.
        let values: Vec<(u32, Option<&str>)> = pair
            .left
            .attributes
            .iter()
            .filter(|a| a.value.is_some())
            .map(|a| (a.entity, a.value.as_deref()))
            .collect();
        assert_eq!(
            values,
            vec![(0, Some("1.83")), (1, Some("\"1950\"^^<xsd:int>"))]
        );
        let right: Vec<_> = pair
            .right
            .attributes
            .iter()
            .filter(|a| a.value.is_some())
            .collect();
        assert_eq!(right.len(), 1);
        assert_eq!(right[0].value.as_deref(), Some("-12.5e3"));
    }
}

/// MMKB's DB15K and YAGO15K numerical files are N-Triples: `<s> <p> "v"^^<type> .`,
/// with dates among the numbers. Lines written from that format (not copied data).
#[test]
fn mmkb_numerical_triples_in_n_triples_form_become_numbers_and_years() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ZH_EN");
    gcn_align(&root);
    fs::rename(root.join("ref_ent_ids"), root.join("ill_ent_ids")).unwrap();
    let xsd = "http://www.w3.org/2001/XMLSchema";
    let lines = format!(
        "<http://en/A> <http://en/ontology/populationTotal> \"405657\"^^<{xsd}#integer> .\n\
         <http://en/A> <http://en/ontology/foundingDate> \"1967-8-9\"^^<{xsd}#date> .\n\
         <http://en/B> <http://en/ontology/foundingYear> \"1998\"^^<{xsd}#gYear> .\n\
         <http://en/B> <http://en/geo/wgs84_pos#lat> \"53.4325\"^^<{xsd}#float> .\n\
         <http://en/C> <http://yago/hasLongitude> \"-1.133\"^^<{xsd}#degrees> .\n"
    );
    write(&root, &[("EN_NumericalTriples.txt", lines.as_bytes())]);
    let loaded = load_ok(&root);
    assert_eq!(loaded.format, Format::Meaformer);
    let pair = &loaded.pair;
    let numbers: Vec<(u32, String, f64)> =
        alignscope_datasets::numbers::numeric_triples(&pair.right)
            .into_iter()
            .map(|t| {
                (
                    t.entity,
                    pair.attribute_keys.name(t.key).to_string(),
                    t.value,
                )
            })
            .collect();
    assert_eq!(
        numbers,
        vec![
            (0, "http://en/ontology/populationTotal".into(), 405657.0),
            (0, "http://en/ontology/foundingDate".into(), 1967.0),
            (1, "http://en/ontology/foundingYear".into(), 1998.0),
            (1, "http://en/geo/wgs84_pos#lat".into(), 53.4325),
            (2, "http://yago/hasLongitude".into(), -1.133),
        ]
    );
    let stats = alignscope_datasets::dataset_stats(pair);
    assert_eq!(stats.right.numeric_attribute_triples, 5);
    assert_eq!(stats.right.numeric_keys.len(), 5);
    assert_eq!(stats.left.numeric_attribute_triples, 0);

    // A value that is no number, or a torn line, is an error naming file and line.
    write(
        &root,
        &[(
            "EN_NumericalTriples.txt",
            b"<http://en/A> <http://en/p/name> \"Route 66\" .\n<http://en/B> <http://en/p/x>\n",
        )],
    );
    let message = load(&root, &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(message.contains("EN_NumericalTriples.txt:1"), "{message}");
    assert!(message.contains("Route 66"), "{message}");
    assert!(message.contains("EN_NumericalTriples.txt:2"), "{message}");
}

#[test]
fn openea_entities_links_and_folds_are_read() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "rel_triples_1",
                b"http://a/x\thttp://a/r\thttp://a/y\nhttp://a/y\thttp://a/s\thttp://a/z\n",
            ),
            ("rel_triples_2", b"http://b/x\thttp://b/r\thttp://b/y\n"),
            (
                "attr_triples_1",
                b"http://a/x\thttp://a/note\tsays\thello\n",
            ),
            ("attr_triples_2", b"http://b/q\thttp://b/born\t1950\n"),
            (
                "ent_links",
                b"http://a/x\thttp://b/x\nhttp://a/y\thttp://b/y\nhttp://a/z\thttp://b/w\n",
            ),
            ("721_5fold/1/train_links", b"http://a/x\thttp://b/x\n"),
            ("721_5fold/1/valid_links", b"http://a/z\thttp://b/w\n"),
            ("721_5fold/1/test_links", b"http://a/y\thttp://b/y\n"),
            ("721_5fold/2/train_links", b"http://a/y\thttp://b/y\n"),
        ],
    );
    let loaded = load_ok(dir.path());
    assert_eq!(loaded.format, Format::OpenEa);
    let pair = &loaded.pair;
    let keys: Vec<&str> = pair.right.entities.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        ["http://b/x", "http://b/y", "http://b/q", "http://b/w"]
    );
    assert_eq!(
        pair.left.attributes[0].value.as_deref(),
        Some("says\thello")
    );
    assert_eq!(pair.gold.len(), 3);
    let names: Vec<&str> = pair
        .predefined_splits
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["721_5fold/1", "721_5fold/2"]);
    let fold = &pair.predefined_splits[0].split;
    assert_eq!(
        (fold.train.len(), fold.valid.len(), fold.test.len()),
        (1, 1, 1)
    );
    assert_eq!(fold.valid[0], GoldPair { left: 2, right: 3 });
    let linked = loaded
        .warnings
        .iter()
        .find(|w| w.kind == WarningKind::LinkedEntitiesWithoutTriples)
        .unwrap();
    assert_eq!(linked.count, 1, "http://b/w appears only in ent_links");
}

/// A 2x2 PNG, encoded by the `image` crate.
fn png(seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(2, 2, |x, y| {
        image::Rgb([seed, x as u8 * 100, y as u8 * 100])
    });
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .unwrap();
    bytes
}

/// Our format with everything: images (one and several), features, attributes, splits.
fn ours(dir: &Path) {
    let (a, b, c) = (png(1), png(2), png(3));
    let mut npy = Vec::new();
    let matrix = NpyMatrix {
        rows: 2,
        cols: 2,
        data: vec![0.5, -1.0, 2.0, 0.25],
    };
    write_npy_matrix(&mut npy, &matrix).unwrap();
    write(
        dir,
        &[
            ("dataset.toml", b"format_version = 1\nname = \"tiny\"\nleft_label = \"English\"\ncredits = [\"Twemoji CC-BY 4.0\"]\n"),
            ("relations.tsv", b"relation\nunused\nnear\n"),
            ("left/entities.tsv", b"key\tname\nx y\tThe \\t X\nz/1\n"),
            ("left/triples.tsv", b"head\trelation\ttail\nx y\tnear\tz/1\n"),
            ("left/attributes.tsv", b"entity\tattribute\tvalue\nx y\tcolour\tred\nz/1\tflag\n"),
            ("left/images/x%20y.png", &a),
            ("left/images/z%2F1/000.png", &b),
            ("left/images/z%2F1/001.png", &c),
            ("left/images/nobody.png", &c),
            ("right/entities.tsv", b"key\tname\nX\tDas X\nZ\tDas Z\n"),
            ("right/triples.tsv", b"head\trelation\ttail\nX\tnahe\tZ\n"),
            ("right/images/X.png", b"this is not a png"),
            ("right/image_features.npy", &npy),
            ("right/image_features_keys.tsv", b"key\nZ\nX\n"),
            ("gold.tsv", b"left\tright\nx y\tX\nz/1\tZ\n"),
            ("splits/fixed/train.tsv", b"left\tright\nx y\tX\n"),
            ("splits/fixed/test.tsv", b"left\tright\nz/1\tZ\n"),
        ],
    );
}

#[test]
fn our_format_reads_images_features_and_escapes() {
    let dir = tempfile::tempdir().unwrap();
    ours(dir.path());
    let loaded = load_ok(dir.path());
    assert_eq!(loaded.format, Format::AlignScope);
    let pair = &loaded.pair;
    assert_eq!(pair.meta.name, "tiny");
    assert_eq!(pair.meta.credits, ["Twemoji CC-BY 4.0"]);
    assert_eq!(pair.left.entities[0].name, "The \t X");
    assert_eq!(
        pair.left.entities[1].name, "z/1",
        "a missing name defaults to the key"
    );
    assert_eq!(pair.relations.names(), ["unused", "near", "nahe"]);
    assert_eq!(pair.left.attributes[1].value, None);
    assert_eq!(pair.left.images[0].len(), 1);
    assert_eq!(pair.left.images[1].len(), 2);
    assert!(
        pair.right.images[0].is_empty(),
        "an undecodable image is dropped"
    );
    let features = pair.right.image_features.as_ref().unwrap();
    assert_eq!(
        features.vector(0).unwrap(),
        &[2.0, 0.25],
        "row 2 belongs to key X"
    );
    assert_eq!(features.vector(1).unwrap(), &[0.5, -1.0]);
    assert_eq!(
        pair.predefined_splits[0].split.test,
        vec![GoldPair { left: 1, right: 1 }]
    );
    let kinds: Vec<(WarningKind, usize)> =
        loaded.warnings.iter().map(|w| (w.kind, w.count)).collect();
    assert_eq!(
        kinds,
        vec![
            (WarningKind::ImagesOfUnknownEntities, 1),
            (WarningKind::UnreadableImages, 1)
        ]
    );
}

#[test]
fn every_format_round_trips_through_our_format_with_the_same_fingerprint() {
    let builders: [fn(&Path); 2] = [gcn_align, ours];
    for build in builders {
        let source = tempfile::tempdir().unwrap();
        build(source.path());
        let original = load_ok(source.path());
        let out = tempfile::tempdir().unwrap();
        let dest = out.path().join("copy");
        write_alignscope(&original.pair, &dest).unwrap();
        let copy = load_ok(&dest);
        assert_eq!(copy.format, Format::AlignScope);
        assert_eq!(
            fingerprint(&copy.pair).unwrap(),
            fingerprint(&original.pair).unwrap()
        );
        assert_eq!(copy.pair.relations, original.pair.relations);
        assert_eq!(copy.pair.left.triples, original.pair.left.triples);
        assert_eq!(copy.pair.right.attributes, original.pair.right.attributes);
        assert_eq!(copy.pair.gold, original.pair.gold);
        for side in Side::BOTH {
            let vectors = |l: &Loaded| {
                let g = l.pair.graph(side);
                (0..g.entities.len() as u32)
                    .map(|e| {
                        g.image_features
                            .as_ref()
                            .and_then(|f| f.vector(e))
                            .map(<[f32]>::to_vec)
                    })
                    .collect::<Vec<_>>()
            };
            assert_eq!(vectors(&copy), vectors(&original), "{side} image features");
        }
        assert_eq!(copy.pair.predefined_splits, original.pair.predefined_splits);
    }
}

#[test]
fn the_fingerprint_changes_with_the_content_only() {
    let dir = tempfile::tempdir().unwrap();
    gcn_align(dir.path());
    let base = fingerprint(&load_ok(dir.path()).pair).unwrap();
    assert_eq!(
        fingerprint(&load_ok(dir.path()).pair).unwrap(),
        base,
        "deterministic"
    );
    let mut renamed = load_ok(dir.path()).pair;
    renamed.meta.name = "another name".to_string();
    assert_eq!(
        fingerprint(&renamed).unwrap(),
        base,
        "the name is not content"
    );
    write(
        dir.path(),
        &[("triples_2", b"17\t5\t70000\n70000\t6\t17\n")],
    );
    assert_ne!(
        fingerprint(&load_ok(dir.path()).pair).unwrap(),
        base,
        "one changed triple"
    );
}

#[test]
fn writing_refuses_a_non_empty_destination_and_leaves_it_untouched() {
    let dir = tempfile::tempdir().unwrap();
    gcn_align(dir.path());
    let pair = load_ok(dir.path()).pair;
    let out = tempfile::tempdir().unwrap();
    fs::write(out.path().join("keep.txt"), "mine").unwrap();
    let err = write_alignscope(&pair, out.path()).unwrap_err();
    assert!(
        err.to_string().contains("already exists and is not empty"),
        "{err}"
    );
    assert_eq!(
        fs::read_to_string(out.path().join("keep.txt")).unwrap(),
        "mine"
    );
    let leftovers: Vec<_> = fs::read_dir(out.path().parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".partial-"))
        .collect();
    assert!(leftovers.is_empty(), "no staging folder is left behind");
}

/// Deterministic xorshift64*.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Mutates one byte, truncates, or inserts a separator, in a random file of the folder.
fn mutate(root: &Path, rng: &mut Rng) {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path)
            } else {
                files.push(path)
            }
        }
    }
    files.sort();
    let file = &files[rng.below(files.len())];
    let mut bytes = fs::read(file).unwrap();
    if bytes.is_empty() {
        return;
    }
    let at = rng.below(bytes.len());
    match rng.below(5) {
        0 => bytes[at] ^= 1 << rng.below(8),
        1 => bytes.truncate(at),
        2 => bytes.insert(at, b'\t'),
        3 => bytes.insert(at, b'\n'),
        _ => bytes[at] = [0xff, b'\\', b'-', b'9', 0x80][rng.below(5)],
    }
    fs::write(file, bytes).unwrap();
}

#[test]
fn no_mutation_of_any_format_makes_loading_panic() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    type Builder = fn(&Path);
    let builders: [(&str, Builder); 3] = [
        ("gcn-align", gcn_align),
        ("ours", ours),
        ("meaformer", |d| {
            gcn_align(d);
            fs::rename(d.join("ref_ent_ids"), d.join("ill_ent_ids")).unwrap();
            fs::copy(
                fixture("np2_proto4.pkl"),
                d.join("x_id_img_feature_dict.pkl"),
            )
            .unwrap();
        }),
    ];
    let mut outcomes = [0usize; 2];
    for (name, build) in builders {
        for round in 0..150 {
            let dir = tempfile::tempdir().unwrap();
            build(dir.path());
            for _ in 0..=rng.below(3) {
                mutate(dir.path(), &mut rng);
            }
            let result = std::panic::catch_unwind(|| {
                load(dir.path(), &LoadOptions::default()).map(|l| fingerprint(&l.pair))
            });
            match result {
                Ok(Ok(_)) => outcomes[0] += 1,
                Ok(Err(e)) => {
                    assert!(!e.to_string().is_empty());
                    outcomes[1] += 1;
                }
                Err(_) => panic!("{name}: loading panicked in round {round}"),
            }
        }
    }
    assert!(
        outcomes[1] > 100,
        "most mutations are detected: {outcomes:?}"
    );
}

#[test]
fn features_and_sides_follow_the_joint_index() {
    let dir = tempfile::tempdir().unwrap();
    gcn_align(dir.path());
    let pair = load_ok(dir.path()).pair;
    let bag = alignscope_datasets::bag_of_relations(&pair, 1000);
    assert_eq!(bag.rows(), 6);
    // Right entity 1 (joint 4) is the tail of (17,5,70000) and head of (70000,6,12).
    let row: f32 = bag
        .row(pair.joint_index(Side::Right, 1))
        .iter()
        .map(|&(_, v)| v)
        .sum();
    assert_eq!(row, 2.0);
    let attributes = alignscope_datasets::bag_of_attributes(&pair, 1000);
    assert_eq!(attributes.row(0).len(), 2);
}
