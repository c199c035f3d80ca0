//! EVA's structure encoder: a two-layer graph convolution over a learned entity table
//! and the relation-blind adjacency of both graphs.

use std::collections::BTreeMap;

use burn::module::{Module, Param};
use burn::tensor::{Tensor, activation, backend::Backend};

use crate::backend::GraphBackend;
use crate::graph::AlignmentGraph;
use crate::ops::param_from;
use crate::rng::SeededRng;
use crate::sparse::SparseMatrix;

/// `D^-½ (A + I) D^-½` with `A[h,t] = A[t,h]` the number of relations linking `h` and
/// `t` in either direction (self-loops of the data left out), `D` the row sums of
/// `A + I`: the authors' code's adjacency.
pub fn count_adjacency(graph: &AlignmentGraph) -> SparseMatrix {
    let relations = graph.relation_count as u32;
    let mut counts: BTreeMap<(u32, u32), f32> = (0..graph.entity_count as u32)
        .map(|i| ((i, i), 1.0))
        .collect();
    for &(pair, column) in &graph.pair_columns {
        let p = pair as usize;
        let (h, t) = (graph.heads[p], graph.tails[p]);
        // Column r < R is the triple (h, r, t) itself; its mirror (t, h) holds R + r.
        if column < relations && h != t {
            *counts.entry((h, t)).or_default() += 1.0;
            *counts.entry((t, h)).or_default() += 1.0;
        }
    }
    let mut degree = vec![0.0f32; graph.entity_count];
    for (&(r, _), &c) in &counts {
        degree[r as usize] += c;
    }
    let scale: Vec<f32> = degree.iter().map(|d| 1.0 / d.sqrt()).collect();
    SparseMatrix::new(
        graph.entity_count,
        graph.entity_count,
        counts
            .into_iter()
            .map(|((r, c), w)| (r, c, w * scale[r as usize] * scale[c as usize]))
            .collect(),
    )
}

/// `Â relu(Â X W₁ + b₁) W₂ + b₂`; no dropout (the authors' default), no activation
/// on the output.
#[derive(Module, Debug)]
pub struct Gcn<B: Backend> {
    first: Param<Tensor<B, 2>>,
    first_bias: Param<Tensor<B, 2>>,
    second: Param<Tensor<B, 2>>,
    second_bias: Param<Tensor<B, 2>>,
    #[module(skip)]
    adjacency: SparseMatrix,
}

impl<B: Backend> Gcn<B> {
    /// `input -> hidden -> output` over `adjacency`; weights and biases uniform in
    /// `±1/√(output width)` of their layer, as the authors' code.
    pub fn new(
        adjacency: SparseMatrix,
        [input, hidden, output]: [usize; 3],
        rng: &mut SeededRng,
        device: &B::Device,
    ) -> Self {
        let mut uniform = |rows: usize, cols: usize| {
            let bound = 1.0 / (cols as f64).sqrt();
            param_from(rng.uniform_vec(rows * cols, bound), [rows, cols], device)
        };
        Self {
            first: uniform(input, hidden),
            first_bias: uniform(1, hidden),
            second: uniform(hidden, output),
            second_bias: uniform(1, output),
            adjacency,
        }
    }
}

impl<B: GraphBackend> Gcn<B> {
    /// The convolution of entity features `x` (`N x input`).
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let a = self.adjacency.to_device::<B>(&x.device());
        let hidden = activation::relu(a.matmul(x.matmul(self.first.val())) + self.first_bias.val());
        a.matmul(hidden.matmul(self.second.val())) + self.second_bias.val()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_adjacency_counts_relations_both_ways_and_normalises_by_degree() {
        // Two relations link 0 and 1 (0 -> 1 and 1 -> 0), one links 1 -> 2.
        let columns: BTreeMap<(u32, u32), Vec<u32>> = [
            ((0, 1), vec![0, 3]),
            ((1, 0), vec![1, 2]),
            ((1, 2), vec![1]),
            ((2, 1), vec![3]),
        ]
        .into();
        let graph = AlignmentGraph::from_pair_columns(3, 2, columns);
        let m = count_adjacency(&graph);
        let get = |r: u32, c: u32| {
            m.entries()
                .iter()
                .find(|e| e.0 == r && e.1 == c)
                .map_or(0.0, |e| e.2)
        };
        // A + I: row 0 = [1, 2, 0], row 1 = [2, 1, 1], row 2 = [0, 1, 1]; degrees 3, 4, 2.
        assert!((get(0, 1) - 2.0 / (3.0f32 * 4.0).sqrt()).abs() < 1e-6);
        assert!((get(1, 0) - get(0, 1)).abs() < 1e-7);
        assert!((get(1, 2) - 1.0 / (4.0f32 * 2.0).sqrt()).abs() < 1e-6);
        assert!((get(2, 2) - 0.5).abs() < 1e-6);
        assert_eq!(get(0, 2), 0.0);
    }
}
