//! Concrete entry points per Burn backend, chosen at run time.
//!
//! The trainer and the evaluator are generic over the backend; generic code is compiled
//! (and optimised) in the crate that instantiates it. These functions instantiate them
//! here, once, so that callers (the app, the CLI, their tests) stay non-generic and need
//! no optimisation of their own to train at full speed.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use alignscope_text::{SentenceEncoder, TextError};
use alignscope_vision::{CachedEncoding, DirectEncoder, EncodeProgress, FeatureCache, VisionError};

use crate::registry::RunIo;
use crate::run::{self, PreparedRun, RunError, RunResult};
use crate::train::TrainEvent;

/// Where to compute.
#[derive(Debug, Clone)]
pub enum ComputeDevice {
    /// The CPU (ndarray backend, all cores).
    Cpu,
    /// The CPU without the fused kernels: Burn's Flex backend runs the tensor-op paths
    /// that GPU backends run (sparse products, the reflection layer). Slower than
    /// [`Self::Cpu`]; it exists to check the GPU path's numbers on a machine without one,
    /// so only builds with the `cpu-tensor-ops` feature (tests, examples) have it.
    #[cfg(feature = "cpu-tensor-ops")]
    CpuTensorOps,
    /// An NVIDIA GPU through CUDA.
    #[cfg(feature = "cuda")]
    Cuda(burn::backend::cuda::CudaDevice),
}

impl ComputeDevice {
    /// A usable CUDA device, or `None` where the driver cannot be loaded or has no GPU.
    /// Burn panics in that case; the probe catches it quietly.
    #[cfg(feature = "cuda")]
    pub fn probe_cuda() -> Option<Self> {
        use burn::backend::Cuda;
        use burn::backend::cuda::CudaDevice;
        use burn::tensor::Tensor;

        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let probe = std::panic::catch_unwind(|| {
            let device = CudaDevice::default();
            let _ = Tensor::<Cuda, 1>::ones([4], &device).sum().into_data();
            device
        });
        std::panic::set_hook(hook);
        probe.ok().map(Self::Cuda)
    }
}

/// Runs `$body` with `$B` the autodiff backend of `$device` (a [`ComputeDevice`]) and
/// `$dev` its Burn device: the one place a model's generic code meets the devices.
macro_rules! with_backend {
    ($device:expr, $B:ident, $dev:ident => $body:expr) => {
        match $device {
            $crate::compute::ComputeDevice::Cpu => {
                type $B = burn::backend::Autodiff<burn::backend::NdArray>;
                let $dev = &burn::backend::ndarray::NdArrayDevice::Cpu;
                $body
            }
            #[cfg(feature = "cpu-tensor-ops")]
            $crate::compute::ComputeDevice::CpuTensorOps => {
                type $B = burn::backend::Autodiff<burn::backend::Flex>;
                let $dev = &burn::backend::flex::FlexDevice;
                $body
            }
            #[cfg(feature = "cuda")]
            $crate::compute::ComputeDevice::Cuda(cuda) => {
                type $B = burn::backend::Autodiff<burn::backend::Cuda>;
                let $dev = cuda;
                $body
            }
        }
    };
}
pub(crate) use with_backend;

/// [`run::execute`] on `device`.
pub fn execute(
    device: &ComputeDevice,
    prepared: &mut PreparedRun,
    device_label: &str,
    out: Option<&Path>,
    resume: bool,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(&TrainEvent),
) -> Result<RunResult, RunError> {
    run::execute(
        device,
        device_label,
        prepared,
        RunIo {
            out,
            resume,
            cancel,
            progress,
        },
    )
}

/// 1280-d EfficientNet-Lite0 features of the image files `paths` on `device`, with the
/// ImageNet weights at `weights`, through the content-hash `cache` (see
/// [`alignscope_vision::ImageEncoder::encode_files_cached`]: cached images cost nothing, `cancel` stops
/// between batches).
///
/// On the CPU this is the direct path ([`DirectEncoder`]: each image decoded and encoded
/// on one core, all cores at once; `vision/examples/bench_encoder.rs` measures it against
/// the Burn path it replaced); on CUDA, the Burn model in batches of 32.
pub fn encode_images(
    device: &ComputeDevice,
    weights: &Path,
    paths: &[PathBuf],
    cache: &FeatureCache,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(EncodeProgress),
) -> Result<CachedEncoding, VisionError> {
    match device {
        #[cfg(feature = "cuda")]
        ComputeDevice::Cuda(cuda) => {
            alignscope_vision::ImageEncoder::<burn::backend::Cuda>::load(weights, cuda)?
                .encode_files_cached(paths, 32, cache, cancel, progress)
        }
        // Every CPU device.
        _ => DirectEncoder::load(weights)?.encode_files_cached(paths, cache, cancel, progress),
    }
}

/// The sentence encoder (all-MiniLM-L6-v2) loaded on a device chosen at run time.
#[derive(Debug)]
pub enum DeviceSentenceEncoder {
    /// On the CPU (Burn's ndarray backend).
    Cpu(SentenceEncoder<burn::backend::NdArray>),
    /// On an NVIDIA GPU.
    #[cfg(feature = "cuda")]
    Cuda(SentenceEncoder<burn::backend::Cuda>),
}

impl DeviceSentenceEncoder {
    /// Texts per forward pass: similar lengths are batched together, so padding stays small.
    const BATCH: usize = 32;

    /// Loads the model folder `dir` onto `device`.
    pub fn load(device: &ComputeDevice, dir: &Path) -> Result<Self, TextError> {
        Ok(match device {
            #[cfg(feature = "cuda")]
            ComputeDevice::Cuda(cuda) => Self::Cuda(SentenceEncoder::load(dir, cuda)?),
            // Every CPU device.
            _ => Self::Cpu(SentenceEncoder::load(dir, &Default::default())?),
        })
    }

    /// SHA-256 of the weights file, hex.
    pub fn weights_sha256(&self) -> &str {
        match self {
            Self::Cpu(encoder) => encoder.weights_sha256(),
            #[cfg(feature = "cuda")]
            Self::Cuda(encoder) => encoder.weights_sha256(),
        }
    }

    /// The L2-normalised 384-d embedding of each text ([`SentenceEncoder::embed`]).
    pub fn embed(
        &self,
        texts: &[&str],
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Vec<Vec<f32>>, TextError> {
        match self {
            Self::Cpu(encoder) => encoder.embed(texts, Self::BATCH, progress),
            #[cfg(feature = "cuda")]
            Self::Cuda(encoder) => encoder.embed(texts, Self::BATCH, progress),
        }
    }
}
