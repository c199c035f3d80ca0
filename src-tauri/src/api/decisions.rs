//! Decisions: record, undo, history, standing state, review progress, and seeds for a
//! new run.

use std::collections::BTreeSet;

use super::datasets::joint_entity_dto;
use super::dto::{
    DecisionRequest, PrecisionEstimateDto, ReviewProgressDto, ReviewStrategy, SeedSetDto, SideDto,
};
use super::{Api, ApiError, ApiResult};
use crate::store::{
    DatasetId, DecisionRow, NewDecision, PairKey, PairState, RunId, Verdict, replay, reviews,
};

impl Api {
    /// Appends a decision about a pair (both keys must exist in the dataset), by the
    /// request's author, else the data directory's reviewer. An adjudicated pair takes no
    /// more reviews (its adjudication is final until undone); an adjudication is taken
    /// only on a pair the reviewers disagree about (or one adjudicated before).
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
        let author = self.reviewer(request.author.as_deref()).await?;
        let adjudication = request.adjudication.unwrap_or(false);
        let history = self
            .store
            .pair_history(request.dataset, &request.left, &request.right)
            .await?;
        let pair = reviews(&history)
            .remove(&(request.left.clone(), request.right.clone()))
            .unwrap_or_default();
        let what = format!("{} ↔ {}", request.left, request.right);
        match (pair.state(), adjudication) {
            (PairState::Final(row), false) => {
                return Err(ApiError::conflict(format!(
                    "{what} was adjudicated by {} ({}): that decision is final; undo it to review the pair again",
                    row.author,
                    row.verdict.as_str()
                )));
            }
            (PairState::Agreed(_), true) if pair.by_reviewer.len() < 2 => {
                return Err(ApiError::conflict(format!(
                    "{what} has {} reviewer: an adjudication settles a disagreement between reviewers",
                    pair.by_reviewer.len()
                )));
            }
            (PairState::Agreed(row), true) => {
                return Err(ApiError::conflict(format!(
                    "the reviewers of {what} agree ({}): there is nothing to adjudicate",
                    row.verdict.as_str()
                )));
            }
            _ => {}
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
                author,
                review_strategy: request.strategy.map(|s| s.as_str().to_string()),
                session: request.session,
                blind: request.blind,
                adjudication,
                batch: None,
            })
            .await?)
    }

    /// Undoes the newest decision of a dataset that is still standing and was taken by
    /// `author` (the data directory's reviewer when `None`) in `session` (any of the author's when `None`);
    /// the undo row, or `None` when there is nothing to undo. Another reviewer's or another
    /// window's decisions are never taken back.
    pub async fn undo_decision(
        &self,
        dataset: DatasetId,
        author: Option<String>,
        session: Option<String>,
    ) -> ApiResult<Option<DecisionRow>> {
        self.dataset_row(dataset).await?;
        let author = self.reviewer(author.as_deref()).await?;
        Ok(self
            .store
            .undo_latest_decision(dataset, &author, session.as_deref())
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
        let pairs = reviews(&self.store.decision_history(row.dataset_id).await?);
        let mut progress = ReviewProgressDto {
            predictions: predicted.len(),
            accepted: 0,
            rejected: 0,
            unsure: 0,
            disputed: 0,
            random_sample: PrecisionEstimateDto::default(),
        };
        let random = Some(ReviewStrategy::Random.as_str());
        for (_, pair) in pairs.iter().filter(|(k, _)| predicted.contains(*k)) {
            let Some(decision) = pair.standing() else {
                progress.disputed += 1;
                continue;
            };
            let sampled =
                decision.run_id == Some(run) && decision.review_strategy.as_deref() == random;
            if sampled && matches!(decision.verdict, Verdict::Accept | Verdict::Reject) {
                if decision.blind == Some(true) {
                    progress.random_sample.blind += 1;
                } else {
                    progress.random_sample.sighted += 1;
                }
            }
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
}
