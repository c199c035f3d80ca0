//! GCN-Align / JAPE folders (DBP15K): integer ids shared by one id space.
//!
//! Files: `ent_ids_1`, `ent_ids_2` (`id<TAB>uri`), `triples_1`, `triples_2`
//! (`head<TAB>relation<TAB>tail`), gold pairs in `ref_ent_ids` or `ill_ent_ids`
//! (`left_id<TAB>right_id`), optional `rel_ids_1/2` (`id<TAB>uri`, relation names) and
//! `training_attrs_1/2` (`uri<TAB>attribute<TAB>attribute...`, names only).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::folder_name;
use crate::model::{AttrTriple, Entity, GoldPair, MmkgPair, RelTriple, Side, Vocabulary};
use crate::problem::{Diagnostics, Location, ProblemKind, WarningKind};
use crate::text::{TextFile, check_columns, parse_id, read_optional, read_required};

/// Where an integer entity id was declared.
#[derive(Debug, Clone, Copy)]
pub(super) struct Declared {
    pub side: Side,
    pub index: u32,
    pub line: usize,
}

/// The shared integer id space of both graphs.
#[derive(Debug, Default)]
pub(super) struct IdSpace {
    pub ids: HashMap<u64, Declared>,
    entity_files: [PathBuf; 2],
}

impl IdSpace {
    fn file(&self, side: Side) -> &Path {
        &self.entity_files[side.index()]
    }

    /// Resolves `field` (column `column`) to an entity index of `expected`'s graph,
    /// reporting a precise problem otherwise.
    pub fn resolve(
        &self,
        field: &str,
        column: usize,
        role: &'static str,
        expected: Side,
        at: &Location,
        diag: &mut Diagnostics,
    ) -> Option<u32> {
        let id = match parse_id(field, column, role) {
            Ok(id) => id,
            Err(kind) => {
                diag.error(at.clone(), kind);
                return None;
            }
        };
        match self.ids.get(&id) {
            Some(d) if d.side == expected => Some(d.index),
            Some(d) => {
                diag.error(
                    at.clone(),
                    ProblemKind::WrongGraph {
                        role,
                        id: id.to_string(),
                        found_graph: d.side.graph_name(),
                        declared_at: Location::line(self.file(d.side), d.line),
                        expected_graph: expected.graph_name(),
                    },
                );
                None
            }
            None => {
                diag.error(
                    at.clone(),
                    ProblemKind::UnknownEntity {
                        role,
                        id: id.to_string(),
                        graph: expected.graph_name(),
                        declared_in: self.file(expected).display().to_string(),
                    },
                );
                None
            }
        }
    }
}

/// Reads a GCN-Align folder, taking gold pairs from `ref_ent_ids` or else `ill_ent_ids`.
pub(super) fn read(dir: &Path, diag: &mut Diagnostics) -> (MmkgPair, IdSpace) {
    read_with_gold(dir, &["ref_ent_ids", "ill_ent_ids"], diag)
}

/// Reads the files shared by GCN-Align and MEAformer folders; gold pairs come from the
/// first of `gold_files` that exists.
pub(super) fn read_with_gold(
    dir: &Path,
    gold_files: &[&str],
    diag: &mut Diagnostics,
) -> (MmkgPair, IdSpace) {
    let mut pair = MmkgPair::default();
    pair.meta.name = folder_name(dir);
    pair.meta.left_label = "KG1".to_string();
    pair.meta.right_label = "KG2".to_string();
    let mut ids = IdSpace::default();
    for side in Side::BOTH {
        let path = dir.join(format!("ent_ids_{}", side.number()));
        ids.entity_files[side.index()] = path.clone();
        pair.graph_mut(side).entities = read_entities(&path, side, &mut ids, diag);
    }
    for side in Side::BOTH {
        let names = read_relation_names(dir, side, diag);
        let triples = read_triples(dir, side, &ids, names.as_ref(), &mut pair.relations, diag);
        pair.graph_mut(side).triples = triples;
    }
    pair.gold = read_gold(dir, gold_files, &ids, diag);
    for side in Side::BOTH {
        let path = dir.join(format!("training_attrs_{}", side.number()));
        if let Some(text) = read_optional(&path, diag) {
            let entities = match side {
                Side::Left => &pair.left.entities,
                Side::Right => &pair.right.entities,
            };
            let attrs = read_attribute_names(&text, entities, &mut pair.attribute_keys, diag);
            pair.graph_mut(side).attributes = attrs;
        }
    }
    for side in Side::BOTH {
        let n = pair.graph(side).entities.len();
        pair.graph_mut(side).images = vec![Vec::new(); n];
    }
    (pair, ids)
}

fn read_entities(
    path: &Path,
    side: Side,
    ids: &mut IdSpace,
    diag: &mut Diagnostics,
) -> Vec<Entity> {
    let what = format!(
        "the entities of {}, one `id<TAB>uri` per line",
        side.graph_name()
    );
    let Some(text) = read_required(path, &what, diag) else {
        return Vec::new();
    };
    let mut entities = Vec::new();
    let mut names: HashSet<&str> = HashSet::new();
    let mut duplicate_names = 0usize;
    let mut first_duplicate = None;
    text.for_each_record(diag, |diag, line, fields| {
        if !check_columns(diag, path, line, fields, 2, "entity id, URI") {
            return;
        }
        let id = match parse_id(fields[0], 1, "entity id") {
            Ok(id) => id,
            Err(kind) => return diag.error_at(path, line, kind),
        };
        if fields[1].trim().is_empty() {
            return diag.error_at(
                path,
                line,
                ProblemKind::EmptyField {
                    column: 2,
                    name: "URI",
                },
            );
        }
        if let Some(previous) = ids.ids.get(&id) {
            let kind = if previous.side == side {
                ProblemKind::DuplicateId {
                    what: "entity id",
                    id: id.to_string(),
                    first_line: previous.line,
                }
            } else {
                ProblemKind::SharedId {
                    id: id.to_string(),
                    other: Location::line(ids.file(previous.side), previous.line),
                }
            };
            return diag.error_at(path, line, kind);
        }
        if !names.insert(fields[1]) {
            duplicate_names += 1;
            first_duplicate.get_or_insert(line);
        }
        let index = entities.len() as u32;
        ids.ids.insert(id, Declared { side, index, line });
        entities.push(Entity {
            key: id.to_string(),
            name: fields[1].to_string(),
        });
    });
    if let Some(line) = first_duplicate {
        diag.warn_many(
            WarningKind::DuplicateEntityNames,
            duplicate_names,
            Location::line(path, line),
        );
    }
    entities
}

/// Relation names from the optional `rel_ids_N` (`id<TAB>uri`).
fn read_relation_names(
    dir: &Path,
    side: Side,
    diag: &mut Diagnostics,
) -> Option<(PathBuf, HashMap<u64, String>)> {
    let path = dir.join(format!("rel_ids_{}", side.number()));
    let text = read_optional(&path, diag)?;
    let mut names = HashMap::new();
    let mut lines: HashMap<u64, usize> = HashMap::new();
    text.for_each_record(diag, |diag, line, fields| {
        if !check_columns(diag, &path, line, fields, 2, "relation id, URI") {
            return;
        }
        match parse_id(fields[0], 1, "relation id") {
            Ok(id) => {
                if let Some(&first_line) = lines.get(&id) {
                    diag.error_at(
                        &path,
                        line,
                        ProblemKind::DuplicateId {
                            what: "relation id",
                            id: id.to_string(),
                            first_line,
                        },
                    );
                } else {
                    lines.insert(id, line);
                    names.insert(id, fields[1].to_string());
                }
            }
            Err(kind) => diag.error_at(&path, line, kind),
        }
    });
    Some((path, names))
}

fn read_triples(
    dir: &Path,
    side: Side,
    ids: &IdSpace,
    relation_names: Option<&(PathBuf, HashMap<u64, String>)>,
    relations: &mut Vocabulary,
    diag: &mut Diagnostics,
) -> Vec<RelTriple> {
    let path = dir.join(format!("triples_{}", side.number()));
    let what = format!(
        "the relational triples of {}, one `head_id<TAB>relation_id<TAB>tail_id` per line",
        side.graph_name()
    );
    let Some(text) = read_required(&path, &what, diag) else {
        return Vec::new();
    };
    let mut triples = Vec::new();
    let mut seen = HashSet::new();
    let mut duplicates = 0usize;
    let mut first_duplicate = None;
    text.for_each_record(diag, |diag, line, fields| {
        if !check_columns(
            diag,
            &path,
            line,
            fields,
            3,
            "head id, relation id, tail id",
        ) {
            return;
        }
        let at = Location::line(&path, line);
        let head = ids.resolve(fields[0], 1, "head entity", side, &at, diag);
        let relation = match parse_id(fields[1], 2, "relation id") {
            Ok(id) => relation_name(id, relation_names, &at, diag),
            Err(kind) => {
                diag.error(at.clone(), kind);
                None
            }
        };
        let tail = ids.resolve(fields[2], 3, "tail entity", side, &at, diag);
        let (Some(head), Some(relation), Some(tail)) = (head, relation, tail) else {
            return;
        };
        let triple = RelTriple {
            head,
            relation: relations.intern(&relation),
            tail,
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

fn relation_name(
    id: u64,
    names: Option<&(PathBuf, HashMap<u64, String>)>,
    at: &Location,
    diag: &mut Diagnostics,
) -> Option<String> {
    match names {
        None => Some(id.to_string()),
        Some((file, names)) => match names.get(&id) {
            Some(name) => Some(name.clone()),
            None => {
                diag.error(
                    at.clone(),
                    ProblemKind::UnknownRelation {
                        id: id.to_string(),
                        declared_in: file.display().to_string(),
                    },
                );
                None
            }
        },
    }
}

fn read_gold(
    dir: &Path,
    gold_files: &[&str],
    ids: &IdSpace,
    diag: &mut Diagnostics,
) -> Vec<GoldPair> {
    let Some(path) = gold_files.iter().map(|f| dir.join(f)).find(|p| p.exists()) else {
        diag.error(
            Location::file(dir.join(gold_files[0])),
            ProblemKind::MissingFile {
                what: format!(
                    "the gold pairs, one `KG1_id<TAB>KG2_id` per line, in {}",
                    gold_files.join(" or ")
                ),
            },
        );
        return Vec::new();
    };
    let Some(text) = read_required(&path, "the gold pairs", diag) else {
        return Vec::new();
    };
    let mut gold = Vec::new();
    let mut seen = HashSet::new();
    let mut duplicates = 0usize;
    let mut first_duplicate = None;
    text.for_each_record(diag, |diag, line, fields| {
        if !check_columns(diag, &path, line, fields, 2, "KG1 entity id, KG2 entity id") {
            return;
        }
        let at = Location::line(&path, line);
        let left = ids.resolve(
            fields[0],
            1,
            "left entity of the pair",
            Side::Left,
            &at,
            diag,
        );
        let right = ids.resolve(
            fields[1],
            2,
            "right entity of the pair",
            Side::Right,
            &at,
            diag,
        );
        if let (Some(left), Some(right)) = (left, right) {
            let pair = GoldPair { left, right };
            if seen.insert(pair) {
                gold.push(pair);
            } else {
                duplicates += 1;
                first_duplicate.get_or_insert(line);
            }
        }
    });
    if let Some(line) = first_duplicate {
        diag.warn_many(
            WarningKind::DuplicateGoldPairs,
            duplicates,
            Location::line(&path, line),
        );
    }
    gold
}

/// `training_attrs_N`: `uri<TAB>attribute...`, attribute names only. Lines of entities the
/// graph does not declare are skipped and counted, as the papers' code skips them.
fn read_attribute_names(
    text: &TextFile,
    entities: &[Entity],
    keys: &mut Vocabulary,
    diag: &mut Diagnostics,
) -> Vec<AttrTriple> {
    let by_name: HashMap<&str, u32> = entities
        .iter()
        .enumerate()
        .map(|(i, e)| (e.name.as_str(), i as u32))
        .collect();
    let mut attributes = Vec::new();
    let mut unknown = 0usize;
    let mut first_unknown = None;
    text.for_each_record(diag, |diag, line, fields| {
        let Some(&entity) = by_name.get(fields[0]) else {
            unknown += 1;
            first_unknown.get_or_insert(line);
            return;
        };
        let mut names = &fields[1..];
        while let [rest @ .., last] = names {
            if last.is_empty() {
                names = rest;
            } else {
                break;
            }
        }
        for (offset, name) in names.iter().enumerate() {
            if name.trim().is_empty() {
                diag.error_at(
                    &text.path,
                    line,
                    ProblemKind::EmptyField {
                        column: offset + 2,
                        name: "attribute name",
                    },
                );
                continue;
            }
            attributes.push(AttrTriple {
                entity,
                key: keys.intern(name),
                value: None,
            });
        }
    });
    if let Some(line) = first_unknown {
        diag.warn_many(
            WarningKind::AttributesOfUnknownEntities,
            unknown,
            Location::line(&text.path, line),
        );
    }
    attributes
}
