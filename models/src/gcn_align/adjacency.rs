//! GCN-Align's weighted, normalised adjacency (see [`crate::gcn_align`]).

use std::collections::{BTreeMap, BTreeSet};

use crate::graph::AlignmentGraph;
use crate::sparse::SparseMatrix;

/// The smallest weight a relation gives an edge (the authors' code).
const FLOOR: f32 = 0.3;

/// `Â = D^-½ (A + I) D^-½` of `graph`, `D` the column sums of `A + I`.
pub fn weighted_adjacency(graph: &AlignmentGraph) -> SparseMatrix {
    let relations = graph.relation_count as u32;
    // Triples of relation r: the pairs (h, t) holding column r (< R).
    let mut heads: Vec<BTreeSet<u32>> = vec![BTreeSet::new(); relations as usize];
    let mut tails: Vec<BTreeSet<u32>> = vec![BTreeSet::new(); relations as usize];
    let mut triples = vec![0usize; relations as usize];
    for &(pair, column) in &graph.pair_columns {
        if column < relations {
            let p = pair as usize;
            heads[column as usize].insert(graph.heads[p]);
            tails[column as usize].insert(graph.tails[p]);
            triples[column as usize] += 1;
        }
    }
    let share = |set: &BTreeSet<u32>, r: usize| set.len() as f32 / triples[r].max(1) as f32;
    let mut weights: BTreeMap<(u32, u32), f32> = BTreeMap::new();
    for i in 0..graph.entity_count as u32 {
        weights.insert((i, i), 1.0);
    }
    for &(pair, column) in &graph.pair_columns {
        let p = pair as usize;
        let (h, t) = (graph.heads[p], graph.tails[p]);
        if h == t {
            continue;
        }
        // Pair (h, t) with column r < R is triple (h, r, t): h takes t by ifun(r).
        // With column R + r it is triple (t, r, h): h takes t by fun(r).
        let w = if column < relations {
            share(&tails[column as usize], column as usize)
        } else {
            let r = (column - relations) as usize;
            share(&heads[r], r)
        };
        *weights.entry((h, t)).or_default() += w.max(FLOOR);
    }
    let mut column_sums = vec![0.0f32; graph.entity_count];
    for (&(_, c), &w) in &weights {
        column_sums[c as usize] += w;
    }
    let scale: Vec<f32> = column_sums.iter().map(|d| 1.0 / d.sqrt()).collect();
    let n = graph.entity_count;
    SparseMatrix::new(
        n,
        n,
        weights
            .into_iter()
            .map(|((r, c), w)| (r, c, w * scale[r as usize] * scale[c as usize]))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functional_relations_weigh_as_the_authors_code() {
        // Relation 0: a -> b, a -> c (one head, two tails: fun = 1/2, ifun = 1).
        let columns: BTreeMap<(u32, u32), Vec<u32>> = [
            ((0, 1), vec![0]),
            ((1, 0), vec![1]),
            ((0, 2), vec![0]),
            ((2, 0), vec![1]),
        ]
        .into();
        let graph = AlignmentGraph::from_pair_columns(3, 1, columns);
        let m = weighted_adjacency(&graph);
        let get = |r: u32, c: u32| {
            m.entries()
                .iter()
                .find(|e| e.0 == r && e.1 == c)
                .map(|e| e.2)
                .unwrap()
        };
        // B: a takes b and c with ifun = 1, b and c take a with max(fun, 0.3) = 0.5.
        // Column sums: a: 1 + 0.5 + 0.5 = 2; b: 1 + 1 = 2; c: 2.
        assert!((get(0, 1) - 1.0 / 2.0).abs() < 1e-6);
        assert!((get(1, 0) - 0.5 / 2.0).abs() < 1e-6);
        assert!((get(0, 0) - 1.0 / 2.0).abs() < 1e-6);
    }
}
