//! Ranking with cosine or CSLS, ties counted against the true match, plus each query's
//! best candidates.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

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

/// Rows handed to one parallel task.
const ROWS_PER_TASK: usize = 64;

/// Mean of the `k` largest values of each row and of each column, in one pass (rows in
/// parallel; each task keeps its columns' best values, merged at the end).
pub fn neighbourhood_means(source: &mut dyn SimilaritySource, k: usize) -> (Vec<f32>, Vec<f32>) {
    let (rows, cols) = source.shape();
    let k_rows = k.min(cols).max(1);
    let k_cols = k.min(rows).max(1);
    let mut row_means = vec![0.0f32; rows];
    // Per column, its k best values so far, descending.
    let mut col_best = vec![f32::NEG_INFINITY; cols * k_cols];
    source.for_each_block(&mut |first, block| {
        let block_rows = block.len() / cols.max(1);
        let task_best = block
            .par_chunks(ROWS_PER_TASK * cols)
            .zip(row_means[first..first + block_rows].par_chunks_mut(ROWS_PER_TASK))
            .map(|(task_rows, means)| {
                let mut best = vec![f32::NEG_INFINITY; cols * k_cols];
                let mut row_best = TopValues::new(k_rows);
                for (row, mean) in task_rows.chunks_exact(cols).zip(means) {
                    row_best.clear();
                    for (j, &v) in row.iter().enumerate() {
                        row_best.offer(v);
                        insert_descending(&mut best[j * k_cols..(j + 1) * k_cols], v);
                    }
                    *mean = row_best.mean();
                }
                best
            })
            .collect::<Vec<_>>();
        for best in task_best {
            for (into, from) in col_best
                .chunks_exact_mut(k_cols)
                .zip(best.chunks_exact(k_cols))
            {
                for &v in from {
                    insert_descending(into, v);
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

/// Puts `v` into `best` (descending, fixed length) if it beats the last value.
fn insert_descending(best: &mut [f32], v: f32) {
    let last = best.len() - 1;
    if v > best[last] {
        let mut pos = last;
        while pos > 0 && best[pos - 1] < v {
            best[pos] = best[pos - 1];
            pos -= 1;
        }
        best[pos] = v;
    }
}

/// The `k` largest values offered so far, descending.
struct TopValues {
    best: Vec<f32>,
}

impl TopValues {
    fn new(k: usize) -> Self {
        Self {
            best: vec![f32::NEG_INFINITY; k],
        }
    }

    fn clear(&mut self) {
        self.best.fill(f32::NEG_INFINITY);
    }

    fn offer(&mut self, v: f32) {
        insert_descending(&mut self.best, v);
    }

    fn mean(&self) -> f32 {
        self.best.iter().sum::<f32>() / self.best.len() as f32
    }
}

/// Ranks every row's true column (`truth[row]`) under `similarity`, and keeps each row's
/// `top_k` candidates: one pass per row, rows in parallel.
pub fn rank_rows(
    source: &mut dyn SimilaritySource,
    truth: &[usize],
    similarity: Similarity,
    top_k: usize,
) -> DirectionRanking {
    let hubness = match similarity {
        Similarity::Cosine => None,
        Similarity::Csls { k } => Some(neighbourhood_means(source, k)),
    };
    rank_rows_with_hubness(source, truth, hubness, top_k)
}

/// [`rank_rows`] with the rows' and columns' hubness already known (CSLS; `None` ranks
/// by cosine): the other direction of a held matrix reuses the first one's, swapped.
pub fn rank_rows_with_hubness(
    source: &mut dyn SimilaritySource,
    truth: &[usize],
    hubness: Option<(Vec<f32>, Vec<f32>)>,
    top_k: usize,
) -> DirectionRanking {
    let (rows, cols) = source.shape();
    assert_eq!(truth.len(), rows, "one true column per row");
    let mut ranks = vec![0u32; rows];
    let mut top = vec![Vec::new(); rows];
    source.for_each_block(&mut |first, block| {
        let block_rows = block.len() / cols.max(1);
        block
            .par_chunks(cols.max(1))
            .zip(ranks[first..first + block_rows].par_iter_mut())
            .zip(top[first..first + block_rows].par_iter_mut())
            .enumerate()
            .for_each(|(offset, ((row, rank), best))| {
                let i = first + offset;
                (*rank, *best) = match hubness.as_ref() {
                    None => rank_and_best(|j| row[j], cols, truth[i], top_k),
                    Some((row_means, col_means)) => {
                        let r = row_means[i];
                        rank_and_best(|j| 2.0 * row[j] - r - col_means[j], cols, truth[i], top_k)
                    }
                };
            });
    });
    DirectionRanking {
        ranks,
        top,
        hubness,
    }
}

/// The rank of `truth` among the `cols` scores `score(j)` (counted as
/// [`super::metrics::rank_of`] counts it) and the `k` best candidates, in one pass.
fn rank_and_best(
    score: impl Fn(usize) -> f32,
    cols: usize,
    truth: usize,
    k: usize,
) -> (u32, Vec<(u32, f32)>) {
    let t = score(truth);
    let mut rank = 1u32;
    let mut best = BestCandidates::new(k.min(cols));
    for j in 0..cols {
        let s = score(j);
        if j != truth && (s >= t || s.is_nan() || t.is_nan()) {
            rank += 1;
        }
        best.offer(j as u32, s);
    }
    (rank, best.into_sorted())
}

/// The `k` best (position, score) pairs offered in position order: best first under
/// `total_cmp`, ties by position (an equal later score never displaces an earlier one).
struct BestCandidates {
    k: usize,
    best: Vec<(u32, f32)>,
}

impl BestCandidates {
    fn new(k: usize) -> Self {
        Self {
            k,
            best: Vec::with_capacity(k + 1),
        }
    }

    fn offer(&mut self, j: u32, s: f32) {
        if self.k == 0 {
            return;
        }
        if self.best.len() == self.k {
            let last = self.best[self.k - 1].1;
            if s.total_cmp(&last) != std::cmp::Ordering::Greater {
                return;
            }
            self.best.pop();
        }
        let mut pos = self.best.len();
        while pos > 0 && self.best[pos - 1].1.total_cmp(&s) == std::cmp::Ordering::Less {
            pos -= 1;
        }
        self.best.insert(pos, (j, s));
    }

    fn into_sorted(self) -> Vec<(u32, f32)> {
        self.best
    }
}

/// The `k` best (position, score) pairs of `scores`, best first, ties by position.
pub fn best_candidates(scores: &[f32], k: usize) -> Vec<(u32, f32)> {
    let mut best = BestCandidates::new(k.min(scores.len()));
    for (j, &s) in scores.iter().enumerate() {
        best.offer(j as u32, s);
    }
    best.into_sorted()
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
    source.for_each_block(&mut |first, block| {
        for (offset, row) in block.chunks_exact(cols).enumerate() {
            let i = (first + offset) as u32;
            candidates.extend(
                best_candidates(row, per_row)
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
