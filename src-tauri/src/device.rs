//! Run-time choice of the Burn backend: the CPU (ndarray) backend always, CUDA where the
//! binary was built with the `cuda` feature and a GPU answers; otherwise a clear message
//! and the CPU.

use alignscope_models::GraphBackend;
use burn::backend::ndarray::NdArrayDevice;
use burn::backend::{Autodiff, NdArray};
use burn::tensor::backend::AutodiffBackend;

/// The `--device` values.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum DeviceArg {
    /// The CPU (ndarray backend, all cores).
    Cpu,
    /// An NVIDIA GPU through CUDA (needs a build with `--features cuda`).
    Cuda,
}

/// Work to run on whichever backend is chosen.
pub trait BackendTask {
    /// What the work returns.
    type Output;

    /// Runs on backend `B` (training backend; `B::InnerBackend` for inference).
    fn run<B>(self, device: B::Device, label: &str) -> Self::Output
    where
        B: AutodiffBackend + GraphBackend,
        B::InnerBackend: GraphBackend;
}

/// Runs `task` on the device asked for, falling back to the CPU with a message on
/// stderr when CUDA is not compiled in or no GPU answers.
pub fn run_on<T: BackendTask>(device: DeviceArg, task: T) -> T::Output {
    match device {
        DeviceArg::Cpu => task.run::<Autodiff<NdArray>>(NdArrayDevice::Cpu, "cpu"),
        DeviceArg::Cuda => run_on_cuda(task),
    }
}

#[cfg(not(feature = "cuda"))]
fn run_on_cuda<T: BackendTask>(task: T) -> T::Output {
    eprintln!(
        "note: this alignscope was built without CUDA support (rebuild with `--features cuda`); using the CPU"
    );
    task.run::<Autodiff<NdArray>>(NdArrayDevice::Cpu, "cpu (cuda not compiled in)")
}

#[cfg(feature = "cuda")]
fn run_on_cuda<T: BackendTask>(task: T) -> T::Output {
    use burn::backend::Cuda;
    use burn::backend::cuda::CudaDevice;
    use burn::tensor::Tensor;

    // Burn panics when the CUDA driver library cannot be loaded: probe once, quietly.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let probe = std::panic::catch_unwind(|| {
        let device = CudaDevice::default();
        let _ = Tensor::<Cuda, 1>::ones([4], &device).sum().into_data();
        device
    });
    std::panic::set_hook(hook);
    match probe {
        Ok(device) => task.run::<Autodiff<Cuda>>(device, "cuda:0"),
        Err(_) => {
            eprintln!(
                "note: no usable CUDA GPU found (the CUDA driver could not be loaded or has no device); using the CPU"
            );
            task.run::<Autodiff<NdArray>>(NdArrayDevice::Cpu, "cpu (no cuda device)")
        }
    }
}
