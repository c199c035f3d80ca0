//! Evaluation per `design/MODELS.md`: every left entity of a test pair ranks the right
//! entities of the test pairs (or, optionally, every right entity), by cosine or CSLS;
//! ties count against the true match; H@1/5/10, MRR and MR in both directions. The
//! similarity matrix is held only when it fits a memory budget; otherwise it is
//! recomputed in row blocks on the backend.

pub mod ann;
pub mod decode;
mod metrics;
mod ranking;
mod similarity;

use std::ops::Range;

use burn::tensor::{Tensor, backend::Backend};
use serde::{Deserialize, Serialize};

pub use metrics::{AlignmentMetrics, DirectionMetrics, rank_of};
pub use ranking::{
    DirectionRanking, Similarity, best_candidates, greedy_pairs, mutual_nearest,
    neighbourhood_means, rank_rows, rank_rows_with_hubness,
};
pub use similarity::{Columns, DenseSimilarity, EmbeddingSimilarity, SimilaritySource};

use crate::backend::GraphBackend;
use crate::graph::int_tensor;

/// Which entities a query ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CandidatePool {
    /// The other side's entities of the evaluated pairs (the papers' protocol).
    TestPairs,
    /// Every entity of the other graph (harder, realistic).
    AllEntities,
}

/// How to evaluate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EvalOptions {
    /// Scoring (CSLS with k = 3 by default, as the authors' code reports).
    pub similarity: Similarity,
    /// Candidate pool.
    pub pool: CandidatePool,
    /// Queries per similarity block.
    pub block_rows: usize,
    /// Largest similarity matrix (bytes) kept in memory for one pass; larger ones are
    /// recomputed block by block.
    pub dense_budget_bytes: usize,
    /// Best candidates kept per query.
    pub top_k: usize,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self {
            similarity: Similarity::Csls { k: 3 },
            pool: CandidatePool::TestPairs,
            block_rows: 2048,
            dense_budget_bytes: 1 << 30,
            top_k: 10,
        }
    }
}

/// One direction's outcome, in joint entity indices.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectionResult {
    /// The query entities.
    pub queries: Vec<u32>,
    /// The candidate entities (positions in `ranking.top` index this).
    pub candidates: Vec<u32>,
    /// Ranks and best candidates.
    pub ranking: DirectionRanking,
}

/// The outcome of an evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// The metrics.
    pub metrics: AlignmentMetrics,
    /// Left entities ranking right ones.
    pub left_to_right: DirectionResult,
    /// Right entities ranking left ones.
    pub right_to_left: DirectionResult,
}

/// Evaluates unit-normalised embeddings `unit` (`N x D`, joint index) on `pairs` (joint
/// indices, left then right); `left`/`right` are the joint index ranges of the graphs.
pub fn evaluate<B: GraphBackend>(
    unit: &Tensor<B, 2>,
    pairs: &[(u32, u32)],
    left: Range<usize>,
    right: Range<usize>,
    options: &EvalOptions,
) -> Evaluation {
    let lefts: Vec<u32> = pairs.iter().map(|p| p.0).collect();
    let rights: Vec<u32> = pairs.iter().map(|p| p.1).collect();
    let device = unit.device();
    let rows_of = |ids: &[u32]| {
        unit.clone()
            .select(0, int_tensor::<B>(ids.iter().copied(), &device))
    };
    match options.pool {
        CandidatePool::TestPairs => {
            let truth: Vec<usize> = (0..pairs.len()).collect();
            let fits = pairs.len() * pairs.len() * 4 <= options.dense_budget_bytes;
            let (l2r, r2l) = if fits {
                let mut dense =
                    B::similarity_matrix(rows_of(&lefts), rows_of(&rights), options.block_rows);
                let l2r = rank_rows(&mut dense, &truth, options.similarity, options.top_k);
                // The right-to-left direction reads the matrix's columns, with the
                // hubness of the first pass swapped (the same values, not computed twice).
                let swapped = l2r.hubness.clone().map(|(rows, cols)| (cols, rows));
                let r2l =
                    rank_rows_with_hubness(&mut dense.columns(), &truth, swapped, options.top_k);
                (l2r, r2l)
            } else {
                let mut source =
                    EmbeddingSimilarity::new(rows_of(&lefts), rows_of(&rights), options.block_rows);
                let l2r = rank_rows(&mut source, &truth, options.similarity, options.top_k);
                let mut back =
                    EmbeddingSimilarity::new(rows_of(&rights), rows_of(&lefts), options.block_rows);
                (
                    l2r,
                    rank_rows(&mut back, &truth, options.similarity, options.top_k),
                )
            };
            finish(lefts.clone(), rights.clone(), l2r, rights, lefts, r2l)
        }
        CandidatePool::AllEntities => {
            let all_right: Vec<u32> = right.clone().map(|i| i as u32).collect();
            let all_left: Vec<u32> = left.clone().map(|i| i as u32).collect();
            let direction =
                |queries: &[u32], candidates: &[u32], offset: usize, truth_ids: &[u32]| {
                    let truth: Vec<usize> =
                        truth_ids.iter().map(|&t| t as usize - offset).collect();
                    let (q, c) = (rows_of(queries), rows_of(candidates));
                    if queries.len() * candidates.len() * 4 <= options.dense_budget_bytes {
                        rank_rows(
                            &mut B::similarity_matrix(q, c, options.block_rows),
                            &truth,
                            options.similarity,
                            options.top_k,
                        )
                    } else {
                        let mut source = EmbeddingSimilarity::new(q, c, options.block_rows);
                        rank_rows(&mut source, &truth, options.similarity, options.top_k)
                    }
                };
            let l2r = direction(&lefts, &all_right, right.start, &rights);
            let r2l = direction(&rights, &all_left, left.start, &lefts);
            finish(lefts, all_right, l2r, rights, all_left, r2l)
        }
    }
}

fn finish(
    l_queries: Vec<u32>,
    l_candidates: Vec<u32>,
    l2r: DirectionRanking,
    r_queries: Vec<u32>,
    r_candidates: Vec<u32>,
    r2l: DirectionRanking,
) -> Evaluation {
    Evaluation {
        metrics: AlignmentMetrics {
            left_to_right: DirectionMetrics::from_ranks(&l2r.ranks),
            right_to_left: DirectionMetrics::from_ranks(&r2l.ranks),
        },
        left_to_right: DirectionResult {
            queries: l_queries,
            candidates: l_candidates,
            ranking: l2r,
        },
        right_to_left: DirectionResult {
            queries: r_queries,
            candidates: r_candidates,
            ranking: r2l,
        },
    }
}

/// Mutual nearest neighbours (cosine) between `left` and `right` entities (joint
/// indices), as joint-index pairs.
pub fn mutual_nearest_pairs<B: Backend>(
    unit: &Tensor<B, 2>,
    left: &[u32],
    right: &[u32],
    block_rows: usize,
) -> Vec<(u32, u32)> {
    if left.is_empty() || right.is_empty() {
        return Vec::new();
    }
    let device = unit.device();
    let rows_of = |ids: &[u32]| {
        unit.clone()
            .select(0, int_tensor::<B>(ids.iter().copied(), &device))
    };
    let mut source = EmbeddingSimilarity::new(rows_of(left), rows_of(right), block_rows);
    mutual_nearest(&mut source)
        .into_iter()
        .map(|(i, j)| (left[i], right[j]))
        .collect()
}
