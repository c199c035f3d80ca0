//! The graph layers of both streams: relational reflection attention (RREA, Mao et al.
//! 2020) as the authors' code uses it, and plain GAT for the ablation.
//!
//! Reflection layer, for each directed pair `e = (i, j)` with unit relation vector `u_e`:
//! the neighbour is reflected, `h_j - 2 (h_j . u_e) u_e` (an orthogonal map, so norms are
//! kept); the attention logit is `u_e . a` with `a` the layer's vector; a softmax runs
//! over each head's pairs; the new `h_i` is `tanh` of the weighted sum. There is no
//! weight matrix.
//!
//! GAT layer (Veličković et al. 2018, the ablation): `g = h W` with a `d x d` weight
//! matrix, logits `LeakyReLU(g_i . a + g_j . b, 0.2)`, a softmax over each head's pairs,
//! and the new `h_i` is `tanh` of the weighted sum of the `g_j`.

use burn::module::{Module, Param};
use burn::tensor::{Tensor, activation, backend::Backend};

use crate::backend::GraphBackend;
use crate::graph::GraphTensors;
use crate::ops::{param_from, scatter_rows, segment_softmax, xavier_uniform};
use crate::rng::SeededRng;

use super::config::GraphLayerKind;

/// One graph layer.
#[derive(Module, Debug)]
pub struct GraphLayer<B: Backend> {
    /// Reflection: the per-layer attention vector over relation vectors (`d x 1`).
    /// GAT: the attention vector over the head entity.
    attention: Param<Tensor<B, 2>>,
    /// GAT only: the attention vector over the neighbour (`d x 1`).
    neighbour_attention: Option<Param<Tensor<B, 2>>>,
    /// GAT only: the weight matrix `W` (`d x d`).
    weight: Option<Param<Tensor<B, 2>>>,
}

impl<B: Backend> GraphLayer<B> {
    /// A layer of `kind` over `dim`-wide embeddings.
    pub fn new(kind: GraphLayerKind, dim: usize, rng: &mut SeededRng, device: &B::Device) -> Self {
        let attention = param_from(xavier_uniform(rng, dim, 1, dim), [dim, 1], device);
        let (neighbour_attention, weight) = match kind {
            GraphLayerKind::Reflection => (None, None),
            GraphLayerKind::Gat => (
                Some(param_from(
                    xavier_uniform(rng, dim, 1, dim),
                    [dim, 1],
                    device,
                )),
                Some(param_from(
                    xavier_uniform(rng, dim, dim, dim * dim),
                    [dim, dim],
                    device,
                )),
            ),
        };
        Self {
            attention,
            neighbour_attention,
            weight,
        }
    }

    /// One propagation step; `relations` is the `2R x d` relation table (reflection
    /// layers only).
    pub fn forward(
        &self,
        h: Tensor<B, 2>,
        relations: Option<Tensor<B, 2>>,
        graph: &GraphTensors<B>,
    ) -> Tensor<B, 2>
    where
        B: GraphBackend,
    {
        match &self.neighbour_attention {
            None => {
                let relations =
                    relations.expect("reflection layers are built with a relation table");
                B::reflection_layer(h, relations, self.attention.val(), graph).tanh()
            }
            Some(neighbour_attention) => {
                let h = match &self.weight {
                    Some(weight) => B::matrix_product(h, weight.val()),
                    None => h,
                };
                let neighbours = h.clone().select(0, graph.tails.clone());
                let own = B::matrix_product(h, self.attention.val()).select(0, graph.heads.clone());
                let other = B::matrix_product(neighbours.clone(), neighbour_attention.val());
                let weights = segment_softmax(
                    activation::leaky_relu(own + other, 0.2),
                    graph.heads.clone(),
                    graph.entity_count,
                );
                scatter_rows(
                    graph.entity_count,
                    graph.heads.clone(),
                    neighbours * weights,
                )
                .tanh()
            }
        }
    }
}

/// Householder reflection of each row of `x` by the matching unit row of `u`.
pub fn reflect<B: Backend>(x: Tensor<B, 2>, u: Tensor<B, 2>) -> Tensor<B, 2> {
    let along = (x.clone() * u.clone()).sum_dim(1);
    x - u * along.mul_scalar(2.0)
}

/// Each pair's relation vector: the L2-normalised sum of its relation columns'
/// embeddings (the authors average, which normalisation makes the same).
pub fn pair_relation_vectors<B: Backend>(
    relation_embeddings: Tensor<B, 2>,
    graph: &GraphTensors<B>,
) -> Tensor<B, 2> {
    let per_column = relation_embeddings.select(0, graph.columns.clone());
    crate::ops::l2_normalize(scatter_rows(
        graph.pair_count,
        graph.column_pairs.clone(),
        per_column,
    ))
}

/// The structure stream's input: each entity's embedding averaged with its neighbours'.
pub fn neighbour_mean<B: GraphBackend>(x: Tensor<B, 2>, graph: &GraphTensors<B>) -> Tensor<B, 2> {
    graph.mean.matmul(x)
}

#[cfg(test)]
mod tests {
    use burn::backend::NdArray;

    use super::*;

    #[test]
    fn the_gat_layer_has_its_weight_matrix_and_reflection_none() {
        let device = Default::default();
        let layer = |kind| GraphLayer::<NdArray>::new(kind, 8, &mut SeededRng::new(1), &device);
        // W (8 x 8) and the two attention vectors.
        assert_eq!(layer(GraphLayerKind::Gat).num_params(), 8 * 8 + 2 * 8);
        // The attention vector only.
        assert_eq!(layer(GraphLayerKind::Reflection).num_params(), 8);
    }
}
