//! A run's exports as store rows (from memory, or read back from its folder), and its
//! files as artifacts (kind, size, SHA-256).

use std::path::{Path, PathBuf};

use alignscope_datasets::npy::read_npy_matrix;
use alignscope_datasets::{EntityKeys, Side};
use alignscope_models::export::{ExportManifest, Exports};
use sha2::{Digest, Sha256};

use crate::store::{ArtifactRow, PredictionRow, RankRow};

/// Why a run folder could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RunFilesError {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A file does not have the expected content.
    #[error("{}, line {line}: {message}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line (0: the whole file).
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// A run's exports as rows for the store.
#[derive(Debug, Default)]
pub struct ExportRows {
    /// Candidates.
    pub predictions: Vec<PredictionRow>,
    /// True-match ranks.
    pub ranks: Vec<RankRow>,
    /// Per-entity weights.
    pub weights: Vec<(i64, Vec<f32>)>,
    /// Weight columns.
    pub weight_modalities: Vec<String>,
    /// The score columns (the exact parts of each candidate's score: see
    /// `alignscope_models::export`).
    pub similarity_modalities: Vec<String>,
}

fn read(path: &Path) -> Result<Vec<u8>, RunFilesError> {
    std::fs::read(path).map_err(|source| RunFilesError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn read_text(path: &Path) -> Result<String, RunFilesError> {
    String::from_utf8(read(path)?).map_err(|_| RunFilesError::Malformed {
        path: path.to_path_buf(),
        line: 0,
        message: "not UTF-8".into(),
    })
}

/// Direction column to (number, query side, candidate side).
fn direction(word: &str) -> Option<(i64, Side, Side)> {
    match word {
        "left_to_right" => Some((0, Side::Left, Side::Right)),
        "right_to_left" => Some((1, Side::Right, Side::Left)),
        _ => None,
    }
}

/// A run's exports, held in memory by the process that trained it, as store rows.
pub fn export_rows(exports: &Exports) -> ExportRows {
    ExportRows {
        predictions: exports
            .candidates
            .iter()
            .map(|c| PredictionRow {
                direction: c.direction.number(),
                query: i64::from(c.query),
                rank: i64::from(c.rank),
                candidate: i64::from(c.candidate),
                score: f64::from(c.score),
                is_true: c.is_true,
                modality_scores: c.parts.clone(),
            })
            .collect(),
        ranks: exports
            .ranks
            .iter()
            .map(|r| RankRow {
                direction: r.direction.number(),
                query: i64::from(r.query),
                truth: i64::from(r.true_match),
                rank: i64::from(r.rank),
            })
            .collect(),
        weights: exports
            .weights
            .as_ref()
            .map(|(_, cols, data)| weight_rows(*cols, data))
            .unwrap_or_default(),
        weight_modalities: modality_names(&exports.manifest),
        similarity_modalities: exports.manifest.score_columns.clone(),
    }
}

fn modality_names(manifest: &ExportManifest) -> Vec<String> {
    manifest
        .weight_modalities
        .iter()
        .map(|m| m.as_str().to_string())
        .collect()
}

/// An `N x cols` weight matrix as one row per joint entity index.
fn weight_rows(cols: usize, data: &[f32]) -> Vec<(i64, Vec<f32>)> {
    data.chunks(cols.max(1))
        .enumerate()
        .map(|(i, w)| (i as i64, w.to_vec()))
        .collect()
}

/// Reads `<run>/exports/` (written by `alignscope_models::export`) back as store rows,
/// entities looked up by key in `keys`: for a run folder whose process is gone.
pub fn read_exports(exports: &Path, keys: &EntityKeys) -> Result<ExportRows, RunFilesError> {
    let manifest_path = exports.join("manifest.json");
    let manifest: ExportManifest =
        serde_json::from_slice(&read(&manifest_path)?).map_err(|e| RunFilesError::Malformed {
            path: manifest_path.clone(),
            line: e.line(),
            message: e.to_string(),
        })?;
    let mut rows = ExportRows {
        weight_modalities: modality_names(&manifest),
        similarity_modalities: manifest.score_columns.clone(),
        ..ExportRows::default()
    };
    let path = exports.join("candidates.tsv");
    let text = read_text(&path)?;
    let bad = |line: usize, message: String| RunFilesError::Malformed {
        path: path.clone(),
        line,
        message,
    };
    let sims = rows.similarity_modalities.len();
    for (n, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() != 6 + sims {
            return Err(bad(
                n + 1,
                format!("{} fields, expected {}", f.len(), 6 + sims),
            ));
        }
        let (dir, qs, cs) =
            direction(f[0]).ok_or_else(|| bad(n + 1, format!("unknown direction {:?}", f[0])))?;
        let entity = |side: Side, key: &str| {
            keys.joint(side, key)
                .map(|j| j as i64)
                .ok_or_else(|| bad(n + 1, format!("unknown entity {key:?}")))
        };
        let number = |s: &str| {
            s.parse::<f64>()
                .map_err(|_| bad(n + 1, format!("not a number: {s:?}")))
        };
        rows.predictions.push(PredictionRow {
            direction: dir,
            query: entity(qs, f[1])?,
            rank: number(f[2])? as i64,
            candidate: entity(cs, f[3])?,
            score: number(f[4])?,
            is_true: f[5] == "1",
            modality_scores: f[6..]
                .iter()
                .map(|s| number(s).map(|v| v as f32))
                .collect::<Result<_, _>>()?,
        });
    }
    let path = exports.join("ranks.tsv");
    let text = read_text(&path)?;
    for (n, line) in text.lines().enumerate().skip(1) {
        let bad = |message: String| RunFilesError::Malformed {
            path: path.clone(),
            line: n + 1,
            message,
        };
        let f: Vec<&str> = line.split('\t').collect();
        let [d, q, t, r] = f[..] else {
            return Err(bad(format!("{} fields, expected 4", f.len())));
        };
        let (dir, qs, ts) = direction(d).ok_or_else(|| bad(format!("unknown direction {d:?}")))?;
        let entity = |side: Side, key: &str| {
            keys.joint(side, key)
                .map(|j| j as i64)
                .ok_or_else(|| bad(format!("unknown entity {key:?}")))
        };
        rows.ranks.push(RankRow {
            direction: dir,
            query: entity(qs, q)?,
            truth: entity(ts, t)?,
            rank: r.parse().map_err(|_| bad(format!("not a rank: {r:?}")))?,
        });
    }
    let path = exports.join("modality_weights.npy");
    if path.exists() {
        let matrix = read_npy_matrix(&read(&path)?).map_err(|e| RunFilesError::Malformed {
            path: path.clone(),
            line: 0,
            message: e.to_string(),
        })?;
        rows.weights = weight_rows(matrix.cols, &matrix.data);
    }
    Ok(rows)
}

/// The kind of a run file, by its path inside the run folder.
fn artifact_kind(relative: &Path) -> &'static str {
    let text = relative.to_string_lossy();
    match relative.file_name().and_then(|n| n.to_str()) {
        Some("config.json") if !text.contains("checkpoint") => "config",
        Some("summary.json") => "summary",
        Some("candidates.tsv") => "candidates",
        Some("ranks.tsv") => "ranks",
        Some("modality_weights.npy") => "modality_weights",
        Some("manifest.json") => "export_manifest",
        _ if text.starts_with("checkpoints/best") => "best_model",
        _ if text.starts_with("checkpoints") => "checkpoint",
        _ => "other",
    }
}

/// Every file of a run folder (but staging files) as an artifact, paths relative to `root`.
pub fn list_artifacts(root: &Path, run_dir: &Path) -> Result<Vec<ArtifactRow>, RunFilesError> {
    let mut out = Vec::new();
    let mut pending = vec![run_dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|source| RunFilesError::Io {
            path: dir.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| RunFilesError::Io {
                path: dir.clone(),
                source,
            })?;
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let inside = path.strip_prefix(run_dir).unwrap_or(&path);
            let hidden = inside
                .components()
                .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
            if hidden || inside.extension() == Some("tmp".as_ref()) {
                continue;
            }
            let bytes = read(&path)?;
            out.push(ArtifactRow {
                kind: artifact_kind(inside).into(),
                path: path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .into_owned(),
                bytes: bytes.len() as i64,
                sha256: format!("{:x}", Sha256::digest(&bytes)),
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}
