//! Decisions: record, undo, history, standing state, the review queue, and seeds for
//! a new run.

use std::collections::{BTreeSet, HashMap};

use alignscope_datasets::{Side, SplitSpec, split_gold};

use super::dto::{DecisionRequest, ReviewItemDto, ReviewStrategy, SeedSetDto, SideDto};
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
            })
            .await?)
    }

    /// Undoes the newest decision of a dataset that is still standing; the undo row, or
    /// `None` when there is nothing to undo.
    pub async fn undo_decision(
        &self,
        dataset: DatasetId,
        author: Option<String>,
    ) -> ApiResult<Option<DecisionRow>> {
        self.dataset_row(dataset).await?;
        Ok(self
            .store
            .undo_latest_decision(dataset, &author.unwrap_or_else(default_author))
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
                        // Right-to-left: candidate -> its own top-1; disagreement when it
                        // does not point back.
                        let back: HashMap<i64, i64> = self
                            .store
                            .top_two(run, 1)
                            .await?
                            .into_iter()
                            .map(|(q, c, ..)| (q, c))
                            .collect();
                        let map = top
                            .iter()
                            .filter_map(|(q, c, ..)| match back.get(c) {
                                Some(b) if b == q => Some((*q, *c)),
                                _ => None,
                            })
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
            let left = self.entity_at(dataset, q).await?;
            let right = self.entity_at(dataset, c).await?;
            if decided.contains(&(left.key.clone(), right.key.clone())) {
                continue;
            }
            out.push(ReviewItemDto {
                hub_count: hubs[&c],
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
        let config: serde_json::Value = row
            .config
            .as_deref()
            .and_then(|c| serde_json::from_str(c).ok())
            .ok_or_else(|| {
                ApiError::conflict(format!("run {run} has not started; no training pairs yet"))
            })?;
        let split = &config["split"];
        let spec = SplitSpec {
            train_ratio: split["train_ratio"].as_f64().unwrap_or(0.3),
            valid_ratio: split["valid_ratio"].as_f64().unwrap_or(0.0),
            seed: split["seed"].as_u64().unwrap_or(row.seed as u64),
        };
        let pair = self.loaded_pair(row.dataset_id).await?;
        let split = split_gold(&pair, spec).map_err(|e| ApiError::invalid(e.to_string()))?;
        let key = |side: Side, i: u32| pair.graph(side).entities[i as usize].key.clone();
        let mut seeds: BTreeSet<PairKey> = split
            .train
            .iter()
            .map(|p| (key(Side::Left, p.left), key(Side::Right, p.right)))
            .collect();
        let from_training = seeds.len();
        let (mut added, mut removed) = (0, 0);
        for (pair_key, decision) in replay(&self.store.decision_history(row.dataset_id).await?) {
            match decision.verdict {
                Verdict::Accept => added += usize::from(seeds.insert(pair_key)),
                Verdict::Reject => removed += usize::from(seeds.remove(&pair_key)),
                Verdict::Unsure | Verdict::None => {}
            }
        }
        Ok(SeedSetDto {
            pairs: seeds.into_iter().collect(),
            from_training,
            accepted_added: added,
            rejected_removed: removed,
        })
    }
}
