//! Ranking with cosine or CSLS, ties counted against the true match, plus each query's
//! best candidates.

use serde::{Deserialize, Serialize};

use super::metrics::rank_of;
use super::similarity::SimilaritySource;

/// How candidates are scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Similarity {
    /// Cosine similarity.
    Cosine,
    /// Cross-domain similarity local scaling (Lample et al. 2018):
    /// `2 cos(x, y) - r(x) - r(y)`, `r` the mean cosine of the `k` nearest neighbours on
    /// the other side.
    Csls {
        /// Neighbourhood size (3 in the papers' code).
        k: usize,
    },
}

impl std::fmt::Display for Similarity {
    /// `cosine` or `CSLS k=3`, as the CLI and reports label a table.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Similarity::Cosine => f.write_str("cosine"),
            Similarity::Csls { k } => write!(f, "CSLS k={k}"),
        }
    }
}

/// The ranks of one direction and each query's best candidates.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectionRanking {
    /// 1-based rank of each query's true candidate.
    pub ranks: Vec<u32>,
    /// Per query, the best `top_k` candidates as (candidate position, score), best first,
    /// ties by position.
    pub top: Vec<Vec<(u32, f32)>>,
    /// Under CSLS, each query's and each candidate's hubness (the mean cosine of its `k`
    /// nearest neighbours on the other side): a pair scores `2 cos - r_q - r_c`.
    pub hubness: Option<(Vec<f32>, Vec<f32>)>,
}

/// Mean of the `k` largest values of each row and of each column, in one pass.
pub fn neighbourhood_means(source: &mut dyn SimilaritySource, k: usize) -> (Vec<f32>, Vec<f32>) {
    let (rows, cols) = source.shape();
    let k_rows = k.min(cols).max(1);
    let k_cols = k.min(rows).max(1);
    let mut row_means = vec![0.0f32; rows];
    // Per column, its k best values so far, descending.
    let mut col_best = vec![f32::NEG_INFINITY; cols * k_cols];
    let mut scratch = Vec::with_capacity(cols);
    source.for_each_block(&mut |first, block| {
        for (offset, row) in block.chunks_exact(cols).enumerate() {
            scratch.clear();
            scratch.extend_from_slice(row);
            let nth = k_rows - 1;
            scratch.select_nth_unstable_by(nth, |a, b| b.total_cmp(a));
            row_means[first + offset] = scratch[..k_rows].iter().sum::<f32>() / k_rows as f32;
            for (j, &v) in row.iter().enumerate() {
                let best = &mut col_best[j * k_cols..(j + 1) * k_cols];
                if v > best[k_cols - 1] {
                    let mut pos = k_cols - 1;
                    while pos > 0 && best[pos - 1] < v {
                        best[pos] = best[pos - 1];
                        pos -= 1;
                    }
                    best[pos] = v;
                }
            }
        }
    });
    let col_means = col_best
        .chunks_exact(k_cols)
        .map(|best| best.iter().sum::<f32>() / k_cols as f32)
        .collect();
    (row_means, col_means)
}

/// Ranks every row's true column (`truth[row]`) under `similarity`, and keeps each row's
/// `top_k` candidates.
pub fn rank_rows(
    source: &mut dyn SimilaritySource,
    truth: &[usize],
    similarity: Similarity,
    top_k: usize,
) -> DirectionRanking {
    let (rows, cols) = source.shape();
    assert_eq!(truth.len(), rows, "one true column per row");
    let adjust = match similarity {
        Similarity::Cosine => None,
        Similarity::Csls { k } => Some(neighbourhood_means(source, k)),
    };
    let mut ranks = vec![0u32; rows];
    let mut top = vec![Vec::new(); rows];
    let mut scores = vec![0.0f32; cols];
    let mut order: Vec<(f32, u32)> = Vec::with_capacity(cols);
    source.for_each_block(&mut |first, block| {
        for (offset, row) in block.chunks_exact(cols).enumerate() {
            let i = first + offset;
            match adjust.as_ref() {
                None => scores.copy_from_slice(row),
                Some((row_means, col_means)) => {
                    for ((s, &v), &c) in scores.iter_mut().zip(row).zip(col_means) {
                        *s = 2.0 * v - row_means[i] - c;
                    }
                }
            }
            ranks[i] = rank_of(&scores, truth[i]);
            top[i] = best_candidates(&scores, top_k, &mut order);
        }
    });
    DirectionRanking {
        ranks,
        top,
        hubness: adjust,
    }
}

/// The `k` best (position, score) pairs of `scores`, best first, ties by position.
pub fn best_candidates(scores: &[f32], k: usize, order: &mut Vec<(f32, u32)>) -> Vec<(u32, f32)> {
    let k = k.min(scores.len());
    if k == 0 {
        return Vec::new();
    }
    order.clear();
    order.extend(scores.iter().enumerate().map(|(j, &s)| (s, j as u32)));
    let cmp = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
    if k < order.len() {
        order.select_nth_unstable_by(k - 1, cmp);
        order.truncate(k);
    }
    order.sort_unstable_by(cmp);
    order.iter().map(|&(s, j)| (j, s)).collect()
}

/// One-to-one pairs chosen greedily by descending similarity (EVA's visual pivots): each
/// row's `per_row` best columns are its candidates; going through every candidate, best
/// first (ties by row, then column), a pair is taken when neither its row nor its column
/// is taken yet, until `count` pairs are taken or the candidates run out.
pub fn greedy_pairs(
    source: &mut dyn SimilaritySource,
    per_row: usize,
    count: usize,
) -> Vec<(usize, usize, f32)> {
    let (rows, cols) = source.shape();
    if rows == 0 || cols == 0 || count == 0 {
        return Vec::new();
    }
    let mut candidates: Vec<(f32, u32, u32)> = Vec::new();
    let mut order = Vec::new();
    source.for_each_block(&mut |first, block| {
        for (offset, row) in block.chunks_exact(cols).enumerate() {
            let i = (first + offset) as u32;
            candidates.extend(
                best_candidates(row, per_row, &mut order)
                    .into_iter()
                    .map(|(j, s)| (s, i, j)),
            );
        }
    });
    candidates.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let (mut row_taken, mut col_taken) = (vec![false; rows], vec![false; cols]);
    let mut pairs = Vec::new();
    for (score, i, j) in candidates {
        let (i, j) = (i as usize, j as usize);
        if pairs.len() == count {
            break;
        }
        if !row_taken[i] && !col_taken[j] {
            row_taken[i] = true;
            col_taken[j] = true;
            pairs.push((i, j, score));
        }
    }
    pairs
}

/// For each row its best column and for each column its best row (cosine, first index on
/// ties), in one pass; pairs that choose each other are mutual nearest neighbours.
pub fn mutual_nearest(source: &mut dyn SimilaritySource) -> Vec<(usize, usize)> {
    let (rows, cols) = source.shape();
    let mut row_best = vec![0usize; rows];
    let mut col_best = vec![(f32::NEG_INFINITY, 0usize); cols];
    source.for_each_block(&mut |first, block| {
        for (offset, row) in block.chunks_exact(cols).enumerate() {
            let i = first + offset;
            let mut best = (f32::NEG_INFINITY, 0usize);
            for (j, &v) in row.iter().enumerate() {
                if v > best.0 {
                    best = (v, j);
                }
                if v > col_best[j].0 {
                    col_best[j] = (v, i);
                }
            }
            row_best[i] = best.1;
        }
    });
    (0..rows)
        .filter(|&i| cols > 0 && col_best[row_best[i]].1 == i)
        .map(|i| (i, row_best[i]))
        .collect()
}
