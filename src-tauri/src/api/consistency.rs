//! Consistency of the accepted pairs: an entity accepted with more than one partner
//! breaks one-to-one, and an accepted pair whose matched neighbours are matched to
//! nothing near its partner conflicts with the neighbour structure. Both feed the review
//! queue's `conflicts` scope.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use alignscope_datasets::{MmkgPair, Side};

use crate::store::PairKey;

/// Matched neighbours an accepted pair needs before "none of them is matched near its
/// partner" counts as a conflict (one could be a coincidence of sparse graphs).
pub const MIN_MATCHED_NEIGHBOURS: usize = 2;
/// Related pairs named per conflict at most.
const MAX_RELATED: usize = 6;

/// An accepted pair that breaks consistency.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// The pair.
    pub pair: PairKey,
    /// What is wrong, in words.
    pub reason: String,
    /// The accepted pairs it clashes with: the entity's other partners, or the matched
    /// neighbours that point elsewhere.
    pub related: Vec<PairKey>,
    /// One-to-one breaks first, then structure; within each, more evidence first.
    pub weight: usize,
}

/// Pairs whose left or right entity is accepted with more than one partner.
pub fn one_to_one_conflicts(accepted: &BTreeSet<PairKey>) -> Vec<Conflict> {
    let mut by_left: BTreeMap<&str, Vec<&PairKey>> = BTreeMap::new();
    let mut by_right: BTreeMap<&str, Vec<&PairKey>> = BTreeMap::new();
    for pair in accepted {
        by_left.entry(&pair.0).or_default().push(pair);
        by_right.entry(&pair.1).or_default().push(pair);
    }
    let mut conflicts: BTreeMap<&PairKey, Conflict> = BTreeMap::new();
    for (side, groups) in [("left", &by_left), ("right", &by_right)] {
        for (entity, pairs) in groups.iter().filter(|(_, p)| p.len() > 1) {
            for &pair in pairs {
                let others: Vec<PairKey> = pairs
                    .iter()
                    .filter(|&&other| other != pair)
                    .map(|&other| other.clone())
                    .collect();
                let partners: Vec<&str> = others
                    .iter()
                    .map(|(l, r)| {
                        if side == "left" {
                            r.as_str()
                        } else {
                            l.as_str()
                        }
                    })
                    .collect();
                let text = format!(
                    "one-to-one: {side} {entity} is also accepted with {}",
                    partners.join(", ")
                );
                let entry = conflicts.entry(pair).or_insert_with(|| Conflict {
                    pair: pair.clone(),
                    reason: String::new(),
                    related: Vec::new(),
                    weight: usize::MAX / 2,
                });
                entry.reason = if entry.reason.is_empty() {
                    text
                } else {
                    format!("{}; {text}", entry.reason)
                };
                entry.weight += others.len();
                entry.related.extend(others);
            }
        }
    }
    conflicts.into_values().collect()
}

/// Accepted pairs with at least [`MIN_MATCHED_NEIGHBOURS`] matched neighbours (on the
/// left) none of which is matched to a neighbour of the right entity. Pairs whose keys
/// the dataset lacks are left out (the caller counts them).
pub fn structural_conflicts(dataset: &MmkgPair, accepted: &BTreeSet<PairKey>) -> Vec<Conflict> {
    let index = |side: Side| -> HashMap<&str, u32> {
        dataset
            .graph(side)
            .entities
            .iter()
            .enumerate()
            .map(|(i, e)| (e.key.as_str(), i as u32))
            .collect()
    };
    let (left_index, right_index) = (index(Side::Left), index(Side::Right));
    let neighbours = |side: Side| -> HashMap<u32, HashSet<u32>> {
        let mut around: HashMap<u32, HashSet<u32>> = HashMap::new();
        for t in &dataset.graph(side).triples {
            if t.head != t.tail {
                around.entry(t.head).or_default().insert(t.tail);
                around.entry(t.tail).or_default().insert(t.head);
            }
        }
        around
    };
    let (left_around, right_around) = (neighbours(Side::Left), neighbours(Side::Right));
    let mut partners: HashMap<u32, Vec<(u32, &PairKey)>> = HashMap::new();
    for pair in accepted {
        if let (Some(&l), Some(&r)) = (
            left_index.get(pair.0.as_str()),
            right_index.get(pair.1.as_str()),
        ) {
            partners.entry(l).or_default().push((r, pair));
        }
    }
    let empty = HashSet::new();
    let mut conflicts = Vec::new();
    for (&l, matched) in &partners {
        for &(r, pair) in matched {
            let near_right = right_around.get(&r).unwrap_or(&empty);
            let mut elsewhere = Vec::new();
            let mut supported = 0;
            for neighbour in left_around.get(&l).unwrap_or(&empty) {
                let Some(theirs) = partners.get(neighbour) else {
                    continue;
                };
                if theirs.iter().any(|(r2, _)| near_right.contains(r2)) {
                    supported += 1;
                } else {
                    elsewhere.extend(theirs.iter().map(|(_, p)| (*p).clone()));
                }
            }
            let matched_neighbours = supported + elsewhere.len();
            if supported == 0 && matched_neighbours >= MIN_MATCHED_NEIGHBOURS {
                elsewhere.sort();
                elsewhere.truncate(MAX_RELATED);
                conflicts.push(Conflict {
                    pair: pair.clone(),
                    reason: format!(
                        "structure: {matched_neighbours} neighbours of {} are matched, none of them to a neighbour of {}",
                        pair.0, pair.1
                    ),
                    related: elsewhere,
                    weight: matched_neighbours,
                });
            }
        }
    }
    conflicts
}

/// Every conflict of the accepted pairs: one-to-one breaks first, then structural ones,
/// more evidence first, each pair once (a pair with both kinds says both).
pub fn conflicts(dataset: &MmkgPair, accepted: &BTreeSet<PairKey>) -> Vec<Conflict> {
    let mut all: BTreeMap<PairKey, Conflict> = BTreeMap::new();
    for conflict in one_to_one_conflicts(accepted)
        .into_iter()
        .chain(structural_conflicts(dataset, accepted))
    {
        match all.get_mut(&conflict.pair) {
            Some(known) => {
                known.reason = format!("{}; {}", known.reason, conflict.reason);
                known.related.extend(conflict.related);
                known.weight = known.weight.max(conflict.weight);
            }
            None => {
                all.insert(conflict.pair.clone(), conflict);
            }
        }
    }
    let mut out: Vec<Conflict> = all.into_values().collect();
    out.sort_by(|a, b| b.weight.cmp(&a.weight).then(a.pair.cmp(&b.pair)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(pairs: &[(&str, &str)]) -> BTreeSet<PairKey> {
        pairs
            .iter()
            .map(|(l, r)| (l.to_string(), r.to_string()))
            .collect()
    }

    #[test]
    fn an_entity_with_two_partners_breaks_one_to_one() {
        let accepted = keys(&[("a", "x"), ("a", "y"), ("b", "y"), ("c", "z")]);
        let found = one_to_one_conflicts(&accepted);
        let pairs: Vec<(&str, &str)> = found
            .iter()
            .map(|c| (c.pair.0.as_str(), c.pair.1.as_str()))
            .collect();
        assert_eq!(pairs, vec![("a", "x"), ("a", "y"), ("b", "y")]);
        let ay = &found[1];
        assert!(
            ay.reason.contains("left a is also accepted with x"),
            "{}",
            ay.reason
        );
        assert!(
            ay.reason.contains("right y is also accepted with b"),
            "{}",
            ay.reason
        );
        assert_eq!(
            ay.related,
            keys(&[("a", "x"), ("b", "y")])
                .into_iter()
                .collect::<Vec<_>>()
        );
    }
}
