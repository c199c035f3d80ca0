//! The EVA network (see the module docs of [`crate::eva`]).

use burn::module::{Module, Param};
use burn::tensor::Tensor;
use burn::tensor::backend::{AutodiffBackend, Backend};

use super::config::EvaConfig;
use super::gcn::{Gcn, count_adjacency};
use crate::backend::GraphBackend;
use crate::global_fusion::{FeatureEncoders, GlobalWeights, WeightedForward, entity_table};
use crate::graph::{AlignmentGraph, pair_indices};
use crate::inputs::ModalityKind;
use crate::loss::nca_loss;
use crate::model::{
    AlignmentModel, DataShape, Explanation, LossTerm, ModelInputs, StepContext, TrainableModel,
};
use crate::rng::SeededRng;

/// The EVA model.
#[derive(Module, Debug)]
pub struct Eva<B: Backend> {
    entities: Option<Param<Tensor<B, 2>>>,
    gcn: Option<Gcn<B>>,
    /// One affine layer per feature modality in use (relation, attribute, image).
    features: FeatureEncoders<B>,
    weights: GlobalWeights<B>,
    #[module(skip)]
    config: EvaConfig,
}

impl EvaConfig {
    /// Builds the model for `graph` and data of `shape`, parameters drawn from `seed`.
    pub fn init<B: Backend>(
        &self,
        graph: &AlignmentGraph,
        shape: &DataShape,
        seed: u64,
        device: &B::Device,
    ) -> Eva<B> {
        let mut rng = SeededRng::new(seed).fork("eva-init");
        let used = self.used();
        let structure = used.contains(&ModalityKind::Structure);
        let n = shape.entities;
        let entities = structure.then(|| entity_table(n, self.structure_hidden, &mut rng, device));
        let gcn = structure.then(|| {
            let widths = [
                self.structure_hidden,
                self.structure_hidden,
                self.structure_dim,
            ];
            Gcn::new(count_adjacency(graph), widths, &mut rng, device)
        });
        let layers: Vec<_> = used
            .iter()
            .filter(|&&k| k != ModalityKind::Structure)
            .map(|&k| (k, shape.width(k), self.width(k)))
            .collect();
        let features = FeatureEncoders::new(&layers, &mut rng, device);
        Eva {
            entities,
            gcn,
            features,
            weights: GlobalWeights::new(used.len(), device),
            config: self.clone(),
        }
    }
}

impl<B: GraphBackend> Eva<B> {
    /// Each modality's embedding (not normalised), in joint-embedding order (structure,
    /// if used, first).
    fn modalities(&self, inputs: &ModelInputs<B>) -> Vec<Tensor<B, 2>> {
        let structure = self
            .entities
            .as_ref()
            .zip(self.gcn.as_ref())
            .map(|(table, gcn)| gcn.forward(table.val()));
        self.features.encode_after(structure, inputs)
    }
}

impl<B: GraphBackend> AlignmentModel<B> for Eva<B> {
    fn embed(&self, inputs: &ModelInputs<B>) -> Tensor<B, 2> {
        self.weights.joint(&self.modalities(inputs))
    }

    fn explain(&self, inputs: &ModelInputs<B>) -> Explanation<B> {
        self.weights
            .explain(&self.config.used(), self.modalities(inputs))
    }
}

impl<B: AutodiffBackend + GraphBackend> TrainableModel<B> for Eva<B> {
    type Forward = WeightedForward<B>;

    fn forward_train(
        &self,
        inputs: &ModelInputs<B>,
        _: &mut StepContext<'_>,
    ) -> WeightedForward<B> {
        let modalities = self.modalities(inputs);
        let joint = if self.config.detach_joint {
            let detached: Vec<Tensor<B, 2>> =
                modalities.iter().map(|x| x.clone().detach()).collect();
            self.weights.joint(&detached)
        } else {
            self.weights.joint(&modalities)
        };
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
        let nca = |x: &Tensor<B, 2>, alpha: f64| {
            nca_loss(x, left.clone(), right.clone(), alpha, c.beta, 0.0)
        };
        let mut terms = vec![LossTerm {
            name: "joint_nca",
            value: nca(&forward.joint, c.alpha),
        }];
        for (kind, x) in c.used().into_iter().zip(&forward.modalities) {
            let (name, alpha) = match kind {
                ModalityKind::Structure => ("structure_nca", c.structure_alpha),
                ModalityKind::Relation => ("relation_nca", c.alpha),
                ModalityKind::Attribute => ("attribute_nca", c.alpha),
                _ => ("image_nca", c.alpha),
            };
            terms.push(LossTerm {
                name,
                value: nca(x, alpha),
            });
        }
        terms
    }
}
