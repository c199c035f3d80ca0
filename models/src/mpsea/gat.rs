//! MPSEA's structure encoder (§3.3.1): a two-layer graph attention network with two
//! heads, each head with its own full linear map (the paper's "multi-weighted GAT");
//! the ablation "repl. GAT" gives each head a diagonal map instead, as the GAT of the
//! MCLEA and MEAformer code (`diag=True`).
//!
//! Per layer and head `h`: `g = x W_h`, logits `LeakyReLU(g_i · a_h + g_j · b_h, 0.2)`
//! over each entity's neighbours and itself (a self-loop is added), a softmax per
//! entity, and the weighted sum of the `g_j`; the heads are averaged. ELU between the
//! layers. Choices where the paper is silent: heads averaged (not concatenated), so every
//! layer keeps the model width; ELU as in GAT.

use burn::module::{Module, Param};
use burn::tensor::{Int, Tensor, activation, backend::Backend};

use crate::graph::GraphTensors;
use crate::ops::{param_from, scatter_rows, segment_softmax, xavier_uniform};
use crate::rng::SeededRng;

/// One head of a layer.
#[derive(Module, Debug)]
pub struct GatHead<B: Backend> {
    /// `d x d` (multi-weighted) or `1 x d` (diagonal).
    weight: Param<Tensor<B, 2>>,
    own: Param<Tensor<B, 2>>,
    neighbour: Param<Tensor<B, 2>>,
}

impl<B: Backend> GatHead<B> {
    fn new(dim: usize, diagonal: bool, rng: &mut SeededRng, device: &B::Device) -> Self {
        let weight = if diagonal {
            param_from(vec![1.0; dim], [1, dim], device)
        } else {
            param_from(xavier_uniform(rng, dim, dim, dim * dim), [dim, dim], device)
        };
        let vector =
            |rng: &mut SeededRng| param_from(xavier_uniform(rng, dim, 1, dim), [dim, 1], device);
        Self {
            weight,
            own: vector(rng),
            neighbour: vector(rng),
        }
    }

    fn transform(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        if self.weight.dims()[0] == 1 {
            x * self.weight.val()
        } else {
            x.matmul(self.weight.val())
        }
    }
}

/// The edges a layer attends over: every directed pair plus a self-loop per entity.
pub struct AttentionEdges<B: Backend> {
    heads: Tensor<B, 1, Int>,
    tails: Tensor<B, 1, Int>,
    entities: usize,
}

impl<B: Backend> AttentionEdges<B> {
    /// The graph's pairs with self-loops.
    pub fn of(graph: &GraphTensors<B>) -> Self {
        let n = graph.entity_count;
        let device = graph.heads.device();
        let loops = Tensor::<B, 1, Int>::arange(0..n as i64, &device);
        Self {
            heads: Tensor::cat(vec![graph.heads.clone(), loops.clone()], 0),
            tails: Tensor::cat(vec![graph.tails.clone(), loops], 0),
            entities: n,
        }
    }
}

/// A two-head graph attention network.
#[derive(Module, Debug)]
pub struct Gat<B: Backend> {
    /// Per layer, its heads.
    layers: Vec<Vec<GatHead<B>>>,
}

impl<B: Backend> Gat<B> {
    /// `layers` layers of `heads` heads over `dim`-wide embeddings; `diagonal` for the
    /// plain GAT of the ablation.
    pub fn new(
        layers: usize,
        heads: usize,
        dim: usize,
        diagonal: bool,
        rng: &mut SeededRng,
        device: &B::Device,
    ) -> Self {
        Self {
            layers: (0..layers)
                .map(|_| {
                    (0..heads)
                        .map(|_| GatHead::new(dim, diagonal, rng, device))
                        .collect()
                })
                .collect(),
        }
    }

    /// The attention of one head over `edges` (`E x 1`, a softmax per head entity).
    fn attention(head: &GatHead<B>, g: &Tensor<B, 2>, edges: &AttentionEdges<B>) -> Tensor<B, 2> {
        let own = g
            .clone()
            .matmul(head.own.val())
            .select(0, edges.heads.clone());
        let other = g
            .clone()
            .matmul(head.neighbour.val())
            .select(0, edges.tails.clone());
        segment_softmax(
            activation::leaky_relu(own + other, 0.2),
            edges.heads.clone(),
            edges.entities,
        )
    }

    /// One layer.
    fn layer(heads: &[GatHead<B>], x: Tensor<B, 2>, edges: &AttentionEdges<B>) -> Tensor<B, 2> {
        let count = heads.len() as f64;
        heads
            .iter()
            .map(|head| {
                let g = head.transform(x.clone());
                let alpha = Self::attention(head, &g, edges);
                let messages = g.select(0, edges.tails.clone()) * alpha;
                scatter_rows(edges.entities, edges.heads.clone(), messages)
            })
            .reduce(|a, b| a + b)
            .expect("a layer has a head")
            .div_scalar(count)
    }

    /// The structure embeddings of `x` (`N x d`).
    pub fn forward(&self, x: Tensor<B, 2>, edges: &AttentionEdges<B>) -> Tensor<B, 2> {
        let last = self.layers.len().saturating_sub(1);
        let mut h = x;
        for (i, heads) in self.layers.iter().enumerate() {
            h = Self::layer(heads, h, edges);
            if i < last {
                h = activation::elu(h, 1.0);
            }
        }
        h
    }

    /// The attention of `layer`'s `head` over `edges` for input `x` (for tests and the
    /// inspector): `E x 1`.
    pub fn head_attention(
        &self,
        layer: usize,
        head: usize,
        x: Tensor<B, 2>,
        edges: &AttentionEdges<B>,
    ) -> Tensor<B, 2> {
        let mut h = x;
        for (i, heads) in self.layers.iter().enumerate().take(layer) {
            h = Self::layer(heads, h, edges);
            if i + 1 < self.layers.len() {
                h = activation::elu(h, 1.0);
            }
        }
        let head = &self.layers[layer][head];
        Self::attention(head, &head.transform(h), edges)
    }
}

/// A learned entity table through a plain GAT (a diagonal map per head): the structure
/// encoder of MCLEA's and MEAformer's code.
#[derive(Module, Debug)]
pub struct EntityGat<B: Backend> {
    table: Param<Tensor<B, 2>>,
    gat: Gat<B>,
}

impl<B: Backend> EntityGat<B> {
    /// A `entities x dim` table (normal, std `1/√entities`) and a GAT of `layers` layers
    /// of `heads` heads.
    pub fn new(
        entities: usize,
        dim: usize,
        [layers, heads]: [usize; 2],
        rng: &mut SeededRng,
        device: &B::Device,
    ) -> Self {
        let table = crate::global_fusion::entity_table(entities, dim, rng, device);
        Self {
            table,
            gat: Gat::new(layers, heads, dim, true, rng, device),
        }
    }

    /// Every entity's structure embedding over `graph`.
    pub fn forward(&self, graph: &GraphTensors<B>) -> Tensor<B, 2> {
        self.gat
            .forward(self.table.val(), &AttentionEdges::of(graph))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use burn::backend::{Autodiff, NdArray};

    use super::*;
    use crate::graph::AlignmentGraph;

    /// A star 0-1, 0-2, 0-3 and a lone entity 4, both directions.
    fn star<Bk: Backend>() -> GraphTensors<Bk> {
        let mut columns = BTreeMap::new();
        for t in 1..4u32 {
            columns.insert((0, t), vec![0]);
            columns.insert((t, 0), vec![1]);
        }
        AlignmentGraph::from_pair_columns(5, 1, columns).to_device(&Default::default())
    }

    fn features<Bk: Backend>() -> Tensor<Bk, 2> {
        let mut rng = SeededRng::new(9);
        Tensor::from_data(
            burn::tensor::TensorData::new(rng.normal_vec(5 * 6, 1.0), [5, 6]),
            &Default::default(),
        )
    }

    #[test]
    fn attention_is_a_distribution_over_each_entity_with_itself_and_the_lone_one_keeps_its_own() {
        let graph = star::<NdArray>();
        let edges = AttentionEdges::of(&graph);
        let gat = Gat::<NdArray>::new(2, 2, 6, false, &mut SeededRng::new(1), &Default::default());
        for (layer, head) in [(0, 0), (0, 1), (1, 1)] {
            let alpha = gat.head_attention(layer, head, features(), &edges);
            let sums = scatter_rows(5, edges.heads.clone(), alpha);
            let (_, _, v) = crate::ops::to_host(sums);
            for s in v {
                assert!((s - 1.0).abs() < 1e-5, "layer {layer} head {head}: {s}");
            }
        }
        // Entity 4 has only its self-loop: layer 1 gives the mean of its heads' maps.
        let out = gat.forward(features(), &edges);
        assert_eq!(out.dims(), [5, 6]);
    }

    #[test]
    fn the_multi_weighted_heads_have_full_maps_and_the_plain_ablation_diagonal_ones() {
        let device = Default::default();
        let full = Gat::<NdArray>::new(2, 2, 6, false, &mut SeededRng::new(1), &device);
        let plain = Gat::<NdArray>::new(2, 2, 6, true, &mut SeededRng::new(1), &device);
        // Per head: W plus two attention vectors.
        assert_eq!(full.num_params(), 2 * 2 * (36 + 12));
        assert_eq!(plain.num_params(), 2 * 2 * (6 + 12));
    }

    #[test]
    fn every_head_of_every_layer_gets_a_gradient() {
        type T = Autodiff<NdArray>;
        let graph = star::<T>();
        let edges = AttentionEdges::of(&graph);
        for diagonal in [false, true] {
            let gat = Gat::<T>::new(
                2,
                2,
                6,
                diagonal,
                &mut SeededRng::new(4),
                &Default::default(),
            );
            let x = features::<T>().require_grad();
            let grads = gat.forward(x, &edges).powi_scalar(2).sum().backward();
            let norms = crate::run::parameter_gradient_norms(&gat, &grads);
            assert_eq!(norms.len(), 12);
            assert!(norms.iter().all(|(_, g)| *g > 0.0), "{norms:?}");
        }
    }
}
