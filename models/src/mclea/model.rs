//! The MCLEA network (see the module docs of [`crate::mclea`]).

use crate::backend::GraphBackend;
use burn::module::{Module, Param};
use burn::tensor::Tensor;
use burn::tensor::backend::{AutodiffBackend, Backend};

use super::config::McleaConfig;
use crate::global_fusion::{FeatureEncoders, GlobalWeights, WeightedForward};
use crate::graph::pair_indices;
use crate::inputs::ModalityKind;
use crate::loss::{inter_modal_alignment_loss, intra_modal_contrastive_loss, uncertainty_weighted};
use crate::model::{
    AlignmentModel, DataShape, Explanation, LossTerm, ModelInputs, StepContext, TrainableModel,
};
use crate::mpsea::gat::EntityGat;
use crate::ops::param_from;
use crate::rng::SeededRng;

/// The MCLEA model.
#[derive(Module, Debug)]
pub struct Mclea<B: Backend> {
    structure: Option<EntityGat<B>>,
    /// One affine layer per feature modality in use.
    features: FeatureEncoders<B>,
    weights: GlobalWeights<B>,
    /// Learned log-variances of each modality's contrastive term (`1 x M`, from 0).
    contrastive_log_variance: Param<Tensor<B, 2>>,
    /// Learned log-variances of each modality's alignment term (`1 x M`, from 0), when
    /// the alignment loss is on.
    alignment_log_variance: Option<Param<Tensor<B, 2>>>,
    #[module(skip)]
    config: McleaConfig,
}

impl McleaConfig {
    /// Builds the model for data of `shape`, parameters drawn from `seed`.
    pub fn init<B: Backend>(&self, shape: &DataShape, seed: u64, device: &B::Device) -> Mclea<B> {
        let mut rng = SeededRng::new(seed).fork("mclea-init");
        let used = self.used();
        let structure = used.contains(&ModalityKind::Structure);
        let (n, d) = (shape.entities, self.structure_dim);
        let structure = structure
            .then(|| EntityGat::new(n, d, [self.gat_layers, self.gat_heads], &mut rng, device));
        let layers: Vec<_> = used
            .iter()
            .filter(|&&k| k != ModalityKind::Structure)
            .map(|&k| (k, shape.width(k), self.modality_dim))
            .collect();
        let m = used.len();
        Mclea {
            structure,
            features: FeatureEncoders::new(&layers, &mut rng, device),
            weights: GlobalWeights::new(m, device),
            contrastive_log_variance: param_from(vec![0.0; m], [1, m], device),
            alignment_log_variance: (self.alignment_weight > 0.0)
                .then(|| param_from(vec![0.0; m], [1, m], device)),
            config: self.clone(),
        }
    }
}

impl<B: Backend> Mclea<B> {
    /// Each modality's embedding (not normalised), in joint-embedding order (structure,
    /// if used, first).
    fn modalities(&self, inputs: &ModelInputs<B>) -> Vec<Tensor<B, 2>>
    where
        B: GraphBackend,
    {
        let structure = self.structure.as_ref().map(|s| s.forward(&inputs.graph));
        self.features.encode_after(structure, inputs)
    }
}

impl<B: GraphBackend> AlignmentModel<B> for Mclea<B> {
    fn embed(&self, inputs: &ModelInputs<B>) -> Tensor<B, 2> {
        self.weights.joint(&self.modalities(inputs))
    }

    fn explain(&self, inputs: &ModelInputs<B>) -> Explanation<B> {
        self.weights
            .explain(&self.config.used(), self.modalities(inputs))
    }
}

/// What the authors' code multiplies each KL by inside the alignment loss, before its
/// uncertainty weighting and the outer `alignment_weight`.
const KL_ZOOM: f64 = 0.1;

impl<B: AutodiffBackend + GraphBackend> TrainableModel<B> for Mclea<B> {
    type Forward = WeightedForward<B>;

    fn forward_train(
        &self,
        inputs: &ModelInputs<B>,
        _: &mut StepContext<'_>,
    ) -> WeightedForward<B> {
        let modalities = self.modalities(inputs);
        let joint = self.weights.joint(&modalities);
        WeightedForward { modalities, joint }
    }

    fn losses(
        &self,
        forward: &WeightedForward<B>,
        pairs: &[(u32, u32)],
        _: &mut StepContext<'_>,
    ) -> Vec<LossTerm<B>> {
        let device = forward.joint.device();
        let (left, right) = pair_indices::<B>(pairs, &device);
        let c = &self.config;
        let contrastive = |x: &Tensor<B, 2>| {
            intra_modal_contrastive_loss(x, left.clone(), right.clone(), c.temperature)
        };
        let (mut modal, mut alignment) = (Vec::new(), Vec::new());
        for (m, x) in forward.modalities.iter().enumerate() {
            modal.push(uncertainty_weighted(
                contrastive(x),
                self.contrastive_log_variance.val().narrow(1, m, 1),
            ));
            if let Some(log_variance) = &self.alignment_log_variance {
                let kl = inter_modal_alignment_loss(
                    x,
                    &forward.joint,
                    left.clone(),
                    right.clone(),
                    c.alignment_temperature,
                );
                alignment.push(uncertainty_weighted(
                    kl.mul_scalar(KL_ZOOM),
                    log_variance.val().narrow(1, m, 1),
                ));
            }
        }
        let sum = |terms: Vec<Tensor<B, 1>>| {
            terms
                .into_iter()
                .reduce(|a, b| a + b)
                .expect("MCLEA has at least one modality")
        };
        let mut terms = vec![
            LossTerm {
                name: "joint_icl",
                value: contrastive(&forward.joint),
            },
            LossTerm {
                name: "modal_icl",
                value: sum(modal),
            },
        ];
        if !alignment.is_empty() {
            terms.push(LossTerm {
                name: "ial",
                value: sum(alignment).mul_scalar(c.alignment_weight),
            });
        }
        terms
    }
}
