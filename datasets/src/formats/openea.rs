//! OpenEA folders: entities are URIs, declared by the triples that mention them.
//!
//! Files: `rel_triples_1/2` (`head<TAB>relation<TAB>tail`), optional `attr_triples_1/2`
//! (`entity<TAB>attribute<TAB>value`; a value with tabs keeps them), `ent_links`
//! (`left<TAB>right`), optional folds `721_5fold/N/{train,valid,test}_links`.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::Path;

use super::folder_name;
use crate::model::{AttrTriple, Entity, GoldPair, MmkgPair, NamedSplit, RelTriple, Side, Split};
use crate::problem::{Diagnostics, Location, ProblemKind, WarningKind};
use crate::text::{check_columns, read_optional, read_required};

/// Entities of one graph, interned by URI in order of first mention.
#[derive(Default)]
struct EntityTable {
    entities: Vec<Entity>,
    index: HashMap<String, u32>,
}

impl EntityTable {
    fn intern(&mut self, uri: &str) -> u32 {
        if let Some(&i) = self.index.get(uri) {
            return i;
        }
        let i = self.entities.len() as u32;
        self.entities.push(Entity {
            key: uri.to_string(),
            name: uri.to_string(),
        });
        self.index.insert(uri.to_string(), i);
        i
    }
}

/// Reads an OpenEA folder.
pub(super) fn read(dir: &Path, diag: &mut Diagnostics) -> MmkgPair {
    let mut pair = MmkgPair::default();
    pair.meta.name = folder_name(dir);
    pair.meta.left_label = "KG1".to_string();
    pair.meta.right_label = "KG2".to_string();
    let mut tables = [EntityTable::default(), EntityTable::default()];
    for (slot, side) in Side::BOTH.into_iter().enumerate() {
        let table = &mut tables[slot];
        pair.graph_mut(side).triples =
            read_rel_triples(dir, side, table, &mut pair.relations, diag);
        let attrs = read_attr_triples(dir, side, table, &mut pair.attribute_keys, diag);
        pair.graph_mut(side).attributes = attrs;
    }
    let linked_before: [usize; 2] = [tables[0].entities.len(), tables[1].entities.len()];
    pair.gold = read_links(dir, &mut tables, diag);
    let added: usize = (0..2)
        .map(|s| tables[s].entities.len() - linked_before[s])
        .sum();
    if added > 0 {
        diag.warn_many(
            WarningKind::LinkedEntitiesWithoutTriples,
            added,
            Location::file(dir.join("ent_links")),
        );
    }
    pair.predefined_splits = read_folds(dir, &tables, &pair.gold, diag);
    for (slot, side) in Side::BOTH.into_iter().enumerate() {
        let graph = pair.graph_mut(side);
        graph.entities = std::mem::take(&mut tables[slot].entities);
        graph.images = vec![Vec::new(); graph.entities.len()];
    }
    pair
}

fn read_rel_triples(
    dir: &Path,
    side: Side,
    table: &mut EntityTable,
    relations: &mut crate::model::Vocabulary,
    diag: &mut Diagnostics,
) -> Vec<RelTriple> {
    let path = dir.join(format!("rel_triples_{}", side.number()));
    let what = format!(
        "the relational triples of {}, `head<TAB>relation<TAB>tail` URIs",
        side.graph_name()
    );
    let Some(text) = read_required(&path, &what, diag) else {
        return Vec::new();
    };
    let mut triples = Vec::new();
    let mut seen = HashSet::new();
    let (mut duplicates, mut first_duplicate) = (0usize, None);
    text.for_each_record(diag, |diag, line, fields| {
        if !check_columns(diag, &path, line, fields, 3, "head, relation, tail") {
            return;
        }
        if let Some(column) = fields.iter().position(|f| f.trim().is_empty()) {
            let name = ["head", "relation", "tail"][column];
            return diag.error_at(
                &path,
                line,
                ProblemKind::EmptyField {
                    column: column + 1,
                    name,
                },
            );
        }
        let triple = RelTriple {
            head: table.intern(fields[0]),
            relation: relations.intern(fields[1]),
            tail: table.intern(fields[2]),
        };
        if !seen.insert(triple) {
            duplicates += 1;
            first_duplicate.get_or_insert(line);
        }
        triples.push(triple);
    });
    if let Some(line) = first_duplicate {
        diag.warn_many(
            WarningKind::DuplicateTriples,
            duplicates,
            Location::line(&path, line),
        );
    }
    triples
}

fn read_attr_triples(
    dir: &Path,
    side: Side,
    table: &mut EntityTable,
    keys: &mut crate::model::Vocabulary,
    diag: &mut Diagnostics,
) -> Vec<AttrTriple> {
    let path = dir.join(format!("attr_triples_{}", side.number()));
    let Some(text) = read_optional(&path, diag) else {
        return Vec::new();
    };
    let mut attributes = Vec::new();
    text.for_each_record(diag, |diag, line, fields| {
        if fields.len() < 3 {
            let kind = ProblemKind::ColumnCount {
                expected: "3 or more".to_string(),
                layout: "entity, attribute, value",
                found: fields.len(),
            };
            return diag.error_at(&path, line, kind);
        }
        if fields[0].trim().is_empty() || fields[1].trim().is_empty() {
            let (column, name) = if fields[0].trim().is_empty() {
                (1, "entity")
            } else {
                (2, "attribute")
            };
            return diag.error_at(&path, line, ProblemKind::EmptyField { column, name });
        }
        attributes.push(AttrTriple {
            entity: table.intern(fields[0]),
            key: keys.intern(fields[1]),
            value: Some(fields[2..].join("\t")),
        });
    });
    attributes
}

/// Reads a two-column link file into pairs. `resolve(slot, uri)` gives the entity index
/// of a URI on side `slot` (0 left, 1 right), or `None` for an unknown entity.
fn read_link_file(
    path: &Path,
    text: &crate::text::TextFile,
    diag: &mut Diagnostics,
    mut resolve: impl FnMut(usize, &str) -> Option<u32>,
) -> Vec<(usize, GoldPair)> {
    let mut pairs = Vec::new();
    text.for_each_record(diag, |diag, line, fields| {
        if !check_columns(
            diag,
            path,
            line,
            fields,
            2,
            "KG1 entity URI, KG2 entity URI",
        ) {
            return;
        }
        let mut ends = [0u32; 2];
        for (slot, side) in Side::BOTH.into_iter().enumerate() {
            let uri = fields[slot];
            if uri.trim().is_empty() {
                let name = if slot == 0 {
                    "KG1 entity"
                } else {
                    "KG2 entity"
                };
                return diag.error_at(
                    path,
                    line,
                    ProblemKind::EmptyField {
                        column: slot + 1,
                        name,
                    },
                );
            }
            ends[slot] = match resolve(slot, uri) {
                Some(i) => i,
                None => {
                    let kind = ProblemKind::UnknownEntity {
                        role: if slot == 0 {
                            "left entity of the link"
                        } else {
                            "right entity of the link"
                        },
                        id: uri.to_string(),
                        graph: side.graph_name(),
                        declared_in: "its triples or ent_links".to_string(),
                    };
                    return diag.error_at(path, line, kind);
                }
            };
        }
        pairs.push((
            line,
            GoldPair {
                left: ends[0],
                right: ends[1],
            },
        ));
    });
    pairs
}

fn read_links(dir: &Path, tables: &mut [EntityTable; 2], diag: &mut Diagnostics) -> Vec<GoldPair> {
    let path = dir.join("ent_links");
    let Some(text) = read_required(
        &path,
        "the gold links, `KG1_uri<TAB>KG2_uri` per line",
        diag,
    ) else {
        return Vec::new();
    };
    let mut gold = Vec::new();
    let mut seen = HashSet::new();
    let (mut duplicates, mut first_duplicate) = (0usize, None);
    for (line, pair) in read_link_file(&path, &text, diag, |slot, uri| {
        Some(tables[slot].intern(uri))
    }) {
        if seen.insert(pair) {
            gold.push(pair);
        } else {
            duplicates += 1;
            first_duplicate.get_or_insert(line);
        }
    }
    if let Some(line) = first_duplicate {
        diag.warn_many(
            WarningKind::DuplicateGoldPairs,
            duplicates,
            Location::line(&path, line),
        );
    }
    gold
}

/// Folds under `721_5fold/N/` (any folder holding `*_links` files), in name order.
fn read_folds(
    dir: &Path,
    tables: &[EntityTable; 2],
    gold: &[GoldPair],
    diag: &mut Diagnostics,
) -> Vec<NamedSplit> {
    let gold: HashSet<GoldPair> = gold.iter().copied().collect();
    let mut splits = Vec::new();
    let Ok(scheme_dirs) = fs::read_dir(dir) else {
        return splits;
    };
    let mut fold_dirs: Vec<_> = scheme_dirs
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().contains("fold"))
        })
        .flat_map(|scheme| {
            fs::read_dir(&scheme)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
        })
        .filter(|p| p.join("train_links").exists() || p.join("test_links").exists())
        .collect();
    fold_dirs.sort();
    for fold in fold_dirs {
        let mut split = Split::default();
        for (file, target) in [
            ("train_links", &mut split.train),
            ("valid_links", &mut split.valid),
            ("test_links", &mut split.test),
        ] {
            let path = fold.join(file);
            let Some(text) = read_optional(&path, diag) else {
                continue;
            };
            for (line, pair) in read_link_file(&path, &text, diag, |slot, uri| {
                tables[slot].index.get(uri).copied()
            }) {
                if gold.contains(&pair) {
                    target.push(pair);
                } else {
                    let what = format!(
                        "this link is not among the gold pairs of {}",
                        dir.join("ent_links").display()
                    );
                    diag.error_at(&path, line, ProblemKind::Inconsistent { what });
                }
            }
        }
        let name = fold
            .strip_prefix(dir)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_else(|_| fold.display().to_string());
        splits.push(NamedSplit { name, split });
    }
    splits
}
