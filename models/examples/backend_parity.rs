//! Where do the devices disagree? For each model, the first training step's loss and
//! every parameter's gradient norm, computed from the same initial parameters on the CPU
//! (fused kernels), on the CPU's tensor-op paths (what GPU backends run) and, in a build
//! with `--features cuda` on a machine with a GPU, on CUDA; printed side by side with the
//! largest relative difference from the CPU.
//!
//! `cargo run --release -p alignscope-models --example backend_parity [--features cuda] -- <dataset> [model ...]`
//!
//! The models default to every registered one, with the paper's settings.

use alignscope_models::compute::ComputeDevice;
use alignscope_models::registry;
use alignscope_models::run::{RunSpec, StepProbe, prepare};

fn devices() -> Vec<(&'static str, ComputeDevice)> {
    [
        ("cpu", ComputeDevice::Cpu),
        ("cpu-tensor-ops", ComputeDevice::CpuTensorOps),
    ]
    .into_iter()
    .chain(cuda())
    .collect()
}

#[cfg(feature = "cuda")]
fn cuda() -> Option<(&'static str, ComputeDevice)> {
    let found = ComputeDevice::probe_cuda().map(|cuda| ("cuda", cuda));
    if found.is_none() {
        eprintln!("no usable CUDA device: comparing the CPU paths only");
    }
    found
}

#[cfg(not(feature = "cuda"))]
fn cuda() -> Option<(&'static str, ComputeDevice)> {
    None
}

/// `|a - b| / max(|a|, 1e-12)`.
fn relative(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(1e-12)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(dataset) = args.get(1) else {
        eprintln!("usage: backend_parity <dataset> [model ...]");
        std::process::exit(2);
    };
    let models: Vec<String> = if args.len() > 2 {
        args[2..].to_vec()
    } else {
        registry::all()
            .iter()
            .map(|m| m.info().id.clone())
            .collect()
    };
    let devices = devices();
    for model in models {
        let spec = RunSpec {
            dataset: dataset.into(),
            load: Default::default(),
            model: model.clone(),
            settings: Default::default(),
            train_ratio: 0.3,
            valid_ratio: 0.0,
            seeds: None,
            rejected: Vec::new(),
        };
        let prepared = prepare(&spec).unwrap_or_else(|e| panic!("{model}: {e}"));
        let family = registry::find(&model).expect("a registered model");
        let probes: Vec<StepProbe> = devices
            .iter()
            .map(|(label, device)| {
                let start = std::time::Instant::now();
                let probe = family
                    .gradient_norms(device, &prepared)
                    .unwrap_or_else(|e| panic!("{model} on {label}: {e}"));
                eprintln!("{model} on {label}: {:.1} s", start.elapsed().as_secs_f64());
                probe
            })
            .collect();
        println!("\n== {model}");
        let header: Vec<&str> = devices.iter().map(|(label, _)| *label).collect();
        println!("{:<40} {}", "", header.join(" | "));
        let row = |name: &str, values: Vec<f64>| {
            let worst = values[1..]
                .iter()
                .map(|v| relative(values[0], *v))
                .fold(0.0, f64::max);
            let cells: Vec<String> = values.iter().map(|v| format!("{v:.6e}")).collect();
            println!(
                "{name:<40} {}   max rel diff {worst:.2e}",
                cells.join(" | ")
            );
        };
        row("loss", probes.iter().map(|p| p.loss).collect());
        for (i, (name, _)) in probes[0].norms.iter().enumerate() {
            row(name, probes.iter().map(|p| p.norms[i].1).collect());
        }
    }
}
