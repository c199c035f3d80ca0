//! What the trainer reports while it runs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::PivotReport;
use crate::eval::AlignmentMetrics;

/// Pseudo seeds added by iterative learning at one epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PseudoSeedReport {
    /// Mutual nearest neighbours found at this check.
    pub mutual: usize,
    /// Candidates still standing in the current window.
    pub candidates: usize,
    /// Pairs added as seeds now (0 except at the end of a window).
    pub added: usize,
    /// Of those, pairs that the gold alignment confirms.
    pub added_correct: usize,
    /// Seed pairs after this epoch (given plus pseudo).
    pub seeds: usize,
}

/// One evaluated epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// The epoch's loss: every term of every chunk, summed.
    pub loss: f64,
    /// Each named loss term, summed over the epoch's chunks (one curve each).
    #[serde(default)]
    pub loss_terms: BTreeMap<String, f64>,
    /// The model's diagnostics (see `TrainableModel::diagnostics`), each the mean over
    /// the epoch's steps.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub diagnostics: BTreeMap<String, f64>,
    /// Optimiser steps taken this epoch.
    #[serde(default = "one")]
    pub steps: usize,
    /// Seconds of the training steps (forward, backward, optimiser).
    pub seconds: f64,
    /// The learning rate of this epoch's steps.
    #[serde(default)]
    pub learning_rate: f64,
    /// Whether the step used a freshly made optimiser (the authors' restart).
    #[serde(default)]
    pub fresh_optimizer: bool,
    /// Test metrics, at evaluated epochs.
    pub test: Option<AlignmentMetrics>,
    /// Validation metrics, at evaluated epochs with a validation split.
    pub valid: Option<AlignmentMetrics>,
    /// Seconds the evaluation took.
    pub eval_seconds: Option<f64>,
    /// Iterative learning at this epoch.
    pub pseudo_seeds: Option<PseudoSeedReport>,
}

fn one() -> usize {
    1
}

/// A progress event.
#[allow(clippy::large_enum_variant)] // One event per epoch; boxing buys nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainEvent {
    /// Training starts (or resumes after `first_epoch - 1`).
    Started {
        /// First epoch to run.
        first_epoch: usize,
        /// Last epoch.
        epochs: usize,
        /// Loss chunks per epoch (over all its steps).
        batches: usize,
    },
    /// One loss chunk computed.
    Batch {
        /// Epoch.
        epoch: usize,
        /// 1-based chunk of the epoch.
        batch: usize,
        /// Chunks this epoch.
        batches: usize,
        /// The chunk's loss (all terms).
        loss: f64,
    },
    /// Visual pivots replaced the seed pairs (before the first epoch).
    Pivots(PivotReport),
    /// An epoch finished.
    Epoch(EpochRecord),
    /// A checkpoint was written.
    Checkpoint {
        /// Its epoch.
        epoch: usize,
    },
    /// A resume passed over a damaged checkpoint (and starts from an older one).
    CheckpointSkipped {
        /// Its folder.
        path: std::path::PathBuf,
        /// Why it could not be read.
        reason: String,
    },
}

/// Running means of a model's diagnostics over an epoch's steps.
#[derive(Debug, Default)]
pub(crate) struct DiagnosticMeans {
    sums: BTreeMap<String, (f64, usize)>,
}

impl DiagnosticMeans {
    /// Adds one step's figures.
    pub(crate) fn add(&mut self, step: Vec<(String, f64)>) {
        for (name, value) in step {
            let (sum, count) = self.sums.entry(name).or_default();
            *sum += value;
            *count += 1;
        }
    }

    /// Each figure's mean over the steps that reported it.
    pub(crate) fn means(&self) -> BTreeMap<String, f64> {
        self.sums
            .iter()
            .map(|(name, (sum, count))| (name.clone(), sum / *count as f64))
            .collect()
    }
}
