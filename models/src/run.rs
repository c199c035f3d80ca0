//! A whole run: load a dataset, split its gold pairs, build the inputs and the model,
//! train, evaluate and export — the one code path behind `alignscope train`, `eval` and
//! (later) the app's training jobs.
//!
//! A run folder holds `config.json` (everything the run used, deviations from the paper
//! included), `checkpoints/` (see [`crate::train::CheckpointStore`]), `exports/` (see
//! [`crate::export`]) and `summary.json`.

use std::path::{Path, PathBuf};

use alignscope_datasets::{
    DatasetError, LoadOptions, MmkgPair, Side, SplitSpec, fingerprint, load, split_gold,
};
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};

use crate::backend::GraphBackend;
use crate::eval::{EvalOptions, Evaluation, evaluate};
use crate::export::{ExportManifest, export, exports_dir};
use crate::graph::AlignmentGraph;
use crate::inputs::{ModalityInputReport, ModalityInputs};
use crate::loginmea::{ConfigError, DataShape, LoginMeaConfig};
use crate::model::{AlignmentModel, ModelInputs};
use crate::ops::l2_normalize;
use crate::rng::SeededRng;
use crate::train::{
    AlignmentTask, CheckpointError, CheckpointStore, TrainConfig, TrainEvent, TrainIo, TrainState,
    TrainStatus, load_model, train, write_atomically,
};

/// What to run.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// Dataset folder.
    pub dataset: PathBuf,
    /// How to read it.
    pub load: LoadOptions,
    /// The model.
    pub model: LoginMeaConfig,
    /// The trainer.
    pub train: TrainConfig,
    /// Share of gold pairs used as seeds.
    pub train_ratio: f64,
    /// Share of gold pairs held out for model selection.
    pub valid_ratio: f64,
    /// Explicit training pairs (left key, right key) instead of the seeded split's: the
    /// test pairs are then the gold pairs that share no entity with a seed, and there is
    /// no validation part.
    pub seeds: Option<Vec<(String, String)>>,
    /// Pairs (left key, right key) a person rejected: never taken as pseudo seeds by
    /// iterative learning.
    pub rejected: Vec<(String, String)>,
}

/// The dataset a run used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetRecord {
    /// Folder it was read from.
    pub path: PathBuf,
    /// Format it was read as.
    pub format: String,
    /// The image-feature file given instead of the one beside the data, if any.
    #[serde(default)]
    pub image_features: Option<PathBuf>,
    /// Content fingerprint.
    pub fingerprint: String,
    /// Entities per graph.
    pub entities: [usize; 2],
    /// Gold pairs.
    pub gold_pairs: usize,
}

/// The split a run used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitRecord {
    /// Seed share.
    pub train_ratio: f64,
    /// Validation share.
    pub valid_ratio: f64,
    /// Split seed (the run seed).
    pub seed: u64,
    /// Pairs per part.
    pub train: usize,
    /// Validation pairs.
    pub valid: usize,
    /// Test pairs.
    pub test: usize,
    /// Explicit training pairs, when the run was given them (see [`RunSpec::seeds`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seeds: Option<Vec<(String, String)>>,
    /// Pairs a person rejected, kept out of the pseudo seeds (see [`RunSpec::rejected`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<(String, String)>,
}

/// Everything a run used; `config.json` of the run folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// Model name.
    pub model: String,
    /// Model configuration.
    pub loginmea: LoginMeaConfig,
    /// Trainer configuration.
    pub train: TrainConfig,
    /// The dataset.
    pub dataset: DatasetRecord,
    /// The split.
    pub split: SplitRecord,
    /// How each modality's input was obtained.
    pub modality_inputs: Vec<ModalityInputReport>,
    /// Where this implementation knowingly differs from the paper or the authors' code.
    pub deviations: Vec<String>,
    /// The device the run trained on.
    pub device: String,
}

/// A run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The dataset could not be read.
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    /// The split could not be made.
    #[error(transparent)]
    Split(#[from] alignscope_datasets::split::SplitError),
    /// The model configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Training failed.
    #[error(transparent)]
    Train(#[from] crate::train::TrainError),
    /// A checkpoint or export could not be written or read.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The dataset has no gold pairs.
    #[error("{0}: the dataset has no gold pairs, so there is nothing to train or evaluate on")]
    NoGold(PathBuf),
    /// An explicit training pair names an entity the dataset lacks.
    #[error("training pair ({left}, {right}) names an entity the dataset does not have")]
    UnknownSeed {
        /// Left key.
        left: String,
        /// Right key.
        right: String,
    },
    /// The output folder holds another run.
    #[error(
        "{0} already holds a different run (config.json differs); resume only the run that folder belongs to"
    )]
    OutputInUse(PathBuf),
    /// Not a run folder.
    #[error(
        "{0} is not a run folder (no config.json); pass `--run <id>` or a `runs/<id>` folder of the data directory"
    )]
    NotARun(PathBuf),
    /// `config.json` cannot be read.
    #[error("{path}: invalid run config: {source}")]
    BadConfig {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
    /// The dataset changed since the run.
    #[error(
        "the dataset at {path} changed since the run (fingerprint {found}, the run used {expected})"
    )]
    DatasetChanged {
        /// Its folder.
        path: PathBuf,
        /// The run's fingerprint.
        expected: String,
        /// Today's.
        found: String,
    },
}

/// A dataset prepared for a run.
pub struct PreparedRun {
    /// The data.
    pub pair: MmkgPair,
    /// Its graph.
    pub graph: AlignmentGraph,
    /// Modality inputs.
    pub inputs: ModalityInputs,
    /// The task.
    pub task: AlignmentTask,
    /// Sizes for the model.
    pub shape: DataShape,
    /// The stored configuration.
    pub config: RunConfig,
}

/// Deviations common to every LoginMEA run.
fn deviations(model: &LoginMeaConfig, train: &TrainConfig, valid: bool) -> Vec<String> {
    let mut d = vec![
        format!(
            "modality projections are {} wide as in the authors' code (the paper's text says 100)",
            model.modality_dim
        ),
        "both streams reflect with one relation table, as RREA shares it (the authors' code is not specific in MODELS.md)".into(),
        "parameters are initialised from the run seed with our own generator (Xavier as RREA/LMF, PyTorch's Linear bounds), not PyTorch's RNG".into(),
    ];
    d.push(if valid {
        "best epoch chosen by validation H@1 (the authors choose by test H@1)".into()
    } else {
        "no validation split: best epoch chosen by test H@1 as the authors' code does (optimistic; the last epoch is reported too)".into()
    });
    if train.iterative.is_none() {
        d.push("iterative learning off".into());
    }
    d
}

/// Pairs of entity keys as pairs of graph indices; an unknown key is an error.
fn gold_pairs_of_keys(
    pair: &MmkgPair,
    keys: &[(String, String)],
) -> Result<Vec<alignscope_datasets::model::GoldPair>, RunError> {
    use alignscope_datasets::model::GoldPair;
    let index = |side: Side| -> std::collections::HashMap<&str, u32> {
        pair.graph(side)
            .entities
            .iter()
            .enumerate()
            .map(|(i, e)| (e.key.as_str(), i as u32))
            .collect()
    };
    let (left, right) = (index(Side::Left), index(Side::Right));
    keys.iter()
        .map(
            |(l, r)| match (left.get(l.as_str()), right.get(r.as_str())) {
                (Some(&left), Some(&right)) => Ok(GoldPair { left, right }),
                _ => Err(RunError::UnknownSeed {
                    left: l.clone(),
                    right: r.clone(),
                }),
            },
        )
        .collect()
}

/// The split for explicit training pairs: those pairs, no validation part, and as test
/// pairs the gold pairs that share no entity with a training pair.
fn explicit_split(
    pair: &MmkgPair,
    seeds: &[(String, String)],
) -> Result<alignscope_datasets::model::Split, RunError> {
    let train = gold_pairs_of_keys(pair, seeds)?;
    let used_left: std::collections::HashSet<u32> = train.iter().map(|p| p.left).collect();
    let used_right: std::collections::HashSet<u32> = train.iter().map(|p| p.right).collect();
    let test = pair
        .gold
        .iter()
        .filter(|p| !used_left.contains(&p.left) && !used_right.contains(&p.right))
        .copied()
        .collect();
    Ok(alignscope_datasets::model::Split {
        train,
        valid: Vec::new(),
        test,
    })
}

/// Loads and prepares the dataset of `spec`.
pub fn prepare(spec: &RunSpec) -> Result<PreparedRun, RunError> {
    spec.model.validate()?;
    let loaded = load(&spec.dataset, &spec.load)?;
    prepare_pair(spec, loaded.pair, &loaded.format.to_string())
}

/// Prepares an already loaded pair (read as `format`) for `spec`.
pub fn prepare_pair(
    spec: &RunSpec,
    mut pair: MmkgPair,
    format: &str,
) -> Result<PreparedRun, RunError> {
    spec.model.validate()?;
    crate::relations::keep_relations_apart(&mut pair);
    if pair.gold.is_empty() {
        return Err(RunError::NoGold(spec.dataset.clone()));
    }
    let seed = spec.train.seed;
    let split = match &spec.seeds {
        Some(seeds) => explicit_split(&pair, seeds)?,
        None => split_gold(
            &pair,
            SplitSpec {
                train_ratio: spec.train_ratio,
                valid_ratio: spec.valid_ratio,
                seed,
            },
        )?,
    };
    let graph = AlignmentGraph::from_pair(&pair);
    let mut rng = SeededRng::new(seed).fork("missing-modalities");
    let inputs = ModalityInputs::from_pair(&pair, &graph, spec.model.bag_top_k, &mut rng);
    let joint = |ps: &[alignscope_datasets::model::GoldPair]| -> Vec<(u32, u32)> {
        ps.iter()
            .map(|p| {
                (
                    pair.joint_index(Side::Left, p.left) as u32,
                    pair.joint_index(Side::Right, p.right) as u32,
                )
            })
            .collect()
    };
    let nl = pair.left.entities.len();
    let rejected = joint(&gold_pairs_of_keys(&pair, &spec.rejected)?);
    let task = AlignmentTask {
        train: joint(&split.train),
        valid: joint(&split.valid),
        test: joint(&split.test),
        left: 0..nl,
        right: nl..pair.entity_count(),
        gold: joint(&pair.gold),
        rejected,
    };
    let shape = DataShape {
        entities: pair.entity_count(),
        relation_columns: 2 * graph.relation_count,
        relation_width: inputs.relation.width(),
        attribute_width: inputs.attribute.width(),
        image_width: inputs.image.width(),
    };
    let used: Vec<ModalityInputReport> = inputs
        .reports
        .iter()
        .filter(|r| spec.model.modalities.contains(&r.modality))
        .cloned()
        .collect();
    let config = RunConfig {
        model: "loginmea".into(),
        loginmea: spec.model.clone(),
        train: spec.train.clone(),
        dataset: DatasetRecord {
            path: spec.dataset.clone(),
            format: format.to_string(),
            image_features: spec.load.image_features.clone(),
            fingerprint: fingerprint(&pair)?,
            entities: [nl, pair.right.entities.len()],
            gold_pairs: pair.gold.len(),
        },
        split: SplitRecord {
            train_ratio: spec.train_ratio,
            valid_ratio: spec.valid_ratio,
            seed,
            train: task.train.len(),
            valid: task.valid.len(),
            test: task.test.len(),
            seeds: spec.seeds.clone(),
            rejected: spec.rejected.clone(),
        },
        modality_inputs: used,
        deviations: {
            let mut d = deviations(&spec.model, &spec.train, !task.valid.is_empty());
            if let Some(seeds) = &spec.seeds {
                d.push(format!(
                    "{} training pairs given explicitly (e.g. split seeds plus accepted, minus rejected decisions); test pairs are the gold pairs sharing no entity with them",
                    seeds.len()
                ));
            }
            if !spec.rejected.is_empty() {
                d.push(format!(
                    "{} pairs a person rejected are never taken as pseudo seeds",
                    spec.rejected.len()
                ));
            }
            d
        },
        device: String::new(),
    };
    Ok(PreparedRun {
        pair,
        graph,
        inputs,
        task,
        shape,
        config,
    })
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// The stored configuration.
    pub config: RunConfig,
    /// History and best epoch.
    pub state: TrainState,
    /// How training ended.
    pub status: TrainStatus,
    /// Final test evaluation.
    pub final_test: Option<Evaluation>,
    /// Exports written, if there is a run folder.
    pub exports: Option<ExportManifest>,
}

/// The summary stored as `summary.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunSummary {
    /// `completed` or `cancelled`.
    pub status: String,
    /// Epochs completed.
    pub epochs: usize,
    /// Mean seconds per training epoch.
    pub seconds_per_epoch: f64,
    /// Final test metrics.
    pub test: Option<crate::eval::AlignmentMetrics>,
    /// Best epoch.
    pub best: Option<crate::train::BestEpoch>,
}

/// Trains the prepared run on `device`, writing into `out` when given.
pub fn execute<B>(
    prepared: &mut PreparedRun,
    device: &B::Device,
    device_label: &str,
    out: Option<&Path>,
    resume: bool,
    cancel: &std::sync::atomic::AtomicBool,
    progress: &mut dyn FnMut(&TrainEvent),
) -> Result<RunResult, RunError>
where
    B: AutodiffBackend + GraphBackend,
    B::InnerBackend: GraphBackend,
{
    prepared.config.device = device_label.to_string();
    let store = out.map(CheckpointStore::new);
    if let Some(dir) = out {
        claim_run_dir(dir, &prepared.config, resume)?;
    }
    let model =
        prepared
            .config
            .loginmea
            .init::<B>(prepared.shape, prepared.config.train.seed, device);
    let inputs = ModelInputs::<B>::upload(&prepared.graph, &prepared.inputs, device);
    let eval_inputs =
        ModelInputs::<B::InnerBackend>::upload(&prepared.graph, &prepared.inputs, device);
    let outcome = train(
        model,
        &inputs,
        &eval_inputs,
        &prepared.task,
        &prepared.config.train,
        resume,
        TrainIo {
            checkpoints: store.as_ref(),
            cancel,
            progress,
        },
    )?;
    let mut exports = None;
    if let (Some(dir), Some(evaluation)) = (out, &outcome.final_test) {
        use burn::module::AutodiffModule;
        let explanation = outcome.model.valid().explain(&eval_inputs);
        exports = Some(export(
            &exports_dir(dir),
            &prepared.pair,
            &explanation,
            evaluation,
            &prepared.config.train.eval,
        )?);
        let summary = RunSummary {
            status: match outcome.status {
                TrainStatus::Completed => "completed".into(),
                TrainStatus::Cancelled => "cancelled".into(),
            },
            epochs: outcome.state.epoch,
            seconds_per_epoch: seconds_per_epoch(&outcome.state),
            test: Some(evaluation.metrics),
            best: outcome.state.best.clone(),
        };
        write_atomically(
            &dir.join("summary.json"),
            &serde_json::to_vec_pretty(&summary).expect("summary serialises"),
        )?;
    }
    Ok(RunResult {
        config: prepared.config.clone(),
        state: outcome.state,
        status: outcome.status,
        final_test: outcome.final_test,
        exports,
    })
}

/// Mean seconds per training epoch in a state's history.
pub fn seconds_per_epoch(state: &TrainState) -> f64 {
    if state.history.is_empty() {
        0.0
    } else {
        state.history.iter().map(|r| r.seconds).sum::<f64>() / state.history.len() as f64
    }
}

fn claim_run_dir(dir: &Path, config: &RunConfig, resume: bool) -> Result<(), RunError> {
    let io = |source| CheckpointError::Io {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let path = dir.join("config.json");
    if path.exists() {
        let existing = read_config(dir)?;
        let mut comparable = existing.clone();
        comparable.device = config.device.clone();
        comparable.train.epochs = config.train.epochs;
        if !resume || comparable != *config {
            return Err(RunError::OutputInUse(dir.to_path_buf()));
        }
    } else if std::fs::read_dir(dir).map_err(io)?.next().is_some() {
        return Err(RunError::OutputInUse(dir.to_path_buf()));
    }
    let json = serde_json::to_vec_pretty(config).expect("the run config serialises");
    write_atomically(&path, &json)?;
    Ok(())
}

/// Reads a run folder's `config.json`.
pub fn read_config(run_dir: &Path) -> Result<RunConfig, RunError> {
    let path = run_dir.join("config.json");
    let bytes = std::fs::read(&path).map_err(|_| RunError::NotARun(run_dir.to_path_buf()))?;
    serde_json::from_slice(&bytes).map_err(|source| RunError::BadConfig { path, source })
}

/// Which saved model to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SavedModel {
    /// The newest checkpoint.
    Latest,
    /// The best epoch's model.
    Best,
}

/// Re-evaluates a run folder's saved model on `device` (reloading and checking the
/// dataset), with the run's evaluation options unless `options` are given.
pub fn evaluate_run<B: GraphBackend>(
    run_dir: &Path,
    which: SavedModel,
    options: Option<EvalOptions>,
    device: &B::Device,
) -> Result<(RunConfig, Evaluation), RunError> {
    let config = read_config(run_dir)?;
    let spec = RunSpec {
        dataset: config.dataset.path.clone(),
        load: LoadOptions {
            format: config.dataset.format.parse().ok(),
            image_features: config.dataset.image_features.clone(),
        },
        model: config.loginmea.clone(),
        train: config.train.clone(),
        train_ratio: config.split.train_ratio,
        valid_ratio: config.split.valid_ratio,
        seeds: config.split.seeds.clone(),
        rejected: config.split.rejected.clone(),
    };
    let prepared = prepare(&spec)?;
    if prepared.config.dataset.fingerprint != config.dataset.fingerprint {
        return Err(RunError::DatasetChanged {
            path: config.dataset.path.clone(),
            expected: config.dataset.fingerprint.clone(),
            found: prepared.config.dataset.fingerprint,
        });
    }
    let store = CheckpointStore::new(run_dir);
    let path = match which {
        SavedModel::Best => store.best_model(),
        SavedModel::Latest => store.latest()?.map(|d| d.join("model")),
    }
    .ok_or_else(|| CheckpointError::Missing(run_dir.to_path_buf()))?;
    let model = load_model(
        &path,
        config
            .loginmea
            .init::<B>(prepared.shape, config.train.seed, device),
        device,
    )?;
    let inputs = ModelInputs::<B>::upload(&prepared.graph, &prepared.inputs, device);
    let unit = l2_normalize(model.embed(&inputs));
    let options = options.unwrap_or_else(|| config.train.eval.clone());
    let evaluation = evaluate(
        &unit,
        &prepared.task.test,
        prepared.task.left.clone(),
        prepared.task.right.clone(),
        &options,
    );
    Ok((config, evaluation))
}
