//! Seeded incompleteness: dropping a share of a graph's images and relational triples,
//! as real knowledge graphs miss facts and pictures.
//!
//! Whether an item is dropped depends only on the seed and the item's stable identity
//! (entity keys and relation name), never on its position: SHA-256 of the seed and the
//! identity is read as a number in [0, 1), and the item is dropped when that number is
//! below the share. Building from the same data with the same seed drops the same items.

use sha2::{Digest, Sha256};

use crate::model::{KnowledgeGraph, Vocabulary};

const DOMAIN: &[u8] = b"alignscope-demo-drop-v1";

/// Removes the images of about `share` of the entities that have one; returns how many.
pub(super) fn drop_images(graph: &mut KnowledgeGraph, seed: u64, share: f64) -> usize {
    let mut dropped = 0;
    for (entity, files) in graph.entities.iter().zip(&mut graph.images) {
        if !files.is_empty() && is_dropped(seed, "image", &[&entity.key], share) {
            files.clear();
            dropped += 1;
        }
    }
    dropped
}

/// Removes about `share` of the relational triples; returns how many.
pub(super) fn drop_triples(
    graph: &mut KnowledgeGraph,
    relations: &Vocabulary,
    seed: u64,
    share: f64,
) -> usize {
    let before = graph.triples.len();
    let entities = &graph.entities;
    graph.triples.retain(|t| {
        let id = [
            entities[t.head as usize].key.as_str(),
            relations.name(t.relation),
            entities[t.tail as usize].key.as_str(),
        ];
        !is_dropped(seed, "triple", &id, share)
    });
    before - graph.triples.len()
}

/// Whether the item of `kind` identified by `id` falls into the dropped `share`.
fn is_dropped(seed: u64, kind: &str, id: &[&str], share: f64) -> bool {
    unit_hash(seed, kind, id) < share
}

/// A number in [0, 1) determined by the seed and the item.
fn unit_hash(seed: u64, kind: &str, id: &[&str]) -> f64 {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(seed.to_le_bytes());
    for part in std::iter::once(&kind).chain(id) {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_about_the_share_and_depends_on_seed() {
        let keys: Vec<String> = (0..20_000).map(|i| format!("item{i}")).collect();
        let share_dropped = |seed| {
            keys.iter()
                .filter(|k| is_dropped(seed, "image", &[k.as_str()], 0.1))
                .count() as f64
                / keys.len() as f64
        };
        assert!((share_dropped(2026) - 0.1).abs() < 0.01);
        let pick = |seed| -> Vec<bool> {
            keys.iter()
                .map(|k| is_dropped(seed, "image", &[k.as_str()], 0.1))
                .collect()
        };
        assert_eq!(pick(2026), pick(2026));
        assert_ne!(pick(2026), pick(2027));
        assert!(!is_dropped(1, "image", &["x"], 0.0));
        assert!(is_dropped(1, "image", &["x"], 1.0));
    }

    #[test]
    fn identity_parts_cannot_run_together() {
        assert_ne!(
            unit_hash(1, "triple", &["ab", "c"]),
            unit_hash(1, "triple", &["a", "bc"])
        );
    }
}
