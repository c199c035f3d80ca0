//! Global modality weights and linear modality encoders, as EVA's and MCLEA's code build
//! them: each feature modality (the bags of relations and attributes, image vectors) is
//! one affine layer, and the joint embedding is the concatenation of the unit modality
//! embeddings, each times its softmax weight — one learned weight per modality, the same
//! for every entity. A pair's cosine over the joint embedding is then exactly the
//! weighted sum of its modality cosines, so the explanation's blocks are exact.

use crate::backend::GraphBackend;
use burn::module::{Module, Param};
use burn::tensor::{Int, Tensor, activation, backend::Backend};

use crate::inputs::ModalityKind;
use crate::loginmea::Projection;
use crate::model::{Explanation, ModelInputs, ScoreBlock};
use crate::ops::{l2_normalize, param_from};
use crate::rng::SeededRng;

/// A learned `entities x dim` entity table, normal with std `1/√entities` (EVA's code
/// and those built on it).
pub fn entity_table<B: Backend>(
    entities: usize,
    dim: usize,
    rng: &mut SeededRng,
    device: &B::Device,
) -> Param<Tensor<B, 2>> {
    let std = 1.0 / (entities as f64).sqrt();
    param_from(rng.normal_vec(entities * dim, std), [entities, dim], device)
}

/// One learned logit per modality; the weights are their softmax.
#[derive(Module, Debug)]
pub struct GlobalWeights<B: Backend> {
    logits: Param<Tensor<B, 2>>,
}

impl<B: Backend> GlobalWeights<B> {
    /// `modalities` logits, all 1 (so every weight starts at `1 / modalities`).
    pub fn new(modalities: usize, device: &B::Device) -> Self {
        Self {
            logits: param_from(vec![1.0; modalities], [1, modalities], device),
        }
    }

    /// The weights (`1 x M`, summing to one).
    pub fn weights(&self) -> Tensor<B, 2> {
        activation::softmax(self.logits.val(), 1)
    }

    /// `[w_m · x_m / |x_m|]_m` of the modality embeddings `parts` (in weight order).
    pub fn joint(&self, parts: &[Tensor<B, 2>]) -> Tensor<B, 2> {
        weighted_joint(parts, &self.weights())
    }

    /// The explanation of a joint embedding of `parts`, one block per modality of
    /// `kinds`, with the global weights as every entity's weights.
    pub fn explain(&self, kinds: &[ModalityKind], parts: Vec<Tensor<B, 2>>) -> Explanation<B> {
        let n = parts[0].dims()[0];
        let weights = self.weights().expand([n, kinds.len()]);
        weighted_explanation(kinds, parts, weights)
    }
}

/// `[w_m · x_m / |x_m|]_m` for weights `weights` (`1 x M` or `N x M`).
pub fn weighted_joint<B: Backend>(parts: &[Tensor<B, 2>], weights: &Tensor<B, 2>) -> Tensor<B, 2> {
    let weighted = parts
        .iter()
        .enumerate()
        .map(|(m, x)| l2_normalize(x.clone()) * weights.clone().narrow(1, m, 1))
        .collect();
    Tensor::cat(weighted, 1)
}

/// The explanation of [`weighted_joint`] with per-entity `weights` (`N x M`): one exact
/// block per modality of `kinds`.
pub fn weighted_explanation<B: Backend>(
    kinds: &[ModalityKind],
    parts: Vec<Tensor<B, 2>>,
    weights: Tensor<B, 2>,
) -> Explanation<B> {
    let mut start = 0;
    let blocks = kinds
        .iter()
        .zip(&parts)
        .map(|(&kind, x)| {
            let width = x.dims()[1];
            let block = ScoreBlock::new(kind.as_str(), Some(kind), start, width);
            start += width;
            block
        })
        .collect();
    Explanation {
        joint: weighted_joint(&parts, &weights),
        blocks,
        occluded: Vec::new(),
        modalities: kinds.iter().copied().zip(parts).collect(),
        weights: Some(weights),
        weight_modalities: kinds.to_vec(),
    }
}

/// One affine layer per feature modality (bags, image vectors, text embeddings).
#[derive(Module, Debug)]
pub struct FeatureEncoders<B: Backend> {
    projections: Vec<Projection<B>>,
    #[module(skip)]
    kinds: Vec<ModalityKind>,
}

impl<B: Backend> FeatureEncoders<B> {
    /// A layer per `(modality, input width, output width)`, initialised as PyTorch's
    /// `nn.Linear` (the authors' code).
    pub fn new(
        layers: &[(ModalityKind, usize, usize)],
        rng: &mut SeededRng,
        device: &B::Device,
    ) -> Self {
        Self {
            projections: layers
                .iter()
                .map(|&(_, d_in, d_out)| Projection::new(d_in, d_out, rng, device))
                .collect(),
            kinds: layers.iter().map(|l| l.0).collect(),
        }
    }

    /// Each modality's embedding of every entity: `structure` (if any) first, then the
    /// feature modalities in layer order (a shared input row is projected once and
    /// repeated).
    pub fn encode_after(
        &self,
        structure: Option<Tensor<B, 2>>,
        inputs: &ModelInputs<B>,
    ) -> Vec<Tensor<B, 2>>
    where
        B: GraphBackend,
    {
        self.encode_rows(structure, inputs, None)
    }

    /// [`FeatureEncoders::encode_after`] for the entities `rows` only (every entity when
    /// `None`); `structure` holds every entity's row.
    pub fn encode_rows(
        &self,
        structure: Option<Tensor<B, 2>>,
        inputs: &ModelInputs<B>,
        rows: Option<&Tensor<B, 1, Int>>,
    ) -> Vec<Tensor<B, 2>>
    where
        B: GraphBackend,
    {
        let pick = |x: Tensor<B, 2>| match rows {
            Some(rows) => x.select(0, rows.clone()),
            None => x,
        };
        let n = rows.map_or(inputs.entity_count(), |rows| rows.dims()[0]);
        let features = self
            .kinds
            .iter()
            .zip(&self.projections)
            .map(|(&kind, projection)| {
                let input = inputs
                    .modality(kind)
                    .expect("the run prepares every modality a model asks for");
                if input.shared {
                    let encoded = projection.forward(input.values.clone());
                    let width = encoded.dims()[1];
                    encoded.expand([n, width])
                } else {
                    projection.forward(pick(input.values.clone()))
                }
            });
        structure.map(pick).into_iter().chain(features).collect()
    }
}

/// A training pass of a model with global weights: every modality's embedding and the
/// joint one.
pub struct WeightedForward<B: Backend> {
    /// Each modality's embedding (not normalised), in weight order.
    pub modalities: Vec<Tensor<B, 2>>,
    /// The joint embedding the loss reads.
    pub joint: Tensor<B, 2>,
}
