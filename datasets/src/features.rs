//! Bag-of-relations and bag-of-attributes features, built as the papers' code builds
//! them (MEAformer / LoginMEA `load_relation`, `load_attr`).
//!
//! Rows use the joint entity index (left entities, then right ones). Columns are the `k`
//! most frequent relations (attribute keys) of both graphs together, most frequent first,
//! ties broken by first occurrence (left triples before right ones, in file order), as
//! Python's `Counter.most_common` / stable `sorted` do. The matrix is `k` wide even when
//! there are fewer names, like the reference code's `np.zeros((e, topR))`.

use std::collections::HashMap;

use crate::model::{MmkgPair, Side};

/// The papers' number of columns.
pub const DEFAULT_TOP_K: usize = 1000;

/// A sparse non-negative feature matrix in compressed-row form.
#[derive(Debug, Clone, PartialEq)]
pub struct BagOfFeatures {
    /// Number of columns (the `k` asked for).
    pub width: usize,
    /// The name behind each used column, most frequent first (at most `width`).
    pub columns: Vec<String>,
    /// Row `i` is `entries[row_starts[i]..row_starts[i + 1]]`.
    pub row_starts: Vec<usize>,
    /// `(column, value)` pairs, columns ascending within a row.
    pub entries: Vec<(u32, f32)>,
}

impl BagOfFeatures {
    /// Number of rows (entities of both graphs).
    pub fn rows(&self) -> usize {
        self.row_starts.len().saturating_sub(1)
    }

    /// The non-zero `(column, value)` pairs of a row.
    pub fn row(&self, row: usize) -> &[(u32, f32)] {
        &self.entries[self.row_starts[row]..self.row_starts[row + 1]]
    }

    /// The dense row-major matrix, `rows() x width`.
    pub fn to_dense(&self) -> Vec<f32> {
        let mut dense = vec![0.0; self.rows() * self.width];
        for row in 0..self.rows() {
            for &(column, value) in self.row(row) {
                dense[row * self.width + column as usize] = value;
            }
        }
        dense
    }

    fn from_cells(
        width: usize,
        columns: Vec<String>,
        rows: usize,
        mut cells: Vec<(usize, u32, f32)>,
        accumulate: bool,
    ) -> Self {
        cells.sort_by_key(|&(row, column, _)| (row, column));
        let mut row_starts = Vec::with_capacity(rows + 1);
        let mut entries: Vec<(u32, f32)> = Vec::with_capacity(cells.len());
        let mut next_row = 0;
        let mut last: Option<(usize, u32)> = None;
        for (row, column, value) in cells {
            while next_row <= row {
                row_starts.push(entries.len());
                next_row += 1;
            }
            if last == Some((row, column)) {
                let cell = entries.last_mut().expect("a previous cell exists");
                cell.1 = if accumulate { cell.1 + value } else { value };
            } else {
                entries.push((column, value));
            }
            last = Some((row, column));
        }
        while next_row <= rows {
            row_starts.push(entries.len());
            next_row += 1;
        }
        Self {
            width,
            columns,
            row_starts,
            entries,
        }
    }
}

/// The `k` most frequent ids of `occurrences`, ties by first occurrence.
fn top_k(occurrences: impl Iterator<Item = u32>, k: usize) -> Vec<u32> {
    let mut counts: HashMap<u32, (usize, usize)> = HashMap::new();
    for (position, id) in occurrences.enumerate() {
        counts.entry(id).or_insert((0, position)).0 += 1;
    }
    let mut ranked: Vec<(u32, usize, usize)> = counts
        .into_iter()
        .map(|(id, (n, first))| (id, n, first))
        .collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
    ranked.into_iter().take(k).map(|(id, _, _)| id).collect()
}

/// For each entity, how often each of the `k` most frequent relations occurs in its
/// triples, as head or as tail (a self-loop counts twice). Raw counts, unnormalised.
pub fn bag_of_relations(pair: &MmkgPair, k: usize) -> BagOfFeatures {
    let all = || {
        Side::BOTH
            .into_iter()
            .flat_map(|side| pair.graph(side).triples.iter().map(move |t| (side, t)))
    };
    let top = top_k(all().map(|(_, t)| t.relation), k);
    let column: HashMap<u32, u32> = top
        .iter()
        .enumerate()
        .map(|(c, &r)| (r, c as u32))
        .collect();
    let mut cells = Vec::new();
    for (side, t) in all() {
        if let Some(&c) = column.get(&t.relation) {
            cells.push((pair.joint_index(side, t.head), c, 1.0));
            cells.push((pair.joint_index(side, t.tail), c, 1.0));
        }
    }
    let names = top
        .iter()
        .map(|&r| pair.relations.name(r).to_string())
        .collect();
    BagOfFeatures::from_cells(k, names, pair.entity_count(), cells, true)
}

/// For each entity, 1 for each of the `k` most frequent attribute keys it has.
/// Frequency counts attribute triples (one per key per line in `training_attrs`).
pub fn bag_of_attributes(pair: &MmkgPair, k: usize) -> BagOfFeatures {
    let all = || {
        Side::BOTH
            .into_iter()
            .flat_map(|side| pair.graph(side).attributes.iter().map(move |a| (side, a)))
    };
    let top = top_k(all().map(|(_, a)| a.key), k);
    let column: HashMap<u32, u32> = top
        .iter()
        .enumerate()
        .map(|(c, &key)| (key, c as u32))
        .collect();
    let cells = all()
        .filter_map(|(side, a)| {
            column
                .get(&a.key)
                .map(|&c| (pair.joint_index(side, a.entity), c, 1.0))
        })
        .collect();
    let names = top
        .iter()
        .map(|&key| pair.attribute_keys.name(key).to_string())
        .collect();
    BagOfFeatures::from_cells(k, names, pair.entity_count(), cells, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AttrTriple, Entity, RelTriple};

    fn pair() -> MmkgPair {
        let mut pair = MmkgPair::default();
        for i in 0..3 {
            let e = Entity {
                key: i.to_string(),
                name: i.to_string(),
            };
            pair.left.entities.push(e.clone());
            pair.right.entities.push(e);
        }
        let (r_a, r_b, r_c) = (
            pair.relations.intern("a"),
            pair.relations.intern("b"),
            pair.relations.intern("c"),
        );
        let t = |head, relation, tail| RelTriple {
            head,
            relation,
            tail,
        };
        // a: 2 uses, b: 2 uses (first seen after a), c: 3 uses (all on the right).
        pair.left.triples = vec![t(0, r_a, 1), t(1, r_b, 2), t(2, r_a, 2)];
        pair.right.triples = vec![t(0, r_c, 1), t(1, r_c, 2), t(0, r_c, 0), t(2, r_b, 0)];
        let key = pair.attribute_keys.intern("name");
        let other = pair.attribute_keys.intern("born");
        let a = |entity, key| AttrTriple {
            entity,
            key,
            value: None,
        };
        pair.left.attributes = vec![a(0, key), a(0, key), a(1, other)];
        pair.right.attributes = vec![a(2, key)];
        pair
    }

    #[test]
    fn relation_columns_rank_by_frequency_then_first_occurrence() {
        let bag = bag_of_relations(&pair(), 2);
        assert_eq!(bag.columns, vec!["c".to_string(), "a".to_string()]);
        assert_eq!(bag.width, 2);
        let dense = bag.to_dense();
        // Left entity 2: (1,b,2) has a cut relation; the self-loop (2,a,2) counts twice.
        assert_eq!(&dense[2 * 2..3 * 2], &[0.0, 2.0]);
        // Right entity 0 (joint 3): head of (0,c,1), self-loop (0,c,0) twice; b is cut.
        assert_eq!(&dense[3 * 2..4 * 2], &[3.0, 0.0]);
        assert_eq!(bag.rows(), 6);
    }

    #[test]
    fn attribute_bags_are_binary_and_k_wide() {
        let bag = bag_of_attributes(&pair(), 1000);
        assert_eq!(bag.width, 1000);
        assert_eq!(bag.columns, vec!["name".to_string(), "born".to_string()]);
        assert_eq!(bag.row(0), &[(0, 1.0)]);
        assert_eq!(bag.row(1), &[(1, 1.0)]);
        assert_eq!(bag.row(5), &[(0, 1.0)]);
        assert!(bag.row(3).is_empty());
    }
}
