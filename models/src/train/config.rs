//! The trainer's knobs, with the authors' LoginMEA schedule as defaults.

use serde::{Deserialize, Serialize};

use crate::eval::EvalOptions;

/// From an epoch on, a fresh AdamW with another learning rate every epoch (its moments
/// reset each step), as the authors' LoginMEA code does from epoch 50.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OptimizerRestart {
    /// Epochs after this one (1-based) use a fresh optimizer.
    pub after_epoch: usize,
    /// Its learning rate.
    pub learning_rate: f64,
}

/// Iterative learning: mutual nearest neighbours among entities not yet in a seed pair
/// become pseudo seeds if they stay mutual over a whole window of checks.
///
/// As in the authors' code (`epoch >= il_start and (epoch + 1) % step == 0` over 0-based
/// epochs): checks at the 1-based epochs `start_epoch + check_every`, `+ 2·check_every`, …
/// (55, 60, …, 100 with the defaults), never at `start_epoch` itself.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IterativeConfig {
    /// The epoch after which checks start (the authors' `il_start`); the first check is
    /// `check_every` epochs later.
    pub start_epoch: usize,
    /// Epochs between checks.
    pub check_every: usize,
    /// Window length: candidates that were mutual at every check of the window are added
    /// at its end (first additions at `start_epoch + window`).
    pub window: usize,
}

impl IterativeConfig {
    /// Whether the 1-based `epoch` is a check.
    pub fn checks_at(&self, epoch: usize) -> bool {
        epoch > self.start_epoch
            && (epoch - self.start_epoch).is_multiple_of(self.check_every.max(1))
    }
}

impl Default for IterativeConfig {
    fn default() -> Self {
        Self {
            start_epoch: 50,
            check_every: 5,
            window: 50,
        }
    }
}

/// How to train. Stored with every run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Epochs; each is one forward pass over all entities and one optimiser step.
    pub epochs: usize,
    /// AdamW learning rate (5e-4).
    pub learning_rate: f64,
    /// AdamW decoupled weight decay (0.01).
    pub weight_decay: f64,
    /// AdamW epsilon (1e-8, PyTorch's default the authors use).
    pub epsilon: f64,
    /// The authors' optimiser restart (fresh AdamW at 1e-4 every epoch after 50).
    pub optimizer_restart: Option<OptimizerRestart>,
    /// Seed pairs per loss chunk (3,500); chunk losses are summed into one step.
    pub chunk_size: usize,
    /// Evaluate (and checkpoint) every this many epochs.
    pub eval_every: usize,
    /// Iterative learning, if on.
    pub iterative: Option<IterativeConfig>,
    /// Seed of parameter initialisation and seed shuffling.
    pub seed: u64,
    /// Evaluation options.
    pub eval: EvalOptions,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 600,
            learning_rate: 5e-4,
            weight_decay: 0.01,
            epsilon: 1e-8,
            optimizer_restart: Some(OptimizerRestart {
                after_epoch: 50,
                learning_rate: 1e-4,
            }),
            chunk_size: 3500,
            eval_every: 10,
            iterative: None,
            seed: 42,
            eval: EvalOptions::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_fall_where_the_authors_code_puts_them() {
        let it = IterativeConfig::default();
        let checks: Vec<usize> = (1..=100).filter(|&e| it.checks_at(e)).collect();
        assert_eq!(checks, (55..=100).step_by(5).collect::<Vec<_>>());
    }
}
