//! The optimisers models train with, chosen by their config: AdamW (LoginMEA), RMSprop
//! (RREA) and plain gradient descent (GCN-Align), behind one type the trainer and the
//! checkpoints handle alike.

use burn::module::AutodiffModule;
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::{
    AdamW, AdamWConfig, GradientsParams, MultiGradientsParams, Optimizer, RmsProp, RmsPropConfig,
    Sgd, SgdConfig,
};
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};

/// Which optimiser, with its own constants.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum OptimizerKind {
    /// AdamW (decoupled weight decay), β = (0.9, 0.999).
    AdamW {
        /// Decoupled weight decay.
        weight_decay: f64,
        /// Denominator guard.
        epsilon: f64,
    },
    /// RMSprop without momentum: `v = α v + (1 - α) g²`, `p -= lr g / (√v + ε)`.
    RmsProp {
        /// Smoothing constant (Keras' ρ).
        alpha: f64,
        /// Denominator guard.
        epsilon: f64,
    },
    /// Plain gradient descent, `p -= lr g`.
    Sgd,
}

/// From an epoch on, a fresh optimiser with another learning rate every epoch (its
/// moments reset each step), as the authors' LoginMEA code does from epoch 50.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OptimizerRestart {
    /// Epochs after this one (1-based) use a fresh optimiser.
    pub after_epoch: usize,
    /// Its learning rate.
    pub learning_rate: f64,
}

/// An optimiser and its schedule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OptimizerSpec {
    /// The optimiser.
    pub kind: OptimizerKind,
    /// Learning rate.
    pub learning_rate: f64,
    /// LoginMEA's restart, if any.
    pub restart: Option<OptimizerRestart>,
    /// A linear warm-up then a cosine decay of the learning rate, if any.
    #[serde(default)]
    pub warmup_cosine: Option<WarmupCosine>,
}

/// The learning rate rises linearly over the first `warmup_epochs` epochs, then falls
/// along half a cosine to 0 at `epochs` (MEAformer's code, per step; here per epoch).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WarmupCosine {
    /// Epochs of the warm-up.
    pub warmup_epochs: usize,
    /// The epoch the learning rate reaches 0.
    pub epochs: usize,
}

impl WarmupCosine {
    /// The factor on the learning rate in 1-based `epoch`.
    pub fn factor(&self, epoch: usize) -> f64 {
        if epoch <= self.warmup_epochs {
            return epoch as f64 / self.warmup_epochs.max(1) as f64;
        }
        let decay = self.epochs.saturating_sub(self.warmup_epochs).max(1) as f64;
        let done = ((epoch - self.warmup_epochs) as f64 / decay).min(1.0);
        0.5 * (1.0 + (std::f64::consts::PI * done).cos())
    }
}

impl OptimizerSpec {
    /// AdamW at a constant `learning_rate`.
    pub fn adam_w(learning_rate: f64, weight_decay: f64, epsilon: f64) -> Self {
        Self {
            kind: OptimizerKind::AdamW {
                weight_decay,
                epsilon,
            },
            learning_rate,
            restart: None,
            warmup_cosine: None,
        }
    }

    /// The learning rate of 1-based `epoch` and whether that epoch starts from a fresh
    /// optimiser.
    pub fn learning_rate_at(&self, epoch: usize) -> (f64, bool) {
        let schedule = self.warmup_cosine.map_or(1.0, |w| w.factor(epoch));
        match self.restart {
            Some(r) if epoch > r.after_epoch => (r.learning_rate * schedule, true),
            _ => (self.learning_rate * schedule, false),
        }
    }

    /// A fresh optimiser.
    pub fn build<B: AutodiffBackend, M: AutodiffModule<B>>(&self) -> AnyOptimizer<M, B> {
        match self.kind {
            OptimizerKind::AdamW {
                weight_decay,
                epsilon,
            } => AnyOptimizer::AdamW(
                AdamWConfig::new()
                    .with_weight_decay(weight_decay as f32)
                    .with_epsilon(epsilon as f32)
                    .init(),
            ),
            OptimizerKind::RmsProp { alpha, epsilon } => AnyOptimizer::RmsProp(
                RmsPropConfig::new()
                    .with_alpha(alpha as f32)
                    .with_epsilon(epsilon as f32)
                    .with_momentum(0.0)
                    .init(),
            ),
            OptimizerKind::Sgd => AnyOptimizer::Sgd(SgdConfig::new().init()),
        }
    }
}

/// One of the optimisers of [`OptimizerKind`].
#[derive(Clone)]
pub enum AnyOptimizer<M: AutodiffModule<B>, B: AutodiffBackend> {
    /// AdamW.
    AdamW(OptimizerAdaptor<AdamW, M, B>),
    /// RMSprop.
    RmsProp(OptimizerAdaptor<RmsProp, M, B>),
    /// Gradient descent.
    Sgd(OptimizerAdaptor<Sgd<B::InnerBackend>, M, B>),
}

type Record<O, M, B> = Option<<O as Optimizer<M, B>>::Record>;

impl<M: AutodiffModule<B>, B: AutodiffBackend> Optimizer<M, B> for AnyOptimizer<M, B> {
    /// The state of whichever optimiser this is (the others `None`).
    type Record = (
        Record<OptimizerAdaptor<AdamW, M, B>, M, B>,
        Record<OptimizerAdaptor<RmsProp, M, B>, M, B>,
        Record<OptimizerAdaptor<Sgd<B::InnerBackend>, M, B>, M, B>,
    );

    fn step(&mut self, lr: f64, module: M, grads: GradientsParams) -> M {
        match self {
            Self::AdamW(o) => o.step(lr, module, grads),
            Self::RmsProp(o) => o.step(lr, module, grads),
            Self::Sgd(o) => o.step(lr, module, grads),
        }
    }

    fn step_multi(&mut self, lr: f64, module: M, grads: MultiGradientsParams) -> M {
        match self {
            Self::AdamW(o) => o.step_multi(lr, module, grads),
            Self::RmsProp(o) => o.step_multi(lr, module, grads),
            Self::Sgd(o) => o.step_multi(lr, module, grads),
        }
    }

    fn to_record(&self) -> Self::Record {
        match self {
            Self::AdamW(o) => (Some(o.to_record()), None, None),
            Self::RmsProp(o) => (None, Some(o.to_record()), None),
            Self::Sgd(o) => (None, None, Some(o.to_record())),
        }
    }

    /// Loads the state of the same optimiser; a record of another kind (which a resume
    /// never passes: the run config, optimiser included, must match) leaves it fresh.
    fn load_record(self, record: Self::Record) -> Self {
        match (self, record) {
            (Self::AdamW(o), (Some(r), _, _)) => Self::AdamW(o.load_record(r)),
            (Self::RmsProp(o), (_, Some(r), _)) => Self::RmsProp(o.load_record(r)),
            (Self::Sgd(o), (_, _, Some(r))) => Self::Sgd(o.load_record(r)),
            (fresh, _) => fresh,
        }
    }
}

/// The state record of an [`AnyOptimizer`].
pub type AnyOptimizerRecord<M, B> = <AnyOptimizer<M, B> as Optimizer<M, B>>::Record;

/// The optimisers of one run: the model's main one and, for a model with a second
/// parameter group (a policy network, say: see
/// [`TrainableModel::secondary_parameters`](crate::model::TrainableModel::secondary_parameters)),
/// that group's own, with its own learning rate and state. Checkpoints hold both.
#[derive(Clone)]
pub struct RunOptimizers<M: AutodiffModule<B>, B: AutodiffBackend> {
    /// Steps every parameter outside the second group.
    pub primary: AnyOptimizer<M, B>,
    /// Steps the second group, where the plan has one.
    pub secondary: Option<AnyOptimizer<M, B>>,
}

impl<M: AutodiffModule<B>, B: AutodiffBackend> RunOptimizers<M, B> {
    /// Fresh optimisers of `primary` and, if given, `secondary`.
    pub fn new(primary: &OptimizerSpec, secondary: Option<&OptimizerSpec>) -> Self {
        Self {
            primary: primary.build(),
            secondary: secondary.map(OptimizerSpec::build),
        }
    }

    /// Both states, for a checkpoint.
    pub fn to_record(&self) -> (AnyOptimizerRecord<M, B>, Option<AnyOptimizerRecord<M, B>>) {
        (
            self.primary.to_record(),
            self.secondary.as_ref().map(Optimizer::to_record),
        )
    }

    /// Loads both states (a second state without a second optimiser is ignored: the
    /// run config, which a resume must match, decides whether there is one).
    pub fn load_record(
        self,
        (primary, secondary): (AnyOptimizerRecord<M, B>, Option<AnyOptimizerRecord<M, B>>),
    ) -> Self {
        Self {
            primary: self.primary.load_record(primary),
            secondary: match (self.secondary, secondary) {
                (Some(o), Some(r)) => Some(o.load_record(r)),
                (o, _) => o,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warm_up_rises_linearly_and_the_cosine_falls_to_zero() {
        let w = WarmupCosine {
            warmup_epochs: 4,
            epochs: 14,
        };
        let factors: Vec<f64> = [1, 4, 9, 14, 20].map(|e| w.factor(e)).to_vec();
        assert_eq!(factors[0], 0.25);
        assert_eq!(factors[1], 1.0);
        assert!((factors[2] - 0.5).abs() < 1e-12, "{factors:?}");
        assert!(
            factors[3].abs() < 1e-12 && factors[4].abs() < 1e-12,
            "{factors:?}"
        );
    }
}
