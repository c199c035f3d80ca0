//! Batched image → feature encoding with progress reports.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use burn::prelude::*;
use rayon::prelude::*;

use crate::VisionError;
use crate::cache::{ContentHash, FeatureCache};
use crate::direct::DirectEfficientNet;
use crate::efficientnet::{EfficientNetLite0, FEATURE_DIM};
use crate::preprocess::{INPUT_LEN, INPUT_SIZE, preprocess, preprocess_bytes};
use crate::weights::{load_efficientnet, read_folded};

/// How far an encoding has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeProgress {
    /// Images processed so far (encoded or failed).
    pub done: usize,
    /// Images in all.
    pub total: usize,
    /// Of those done, the ones whose feature came from the cache (no encoding: leave them
    /// out of a rate or an ETA).
    pub from_cache: usize,
}

/// Features of many images: one row per input image that could be decoded.
#[derive(Debug, Default)]
pub struct EncodedImages {
    /// `features[i]` is the 1280-d feature of input `i`, `None` where it failed.
    pub features: Vec<Option<Vec<f32>>>,
    /// Why each failed image failed (undecodable or unreadable files), in input order.
    pub failures: Vec<VisionError>,
}

/// Features of many image files, through a [`FeatureCache`].
#[derive(Debug, Default)]
pub struct CachedEncoding {
    /// `features[i]` is the feature of input `i`; `None` where it failed, or was not
    /// reached before a cancel.
    pub features: Vec<Option<Vec<f32>>>,
    /// The inputs that could not be read or decoded (input index, why).
    pub failures: Vec<(usize, VisionError)>,
    /// Features found in the cache.
    pub from_cache: usize,
    /// Per input, whether its feature came from the cache.
    pub cached: Vec<bool>,
    /// Features computed now (and added to the cache).
    pub encoded: usize,
    /// Whether a cancel stopped the encoding before every input was done.
    pub cancelled: bool,
}

/// EfficientNet-Lite0 on one device, ready to encode images.
#[derive(Debug)]
pub struct ImageEncoder<B: Backend> {
    model: EfficientNetLite0<B>,
    device: B::Device,
}

impl<B: Backend> ImageEncoder<B> {
    /// Loads the weights at `weights` onto `device`.
    pub fn load(weights: &Path, device: &B::Device) -> Result<Self, VisionError> {
        Ok(Self {
            model: load_efficientnet(weights, device)?,
            device: device.clone(),
        })
    }

    /// Features `[n, 1280]` and ImageNet logits `[n, 1000]` of preprocessed images
    /// (each [`INPUT_LEN`] values, as [`crate::preprocess`] makes them).
    pub fn run(&self, images: &[Vec<f32>]) -> (Tensor<B, 2>, Tensor<B, 2>) {
        let features = self.features(images);
        let logits = self.model.classify(features.clone());
        (features, logits)
    }

    /// Features `[n, 1280]` of preprocessed images.
    pub fn features(&self, images: &[Vec<f32>]) -> Tensor<B, 2> {
        let mut flat = Vec::with_capacity(images.len() * INPUT_LEN);
        for image in images {
            flat.extend_from_slice(image);
        }
        let input = Tensor::<B, 4>::from_data(
            TensorData::new(flat, [images.len(), 3, INPUT_SIZE, INPUT_SIZE]),
            &self.device,
        );
        self.model.features(input)
    }

    /// Features of preprocessed images as one row-major vector ([`FEATURE_DIM`] values per
    /// image; empty for no image).
    fn feature_rows(&self, images: &[Vec<f32>]) -> Result<Vec<f32>, VisionError> {
        if images.is_empty() {
            return Ok(Vec::new());
        }
        self.features(images)
            .into_data()
            .convert::<f32>()
            .into_vec::<f32>()
            .map_err(|error| VisionError::Inference(format!("{error:?}")))
    }

    /// Encodes the image files `paths`, `batch_size` at a time, reporting progress after
    /// each batch. Files that cannot be read or decoded are reported in
    /// [`EncodedImages::failures`], not fatal.
    pub fn encode_files(
        &self,
        paths: &[PathBuf],
        batch_size: usize,
        progress: &mut dyn FnMut(EncodeProgress),
    ) -> Result<EncodedImages, VisionError> {
        let batch_size = batch_size.max(1);
        let mut encoded = EncodedImages {
            features: Vec::with_capacity(paths.len()),
            failures: Vec::new(),
        };
        for chunk in paths.chunks(batch_size) {
            let mut inputs = Vec::with_capacity(chunk.len());
            let mut slots = Vec::with_capacity(chunk.len());
            for path in chunk {
                match preprocess(path) {
                    Ok(input) => {
                        slots.push(true);
                        inputs.push(input);
                    }
                    Err(error) => {
                        slots.push(false);
                        encoded.failures.push(error);
                    }
                }
            }
            let mut rows = self.feature_rows(&inputs)?.into_iter();
            for decoded in slots {
                encoded.features.push(if decoded {
                    Some(rows.by_ref().take(FEATURE_DIM).collect())
                } else {
                    None
                });
            }
            progress(EncodeProgress {
                done: encoded.features.len(),
                total: paths.len(),
                from_cache: 0,
            });
        }
        Ok(encoded)
    }

    /// Features of the image files `paths`, taken from `cache` where it has them (by
    /// content hash) and otherwise encoded `batch_size` at a time and added to it, so an
    /// encoding cut short resumes where it stopped. `cancel` is checked between
    /// batches; `progress` hears after the cache look-up and after each batch. Files that
    /// cannot be read or decoded are counted in [`CachedEncoding::failures`], not fatal;
    /// a cache that cannot be written is.
    pub fn encode_files_cached(
        &self,
        paths: &[PathBuf],
        batch_size: usize,
        cache: &FeatureCache,
        cancel: &AtomicBool,
        progress: &mut dyn FnMut(EncodeProgress),
    ) -> Result<CachedEncoding, VisionError> {
        let mut encode = |files: &[(&Path, Vec<u8>)]| {
            let mut decoded = Vec::with_capacity(files.len());
            let mut inputs = Vec::with_capacity(files.len());
            for (path, bytes) in files {
                match preprocess_bytes(bytes, path) {
                    Ok(input) => {
                        inputs.push(input);
                        decoded.push(None);
                    }
                    Err(error) => decoded.push(Some(error)),
                }
            }
            let rows = self.feature_rows(&inputs)?;
            let mut rows = rows.chunks(FEATURE_DIM);
            Ok(decoded
                .into_iter()
                .map(|failed| match failed {
                    Some(error) => Err(error),
                    None => Ok(rows.next().unwrap_or_default().to_vec()),
                })
                .collect())
        };
        encode_through_cache(paths, batch_size, cache, cancel, progress, &mut encode)
    }
}

/// EfficientNet-Lite0 on the CPU through [`DirectEfficientNet`]: each image decoded and
/// encoded on one core, as many at once as there are cores (rayon).
#[derive(Debug)]
pub struct DirectEncoder {
    net: DirectEfficientNet,
}

impl DirectEncoder {
    /// Images per batch: the cancel and progress granularity (a few per core).
    pub const BATCH: usize = 16;

    /// Loads the weights at `weights`.
    pub fn load(weights: &Path) -> Result<Self, VisionError> {
        Ok(Self {
            net: DirectEfficientNet::new(&read_folded(weights)?),
        })
    }

    /// The 1280-d features of preprocessed images, in parallel.
    pub fn features(&self, images: &[Vec<f32>]) -> Vec<Vec<f32>> {
        images
            .par_iter()
            .map(|image| self.net.features(image))
            .collect()
    }

    /// [`ImageEncoder::encode_files_cached`] on this path: decode and network in parallel
    /// over the images of each batch of [`Self::BATCH`].
    pub fn encode_files_cached(
        &self,
        paths: &[PathBuf],
        cache: &FeatureCache,
        cancel: &AtomicBool,
        progress: &mut dyn FnMut(EncodeProgress),
    ) -> Result<CachedEncoding, VisionError> {
        let mut encode = |files: &[(&Path, Vec<u8>)]| {
            Ok(files
                .par_iter()
                .map(|(path, bytes)| {
                    preprocess_bytes(bytes, path).map(|input| self.net.features(&input))
                })
                .collect())
        };
        encode_through_cache(paths, Self::BATCH, cache, cancel, progress, &mut encode)
    }
}

/// Encodes a batch of files given as their bytes: per file its feature or why it failed.
type BatchEncoder<'a> =
    dyn FnMut(&[(&Path, Vec<u8>)]) -> Result<Vec<Result<Vec<f32>, VisionError>>, VisionError> + 'a;

/// The cached encoding both paths share: look every file up by content hash, then read
/// the others `batch_size` at a time, encode them with `encode` and cache each feature
/// at once.
fn encode_through_cache(
    paths: &[PathBuf],
    batch_size: usize,
    cache: &FeatureCache,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(EncodeProgress),
    encode: &mut BatchEncoder<'_>,
) -> Result<CachedEncoding, VisionError> {
    let mut result = CachedEncoding {
        features: vec![None; paths.len()],
        cached: vec![false; paths.len()],
        ..CachedEncoding::default()
    };
    let unreadable = |path: &Path, error: std::io::Error| VisionError::Image {
        path: path.to_path_buf(),
        source: image::ImageError::IoError(error),
    };
    let mut pending = Vec::new();
    // Files with the same bytes as an earlier pending one (the same picture under two
    // names): encoded once, the feature copied.
    let mut twins = Vec::new();
    let mut first_of: std::collections::HashMap<ContentHash, usize> = Default::default();
    for (index, path) in paths.iter().enumerate() {
        match ContentHash::of_file(path) {
            Ok(hash) => match cache.get(&hash) {
                Some(vector) => {
                    result.features[index] = Some(vector);
                    result.cached[index] = true;
                    result.from_cache += 1;
                }
                None => match first_of.get(&hash) {
                    Some(&first) => twins.push((index, first)),
                    None => {
                        first_of.insert(hash, index);
                        pending.push((index, hash));
                    }
                },
            },
            Err(error) => result.failures.push((index, unreadable(path, error))),
        }
    }
    let mut report = |result: &CachedEncoding| {
        progress(EncodeProgress {
            done: result.from_cache + result.encoded + result.failures.len(),
            total: paths.len(),
            from_cache: result.from_cache,
        })
    };
    report(&result);
    for batch in pending.chunks(batch_size.max(1)) {
        if cancel.load(Ordering::Relaxed) {
            result.cancelled = true;
            break;
        }
        let mut files = Vec::with_capacity(batch.len());
        let mut slots = Vec::with_capacity(batch.len());
        for &(index, _) in batch {
            let path = &paths[index];
            match std::fs::read(path) {
                Ok(bytes) => {
                    // The file may have changed since it was hashed: key the feature by
                    // the bytes actually encoded.
                    slots.push((index, ContentHash::of(&bytes)));
                    files.push((path.as_path(), bytes));
                }
                Err(error) => result.failures.push((index, unreadable(path, error))),
            }
        }
        let features = encode(&files)?;
        for ((index, hash), feature) in slots.into_iter().zip(features) {
            match feature {
                Ok(vector) => {
                    cache.put(&hash, &vector)?;
                    result.features[index] = Some(vector);
                    result.encoded += 1;
                }
                Err(error) => result.failures.push((index, error)),
            }
        }
        report(&result);
    }
    if !result.cancelled && !twins.is_empty() {
        for (index, first) in twins {
            match result.features[first].clone() {
                Some(vector) => {
                    result.features[index] = Some(vector);
                    result.encoded += 1;
                }
                None => result.failures.push((
                    index,
                    VisionError::Inference(format!(
                        "{} has the same bytes as {}, which could not be encoded",
                        paths[index].display(),
                        paths[first].display()
                    )),
                )),
            }
        }
        report(&result);
    }
    Ok(result)
}
