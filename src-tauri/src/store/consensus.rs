//! What a pair's decisions add up to when several reviewers decide it.
//!
//! Each reviewer's verdict on a pair is their newest decision that is not undone; an
//! adjudicator's decision (on a pair the reviewers disagree about) is final. A pair is
//! then *final* (adjudicated), *agreed* (every reviewer gave the same verdict; one
//! reviewer alone agrees with themself) or *disputed* (they differ, `unsure` included).
//! Agreed and final pairs stand; disputed pairs stand for nothing — they are not
//! exported, not seeds — until an adjudicator decides them.

use std::collections::{BTreeMap, HashSet};

use super::decisions::{DecisionAction, DecisionRow, PairKey};
use super::ids::DecisionId;

/// Everything standing about one pair.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PairReviews {
    /// Each reviewer's standing decision (adjudications aside), by author.
    pub by_reviewer: BTreeMap<String, DecisionRow>,
    /// The newest standing adjudication.
    pub adjudication: Option<DecisionRow>,
}

/// Where a pair stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PairState<'a> {
    /// An adjudicator decided it.
    Final(&'a DecisionRow),
    /// Every reviewer gave the same verdict (the newest of their decisions).
    Agreed(&'a DecisionRow),
    /// Reviewers gave different verdicts and nobody adjudicated yet.
    Disputed,
}

impl PairReviews {
    /// The pair's state (a pair in a replay has at least one standing decision).
    pub fn state(&self) -> PairState<'_> {
        if let Some(adjudication) = &self.adjudication {
            return PairState::Final(adjudication);
        }
        let mut rows = self.by_reviewer.values();
        let Some(first) = rows.next() else {
            return PairState::Disputed;
        };
        let mut newest = first;
        for row in rows {
            if row.verdict != first.verdict {
                return PairState::Disputed;
            }
            if row.id > newest.id {
                newest = row;
            }
        }
        PairState::Agreed(newest)
    }

    /// The decision the pair stands on, unless it is disputed.
    pub fn standing(&self) -> Option<&DecisionRow> {
        match self.state() {
            PairState::Final(row) | PairState::Agreed(row) => Some(row),
            PairState::Disputed => None,
        }
    }

    /// Whether `author` has a standing (non-adjudication) decision on the pair.
    pub fn decided_by(&self, author: &str) -> bool {
        self.by_reviewer.contains_key(author)
    }
}

/// Replays a history (in id order): every pair with a standing decision, with what each
/// reviewer and any adjudicator said.
pub fn reviews(history: &[DecisionRow]) -> BTreeMap<PairKey, PairReviews> {
    let undone: HashSet<DecisionId> = history.iter().filter_map(|r| r.undoes).collect();
    let mut pairs: BTreeMap<PairKey, PairReviews> = BTreeMap::new();
    for row in history {
        if row.action != DecisionAction::Decide || undone.contains(&row.id) {
            continue;
        }
        let pair = pairs
            .entry((row.left_key.clone(), row.right_key.clone()))
            .or_default();
        if row.adjudication {
            pair.adjudication = Some(row.clone());
        } else {
            pair.by_reviewer.insert(row.author.clone(), row.clone());
        }
    }
    pairs
}

/// Replays a history: the standing decision of every pair that is not disputed (see the
/// module docs). With one reviewer, that reviewer's newest decision not undone.
pub fn replay(history: &[DecisionRow]) -> BTreeMap<PairKey, DecisionRow> {
    reviews(history)
        .into_iter()
        .filter_map(|(key, pair)| pair.standing().cloned().map(|row| (key, row)))
        .collect()
}
