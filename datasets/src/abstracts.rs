//! TMEA's alignment-augmented abstract representation of attributes, made without a
//! large language model.
//!
//! The paper asks GPT-3.5 (with in-context examples) which attribute keys of the two
//! graphs mean the same thing, keeps only the attributes that align (the others are
//! noise), and writes each entity's kept attribute triples as one sentence,
//! `a1 is v1, a2 is v2, ..., an is vn`, for a text encoder. Offline, the key alignment
//! comes from the sentence encoder's view of the keys' words instead:
//! - a key used in both graphs aligns with itself;
//! - every other key is written in words ([`key_words`]) and embedded; a left and a right
//!   key align when each is the other's most similar key (cosine) and the similarity is
//!   at least [`KEY_SIMILARITY_THRESHOLD`];
//! - attributes whose key found no counterpart are left out of the sentence (the paper's
//!   filtering), and an aligned right key is written with its left counterpart's words,
//!   so that both graphs describe the attribute alike.
//!
//! This module holds the rules; the embedding of keys and sentences is the caller's.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::model::{KnowledgeGraph, Side, Vocabulary};
use crate::statements::{key_words, literal_text};

/// Least cosine similarity of two keys' words (all-MiniLM-L6-v2) for them to align.
/// Measured (alignscope-text's `key_alignment` test): `release date`/`debut date` 0.61,
/// `runtime`/`running time` 0.70, `birth place`/`place of birth` 0.93, while unrelated
/// keys stay under 0.3.
pub const KEY_SIMILARITY_THRESHOLD: f32 = 0.6;

/// A left key and the right key found to mean the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlignedKey {
    /// The key as written in the left graph.
    pub left: String,
    /// The key as written in the right graph.
    pub right: String,
    /// Cosine similarity of their words (1 for a key both graphs use).
    pub similarity: f32,
}

/// Which attribute keys of the two graphs align: what the paper's LLM step decides.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyAlignment {
    /// The aligned keys, shared ones first, then by falling similarity.
    pub pairs: Vec<AlignedKey>,
    /// Distinct keys the left graph uses.
    pub left_keys: usize,
    /// Distinct keys the right graph uses.
    pub right_keys: usize,
    /// The threshold the similar (not shared) keys passed.
    pub threshold: f32,
}

/// The key indices `graph` uses in its attribute triples, ascending.
pub fn used_keys(graph: &KnowledgeGraph) -> Vec<u32> {
    let keys: BTreeSet<u32> = graph.attributes.iter().map(|t| t.key).collect();
    keys.into_iter().collect()
}

/// Aligns the keys `left` and `right` (indices into `vocabulary`): shared keys with
/// themselves, the others by mutual best `similarity` of at least `threshold`.
pub fn align_keys(
    vocabulary: &Vocabulary,
    left: &[u32],
    right: &[u32],
    similarity: &dyn Fn(u32, u32) -> f32,
    threshold: f32,
) -> KeyAlignment {
    let right_set: BTreeSet<u32> = right.iter().copied().collect();
    let left_set: BTreeSet<u32> = left.iter().copied().collect();
    let mut pairs: Vec<AlignedKey> = left_set
        .intersection(&right_set)
        .map(|&key| AlignedKey {
            left: vocabulary.name(key).to_string(),
            right: vocabulary.name(key).to_string(),
            similarity: 1.0,
        })
        .collect();
    let only_left: Vec<u32> = left_set.difference(&right_set).copied().collect();
    let only_right: Vec<u32> = right_set.difference(&left_set).copied().collect();
    let best = |from: u32, candidates: &[u32], score: &dyn Fn(u32, u32) -> f32| {
        candidates
            .iter()
            .map(|&to| (to, score(from, to)))
            .filter(|(_, s)| s.is_finite())
            .max_by(|a, b| a.1.total_cmp(&b.1))
    };
    let mut similar = Vec::new();
    for &l in &only_left {
        let Some((r, s)) = best(l, &only_right, similarity) else {
            continue;
        };
        let back = best(r, &only_left, &|from, to| similarity(to, from));
        if s >= threshold && back.is_some_and(|(back, _)| back == l) {
            similar.push(AlignedKey {
                left: vocabulary.name(l).to_string(),
                right: vocabulary.name(r).to_string(),
                similarity: s,
            });
        }
    }
    similar.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
    pairs.extend(similar);
    KeyAlignment {
        pairs,
        left_keys: left_set.len(),
        right_keys: right_set.len(),
        threshold,
    }
}

impl KeyAlignment {
    /// Per key name of graph `side`, the words that describe it in an abstract sentence:
    /// the left key's words for every aligned pair; keys without a counterpart are absent.
    pub fn descriptions(&self, side: Side) -> HashMap<&str, String> {
        self.pairs
            .iter()
            .map(|pair| {
                let own = match side {
                    Side::Left => pair.left.as_str(),
                    Side::Right => pair.right.as_str(),
                };
                (own, key_words(&pair.left))
            })
            .collect()
    }
}

/// Per entity of `graph` (side `side`), its abstract sentence: its aligned attributes in
/// file order as `key is value` (the key alone where there is no value), joined by
/// `, `; empty where none of its attributes aligned.
pub fn abstract_sentences(
    graph: &KnowledgeGraph,
    vocabulary: &Vocabulary,
    side: Side,
    alignment: &KeyAlignment,
) -> Vec<String> {
    let descriptions = alignment.descriptions(side);
    let mut sentences = vec![String::new(); graph.entities.len()];
    for triple in &graph.attributes {
        let Some(words) = descriptions.get(vocabulary.name(triple.key)) else {
            continue;
        };
        let Some(sentence) = sentences.get_mut(triple.entity as usize) else {
            continue;
        };
        if !sentence.is_empty() {
            sentence.push_str(", ");
        }
        sentence.push_str(words);
        if let Some(value) = triple.value.as_deref().map(literal_text)
            && !value.is_empty()
        {
            sentence.push_str(" is ");
            sentence.push_str(&value);
        }
    }
    sentences
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AttrTriple, Entity};

    fn graph(entities: usize, triples: &[(u32, u32, Option<&str>)]) -> KnowledgeGraph {
        KnowledgeGraph {
            entities: (0..entities)
                .map(|i| Entity {
                    key: i.to_string(),
                    name: String::new(),
                })
                .collect(),
            attributes: triples
                .iter()
                .map(|&(entity, key, value)| AttrTriple {
                    entity,
                    key,
                    value: value.map(str::to_string),
                })
                .collect(),
            ..Default::default()
        }
    }

    /// Keys 0 `releaseDate`, 1 `runtime` (left); 2 `debutDate`, 3 `colour` (right); 4
    /// `name` on both sides.
    fn vocabulary() -> Vocabulary {
        let mut keys = Vocabulary::default();
        for name in ["releaseDate", "runtime", "debutDate", "colour", "name"] {
            keys.intern(name);
        }
        keys
    }

    /// Hand-made similarities: release/debut date alike, runtime closest to colour but
    /// below the threshold.
    fn similarity(left: u32, right: u32) -> f32 {
        match (left, right) {
            (0, 2) => 0.8,
            (0, 3) => 0.1,
            (1, 2) => 0.3,
            (1, 3) => 0.4,
            _ => 0.0,
        }
    }

    #[test]
    fn shared_keys_align_with_themselves_and_others_by_mutual_best_similarity() {
        let keys = vocabulary();
        let alignment = align_keys(&keys, &[0, 1, 4], &[2, 3, 4], &similarity, 0.6);
        let pairs: Vec<(&str, &str)> = alignment
            .pairs
            .iter()
            .map(|p| (p.left.as_str(), p.right.as_str()))
            .collect();
        assert_eq!(pairs, [("name", "name"), ("releaseDate", "debutDate")]);
        assert_eq!((alignment.left_keys, alignment.right_keys), (3, 3));
        // With a lower threshold runtime takes colour, its best match that also picks it.
        let loose = align_keys(&keys, &[0, 1, 4], &[2, 3, 4], &similarity, 0.35);
        assert_eq!(loose.pairs.len(), 3);
        assert_eq!(loose.pairs[2].right, "colour");
    }

    #[test]
    fn a_best_match_that_prefers_another_key_is_not_aligned() {
        let keys = vocabulary();
        // Both left keys like debutDate best; it likes releaseDate more.
        let all_like_debut = |l: u32, r: u32| if r == 2 { 0.9 - 0.1 * l as f32 } else { 0.0 };
        let alignment = align_keys(&keys, &[0, 1], &[2, 3], &all_like_debut, 0.6);
        assert_eq!(alignment.pairs.len(), 1);
        assert_eq!(alignment.pairs[0].left, "releaseDate");
    }

    #[test]
    fn sentences_keep_aligned_attributes_in_the_left_graphs_words() {
        let keys = vocabulary();
        let alignment = align_keys(&keys, &[0, 1, 4], &[2, 3, 4], &similarity, 0.6);
        let left = graph(
            2,
            &[
                (0, 0, Some("\"2008-11-17\"^^<xsd:date>")),
                (0, 1, Some("117")),
                (0, 4, None),
            ],
        );
        let right = graph(2, &[(1, 3, Some("red")), (1, 2, Some("2008-11-17"))]);
        assert_eq!(
            abstract_sentences(&left, &keys, Side::Left, &alignment),
            ["release date is 2008-11-17, name", ""]
        );
        assert_eq!(
            abstract_sentences(&right, &keys, Side::Right, &alignment),
            ["", "release date is 2008-11-17"]
        );
        assert_eq!(used_keys(&right), [2, 3]);
    }
}
