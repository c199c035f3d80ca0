//! TMEA's relational knowledge encoder: TransE (Bordes et al. 2013) with the swapping
//! strategy of MMEA (Chen et al. 2020), the paper's Eq. (1)–(2).
//!
//! - Score `f(h, r, t) = ‖e_h + r − e_t‖²` over unit-normalised entity and relation
//!   vectors (the authors' code normalises both).
//! - Loss `Σ max(0, γ + f(τ) − f(τ⁻))` summed over a batch of triples, one corrupted
//!   triple per positive: head or tail (even odds) replaced by an entity of the same
//!   graph as the one it replaces.
//! - Swapping: a triple whose head or tail is in a seed pair gives a copy with that
//!   entity replaced by its counterpart, so the two graphs share one translation space.
//!
//! Choice (the paper is silent): each optimiser step draws `transe_batch` triples with
//! replacement from all triples of both graphs, then adds the swapped copies of the
//! drawn ones for the step's seed pairs (given and pseudo).

use std::collections::HashMap;
use std::ops::Range;

use burn::tensor::{Tensor, backend::Backend};

use crate::graph::{AlignmentGraph, int_tensor};
use crate::ops::l2_normalize;
use crate::rng::SeededRng;

/// A relational triple over joint entity indices: `(head, relation, tail)`.
pub type Triple = [u32; 3];

/// The relational triples of both graphs, recovered from the alignment graph (pair `p`
/// with a forward column `c < R` is the triple `(heads[p], c, tails[p])`).
pub fn triples(graph: &AlignmentGraph) -> Vec<Triple> {
    let r = graph.relation_count as u32;
    graph
        .pair_columns
        .iter()
        .filter(|(_, column)| *column < r)
        .map(|&(pair, column)| {
            [
                graph.heads[pair as usize],
                column,
                graph.tails[pair as usize],
            ]
        })
        .collect()
}

/// One step's positive triples and their corrupted copies.
#[derive(Debug, Clone, PartialEq)]
pub struct TripleBatch {
    /// Positive triples (drawn, then swapped copies).
    pub positive: Vec<Triple>,
    /// One corrupted triple per positive.
    pub negative: Vec<Triple>,
}

/// Draws `size` triples, adds their swapped copies for `pairs`, and corrupts each;
/// `left`/`right` are the two graphs' joint index ranges.
pub fn sample_batch(
    all: &[Triple],
    size: usize,
    pairs: &[(u32, u32)],
    left: &Range<usize>,
    right: &Range<usize>,
    rng: &mut SeededRng,
) -> TripleBatch {
    if all.is_empty() {
        return TripleBatch {
            positive: Vec::new(),
            negative: Vec::new(),
        };
    }
    let counterpart: HashMap<u32, u32> =
        pairs.iter().flat_map(|&(l, r)| [(l, r), (r, l)]).collect();
    let mut positive: Vec<Triple> = (0..size).map(|_| all[rng.below(all.len())]).collect();
    let drawn = positive.len();
    for i in 0..drawn {
        let [h, rel, t] = positive[i];
        if let Some(&h2) = counterpart.get(&h) {
            positive.push([h2, rel, t]);
        }
        if let Some(&t2) = counterpart.get(&t) {
            positive.push([h, rel, t2]);
        }
    }
    let graph_of = |e: u32| {
        if left.contains(&(e as usize)) {
            left.clone()
        } else {
            right.clone()
        }
    };
    let negative = positive
        .iter()
        .map(|&[h, rel, t]| {
            let corrupt_head = rng.next_f64() < 0.5;
            let range = graph_of(if corrupt_head { h } else { t });
            let other = (range.start + rng.below(range.len())) as u32;
            if corrupt_head {
                [other, rel, t]
            } else {
                [h, rel, other]
            }
        })
        .collect();
    TripleBatch { positive, negative }
}

/// `‖e_h + r − e_t‖²` of each triple (`T x 1`), over unit-normalised vectors.
fn scores<B: Backend>(
    entities: &Tensor<B, 2>,
    relations: &Tensor<B, 2>,
    triples: &[Triple],
) -> Tensor<B, 2> {
    let device = entities.device();
    let column = |k: usize| int_tensor::<B>(triples.iter().map(|t| t[k]), &device);
    let h = entities.clone().select(0, column(0));
    let r = relations.clone().select(0, column(1));
    let t = entities.clone().select(0, column(2));
    (h + r - t).powi_scalar(2).sum_dim(1)
}

/// The margin loss of a batch, summed over its triples (Eq. 2); `entities` and
/// `relations` are the raw tables (normalised here).
pub fn transe_loss<B: Backend>(
    entities: Tensor<B, 2>,
    relations: Tensor<B, 2>,
    batch: &TripleBatch,
    margin: f64,
) -> Tensor<B, 1> {
    if batch.positive.is_empty() {
        return Tensor::zeros([1], &entities.device());
    }
    let (entities, relations) = (l2_normalize(entities), l2_normalize(relations));
    let positive = scores(&entities, &relations, &batch.positive);
    let negative = scores(&entities, &relations, &batch.negative);
    (positive - negative)
        .add_scalar(margin)
        .clamp_min(0.0)
        .sum()
        .reshape([1])
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use burn::backend::NdArray;
    use burn::tensor::TensorData;

    use super::*;

    fn graph() -> AlignmentGraph {
        // Left 0..3, right 3..6; relation 0 on both sides, relation 1 on the left.
        let mut columns: BTreeMap<(u32, u32), Vec<u32>> = BTreeMap::new();
        for (h, r, t) in [(0, 0, 1), (1, 1, 2), (3, 0, 4)] {
            columns.entry((h, t)).or_default().push(r);
            columns.entry((t, h)).or_default().push(r + 2);
        }
        AlignmentGraph::from_pair_columns(6, 2, columns)
    }

    #[test]
    fn triples_come_back_from_the_forward_columns_only() {
        let mut found = triples(&graph());
        found.sort_unstable();
        assert_eq!(found, [[0, 0, 1], [1, 1, 2], [3, 0, 4]]);
    }

    #[test]
    fn seed_pairs_add_swapped_copies_and_negatives_stay_in_their_graph() {
        let all = triples(&graph());
        let mut rng = SeededRng::new(3);
        let batch = sample_batch(&all, 200, &[(1, 4)], &(0..3), &(3..6), &mut rng);
        // Every triple touching 1 or 4 has a copy with the counterpart.
        assert!(batch.positive.contains(&[0, 0, 4]));
        assert!(batch.positive.contains(&[4, 1, 2]));
        assert!(batch.positive.contains(&[3, 0, 1]));
        assert_eq!(batch.positive.len(), batch.negative.len());
        for (p, n) in batch.positive.iter().zip(&batch.negative) {
            assert_eq!(p[1], n[1]);
            let changed: Vec<usize> = (0..3).filter(|&k| p[k] != n[k]).collect();
            assert!(changed.len() <= 1, "{p:?} -> {n:?}");
            if let [k] = changed[..] {
                let side = |e: u32| e < 3;
                assert_eq!(side(p[k]), side(n[k]), "{p:?} -> {n:?}");
            }
        }
    }

    #[test]
    fn a_perfect_translation_costs_only_what_its_negatives_leave() {
        let device = Default::default();
        let table = |rows: Vec<f32>, n: usize| {
            Tensor::<NdArray, 2>::from_data(TensorData::new(rows, [n, 2]), &device)
        };
        // e_0 = e_1 = (1, 0), e_2 = (−1, 0); r normalises to (1, 0).
        let entities = table(vec![1.0, 0.0, 1.0, 0.0, -1.0, 0.0], 3);
        let relations = table(vec![1e-9, 0.0], 1);
        let batch = TripleBatch {
            positive: vec![[0, 0, 1]],
            negative: vec![[0, 0, 2]],
        };
        // Positive: ‖(1,0) + (1,0) − (1,0)‖² = 1 (r normalised to (1, 0)); negative:
        // ‖(1,0) + (1,0) − (−1,0)‖² = 9; loss max(0, 1 + 1 − 9) = 0.
        let loss: f32 = transe_loss(entities.clone(), relations.clone(), &batch, 1.0).into_scalar();
        assert!(loss.abs() < 1e-6, "{loss}");
        let swapped = TripleBatch {
            positive: vec![[0, 0, 2]],
            negative: vec![[0, 0, 1]],
        };
        let loss: f32 = transe_loss(entities, relations, &swapped, 1.0).into_scalar();
        assert!((loss - 9.0).abs() < 1e-5, "{loss}");
    }
}
