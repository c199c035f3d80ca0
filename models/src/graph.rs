//! The relational graph the models propagate over, built once on the host and uploaded.
//!
//! As the authors' LoginMEA (and RREA) code builds it: the triples of both graphs form
//! one graph over the joint entity index (left entities first); every triple `(h, r, t)`
//! gives the directed pairs `(h, t)` with relation column `r` and `(t, h)` with column
//! `r + R`, so there are `2R` relation columns. Pairs are unique; a pair reached by
//! several triples lists all their columns. No self-loops are added.

use std::collections::BTreeMap;

use alignscope_datasets::{MmkgPair, Side};
use burn::tensor::{Int, Tensor, TensorData, backend::Backend};

use crate::sparse::{DeviceSparse, SparseMatrix};

/// The graph on the host: plain index lists.
#[derive(Debug, Clone, PartialEq)]
pub struct AlignmentGraph {
    /// Entities of both graphs (left first).
    pub entity_count: usize,
    /// Relation names of both graphs (`R`); there are `2R` relation columns.
    pub relation_count: usize,
    /// Head of each directed pair, pairs sorted by (head, tail).
    pub heads: Vec<u32>,
    /// Tail of each directed pair.
    pub tails: Vec<u32>,
    /// `(pair, relation column)` incidences: a pair's relation vector is the normalised
    /// sum (equivalently average) of the embeddings of its columns.
    pub pair_columns: Vec<(u32, u32)>,
}

impl AlignmentGraph {
    /// Builds the graph of a dataset pair.
    pub fn from_pair(pair: &MmkgPair) -> Self {
        let relation_count = pair.relations.len();
        let mut columns: BTreeMap<(u32, u32), Vec<u32>> = BTreeMap::new();
        for side in Side::BOTH {
            let offset = pair.joint_index(side, 0) as u32;
            for t in &pair.graph(side).triples {
                let (h, tl) = (t.head + offset, t.tail + offset);
                columns.entry((h, tl)).or_default().push(t.relation);
                columns
                    .entry((tl, h))
                    .or_default()
                    .push(t.relation + relation_count as u32);
            }
        }
        Self::from_pair_columns(pair.entity_count(), relation_count, columns)
    }

    /// Builds a graph from `(head, tail) -> relation columns`, for tests and generators.
    pub fn from_pair_columns(
        entity_count: usize,
        relation_count: usize,
        columns: BTreeMap<(u32, u32), Vec<u32>>,
    ) -> Self {
        let mut heads = Vec::with_capacity(columns.len());
        let mut tails = Vec::with_capacity(columns.len());
        let mut pair_columns = Vec::new();
        for (index, ((h, t), mut cols)) in columns.into_iter().enumerate() {
            heads.push(h);
            tails.push(t);
            cols.sort_unstable();
            cols.dedup();
            pair_columns.extend(cols.into_iter().map(|c| (index as u32, c)));
        }
        Self {
            entity_count,
            relation_count,
            heads,
            tails,
            pair_columns,
        }
    }

    /// Number of directed pairs.
    pub fn pair_count(&self) -> usize {
        self.heads.len()
    }

    /// Row-normalised "self plus neighbours" averaging: the structure stream's input
    /// is this average of the entity embeddings.
    pub fn neighbour_mean(&self) -> SparseMatrix {
        let n = self.entity_count;
        let own = (0..n as u32).map(|i| (i, i));
        let neighbours = self.heads.iter().copied().zip(self.tails.iter().copied());
        SparseMatrix::row_mean(n, n, own.chain(neighbours))
    }

    /// Uploads the index lists to `device`.
    pub fn to_device<B: Backend>(&self, device: &B::Device) -> GraphTensors<B> {
        GraphTensors {
            entity_count: self.entity_count,
            pair_count: self.pair_count(),
            relation_columns: 2 * self.relation_count,
            heads: int_tensor(self.heads.iter().copied(), device),
            tails: int_tensor(self.tails.iter().copied(), device),
            column_pairs: int_tensor(self.pair_columns.iter().map(|p| p.0), device),
            columns: int_tensor(self.pair_columns.iter().map(|p| p.1), device),
            mean: self.neighbour_mean().to_device(device),
            kernel: std::sync::Arc::new(crate::kernels::reflection::KernelGraph::new(self)),
        }
    }
}

/// The distinct entities of `pairs` in ascending order, and each pair as the positions
/// of its two entities in that list.
pub fn chunk_entities(pairs: &[(u32, u32)]) -> (Vec<u32>, Vec<(u32, u32)>) {
    let mut ids: Vec<u32> = pairs.iter().flat_map(|&(l, r)| [l, r]).collect();
    ids.sort_unstable();
    ids.dedup();
    let at = |id: u32| ids.binary_search(&id).expect("the id was listed") as u32;
    let local = pairs.iter().map(|&(l, r)| (at(l), at(r))).collect();
    (ids, local)
}

/// A 1-D integer tensor from indices.
pub fn int_tensor<B: Backend>(
    values: impl Iterator<Item = u32>,
    device: &B::Device,
) -> Tensor<B, 1, Int> {
    let values: Vec<i64> = values.map(i64::from).collect();
    let n = values.len();
    Tensor::from_data(TensorData::new(values, [n]), device)
}

/// The left and the right entities of seed pairs as two 1-D index tensors (row `k` of
/// each is pair `k`).
pub fn pair_indices<B: Backend>(
    pairs: &[(u32, u32)],
    device: &B::Device,
) -> (Tensor<B, 1, Int>, Tensor<B, 1, Int>) {
    (
        int_tensor::<B>(pairs.iter().map(|p| p.0), device),
        int_tensor::<B>(pairs.iter().map(|p| p.1), device),
    )
}

/// The graph as device tensors.
#[derive(Debug, Clone)]
pub struct GraphTensors<B: Backend> {
    /// Entities of both graphs.
    pub entity_count: usize,
    /// Directed pairs.
    pub pair_count: usize,
    /// `2R`.
    pub relation_columns: usize,
    /// Head of each pair.
    pub heads: Tensor<B, 1, Int>,
    /// Tail of each pair.
    pub tails: Tensor<B, 1, Int>,
    /// Pair of each `(pair, column)` incidence.
    pub column_pairs: Tensor<B, 1, Int>,
    /// Column of each incidence.
    pub columns: Tensor<B, 1, Int>,
    /// The "self plus neighbours" mean.
    pub mean: DeviceSparse<B>,
    /// The graph indexed for the CPU kernels.
    pub kernel: std::sync::Arc<crate::kernels::reflection::KernelGraph>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use alignscope_datasets::model::{Entity, KnowledgeGraph, RelTriple, Vocabulary};

    fn entity(key: &str) -> Entity {
        Entity {
            key: key.into(),
            name: String::new(),
        }
    }

    #[test]
    fn triples_give_both_directions_with_offset_columns() {
        let mut relations = Vocabulary::default();
        relations.intern("r0");
        relations.intern("r1");
        let pair = MmkgPair {
            relations,
            left: KnowledgeGraph {
                entities: vec![entity("a"), entity("b")],
                triples: vec![
                    RelTriple {
                        head: 0,
                        relation: 0,
                        tail: 1,
                    },
                    RelTriple {
                        head: 0,
                        relation: 1,
                        tail: 1,
                    },
                ],
                ..Default::default()
            },
            right: KnowledgeGraph {
                entities: vec![entity("x"), entity("y")],
                triples: vec![RelTriple {
                    head: 1,
                    relation: 1,
                    tail: 0,
                }],
                ..Default::default()
            },
            ..Default::default()
        };
        let g = AlignmentGraph::from_pair(&pair);
        assert_eq!(g.heads, vec![0, 1, 2, 3]);
        assert_eq!(g.tails, vec![1, 0, 3, 2]);
        // (0,1) has r0, r1; (1,0) has r0+2, r1+2; (2,3) has r1+2; (3,2) has r1.
        assert_eq!(
            g.pair_columns,
            vec![(0, 0), (0, 1), (1, 2), (1, 3), (2, 3), (3, 1)]
        );
        let mean = g.neighbour_mean();
        assert_eq!(mean.entries()[0], (0, 0, 0.5));
        assert_eq!(mean.entries()[1], (0, 1, 0.5));
    }
}
