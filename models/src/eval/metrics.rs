//! Ranking metrics from the rank of each true match.

use serde::{Deserialize, Serialize};

/// Metrics of one direction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DirectionMetrics {
    /// Share of queries whose true match is ranked first.
    pub hits_at_1: f64,
    /// ... within the first 5.
    pub hits_at_5: f64,
    /// ... within the first 10.
    pub hits_at_10: f64,
    /// Mean reciprocal rank.
    pub mrr: f64,
    /// Mean rank.
    pub mr: f64,
    /// Number of queries.
    pub queries: usize,
}

impl DirectionMetrics {
    /// Metrics from 1-based ranks.
    pub fn from_ranks(ranks: &[u32]) -> Self {
        let n = ranks.len().max(1) as f64;
        let hits = |k: u32| ranks.iter().filter(|&&r| r <= k).count() as f64 / n;
        Self {
            hits_at_1: hits(1),
            hits_at_5: hits(5),
            hits_at_10: hits(10),
            mrr: ranks.iter().map(|&r| 1.0 / f64::from(r)).sum::<f64>() / n,
            mr: ranks.iter().map(|&r| f64::from(r)).sum::<f64>() / n,
            queries: ranks.len(),
        }
    }
}

/// Metrics of both directions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AlignmentMetrics {
    /// Left entities ranking right candidates (the papers' number).
    pub left_to_right: DirectionMetrics,
    /// Right entities ranking left candidates.
    pub right_to_left: DirectionMetrics,
}

/// 1-based rank of the true candidate in `scores`: one plus the number of candidates
/// scoring strictly higher plus the number of *other* candidates scoring the same (ties
/// count against the model). NaN scores count as higher than the truth.
pub fn rank_of(scores: &[f32], truth: usize) -> u32 {
    let t = scores[truth];
    let mut rank = 1u32;
    for (j, &s) in scores.iter().enumerate() {
        if j != truth && (s >= t || s.is_nan() || t.is_nan()) {
            rank += 1;
        }
    }
    rank
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_count_against_the_true_match() {
        assert_eq!(rank_of(&[0.5, 0.9, 0.5, 0.1], 0), 3);
        assert_eq!(rank_of(&[0.5, 0.9, 0.5, 0.1], 1), 1);
        assert_eq!(rank_of(&[0.1, 0.1, 0.1], 2), 3);
        assert_eq!(rank_of(&[f32::NAN, 0.2], 1), 2);
    }

    #[test]
    fn metrics_from_known_ranks() {
        let m = DirectionMetrics::from_ranks(&[1, 2, 5, 10, 20]);
        assert_eq!(m.hits_at_1, 0.2);
        assert_eq!(m.hits_at_5, 0.6);
        assert_eq!(m.hits_at_10, 0.8);
        assert!((m.mr - 7.6).abs() < 1e-12);
        let mrr = (1.0 + 0.5 + 0.2 + 0.1 + 0.05) / 5.0;
        assert!((m.mrr - mrr).abs() < 1e-12);
    }
}
