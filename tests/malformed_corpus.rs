//! The malformed-input corpus: every case is a small real folder on disk with one defect,
//! run through the real `alignscope dataset inspect` binary. Each must fail with exit
//! code 1, no panic, and a message naming the file, the line and what was expected.

mod common;

use std::path::Path;

use alignscope_datasets::npy::{NpyMatrix, write_npy_matrix};
use common::{alignscope, write_files};

/// A valid GCN-Align folder: three entities a side, two triples a side, two gold pairs.
const GCN_ALIGN: &[(&str, &[u8])] = &[
    ("ent_ids_1", b"0\thttp://zh.dbpedia.org/resource/A\n1\thttp://zh.dbpedia.org/resource/B\n2\thttp://zh.dbpedia.org/resource/C\n"),
    ("ent_ids_2", b"10\thttp://dbpedia.org/resource/A\n11\thttp://dbpedia.org/resource/B\n12\thttp://dbpedia.org/resource/C\n"),
    ("triples_1", b"0\t0\t1\n1\t1\t2\n"),
    ("triples_2", b"10\t5\t11\n11\t6\t12\n"),
    ("ref_ent_ids", b"0\t10\n1\t11\n"),
];

/// A valid OpenEA folder with one fold.
const OPENEA: &[(&str, &[u8])] = &[
    ("rel_triples_1", b"http://a/x\thttp://a/r\thttp://a/y\n"),
    ("rel_triples_2", b"http://b/x\thttp://b/r\thttp://b/y\n"),
    ("attr_triples_1", b"http://a/x\thttp://a/born\t1950\n"),
    (
        "ent_links",
        b"http://a/x\thttp://b/x\nhttp://a/y\thttp://b/y\n",
    ),
    ("721_5fold/1/train_links", b"http://a/x\thttp://b/x\n"),
    ("721_5fold/1/test_links", b"http://a/y\thttp://b/y\n"),
];

/// A valid folder in AlignScope's own format.
const OURS: &[(&str, &[u8])] = &[
    ("dataset.toml", b"format_version = 1\nname = \"tiny\"\n"),
    ("left/entities.tsv", b"key\tname\nx\tThe X\ny\tThe Y\n"),
    ("left/triples.tsv", b"head\trelation\ttail\nx\tnear\ty\n"),
    ("right/entities.tsv", b"key\tname\nx\tDas X\ny\tDas Y\n"),
    ("right/triples.tsv", b"head\trelation\ttail\nx\tnahe\ty\n"),
    ("gold.tsv", b"left\tright\nx\tx\ny\ty\n"),
];

/// A protocol-2 pickle of `{key: [floats]}`, as Python writes it for lists.
fn pickle_of_lists(entries: &[(u8, &[f64])]) -> Vec<u8> {
    let mut bytes = vec![0x80, 2, b'}', b'('];
    for (key, values) in entries {
        bytes.extend([b'K', *key, b']', b'(']);
        for v in *values {
            bytes.push(b'G');
            bytes.extend(v.to_be_bytes());
        }
        bytes.push(b'e');
    }
    bytes.extend([b'u', b'.']);
    bytes
}

/// A MEAformer folder: the GCN-Align files with `ill_ent_ids` and a feature pickle.
fn meaformer(dir: &Path, pickle: &[u8]) {
    write_files(dir, &GCN_ALIGN[..4]);
    write_files(
        dir,
        &[
            ("ill_ent_ids", b"0\t10\n1\t11\n"),
            ("pkls/tiny_id_img_feature_dict.pkl", pickle),
        ],
    );
}

/// A `.npy` matrix, written by the crate's own writer.
fn npy(rows: usize, cols: usize, values: &[f32]) -> Vec<u8> {
    let mut bytes = Vec::new();
    let matrix = NpyMatrix {
        rows,
        cols,
        data: values.to_vec(),
    };
    write_npy_matrix(&mut bytes, &matrix).unwrap();
    bytes
}

struct Case {
    name: &'static str,
    build: fn(&Path),
    /// Every one of these must appear in stderr.
    expect: &'static [&'static str],
}

fn with_gcn_align(dir: &Path, replace: &[(&str, &[u8])]) {
    write_files(dir, GCN_ALIGN);
    write_files(dir, replace);
}

fn with_openea(dir: &Path, replace: &[(&str, &[u8])]) {
    write_files(dir, OPENEA);
    write_files(dir, replace);
}

fn with_ours(dir: &Path, replace: &[(&str, &[u8])]) {
    write_files(dir, OURS);
    write_files(dir, replace);
}

const CASES: &[Case] = &[
    Case {
        name: "unknown id in a triple",
        build: |d| with_gcn_align(d, &[("triples_1", b"0\t0\t1\n1\t1\t99\n")]),
        expect: &[
            "triples_1:2: tail entity `99` is not an entity of KG1",
            "must be declared in",
            "ent_ids_1",
        ],
    },
    Case {
        name: "entity of the other graph in a triple",
        build: |d| with_gcn_align(d, &[("triples_1", b"0\t0\t11\n")]),
        expect: &[
            "triples_1:1: tail entity `11` belongs to KG2 (declared at",
            "ent_ids_2:2), expected an entity of KG1",
        ],
    },
    Case {
        name: "unknown id in a gold pair",
        build: |d| with_gcn_align(d, &[("ref_ent_ids", b"0\t10\n1\t77\n")]),
        expect: &["ref_ent_ids:2: right entity of the pair `77` is not an entity of KG2"],
    },
    Case {
        name: "gold pair written right-to-left",
        build: |d| with_gcn_align(d, &[("ref_ent_ids", b"10\t0\n")]),
        expect: &[
            "ref_ent_ids:1: left entity of the pair `10` belongs to KG2",
            "expected an entity of KG1",
        ],
    },
    Case {
        name: "duplicate entity id",
        build: |d| {
            with_gcn_align(
                d,
                &[("ent_ids_1", b"0\thttp://a\n1\thttp://b\n1\thttp://c\n")],
            )
        },
        expect: &["ent_ids_1:3: entity id `1` is declared twice (first at line 2)"],
    },
    Case {
        name: "id shared by both graphs",
        build: |d| {
            with_gcn_align(
                d,
                &[("ent_ids_2", b"10\thttp://x\n11\thttp://y\n2\thttp://z\n")],
            )
        },
        expect: &[
            "ent_ids_2:3: entity id `2` is declared in both graphs (also at",
            "ent_ids_1:3)",
            "must be disjoint",
        ],
    },
    Case {
        name: "non-integer where an id is required",
        build: |d| with_gcn_align(d, &[("triples_2", b"10\tbirthPlace\t11\n")]),
        expect: &[
            "triples_2:1: column 2 (relation id): `birthPlace` is not an integer id; expected a whole number >= 0",
        ],
    },
    Case {
        name: "wrong column count (spaces instead of a tab)",
        build: |d| with_gcn_align(d, &[("ent_ids_1", b"0\thttp://a\n1 http://b\n")]),
        expect: &["ent_ids_1:2: expected 2 tab-separated columns (entity id, URI), found 1"],
    },
    Case {
        name: "missing required file",
        build: |d| {
            write_files(d, GCN_ALIGN);
            std::fs::remove_file(d.join("triples_2")).unwrap();
        },
        expect: &[
            "triples_2: required file is missing: the relational triples of KG2",
            "head_id<TAB>relation_id<TAB>tail_id",
        ],
    },
    Case {
        name: "missing gold pairs",
        build: |d| {
            write_files(d, GCN_ALIGN);
            std::fs::remove_file(d.join("ref_ent_ids")).unwrap();
        },
        expect: &[
            "required file is missing: the gold pairs",
            "in ref_ent_ids or ill_ent_ids",
        ],
    },
    Case {
        name: "non-UTF-8 text",
        build: |d| with_gcn_align(d, &[("ent_ids_2", b"10\thttp://a\n11\thttp://\xe9t\xe9\n")]),
        expect: &[
            "ent_ids_2:2: text is not valid UTF-8 (bad byte at column 11); save the file as UTF-8",
        ],
    },
    Case {
        name: "unreadable (truncated) pickle",
        build: |d| {
            let full = pickle_of_lists(&[(0, &[0.5, 1.0]), (10, &[0.25, 2.0])]);
            meaformer(d, &full[..full.len() - 9]);
        },
        expect: &[
            "tiny_id_img_feature_dict.pkl: unreadable pickle:",
            "expected a dict {entity id: numpy float array}",
        ],
    },
    Case {
        name: "NaN in a feature vector",
        build: |d| {
            meaformer(
                d,
                &pickle_of_lists(&[(0, &[0.5, 1.0, 2.0]), (11, &[0.5, 1.0, f64::NAN])]),
            )
        },
        expect: &[
            "tiny_id_img_feature_dict.pkl: feature vector of entity id 11 has the non-finite value NaN at index 2",
        ],
    },
    Case {
        name: "wrong-length feature vector",
        build: |d| {
            meaformer(
                d,
                &pickle_of_lists(&[(0, &[0.5, 1.0, 2.0, 3.0]), (1, &[0.5, 1.0, 2.0])]),
            )
        },
        expect: &[
            "feature vector of entity id 1 has 3 values, expected 4 like the first vector (of entity id 0)",
        ],
    },
    Case {
        name: "non-numeric value in numerical triples",
        build: |d| {
            meaformer(d, &pickle_of_lists(&[(0, &[0.5])]));
            write_files(d, &[("KG_NumericalTriples.txt", b"http://zh.dbpedia.org/resource/A\thttp://p/height\t1.83\nhttp://zh.dbpedia.org/resource/B\thttp://p/height\ttall\n")]);
        },
        expect: &["KG_NumericalTriples.txt:2: column 3 (numeric value): `tall` is not a number"],
    },
    Case {
        name: "OpenEA triple with a missing column",
        build: |d| {
            with_openea(
                d,
                &[(
                    "rel_triples_2",
                    b"http://b/x\thttp://b/r\thttp://b/y\nhttp://b/y\thttp://b/r\n",
                )],
            )
        },
        expect: &[
            "rel_triples_2:2: expected 3 tab-separated columns (head, relation, tail), found 2",
        ],
    },
    Case {
        name: "OpenEA fold link that is not a gold pair",
        build: |d| {
            with_openea(
                d,
                &[("721_5fold/1/test_links", b"http://a/y\thttp://b/x\n")],
            )
        },
        expect: &[
            "721_5fold/1/test_links:1: this link is not among the gold pairs of",
            "ent_links",
        ],
    },
    Case {
        name: "OpenEA fold link with an unknown entity",
        build: |d| {
            with_openea(
                d,
                &[("721_5fold/1/train_links", b"http://a/zzz\thttp://b/x\n")],
            )
        },
        expect: &[
            "721_5fold/1/train_links:1: left entity of the link `http://a/zzz` is not an entity of KG1",
        ],
    },
    Case {
        name: "our format: wrong header",
        build: |d| with_ours(d, &[("left/entities.tsv", b"id\tlabel\nx\tThe X\n")]),
        expect: &["left/entities.tsv:1: header must be `key<TAB>name`, found `id<TAB>label`"],
    },
    Case {
        name: "our format: unknown key in a gold pair",
        build: |d| with_ours(d, &[("gold.tsv", b"left\tright\nx\tx\ny\tzz\n")]),
        expect: &[
            "gold.tsv:3: right entity of the pair `zz` is not an entity of KG2",
            "right/entities.tsv",
        ],
    },
    Case {
        name: "our format: undefined escape",
        build: |d| with_ours(d, &[("left/entities.tsv", b"key\tname\nx\tThe \\q X\n")]),
        expect: &["left/entities.tsv:2: unknown escape `\\q`"],
    },
    Case {
        name: "our format: feature matrix and keys disagree",
        build: |d| {
            with_ours(d, &[("left/image_features_keys.tsv", b"key\nx\ny\n")]);
            write_files(d, &[("left/image_features.npy", &npy(1, 2, &[0.5, 0.25]))]);
        },
        expect: &[
            "left/image_features_keys.tsv lists 2 keys but",
            "image_features.npy has 1 rows",
        ],
    },
    Case {
        name: "our format: infinite feature value",
        build: |d| {
            with_ours(d, &[("right/image_features_keys.tsv", b"key\ny\n")]);
            write_files(
                d,
                &[(
                    "right/image_features.npy",
                    &npy(1, 3, &[0.5, f32::INFINITY, 1.0]),
                )],
            );
        },
        expect: &[
            "right/image_features.npy: feature vector of entity `y` has the non-finite value inf at index 1",
        ],
    },
    Case {
        name: "our format: newer format version",
        build: |d| with_ours(d, &[("dataset.toml", b"format_version = 9\n")]),
        expect: &["dataset.toml: invalid metadata: format_version = 9 is not supported"],
    },
    Case {
        name: "our format: unreadable feature matrix",
        build: |d| {
            with_ours(d, &[("left/image_features_keys.tsv", b"key\nx\n")]);
            write_files(d, &[("left/image_features.npy", b"not numpy at all")]);
        },
        expect: &["left/image_features.npy: unreadable .npy matrix:"],
    },
];

#[test]
fn every_malformed_input_fails_with_its_precise_message() {
    assert!(CASES.len() >= 15, "the corpus must hold at least 15 cases");
    let mut failures = Vec::new();
    for case in CASES {
        let dir = tempfile::tempdir().unwrap();
        (case.build)(dir.path());
        let run = alignscope(&["dataset", "inspect", dir.path().to_str().unwrap()]);
        run.assert_no_panic();
        let missing: Vec<_> = case
            .expect
            .iter()
            .filter(|e| !run.stderr.contains(*e))
            .collect();
        if run.code != Some(1) || !missing.is_empty() {
            failures.push(format!(
                "case `{}`: exit {:?}, missing {missing:?}\nstderr:\n{}",
                case.name, run.code, run.stderr
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_valid_bases_of_the_corpus_load() {
    type Builder = fn(&Path);
    let bases: [(&str, Builder); 4] = [
        ("gcn-align", |d| write_files(d, GCN_ALIGN)),
        ("meaformer", |d| {
            meaformer(d, &pickle_of_lists(&[(0, &[0.5, 1.0]), (10, &[0.25, 2.0])]))
        }),
        ("openea", |d| write_files(d, OPENEA)),
        ("alignscope", |d| write_files(d, OURS)),
    ];
    for (format, build) in bases {
        let dir = tempfile::tempdir().unwrap();
        build(dir.path());
        let run = alignscope(&["dataset", "inspect", "--json", dir.path().to_str().unwrap()]);
        run.assert_no_panic();
        assert_eq!(run.code, Some(0), "{format}: {}", run.stderr);
        let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(report["format"], format);
        assert_eq!(report["gold_pairs"], 2, "{format}");
    }
}

#[test]
fn a_missing_folder_and_an_unknown_layout_are_explained() {
    let run = alignscope(&["dataset", "inspect", "/nonexistent/alignscope/data"]);
    run.assert_no_panic();
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .contains("/nonexistent/alignscope/data: not a dataset folder"),
        "{}",
        run.stderr
    );

    let empty = tempfile::tempdir().unwrap();
    let run = alignscope(&["dataset", "inspect", empty.path().to_str().unwrap()]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("cannot tell the dataset format"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("gcn-align: ent_ids_1, ent_ids_2, triples_1, triples_2, ref_ent_ids")
    );
    assert!(run.stderr.contains("--format"));

    let run = alignscope(&[
        "dataset",
        "inspect",
        "--format",
        "csv",
        empty.path().to_str().unwrap(),
    ]);
    run.assert_no_panic();
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("unknown format `csv`"),
        "{}",
        run.stderr
    );
}

#[test]
fn many_problems_are_all_counted_and_the_first_ones_listed() {
    let dir = tempfile::tempdir().unwrap();
    let mut triples = String::new();
    for i in 0..120 {
        triples.push_str(&format!("0\t{i}\t{}\n", 1000 + i));
    }
    with_gcn_align(dir.path(), &[("triples_1", triples.as_bytes())]);
    let run = alignscope(&["dataset", "inspect", dir.path().to_str().unwrap()]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("the dataset is invalid (120 problems)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("triples_1:50: tail entity `1049`"));
    assert!(run.stderr.contains("... and 70 more"));
}

#[test]
fn forcing_a_format_reads_the_folder_as_that_format() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), GCN_ALIGN);
    let path = dir.path().to_str().unwrap();
    let run = alignscope(&["dataset", "inspect", "--format", "openea", path]);
    run.assert_no_panic();
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .contains("rel_triples_1: required file is missing"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("(read as the openea format)"),
        "{}",
        run.stderr
    );

    // A GCN-Align folder with a feature pickle given on the command line reads as MEAformer.
    let pickle = dir.path().join("features.pkl");
    std::fs::write(
        &pickle,
        pickle_of_lists(&[(0, &[0.5, 1.0]), (10, &[0.25, 2.0])]),
    )
    .unwrap();
    let run = alignscope(&[
        "dataset",
        "inspect",
        "--json",
        "--image-features",
        pickle.to_str().unwrap(),
        path,
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["format"], "meaformer");
    assert_eq!(report["left"]["entities_with_image_features"], 1);
    assert_eq!(report["right"]["image_feature_dim"], 2);

    let ours = tempfile::tempdir().unwrap();
    write_files(ours.path(), OURS);
    let run = alignscope(&[
        "dataset",
        "inspect",
        "--image-features",
        pickle.to_str().unwrap(),
        ours.path().to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .contains("a feature pickle applies to GCN-Align/MEAformer folders only"),
        "{}",
        run.stderr
    );
}

/// Crafted inputs that used to make loading allocate without bound, or pass import with
/// data a run then aborted the whole process on. Each runs through the real
/// `alignscope dataset import` while its peak resident memory is measured.
#[cfg(target_os = "linux")]
mod allocation_bombs {
    use std::fs::{self, File};
    use std::os::unix::process::ExitStatusExt;
    use std::path::Path;
    use std::process::{Command, Stdio};
    use std::time::Duration;

    use super::*;

    /// Most resident memory the CLI may reach on any of these inputs.
    const MAX_PEAK_RSS: u64 = 512 << 20;

    /// The data-segment limit the CLI runs under, in KiB: twice [`MAX_PEAK_RSS`], so that
    /// an input that still allocates without bound aborts the CLI (a failure of this
    /// test) instead of taking the machine's memory, and so that sampling cannot miss
    /// a peak beyond it.
    const DATA_LIMIT_KIB: u64 = 2 * (MAX_PEAK_RSS >> 10);

    /// How a measured run ended.
    struct Measured {
        code: Option<i32>,
        signal: Option<i32>,
        stderr: String,
        /// Peak resident memory (`VmHWM`), sampled every 2 ms.
        peak: u64,
    }

    /// The peak resident memory of a live process, from `/proc/<pid>/status`.
    fn peak_rss(pid: u32) -> Option<u64> {
        let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let kib = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))?
            .trim()
            .strip_suffix("kB")?
            .trim()
            .parse::<u64>()
            .ok()?;
        Some(kib << 10)
    }

    /// Runs the CLI with `args` under the data limit, sampling its peak memory until it
    /// exits; stderr goes through a file so the child never blocks on a full pipe.
    fn run_measured(args: &[&str], scratch: &Path) -> Measured {
        let stderr_path = scratch.join("stderr.txt");
        let stderr = File::create(&stderr_path).unwrap();
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -d {DATA_LIMIT_KIB} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_alignscope"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("sh runs the alignscope binary");
        let mut peak = 0;
        let status = loop {
            if let Some(now) = peak_rss(child.id()) {
                peak = peak.max(now);
            }
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        Measured {
            code: status.code(),
            signal: status.signal(),
            stderr: fs::read_to_string(stderr_path).unwrap(),
            peak,
        }
    }

    /// A sparse file of `len` bytes: made at once, taking no disk space.
    fn sparse(path: &Path, len: u64) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        File::create(path).unwrap().set_len(len).unwrap();
    }

    /// A `.npy` file with any shape in its header and the given payload.
    fn npy_with_shape(shape: &str, data: &[u8]) -> Vec<u8> {
        let header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}\n");
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    struct Bomb {
        name: &'static str,
        build: fn(&Path),
        /// Extra arguments of `dataset import`.
        args: &'static [&'static str],
        /// Every one of these must appear in stderr.
        expect: &'static [&'static str],
    }

    const BOMBS: &[Bomb] = &[
        Bomb {
            name: "npy (0, 2^40) + empty key file",
            build: |d| {
                with_ours(
                    d,
                    &[
                        (
                            "left/image_features.npy",
                            &npy_with_shape("(0, 1099511627776)", &[]),
                        ),
                        ("left/image_features_keys.tsv", b"key\n"),
                    ],
                )
            },
            args: &[],
            expect: &[
                "left/image_features.npy: the feature matrix has no rows (shape (0, 1099511627776))",
                "delete left/image_features.npy and left/image_features_keys.tsv",
            ],
        },
        Bomb {
            name: "npy (2^20, 2^20) with 16 data bytes",
            build: |d| {
                with_ours(
                    d,
                    &[
                        (
                            "left/image_features.npy",
                            &npy_with_shape("(1048576, 1048576)", &[0; 16]),
                        ),
                        ("left/image_features_keys.tsv", b"key\nx\n"),
                    ],
                )
            },
            args: &[],
            expect: &["left/image_features.npy: unreadable .npy matrix: truncated .npy data"],
        },
        Bomb {
            name: "npy (2, 0): zero-width vectors",
            build: |d| {
                with_ours(
                    d,
                    &[
                        ("right/image_features.npy", &npy_with_shape("(2, 0)", &[])),
                        ("right/image_features_keys.tsv", b"key\nx\ny\n"),
                    ],
                )
            },
            args: &[],
            expect: &[
                "right/image_features.npy: every row of the matrix (shape (2, 0)) has 0 values",
            ],
        },
        Bomb {
            name: "pickle of zero-length vectors",
            build: |d| meaformer(d, &pickle_of_lists(&[(0, &[]), (10, &[])])),
            args: &[],
            expect: &[
                "tiny_id_img_feature_dict.pkl: feature vector of entity id 0 has 0 values",
                "a feature vector must have 1 to",
            ],
        },
        Bomb {
            name: "text file -> /dev/zero",
            build: |d| {
                write_files(d, GCN_ALIGN);
                fs::remove_file(d.join("triples_1")).unwrap();
                std::os::unix::fs::symlink("/dev/zero", d.join("triples_1")).unwrap();
            },
            args: &[],
            expect: &[
                "triples_1: not a regular file (it is a character device)",
                "point AlignScope at the file itself",
            ],
        },
        Bomb {
            name: "--image-features /dev/zero",
            build: |d| write_files(d, GCN_ALIGN),
            args: &["--image-features", "/dev/zero"],
            expect: &["/dev/zero: not a regular file (it is a character device)"],
        },
        Bomb {
            name: "text file that is a folder",
            build: |d| {
                write_files(d, GCN_ALIGN);
                fs::remove_file(d.join("ref_ent_ids")).unwrap();
                fs::create_dir(d.join("ref_ent_ids")).unwrap();
            },
            args: &[],
            expect: &["ref_ent_ids: not a regular file (it is a folder)"],
        },
        Bomb {
            name: "3 GiB (sparse) text file",
            build: |d| {
                write_files(d, GCN_ALIGN);
                sparse(&d.join("triples_2"), 3 << 30);
            },
            args: &[],
            expect: &[
                "triples_2: the file is 3221225472 bytes, more than the 2147483648 bytes (2 GiB) AlignScope reads from a text file",
            ],
        },
        Bomb {
            name: "9 GiB (sparse) feature pickle",
            build: |d| {
                meaformer(d, &[]);
                sparse(&d.join("pkls/tiny_id_img_feature_dict.pkl"), 9 << 30);
            },
            args: &[],
            expect: &[
                "tiny_id_img_feature_dict.pkl: the file is 9663676416 bytes, more than the 8589934592 bytes (8 GiB)",
            ],
        },
    ];

    #[test]
    fn crafted_inputs_fail_cleanly_with_bounded_memory() {
        let mut failures = Vec::new();
        for bomb in BOMBS {
            let scratch = tempfile::tempdir().unwrap();
            let (data, home) = (scratch.path().join("data"), scratch.path().join("home"));
            (bomb.build)(&data);
            let mut args = vec!["--data-dir", home.to_str().unwrap(), "dataset", "import"];
            args.extend(bomb.args);
            args.push(data.to_str().unwrap());
            let run = run_measured(&args, scratch.path());
            let mib = run.peak as f64 / f64::from(1 << 20);
            println!(
                "{:<40} exit {:?} signal {:?} peak RSS {mib:.1} MiB",
                bomb.name, run.code, run.signal
            );
            let missing: Vec<_> = bomb
                .expect
                .iter()
                .filter(|e| !run.stderr.contains(*e))
                .collect();
            let crashed = run.signal.is_some() || run.stderr.contains("panicked");
            if crashed || run.code != Some(1) || !missing.is_empty() || run.peak > MAX_PEAK_RSS {
                failures.push(format!(
                    "`{}`: exit {:?}, signal {:?}, peak {mib:.1} MiB, missing {missing:?}\nstderr:\n{}",
                    bomb.name, run.code, run.signal, run.stderr
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    }
}
