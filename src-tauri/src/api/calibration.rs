//! Confidence one can set a threshold on: a run's top-1 score turned into a calibrated
//! probability of being right, fitted on the pairs reviewers decided in the run's random
//! order (an unbiased sample of its predictions), by isotonic regression (pool adjacent
//! violators, linear between the fitted points) or Platt scaling (a logistic curve of
//! the score, Platt's smoothed targets). Its reliability is measured on the run's test
//! predictions against the gold pairs, leaving out the reviewed ones; "accept every
//! prediction above p" previews and records (as one undoable step) on top of it.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::datasets::joint_entity_dto;
use super::dto::ReviewStrategy;
use super::{Api, ApiError, ApiResult};
use crate::store::{DecisionSource, NewDecision, PairKey, RunId, Verdict, reviews};

/// Reviewed random-order pairs needed before a calibration is fitted.
pub const MIN_SAMPLES: usize = 10;
/// Bins of the reliability diagram.
const BINS: usize = 10;
/// The review order recorded for decisions taken over from a calibrated threshold.
const CALIBRATED: &str = "calibrated_threshold";

/// How scores become probabilities.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, TS,
)]
#[serde(rename_all = "snake_case")]
pub enum CalibrationMethod {
    /// Isotonic regression: the monotone step fit, linear between its points.
    #[default]
    Isotonic,
    /// Platt scaling: `1 / (1 + exp(a·score + b))`.
    Platt,
}

/// A fitted score → probability map.
#[derive(Debug, Clone, PartialEq)]
pub enum Calibrator {
    /// Increasing (score, probability) points; constant outside, linear between.
    Isotonic(Vec<(f64, f64)>),
    /// `1 / (1 + exp(a·score + b))`.
    Platt {
        /// Slope (negative when higher scores are likelier right).
        a: f64,
        /// Offset.
        b: f64,
    },
}

impl Calibrator {
    /// Fits `method` to (score, right?) samples.
    pub fn fit(method: CalibrationMethod, samples: &[(f64, bool)]) -> Self {
        match method {
            CalibrationMethod::Isotonic => Self::Isotonic(isotonic(samples)),
            CalibrationMethod::Platt => {
                let (a, b) = platt(samples);
                Self::Platt { a, b }
            }
        }
    }

    /// The probability that a prediction scoring `score` is right.
    pub fn probability(&self, score: f64) -> f64 {
        match self {
            Self::Platt { a, b } => 1.0 / (1.0 + (a * score + b).exp()),
            Self::Isotonic(points) => {
                let Some(first) = points.first() else {
                    return 0.5;
                };
                if score <= first.0 {
                    return first.1;
                }
                for w in points.windows(2) {
                    let ((x0, y0), (x1, y1)) = (w[0], w[1]);
                    if score <= x1 {
                        return if x1 > x0 {
                            y0 + (y1 - y0) * (score - x0) / (x1 - x0)
                        } else {
                            y1
                        };
                    }
                }
                points.last().map_or(0.5, |p| p.1)
            }
        }
    }
}

/// Pool adjacent violators over the samples sorted by score: blocks of non-decreasing
/// means; each block is one point (its mean score, its share right). The shares are
/// smoothed by one right and one wrong pseudo-sample per block (`(h + 1) / (n + 2)`, then
/// pooled again where that broke the order), so that a few samples never give a
/// probability of exactly 0 or 1 — a choice of ours; plain isotonic regression does not
/// smooth, and with tens of reviewed pairs its end blocks were overconfident.
fn isotonic(samples: &[(f64, bool)]) -> Vec<(f64, f64)> {
    let mut sorted: Vec<(f64, f64)> = samples
        .iter()
        .map(|&(s, right)| (s, if right { 1.0 } else { 0.0 }))
        .collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    // (sum of scores, sum of values, weight) per block, value = labels first.
    let blocks = pool(sorted.into_iter().map(|(s, label)| (s, label, 1.0)));
    let smoothed = blocks.into_iter().map(|(scores, labels, count)| {
        let value = (labels + 1.0) / (count + 2.0);
        (scores, value * count, count)
    });
    pool(smoothed)
        .into_iter()
        .map(|(scores, values, count)| (scores / count, values / count))
        .collect()
}

/// Pool adjacent violators: merges neighbouring (score sum, value sum, weight) blocks
/// until their mean values never decrease.
fn pool(blocks_in: impl Iterator<Item = (f64, f64, f64)>) -> Vec<(f64, f64, f64)> {
    let mut blocks: Vec<(f64, f64, f64)> = Vec::new();
    for block in blocks_in {
        blocks.push(block);
        while blocks.len() > 1 {
            let n = blocks.len();
            let (last, before) = (blocks[n - 1], blocks[n - 2]);
            if before.1 / before.2 <= last.1 / last.2 {
                break;
            }
            blocks.truncate(n - 2);
            blocks.push((before.0 + last.0, before.1 + last.1, before.2 + last.2));
        }
    }
    blocks
}

/// Platt's fit of `1 / (1 + exp(a·s + b))` by Newton's method on the log loss, with his
/// smoothed targets (`(n₊ + 1) / (n₊ + 2)` and `1 / (n₋ + 2)`) so that separable
/// samples do not drive the slope to infinity.
fn platt(samples: &[(f64, bool)]) -> (f64, f64) {
    let positives = samples.iter().filter(|s| s.1).count() as f64;
    let negatives = samples.len() as f64 - positives;
    let high = (positives + 1.0) / (positives + 2.0);
    let low = 1.0 / (negatives + 2.0);
    let (mut a, mut b) = (0.0, ((negatives + 1.0) / (positives + 1.0)).ln());
    for _ in 0..100 {
        // Gradient and Hessian of the log loss in (a, b); p = 1 / (1 + exp(a s + b)).
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 1e-12, 0.0, 1e-12);
        for &(s, right) in samples {
            let t = if right { high } else { low };
            let p = 1.0 / (1.0 + (a * s + b).exp());
            let d = t - p;
            let w = p * (1.0 - p);
            ga += s * d;
            gb += d;
            haa += s * s * w;
            hab += s * w;
            hbb += w;
        }
        let det = haa * hbb - hab * hab;
        if det.abs() < 1e-18 {
            break;
        }
        let step_a = (hbb * ga - hab * gb) / det;
        let step_b = (haa * gb - hab * ga) / det;
        a -= step_a;
        b -= step_b;
        if step_a.abs() < 1e-10 && step_b.abs() < 1e-10 {
            break;
        }
    }
    (a, b)
}

/// One bin of the reliability diagram.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ReliabilityBinDto {
    /// Mean calibrated probability of the predictions in the bin.
    pub predicted: f64,
    /// Share of them that are right (against the gold pairs).
    pub observed: f64,
    /// Predictions in the bin.
    pub count: usize,
    /// 95% Wilson interval of `observed`.
    pub low: f64,
    /// Its upper end.
    pub high: f64,
}

/// A run's calibration.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct CalibrationDto {
    /// The method.
    pub method: CalibrationMethod,
    /// What it was fitted on, in words.
    pub source: String,
    /// Reviewed pairs it was fitted on: accepted (right) and rejected (wrong).
    pub accepted: usize,
    /// Rejected.
    pub rejected: usize,
    /// The fitted map as (score, probability) points over the scores seen, for a plot.
    pub curve: Vec<(f64, f64)>,
    /// The reliability diagram on the run's test predictions not reviewed (gold pairs).
    pub reliability: Vec<ReliabilityBinDto>,
    /// Expected calibration error over those predictions.
    pub ece: f64,
    /// Test predictions the reliability is measured on.
    pub evaluated: usize,
    /// Why nothing is fitted yet (too few reviewed pairs, and what to do); the fields
    /// above are then empty.
    pub missing: Option<String>,
}

/// What "accept every prediction above p" would record.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct AcceptPreviewDto {
    /// The threshold.
    pub threshold: f64,
    /// Undecided top-1 predictions with a calibrated probability of at least it.
    pub pairs: usize,
    /// Their expected number of wrong ones (the sum of 1 − probability).
    pub expected_wrong: f64,
    /// The batch the decisions were recorded in (only after recording).
    pub batch: Option<String>,
}

/// 95% Wilson interval of `hits` out of `n`.
fn wilson(hits: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (n, p, z) = (n as f64, hits as f64 / n as f64, 1.959_964_f64);
    let denominator = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denominator;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denominator;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Reliability bins (equal width over [0, 1]) of (probability, right?) pairs, and the
/// expected calibration error.
pub fn reliability(predictions: &[(f64, bool)]) -> (Vec<ReliabilityBinDto>, f64) {
    let mut bins = vec![(0.0, 0usize, 0usize); BINS];
    for &(p, right) in predictions {
        let bin = ((p * BINS as f64) as usize).min(BINS - 1);
        bins[bin].0 += p;
        bins[bin].1 += usize::from(right);
        bins[bin].2 += 1;
    }
    let total = predictions.len().max(1) as f64;
    let mut ece = 0.0;
    let out = bins
        .into_iter()
        .filter(|b| b.2 > 0)
        .map(|(sum, hits, count)| {
            let predicted = sum / count as f64;
            let observed = hits as f64 / count as f64;
            ece += count as f64 / total * (observed - predicted).abs();
            let (low, high) = wilson(hits, count);
            ReliabilityBinDto {
                predicted,
                observed,
                count,
                low,
                high,
            }
        })
        .collect();
    (out, ece)
}

/// A run's left-to-right top-1 predictions: (left key, right key, score, right?).
type Top1 = (String, String, f64, bool);

/// A calibrator, the (score, right?) samples it was fitted on, and their pairs.
type Fitted = (Calibrator, Vec<(f64, bool)>, BTreeSet<PairKey>);

impl Api {
    /// The run's top-1 predictions with whether each is the gold match.
    async fn top1_with_truth(&self, run: RunId) -> ApiResult<Vec<Top1>> {
        let row = self.run_row(run).await?;
        let pair = self.loaded_pair(row.dataset_id).await?;
        let top = self.store.top_two(run, 0).await?;
        let queries: Vec<i64> = top.iter().map(|t| t.0).collect();
        let ranks: HashMap<i64, i64> = self
            .store
            .ranks_of(run, 0, &queries)
            .await?
            .into_iter()
            .collect();
        let mut out = Vec::with_capacity(top.len());
        for (q, c, score, ..) in top {
            let (Some(left), Some(right)) =
                (joint_entity_dto(&pair, q), joint_entity_dto(&pair, c))
            else {
                return Err(ApiError::conflict(format!(
                    "run {run}'s predictions name entities its dataset does not have"
                )));
            };
            out.push((left.key, right.key, score, ranks.get(&q) == Some(&1)));
        }
        Ok(out)
    }

    /// The calibrator of run `run` by `method`, with the reviewed pairs it was fitted on;
    /// `Err(message)` inside when too few pairs are reviewed.
    async fn fitted(
        &self,
        run: RunId,
        method: CalibrationMethod,
        top1: &[Top1],
    ) -> ApiResult<Result<Fitted, String>> {
        let dataset = self.run_row(run).await?.dataset_id;
        let pairs = reviews(&self.store.decision_history(dataset).await?);
        let random = ReviewStrategy::Random.as_str();
        let scores: HashMap<(&str, &str), f64> = top1
            .iter()
            .map(|(l, r, s, _)| ((l.as_str(), r.as_str()), *s))
            .collect();
        let mut samples = Vec::new();
        let mut reviewed = BTreeSet::new();
        for ((left, right), pair) in &pairs {
            let Some(row) = pair.standing() else { continue };
            let sampled = pair
                .by_reviewer
                .values()
                .any(|r| r.run_id == Some(run) && r.review_strategy.as_deref() == Some(random));
            let right_or_wrong = match row.verdict {
                Verdict::Accept => true,
                Verdict::Reject => false,
                _ => continue,
            };
            if let (true, Some(&score)) = (sampled, scores.get(&(left.as_str(), right.as_str()))) {
                samples.push((score, right_or_wrong));
                reviewed.insert((left.clone(), right.clone()));
            }
        }
        if samples.len() < MIN_SAMPLES {
            return Ok(Err(format!(
                "run {run} has {} reviewed pairs in its random order; calibration needs at least {MIN_SAMPLES}: review more in the random order",
                samples.len()
            )));
        }
        Ok(Ok((Calibrator::fit(method, &samples), samples, reviewed)))
    }

    /// Run `run`'s calibration by `method` (see the module docs).
    pub async fn calibration(
        &self,
        run: RunId,
        method: CalibrationMethod,
    ) -> ApiResult<CalibrationDto> {
        let top1 = self.top1_with_truth(run).await?;
        let (calibrator, samples, reviewed) = match self.fitted(run, method, &top1).await? {
            Ok(fitted) => fitted,
            Err(missing) => {
                return Ok(CalibrationDto {
                    method,
                    source: String::new(),
                    accepted: 0,
                    rejected: 0,
                    curve: Vec::new(),
                    reliability: Vec::new(),
                    ece: 0.0,
                    evaluated: 0,
                    missing: Some(missing),
                });
            }
        };
        let held_out: Vec<(f64, bool)> = top1
            .iter()
            .filter(|(l, r, ..)| !reviewed.contains(&(l.clone(), r.clone())))
            .map(|(_, _, score, right)| (calibrator.probability(*score), *right))
            .collect();
        let (bins, ece) = reliability(&held_out);
        let (low, high) = top1
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), t| {
                (lo.min(t.2), hi.max(t.2))
            });
        let curve = if low.is_finite() && high > low {
            (0..=40)
                .map(|i| {
                    let s = low + (high - low) * f64::from(i) / 40.0;
                    (s, calibrator.probability(s))
                })
                .collect()
        } else {
            Vec::new()
        };
        let accepted = samples.iter().filter(|s| s.1).count();
        Ok(CalibrationDto {
            method,
            source: format!(
                "{} pairs reviewed in run {run}'s random order",
                samples.len()
            ),
            accepted,
            rejected: samples.len() - accepted,
            curve,
            reliability: bins,
            ece,
            evaluated: held_out.len(),
            missing: None,
        })
    }

    /// The undecided top-1 predictions of `run` whose calibrated probability is at least
    /// `threshold`, with their probabilities.
    async fn above(
        &self,
        run: RunId,
        method: CalibrationMethod,
        threshold: f64,
    ) -> ApiResult<Vec<(String, String, f64)>> {
        if !(0.0..=1.0).contains(&threshold) {
            return Err(ApiError::invalid(format!(
                "a probability threshold is between 0 and 1, not {threshold}"
            )));
        }
        let top1 = self.top1_with_truth(run).await?;
        let (calibrator, ..) = self
            .fitted(run, method, &top1)
            .await?
            .map_err(ApiError::conflict)?;
        let dataset = self.run_row(run).await?.dataset_id;
        let decided: HashSet<PairKey> = reviews(&self.store.decision_history(dataset).await?)
            .into_keys()
            .collect();
        Ok(top1
            .into_iter()
            .filter(|(l, r, ..)| !decided.contains(&(l.clone(), r.clone())))
            .map(|(l, r, score, _)| (l, r, calibrator.probability(score)))
            .filter(|(.., p)| *p >= threshold)
            .collect())
    }

    /// What accepting every undecided prediction of `run` with a calibrated probability
    /// of at least `threshold` would record, without recording anything.
    pub async fn accept_preview(
        &self,
        run: RunId,
        method: CalibrationMethod,
        threshold: f64,
    ) -> ApiResult<AcceptPreviewDto> {
        let above = self.above(run, method, threshold).await?;
        Ok(AcceptPreviewDto {
            threshold,
            pairs: above.len(),
            expected_wrong: above.iter().map(|(.., p)| 1.0 - p).sum(),
            batch: None,
        })
    }

    /// Records those predictions as accepted, taken over from the model (confidence: the
    /// calibrated probability), by `reviewer`, in one batch that one undo takes back.
    pub async fn accept_above(
        &self,
        run: RunId,
        method: CalibrationMethod,
        threshold: f64,
        reviewer: Option<String>,
    ) -> ApiResult<AcceptPreviewDto> {
        let above = self.above(run, method, threshold).await?;
        let dataset = self.run_row(run).await?.dataset_id;
        let author = self.reviewer(reviewer.as_deref()).await?;
        let method_word = match method {
            CalibrationMethod::Isotonic => "isotonic",
            CalibrationMethod::Platt => "Platt",
        };
        let decisions: Vec<NewDecision> = above
            .iter()
            .map(|(left, right, p)| NewDecision {
                dataset,
                left_key: left.clone(),
                right_key: right.clone(),
                verdict: Verdict::Accept,
                source: DecisionSource::Model,
                run: Some(run),
                confidence: Some(*p),
                note: Some(format!(
                    "calibrated probability {p:.3} ≥ {threshold} ({method_word})"
                )),
                author: author.clone(),
                review_strategy: Some(CALIBRATED.to_string()),
                session: None,
                blind: None,
                adjudication: false,
                batch: None,
            })
            .collect();
        let batch = if decisions.is_empty() {
            None
        } else {
            Some(self.store.record_decision_batch(&decisions).await?)
        };
        Ok(AcceptPreviewDto {
            threshold,
            pairs: above.len(),
            expected_wrong: above.iter().map(|(.., p)| 1.0 - p).sum(),
            batch,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isotonic_pools_violators_into_a_monotone_fit() {
        // Labels by score: 0 1 0 1 1 → the middle 1, 0 pool into one block of 1/2; each
        // block's share smoothed: 0/1 → 1/3, 1/2 → 2/4, 1/1 → 2/3.
        let samples = [
            (0.1, false),
            (0.2, true),
            (0.3, false),
            (0.4, true),
            (0.5, true),
        ];
        let points = isotonic(&samples);
        let expected = [
            (0.1, 1.0 / 3.0),
            (0.25, 0.5),
            (0.4, 2.0 / 3.0),
            (0.5, 2.0 / 3.0),
        ];
        assert_eq!(points.len(), expected.len());
        for (p, e) in points.iter().zip(expected) {
            assert!(
                (p.0 - e.0).abs() < 1e-12 && (p.1 - e.1).abs() < 1e-12,
                "{points:?}"
            );
        }
        let c = Calibrator::Isotonic(points);
        assert!((c.probability(0.0) - 1.0 / 3.0).abs() < 1e-12);
        let middle = 1.0 / 3.0 + (0.5 - 1.0 / 3.0) / 2.0;
        assert!(
            (c.probability(0.175) - middle).abs() < 1e-12,
            "linear between points"
        );
        assert!((c.probability(0.9) - 2.0 / 3.0).abs() < 1e-12);
        // Smoothing keeps the order: 0/1 then 1/10 would smooth to 1/3 > 2/12; pooled.
        let mut uneven = vec![(0.0, false)];
        uneven.extend((1..=10).map(|i| (f64::from(i), i == 10)));
        assert!(points_are_monotone(&isotonic(&uneven)));
        assert!(points_are_monotone(&isotonic(&[
            (0.3, true),
            (0.1, true),
            (0.2, false)
        ])));
    }

    fn points_are_monotone(points: &[(f64, f64)]) -> bool {
        points
            .windows(2)
            .all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1)
    }

    #[test]
    fn platt_recovers_a_logistic_curve() {
        // 2,000 samples drawn (deterministically) from p(right | s) = 1 / (1 + exp(-8 s + 4)).
        let mut samples = Vec::new();
        let mut state = 12345u64;
        for i in 0..2000 {
            let s = f64::from(i % 100) / 100.0;
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            samples.push((s, u < 1.0 / (1.0 + (-8.0 * s + 4.0).exp())));
        }
        let Calibrator::Platt { a, b } = Calibrator::fit(CalibrationMethod::Platt, &samples) else {
            panic!("Platt was asked for")
        };
        assert!((a + 8.0).abs() < 1.0, "a = {a}");
        assert!((b - 4.0).abs() < 0.6, "b = {b}");
    }

    #[test]
    fn reliability_bins_count_and_bracket() {
        let predictions = [(0.05, false), (0.95, true), (0.92, true), (0.91, false)];
        let (bins, ece) = reliability(&predictions);
        assert_eq!(bins.len(), 2);
        assert_eq!((bins[1].count, bins[1].observed), (3, 2.0 / 3.0));
        assert!(bins[1].low < bins[1].observed && bins[1].observed < bins[1].high);
        // |0 - 0.05| · 1/4 + |2/3 - 0.9267| · 3/4
        assert!((ece - (0.05 / 4.0 + (0.926_666_666 - 2.0 / 3.0) * 0.75)).abs() < 1e-6);
    }
}
