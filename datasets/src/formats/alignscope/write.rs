//! Writing AlignScope's own format, atomically: everything is written into a temporary
//! sibling folder that is renamed into place only when complete.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::*;
use crate::error::DatasetError;
use crate::model::{GoldPair, KnowledgeGraph, MmkgPair, Side, Vocabulary};
use crate::npy::{NpyMatrix, write_npy_matrix};

/// Writes `pair` to the folder `dest` in AlignScope's format. `dest` must not exist or
/// be an empty folder. On failure nothing is left at `dest`.
pub fn write_alignscope(pair: &MmkgPair, dest: &Path) -> Result<(), DatasetError> {
    if dest.exists() && !is_empty_dir(dest) {
        return Err(DatasetError::DestinationExists {
            path: dest.to_path_buf(),
        });
    }
    let staging = staging_dir(dest);
    let result = write_all(pair, &staging).and_then(|()| {
        if dest.exists() {
            fs::remove_dir(dest).map_err(|source| write_error(dest, source))?;
        }
        fs::rename(&staging, dest).map_err(|source| write_error(dest, source))
    });
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    result
}

fn is_empty_dir(path: &Path) -> bool {
    fs::read_dir(path).is_ok_and(|mut entries| entries.next().is_none())
}

fn staging_dir(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "dataset".to_string());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    dest.with_file_name(format!(".{name}.partial-{}-{nanos}", std::process::id()))
}

fn write_error(path: &Path, source: std::io::Error) -> DatasetError {
    DatasetError::Write {
        path: path.to_path_buf(),
        source,
    }
}

fn write_all(pair: &MmkgPair, root: &Path) -> Result<(), DatasetError> {
    create_dir(root)?;
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        name: pair.meta.name.clone(),
        left_label: pair.meta.left_label.clone(),
        right_label: pair.meta.right_label.clone(),
        credits: pair.meta.credits.clone(),
    };
    let manifest_text = toml::to_string(&manifest)
        .map_err(|e| write_error(&root.join(MANIFEST), std::io::Error::other(e)))?;
    write_file(&root.join(MANIFEST), |w| {
        w.write_all(manifest_text.as_bytes())
    })?;
    write_vocabulary(&root.join(RELATIONS), HEADER_RELATIONS, &pair.relations)?;
    write_vocabulary(
        &root.join(ATTRIBUTE_KEYS),
        HEADER_ATTRIBUTE_KEYS,
        &pair.attribute_keys,
    )?;
    for side in Side::BOTH {
        write_graph(pair, pair.graph(side), &root.join(side.as_str()))?;
    }
    write_pairs(&root.join(GOLD), pair, &pair.gold)?;
    for named in &pair.predefined_splits {
        let folder = root.join(SPLITS).join(&named.name);
        create_dir(&folder)?;
        let parts = [&named.split.train, &named.split.valid, &named.split.test];
        for (file, pairs) in SPLIT_PARTS.iter().zip(parts) {
            write_pairs(&folder.join(file), pair, pairs)?;
        }
    }
    Ok(())
}

fn create_dir(path: &Path) -> Result<(), DatasetError> {
    fs::create_dir_all(path).map_err(|source| write_error(path, source))
}

/// Creates `path`, lets `body` fill it through a buffer, and flushes it to disk.
fn write_file(
    path: &Path,
    body: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<(), DatasetError> {
    let run = || {
        let mut out = BufWriter::new(File::create(path)?);
        body(&mut out)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()
    };
    run().map_err(|source| write_error(path, source))
}

fn write_vocabulary(
    path: &Path,
    header: &str,
    vocabulary: &Vocabulary,
) -> Result<(), DatasetError> {
    write_file(path, |w| {
        writeln!(w, "{header}")?;
        for name in vocabulary.names() {
            writeln!(w, "{}", escape(name))?;
        }
        Ok(())
    })
}

fn write_graph(pair: &MmkgPair, graph: &KnowledgeGraph, dir: &Path) -> Result<(), DatasetError> {
    create_dir(dir)?;
    let key = |i: u32| escape(&graph.entities[i as usize].key);
    write_file(&dir.join(ENTITIES), |w| {
        writeln!(w, "{HEADER_ENTITIES}")?;
        for e in &graph.entities {
            writeln!(w, "{}\t{}", escape(&e.key), escape(&e.name))?;
        }
        Ok(())
    })?;
    write_file(&dir.join(TRIPLES), |w| {
        writeln!(w, "{HEADER_TRIPLES}")?;
        for t in &graph.triples {
            writeln!(
                w,
                "{}\t{}\t{}",
                key(t.head),
                escape(pair.relations.name(t.relation)),
                key(t.tail)
            )?;
        }
        Ok(())
    })?;
    if !graph.attributes.is_empty() {
        write_file(&dir.join(ATTRIBUTES), |w| {
            writeln!(w, "{HEADER_ATTRIBUTES}")?;
            for a in &graph.attributes {
                write!(
                    w,
                    "{}\t{}",
                    key(a.entity),
                    escape(pair.attribute_keys.name(a.key))
                )?;
                match &a.value {
                    Some(value) => writeln!(w, "\t{}", escape(value))?,
                    None => writeln!(w)?,
                }
            }
            Ok(())
        })?;
    }
    write_images(graph, &dir.join(IMAGES))?;
    if let Some(features) = &graph.image_features {
        let mut keys = Vec::new();
        let mut data = Vec::with_capacity(features.data.len());
        for (entity, _) in features
            .rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_some())
        {
            if let Some(vector) = features.vector(entity as u32) {
                keys.push(entity as u32);
                data.extend_from_slice(vector);
            }
        }
        if keys.is_empty() {
            // No vector, no feature files: an empty matrix is refused when read.
            return Ok(());
        }
        let matrix = NpyMatrix {
            rows: keys.len(),
            cols: features.dim,
            data,
        };
        write_file(&dir.join(FEATURES), |w| write_npy_matrix(w, &matrix))?;
        write_file(&dir.join(FEATURE_KEYS), |w| {
            writeln!(w, "{HEADER_FEATURE_KEYS}")?;
            for &entity in &keys {
                writeln!(w, "{}", key(entity))?;
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// Copies images: one image as `images/<key>.<ext>`, several as `images/<key>/NNN.<ext>`.
fn write_images(graph: &KnowledgeGraph, dir: &Path) -> Result<(), DatasetError> {
    if graph.images.iter().all(|files| files.is_empty()) {
        return Ok(());
    }
    create_dir(dir)?;
    for (entity, files) in graph.images.iter().enumerate() {
        let stem = key_to_file_stem(&graph.entities[entity].key);
        let extension = |p: &Path| {
            p.extension()
                .map(|e| e.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default()
        };
        let targets: Vec<PathBuf> = match files.as_slice() {
            [] => continue,
            [one] => vec![dir.join(format!("{stem}.{}", extension(one)))],
            many => {
                let folder = dir.join(&stem);
                create_dir(&folder)?;
                many.iter()
                    .enumerate()
                    .map(|(i, f)| folder.join(format!("{i:03}.{}", extension(f))))
                    .collect()
            }
        };
        for (source, target) in files.iter().zip(targets) {
            fs::copy(source, &target).map_err(|e| write_error(source, e))?;
        }
    }
    Ok(())
}

fn write_pairs(path: &Path, pair: &MmkgPair, pairs: &[GoldPair]) -> Result<(), DatasetError> {
    write_file(path, |w| {
        writeln!(w, "{HEADER_PAIRS}")?;
        for p in pairs {
            writeln!(
                w,
                "{}\t{}",
                escape(&pair.left.entities[p.left as usize].key),
                escape(&pair.right.entities[p.right as usize].key)
            )?;
        }
        Ok(())
    })
}
