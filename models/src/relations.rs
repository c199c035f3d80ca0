//! The two graphs' relations, kept apart as the authors' code keeps them.
//!
//! A dataset's relation names form one vocabulary for the pair (datasets' `MmkgPair`), so
//! a name both graphs use (`category` in the demo) would be one relation id, one relation
//! embedding and one bag-of-relations column for both graphs. The papers' code reads
//! DBP15K-style id files whose two graphs' relation ids are disjoint, so it never shares a
//! relation between the graphs: whatever links them comes from the seed pairs. Before a
//! run, every relation name the right graph shares with the left gets an id of its own.

use alignscope_datasets::MmkgPair;

/// The suffix of a right-graph relation's own name, when the left graph uses the name.
pub const RIGHT_GRAPH_SUFFIX: &str = " (right graph)";

/// Gives each relation name the right graph shares with the left graph a separate id for
/// the right graph; how many names were split.
pub fn keep_relations_apart(pair: &mut MmkgPair) -> usize {
    let mut used_left = vec![false; pair.relations.len()];
    for t in &pair.left.triples {
        used_left[t.relation as usize] = true;
    }
    let mut renamed: Vec<Option<u32>> = vec![None; pair.relations.len()];
    let mut split = 0;
    for t in &mut pair.right.triples {
        let r = t.relation as usize;
        if !used_left[r] {
            continue;
        }
        t.relation = *renamed[r].get_or_insert_with(|| {
            split += 1;
            let name = format!("{}{RIGHT_GRAPH_SUFFIX}", pair.relations.name(r as u32));
            pair.relations.intern(&name)
        });
    }
    split
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::planted_pair;

    #[test]
    fn shared_names_get_an_id_of_their_own_on_the_right() {
        let mut pair = planted_pair(30, 4, 3, 0.0, 1);
        let before = pair.relations.len();
        assert_eq!(keep_relations_apart(&mut pair), 4);
        assert_eq!(pair.relations.len(), before + 4);
        let left: std::collections::BTreeSet<u32> =
            pair.left.triples.iter().map(|t| t.relation).collect();
        assert!(
            pair.right
                .triples
                .iter()
                .all(|t| !left.contains(&t.relation))
        );
        let renamed = pair.right.triples[0].relation;
        assert!(pair.relations.name(renamed).ends_with(RIGHT_GRAPH_SUFFIX));
        // Idempotent in effect: nothing is shared any more.
        assert_eq!(keep_relations_apart(&mut pair), 0);
    }
}
