//! Batched image → feature encoding with progress reports.

use std::path::{Path, PathBuf};

use burn::prelude::*;

use crate::VisionError;
use crate::efficientnet::{EfficientNetLite0, FEATURE_DIM};
use crate::preprocess::{INPUT_LEN, INPUT_SIZE, preprocess};
use crate::weights::load_efficientnet;

/// How far an encoding has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeProgress {
    /// Images processed so far (encoded or failed).
    pub done: usize,
    /// Images in all.
    pub total: usize,
}

/// Features of many images: one row per input image that could be decoded.
#[derive(Debug, Default)]
pub struct EncodedImages {
    /// `features[i]` is the 1280-d feature of input `i`, `None` where it failed.
    pub features: Vec<Option<Vec<f32>>>,
    /// Why each failed image failed (undecodable or unreadable files), in input order.
    pub failures: Vec<VisionError>,
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
            let mut rows = if inputs.is_empty() {
                Vec::new()
            } else {
                self.features(&inputs)
                    .into_data()
                    .convert::<f32>()
                    .into_vec::<f32>()
                    .map_err(|error| VisionError::Inference(format!("{error:?}")))?
            }
            .into_iter();
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
            });
        }
        Ok(encoded)
    }
}
