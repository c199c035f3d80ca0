//! MEAformer / MCLEA / EVA folders: the GCN-Align files (gold pairs in `ill_ent_ids`),
//! image features in a pickled dict `*_id_img_feature_dict.pkl` (`{entity id: numpy
//! array}`), and MMKB numerical triples `*_NumericalTriples.txt`
//! (`entity<TAB>attribute<TAB>number`).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::folder_name;
use super::gcn_align::{self, IdSpace};
use crate::file::{FileKind, read_or_report};
use crate::model::{AttrTriple, EntityFeatures, FeatureOrigin, MmkgPair, Side};
use crate::numbers::literal_number;
use crate::pickle::{FeatureEntry, PickleKey, read_feature_dict};
use crate::problem::{Diagnostics, Location, ProblemKind, WarningKind, quote};
use crate::text::{check_columns, read_required};

const PICKLE_SUFFIX: &str = "_id_img_feature_dict.pkl";
const NUMERICAL_SUFFIX: &str = "_NumericalTriples.txt";

/// Reads a MEAformer folder; `image_features` overrides the pickle found by
/// [`find_feature_pickle`].
pub(super) fn read(dir: &Path, image_features: Option<&Path>, diag: &mut Diagnostics) -> MmkgPair {
    let (mut pair, ids) = gcn_align::read_with_gold(dir, &["ill_ent_ids", "ref_ent_ids"], diag);
    let pickle = match image_features {
        Some(path) => Some(path.to_path_buf()),
        None => match find_feature_pickles(dir).as_slice() {
            [] => None,
            [one] => Some(one.clone()),
            many => {
                diag.error(
                    Location::file(dir),
                    ProblemKind::Inconsistent {
                        what: format!(
                            "several image-feature pickles match this folder ({}); choose one with --image-features",
                            many.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
                        ),
                    },
                );
                None
            }
        },
    };
    if let Some(path) = pickle {
        read_image_features(&path, &ids, &mut pair, diag);
    }
    read_numerical_triples(dir, &mut pair, diag);
    pair
}

/// The image-feature pickle of a folder, looked for where MEAformer keeps it: in the
/// folder, in `pkls/` inside it, or in a `pkls/` folder up to two levels above whose
/// file name starts with the folder's name (e.g. `pkls/zh_en_GA_id_img_feature_dict.pkl`).
pub(super) fn find_feature_pickle(dir: &Path) -> Option<PathBuf> {
    find_feature_pickles(dir).into_iter().next()
}

fn find_feature_pickles(dir: &Path) -> Vec<PathBuf> {
    let name = folder_name(dir);
    let mut found = Vec::new();
    for (folder, must_match_name) in [
        (dir.to_path_buf(), false),
        (dir.join("pkls"), false),
        (dir.join("../pkls"), true),
        (dir.join("../../pkls"), true),
    ] {
        let mut here: Vec<PathBuf> = list_files(&folder)
            .into_iter()
            .filter(|p| {
                let file = p
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default();
                file.ends_with(PICKLE_SUFFIX) && (!must_match_name || file.starts_with(&name))
            })
            .collect();
        here.sort();
        if !here.is_empty() {
            found = here;
            break;
        }
    }
    found
}

fn list_files(folder: &Path) -> Vec<PathBuf> {
    fs::read_dir(folder)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default()
}

fn describe_key(key: &PickleKey) -> String {
    match key {
        PickleKey::Int(id) => format!("entity id {id}"),
        PickleKey::Str(s) => format!("entity `{s}`"),
    }
}

fn read_image_features(path: &Path, ids: &IdSpace, pair: &mut MmkgPair, diag: &mut Diagnostics) {
    let what = "the image-feature pickle given with --image-features";
    let Some(bytes) = read_or_report(path, FileKind::Features, Some(what), diag) else {
        return;
    };
    let dict = match read_feature_dict(&bytes) {
        Ok(dict) => dict,
        Err(e) => {
            return diag.error(
                Location::file(path),
                ProblemKind::Pickle {
                    reason: e.to_string(),
                },
            );
        }
    };
    let names: [HashMap<&str, u32>; 2] = Side::BOTH.map(|side| {
        pair.graph(side)
            .entities
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.as_str(), i as u32))
            .collect()
    });
    let mut first: Option<(usize, String)> = None;
    let mut per_side: [Vec<(u32, &FeatureEntry)>; 2] = [Vec::new(), Vec::new()];
    let mut unknown = 0usize;
    let errors_before = diag.error_count();
    for entry in &dict.entries {
        let who = describe_key(&entry.key);
        let target = match &entry.key {
            PickleKey::Int(id) => u64::try_from(*id)
                .ok()
                .and_then(|id| ids.ids.get(&id))
                .map(|d| (d.side, d.index)),
            PickleKey::Str(s) => match s.trim().parse::<u64>() {
                Ok(id) => ids.ids.get(&id).map(|d| (d.side, d.index)),
                Err(_) => Side::BOTH
                    .into_iter()
                    .zip(&names)
                    .find_map(|(side, map)| map.get(s.as_str()).map(|&i| (side, i))),
            },
        };
        let Some((side, index)) = target else {
            unknown += 1;
            continue;
        };
        let dim = entry.values.len();
        let vector_shape = matches!(entry.shape.as_slice(), [_] | [1, _]);
        if !vector_shape {
            diag.error(
                Location::file(path),
                ProblemKind::FeatureShape {
                    entity: who,
                    shape: entry.shape.clone(),
                },
            );
            continue;
        }
        if !EntityFeatures::accepts_dim(dim) {
            diag.error(
                Location::file(path),
                ProblemKind::FeatureWidth {
                    of: format!("feature vector of {who}"),
                    width: dim,
                },
            );
            continue;
        }
        match &first {
            None => first = Some((dim, who.clone())),
            Some((expected, first_entity)) if *expected != dim => {
                diag.error(
                    Location::file(path),
                    ProblemKind::FeatureLength {
                        entity: who,
                        found: dim,
                        expected: *expected,
                        first_entity: first_entity.clone(),
                    },
                );
                continue;
            }
            Some(_) => {}
        }
        if let Some((index_in_vector, value)) = entry
            .values
            .iter()
            .enumerate()
            .find(|(_, v)| !v.is_finite())
        {
            diag.error(
                Location::file(path),
                ProblemKind::NonFinite {
                    entity: who,
                    index: index_in_vector,
                    value: value.to_string(),
                },
            );
            continue;
        }
        per_side[side.index()].push((index, entry));
    }
    if unknown > 0 {
        diag.warn_many(
            WarningKind::FeaturesOfUnknownEntities,
            unknown,
            Location::file(path),
        );
    }
    let (Some((dim, _)), false) = (first, diag.error_count() > errors_before) else {
        return;
    };
    for side in Side::BOTH {
        let entries = &per_side[side.index()];
        if entries.is_empty() {
            continue;
        }
        let graph = pair.graph_mut(side);
        let mut features = EntityFeatures {
            origin: FeatureOrigin::File {
                path: path.to_path_buf(),
            },
            dim,
            rows: vec![None; graph.entities.len()],
            data: Vec::with_capacity(entries.len() * dim),
        };
        for (row, (index, entry)) in entries.iter().enumerate() {
            features.rows[*index as usize] = Some(row as u32);
            features.data.extend_from_slice(&entry.values);
        }
        graph.image_features = Some(features);
    }
}

/// `<subject> <predicate> object .`: an N-Triples line, as MMKB's `DB15K_` and
/// `YAGO15K_NumericalTriples.txt` are written (the object a typed literal such as
/// `"1946-03-12"^^<http://www.w3.org/2001/XMLSchema#date>`).
fn ntriples_fields(line: &str) -> Option<[&str; 3]> {
    let body = line.trim().strip_suffix('.')?.trim_end();
    let (subject, rest) = ntriples_term(body)?;
    let (predicate, object) = ntriples_term(rest.trim_start())?;
    let object = object.trim();
    (!object.is_empty()).then_some([subject, predicate, object])
}

/// The first term of `text` (an `<IRI>` or a bare token) and what follows it.
fn ntriples_term(text: &str) -> Option<(&str, &str)> {
    let end = if text.starts_with('<') {
        text.find('>')? + 1
    } else {
        text.find(char::is_whitespace)?
    };
    Some((&text[..end], &text[end..]))
}

/// MMKB numerical triples: tab-separated `entity, attribute, number` lines, or N-Triples
/// lines. Numbers may be plain, typed literals or dates (their year: see
/// [`crate::numbers`]). A file is assigned to the graph named by its prefix where the
/// folder is named `LEFT_RIGHT` (e.g. `FB15K_DB15K`), else to the graph whose entity
/// names it matches most.
fn read_numerical_triples(dir: &Path, pair: &mut MmkgPair, diag: &mut Diagnostics) {
    let mut files: Vec<PathBuf> = list_files(dir)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|f| f.to_string_lossy().ends_with(NUMERICAL_SUFFIX))
        })
        .collect();
    files.sort();
    let folder = folder_name(dir);
    for path in files {
        let Some(text) = read_required(&path, "numerical triples", diag) else {
            continue;
        };
        let mut records: Vec<(usize, [&str; 3])> = Vec::new();
        text.for_each_record(diag, |diag, line, fields| {
            if let [only] = fields
                && let Some(triple) = ntriples_fields(only)
            {
                let [entity, key, value] = triple;
                records.push((line, [entity, strip_angles(key), value]));
            } else if check_columns(
                diag,
                &path,
                line,
                fields,
                3,
                "entity, attribute, number (tab-separated) or an N-Triples line",
            ) {
                records.push((line, [fields[0], fields[1], fields[2]]));
            }
        });
        let prefix = path
            .file_name()
            .map(|f| f.to_string_lossy().replace(NUMERICAL_SUFFIX, ""))
            .unwrap_or_default();
        let side = side_by_folder_name(&folder, &prefix)
            .unwrap_or_else(|| side_by_overlap(pair, &records));
        let by_name: HashMap<String, u32> = pair
            .graph(side)
            .entities
            .iter()
            .enumerate()
            .map(|(i, e)| (strip_angles(&e.name).to_string(), i as u32))
            .collect();
        let mut unknown = 0usize;
        let mut first_unknown = None;
        let mut attributes = Vec::new();
        for (line, [entity, key, value]) in &records {
            let Some(&entity) = by_name.get(strip_angles(entity)) else {
                unknown += 1;
                first_unknown.get_or_insert(*line);
                continue;
            };
            if literal_number(value).is_none() {
                let kind = ProblemKind::NotANumber {
                    column: 3,
                    name: "numeric value",
                    value: quote(value),
                };
                diag.error_at(&path, *line, kind);
                continue;
            }
            attributes.push(AttrTriple {
                entity,
                key: pair.attribute_keys.intern(key),
                value: Some(value.trim().to_string()),
            });
        }
        if let Some(line) = first_unknown {
            diag.warn_many(
                WarningKind::AttributesOfUnknownEntities,
                unknown,
                Location::line(&path, line),
            );
        }
        pair.graph_mut(side).attributes.extend(attributes);
    }
}

fn strip_angles(name: &str) -> &str {
    name.trim().trim_start_matches('<').trim_end_matches('>')
}

fn side_by_folder_name(folder: &str, prefix: &str) -> Option<Side> {
    let (left, right) = folder.split_once('_')?;
    if prefix.eq_ignore_ascii_case(left) {
        Some(Side::Left)
    } else if prefix.eq_ignore_ascii_case(right) {
        Some(Side::Right)
    } else {
        None
    }
}

fn side_by_overlap(pair: &MmkgPair, records: &[(usize, [&str; 3])]) -> Side {
    let matches = |side: Side| {
        let names: std::collections::HashSet<&str> = pair
            .graph(side)
            .entities
            .iter()
            .map(|e| strip_angles(&e.name))
            .collect();
        records
            .iter()
            .filter(|(_, r)| names.contains(strip_angles(r[0])))
            .count()
    };
    if matches(Side::Right) > matches(Side::Left) {
        Side::Right
    } else {
        Side::Left
    }
}
