//! A dataset's image files into image features: every image of every entity whose graph
//! has no features of its own goes through the visual encoder (CPU or CUDA), by way of
//! the data directory's content-hash cache, and the per-entity features (the mean over an
//! entity's images) are written to the dataset's derived-features folder
//! ([`alignscope_datasets::derived`]). The user's folder is never written to.
//!
//! Resumable: every encoded image is cached at once, so an encoding cut short by a crash
//! or a cancel starts again from where it stopped. Undecodable or missing files are
//! counted and listed in the manifest, never fatal.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use alignscope_datasets::derived::{
    DerivedKind, EncodedImages, ImageFailure, LISTED_FAILURES, write_features,
};
use alignscope_datasets::model::{EntityFeatures, FeatureOrigin, KnowledgeGraph};
use alignscope_datasets::{DatasetError, MmkgPair, Side};
use alignscope_models::compute::{self, ComputeDevice};
use alignscope_vision::{
    EncodeProgress, FEATURE_DIM, FeatureCache, VisionError, locate_weights, weights_sha256,
};

use crate::data_dir::DataDir;

/// The encoder as runs and manifests name it.
pub const ENCODER_NAME: &str = "EfficientNet-Lite0 (ImageNet), 1280-d global average pool";

/// Why image features could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ImageEncodingError {
    /// The encoder's weights are missing or unreadable, or the cache cannot be written.
    #[error(transparent)]
    Encoder(#[from] VisionError),
    /// The features could not be written.
    #[error(transparent)]
    Write(#[from] DatasetError),
}

/// How an encoding (of images, or of text: [`crate::text_features`]) ended.
#[derive(Debug, Clone)]
pub enum EncodingOutcome<Manifest> {
    /// Features were written; the manifest says what was done.
    Written(Box<Manifest>),
    /// Nothing of the kind lacks features: nothing to do.
    NothingToEncode,
    /// A cancel stopped it; what was encoded so far is cached.
    Cancelled {
        /// Items encoded before the cancel.
        encoded: usize,
    },
}

/// One entity's running sum of its images' features and their number.
type FeatureSum = Option<(Vec<f32>, usize)>;

/// Image files to encode: per file, its graph and entity.
#[derive(Debug, Default)]
struct Work {
    paths: Vec<PathBuf>,
    owners: Vec<(Side, u32)>,
}

/// Whether a graph's image features come from the dataset itself (a feature file),
/// rather than from an earlier encoding of its images.
fn has_own_features(graph: &KnowledgeGraph) -> bool {
    graph
        .image_features
        .as_ref()
        .is_some_and(|f| !matches!(f.origin, FeatureOrigin::Encoded { .. }))
}

/// The image files of the graphs of `pair` that have no image features of their own
/// (features of an earlier encoding are made again: from the cache, at no cost).
fn work_of(pair: &MmkgPair) -> Work {
    let mut work = Work::default();
    for side in Side::BOTH {
        let graph = pair.graph(side);
        if has_own_features(graph) {
            continue;
        }
        for (entity, files) in graph.images.iter().enumerate() {
            for file in files {
                work.paths.push(file.clone());
                work.owners.push((side, entity as u32));
            }
        }
    }
    work
}

/// Whether a graph of `pair` has image files but no image features at all: an encoding
/// is due.
pub fn needs_encoding(pair: &MmkgPair) -> bool {
    Side::BOTH.iter().any(|&side| {
        let graph = pair.graph(side);
        graph.image_features.is_none() && graph.images.iter().any(|files| !files.is_empty())
    })
}

/// The content-hash cache of the encoder whose weights have checksum `sha256`.
pub fn open_cache(data: &DataDir, sha256: &str) -> Result<FeatureCache, VisionError> {
    let id = format!("efficientnet-lite0-{}", &sha256[..16.min(sha256.len())]);
    FeatureCache::open(&data.image_feature_cache(), &id, FEATURE_DIM)
}

/// The encoder's weights file and its checksum.
pub fn encoder_weights(data: &DataDir) -> Result<(PathBuf, String), VisionError> {
    let weights = locate_weights(&[data.models()])?;
    let sha256 = weights_sha256(&weights)?;
    Ok((weights, sha256))
}

/// Encodes the image files of `pair` (those of graphs without features of their own) on
/// `device` and writes the features to `dest`, reporting progress after each batch.
pub fn encode_dataset_images(
    data: &DataDir,
    pair: &MmkgPair,
    dest: &Path,
    device: &ComputeDevice,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(EncodeProgress),
) -> Result<EncodingOutcome<EncodedImages>, ImageEncodingError> {
    let work = work_of(pair);
    if work.paths.is_empty() {
        return Ok(EncodingOutcome::NothingToEncode);
    }
    let (weights, sha256) = encoder_weights(data)?;
    let cache = open_cache(data, &sha256)?;
    let encoded = compute::encode_images(device, &weights, &work.paths, &cache, cancel, progress)?;
    if encoded.cancelled {
        return Ok(EncodingOutcome::Cancelled {
            encoded: encoded.encoded,
        });
    }
    let mut manifest = EncodedImages::new(ENCODER_NAME, &sha256, FEATURE_DIM);
    let mut sums: [Vec<FeatureSum>; 2] =
        Side::BOTH.map(|side| vec![None; pair.graph(side).entities.len()]);
    for ((side, entity), feature) in work.owners.iter().zip(&encoded.features) {
        let Some(feature) = feature else { continue };
        let slot = &mut sums[side.index()][*entity as usize];
        let (sum, count) = slot.get_or_insert_with(|| (vec![0.0; FEATURE_DIM], 0));
        for (s, v) in sum.iter_mut().zip(feature) {
            *s += v;
        }
        *count += 1;
    }
    for (index, error) in &encoded.failures {
        let (side, _) = work.owners[*index];
        let entry = &mut manifest.sides[side.index()];
        entry.failed += 1;
        if entry.failures.len() < LISTED_FAILURES {
            entry.failures.push(ImageFailure {
                path: work.paths[*index].clone(),
                reason: error.to_string(),
            });
        }
    }
    let mut features: [Option<EntityFeatures>; 2] = [None, None];
    for side in Side::BOTH {
        let graph = pair.graph(side);
        let entry = &mut manifest.sides[side.index()];
        if has_own_features(graph) {
            entry.from_source = true;
            continue;
        }
        entry.entities_with_images = graph.images.iter().filter(|f| !f.is_empty()).count();
        entry.images = work.owners.iter().filter(|(s, _)| *s == side).count();
        entry.from_cache = work
            .owners
            .iter()
            .zip(&encoded.cached)
            .filter(|((s, _), cached)| *s == side && **cached)
            .count();
        let mut table = EntityFeatures {
            origin: FeatureOrigin::Unrecorded,
            dim: FEATURE_DIM,
            rows: vec![None; graph.entities.len()],
            data: Vec::new(),
        };
        for (entity, slot) in sums[side.index()].iter().enumerate() {
            if let Some((sum, count)) = slot {
                table.rows[entity] = Some((table.data.len() / FEATURE_DIM) as u32);
                table.data.extend(sum.iter().map(|s| s / *count as f32));
            }
        }
        entry.entities_with_features = table.count();
        features[side.index()] = Some(table);
    }
    write_features(
        dest,
        DerivedKind::Image,
        pair,
        [features[0].as_ref(), features[1].as_ref()],
        &mut manifest,
    )?;
    Ok(EncodingOutcome::Written(Box::new(manifest)))
}
