//! Run-time choice of where to compute: the CPU (ndarray backend) always, CUDA where the
//! binary was built with the `cuda` feature and a GPU answers; otherwise a clear message
//! and the CPU. The work itself is non-generic (`alignscope_models::compute`).

use alignscope_models::compute::ComputeDevice;

/// The `--device` values.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
    ts_rs::TS,
)]
#[serde(rename_all = "lowercase")]
pub enum DeviceArg {
    /// The CPU (ndarray backend, all cores).
    Cpu,
    /// An NVIDIA GPU through CUDA (needs a build with `--features cuda`).
    Cuda,
}

/// The device to use for `asked` and its label, falling back to the CPU with a message
/// on stderr when CUDA is not compiled in or no GPU answers.
pub fn choose(asked: DeviceArg) -> (ComputeDevice, &'static str) {
    match asked {
        DeviceArg::Cpu => (ComputeDevice::Cpu, "cpu"),
        DeviceArg::Cuda => choose_cuda(),
    }
}

/// Whether this build has CUDA and a GPU answers (probed once per process: a probe loads
/// the driver, which takes a moment).
pub fn cuda_available() -> bool {
    cuda_answers()
}

/// The device to use when the user did not choose: CUDA where it answers, else the CPU.
pub fn preferred() -> DeviceArg {
    if cuda_available() {
        DeviceArg::Cuda
    } else {
        DeviceArg::Cpu
    }
}

#[cfg(not(feature = "cuda"))]
fn cuda_answers() -> bool {
    false
}

#[cfg(feature = "cuda")]
fn cuda_answers() -> bool {
    static PROBE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *PROBE.get_or_init(|| ComputeDevice::probe_cuda().is_some())
}

#[cfg(not(feature = "cuda"))]
fn choose_cuda() -> (ComputeDevice, &'static str) {
    eprintln!(
        "note: this alignscope was built without CUDA support (rebuild with `--features cuda`); using the CPU"
    );
    (ComputeDevice::Cpu, "cpu (cuda not compiled in)")
}

#[cfg(feature = "cuda")]
fn choose_cuda() -> (ComputeDevice, &'static str) {
    match ComputeDevice::probe_cuda() {
        Some(device) => (device, "cuda:0"),
        None => {
            eprintln!(
                "note: no usable CUDA GPU found (the CUDA driver could not be loaded or has no device); using the CPU"
            );
            (ComputeDevice::Cpu, "cpu (no cuda device)")
        }
    }
}
