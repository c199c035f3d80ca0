//! Decisions: record, undo, history, standing state, the review queue, and seeds for
//! a new run.

use std::collections::{BTreeSet, HashMap};

use super::datasets::joint_entity_dto;
use super::decoding::decoder_label;
use super::dto::{
    DecisionRequest, DecoderMethod, PrecisionEstimateDto, ReviewItemDto, ReviewProgressDto,
    ReviewStrategy, SeedSetDto, SideDto,
};
use super::{Api, ApiError, ApiResult, default_author};
use crate::store::{DatasetId, DecisionRow, NewDecision, PairKey, RunId, Verdict, replay};

impl Api {
    /// Appends a decision about a pair (both keys must exist in the dataset).
    pub async fn record_decision(&self, request: DecisionRequest) -> ApiResult<DecisionRow> {
        if request.verdict == Verdict::None {
            return Err(ApiError::invalid(
                "a decision is accept, reject or unsure; use undo to take one back",
            ));
        }
        self.dataset_row(request.dataset).await?;
        self.entity_by_key(request.dataset, SideDto::Left, &request.left)
            .await?;
        self.entity_by_key(request.dataset, SideDto::Right, &request.right)
            .await?;
        if let Some(run) = request.run {
            self.run_row(run).await?;
        }
        if let Some(c) = request.confidence
            && !(0.0..=1.0).contains(&c)
        {
            return Err(ApiError::invalid(format!(
                "confidence {c} is not between 0 and 1"
            )));
        }
        Ok(self
            .store
            .record_decision(&NewDecision {
                dataset: request.dataset,
                left_key: request.left,
                right_key: request.right,
                verdict: request.verdict,
                source: request.source,
                run: request.run,
                confidence: request.confidence,
                note: request.note,
                author: request.author.unwrap_or_else(default_author),
                review_strategy: request.strategy.map(|s| s.as_str().to_string()),
                session: request.session,
            })
            .await?)
    }

    /// Undoes the newest decision of a dataset that is still standing and was taken by
    /// `author` (the OS user when `None`) in `session` (any of the author's when `None`);
    /// the undo row, or `None` when there is nothing to undo. Another reviewer's or another
    /// window's decisions are never taken back.
    pub async fn undo_decision(
        &self,
        dataset: DatasetId,
        author: Option<String>,
        session: Option<String>,
    ) -> ApiResult<Option<DecisionRow>> {
        self.dataset_row(dataset).await?;
        Ok(self
            .store
            .undo_latest_decision(
                dataset,
                &author.unwrap_or_else(default_author),
                session.as_deref(),
            )
            .await?)
    }

    /// Every decision row of a dataset, oldest first (decisions and undos).
    pub async fn decision_history(&self, dataset: DatasetId) -> ApiResult<Vec<DecisionRow>> {
        self.dataset_row(dataset).await?;
        Ok(self.store.decision_history(dataset).await?)
    }

    /// The standing decision of every decided pair.
    pub async fn standing_decisions(&self, dataset: DatasetId) -> ApiResult<Vec<DecisionRow>> {
        Ok(replay(&self.decision_history(dataset).await?)
            .into_values()
            .collect())
    }

    /// Pairs to review next, from run `run`'s left-to-right top-1 predictions, ordered by
    /// `strategy`; pairs with a standing decision are left out. `other` is a second run
    /// for the disagreement strategy (without it, the two directions of `run` are
    /// compared).
    pub async fn review_queue(
        &self,
        run: RunId,
        strategy: ReviewStrategy,
        other: Option<RunId>,
        limit: usize,
    ) -> ApiResult<Vec<ReviewItemDto>> {
        let row = self.run_row(run).await?;
        let dataset = row.dataset_id;
        let pair = self.loaded_pair(dataset).await?;
        let top = self.store.top_two(run, 0).await?;
        let mut hubs: HashMap<i64, usize> = HashMap::new();
        for (_, c, ..) in &top {
            *hubs.entry(*c).or_default() += 1;
        }
        let decided: BTreeSet<PairKey> = replay(&self.store.decision_history(dataset).await?)
            .into_keys()
            .collect();
        // (query, candidate, score, margin, reason, sort key)
        let mut items: Vec<(i64, i64, f64, Option<f64>, String, f64)> = Vec::new();
        match strategy {
            ReviewStrategy::LowestMargin => {
                for (q, c, s, _, s2) in &top {
                    let margin = s2.map(|s2| s - s2);
                    items.push((
                        *q,
                        *c,
                        *s,
                        margin,
                        "small gap between the first and second candidate".into(),
                        margin.unwrap_or(f64::INFINITY),
                    ));
                }
            }
            ReviewStrategy::Hubs => {
                for (q, c, s, _, s2) in &top {
                    let n = hubs[c];
                    if n > 1 {
                        items.push((
                            *q,
                            *c,
                            *s,
                            s2.map(|s2| s - s2),
                            format!("the candidate is the first choice of {n} entities"),
                            -(n as f64) + s * 1e-6,
                        ));
                    }
                }
            }
            ReviewStrategy::Random => {
                for (q, c, s, _, s2) in &top {
                    items.push((
                        *q,
                        *c,
                        *s,
                        s2.map(|s2| s - s2),
                        "a random sample of the run's predictions".into(),
                        random_position(run, *q),
                    ));
                }
            }
            ReviewStrategy::OneToOne => {
                let saved = self.saved_decoding(run).await?;
                let Some(outcome) = saved.as_ref().and_then(|s| {
                    [
                        DecoderMethod::Sinkhorn,
                        DecoderMethod::Hungarian,
                        DecoderMethod::Greedy,
                    ]
                    .into_iter()
                    .find_map(|m| s.outcome(m))
                }) else {
                    return Err(ApiError::not_found(format!(
                        "run {run} has no saved one-to-one decoding: decode it first (`alignscope runs decode {run}`, or Decode on the run's analysis page)"
                    )));
                };
                let label = decoder_label(&outcome.decoder);
                for &(q, c, confidence) in &outcome.pairs {
                    let confidence = f64::from(confidence);
                    items.push((
                        q,
                        c,
                        confidence,
                        None,
                        format!("{label}: one-to-one pair of confidence {confidence:.3} (least confident first)"),
                        confidence,
                    ));
                }
            }
            ReviewStrategy::Disagreement => {
                let (second, what): (HashMap<i64, i64>, &str) = match other {
                    Some(o) => {
                        let o_row = self.run_row(o).await?;
                        if o_row.dataset_id != dataset {
                            return Err(ApiError::invalid(format!(
                                "runs {run} and {o} are on different datasets"
                            )));
                        }
                        let map = self
                            .store
                            .top_two(o, 0)
                            .await?
                            .into_iter()
                            .map(|(q, c, ..)| (q, c))
                            .collect();
                        (map, "the other run")
                    }
                    None => {
                        // Right-to-left: disagreement where the candidate's own top-1 does
                        // not point back.
                        let map = self
                            .mutual_top_ones(run)
                            .await?
                            .into_iter()
                            .map(|(q, c, _)| (q, c))
                            .collect();
                        (map, "the right-to-left ranking")
                    }
                };
                for (q, c, s, _, s2) in &top {
                    if second.get(q) != Some(c) {
                        items.push((
                            *q,
                            *c,
                            *s,
                            s2.map(|s2| s - s2),
                            format!("{what} does not agree on this top-1"),
                            *s,
                        ));
                    }
                }
            }
        }
        items.sort_by(|a, b| a.5.total_cmp(&b.5).then(a.0.cmp(&b.0)));
        let mut out = Vec::new();
        for (q, c, score, margin, reason, _) in items {
            if out.len() >= limit {
                break;
            }
            let (Some(left), Some(right)) =
                (joint_entity_dto(&pair, q), joint_entity_dto(&pair, c))
            else {
                return Err(ApiError::conflict(format!(
                    "run {run}'s predictions name entities that dataset {dataset} does not have"
                )));
            };
            if decided.contains(&(left.key.clone(), right.key.clone())) {
                continue;
            }
            out.push(ReviewItemDto {
                hub_count: hubs.get(&c).copied().unwrap_or(0),
                left,
                right,
                score,
                margin,
                reason,
            });
        }
        Ok(out)
    }

    /// Seeds for a new run on `run`'s dataset: its training pairs, plus accepted
    /// decisions, minus pairs a standing decision rejects.
    pub async fn seeds_for_new_run(&self, run: RunId) -> ApiResult<SeedSetDto> {
        let row = self.run_row(run).await?;
        let mut seeds = BTreeSet::clone(&*self.training_pairs(run).await?);
        let from_training = seeds.len();
        let (mut added, mut removed) = (0, 0);
        let mut rejected = Vec::new();
        for (pair_key, decision) in replay(&self.store.decision_history(row.dataset_id).await?) {
            match decision.verdict {
                Verdict::Accept => added += usize::from(seeds.insert(pair_key)),
                Verdict::Reject => {
                    removed += usize::from(seeds.remove(&pair_key));
                    rejected.push(pair_key);
                }
                Verdict::Unsure | Verdict::None => {}
            }
        }
        Ok(SeedSetDto {
            pairs: seeds.into_iter().collect(),
            from_training,
            accepted_added: added,
            rejected_removed: removed,
            rejected,
        })
    }
}

/// A query's place in run `run`'s fixed random review order: a hash of the two (the
/// splitmix64 finaliser), so the order is the same on every call and differs per run.
fn random_position(run: RunId, query: i64) -> f64 {
    let mut z = (run.0 as u64).rotate_left(32) ^ (query as u64);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64
}

impl Api {
    /// How far the review of run `run`'s left-to-right top-1 predictions has come, with
    /// its precision estimated from the decisions on pairs of its random order.
    pub async fn review_progress(&self, run: RunId) -> ApiResult<ReviewProgressDto> {
        let row = self.run_row(run).await?;
        let pair = self.loaded_pair(row.dataset_id).await?;
        let predicted: BTreeSet<PairKey> = self
            .store
            .top_two(run, 0)
            .await?
            .into_iter()
            .filter_map(|(q, c, ..)| {
                Some((
                    joint_entity_dto(&pair, q)?.key,
                    joint_entity_dto(&pair, c)?.key,
                ))
            })
            .collect();
        let standing = replay(&self.store.decision_history(row.dataset_id).await?);
        let mut progress = ReviewProgressDto {
            predictions: predicted.len(),
            accepted: 0,
            rejected: 0,
            unsure: 0,
            random_sample: PrecisionEstimateDto::default(),
        };
        let random = Some(ReviewStrategy::Random.as_str());
        for (_, decision) in standing.iter().filter(|(k, _)| predicted.contains(*k)) {
            let sampled =
                decision.run_id == Some(run) && decision.review_strategy.as_deref() == random;
            match decision.verdict {
                Verdict::Accept => {
                    progress.accepted += 1;
                    progress.random_sample.accepted += usize::from(sampled);
                }
                Verdict::Reject => {
                    progress.rejected += 1;
                    progress.random_sample.rejected += usize::from(sampled);
                }
                Verdict::Unsure => progress.unsure += 1,
                Verdict::None => {}
            }
        }
        progress.random_sample.estimate();
        Ok(progress)
    }
}

impl PrecisionEstimateDto {
    /// Fills `precision` and its 95% Wilson score interval from the counts.
    fn estimate(&mut self) {
        let n = (self.accepted + self.rejected) as f64;
        if n == 0.0 {
            return;
        }
        let p = self.accepted as f64 / n;
        let z = 1.959_964_f64;
        let denominator = 1.0 + z * z / n;
        let centre = (p + z * z / (2.0 * n)) / denominator;
        let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denominator;
        self.precision = Some(p);
        self.low = Some((centre - half).max(0.0));
        self.high = Some((centre + half).min(1.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_interval_brackets_the_sample_precision() {
        let mut e = PrecisionEstimateDto {
            accepted: 18,
            rejected: 2,
            ..PrecisionEstimateDto::default()
        };
        e.estimate();
        assert_eq!(e.precision, Some(0.9));
        // Reference values of the Wilson interval for 18/20 at 95%.
        assert!((e.low.unwrap() - 0.6990).abs() < 1e-3, "{e:?}");
        assert!((e.high.unwrap() - 0.9721).abs() < 1e-3, "{e:?}");
        let mut none = PrecisionEstimateDto::default();
        none.estimate();
        assert_eq!(none.precision, None);
    }

    #[test]
    fn the_random_order_is_fixed_per_run_and_differs_between_runs() {
        let order = |run: i64| {
            let mut q: Vec<i64> = (0..50).collect();
            q.sort_by(|a, b| {
                random_position(RunId(run), *a).total_cmp(&random_position(RunId(run), *b))
            });
            q
        };
        assert_eq!(order(3), order(3));
        assert_ne!(order(3), order(4));
        assert_ne!(order(3), (0..50).collect::<Vec<_>>());
    }
}
