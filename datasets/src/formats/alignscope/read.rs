//! Reading AlignScope's own format.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use super::*;
use crate::file::{FileKind, read_or_report};
use crate::model::{
    AttrTriple, Entity, EntityFeatures, FeatureOrigin, GoldPair, MmkgPair, NamedSplit, RelTriple,
    Side, Split, Vocabulary,
};
use crate::npy::{NpyMatrix, read_npy_matrix};
use crate::problem::{Diagnostics, Location, ProblemKind, WarningKind};
use crate::text::{TextFile, check_columns, read_optional, read_required};

/// Entity keys of one graph with where each was declared.
struct KeyTable {
    side: Side,
    file: PathBuf,
    index: HashMap<String, (u32, usize)>,
}

/// Reads a folder in AlignScope's format.
pub(crate) fn read(dir: &Path, diag: &mut Diagnostics) -> MmkgPair {
    let mut pair = MmkgPair::default();
    read_manifest(dir, &mut pair, diag);
    read_vocabulary(
        &dir.join(RELATIONS),
        HEADER_RELATIONS,
        &mut pair.relations,
        diag,
    );
    read_vocabulary(
        &dir.join(ATTRIBUTE_KEYS),
        HEADER_ATTRIBUTE_KEYS,
        &mut pair.attribute_keys,
        diag,
    );
    let mut tables = Vec::with_capacity(2);
    for side in Side::BOTH {
        let side_dir = dir.join(side.as_str());
        let (entities, table) = read_entities(&side_dir, side, diag);
        let graph = pair.graph_mut(side);
        graph.entities = entities;
        graph.images = vec![Vec::new(); graph.entities.len()];
        tables.push(table);
    }
    for (side, table) in Side::BOTH.into_iter().zip(&tables) {
        let side_dir = dir.join(side.as_str());
        let triples = read_triples(&side_dir.join(TRIPLES), table, &mut pair.relations, diag);
        let attributes = read_attributes(
            &side_dir.join(ATTRIBUTES),
            table,
            &mut pair.attribute_keys,
            diag,
        );
        let images = read_images(
            &side_dir.join(IMAGES),
            table,
            pair.graph(side).entities.len(),
            diag,
        );
        let features = read_features(&side_dir, table, pair.graph(side).entities.len(), diag);
        let graph = pair.graph_mut(side);
        graph.triples = triples;
        graph.attributes = attributes;
        graph.images = images;
        graph.image_features = features;
    }
    let tables = [&tables[0], &tables[1]];
    pair.gold = read_pairs(&dir.join(GOLD), tables, true, diag);
    pair.predefined_splits = read_splits(&dir.join(SPLITS), tables, &pair.gold, diag);
    pair
}

fn read_manifest(dir: &Path, pair: &mut MmkgPair, diag: &mut Diagnostics) {
    let path = dir.join(MANIFEST);
    let Some(text) = read_optional(&path, diag) else {
        pair.meta.name = super::super::folder_name(dir);
        return;
    };
    let manifest: Manifest = match toml::from_str(text.content()) {
        Ok(m) => m,
        Err(e) => {
            let reason = e.to_string().replace('\n', " ");
            return diag.error(Location::file(&path), ProblemKind::Metadata { reason });
        }
    };
    if manifest.format_version > FORMAT_VERSION || manifest.format_version == 0 {
        let reason = format!(
            "format_version = {} is not supported; this AlignScope reads versions 1 to {FORMAT_VERSION}",
            manifest.format_version
        );
        diag.error(Location::file(&path), ProblemKind::Metadata { reason });
    }
    pair.meta.name = if manifest.name.is_empty() {
        super::super::folder_name(dir)
    } else {
        manifest.name
    };
    pair.meta.left_label = manifest.left_label;
    pair.meta.right_label = manifest.right_label;
    pair.meta.credits = manifest.credits;
}

/// Checks the header row; returns whether records should be read.
fn check_header(text: &TextFile, expected: &str, diag: &mut Diagnostics) -> bool {
    let found = text.first_line();
    if found == expected {
        return true;
    }
    diag.error_at(
        &text.path,
        1,
        ProblemKind::Header {
            expected: expected.replace('\t', "<TAB>"),
            found: found.replace('\t', "<TAB>"),
        },
    );
    false
}

/// Calls `each` for every record after the header, fields unescaped.
fn for_each_row(
    text: &TextFile,
    header: &str,
    diag: &mut Diagnostics,
    mut each: impl FnMut(&mut Diagnostics, usize, &[String]),
) {
    if !check_header(text, header, diag) {
        return;
    }
    let mut fields: Vec<String> = Vec::new();
    text.for_each_record(diag, |diag, line, raw| {
        if line == 1 {
            return;
        }
        fields.clear();
        for field in raw {
            match unescape(field) {
                Ok(f) => fields.push(f.into_owned()),
                Err(kind) => return diag.error_at(&text.path, line, kind),
            }
        }
        each(diag, line, &fields);
    });
}

fn read_vocabulary(
    path: &Path,
    header: &'static str,
    vocabulary: &mut Vocabulary,
    diag: &mut Diagnostics,
) {
    let Some(text) = read_optional(path, diag) else {
        return;
    };
    let mut lines: HashMap<String, usize> = HashMap::new();
    for_each_row(&text, header, diag, |diag, line, fields| {
        if !check_columns(diag, path, line, fields, 1, header) {
            return;
        }
        if let Some(&first_line) = lines.get(&fields[0]) {
            let kind = ProblemKind::DuplicateId {
                what: header,
                id: fields[0].clone(),
                first_line,
            };
            return diag.error_at(path, line, kind);
        }
        lines.insert(fields[0].clone(), line);
        vocabulary.intern(&fields[0]);
    });
}

fn read_entities(side_dir: &Path, side: Side, diag: &mut Diagnostics) -> (Vec<Entity>, KeyTable) {
    let path = side_dir.join(ENTITIES);
    let mut table = KeyTable {
        side,
        file: path.clone(),
        index: HashMap::new(),
    };
    let what = format!("the entities of the {side} graph, header `key<TAB>name`");
    let Some(text) = read_required(&path, &what, diag) else {
        return (Vec::new(), table);
    };
    let mut entities = Vec::new();
    let mut names = HashSet::new();
    let (mut duplicate_names, mut first_duplicate) = (0usize, None);
    for_each_row(&text, HEADER_ENTITIES, diag, |diag, line, fields| {
        if fields.is_empty() || fields.len() > 2 {
            let kind = ProblemKind::ColumnCount {
                expected: "1 or 2".to_string(),
                layout: "key, name",
                found: fields.len(),
            };
            return diag.error_at(&path, line, kind);
        }
        let key = &fields[0];
        if key.is_empty() {
            return diag.error_at(
                &path,
                line,
                ProblemKind::EmptyField {
                    column: 1,
                    name: "key",
                },
            );
        }
        if let Some(&(_, first_line)) = table.index.get(key) {
            let kind = ProblemKind::DuplicateId {
                what: "entity key",
                id: key.clone(),
                first_line,
            };
            return diag.error_at(&path, line, kind);
        }
        let name = fields
            .get(1)
            .filter(|n| !n.is_empty())
            .unwrap_or(key)
            .clone();
        if !names.insert(name.clone()) {
            duplicate_names += 1;
            first_duplicate.get_or_insert(line);
        }
        table
            .index
            .insert(key.clone(), (entities.len() as u32, line));
        entities.push(Entity {
            key: key.clone(),
            name,
        });
    });
    if let Some(line) = first_duplicate {
        diag.warn_many(
            WarningKind::DuplicateEntityNames,
            duplicate_names,
            Location::line(&path, line),
        );
    }
    (entities, table)
}

fn resolve(
    table: &KeyTable,
    key: &str,
    role: &'static str,
    side: Side,
    at: &Location,
    diag: &mut Diagnostics,
) -> Option<u32> {
    if let Some(&(index, _)) = table.index.get(key) {
        return Some(index);
    }
    diag.error(
        at.clone(),
        ProblemKind::UnknownEntity {
            role,
            id: key.to_string(),
            graph: side.graph_name(),
            declared_in: table.file.display().to_string(),
        },
    );
    None
}

fn matrix_row(matrix: &NpyMatrix, row: usize) -> Option<&[f32]> {
    matrix.data.get(row * matrix.cols..(row + 1) * matrix.cols)
}

fn read_triples(
    path: &Path,
    table: &KeyTable,
    relations: &mut Vocabulary,
    diag: &mut Diagnostics,
) -> Vec<RelTriple> {
    let Some(text) = read_optional(path, diag) else {
        return Vec::new();
    };
    let side = table.side;
    let mut triples = Vec::new();
    let mut seen = HashSet::new();
    let (mut duplicates, mut first_duplicate) = (0usize, None);
    for_each_row(&text, HEADER_TRIPLES, diag, |diag, line, fields| {
        if !check_columns(diag, path, line, fields, 3, "head key, relation, tail key") {
            return;
        }
        if fields[1].is_empty() {
            return diag.error_at(
                path,
                line,
                ProblemKind::EmptyField {
                    column: 2,
                    name: "relation",
                },
            );
        }
        let at = Location::line(path, line);
        let head = resolve(table, &fields[0], "head entity", side, &at, diag);
        let tail = resolve(table, &fields[2], "tail entity", side, &at, diag);
        let (Some(head), Some(tail)) = (head, tail) else {
            return;
        };
        let triple = RelTriple {
            head,
            relation: relations.intern(&fields[1]),
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
            Location::line(path, line),
        );
    }
    triples
}

fn read_attributes(
    path: &Path,
    table: &KeyTable,
    keys: &mut Vocabulary,
    diag: &mut Diagnostics,
) -> Vec<AttrTriple> {
    let Some(text) = read_optional(path, diag) else {
        return Vec::new();
    };
    let side = table.side;
    let mut attributes = Vec::new();
    for_each_row(&text, HEADER_ATTRIBUTES, diag, |diag, line, fields| {
        if fields.len() < 2 || fields.len() > 3 {
            let kind = ProblemKind::ColumnCount {
                expected: "2 or 3".to_string(),
                layout: "entity key, attribute, optional value",
                found: fields.len(),
            };
            return diag.error_at(path, line, kind);
        }
        if fields[1].is_empty() {
            return diag.error_at(
                path,
                line,
                ProblemKind::EmptyField {
                    column: 2,
                    name: "attribute",
                },
            );
        }
        let at = Location::line(path, line);
        if let Some(entity) = resolve(table, &fields[0], "entity", side, &at, diag) {
            attributes.push(AttrTriple {
                entity,
                key: keys.intern(&fields[1]),
                value: fields.get(2).cloned(),
            });
        }
    });
    attributes
}

/// `images/<key>.<ext>` (one image) or `images/<key>/*.<ext>` (several, in name order).
fn read_images(
    dir: &Path,
    table: &KeyTable,
    entity_count: usize,
    diag: &mut Diagnostics,
) -> Vec<Vec<PathBuf>> {
    let mut images = vec![Vec::new(); entity_count];
    let Ok(entries) = fs::read_dir(dir) else {
        return images;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    let (mut unknown, mut first_unknown) = (0usize, None);
    for path in entries {
        let (stem, files) = if path.is_dir() {
            let stem = path.file_name().map(|n| n.to_string_lossy().into_owned());
            let mut files: Vec<PathBuf> = fs::read_dir(&path)
                .map(|d| {
                    d.flatten()
                        .map(|e| e.path())
                        .filter(|p| is_image_file(p))
                        .collect()
                })
                .unwrap_or_default();
            files.sort();
            (stem, files)
        } else if is_image_file(&path) {
            (
                path.file_stem().map(|n| n.to_string_lossy().into_owned()),
                vec![path.clone()],
            )
        } else {
            continue;
        };
        let entity = stem
            .and_then(|s| file_stem_to_key(&s))
            .and_then(|key| table.index.get(&key).map(|&(i, _)| i));
        match entity {
            Some(entity) => images[entity as usize].extend(files),
            None => {
                unknown += 1;
                first_unknown.get_or_insert(path);
            }
        }
    }
    if let Some(first) = first_unknown {
        diag.warn_many(
            WarningKind::ImagesOfUnknownEntities,
            unknown,
            Location::file(first),
        );
    }
    images
}

fn is_image_file(path: &Path) -> bool {
    path.is_file()
        && path.extension().is_some_and(|e| {
            IMAGE_EXTENSIONS.contains(&e.to_string_lossy().to_ascii_lowercase().as_str())
        })
}

fn read_features(
    side_dir: &Path,
    table: &KeyTable,
    entity_count: usize,
    diag: &mut Diagnostics,
) -> Option<EntityFeatures> {
    let matrix_path = side_dir.join(FEATURES);
    let keys_path = side_dir.join(FEATURE_KEYS);
    match (matrix_path.exists(), keys_path.exists()) {
        (false, false) => return None,
        (true, false) | (false, true) => {
            let what =
                format!("{FEATURES} and {FEATURE_KEYS} go together: one row of the matrix per key");
            let missing = if matrix_path.exists() {
                &keys_path
            } else {
                &matrix_path
            };
            diag.error(Location::file(missing), ProblemKind::MissingFile { what });
            return None;
        }
        (true, true) => {}
    }
    let matrix = read_feature_matrix(&matrix_path, table.side, diag)?;
    let text = read_required(&keys_path, "the entity key of each feature row", diag)?;
    let side = table.side;
    let mut rows = vec![None; entity_count];
    let mut row_lines: HashMap<u32, usize> = HashMap::new();
    let mut keys_read = 0usize;
    let errors_before = diag.error_count();
    for_each_row(&text, HEADER_FEATURE_KEYS, diag, |diag, line, fields| {
        if !check_columns(diag, &keys_path, line, fields, 1, "entity key") {
            return;
        }
        let row = keys_read as u32;
        keys_read += 1;
        let at = Location::line(&keys_path, line);
        let Some(entity) = resolve(table, &fields[0], "entity", side, &at, diag) else {
            return;
        };
        if let Some(&first_line) = row_lines.get(&entity) {
            let kind = ProblemKind::DuplicateId {
                what: "feature key",
                id: fields[0].clone(),
                first_line,
            };
            return diag.error(at, kind);
        }
        row_lines.insert(entity, line);
        if let Some(index) =
            matrix_row(&matrix, row as usize).and_then(|r| r.iter().position(|v| !v.is_finite()))
        {
            let value = matrix_row(&matrix, row as usize)
                .map(|r| r[index].to_string())
                .unwrap_or_default();
            let kind = ProblemKind::NonFinite {
                entity: format!("entity `{}`", fields[0]),
                index,
                value,
            };
            return diag.error(Location::file(&matrix_path), kind);
        }
        rows[entity as usize] = Some(row);
    });
    if keys_read != matrix.rows {
        let what = format!(
            "{} lists {keys_read} keys but {} has {} rows; they must match one to one",
            keys_path.display(),
            matrix_path.display(),
            matrix.rows
        );
        diag.error(
            Location::file(&keys_path),
            ProblemKind::Inconsistent { what },
        );
    }
    if diag.error_count() > errors_before {
        return None;
    }
    Some(EntityFeatures {
        origin: FeatureOrigin::File { path: matrix_path },
        dim: matrix.cols,
        rows,
        data: matrix.data,
    })
}

/// Reads a side's feature matrix, refusing shapes no dataset has: no rows, or rows
/// of a width outside `1..=EntityFeatures::MAX_DIM`.
fn read_feature_matrix(path: &Path, side: Side, diag: &mut Diagnostics) -> Option<NpyMatrix> {
    let what = format!("the image feature matrix, one row per key of {FEATURE_KEYS}");
    let bytes = read_or_report(path, FileKind::Features, Some(&what), diag)?;
    let problem = match read_npy_matrix(&bytes) {
        Ok(matrix) => match shape_problem(&matrix, side) {
            None => return Some(matrix),
            Some(problem) => problem,
        },
        Err(e) => ProblemKind::Npy {
            reason: e.to_string(),
        },
    };
    diag.error(Location::file(path), problem);
    None
}

/// Why a feature matrix's shape is unusable, if it is.
fn shape_problem(matrix: &NpyMatrix, side: Side) -> Option<ProblemKind> {
    let shape = format!("({}, {})", matrix.rows, matrix.cols);
    if matrix.rows == 0 {
        let side = side.as_str();
        return Some(ProblemKind::EmptyFeatureMatrix {
            shape,
            matrix: format!("{side}/{FEATURES}"),
            keys: format!("{side}/{FEATURE_KEYS}"),
        });
    }
    if !EntityFeatures::accepts_dim(matrix.cols) {
        return Some(ProblemKind::FeatureWidth {
            of: format!("every row of the matrix (shape {shape})"),
            width: matrix.cols,
        });
    }
    None
}

fn read_pairs(
    path: &Path,
    tables: [&KeyTable; 2],
    required: bool,
    diag: &mut Diagnostics,
) -> Vec<GoldPair> {
    let text = if required {
        read_required(
            path,
            "the gold pairs, header `left<TAB>right` (entity keys)",
            diag,
        )
    } else {
        read_optional(path, diag)
    };
    let Some(text) = text else {
        return Vec::new();
    };
    let mut pairs = Vec::new();
    let mut seen = HashSet::new();
    let (mut duplicates, mut first_duplicate) = (0usize, None);
    for_each_row(&text, HEADER_PAIRS, diag, |diag, line, fields| {
        if !check_columns(
            diag,
            path,
            line,
            fields,
            2,
            "left entity key, right entity key",
        ) {
            return;
        }
        let at = Location::line(path, line);
        let left = resolve(
            tables[0],
            &fields[0],
            "left entity of the pair",
            Side::Left,
            &at,
            diag,
        );
        let right = resolve(
            tables[1],
            &fields[1],
            "right entity of the pair",
            Side::Right,
            &at,
            diag,
        );
        if let (Some(left), Some(right)) = (left, right) {
            let pair = GoldPair { left, right };
            if seen.insert(pair) {
                pairs.push(pair);
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
            Location::line(path, line),
        );
    }
    pairs
}

/// Every folder below `splits/` holding `train.tsv`, `valid.tsv` or `test.tsv`.
fn read_splits(
    dir: &Path,
    tables: [&KeyTable; 2],
    gold: &[GoldPair],
    diag: &mut Diagnostics,
) -> Vec<NamedSplit> {
    let gold: HashSet<GoldPair> = gold.iter().copied().collect();
    let mut folders = Vec::new();
    collect_split_folders(dir, &mut folders);
    folders.sort();
    let mut splits = Vec::new();
    for folder in folders {
        let mut split = Split::default();
        for (file, part) in
            SPLIT_PARTS
                .iter()
                .zip([&mut split.train, &mut split.valid, &mut split.test])
        {
            let path = folder.join(file);
            for pair in read_pairs(&path, tables, false, diag) {
                if !gold.contains(&pair) {
                    let what = format!(
                        "a pair in {} is not among the gold pairs (left entity #{}, right entity #{})",
                        path.display(),
                        pair.left,
                        pair.right
                    );
                    diag.error(Location::file(&path), ProblemKind::Inconsistent { what });
                }
                part.push(pair);
            }
        }
        let name = folder
            .strip_prefix(dir)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        splits.push(NamedSplit { name, split });
    }
    splits
}

fn collect_split_folders(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if SPLIT_PARTS.iter().any(|f| path.join(f).exists()) {
                out.push(path.clone());
            }
            collect_split_folders(&path, out);
        }
    }
}
