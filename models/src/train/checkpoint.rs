//! Checkpoints: the model, the optimiser state and the trainer state, written into a
//! staging folder that is renamed into place, so a crash never leaves a torn checkpoint.
//!
//! Layout under a run folder: `checkpoints/epoch-000010/{model.bin, optimizer.bin,
//! state.json}`, `checkpoints/latest` (the name of the newest), `checkpoints/best/
//! model.bin` (the best epoch's model). The two newest epoch checkpoints are kept.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use burn::module::{AutodiffModule, Module};
use burn::optim::Optimizer;
use burn::record::{BinFileRecorder, FullPrecisionSettings, Recorder};
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};

use super::progress::EpochRecord;
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

/// Writes `bytes` to `path` through a temporary file and a rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CheckpointError> {
    let tmp = path.with_extension("tmp");
    let mut file = fs::File::create(&tmp).map_err(io(&tmp))?;
    file.write_all(bytes).map_err(io(&tmp))?;
    file.sync_all().map_err(io(&tmp))?;
    fs::rename(&tmp, path).map_err(io(path))
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
    pub fn save<B, M, O>(
        &self,
        model: &M,
        optimizer: &O,
        state: &TrainState,
    ) -> Result<PathBuf, CheckpointError>
    where
        B: AutodiffBackend,
        M: AutodiffModule<B>,
        O: Optimizer<M, B>,
    {
        fs::create_dir_all(&self.root).map_err(io(&self.root))?;
        let name = format!("epoch-{:06}", state.epoch);
        let stage = self.root.join(format!(".staging-{name}"));
        let _ = fs::remove_dir_all(&stage);
        fs::create_dir_all(&stage).map_err(io(&stage))?;
        let recorder = Rec::new();
        let model_path = stage.join("model");
        model
            .clone()
            .save_file(&model_path, &recorder)
            .map_err(|e| record_error(&model_path, e))?;
        let optim_path = stage.join("optimizer");
        recorder
            .record(optimizer.to_record(), optim_path.clone())
            .map_err(|e| record_error(&optim_path, e))?;
        let state_json = serde_json::to_vec_pretty(state).expect("the trainer state serialises");
        write_atomically(&stage.join("state.json"), &state_json)?;
        let target = self.root.join(&name);
        if target.exists() {
            fs::remove_dir_all(&target).map_err(io(&target))?;
        }
        fs::rename(&stage, &target).map_err(io(&target))?;
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
        let stage = self.root.join(".staging-best");
        let _ = fs::remove_dir_all(&stage);
        fs::create_dir_all(&stage).map_err(io(&stage))?;
        let path = stage.join("model");
        model
            .clone()
            .save_file(&path, &Rec::new())
            .map_err(|e| record_error(&path, e))?;
        let best = self.root.join("best");
        let old = self.root.join(".old-best");
        let _ = fs::remove_dir_all(&old);
        if best.exists() {
            fs::rename(&best, &old).map_err(io(&best))?;
        }
        fs::rename(&stage, &best).map_err(io(&best))?;
        let _ = fs::remove_dir_all(&old);
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

    /// Loads the checkpoint in `dir` into `model` and `optimizer`.
    pub fn load<B, M, O>(
        dir: &Path,
        model: M,
        optimizer: O,
        device: &B::Device,
    ) -> Result<(M, O, TrainState), CheckpointError>
    where
        B: AutodiffBackend,
        M: AutodiffModule<B>,
        O: Optimizer<M, B>,
    {
        let model = load_model(&dir.join("model"), model, device)?;
        let optim_path = dir.join("optimizer");
        let record = Rec::new()
            .load(optim_path.clone(), device)
            .map_err(|e| record_error(&optim_path, e))?;
        let optimizer = optimizer.load_record(record);
        Ok((model, optimizer, read_state(dir)?))
    }

    fn prune(&self, keep: usize) -> Result<(), CheckpointError> {
        let mut epochs: Vec<PathBuf> = fs::read_dir(&self.root)
            .map_err(io(&self.root))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("epoch-"))
            })
            .collect();
        epochs.sort();
        let excess = epochs.len().saturating_sub(keep);
        for old in &epochs[..excess] {
            fs::remove_dir_all(old).map_err(io(old))?;
        }
        Ok(())
    }
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
