//! A whole run: load a dataset, split its gold pairs, build the inputs and the model,
//! train, evaluate and export — the one code path behind `alignscope train`, `eval` and
//! (later) the app's training jobs.
//!
//! A run folder holds `config.json` (everything the run used, deviations from the paper
//! included), `checkpoints/` (see [`crate::train::CheckpointStore`]), `exports/` (see
//! [`crate::export`]) and `summary.json`.

mod config;
pub mod decode;
mod split;

use std::path::{Path, PathBuf};

use alignscope_datasets::{
    DatasetError, LoadOptions, MmkgPair, Side, SplitSpec, fingerprint, load, split_gold,
};
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};

pub use config::{DatasetRecord, RunConfig, SplitRecord};
pub use split::{SPLIT_FILE, SplitPairs, read_split};

use crate::backend::GraphBackend;
use crate::compute::ComputeDevice;
use crate::eval::{EvalOptions, Evaluation, evaluate};
use crate::export::{Exports, export, exports_dir};
use crate::graph::AlignmentGraph;
use crate::inputs::{ModalityInputReport, ModalityInputs};
use crate::model::{AlignmentModel, DataShape, ModelInputs, TrainableModel};
use crate::ops::l2_normalize;
use crate::registry::{self, RunIo};
use crate::rng::SeededRng;
use crate::schema::{SettingError, Settings};
use crate::settings::CommonSettings;
use crate::train::{
    AlignmentTask, CheckpointError, CheckpointStore, TrainIo, TrainPlan, TrainState, TrainStatus,
    checkpoint_write as write_atomically, load_model, train,
};

/// What to run.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// Dataset folder.
    pub dataset: PathBuf,
    /// How to read it.
    pub load: LoadOptions,
    /// The model's id (see [`crate::registry`]).
    pub model: String,
    /// Settings given (the rest take the model's defaults).
    pub settings: Settings,
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

/// A run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The dataset could not be read.
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    /// The split could not be made.
    #[error(transparent)]
    Split(#[from] alignscope_datasets::split::SplitError),
    /// The settings are invalid.
    #[error(transparent)]
    Settings(#[from] SettingError),
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

/// Deviations of every run with these settings and split, the model's own included.
fn deviations(model: &str, settings: &Settings, valid: bool) -> Result<Vec<String>, RunError> {
    let family = registry::find(model)?;
    let mut d = family.run_deviations(settings);
    d.push(if valid {
        "best epoch chosen by validation H@1 (the papers' code chooses by test H@1)".into()
    } else {
        "no validation split: best epoch chosen by test H@1 as the papers' code does (optimistic; the last epoch is reported too)".into()
    });
    if !CommonSettings::from_settings(model, settings)?.iterative {
        d.push("iterative learning off".into());
    }
    Ok(d)
}

/// Pairs of entity keys as pairs of graph indices; an unknown key is an error.
fn gold_pairs_of_keys(
    pair: &MmkgPair,
    keys: &[(String, String)],
) -> Result<Vec<alignscope_datasets::model::GoldPair>, RunError> {
    use alignscope_datasets::model::GoldPair;
    let index = pair.keys();
    keys.iter()
        .map(
            |(l, r)| match (index.index(Side::Left, l), index.index(Side::Right, r)) {
                (Some(left), Some(right)) => Ok(GoldPair { left, right }),
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
    registry::resolve(&spec.model, &spec.settings)?;
    let loaded = load(&spec.dataset, &spec.load)?;
    prepare_pair(spec, loaded.pair, &loaded.format.to_string())
}

/// Prepares an already loaded pair (read as `format`) for `spec`.
pub fn prepare_pair(
    spec: &RunSpec,
    mut pair: MmkgPair,
    format: &str,
) -> Result<PreparedRun, RunError> {
    let settings = registry::resolve(&spec.model, &spec.settings)?;
    let family = registry::find(&spec.model)?;
    let needs = family.input_needs(&settings)?;
    let seed = CommonSettings::from_settings(&spec.model, &settings)?.seed;
    crate::relations::keep_relations_apart(&mut pair);
    if pair.gold.is_empty() {
        return Err(RunError::NoGold(spec.dataset.clone()));
    }
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
    let inputs = ModalityInputs::from_pair(
        &pair,
        &graph,
        needs.bag_top_k,
        needs.missing_images,
        &mut rng,
    );
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
        widths: inputs.widths(),
    };
    let used: Vec<ModalityInputReport> = inputs
        .reports
        .iter()
        .filter(|r| needs.modalities.contains(&r.modality))
        .cloned()
        .collect();
    let config = RunConfig {
        model: spec.model.clone(),
        settings: settings.clone(),
        dataset: DatasetRecord {
            path: spec.dataset.clone(),
            format: format.to_string(),
            image_features: spec.load.image_features.clone(),
            derived_features: spec.load.derived_features.clone(),
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
            let mut d = deviations(&spec.model, &settings, !task.valid.is_empty())?;
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
    pub exports: Option<Exports>,
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

/// Trains the prepared run on `device` with its model, writing into `io.out` when given.
pub fn execute(
    device: &ComputeDevice,
    device_label: &str,
    prepared: &mut PreparedRun,
    io: RunIo<'_>,
) -> Result<RunResult, RunError> {
    prepared.config.device = device_label.to_string();
    if let Some(dir) = io.out {
        claim_run_dir(dir, &prepared.config, io.resume)?;
        split::write_split(dir, &prepared.pair, &prepared.task)?;
    }
    registry::find(&prepared.config.model)?.execute(device, prepared, io)
}

/// Trains `model` (built for `prepared`) as `plan` says, then exports its predictions and
/// summary into the run folder: the part of [`execute`] every model shares.
pub(crate) fn train_and_export<B, M>(
    model: M,
    prepared: &PreparedRun,
    plan: &TrainPlan,
    device: &B::Device,
    io: RunIo<'_>,
) -> Result<RunResult, RunError>
where
    B: AutodiffBackend + GraphBackend,
    B::InnerBackend: GraphBackend,
    M: TrainableModel<B>,
    M::InnerModule: AlignmentModel<B::InnerBackend>,
{
    let store = io.out.map(CheckpointStore::new);
    let inputs = ModelInputs::<B>::upload(&prepared.graph, &prepared.inputs, device);
    let eval_inputs =
        ModelInputs::<B::InnerBackend>::upload(&prepared.graph, &prepared.inputs, device);
    let outcome = train(
        model,
        &inputs,
        &eval_inputs,
        &prepared.task,
        plan,
        io.resume,
        TrainIo {
            checkpoints: store.as_ref(),
            cancel: io.cancel,
            progress: io.progress,
        },
    )?;
    let mut exports = None;
    if let (Some(dir), Some(evaluation)) = (io.out, &outcome.final_test) {
        let explanation = outcome.model.valid().explain(&eval_inputs);
        exports = Some(export(
            &exports_dir(dir),
            &prepared.pair,
            &explanation,
            evaluation,
            &plan.eval,
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

/// Evaluates `model` on the prepared run's test pairs.
pub(crate) fn evaluate_model<B, M>(
    model: &M,
    prepared: &PreparedRun,
    options: &EvalOptions,
    device: &B::Device,
) -> Evaluation
where
    B: GraphBackend,
    M: AlignmentModel<B>,
{
    let inputs = ModelInputs::<B>::upload(&prepared.graph, &prepared.inputs, device);
    let unit = l2_normalize(model.embed(&inputs));
    evaluate(
        &unit,
        &prepared.task.test,
        prepared.task.left.clone(),
        prepared.task.right.clone(),
        options,
    )
}

/// Loads the model record at `path` into `model` (freshly built) and evaluates it.
pub(crate) fn evaluate_record<B, M>(
    model: M,
    path: &Path,
    prepared: &PreparedRun,
    options: &EvalOptions,
    device: &B::Device,
) -> Result<Evaluation, RunError>
where
    B: GraphBackend,
    M: AlignmentModel<B> + burn::module::Module<B>,
{
    let model = load_model(path, model, device)?;
    Ok(evaluate_model(&model, prepared, options, device))
}

/// The L2 norm of the gradient of every float parameter of `module` in `grads` (0 for a
/// parameter the loss does not reach), named by its path and shape.
pub fn parameter_gradient_norms<B, M>(module: &M, grads: &B::Gradients) -> Vec<(String, f64)>
where
    B: AutodiffBackend,
    M: burn::module::Module<B>,
{
    use burn::module::{ModuleVisitor, Param};
    use burn::tensor::{ElementConversion, Tensor};

    struct Norms<'a, B: AutodiffBackend> {
        grads: &'a B::Gradients,
        path: Vec<String>,
        found: Vec<(String, f64)>,
    }
    impl<B: AutodiffBackend> ModuleVisitor<B> for Norms<'_, B> {
        fn enter_module(&mut self, name: &str, _container: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            let norm = param
                .val()
                .grad(self.grads)
                .map_or(0.0, |g| g.square().sum().sqrt().into_scalar().elem::<f64>());
            let name = format!("{} {:?}", self.path.join("."), param.val().dims());
            self.found.push((name, norm));
        }
    }

    let mut norms = Norms::<B> {
        grads,
        path: Vec::new(),
        found: Vec::new(),
    };
    module.visit(&mut norms);
    norms.found
}

/// The gradient norm of every parameter of `model` after one step's loss on the first
/// chunk of the prepared run's seed pairs.
pub(crate) fn gradient_norms<B, M>(
    model: &M,
    prepared: &PreparedRun,
    plan: &TrainPlan,
    device: &B::Device,
) -> StepProbe
where
    B: AutodiffBackend + GraphBackend,
    M: TrainableModel<B>,
{
    use burn::tensor::ElementConversion;

    let inputs = ModelInputs::<B>::upload(&prepared.graph, &prepared.inputs, device);
    let mut rng = SeededRng::new(plan.seed).fork("gradient-check");
    let mut step = crate::model::StepContext {
        epoch: 1,
        seed: plan.seed,
        rng: &mut rng,
        left: prepared.task.left.clone(),
        right: prepared.task.right.clone(),
    };
    let forward = model.forward_train(&inputs, &mut step);
    let chunk = plan
        .chunk_size
        .or(plan.batch_size)
        .unwrap_or(prepared.task.train.len());
    let pairs = &prepared.task.train[..chunk.min(prepared.task.train.len())];
    let total = model
        .losses(&forward, pairs, &mut step)
        .into_iter()
        .map(|t| t.value)
        .reduce(|a, b| a + b)
        .expect("a model has at least one loss term");
    let loss = total.clone().into_scalar().elem::<f64>();
    let grads = total.backward();
    StepProbe {
        loss,
        norms: parameter_gradient_norms(model, &grads),
    }
}

/// One training step's loss and the gradient norm of every parameter (named by its
/// module path and shape), before any update.
#[derive(Debug, Clone, PartialEq)]
pub struct StepProbe {
    /// The step's total loss.
    pub loss: f64,
    /// `(parameter, gradient norm)`, in module order.
    pub norms: Vec<(String, f64)>,
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
        if let Some(epochs) = config.settings.get("epochs") {
            comparable.settings.insert("epochs".into(), epochs.clone());
        }
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

/// Reads a run folder's `config.json` (a LoginMEA run stored before the registry is
/// read too).
pub fn read_config(run_dir: &Path) -> Result<RunConfig, RunError> {
    let path = run_dir.join("config.json");
    let bytes = std::fs::read(&path).map_err(|_| RunError::NotARun(run_dir.to_path_buf()))?;
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|source| RunError::BadConfig {
            path: path.clone(),
            source,
        })?;
    RunConfig::from_json(value).map_err(|source| RunError::BadConfig { path, source })
}

/// Which saved model to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SavedModel {
    /// The newest checkpoint.
    Latest,
    /// The best epoch's model.
    Best,
}

/// The spec that prepares a stored run's data again.
pub fn spec_of(config: &RunConfig) -> RunSpec {
    RunSpec {
        dataset: config.dataset.path.clone(),
        load: LoadOptions {
            format: config.dataset.format.parse().ok(),
            image_features: config.dataset.image_features.clone(),
            derived_features: config.dataset.derived_features.clone(),
        },
        model: config.model.clone(),
        settings: config.settings.clone(),
        train_ratio: config.split.train_ratio,
        valid_ratio: config.split.valid_ratio,
        seeds: config.split.seeds.clone(),
        rejected: config.split.rejected.clone(),
    }
}

/// Re-evaluates a run folder's saved model on `device` (reloading and checking the
/// dataset), with the run's evaluation options unless `options` are given.
pub fn evaluate_run(
    device: &ComputeDevice,
    run_dir: &Path,
    which: SavedModel,
    options: Option<EvalOptions>,
) -> Result<(RunConfig, Evaluation), RunError> {
    let saved = SavedRun::open(run_dir, which)?;
    let options = match options {
        Some(o) => o,
        None => saved.config.eval_options()?,
    };
    let family = registry::find(&saved.config.model)?;
    let evaluation = family.evaluate_saved(device, &saved.prepared, &saved.model, &options)?;
    Ok((saved.config, evaluation))
}

/// A recorded run's config, its data prepared again and the saved model to load.
pub(crate) struct SavedRun {
    pub config: RunConfig,
    pub prepared: PreparedRun,
    /// The Burn record (without extension).
    pub model: PathBuf,
}

impl SavedRun {
    /// Reads the run in `run_dir` and prepares its data again; refused when the dataset
    /// changed since the run or the wanted model was never saved.
    pub(crate) fn open(run_dir: &Path, which: SavedModel) -> Result<Self, RunError> {
        let config = read_config(run_dir)?;
        let prepared = prepare(&spec_of(&config))?;
        if prepared.config.dataset.fingerprint != config.dataset.fingerprint {
            return Err(RunError::DatasetChanged {
                path: config.dataset.path.clone(),
                expected: config.dataset.fingerprint.clone(),
                found: prepared.config.dataset.fingerprint,
            });
        }
        let store = CheckpointStore::new(run_dir);
        let model = match which {
            SavedModel::Best => store.best_model(),
            SavedModel::Latest => store.latest()?.map(|d| d.join("model")),
        }
        .ok_or_else(|| CheckpointError::Missing(run_dir.to_path_buf()))?;
        Ok(Self {
            config,
            prepared,
            model,
        })
    }
}
