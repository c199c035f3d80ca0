//! How a model trains: its schedule, batching, optimiser, iterative-learning strategy and
//! evaluation. Every model's config turns into one [`TrainPlan`]; the trainer reads
//! nothing else.

use serde::{Deserialize, Serialize};

use super::optimizer::OptimizerSpec;
use crate::eval::EvalOptions;

/// LoginMEA's iterative learning: mutual nearest neighbours among entities not yet in a
/// seed pair become pseudo seeds if they stay mutual over a whole window of checks.
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
    /// at its end (first additions at `start_epoch + window`). A window of one check
    /// (`window == check_every`) adds the mutual pairs of every check, as RREA's
    /// semi-supervised turns do.
    pub window: usize,
}

impl IterativeConfig {
    /// Whether the 1-based `epoch` is a check.
    pub fn checks_at(&self, epoch: usize) -> bool {
        epoch > self.start_epoch
            && (epoch - self.start_epoch).is_multiple_of(self.check_every.max(1))
    }

    /// Whether the 1-based `epoch` ends a window.
    pub fn window_ends_at(&self, epoch: usize) -> bool {
        epoch > self.start_epoch && (epoch - self.start_epoch).is_multiple_of(self.window.max(1))
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

/// How to train. Stored with every run (inside its resolved settings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainPlan {
    /// Epochs.
    pub epochs: usize,
    /// Seed pairs per optimiser step (`None`: all of them, one step per epoch).
    pub batch_size: Option<usize>,
    /// Seed pairs per loss evaluation inside a step (`None`: the whole step); the chunk
    /// losses of a step are summed into one gradient.
    pub chunk_size: Option<usize>,
    /// The optimiser.
    pub optimizer: OptimizerSpec,
    /// The optimiser of the model's second parameter group (see
    /// [`TrainableModel::secondary_parameters`](crate::model::TrainableModel::secondary_parameters)),
    /// if it has one; `None`: the main optimiser steps every parameter.
    pub secondary_optimizer: Option<OptimizerSpec>,
    /// Evaluate (and checkpoint) every this many epochs.
    pub eval_every: usize,
    /// Iterative learning, if on.
    pub iterative: Option<IterativeConfig>,
    /// EVA's unsupervised setting: up to this many visual pivots (image-similar pairs,
    /// see [`visual_pivots`](super::pivots::visual_pivots)) replace the split's seed
    /// pairs; `None`: train on the seed pairs.
    #[serde(default)]
    pub visual_pivots: Option<usize>,
    /// Seed of parameter initialisation, shuffling and sampling.
    pub seed: u64,
    /// Evaluation options.
    pub eval: EvalOptions,
}

impl TrainPlan {
    /// Optimiser steps per epoch for `seeds` seed pairs.
    pub fn steps(&self, seeds: usize) -> usize {
        match self.batch_size {
            Some(b) => seeds.div_ceil(b.max(1)).max(1),
            None => 1,
        }
    }

    /// Loss chunks per epoch for `seeds` seed pairs.
    pub fn chunks(&self, seeds: usize) -> usize {
        let per_step = self.batch_size.unwrap_or(seeds).max(1);
        let chunk = self.chunk_size.unwrap_or(per_step).clamp(1, per_step);
        (0..self.steps(seeds))
            .map(|s| {
                let len = per_step.min(seeds.saturating_sub(s * per_step));
                len.div_ceil(chunk).max(1)
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::OptimizerKind;

    #[test]
    fn checks_fall_where_the_authors_code_puts_them() {
        let it = IterativeConfig::default();
        let checks: Vec<usize> = (1..=100).filter(|&e| it.checks_at(e)).collect();
        assert_eq!(checks, (55..=100).step_by(5).collect::<Vec<_>>());
        assert!(it.window_ends_at(100) && !it.window_ends_at(95));
    }

    #[test]
    fn steps_and_chunks_cover_every_seed() {
        let plan = TrainPlan {
            epochs: 1,
            batch_size: Some(1024),
            chunk_size: None,
            optimizer: OptimizerSpec {
                kind: OptimizerKind::Sgd,
                learning_rate: 1.0,
                restart: None,
                warmup_cosine: None,
            },
            secondary_optimizer: None,
            eval_every: 1,
            iterative: None,
            visual_pivots: None,
            seed: 1,
            eval: EvalOptions::default(),
        };
        assert_eq!((plan.steps(4500), plan.chunks(4500)), (5, 5));
        let whole = TrainPlan {
            batch_size: None,
            chunk_size: Some(3500),
            ..plan
        };
        assert_eq!((whole.steps(4500), whole.chunks(4500)), (1, 2));
    }
}
