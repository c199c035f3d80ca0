//! Concrete entry points per Burn backend, chosen at run time.
//!
//! The trainer and the evaluator are generic over the backend; generic code is compiled
//! (and optimised) in the crate that instantiates it. These functions instantiate them
//! here, once, so that callers (the app, the CLI, their tests) stay non-generic and need
//! no optimisation of their own to train at full speed.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use burn::backend::ndarray::NdArrayDevice;
use burn::backend::{Autodiff, NdArray};

use alignscope_vision::{EncodeProgress, EncodedImages, ImageEncoder, VisionError};

use crate::eval::{EvalOptions, Evaluation};
use crate::run::{self, PreparedRun, RunConfig, RunError, RunResult, SavedModel};
use crate::train::TrainEvent;

/// Where to compute.
#[derive(Debug, Clone)]
pub enum ComputeDevice {
    /// The CPU (ndarray backend, all cores).
    Cpu,
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
    match device {
        ComputeDevice::Cpu => run::execute::<Autodiff<NdArray>>(
            prepared,
            &NdArrayDevice::Cpu,
            device_label,
            out,
            resume,
            cancel,
            progress,
        ),
        #[cfg(feature = "cuda")]
        ComputeDevice::Cuda(cuda) => run::execute::<Autodiff<burn::backend::Cuda>>(
            prepared,
            cuda,
            device_label,
            out,
            resume,
            cancel,
            progress,
        ),
    }
}

/// [`run::evaluate_run`] on `device`.
pub fn evaluate_run(
    device: &ComputeDevice,
    run_dir: &Path,
    which: SavedModel,
    options: Option<EvalOptions>,
) -> Result<(RunConfig, Evaluation), RunError> {
    match device {
        ComputeDevice::Cpu => {
            run::evaluate_run::<NdArray>(run_dir, which, options, &NdArrayDevice::Cpu)
        }
        #[cfg(feature = "cuda")]
        ComputeDevice::Cuda(cuda) => {
            run::evaluate_run::<burn::backend::Cuda>(run_dir, which, options, cuda)
        }
    }
}

/// 1280-d EfficientNet-Lite0 features of the image files `paths` on `device`, with the
/// ImageNet weights at `weights` (see [`ImageEncoder::encode_files`]).
///
/// On the CPU this uses Burn's Flex backend one image at a time, the fastest setting
/// measured (`vision/examples/bench_encoder.rs`: about 18 images/s on 2 cores, against
/// 15 for ndarray; larger batches were slower on both); on CUDA, batches of 32.
pub fn encode_images(
    device: &ComputeDevice,
    weights: &Path,
    paths: &[PathBuf],
    progress: &mut dyn FnMut(EncodeProgress),
) -> Result<EncodedImages, VisionError> {
    match device {
        ComputeDevice::Cpu => {
            ImageEncoder::<burn::backend::Flex>::load(weights, &Default::default())?
                .encode_files(paths, 1, progress)
        }
        #[cfg(feature = "cuda")]
        ComputeDevice::Cuda(cuda) => ImageEncoder::<burn::backend::Cuda>::load(weights, cuda)?
            .encode_files(paths, 32, progress),
    }
}
