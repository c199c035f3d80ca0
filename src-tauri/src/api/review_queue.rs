//! The review queue: which pairs to decide next. Its scope says which pairs (the run's
//! predictions nobody decided, pairs another reviewer decided for a second opinion,
//! pairs the reviewers disagree about for an adjudicator, or accepted pairs that break
//! one-to-one or the neighbour structure), its strategy how the first are ordered; in
//! blind mode it carries nothing of the model's view.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::consistency::conflicts;
use super::datasets::joint_entity_dto;
use super::decoding::decoder_label;
use super::dto::{
    DecoderMethod, ReviewItemDto, ReviewScope, ReviewStrategy, ReviewerVerdictDto, SideDto,
};
use super::{Api, ApiError, ApiResult};
use crate::store::{
    DatasetId, DecisionSource, PairKey, PairReviews, PairState, RunId, Verdict, reviews,
};

/// Who looks at the queue, and how.
#[derive(Debug, Clone, Default)]
pub struct QueueView {
    /// Which pairs.
    pub scope: ReviewScope,
    /// The reviewer (the data directory's when `None`).
    pub reviewer: Option<String>,
    /// Blind mode: no score, rank, margin, hub count or model-derived reason.
    pub blind: bool,
}

impl Api {
    /// Pairs to review next in run `run` (see the module docs); at most `limit`.
    pub async fn review_queue(
        &self,
        run: RunId,
        strategy: ReviewStrategy,
        other: Option<RunId>,
        limit: usize,
        view: QueueView,
    ) -> ApiResult<Vec<ReviewItemDto>> {
        let dataset = self.run_row(run).await?.dataset_id;
        let pairs = reviews(&self.store.decision_history(dataset).await?);
        let mut items = match view.scope {
            ReviewScope::Undecided => {
                self.undecided_items(run, dataset, strategy, other, limit, &pairs)
                    .await?
            }
            ReviewScope::SecondOpinion => {
                let reviewer = self.reviewer(view.reviewer.as_deref()).await?;
                let wanted = oldest_first(pairs.iter().filter(|(_, p)| {
                    p.adjudication.is_none()
                        && !p.decided_by(&reviewer)
                        && p.by_reviewer
                            .values()
                            .any(|r| r.source == DecisionSource::Manual)
                }))
                .map(|(pair, p)| Wanted {
                    pair: pair.clone(),
                    reason: second_opinion_reason(p),
                    reviews: Vec::new(),
                    related: Vec::new(),
                });
                self.reviewed_items(run, dataset, wanted, limit).await?
            }
            ReviewScope::Disagreements => {
                let wanted = oldest_first(
                    pairs
                        .iter()
                        .filter(|(_, p)| p.state() == PairState::Disputed),
                )
                .map(|(pair, p)| {
                    let reviews: Vec<ReviewerVerdictDto> = p
                        .by_reviewer
                        .values()
                        .map(ReviewerVerdictDto::from)
                        .collect();
                    Wanted {
                        pair: pair.clone(),
                        reason: disagreement_reason(&reviews),
                        reviews,
                        related: Vec::new(),
                    }
                });
                self.reviewed_items(run, dataset, wanted, limit).await?
            }
            ReviewScope::Conflicts => {
                let accepted: BTreeSet<PairKey> = pairs
                    .iter()
                    .filter(|(_, p)| p.standing().is_some_and(|r| r.verdict == Verdict::Accept))
                    .map(|(pair, _)| pair.clone())
                    .collect();
                let found = conflicts(&*self.loaded_pair(dataset).await?, &accepted);
                let wanted = found.into_iter().map(|c| Wanted {
                    reviews: pairs[&c.pair]
                        .by_reviewer
                        .values()
                        .map(ReviewerVerdictDto::from)
                        .collect(),
                    pair: c.pair,
                    reason: c.reason,
                    related: c.related,
                });
                self.reviewed_items(run, dataset, wanted, limit).await?
            }
        };
        if view.blind {
            for item in &mut items {
                item.score = None;
                item.rank = None;
                item.margin = None;
                item.hub_count = 0;
                if view.scope == ReviewScope::Undecided {
                    item.reason =
                        "a prediction to judge (blind mode: the model's view is hidden)".into();
                }
            }
        }
        Ok(items)
    }

    /// Queue items for pairs people decided, in the order given, with the run's score
    /// and rank where the pair is among its candidates.
    async fn reviewed_items(
        &self,
        run: RunId,
        dataset: DatasetId,
        wanted: impl Iterator<Item = Wanted>,
        limit: usize,
    ) -> ApiResult<Vec<ReviewItemDto>> {
        let mut out = Vec::new();
        for item in wanted.take(limit) {
            let (left_key, right_key) = &item.pair;
            let left = self.entity_by_key(dataset, SideDto::Left, left_key).await?;
            let right = self
                .entity_by_key(dataset, SideDto::Right, right_key)
                .await?;
            let candidates = self.store.candidates(run, 0, left.entity).await?;
            let found = candidates.iter().position(|c| c.key == right.key);
            let margin = match (found, candidates.get(1)) {
                (Some(0), Some(second)) => Some(candidates[0].score - second.score),
                _ => None,
            };
            out.push(ReviewItemDto {
                left,
                right,
                rank: found.map(|i| candidates[i].rank),
                score: found.map(|i| candidates[i].score),
                margin,
                hub_count: 0,
                reason: item.reason,
                reviews: item.reviews,
                related: item.related,
            });
        }
        Ok(out)
    }

    /// Run `run`'s left-to-right top-1 predictions that nobody decided, ordered by
    /// `strategy`. `other` is a second run for the disagreement strategy (without it, the
    /// two directions of `run` are compared).
    async fn undecided_items(
        &self,
        run: RunId,
        dataset: DatasetId,
        strategy: ReviewStrategy,
        other: Option<RunId>,
        limit: usize,
        pairs: &BTreeMap<PairKey, PairReviews>,
    ) -> ApiResult<Vec<ReviewItemDto>> {
        let pair = self.loaded_pair(dataset).await?;
        let top = self.store.top_two(run, 0).await?;
        let mut hubs: HashMap<i64, usize> = HashMap::new();
        for (_, c, ..) in &top {
            *hubs.entry(*c).or_default() += 1;
        }
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
            if pairs.contains_key(&(left.key.clone(), right.key.clone())) {
                continue;
            }
            out.push(ReviewItemDto {
                hub_count: hubs.get(&c).copied().unwrap_or(0),
                left,
                right,
                rank: Some(1),
                score: Some(score),
                margin,
                reason,
                reviews: Vec::new(),
                related: Vec::new(),
            });
        }
        Ok(out)
    }
}

/// A pair for the queue, with why it is there.
struct Wanted {
    pair: PairKey,
    reason: String,
    /// What each reviewer said, where the queue shows it.
    reviews: Vec<ReviewerVerdictDto>,
    /// Accepted pairs it clashes with.
    related: Vec<PairKey>,
}

/// Decided pairs, the one decided first first.
fn oldest_first<'a>(
    pairs: impl Iterator<Item = (&'a PairKey, &'a PairReviews)>,
) -> impl Iterator<Item = (&'a PairKey, &'a PairReviews)> {
    let mut pairs: Vec<_> = pairs.collect();
    pairs.sort_by_key(|(_, p)| p.by_reviewer.values().map(|r| r.id).min());
    pairs.into_iter()
}

fn second_opinion_reason(pair: &PairReviews) -> String {
    let who = if pair.by_reviewer.len() == 1 {
        "another reviewer"
    } else {
        "other reviewers"
    };
    format!("decided by {who}: give yours before you see theirs")
}

fn disagreement_reason(reviews: &[ReviewerVerdictDto]) -> String {
    let said = reviews
        .iter()
        .map(|v| format!("{} {}", v.reviewer, v.verdict.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    format!("reviewers disagree ({said}): your decision settles it")
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

#[cfg(test)]
mod tests {
    use super::*;

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
