//! The MEAformer network (see the module docs of [`crate::meaformer`]).

use crate::backend::GraphBackend;
use burn::module::{Module, Param};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Int, Tensor};

use super::config::MeaformerConfig;
use crate::global_fusion::{FeatureEncoders, weighted_explanation, weighted_joint};
use crate::graph::{chunk_entities, int_tensor};
use crate::inputs::ModalityKind;
use crate::loss::{intra_modal_contrastive_loss, uncertainty_weighted};
use crate::model::{
    AlignmentModel, DataShape, Explanation, LossTerm, ModelInputs, StepContext, TrainableModel,
};
use crate::mpsea::fusion::{PreSynergyFusion, TokenRole};
use crate::mpsea::gat::EntityGat;
use crate::ops::param_from;
use crate::rng::SeededRng;

/// The MEAformer model.
#[derive(Module, Debug)]
pub struct Meaformer<B: Backend> {
    structure: Option<EntityGat<B>>,
    /// One affine layer per feature modality in use.
    features: FeatureEncoders<B>,
    /// The meta-modality hybrid: one transformer layer over each entity's tokens.
    hybrid: PreSynergyFusion<B>,
    /// Learned log-variance of each modality's contrastive terms (`1 x M`, from 0),
    /// shared by its encoder-output and hybrid-output terms.
    log_variance: Param<Tensor<B, 2>>,
    #[module(skip)]
    config: MeaformerConfig,
}

impl MeaformerConfig {
    /// Builds the model for data of `shape`, parameters drawn from `seed`.
    pub fn init<B: Backend>(
        &self,
        shape: &DataShape,
        seed: u64,
        device: &B::Device,
    ) -> Meaformer<B> {
        let mut rng = SeededRng::new(seed).fork("meaformer-init");
        let used = self.used();
        let structure = used.contains(&ModalityKind::Structure);
        let (n, d) = (shape.entities, self.dim);
        let structure = structure
            .then(|| EntityGat::new(n, d, [self.gat_layers, self.gat_heads], &mut rng, device));
        let layers: Vec<_> = used
            .iter()
            .filter(|&&k| k != ModalityKind::Structure)
            .map(|&k| (k, shape.width(k), d))
            .collect();
        let features = FeatureEncoders::new(&layers, &mut rng, device);
        let roles = used
            .iter()
            .map(|k| match k {
                ModalityKind::Structure => TokenRole::Graph,
                ModalityKind::Image => TokenRole::Visual,
                _ => TokenRole::Textual,
            })
            .collect();
        let hybrid = PreSynergyFusion::new(d, roles, self.fusion_options(), &mut rng, device);
        let m = used.len();
        Meaformer {
            structure,
            features,
            hybrid,
            log_variance: param_from(vec![0.0; m], [1, m], device),
            config: self.clone(),
        }
    }
}

/// One pass over a set of entities.
pub struct MeaformerPass<B: Backend> {
    /// Each modality's encoder output (not normalised), in token order.
    tokens: Vec<Tensor<B, 2>>,
    /// The hybrid's output token of each modality.
    hybrid: Vec<Tensor<B, 2>>,
    /// Per-entity modality weights (`n x M`).
    weights: Tensor<B, 2>,
}

/// What a training step's losses read: the GAT's output over every entity (it needs the
/// neighbours) and the inputs, encoded and fused per chunk for the chunk's own entities
/// (the hybrid is per entity and every loss term is within the chunk).
pub struct MeaformerForward<B: Backend> {
    structure: Option<Tensor<B, 2>>,
    inputs: ModelInputs<B>,
}

impl<B: Backend> Meaformer<B> {
    fn encode_structure(&self, inputs: &ModelInputs<B>) -> Option<Tensor<B, 2>> {
        self.structure.as_ref().map(|s| s.forward(&inputs.graph))
    }

    /// Encodes and fuses the entities `rows` (every entity when `None`).
    fn pass(
        &self,
        structure: Option<Tensor<B, 2>>,
        inputs: &ModelInputs<B>,
        rows: Option<&Tensor<B, 1, Int>>,
    ) -> MeaformerPass<B>
    where
        B: GraphBackend,
    {
        let tokens = self.features.encode_rows(structure, inputs, rows);
        // The authors' code masks nothing: an entity without an image has its random
        // stand-in, one without relations or attributes the layer's bias.
        let n = tokens[0].dims()[0];
        let present: Vec<Tensor<B, 2>> = tokens
            .iter()
            .map(|t| Tensor::ones([n, 1], &t.device()))
            .collect();
        let fused = self.hybrid.forward(tokens.clone(), &present);
        MeaformerPass {
            tokens,
            hybrid: fused.tokens,
            weights: fused.weights,
        }
    }

    fn pass_all(&self, inputs: &ModelInputs<B>) -> MeaformerPass<B>
    where
        B: GraphBackend,
    {
        self.pass(self.encode_structure(inputs), inputs, None)
    }
}

impl<B: GraphBackend> AlignmentModel<B> for Meaformer<B> {
    fn embed(&self, inputs: &ModelInputs<B>) -> Tensor<B, 2> {
        let pass = self.pass_all(inputs);
        weighted_joint(&pass.tokens, &pass.weights)
    }

    fn explain(&self, inputs: &ModelInputs<B>) -> Explanation<B> {
        let pass = self.pass_all(inputs);
        weighted_explanation(&self.config.used(), pass.tokens, pass.weights)
    }
}

impl<B: AutodiffBackend + GraphBackend> TrainableModel<B> for Meaformer<B> {
    type Forward = MeaformerForward<B>;

    fn forward_train(
        &self,
        inputs: &ModelInputs<B>,
        _: &mut StepContext<'_>,
    ) -> MeaformerForward<B> {
        MeaformerForward {
            structure: self.encode_structure(inputs),
            inputs: inputs.clone(),
        }
    }

    fn losses(
        &self,
        forward: &MeaformerForward<B>,
        pairs: &[(u32, u32)],
        _: &mut StepContext<'_>,
    ) -> Vec<LossTerm<B>> {
        let device = forward.inputs.graph.heads.device();
        let (entities, local) = chunk_entities(pairs);
        let rows = int_tensor::<B>(entities.into_iter(), &device);
        let pass = self.pass(forward.structure.clone(), &forward.inputs, Some(&rows));
        let left = int_tensor::<B>(local.iter().map(|p| p.0), &device);
        let right = int_tensor::<B>(local.iter().map(|p| p.1), &device);
        let tau = self.config.temperature;
        let contrastive =
            |x: &Tensor<B, 2>| intra_modal_contrastive_loss(x, left.clone(), right.clone(), tau);
        let weighted = |xs: &[Tensor<B, 2>]| {
            xs.iter()
                .enumerate()
                .map(|(m, x)| {
                    uncertainty_weighted(contrastive(x), self.log_variance.val().narrow(1, m, 1))
                })
                .reduce(|a, b| a + b)
                .expect("MEAformer has at least one modality")
        };
        vec![
            LossTerm {
                name: "joint",
                value: contrastive(&weighted_joint(&pass.tokens, &pass.weights)),
            },
            LossTerm {
                name: "modal_in",
                value: weighted(&pass.tokens),
            },
            LossTerm {
                name: "modal_out",
                value: weighted(&pass.hybrid),
            },
        ]
    }
}
