//! The one trainer every model uses: per epoch, the seed pairs (given plus pseudo) are
//! shuffled and cut into optimiser steps; each step runs the model's forward pass once
//! and sums its named loss terms over the step's chunks; then periodic evaluation,
//! iterative learning, best-epoch tracking, cancellation, progress events and resumable
//! checkpoints. What varies by model (batching, optimiser, schedule, iterative strategy)
//! comes in its [`TrainPlan`].
//!
//! Deterministic on the CPU backend: parameters are drawn, seeds shuffled and negatives
//! or dropout masks sampled with the run's [`SeededRng`], never with a backend's global
//! generator.

mod checkpoint;
mod config;
mod optimizer;
mod pivots;
mod progress;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, Tensor};

pub(crate) use checkpoint::write_atomically as checkpoint_write;
pub use checkpoint::{
    BestEpoch, CheckpointError, CheckpointStore, TrainState, load_model, read_state,
};
pub use config::{IterativeConfig, TrainPlan};
pub use optimizer::{
    AnyOptimizer, AnyOptimizerRecord, OptimizerKind, OptimizerRestart, OptimizerSpec,
    RunOptimizers, WarmupCosine,
};
pub use pivots::{PivotReport, visual_pivots};
use progress::DiagnosticMeans;
pub use progress::{EpochRecord, PseudoSeedReport, TrainEvent};

use crate::backend::GraphBackend;
use crate::eval::{Evaluation, evaluate, mutual_nearest_pairs};
use crate::model::{AlignmentModel, ModelInputs, StepContext, TrainableModel};
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
    /// Visual pivots were asked for, but no entity of one graph has a real image.
    #[error(
        "visual pivots need images on both sides, and one graph has none: add images (alignscope encode) or train on the seed pairs instead"
    )]
    NoImagesForPivots,
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

/// Trains `model` on `task` as `plan` says; resumes from the newest checkpoint when
/// `resume` is set and one exists.
pub fn train<B, M>(
    model: M,
    inputs: &ModelInputs<B>,
    eval_inputs: &ModelInputs<B::InnerBackend>,
    task: &AlignmentTask,
    plan: &TrainPlan,
    resume: bool,
    io: TrainIo<'_>,
) -> Result<TrainOutcome<M>, TrainError>
where
    B: AutodiffBackend,
    B::InnerBackend: GraphBackend,
    M: TrainableModel<B>,
    M::InnerModule: AlignmentModel<B::InnerBackend>,
{
    let gold: HashMap<u32, u32> = task.gold.iter().copied().collect();
    let pivot_task;
    let task = match plan.visual_pivots {
        None => task,
        Some(count) => {
            let (pairs, report) =
                visual_pivots(eval_inputs, task, &gold, count, plan.eval.block_rows)?;
            (io.progress)(&TrainEvent::Pivots(report));
            pivot_task = AlignmentTask {
                train: pairs,
                ..task.clone()
            };
            &pivot_task
        }
    };
    if task.train.is_empty() {
        return Err(TrainError::NoSeeds);
    }
    let device = inputs.graph.heads.device();
    let mut model = model;
    let fresh_optimizers =
        || RunOptimizers::<M, B>::new(&plan.optimizer, plan.secondary_optimizer.as_ref());
    let mut optimizer = fresh_optimizers();
    let mut state = TrainState {
        epoch: 0,
        rng: SeededRng::new(plan.seed).fork("seed-shuffle"),
        pseudo_seeds: Vec::new(),
        candidates: None,
        history: Vec::new(),
        best: None,
        train_seconds: 0.0,
    };
    if resume
        && let Some(store) = io.checkpoints
        && let Some(resumed) = store.resume::<B, M>(model.clone(), optimizer.clone(), &device)?
    {
        for (dir, reason) in &resumed.skipped {
            (io.progress)(&TrainEvent::CheckpointSkipped {
                path: dir.clone(),
                reason: reason.clone(),
            });
        }
        (model, optimizer, state) = (resumed.model, resumed.optimizer, resumed.state);
    }
    (io.progress)(&TrainEvent::Started {
        first_epoch: state.epoch + 1,
        epochs: plan.epochs,
        batches: plan.chunks(task.train.len() + state.pseudo_seeds.len())
            * model.passes_per_epoch().max(1),
    });
    let mut status = TrainStatus::Completed;
    let mut last_eval = None;
    while state.epoch < plan.epochs {
        if io.cancel.load(Ordering::Relaxed) {
            status = TrainStatus::Cancelled;
            break;
        }
        let epoch = state.epoch + 1;
        let (lr, fresh) = plan.optimizer.learning_rate_at(epoch);
        let started = Instant::now();
        let mut seeds: Vec<(u32, u32)> = task
            .train
            .iter()
            .chain(&state.pseudo_seeds)
            .copied()
            .collect();
        state.rng.shuffle(&mut seeds);
        let per_step = plan.batch_size.unwrap_or(seeds.len()).max(1);
        let passes = model.passes_per_epoch().max(1);
        let batches = plan.chunks(seeds.len()) * passes;
        let mut batch = 0;
        let mut epoch_loss = 0.0f64;
        let mut terms: BTreeMap<String, f64> = BTreeMap::new();
        let mut diagnostics = DiagnosticMeans::default();
        let steps = (0..passes).flat_map(|_| seeds.chunks(per_step));
        for step_pairs in steps {
            if fresh {
                optimizer.primary = plan.optimizer.build::<B, M>();
            }
            let mut step = StepContext {
                epoch,
                seed: plan.seed,
                rng: &mut state.rng,
                left: task.left.clone(),
                right: task.right.clone(),
            };
            let forward = model.forward_train(inputs, &mut step);
            let chunk = plan.chunk_size.unwrap_or(per_step).clamp(1, per_step);
            let mut total: Option<Tensor<B, 1>> = None;
            for pairs in step_pairs.chunks(chunk) {
                let mut chunk_loss = 0.0;
                for term in model.losses(&forward, pairs, &mut step) {
                    let value: f64 = term.value.clone().into_scalar().elem();
                    chunk_loss += value;
                    *terms.entry(term.name.to_string()).or_default() += value;
                    total = Some(match total {
                        None => term.value,
                        Some(t) => t + term.value,
                    });
                }
                epoch_loss += chunk_loss;
                batch += 1;
                (io.progress)(&TrainEvent::Batch {
                    epoch,
                    batch,
                    batches,
                    loss: chunk_loss,
                });
            }
            diagnostics.add(model.diagnostics(&forward));
            if !epoch_loss.is_finite() {
                return Err(TrainError::Diverged {
                    epoch,
                    loss: epoch_loss,
                });
            }
            let Some(total) = total else { continue };
            let mut grads = total.backward();
            drop(forward);
            // The model's second group first (its gradients taken out), then the rest.
            if let (Some(secondary), Some(spec)) =
                (optimizer.secondary.as_mut(), &plan.secondary_optimizer)
            {
                let group = model.secondary_parameters();
                let own = GradientsParams::from_params(&mut grads, &model, &group);
                if !group.is_empty() && model.steps_secondary(epoch) {
                    model = secondary.step(spec.learning_rate_at(epoch).0, model, own);
                }
            }
            let grads = GradientsParams::from_grads(grads, &model);
            model = optimizer.primary.step(lr, model, grads);
        }
        let seconds = started.elapsed().as_secs_f64();
        state.train_seconds += seconds;
        state.epoch = epoch;

        let mut record = EpochRecord {
            epoch,
            loss: epoch_loss,
            loss_terms: terms,
            diagnostics: diagnostics.means(),
            steps: plan.steps(seeds.len()) * passes,
            seconds,
            learning_rate: lr,
            fresh_optimizer: fresh,
            test: None,
            valid: None,
            eval_seconds: None,
            pseudo_seeds: None,
        };
        let evaluate_now = epoch.is_multiple_of(plan.eval_every.max(1)) || epoch == plan.epochs;
        let iterate_now = plan.iterative.is_some_and(|it| it.checks_at(epoch));
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
                    &plan.eval,
                );
                record.test = Some(test.metrics);
                if !task.valid.is_empty() {
                    record.valid = Some(
                        evaluate(
                            &unit,
                            &task.valid,
                            task.left.clone(),
                            task.right.clone(),
                            &plan.eval,
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
            if let Some(it) = plan.iterative.filter(|_| iterate_now) {
                record.pseudo_seeds = Some(iterate(
                    &unit,
                    task,
                    &mut state,
                    &gold,
                    it,
                    epoch,
                    plan.eval.block_rows,
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
                &plan.eval,
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
    let window_ends = it.window_ends_at(epoch);
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
