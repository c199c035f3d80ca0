//! Reads the committed pickle and `.npy` fixtures (written by numpy 1.x and 2.x with
//! `tests/fixtures/pickles/make_pickles.py`) and checks every value exactly. When a
//! Python with numpy is available (`ALIGNSCOPE_PYTHON`, else `python3`), the fixtures
//! are also regenerated into a temporary directory and read again, and numpy reads a
//! file written by `write_npy_matrix`. Without numpy that check is skipped, unless
//! `ALIGNSCOPE_REQUIRE_NUMPY=1`, which turns the skip into a failure.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use alignscope_datasets::npy::{NpyError, NpyMatrix, read_npy_matrix, write_npy_matrix};
use alignscope_datasets::pickle::{PickleKey, read_feature_dict};

const INT_KEYS: [i64; 3] = [17, 70000, 5_000_000_000];
const STR_KEYS: [&str; 3] = ["Q17", "http://dbpedia.org/resource/Zürich", "東京"];

/// The fixture formula: element `j` of entry `k`, plus `offset` in float64, as float32.
fn value(k: usize, j: usize, offset: f64) -> f32 {
    (k as f64 * 0.5 + j as f64 * 0.25 - 1.0 + offset) as f32
}

/// Expected content of a pickle variant: string keys?, shape, values per entry, offset.
fn pickle_spec(variant: &str) -> Option<(bool, &'static [usize], usize, f64)> {
    Some(match variant {
        "proto2" | "proto3" | "proto4" | "proto5" | "f16_proto5" | "be_f4_proto2"
        | "i64key_proto2" | "i64key_proto5" | "list_proto4" | "readonly_proto5" => {
            (false, &[4], 4, 0.0)
        }
        "f64_proto4" | "be_f8_proto5" => (false, &[4], 4, 0.1),
        "strkey_proto4" => (true, &[4], 4, 0.0),
        "row2d_proto4" | "row2d_proto5" => (false, &[1, 4], 4, 0.0),
        "fortran_proto2" | "fortran_proto5" => (false, &[2, 3], 6, 0.0),
        _ => return None,
    })
}

const PICKLE_VARIANTS: [&str; 17] = [
    "proto2",
    "proto3",
    "proto4",
    "proto5",
    "f64_proto4",
    "f16_proto5",
    "be_f4_proto2",
    "be_f8_proto5",
    "i64key_proto2",
    "i64key_proto5",
    "strkey_proto4",
    "row2d_proto4",
    "row2d_proto5",
    "fortran_proto2",
    "fortran_proto5",
    "list_proto4",
    "readonly_proto5",
];
const NPY_VARIANTS: [&str; 5] = ["f4", "f8", "be_f4", "fortran", "1d"];

fn check_pickle(path: &Path, variant: &str) {
    let (str_keys, shape, len, offset) =
        pickle_spec(variant).unwrap_or_else(|| panic!("{}: unknown variant", path.display()));
    let bytes = std::fs::read(path).unwrap();
    let dict = read_feature_dict(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(dict.entries.len(), 3, "{}", path.display());
    for (k, entry) in dict.entries.iter().enumerate() {
        let key = if str_keys {
            PickleKey::Str(STR_KEYS[k].to_owned())
        } else {
            PickleKey::Int(INT_KEYS[k])
        };
        let want: Vec<f32> = (0..len).map(|j| value(k, j, offset)).collect();
        assert_eq!(entry.key, key, "{} entry {k}", path.display());
        assert_eq!(entry.shape, shape, "{} entry {k}", path.display());
        assert_eq!(entry.values, want, "{} entry {k}", path.display());
    }
}

fn check_npy(path: &Path, variant: &str) {
    let bytes = std::fs::read(path).unwrap();
    let result = read_npy_matrix(&bytes);
    if variant == "1d" {
        let err = result.expect_err("1-D arrays must be refused");
        assert_eq!(err, NpyError::NotTwoDimensional("(4,)".into()));
        assert_eq!(err.to_string(), "expected a 2-D matrix, found shape (4,)");
        return;
    }
    let offset = if variant == "f8" { 0.1 } else { 0.0 };
    let m = result.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let want: Vec<f32> = (0..3)
        .flat_map(|r| (0..4).map(move |c| value(r, c, offset)))
        .collect();
    assert_eq!((m.rows, m.cols), (3, 4), "{}", path.display());
    assert_eq!(m.data, want, "{}", path.display());
}

/// Checks every fixture in `dir`; each numpy major version in `majors` must have
/// the complete set. Returns the number of files checked.
fn check_dir(dir: &Path, majors: &[u32]) -> usize {
    let mut seen = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let Some((stem, ext)) = name.rsplit_once('.') else {
            continue;
        };
        if ext != "pkl" && ext != "npy" {
            continue;
        }
        let (prefix, variant) = stem
            .split_once('_')
            .unwrap_or_else(|| panic!("{name}: expected npN_<variant>"));
        let major: u32 = prefix
            .strip_prefix("np")
            .and_then(|m| m.parse().ok())
            .unwrap_or_else(|| panic!("{name}: expected an npN_ prefix"));
        match ext {
            "pkl" => check_pickle(&path, variant),
            _ => check_npy(&path, variant),
        }
        seen.insert(format!("np{major}_{variant}.{ext}"));
    }
    for major in majors {
        let pkl = PICKLE_VARIANTS.iter().map(|v| format!("np{major}_{v}.pkl"));
        let npy = NPY_VARIANTS.iter().map(|v| format!("np{major}_{v}.npy"));
        for name in pkl.chain(npy) {
            assert!(
                seen.contains(&name),
                "missing fixture {name} in {}",
                dir.display()
            );
        }
    }
    // The generator's expected.json lists the same variants as this test.
    let expected = std::fs::read_to_string(dir.join("expected.json")).unwrap();
    for variant in PICKLE_VARIANTS.iter().chain(&NPY_VARIANTS) {
        assert!(
            expected.contains(&format!("\"{variant}\": {{")),
            "expected.json lacks {variant}"
        );
    }
    seen.len()
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pickles")
}

#[test]
fn committed_fixtures_numpy1_and_numpy2() {
    let checked = check_dir(&fixture_dir(), &[1, 2]);
    assert_eq!(checked, 2 * (PICKLE_VARIANTS.len() + NPY_VARIANTS.len()));
}

#[test]
fn npy_writer_output_reads_back() {
    let m = NpyMatrix {
        rows: 3,
        cols: 4,
        data: (0..3)
            .flat_map(|r| (0..4).map(move |c| value(r, c, 0.0)))
            .collect(),
    };
    let mut bytes = Vec::new();
    write_npy_matrix(&mut bytes, &m).unwrap();
    assert_eq!(read_npy_matrix(&bytes).unwrap(), m);
    // numpy's own file for the same matrix has the same data section.
    let numpy = std::fs::read(fixture_dir().join("np2_f4.npy")).unwrap();
    assert_eq!(bytes[bytes.len() - 48..], numpy[numpy.len() - 48..]);
}

/// A Python interpreter that can import numpy, if any.
fn python_with_numpy() -> Option<String> {
    let python = std::env::var("ALIGNSCOPE_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&python)
        .args(["-c", "import numpy"])
        .output()
        .is_ok_and(|out| out.status.success());
    ok.then_some(python)
}

#[test]
fn freshly_generated_fixtures_when_numpy_is_available() {
    let require = std::env::var("ALIGNSCOPE_REQUIRE_NUMPY").is_ok_and(|v| v == "1");
    let Some(python) = python_with_numpy() else {
        assert!(
            !require,
            "ALIGNSCOPE_REQUIRE_NUMPY=1 but no Python with numpy was found \
             (set ALIGNSCOPE_PYTHON to an interpreter that has numpy)"
        );
        eprintln!(
            "SKIPPED freshly_generated_fixtures: no Python with numpy \
             (set ALIGNSCOPE_PYTHON=/path/to/python, or ALIGNSCOPE_REQUIRE_NUMPY=1 to fail)"
        );
        return;
    };
    let dir = tempfile::Builder::new()
        .prefix("alignscope-pickles-")
        .tempdir_in(std::env::temp_dir())
        .unwrap();
    let out = Command::new(&python)
        .arg(fixture_dir().join("make_pickles.py"))
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "make_pickles.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let version = Command::new(&python)
        .args(["-c", "import numpy; print(numpy.__version__)"])
        .output()
        .unwrap();
    let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
    let major: u32 = version.split('.').next().unwrap().parse().unwrap();
    let checked = check_dir(dir.path(), &[major]);
    eprintln!("checked {checked} fixtures freshly written by numpy {version}");

    // numpy reads what write_npy_matrix writes.
    let m = NpyMatrix {
        rows: 2,
        cols: 3,
        data: vec![0.5, -1.25, 2.0, 3.0, 0.0, -7.75],
    };
    let path = dir.path().join("written.npy");
    write_npy_matrix(std::fs::File::create(&path).unwrap(), &m).unwrap();
    let out = Command::new(&python)
        .args([
            "-c",
            "import sys, numpy as np; a = np.load(sys.argv[1]); print(a.dtype.str, a.shape, a.tolist())",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "<f4 (2, 3) [[0.5, -1.25, 2.0], [3.0, 0.0, -7.75]]"
    );
}
