//! Crafted inputs that used to make loading allocate without bound (or accept data that
//! made a later run abort): empty or absurd feature shapes, zero-length vectors, devices,
//! FIFOs and folders where a file belongs, and files far larger than any real dataset's.
//! Each must be refused with a message naming the file, what is wrong and what to do.

use std::fs;
use std::path::Path;

use alignscope_datasets::model::EntityFeatures;
use alignscope_datasets::npy::{NpyMatrix, write_npy_matrix};
use alignscope_datasets::{DatasetError, LoadOptions, load};

fn write(root: &Path, files: &[(&str, &[u8])]) {
    for (name, content) in files {
        let path = root.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }
}

/// A valid folder in our own format, two entities a side.
fn ours(dir: &Path) {
    write(
        dir,
        &[
            ("dataset.toml", b"format_version = 1\nname = \"tiny\"\n"),
            ("left/entities.tsv", b"key\tname\nx\tThe X\ny\tThe Y\n"),
            ("right/entities.tsv", b"key\tname\nx\tDas X\ny\tDas Y\n"),
            ("gold.tsv", b"left\tright\nx\tx\ny\ty\n"),
        ],
    );
}

/// A valid GCN-Align folder.
fn gcn_align(dir: &Path) {
    write(
        dir,
        &[
            ("ent_ids_1", b"0\thttp://a/A\n1\thttp://a/B\n"),
            ("ent_ids_2", b"10\thttp://b/A\n11\thttp://b/B\n"),
            ("triples_1", b"0\t0\t1\n"),
            ("triples_2", b"10\t5\t11\n"),
            ("ref_ent_ids", b"0\t10\n1\t11\n"),
        ],
    );
}

/// A version-1 `.npy` file with any header shape literal and payload.
fn npy_with_shape(shape: &str, data: &[u8]) -> Vec<u8> {
    let header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}\n");
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

/// A protocol-2 pickle of `{key: [floats]}`.
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

/// The load error's full text; panics if loading succeeds.
fn load_error(dir: &Path, options: &LoadOptions) -> String {
    match load(dir, options) {
        Ok(_) => panic!("{} loaded, but it must be refused", dir.display()),
        Err(e @ DatasetError::Invalid { .. }) => e.to_string(),
        Err(other) => panic!("expected an invalid dataset, got: {other}"),
    }
}

fn assert_contains(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "missing {part:?} in:\n{text}");
    }
}

#[test]
fn an_empty_feature_matrix_of_absurd_width_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    ours(dir.path());
    write(
        dir.path(),
        &[
            (
                "left/image_features.npy",
                &npy_with_shape("(0, 1099511627776)", &[]),
            ),
            ("left/image_features_keys.tsv", b"key\n"),
        ],
    );
    let err = load_error(dir.path(), &LoadOptions::default());
    assert_contains(
        &err,
        &[
            "left/image_features.npy: the feature matrix has no rows (shape (0, 1099511627776))",
            "delete left/image_features.npy and left/image_features_keys.tsv",
        ],
    );
}

#[test]
fn an_absurd_shape_with_little_data_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    ours(dir.path());
    write(
        dir.path(),
        &[
            (
                "left/image_features.npy",
                &npy_with_shape("(1048576, 1048576)", &[0; 16]),
            ),
            ("left/image_features_keys.tsv", b"key\nx\n"),
        ],
    );
    let err = load_error(dir.path(), &LoadOptions::default());
    assert_contains(
        &err,
        &[
            "left/image_features.npy: unreadable .npy matrix: truncated .npy data:",
            "found 16",
        ],
    );
}

#[test]
fn zero_width_and_too_wide_feature_matrices_are_refused() {
    let max = EntityFeatures::MAX_DIM;
    for (shape, data, width) in [
        ("(2, 0)".to_string(), Vec::new(), 0),
        (format!("(1, {})", max + 1), vec![0; 4 * (max + 1)], max + 1),
    ] {
        let dir = tempfile::tempdir().unwrap();
        ours(dir.path());
        let keys: &[u8] = if width == 0 {
            b"key\nx\ny\n"
        } else {
            b"key\nx\n"
        };
        write(
            dir.path(),
            &[
                ("right/image_features.npy", &npy_with_shape(&shape, &data)),
                ("right/image_features_keys.tsv", keys),
            ],
        );
        let err = load_error(dir.path(), &LoadOptions::default());
        assert_contains(
            &err,
            &[
                &format!(
                    "right/image_features.npy: every row of the matrix (shape {shape}) has {width} values"
                ),
                &format!("a feature vector must have 1 to {max} values"),
            ],
        );
    }
}

#[test]
fn our_writer_writes_no_feature_files_for_a_graph_without_vectors() {
    let dir = tempfile::tempdir().unwrap();
    ours(dir.path());
    let mut pair = load(dir.path(), &LoadOptions::default()).unwrap().pair;
    pair.left.image_features = Some(EntityFeatures {
        origin: Default::default(),
        dim: 3,
        rows: vec![None; pair.left.entities.len()],
        data: Vec::new(),
    });
    let out = tempfile::tempdir().unwrap();
    alignscope_datasets::write_alignscope(&pair, out.path()).unwrap();
    assert!(!out.path().join("left/image_features.npy").exists());
    let reread = load(out.path(), &LoadOptions::default()).unwrap();
    assert!(reread.pair.left.image_features.is_none());
}

#[test]
fn a_feature_matrix_written_by_our_writer_still_loads() {
    let dir = tempfile::tempdir().unwrap();
    ours(dir.path());
    let mut npy = Vec::new();
    let matrix = NpyMatrix {
        rows: 1,
        cols: 2,
        data: vec![0.5, 0.25],
    };
    write_npy_matrix(&mut npy, &matrix).unwrap();
    write(
        dir.path(),
        &[
            ("left/image_features.npy", &npy),
            ("left/image_features_keys.tsv", b"key\ny\n"),
        ],
    );
    let loaded = load(dir.path(), &LoadOptions::default()).unwrap();
    let features = loaded.pair.left.image_features.unwrap();
    assert_eq!(features.vector(1), Some(&[0.5, 0.25][..]));
}

#[test]
fn zero_length_pickle_vectors_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    gcn_align(dir.path());
    let pickle = dir.path().join("features.pkl");
    fs::write(&pickle, pickle_of_lists(&[(0, &[]), (10, &[])])).unwrap();
    let options = LoadOptions {
        image_features: Some(pickle),
        ..LoadOptions::default()
    };
    let err = load_error(dir.path(), &options);
    assert_contains(
        &err,
        &[
            "features.pkl: feature vector of entity id 0 has 0 values",
            "features.pkl: feature vector of entity id 10 has 0 values",
            "a feature vector must have 1 to",
        ],
    );
}

#[cfg(unix)]
#[test]
fn a_device_where_a_text_file_belongs_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    gcn_align(dir.path());
    fs::remove_file(dir.path().join("triples_1")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("triples_1")).unwrap();
    let err = load_error(dir.path(), &LoadOptions::default());
    assert_contains(
        &err,
        &[
            "triples_1: not a regular file (it is a character device)",
            "point AlignScope at the file itself",
        ],
    );
}

#[cfg(unix)]
#[test]
fn a_device_given_as_the_feature_pickle_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    gcn_align(dir.path());
    let options = LoadOptions {
        image_features: Some("/dev/zero".into()),
        ..LoadOptions::default()
    };
    let err = load_error(dir.path(), &options);
    assert_contains(
        &err,
        &["/dev/zero: not a regular file (it is a character device)"],
    );
}

#[cfg(unix)]
#[test]
fn a_device_where_the_feature_matrix_belongs_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    ours(dir.path());
    write(dir.path(), &[("left/image_features_keys.tsv", b"key\nx\n")]);
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("left/image_features.npy")).unwrap();
    let err = load_error(dir.path(), &LoadOptions::default());
    assert_contains(
        &err,
        &["left/image_features.npy: not a regular file (it is a character device)"],
    );
}

#[test]
fn a_folder_where_a_text_file_belongs_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    gcn_align(dir.path());
    fs::remove_file(dir.path().join("triples_2")).unwrap();
    fs::create_dir(dir.path().join("triples_2")).unwrap();
    let err = load_error(dir.path(), &LoadOptions::default());
    assert_contains(&err, &["triples_2: not a regular file (it is a folder)"]);
}

#[cfg(unix)]
#[test]
fn a_fifo_is_refused_without_waiting_for_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    gcn_align(dir.path());
    let fifo = dir.path().join("ref_ent_ids");
    fs::remove_file(&fifo).unwrap();
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("SKIP: mkfifo is not available");
        return;
    }
    let err = load_error(dir.path(), &LoadOptions::default());
    assert_contains(&err, &["ref_ent_ids: not a regular file (it is a FIFO)"]);
}

/// A sparse file of `len` bytes: instant, and takes no disk space.
fn sparse(path: &Path, len: u64) {
    fs::File::create(path).unwrap().set_len(len).unwrap();
}

#[test]
fn files_larger_than_their_limit_are_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    gcn_align(dir.path());
    sparse(&dir.path().join("triples_1"), (2 << 30) + 1);
    let pickle = dir.path().join("features.pkl");
    sparse(&pickle, (8 << 30) + 1);
    let options = LoadOptions {
        image_features: Some(pickle),
        ..LoadOptions::default()
    };
    let err = load_error(dir.path(), &options);
    assert_contains(
        &err,
        &[
            "triples_1: the file is 2147483649 bytes, more than the 2147483648 bytes (2 GiB) AlignScope reads from a text file",
            "features.pkl: the file is 8589934593 bytes, more than the 8589934592 bytes (8 GiB) AlignScope reads from a feature file",
            "check that this is the right file",
        ],
    );
}
