//! RREA's knobs, with the authors' defaults.

use serde::{Deserialize, Serialize};

use crate::settings::CommonSettings;
use crate::train::{OptimizerKind, OptimizerSpec, TrainPlan};

/// RREA's hyper-parameters. Stored with every run (inside its settings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RreaConfig {
    /// Width of the entity and relation embeddings (100).
    pub dim: usize,
    /// Reflection layers (2).
    pub depth: usize,
    /// Dropout on the output during training (0.3).
    pub dropout: f64,
    /// Margin γ of the ranking loss (3).
    pub margin: f64,
    /// RMSprop learning rate (0.005).
    pub learning_rate: f64,
    /// RMSprop smoothing ρ (0.9, Keras' default).
    pub rho: f64,
    /// RMSprop epsilon (1e-7, Keras' default).
    pub epsilon: f64,
}

impl Default for RreaConfig {
    fn default() -> Self {
        Self {
            dim: 100,
            depth: 2,
            dropout: 0.3,
            margin: 3.0,
            learning_rate: 0.005,
            rho: 0.9,
            epsilon: 1e-7,
        }
    }
}

/// The authors' schedule: 1,200 full-batch steps, evaluated every 300; semi-supervised
/// turns of 1,200 epochs when iterative learning is on.
pub fn paper_schedule() -> CommonSettings {
    CommonSettings {
        epochs: 1200,
        eval_every: 300,
        iterative_start: 1200,
        iterative_every: 1200,
        iterative_window: 1200,
        ..CommonSettings::default()
    }
}

impl RreaConfig {
    /// The trainer's plan: one RMSprop step per epoch over all seed pairs.
    pub fn plan(&self, common: &CommonSettings) -> TrainPlan {
        common.plan(
            None,
            None,
            OptimizerSpec {
                kind: OptimizerKind::RmsProp {
                    alpha: self.rho,
                    epsilon: self.epsilon,
                },
                learning_rate: self.learning_rate,
                restart: None,
                warmup_cosine: None,
            },
        )
    }

    /// Width of the final embedding: `2 · (depth + 1) · dim`.
    pub fn output_dim(&self) -> usize {
        2 * (self.depth + 1) * self.dim
    }
}
