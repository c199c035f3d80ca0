//! Features AlignScope derives from a dataset's own files, kept in a folder of the data
//! directory, never in the user's dataset folder: image features encoded from its image
//! files, and sentence embeddings of its entities' attribute statements, names and
//! abstract sentences ([`DerivedKind`]); beside them the attribute-key alignment the
//! abstract sentences were made with ([`KEY_ALIGNMENT_FILE`]).
//!
//! A derived-features folder holds one manifest per kind (`image.json`: [`EncodedImages`],
//! with the encoder, its weights' checksum, per graph the counts and the files that failed;
//! `attribute-text.json`, `name.json` and `attribute-abstract.json`: [`EncodedTexts`]) and,
//! per graph with features,
//! an `.npy` matrix (one `f32` row per entity with a feature) and a JSON list of the
//! entity key of each row. The data files carry a generation number in their names and
//! are written before the manifest that names them, each to a temporary file renamed into
//! place: a crash leaves either the old manifest with its files or the new one with its
//! files, never a manifest naming half-written data.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::abstracts::KeyAlignment;
use crate::error::DatasetError;
use crate::file::{FileKind, read_capped};
use crate::model::{EntityFeatures, FeatureOrigin, KnowledgeGraph, MmkgPair, Side};
use crate::npy::{NpyMatrix, read_npy_matrix, write_npy_matrix};

/// The manifest version this build writes and reads.
const MANIFEST_VERSION: u32 = 1;

/// Failed files listed by name in a manifest at most (all are counted).
pub const LISTED_FAILURES: usize = 1000;

/// What a set of derived features holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DerivedKind {
    /// Image features encoded from the image files.
    Image,
    /// Sentence embeddings of each entity's attribute statements (their mean).
    AttributeText,
    /// Sentence embeddings of the entities' names.
    Name,
    /// Sentence embeddings of each entity's abstract sentence ([`crate::abstracts`]).
    AttributeAbstract,
}

impl DerivedKind {
    /// Every kind.
    pub const ALL: [DerivedKind; 4] = [
        Self::Image,
        Self::AttributeText,
        Self::Name,
        Self::AttributeAbstract,
    ];

    /// File-name stem of its manifest and data files.
    pub fn stem(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::AttributeText => "attribute-text",
            Self::Name => "name",
            Self::AttributeAbstract => "attribute-abstract",
        }
    }

    /// File name of its manifest.
    pub fn manifest_file(self) -> String {
        format!("{}.json", self.stem())
    }

    /// A graph's features of this kind.
    pub fn features(self, graph: &KnowledgeGraph) -> Option<&EntityFeatures> {
        match self {
            Self::Image => graph.image_features.as_ref(),
            Self::AttributeText => graph.attribute_text_features.as_ref(),
            Self::Name => graph.name_features.as_ref(),
            Self::AttributeAbstract => graph.attribute_abstract_features.as_ref(),
        }
    }

    fn slot(self, graph: &mut KnowledgeGraph) -> &mut Option<EntityFeatures> {
        match self {
            Self::Image => &mut graph.image_features,
            Self::AttributeText => &mut graph.attribute_text_features,
            Self::Name => &mut graph.name_features,
            Self::AttributeAbstract => &mut graph.attribute_abstract_features,
        }
    }
}

/// An image file that could not be turned into a feature, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageFailure {
    /// The file.
    pub path: PathBuf,
    /// Why (unreadable, undecodable).
    pub reason: String,
}

/// What a manifest records per graph: at least where its files are.
pub trait SideRecord: Default + Serialize + DeserializeOwned {
    /// The graph's matrix and keys files, `None` where it has no features here.
    fn files(&self) -> Option<&EncodedFiles>;
    /// Sets them.
    fn set_files(&mut self, files: Option<EncodedFiles>);
}

/// Where one graph's encoded image features are and how the encoding went.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EncodedSide {
    /// The `.npy` matrix and the keys file, relative to the folder; `None` where no
    /// entity of this graph got a feature (or the graph's features come from its source).
    pub files: Option<EncodedFiles>,
    /// Entities with at least one image file.
    pub entities_with_images: usize,
    /// Entities that got a feature (the mean of their images' features).
    pub entities_with_features: usize,
    /// Image files considered.
    pub images: usize,
    /// Of those, features found in the content-hash cache (no encoding needed).
    pub from_cache: usize,
    /// Image files that could not be read or decoded.
    pub failed: usize,
    /// The first [`LISTED_FAILURES`] of them.
    pub failures: Vec<ImageFailure>,
    /// Whether this graph's features come from the dataset itself (nothing encoded).
    pub from_source: bool,
}

/// Where one graph's sentence embeddings are and what went into them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EncodedTextSide {
    /// The `.npy` matrix and the keys file, relative to the folder; `None` where no
    /// entity of this graph has text of this kind.
    pub files: Option<EncodedFiles>,
    /// Entities that got a feature (those with at least one statement or a name).
    pub entities_with_features: usize,
    /// Statements (or names) embedded, repeats included.
    pub texts: usize,
    /// Distinct statements among them (each embedded once).
    pub distinct: usize,
    /// Of the distinct ones, embeddings found in the statement cache.
    pub from_cache: usize,
}

impl SideRecord for EncodedSide {
    fn files(&self) -> Option<&EncodedFiles> {
        self.files.as_ref()
    }
    fn set_files(&mut self, files: Option<EncodedFiles>) {
        self.files = files;
    }
}

impl SideRecord for EncodedTextSide {
    fn files(&self) -> Option<&EncodedFiles> {
        self.files.as_ref()
    }
    fn set_files(&mut self, files: Option<EncodedFiles>) {
        self.files = files;
    }
}

/// A matrix file and its row-keys file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncodedFiles {
    /// The `.npy` matrix.
    pub matrix: String,
    /// The JSON list of entity keys, one per matrix row.
    pub keys: String,
}

/// A manifest: which encoder made the features of a folder, and per graph its record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound = "S: SideRecord")]
pub struct FeatureManifest<S> {
    /// Manifest version.
    pub version: u32,
    /// The encoder, e.g. `EfficientNet-Lite0 (ImageNet)`.
    pub encoder: String,
    /// SHA-256 of its weights file, hex.
    pub weights_sha256: String,
    /// Feature width.
    pub dim: usize,
    /// Increases with every encoding written to the folder.
    pub generation: u64,
    /// Left graph, then right.
    pub sides: [S; 2],
}

/// The `image.json` manifest: how a dataset's image files were encoded.
pub type EncodedImages = FeatureManifest<EncodedSide>;

/// The `attribute-text.json`, `name.json` and `attribute-abstract.json` manifests: how a
/// dataset's statements, names or abstract sentences were embedded.
pub type EncodedTexts = FeatureManifest<EncodedTextSide>;

impl<S: SideRecord> FeatureManifest<S> {
    /// A manifest for features of width `dim` from `encoder` (nothing written yet).
    pub fn new(encoder: &str, weights_sha256: &str, dim: usize) -> Self {
        Self {
            version: MANIFEST_VERSION,
            encoder: encoder.to_string(),
            weights_sha256: weights_sha256.to_string(),
            dim,
            generation: 0,
            sides: Default::default(),
        }
    }

    /// The origin recorded for features read from this manifest.
    pub fn origin(&self) -> FeatureOrigin {
        FeatureOrigin::Encoded {
            encoder: self.encoder.clone(),
            weights_sha256: self.weights_sha256.clone(),
        }
    }
}

impl EncodedImages {
    /// Image files that failed, on both graphs.
    pub fn failed(&self) -> usize {
        self.sides.iter().map(|s| s.failed).sum()
    }
}

fn damaged(dir: &Path, reason: impl Into<String>) -> DatasetError {
    DatasetError::DerivedFeatures {
        dir: dir.to_path_buf(),
        reason: reason.into(),
    }
}

fn write_error(path: &Path, source: std::io::Error) -> DatasetError {
    DatasetError::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder, synced and
/// renamed, so a reader sees the old file or the new one, whole.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), DatasetError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(|e| write_error(path, e))?;
    {
        let mut buffered = std::io::BufWriter::new(file.as_file_mut());
        write(&mut buffered).map_err(|e| write_error(path, e))?;
        buffered.flush().map_err(|e| write_error(path, e))?;
    }
    file.as_file()
        .sync_all()
        .map_err(|e| write_error(path, e))?;
    file.persist(path).map_err(|e| write_error(path, e.error))?;
    Ok(())
}

/// File name of the attribute-key alignment behind the abstract sentences.
pub const KEY_ALIGNMENT_FILE: &str = "attribute-key-alignment.json";

/// Writes the attribute-key alignment the abstract sentences of `dir` were made with
/// ([`crate::abstracts`]), atomically, for people to read and runs to record.
pub fn write_key_alignment(dir: &Path, alignment: &KeyAlignment) -> Result<(), DatasetError> {
    std::fs::create_dir_all(dir).map_err(|e| write_error(dir, e))?;
    write_atomically(&dir.join(KEY_ALIGNMENT_FILE), |w| {
        serde_json::to_writer_pretty(w, alignment).map_err(std::io::Error::from)
    })
}

/// Reads the folder's attribute-key alignment, `None` where there is none.
pub fn read_key_alignment(dir: &Path) -> Result<Option<KeyAlignment>, DatasetError> {
    let path = dir.join(KEY_ALIGNMENT_FILE);
    if !path.is_file() {
        return Ok(None);
    }
    let bytes = read_capped(&path, FileKind::Text)
        .map_err(|e| damaged(dir, format!("{KEY_ALIGNMENT_FILE}: {e}")))?;
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| damaged(dir, format!("{KEY_ALIGNMENT_FILE} is not valid: {e}")))
}

/// Reads the manifest of `kind` in the folder `dir`, `None` where there is none.
pub fn read_manifest<S: SideRecord>(
    dir: &Path,
    kind: DerivedKind,
) -> Result<Option<FeatureManifest<S>>, DatasetError> {
    let name = kind.manifest_file();
    let path = dir.join(&name);
    if !path.is_file() {
        return Ok(None);
    }
    let bytes =
        read_capped(&path, FileKind::Text).map_err(|e| damaged(dir, format!("{name}: {e}")))?;
    let manifest: FeatureManifest<S> = serde_json::from_slice(&bytes)
        .map_err(|e| damaged(dir, format!("{name} is not a valid manifest: {e}")))?;
    if manifest.version > MANIFEST_VERSION {
        return Err(damaged(
            dir,
            format!(
                "{name} has version {}, newer than this build reads ({MANIFEST_VERSION})",
                manifest.version
            ),
        ));
    }
    Ok(Some(manifest))
}

/// Writes the features of `kind` of the graphs of `pair` that have `Some` in `features`
/// to `dir` (created if needed) and then `manifest`, with the file names and a new
/// generation filled in; files of older generations are removed afterwards.
pub fn write_features<S: SideRecord>(
    dir: &Path,
    kind: DerivedKind,
    pair: &MmkgPair,
    features: [Option<&EntityFeatures>; 2],
    manifest: &mut FeatureManifest<S>,
) -> Result<(), DatasetError> {
    std::fs::create_dir_all(dir).map_err(|e| write_error(dir, e))?;
    let previous = read_manifest::<S>(dir, kind).ok().flatten();
    manifest.generation = previous.as_ref().map_or(1, |m| m.generation + 1);
    let stem = kind.stem();
    for side in Side::BOTH {
        let entry = &mut manifest.sides[side.index()];
        entry.set_files(None);
        let Some(features) = features[side.index()].filter(|f| f.count() > 0) else {
            continue;
        };
        let graph = pair.graph(side);
        let mut keys = Vec::with_capacity(features.count());
        let mut data = Vec::with_capacity(features.count() * features.dim);
        for entity in 0..graph.entities.len() as u32 {
            if let Some(vector) = features.vector(entity) {
                keys.push(graph.entities[entity as usize].key.as_str());
                data.extend_from_slice(vector);
            }
        }
        let files = EncodedFiles {
            matrix: format!("{stem}-{}-{side}.npy", manifest.generation),
            keys: format!("{stem}-{}-{side}-keys.json", manifest.generation),
        };
        let matrix = NpyMatrix {
            rows: keys.len(),
            cols: features.dim,
            data,
        };
        write_atomically(&dir.join(&files.matrix), |w| write_npy_matrix(w, &matrix))?;
        write_atomically(&dir.join(&files.keys), |w| {
            serde_json::to_writer(w, &keys).map_err(std::io::Error::from)
        })?;
        entry.set_files(Some(files));
    }
    write_atomically(&dir.join(kind.manifest_file()), |w| {
        serde_json::to_writer_pretty(w, &*manifest).map_err(std::io::Error::from)
    })?;
    if let Some(previous) = previous {
        for files in previous.sides.iter().filter_map(SideRecord::files) {
            // Left-over files of an older generation only cost disk space.
            let _ = std::fs::remove_file(dir.join(&files.matrix));
            let _ = std::fs::remove_file(dir.join(&files.keys));
        }
    }
    Ok(())
}

/// Gives the graphs of `pair` that have no features of `kind` of their own the features
/// of that kind written into `dir`; the manifest, or `None` where the folder has none.
pub fn attach_features<S: SideRecord>(
    pair: &mut MmkgPair,
    dir: &Path,
    kind: DerivedKind,
) -> Result<Option<FeatureManifest<S>>, DatasetError> {
    let Some(manifest) = read_manifest::<S>(dir, kind)? else {
        return Ok(None);
    };
    for side in Side::BOTH {
        let Some(files) = manifest.sides[side.index()].files() else {
            continue;
        };
        if kind.features(pair.graph(side)).is_some() {
            continue;
        }
        let features = read_side(pair, side, dir, files, manifest.dim, manifest.origin())?;
        *kind.slot(pair.graph_mut(side)) = Some(features);
    }
    Ok(Some(manifest))
}

/// Attaches every kind of derived features in `dir` to the graphs of `pair` that lack
/// it ([`attach_features`]).
pub fn attach_all(pair: &mut MmkgPair, dir: &Path) -> Result<(), DatasetError> {
    attach_features::<EncodedSide>(pair, dir, DerivedKind::Image)?;
    attach_features::<EncodedTextSide>(pair, dir, DerivedKind::AttributeText)?;
    attach_features::<EncodedTextSide>(pair, dir, DerivedKind::Name)?;
    attach_features::<EncodedTextSide>(pair, dir, DerivedKind::AttributeAbstract)?;
    Ok(())
}

fn read_side(
    pair: &MmkgPair,
    side: Side,
    dir: &Path,
    files: &EncodedFiles,
    dim: usize,
    origin: FeatureOrigin,
) -> Result<EntityFeatures, DatasetError> {
    let matrix_bytes = read_capped(&dir.join(&files.matrix), FileKind::Features)
        .map_err(|e| damaged(dir, format!("{}: {e}", files.matrix)))?;
    let matrix = read_npy_matrix(&matrix_bytes)
        .map_err(|e| damaged(dir, format!("{}: {e}", files.matrix)))?;
    let key_bytes = read_capped(&dir.join(&files.keys), FileKind::Text)
        .map_err(|e| damaged(dir, format!("{}: {e}", files.keys)))?;
    let keys: Vec<String> = serde_json::from_slice(&key_bytes)
        .map_err(|e| damaged(dir, format!("{}: {e}", files.keys)))?;
    if keys.len() != matrix.rows || matrix.cols != dim {
        return Err(damaged(
            dir,
            format!(
                "{} is {} x {} but {} lists {} keys and the manifest says {} columns",
                files.matrix,
                matrix.rows,
                matrix.cols,
                files.keys,
                keys.len(),
                dim
            ),
        ));
    }
    if let Some(position) = matrix.data.iter().position(|v| !v.is_finite()) {
        return Err(damaged(
            dir,
            format!(
                "{} holds a non-finite value in row {}",
                files.matrix,
                position / matrix.cols.max(1)
            ),
        ));
    }
    let graph = pair.graph(side);
    let index: HashMap<&str, u32> = graph
        .entities
        .iter()
        .enumerate()
        .map(|(i, e)| (e.key.as_str(), i as u32))
        .collect();
    let mut rows = vec![None; graph.entities.len()];
    for (row, key) in keys.iter().enumerate() {
        let entity = index.get(key.as_str()).ok_or_else(|| {
            damaged(
                dir,
                format!(
                    "{} names entity `{key}`, which the {side} graph does not have",
                    files.keys
                ),
            )
        })?;
        rows[*entity as usize] = Some(row as u32);
    }
    Ok(EntityFeatures {
        origin,
        dim: matrix.cols,
        rows,
        data: matrix.data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Entity;

    fn pair_of(left: &[&str], right: &[&str]) -> MmkgPair {
        let mut pair = MmkgPair::default();
        for (side, keys) in [(Side::Left, left), (Side::Right, right)] {
            let graph = pair.graph_mut(side);
            for key in keys {
                graph.entities.push(Entity {
                    key: key.to_string(),
                    name: key.to_string(),
                });
                graph.images.push(Vec::new());
            }
        }
        pair
    }

    fn features(rows: Vec<Option<u32>>, data: Vec<f32>) -> EntityFeatures {
        EntityFeatures {
            origin: FeatureOrigin::Unrecorded,
            dim: 2,
            rows,
            data,
        }
    }

    #[test]
    fn written_features_attach_by_key_with_their_origin_and_replace_older_generations() {
        let dir = tempfile::tempdir().unwrap();
        let pair = pair_of(&["a", "b", "c"], &["x"]);
        let left = features(vec![Some(1), None, Some(0)], vec![1.0, 2.0, 3.0, 4.0]);
        let mut manifest = EncodedImages::new("Test encoder", "00ff", 2);
        write_features(
            dir.path(),
            DerivedKind::Image,
            &pair,
            [Some(&left), None],
            &mut manifest,
        )
        .unwrap();
        assert_eq!(manifest.generation, 1);

        let mut loaded = pair_of(&["c", "a", "b"], &["x"]);
        let read = attach_features::<EncodedSide>(&mut loaded, dir.path(), DerivedKind::Image)
            .unwrap()
            .unwrap();
        assert_eq!(read, manifest);
        let attached = loaded.left.image_features.as_ref().unwrap();
        assert_eq!(attached.vector(0), Some(&[1.0, 2.0][..]), "entity c");
        assert_eq!(attached.vector(1), Some(&[3.0, 4.0][..]), "entity a");
        assert_eq!(attached.vector(2), None, "entity b has none");
        assert!(loaded.right.image_features.is_none());
        assert_eq!(attached.origin, manifest.origin());

        let first_files = manifest.sides[0].files.clone().unwrap();
        let mut again = EncodedImages::new("Test encoder", "00ff", 2);
        write_features(
            dir.path(),
            DerivedKind::Image,
            &pair,
            [Some(&left), None],
            &mut again,
        )
        .unwrap();
        assert_eq!(again.generation, 2);
        assert!(!dir.path().join(&first_files.matrix).exists());
        assert!(
            dir.path()
                .join(&again.sides[0].files.as_ref().unwrap().matrix)
                .exists()
        );
    }

    #[test]
    fn features_of_the_source_are_kept_and_a_stale_key_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let pair = pair_of(&["a"], &["x"]);
        let mut manifest = EncodedImages::new("Test encoder", "00ff", 2);
        let one = features(vec![Some(0)], vec![5.0, 6.0]);
        write_features(
            dir.path(),
            DerivedKind::Image,
            &pair,
            [Some(&one), Some(&one)],
            &mut manifest,
        )
        .unwrap();

        let mut own = pair_of(&["a"], &["x"]);
        own.left.image_features = Some(features(vec![Some(0)], vec![9.0, 9.0]));
        attach_all(&mut own, dir.path()).unwrap();
        assert_eq!(own.left.image_features.as_ref().unwrap().data, [9.0, 9.0]);
        assert_eq!(own.right.image_features.as_ref().unwrap().data, [5.0, 6.0]);

        let mut renamed = pair_of(&["a"], &["y"]);
        let error = attach_all(&mut renamed, dir.path()).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("entity `x`"), "{message}");
        assert!(message.contains("encode-images"), "{message}");
    }

    #[test]
    fn each_kind_has_its_own_manifest_and_attaches_to_its_own_slot() {
        let dir = tempfile::tempdir().unwrap();
        let pair = pair_of(&["a", "b"], &["x"]);
        let image = features(vec![Some(0), None], vec![1.0, 1.0]);
        let text = features(vec![None, Some(0)], vec![2.0, 2.0]);
        let name = features(vec![Some(0), Some(1)], vec![3.0, 3.0, 4.0, 4.0]);
        let mut images = EncodedImages::new("Image encoder", "01", 2);
        write_features(
            dir.path(),
            DerivedKind::Image,
            &pair,
            [Some(&image), None],
            &mut images,
        )
        .unwrap();
        let mut texts = EncodedTexts::new("Text encoder", "02", 2);
        texts.sides[0].texts = 5;
        write_features(
            dir.path(),
            DerivedKind::AttributeText,
            &pair,
            [Some(&text), None],
            &mut texts,
        )
        .unwrap();
        let mut names = EncodedTexts::new("Text encoder", "02", 2);
        write_features(
            dir.path(),
            DerivedKind::Name,
            &pair,
            [Some(&name), None],
            &mut names,
        )
        .unwrap();
        assert!(dir.path().join("attribute-text.json").is_file());
        assert!(dir.path().join("attribute-text-1-left.npy").is_file());

        let mut loaded = pair_of(&["a", "b"], &["x"]);
        attach_all(&mut loaded, dir.path()).unwrap();
        let left = &loaded.left;
        assert_eq!(
            left.image_features.as_ref().unwrap().vector(0),
            Some(&[1.0, 1.0][..])
        );
        let attached = left.attribute_text_features.as_ref().unwrap();
        assert_eq!(attached.vector(0), None);
        assert_eq!(attached.vector(1), Some(&[2.0, 2.0][..]));
        assert_eq!(attached.origin, texts.origin());
        assert_eq!(
            left.name_features.as_ref().unwrap().vector(1),
            Some(&[4.0, 4.0][..])
        );
        let read: EncodedTexts = read_manifest(dir.path(), DerivedKind::AttributeText)
            .unwrap()
            .unwrap();
        assert_eq!(read.sides[0].texts, 5);
        // A manifest of the wrong kind's shape is a clear error, not a panic.
        std::fs::copy(dir.path().join("image.json"), dir.path().join("name.json")).unwrap();
        let error = attach_all(&mut pair_of(&["a", "b"], &["x"]), dir.path()).unwrap_err();
        assert!(error.to_string().contains("name.json"), "{error}");
    }

    #[test]
    fn a_folder_without_a_manifest_attaches_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut pair = pair_of(&["a"], &["x"]);
        assert!(
            attach_features::<EncodedTextSide>(&mut pair, dir.path(), DerivedKind::Name)
                .unwrap()
                .is_none()
        );
        assert!(pair.left.image_features.is_none());
    }
}
