//! Checkpoints: the model, the optimiser state and the trainer state, written into a
//! uniquely named staging folder, flushed to disk with the folder, renamed into place, and
//! only then named by the `latest` pointer (written the same way), so neither a crash nor a
//! power loss leaves the pointer naming a torn checkpoint.
//!
//! Layout under a run folder: `checkpoints/epoch-000010/{model.bin, optimizer.bin,
//! state.json, checksums.sha256}`, `checkpoints/latest` (the name of the newest),
//! `checkpoints/best/model.bin` (the best epoch's model). The two newest epoch checkpoints
//! are kept, so a resume whose newest checkpoint is damaged (a disk that lied, a file
//! truncated by hand) falls back to the one before it ([`CheckpointStore::resume`]).

use std::fs;
use std::path::{Path, PathBuf};

use burn::module::{AutodiffModule, Module};
use burn::record::{BinFileRecorder, FullPrecisionSettings, Recorder};
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::optimizer::{AnyOptimizerRecord, RunOptimizers};
use super::progress::EpochRecord;
use crate::durable::{self, RemoveOnDrop};
use crate::rng::SeededRng;

/// The epoch judged best so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BestEpoch {
    /// 1-based epoch.
    pub epoch: usize,
    /// Left-to-right H@1 on the selection split.
    pub hits_at_1: f64,
    /// `validation`, or `test` when there is no validation split (the authors' selection,
    /// which peeks at the test set; reported as such).
    pub selected_by: String,
}

/// Everything besides the weights that a resumed run needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    /// Epochs completed.
    pub epoch: usize,
    /// The shuffling generator, as it is after `epoch`.
    pub rng: SeededRng,
    /// Pseudo seeds added by iterative learning (joint indices).
    pub pseudo_seeds: Vec<(u32, u32)>,
    /// Iterative-learning candidates of the open window.
    pub candidates: Option<Vec<(u32, u32)>>,
    /// Every epoch so far.
    pub history: Vec<EpochRecord>,
    /// The best evaluated epoch.
    pub best: Option<BestEpoch>,
    /// Seconds spent in training steps.
    pub train_seconds: f64,
}

/// A checkpoint that could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// File system trouble.
    #[error("checkpoint {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Burn could not record or load a record.
    #[error("checkpoint {path}: {message}")]
    Record {
        /// The path.
        path: PathBuf,
        /// Burn's message.
        message: String,
    },
    /// `state.json` is not valid.
    #[error("checkpoint {path}: invalid state: {source}")]
    State {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
    /// A file's content differs from the checksum written with it.
    #[error("checkpoint {path}: damaged (its SHA-256 differs from the one written with it)")]
    Damaged {
        /// The file.
        path: PathBuf,
    },
    /// Checkpoints exist, but none of them can be read.
    #[error(
        "no usable checkpoint in {root}: {}; start the run again from scratch instead of \
         resuming it",
        .reasons.join("; ")
    )]
    NoneUsable {
        /// The checkpoints folder.
        root: PathBuf,
        /// Why each checkpoint was refused, newest first.
        reasons: Vec<String>,
    },
    /// No checkpoint there.
    #[error(
        "no checkpoint in {0} (expected checkpoints/latest; a run writes one at its first evaluation)"
    )]
    Missing(PathBuf),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    }
}

type Rec = BinFileRecorder<FullPrecisionSettings>;

/// Writes `bytes` to `path` atomically and durably ([`durable::write_atomically`]), as a
/// checkpoint error.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CheckpointError> {
    durable::write_atomically(path, bytes).map_err(io(path))
}

/// The checksum file of a checkpoint folder: `HEX  NAME` per file, as `sha256sum` writes.
const CHECKSUMS: &str = "checksums.sha256";

/// The files of a checkpoint whose checksums are written with it.
const CHECKED_FILES: [&str; 3] = ["model.bin", "optimizer.bin", "state.json"];

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn write_checksums(dir: &Path) -> Result<(), CheckpointError> {
    let mut text = String::new();
    for name in CHECKED_FILES {
        let path = dir.join(name);
        let bytes = fs::read(&path).map_err(io(&path))?;
        text.push_str(&format!("{}  {name}\n", sha256_hex(&bytes)));
    }
    let path = dir.join(CHECKSUMS);
    fs::write(&path, text).map_err(io(&path))
}

/// Checks a checkpoint's files against its checksums (folders written before checksums
/// existed pass unchecked).
fn verify_checksums(dir: &Path) -> Result<(), CheckpointError> {
    let path = dir.join(CHECKSUMS);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(&path)(e)),
    };
    for line in text.lines() {
        let Some((want, name)) = line.split_once("  ") else {
            return Err(CheckpointError::Damaged { path });
        };
        let file = dir.join(name);
        let bytes = fs::read(&file).map_err(io(&file))?;
        if sha256_hex(&bytes) != want {
            return Err(CheckpointError::Damaged { path: file });
        }
    }
    Ok(())
}

/// Both optimisers' states.
type OptimizersRecord<M, B> = (AnyOptimizerRecord<M, B>, Option<AnyOptimizerRecord<M, B>>);

/// A resumed model with its optimisers.
pub type ResumedRun<M, B> = Resumed<M, RunOptimizers<M, B>>;

/// A checkpoint read back for a resume.
pub struct Resumed<M, O> {
    /// The model with the checkpoint's weights.
    pub model: M,
    /// The optimiser with its state.
    pub optimizer: O,
    /// The trainer state.
    pub state: TrainState,
    /// Newer checkpoints that could not be read, with why (newest first).
    pub skipped: Vec<(PathBuf, String)>,
}

/// The checkpoints of one run.
#[derive(Debug, Clone)]
pub struct CheckpointStore {
    root: PathBuf,
}

impl CheckpointStore {
    /// The checkpoints under `run_dir/checkpoints`.
    pub fn new(run_dir: &Path) -> Self {
        Self {
            root: run_dir.join("checkpoints"),
        }
    }

    /// Writes a checkpoint of `model`, `optimizer` and `state`; returns its folder.
    pub fn save<B, M>(
        &self,
        model: &M,
        optimizer: &RunOptimizers<M, B>,
        state: &TrainState,
    ) -> Result<PathBuf, CheckpointError>
    where
        B: AutodiffBackend,
        M: AutodiffModule<B>,
    {
        fs::create_dir_all(&self.root).map_err(io(&self.root))?;
        let name = format!("epoch-{:06}", state.epoch);
        let stage = RemoveOnDrop::new(durable::unique_sibling(&self.root.join(&name), "staging"));
        fs::create_dir(stage.path()).map_err(io(stage.path()))?;
        let recorder = Rec::new();
        let model_path = stage.path().join("model");
        model
            .clone()
            .save_file(&model_path, &recorder)
            .map_err(|e| record_error(&model_path, e))?;
        let optim_path = stage.path().join("optimizer");
        recorder
            .record(optimizer.to_record(), optim_path.clone())
            .map_err(|e| record_error(&optim_path, e))?;
        let state_json = serde_json::to_vec_pretty(state).expect("the trainer state serialises");
        let state_path = stage.path().join("state.json");
        fs::write(&state_path, state_json).map_err(io(&state_path))?;
        write_checksums(stage.path())?;
        durable::sync_files_in(stage.path()).map_err(io(stage.path()))?;
        let target = self.root.join(&name);
        durable::publish_dir(stage.path(), &target).map_err(io(&target))?;
        stage.kept();
        write_atomically(&self.root.join("latest"), name.as_bytes())?;
        self.prune(2)?;
        Ok(target)
    }

    /// Saves `model` as the best one (replacing the previous best).
    pub fn save_best<B: AutodiffBackend, M: AutodiffModule<B>>(
        &self,
        model: &M,
    ) -> Result<(), CheckpointError> {
        fs::create_dir_all(&self.root).map_err(io(&self.root))?;
        let best = self.root.join("best");
        let stage = RemoveOnDrop::new(durable::unique_sibling(&best, "staging"));
        fs::create_dir(stage.path()).map_err(io(stage.path()))?;
        let path = stage.path().join("model");
        model
            .clone()
            .save_file(&path, &Rec::new())
            .map_err(|e| record_error(&path, e))?;
        durable::sync_files_in(stage.path()).map_err(io(stage.path()))?;
        // Never without a best model: the old one moves aside until the new one is in.
        let old = RemoveOnDrop::new(durable::unique_sibling(&best, "old"));
        if best.exists() {
            fs::rename(&best, old.path()).map_err(io(&best))?;
        }
        durable::publish_dir(stage.path(), &best).map_err(io(&best))?;
        stage.kept();
        Ok(())
    }

    /// The newest checkpoint folder, if any.
    pub fn latest(&self) -> Result<Option<PathBuf>, CheckpointError> {
        let pointer = self.root.join("latest");
        match fs::read_to_string(&pointer) {
            Ok(name) => Ok(Some(self.root.join(name.trim()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(CheckpointError::Io {
                path: pointer,
                source: e,
            }),
        }
    }

    /// The best model's record path (without extension), if saved.
    pub fn best_model(&self) -> Option<PathBuf> {
        let path = self.root.join("best").join("model");
        path.with_extension("bin").exists().then_some(path)
    }

    /// Checkpoint folders a resume may start from, in order of preference: the one
    /// `latest` names, then the other epoch folders, newest first.
    pub fn resume_candidates(&self) -> Result<Vec<PathBuf>, CheckpointError> {
        let mut folders = self.epoch_folders()?;
        folders.reverse();
        // A pointer that cannot be read still leaves the folders to try.
        if let Ok(Some(latest)) = self.latest()
            && let Some(at) = folders.iter().position(|f| *f == latest)
        {
            let named = folders.remove(at);
            folders.insert(0, named);
        }
        Ok(folders)
    }

    /// Reads the newest checkpoint that is whole (checksums, Burn records and state all
    /// readable) into `model` and `optimizer`, skipping damaged newer ones (named in
    /// [`Resumed::skipped`]). `None` when there is no checkpoint;
    /// [`CheckpointError::NoneUsable`] when there are some and none can be read.
    pub fn resume<B, M>(
        &self,
        model: M,
        optimizer: RunOptimizers<M, B>,
        device: &B::Device,
    ) -> Result<Option<ResumedRun<M, B>>, CheckpointError>
    where
        B: AutodiffBackend,
        M: AutodiffModule<B>,
    {
        let candidates = self.resume_candidates()?;
        if candidates.is_empty() {
            return Ok(None);
        }
        let mut skipped = Vec::new();
        for dir in candidates {
            match read_checkpoint::<B, M>(&dir, device) {
                Ok((model_record, optim_record, state)) => {
                    return Ok(Some(Resumed {
                        model: model.load_record(model_record),
                        optimizer: optimizer.load_record(optim_record),
                        state,
                        skipped,
                    }));
                }
                Err(e) => skipped.push((dir, e.to_string())),
            }
        }
        Err(CheckpointError::NoneUsable {
            root: self.root.clone(),
            reasons: skipped.into_iter().map(|(_, why)| why).collect(),
        })
    }

    /// The `epoch-*` folders, oldest first.
    fn epoch_folders(&self) -> Result<Vec<PathBuf>, CheckpointError> {
        let entries = match fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(&self.root)(e)),
        };
        let mut epochs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_dir()
                    && p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("epoch-"))
            })
            .collect();
        epochs.sort();
        Ok(epochs)
    }

    /// Keeps the `keep` newest epoch folders, and removes what writes killed half-way
    /// left behind (hidden staging folders and temporary files: the run lock means no other
    /// writer is at work here).
    fn prune(&self, keep: usize) -> Result<(), CheckpointError> {
        let epochs = self.epoch_folders()?;
        let excess = epochs.len().saturating_sub(keep);
        for old in &epochs[..excess] {
            fs::remove_dir_all(old).map_err(io(old))?;
        }
        for entry in fs::read_dir(&self.root).map_err(io(&self.root))?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let leftover = name.starts_with('.')
                && [".staging.", ".old.", ".tmp."]
                    .iter()
                    .any(|t| name.contains(t));
            if leftover {
                let _ = RemoveOnDrop::new(entry.path());
            }
        }
        Ok(())
    }
}

/// The records and state of the checkpoint in `dir`, after checking its checksums.
#[allow(clippy::type_complexity)]
fn read_checkpoint<B, M>(
    dir: &Path,
    device: &B::Device,
) -> Result<(M::Record, OptimizersRecord<M, B>, TrainState), CheckpointError>
where
    B: AutodiffBackend,
    M: AutodiffModule<B>,
{
    verify_checksums(dir)?;
    let recorder = Rec::new();
    let model_path = dir.join("model");
    let model = recorder
        .load(model_path.clone(), device)
        .map_err(|e| record_error(&model_path, e))?;
    let optim_path = dir.join("optimizer");
    let optimizer = recorder
        .load(optim_path.clone(), device)
        .map_err(|e| record_error(&optim_path, e))?;
    Ok((model, optimizer, read_state(dir)?))
}

/// Loads a model record (path without extension) into `model`.
pub fn load_model<B: burn::tensor::backend::Backend, M: Module<B>>(
    path: &Path,
    model: M,
    device: &B::Device,
) -> Result<M, CheckpointError> {
    model
        .load_file(path, &Rec::new(), device)
        .map_err(|e| record_error(path, e))
}

/// Reads `state.json` of a checkpoint folder.
pub fn read_state(dir: &Path) -> Result<TrainState, CheckpointError> {
    let path = dir.join("state.json");
    let bytes = fs::read(&path).map_err(io(&path))?;
    serde_json::from_slice(&bytes).map_err(|source| CheckpointError::State { path, source })
}

fn record_error(path: &Path, e: impl std::fmt::Display) -> CheckpointError {
    CheckpointError::Record {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}
