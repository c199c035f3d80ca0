//! One-to-one decoding of a similarity matrix (rows: left entities, columns: right
//! entities): each row gets at most one column, and no column two rows, with a
//! confidence a threshold can be set on. Plain ranking (each row's best column, columns
//! may repeat) is the reference the decoders are compared with.

use serde::{Deserialize, Serialize};

use super::ranking::{Similarity, greedy_pairs, neighbourhood_means};
use super::similarity::{DenseSimilarity, SimilaritySource};

/// How a similarity matrix becomes pairs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "method")]
pub enum Decoder {
    /// Each row's best column; a column may be chosen by several rows (not one-to-one).
    Rank,
    /// Pairs taken best first while their row and column are free; each row's
    /// [`GREEDY_CANDIDATES`] best columns are its candidates, so a row whose candidates
    /// were all taken stays unpaired.
    Greedy,
    /// The assignment of largest total similarity (exact; O(n² m) time, O(n m) memory).
    Hungarian,
    /// Sinkhorn's balancing of `exp(similarity / temperature)` into a plan whose rows sum
    /// to 1 and columns to `rows / cols`, `iterations` times, then greedy one-to-one pairs
    /// on the plan; a pair's confidence is its share of the plan's row.
    Sinkhorn {
        /// Softmax temperature: lower is sharper.
        temperature: f32,
        /// Row-and-column balancing rounds.
        iterations: usize,
    },
}

/// Sinkhorn's default temperature and rounds (sharp enough that cosine gaps of 0.05
/// weigh e¹ apart, and enough rounds for the margins to settle on DBP15K-sized matrices).
pub const SINKHORN_DEFAULT: Decoder = Decoder::Sinkhorn {
    temperature: 0.05,
    iterations: 20,
};

/// Candidates per row that the greedy decoders consider.
pub const GREEDY_CANDIDATES: usize = 50;

impl Decoder {
    /// Its name, as the CLI takes it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Rank => "rank",
            Self::Greedy => "greedy",
            Self::Hungarian => "hungarian",
            Self::Sinkhorn { .. } => "sinkhorn",
        }
    }

    /// Whether it pairs each column at most once.
    pub fn is_one_to_one(&self) -> bool {
        !matches!(self, Self::Rank)
    }

    /// Each row's column and confidence (`None`: unpaired).
    pub fn decode(&self, scores: &DenseSimilarity) -> Vec<Option<(usize, f32)>> {
        match *self {
            Self::Rank => rank(scores),
            Self::Greedy => greedy(scores),
            Self::Hungarian => hungarian(scores),
            Self::Sinkhorn {
                temperature,
                iterations,
            } => greedy(&sinkhorn(scores, temperature, iterations)),
        }
    }
}

/// `cosines` as the evaluation scores pairs: unchanged under cosine, `2 cos - r(row) -
/// r(column)` under CSLS (as [`super::rank_rows`] ranks them).
pub fn scored(mut cosines: DenseSimilarity, similarity: Similarity) -> DenseSimilarity {
    if let Similarity::Csls { k } = similarity {
        let (row_means, col_means) = neighbourhood_means(&mut cosines, k);
        for (row, r) in cosines.rows_mut().zip(&row_means) {
            for (v, c) in row.iter_mut().zip(&col_means) {
                *v = 2.0 * *v - r - c;
            }
        }
    }
    cosines
}

/// Each row's best column (first on ties) and its score.
pub fn rank(scores: &DenseSimilarity) -> Vec<Option<(usize, f32)>> {
    let (rows, _) = scores.shape();
    (0..rows)
        .map(|i| {
            scores
                .row(i)
                .iter()
                .enumerate()
                .fold(None, |best: Option<(usize, f32)>, (j, &v)| match best {
                    Some((_, b)) if b >= v => best,
                    _ => Some((j, v)),
                })
        })
        .collect()
}

/// Greedy one-to-one pairs, best score first (ties by row, then column), among each
/// row's [`GREEDY_CANDIDATES`] best columns.
pub fn greedy(scores: &DenseSimilarity) -> Vec<Option<(usize, f32)>> {
    let rows = scores.shape().0;
    let mut chosen = vec![None; rows];
    for (i, j, score) in greedy_pairs(&mut &*scores, GREEDY_CANDIDATES, rows) {
        chosen[i] = Some((j, score));
    }
    chosen
}

/// The one-to-one assignment of largest total score: every row paired when there are at
/// least as many columns as rows, else every column. The shortest-augmenting-path
/// Hungarian method with potentials (Kuhn–Munkres as Jonker and Volgenant run it),
/// on costs `-score` in f64.
pub fn hungarian(scores: &DenseSimilarity) -> Vec<Option<(usize, f32)>> {
    let (rows, cols) = scores.shape();
    if rows == 0 || cols == 0 {
        return vec![None; rows];
    }
    if rows > cols {
        // Assign the columns to rows instead, then read it back per row.
        let by_column = hungarian(&scores.transposed());
        let mut chosen = vec![None; rows];
        for (j, pick) in by_column.into_iter().enumerate() {
            if let Some((i, s)) = pick {
                chosen[i] = Some((j, s));
            }
        }
        return chosen;
    }
    let cost = |i: usize, j: usize| -(scores.row(i)[j] as f64);
    // 1-based rows and columns; column 0 is the virtual start of each augmenting path.
    let mut row_potential = vec![0.0f64; rows + 1];
    let mut col_potential = vec![0.0f64; cols + 1];
    let mut row_of_col = vec![0usize; cols + 1];
    let mut previous_col = vec![0usize; cols + 1];
    let mut slack = vec![f64::INFINITY; cols + 1];
    let mut visited = vec![false; cols + 1];
    for row in 1..=rows {
        row_of_col[0] = row;
        let mut col = 0usize;
        slack.fill(f64::INFINITY);
        visited.fill(false);
        loop {
            visited[col] = true;
            let i = row_of_col[col];
            let mut delta = f64::INFINITY;
            let mut next = 0usize;
            for j in 1..=cols {
                if visited[j] {
                    continue;
                }
                let reduced = cost(i - 1, j - 1) - row_potential[i] - col_potential[j];
                if reduced < slack[j] {
                    slack[j] = reduced;
                    previous_col[j] = col;
                }
                if slack[j] < delta {
                    delta = slack[j];
                    next = j;
                }
            }
            for j in 0..=cols {
                if visited[j] {
                    row_potential[row_of_col[j]] += delta;
                    col_potential[j] -= delta;
                } else {
                    slack[j] -= delta;
                }
            }
            col = next;
            if row_of_col[col] == 0 {
                break;
            }
        }
        // Flip the augmenting path back to its start.
        while col != 0 {
            let before = previous_col[col];
            row_of_col[col] = row_of_col[before];
            col = before;
        }
    }
    let mut chosen = vec![None; rows];
    for (j, &i) in row_of_col.iter().enumerate().skip(1) {
        if i != 0 {
            chosen[i - 1] = Some((j - 1, scores.row(i - 1)[j - 1]));
        }
    }
    chosen
}

/// Sinkhorn's plan for `scores`: `exp(score / temperature)` scaled, `iterations` times,
/// so that each row sums to 1, then each column to `rows / cols` (the last step is the
/// columns'). Computed in the log domain, so sharp temperatures do not underflow.
pub fn sinkhorn(scores: &DenseSimilarity, temperature: f32, iterations: usize) -> DenseSimilarity {
    let (rows, cols) = scores.shape();
    if rows == 0 || cols == 0 {
        return scores.clone();
    }
    let temperature = temperature.max(f32::MIN_POSITIVE);
    let mut log_plan: Vec<f32> = (0..rows)
        .flat_map(|i| scores.row(i).iter().map(move |&s| s / temperature))
        .collect();
    let column_mass = (rows as f32 / cols as f32).ln();
    for _ in 0..iterations.max(1) {
        for row in log_plan.chunks_exact_mut(cols) {
            let total = log_sum_exp(row.iter().copied());
            row.iter_mut().for_each(|v| *v -= total);
        }
        // Per column, an online log-sum-exp over the rows: (largest, sum of exp(v - largest)).
        let mut columns = vec![(f32::NEG_INFINITY, 0.0f32); cols];
        for row in log_plan.chunks_exact(cols) {
            for (acc, &v) in columns.iter_mut().zip(row) {
                if v > acc.0 {
                    acc.1 = acc.1 * (acc.0 - v).exp() + 1.0;
                    acc.0 = v;
                } else {
                    acc.1 += (v - acc.0).exp();
                }
            }
        }
        let shifts: Vec<f32> = columns
            .iter()
            .map(|&(largest, sum)| column_mass - (largest + sum.ln()))
            .collect();
        for row in log_plan.chunks_exact_mut(cols) {
            row.iter_mut().zip(&shifts).for_each(|(v, s)| *v += s);
        }
    }
    log_plan.iter_mut().for_each(|v| *v = v.exp());
    DenseSimilarity::new(rows, cols, log_plan)
}

fn log_sum_exp(values: impl Iterator<Item = f32> + Clone) -> f32 {
    let largest = values.clone().fold(f32::NEG_INFINITY, f32::max);
    if largest == f32::NEG_INFINITY {
        return largest;
    }
    largest + values.map(|v| (v - largest).exp()).sum::<f32>().ln()
}

/// How decoded pairs fare against the truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecodeQuality {
    /// Rows given a column.
    pub paired: usize,
    /// Rows given their true column.
    pub correct: usize,
    /// Rows with a true column.
    pub rows: usize,
    /// H@1 of the decoded pairs: `correct / rows`.
    pub hits_at_1: f64,
    /// Precision and recall of the pairs at or above each confidence, best confidence
    /// first (one point per distinct confidence).
    pub curve: Vec<PrecisionRecall>,
}

/// The pairs kept at one confidence threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PrecisionRecall {
    /// Pairs with at least this confidence are kept.
    pub threshold: f32,
    /// Pairs kept.
    pub kept: usize,
    /// Share of kept pairs that are true.
    pub precision: f64,
    /// Share of rows whose true pair is kept.
    pub recall: f64,
}

/// Scores `decoded` (per row: column and confidence) against `truth` (per row, its true
/// column).
pub fn quality(decoded: &[Option<(usize, f32)>], truth: &[usize]) -> DecodeQuality {
    assert_eq!(decoded.len(), truth.len(), "one true column per row");
    let rows = truth.len();
    let mut pairs: Vec<(f32, bool)> = decoded
        .iter()
        .zip(truth)
        .filter_map(|(pick, &t)| pick.map(|(j, confidence)| (confidence, j == t)))
        .collect();
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut curve: Vec<PrecisionRecall> = Vec::new();
    let mut correct = 0usize;
    for (kept, &(confidence, right)) in pairs.iter().enumerate() {
        correct += usize::from(right);
        let point = PrecisionRecall {
            threshold: confidence,
            kept: kept + 1,
            precision: correct as f64 / (kept + 1) as f64,
            recall: correct as f64 / rows.max(1) as f64,
        };
        match curve.last_mut() {
            Some(last) if last.threshold == confidence => *last = point,
            _ => curve.push(point),
        }
    }
    DecodeQuality {
        paired: pairs.len(),
        correct,
        rows,
        hits_at_1: correct as f64 / rows.max(1) as f64,
        curve,
    }
}
