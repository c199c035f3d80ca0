//! GCN-Align's knobs, with the authors' defaults.

use serde::{Deserialize, Serialize};

use crate::settings::CommonSettings;
use crate::train::{OptimizerKind, OptimizerSpec, TrainPlan};

/// GCN-Align's hyper-parameters. Stored with every run (inside its settings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcnAlignConfig {
    /// Width of the structure embedding (200 for DBP15K in the authors' code).
    pub structure_dim: usize,
    /// Width of the attribute embedding (100).
    pub attribute_dim: usize,
    /// Use the attribute half where the dataset has attribute triples.
    pub use_attributes: bool,
    /// Attribute keys kept, most frequent first (2,000).
    pub attribute_top_k: usize,
    /// Weight β of the structure half in the ranking (0.9).
    pub beta: f64,
    /// Margin γ of the ranking loss (3).
    pub margin: f64,
    /// Corrupted pairs per seed pair and side (5).
    pub negatives: usize,
    /// Epochs between redrawing the corrupted pairs (10).
    pub resample_every: usize,
    /// Gradient-descent learning rate (20).
    pub learning_rate: f64,
}

impl Default for GcnAlignConfig {
    fn default() -> Self {
        Self {
            structure_dim: 200,
            attribute_dim: 100,
            use_attributes: true,
            attribute_top_k: 2000,
            beta: 0.9,
            margin: 3.0,
            negatives: 5,
            resample_every: 10,
            learning_rate: 20.0,
        }
    }
}

/// The authors' schedule: 2,000 full-batch epochs.
pub fn paper_schedule() -> CommonSettings {
    CommonSettings {
        epochs: 2000,
        eval_every: 100,
        iterative_start: 1000,
        iterative_every: 100,
        iterative_window: 100,
        ..CommonSettings::default()
    }
}

impl GcnAlignConfig {
    /// The trainer's plan: one gradient-descent step per epoch over all seed pairs.
    pub fn plan(&self, common: &CommonSettings) -> TrainPlan {
        common.plan(
            None,
            None,
            OptimizerSpec {
                kind: OptimizerKind::Sgd,
                learning_rate: self.learning_rate,
                restart: None,
                warmup_cosine: None,
            },
        )
    }
}
