//! The one trainer every model uses: full-graph forward, contrastive loss over seed
//! chunks, one AdamW step per epoch, periodic evaluation, iterative learning, best-epoch
//! tracking, cancellation, progress events and resumable checkpoints.
//!
//! Deterministic on the CPU backend: parameters are drawn and seeds shuffled with the
//! run's [`SeededRng`], never with a backend's global generator.

mod checkpoint;
mod config;
mod progress;

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::module::AutodiffModule;
use burn::optim::{AdamWConfig, GradientsParams, Optimizer};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, Tensor};

pub use checkpoint::{
    BestEpoch, CheckpointError, CheckpointStore, TrainState, load_model, read_state,
    write_atomically,
};
pub use config::{IterativeConfig, OptimizerRestart, TrainConfig};
pub use progress::{EpochRecord, PseudoSeedReport, TrainEvent};

use crate::eval::{Evaluation, evaluate, mutual_nearest_pairs};
use crate::graph::int_tensor;
use crate::loss::contrastive_loss;
use crate::model::{AlignmentModel, ModelInputs};
use crate::ops::l2_normalize;
use crate::rng::SeededRng;

/// The alignment task in joint entity indices.
#[derive(Debug, Clone, PartialEq)]
pub struct AlignmentTask {
    /// Seed pairs.
    pub train: Vec<(u32, u32)>,
    /// Held-out pairs for model selection (may be empty).
    pub valid: Vec<(u32, u32)>,
    /// Test pairs.
    pub test: Vec<(u32, u32)>,
    /// Joint indices of the left graph.
    pub left: Range<usize>,
    /// Joint indices of the right graph.
    pub right: Range<usize>,
    /// Every gold pair, to count how many pseudo seeds are right (never used to train).
    pub gold: Vec<(u32, u32)>,
    /// Pairs a person rejected: iterative learning never makes them pseudo seeds.
    pub rejected: Vec<(u32, u32)>,
}

/// How training ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainStatus {
    /// All epochs ran.
    Completed,
    /// The cancel flag was raised; the last completed epoch is checkpointed.
    Cancelled,
}

/// The result of [`train`].
pub struct TrainOutcome<M> {
    /// The trained model (last epoch).
    pub model: M,
    /// History, best epoch and iterative-learning state.
    pub state: TrainState,
    /// How it ended.
    pub status: TrainStatus,
    /// Test evaluation of the final model.
    pub final_test: Option<Evaluation>,
}

/// Training failed.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A checkpoint could not be written or read.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// There is nothing to train on.
    #[error("no seed pairs to train on (train ratio 0?)")]
    NoSeeds,
    /// The loss is not a number: training diverged.
    #[error(
        "the loss became {loss} at epoch {epoch}: training diverged (try a lower learning rate)"
    )]
    Diverged {
        /// Epoch.
        epoch: usize,
        /// The loss.
        loss: f64,
    },
}

/// Where and whether to checkpoint.
pub struct TrainIo<'a> {
    /// Checkpoint store (none: no checkpoints).
    pub checkpoints: Option<&'a CheckpointStore>,
    /// Raised by another thread to stop after the current epoch.
    pub cancel: &'a AtomicBool,
    /// Receives progress events.
    pub progress: &'a mut dyn FnMut(&TrainEvent),
}

fn fresh_optimizer<B: AutodiffBackend, M: AutodiffModule<B>>(
    config: &TrainConfig,
) -> impl Optimizer<M, B> {
    AdamWConfig::new()
        .with_weight_decay(config.weight_decay as f32)
        .with_epsilon(config.epsilon as f32)
        .init::<B, M>()
}

/// Trains `model` on `task`; resumes from the newest checkpoint when `resume` is set and
/// one exists.
pub fn train<B, M>(
    model: M,
    inputs: &ModelInputs<B>,
    eval_inputs: &ModelInputs<B::InnerBackend>,
    task: &AlignmentTask,
    config: &TrainConfig,
    resume: bool,
    io: TrainIo<'_>,
) -> Result<TrainOutcome<M>, TrainError>
where
    B: AutodiffBackend,
    M: AutodiffModule<B> + AlignmentModel<B>,
    M::InnerModule: AlignmentModel<B::InnerBackend>,
{
    if task.train.is_empty() {
        return Err(TrainError::NoSeeds);
    }
    let device = inputs.graph.heads.device();
    let mut model = model;
    let mut optimizer = fresh_optimizer::<B, M>(config);
    let mut state = TrainState {
        epoch: 0,
        rng: SeededRng::new(config.seed).fork("seed-shuffle"),
        pseudo_seeds: Vec::new(),
        candidates: None,
        history: Vec::new(),
        best: None,
        train_seconds: 0.0,
    };
    if resume
        && let Some(store) = io.checkpoints
        && let Some(resumed) = store.resume::<B, M, _>(model.clone(), optimizer, &device)?
    {
        for (dir, reason) in &resumed.skipped {
            (io.progress)(&TrainEvent::CheckpointSkipped {
                path: dir.clone(),
                reason: reason.clone(),
            });
        }
        (model, optimizer, state) = (resumed.model, resumed.optimizer, resumed.state);
    } else {
        optimizer = fresh_optimizer::<B, M>(config);
    }
    let gold: HashMap<u32, u32> = task.gold.iter().copied().collect();
    let chunks_of = |seeds: usize| seeds.div_ceil(config.chunk_size.max(1));
    (io.progress)(&TrainEvent::Started {
        first_epoch: state.epoch + 1,
        epochs: config.epochs,
        chunks: chunks_of(task.train.len() + state.pseudo_seeds.len()),
    });
    let mut status = TrainStatus::Completed;
    let mut last_eval = None;
    while state.epoch < config.epochs {
        if io.cancel.load(Ordering::Relaxed) {
            status = TrainStatus::Cancelled;
            break;
        }
        let epoch = state.epoch + 1;
        let (lr, fresh) = match config.optimizer_restart {
            Some(r) if epoch > r.after_epoch => {
                optimizer = fresh_optimizer::<B, M>(config);
                (r.learning_rate, true)
            }
            _ => (config.learning_rate, false),
        };
        let started = Instant::now();
        let mut seeds: Vec<(u32, u32)> = task
            .train
            .iter()
            .chain(&state.pseudo_seeds)
            .copied()
            .collect();
        state.rng.shuffle(&mut seeds);
        let unit = l2_normalize(model.embed(inputs));
        let chunks = chunks_of(seeds.len());
        let mut total: Option<Tensor<B, 1>> = None;
        let mut epoch_loss = 0.0f64;
        for (c, chunk) in seeds.chunks(config.chunk_size.max(1)).enumerate() {
            let left = int_tensor::<B>(chunk.iter().map(|p| p.0), &device);
            let right = int_tensor::<B>(chunk.iter().map(|p| p.1), &device);
            let loss = contrastive_loss(
                &unit,
                left,
                right,
                model.temperature(),
                model.loss_both_directions(),
            );
            let value: f64 = loss.clone().into_scalar().elem();
            epoch_loss += value;
            (io.progress)(&TrainEvent::Chunk {
                epoch,
                chunk: c + 1,
                chunks,
                loss: value,
            });
            total = Some(match total {
                None => loss,
                Some(t) => t + loss,
            });
        }
        if !epoch_loss.is_finite() {
            return Err(TrainError::Diverged {
                epoch,
                loss: epoch_loss,
            });
        }
        let total = total.expect("at least one chunk");
        let grads = GradientsParams::from_grads(total.backward(), &model);
        drop(unit);
        model = optimizer.step(lr, model, grads);
        let seconds = started.elapsed().as_secs_f64();
        state.train_seconds += seconds;
        state.epoch = epoch;

        let mut record = EpochRecord {
            epoch,
            loss: epoch_loss,
            seconds,
            learning_rate: lr,
            fresh_optimizer: fresh,
            test: None,
            valid: None,
            eval_seconds: None,
            pseudo_seeds: None,
        };
        let evaluate_now = epoch.is_multiple_of(config.eval_every.max(1)) || epoch == config.epochs;
        let iterate_now = config.iterative.is_some_and(|it| it.checks_at(epoch));
        let mut improved = false;
        if evaluate_now || iterate_now {
            let eval_started = Instant::now();
            let inner = model.valid();
            let unit = l2_normalize(inner.embed(eval_inputs));
            if evaluate_now {
                let test = evaluate(
                    &unit,
                    &task.test,
                    task.left.clone(),
                    task.right.clone(),
                    &config.eval,
                );
                record.test = Some(test.metrics);
                if !task.valid.is_empty() {
                    record.valid = Some(
                        evaluate(
                            &unit,
                            &task.valid,
                            task.left.clone(),
                            task.right.clone(),
                            &config.eval,
                        )
                        .metrics,
                    );
                }
                let (selection, by) = match &record.valid {
                    Some(v) => (v.left_to_right.hits_at_1, "validation"),
                    None => (test.metrics.left_to_right.hits_at_1, "test"),
                };
                if state.best.as_ref().is_none_or(|b| selection > b.hits_at_1) {
                    state.best = Some(BestEpoch {
                        epoch,
                        hits_at_1: selection,
                        selected_by: by.into(),
                    });
                    improved = true;
                }
                last_eval = Some((epoch, test));
            }
            if let Some(it) = config.iterative.filter(|_| iterate_now) {
                record.pseudo_seeds = Some(iterate(
                    &unit,
                    task,
                    &mut state,
                    &gold,
                    it,
                    epoch,
                    config.eval.block_rows,
                ));
            }
            record.eval_seconds = Some(eval_started.elapsed().as_secs_f64());
        }
        state.history.push(record.clone());
        (io.progress)(&TrainEvent::Epoch(record));
        if let Some(store) = io.checkpoints {
            if improved {
                store.save_best(&model)?;
            }
            if evaluate_now {
                store.save(&model, &optimizer, &state)?;
                (io.progress)(&TrainEvent::Checkpoint { epoch });
            }
        }
    }
    if status == TrainStatus::Cancelled
        && let Some(store) = io.checkpoints
        && state.epoch > 0
    {
        store.save(&model, &optimizer, &state)?;
        (io.progress)(&TrainEvent::Checkpoint { epoch: state.epoch });
    }
    let final_test = match last_eval {
        Some((epoch, evaluation)) if epoch == state.epoch => Some(evaluation),
        _ if state.epoch > 0 => {
            let unit = l2_normalize(model.valid().embed(eval_inputs));
            Some(evaluate(
                &unit,
                &task.test,
                task.left.clone(),
                task.right.clone(),
                &config.eval,
            ))
        }
        _ => None,
    };
    Ok(TrainOutcome {
        model,
        state,
        status,
        final_test,
    })
}

/// One iterative-learning check: mutual nearest neighbours among entities in no seed pair
/// narrow the window's candidates; at the window's end the survivors become seeds.
fn iterate<B: burn::tensor::backend::Backend>(
    unit: &Tensor<B, 2>,
    task: &AlignmentTask,
    state: &mut TrainState,
    gold: &HashMap<u32, u32>,
    it: IterativeConfig,
    epoch: usize,
    block_rows: usize,
) -> PseudoSeedReport {
    let seeded: BTreeSet<u32> = task
        .train
        .iter()
        .chain(&state.pseudo_seeds)
        .flat_map(|&(l, r)| [l, r])
        .collect();
    let free = |range: &Range<usize>| {
        range
            .clone()
            .map(|i| i as u32)
            .filter(|i| !seeded.contains(i))
            .collect::<Vec<_>>()
    };
    let mutual = mutual_nearest_pairs(unit, &free(&task.left), &free(&task.right), block_rows);
    let rejected: BTreeSet<&(u32, u32)> = task.rejected.iter().collect();
    let found: BTreeSet<(u32, u32)> = mutual
        .iter()
        .filter(|p| !rejected.contains(p))
        .copied()
        .collect();
    let candidates: BTreeSet<(u32, u32)> = match state.candidates.take() {
        None => found,
        Some(previous) => previous.into_iter().filter(|p| found.contains(p)).collect(),
    };
    let window_ends =
        epoch > it.start_epoch && (epoch - it.start_epoch).is_multiple_of(it.window.max(1));
    let (mut added, mut correct) = (0, 0);
    let standing = candidates.len();
    if window_ends {
        for (l, r) in candidates {
            added += 1;
            if gold.get(&l) == Some(&r) {
                correct += 1;
            }
            state.pseudo_seeds.push((l, r));
        }
    } else {
        state.candidates = Some(candidates.into_iter().collect());
    }
    PseudoSeedReport {
        mutual: mutual.len(),
        candidates: standing,
        added,
        added_correct: correct,
        seeds: task.train.len() + state.pseudo_seeds.len(),
    }
}
