//! Speed and memory of LoginMEA on DBP15K zh_en with the paper's hyper-parameters (CPU).
//!
//! `cargo run --release -p alignscope --example bench_loginmea [-- <dataset> <epochs>]`
//!
//! Prints the median seconds per training epoch, the seconds of one full evaluation
//! (CSLS k=3, test pairs, embedding included), the peak resident memory and the metrics,
//! with AlignScope's allocator (mimalloc); then, as references measured in the same run:
//! the same training in a child process with the C library's allocator
//! (`ALIGNSCOPE_ALLOCATOR=system`, how AlignScope ran before), whose metrics must agree,
//! and one reflection layer's forward+backward with the fused CPU kernel against the same
//! layer written with Burn tensor ops. The authors' PyTorch code took 36 s per epoch on a
//! 2-core machine (issue 23's measurement); the target is half of that.

use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use alignscope::allocator::{ALLOCATOR_VARIABLE, uses_system_allocator};
use alignscope_models::GraphBackend;
use alignscope_models::backend::reflection_layer_composed;
use alignscope_models::compute::{ComputeDevice, execute};
use alignscope_models::rng::SeededRng;
use alignscope_models::run::{PreparedRun, RunSpec, prepare};
use alignscope_models::train::TrainEvent;
use burn::backend::ndarray::NdArrayDevice;
use burn::backend::{Autodiff, NdArray};
use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};

type Train = Autodiff<NdArray>;

/// The authors' PyTorch code, seconds per epoch on 2 cores (issue 23).
const AUTHORS_SECONDS_PER_EPOCH: f64 = 36.0;
/// The line a child prints its figures on.
const FIGURES_PREFIX: &str = "figures ";

/// One process's measurement.
#[derive(Debug, Serialize, Deserialize)]
struct Figures {
    allocator: String,
    seconds_per_epoch: f64,
    eval_seconds: f64,
    peak_mib: f64,
    loss: f64,
    hits_at_1: f64,
    mrr: f64,
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn prepared(dataset: &str, epochs: usize) -> PreparedRun {
    let spec = RunSpec {
        dataset: dataset.into(),
        load: Default::default(),
        model: alignscope_models::loginmea::ID.into(),
        settings: [
            ("epochs".to_string(), epochs.into()),
            ("eval_every".to_string(), epochs.into()),
        ]
        .into(),
        train_ratio: 0.3,
        valid_ratio: 0.0,
        seeds: None,
        rejected: Vec::new(),
    };
    prepare(&spec).expect("the dataset loads")
}

/// Trains `epochs` epochs at the paper's settings and measures them.
fn train(prepared: &mut PreparedRun) -> Figures {
    let mut seconds = Vec::new();
    let cancel = AtomicBool::new(false);
    let result = execute(
        &ComputeDevice::Cpu,
        prepared,
        "cpu",
        None,
        false,
        &cancel,
        &mut |e| {
            if let TrainEvent::Epoch(r) = e {
                eprintln!(
                    "  epoch {}: {:.2} s (loss {:.4})",
                    r.epoch, r.seconds, r.loss
                );
                seconds.push(r.seconds);
            }
        },
    )
    .expect("training runs");
    let last = result.state.history.last().expect("at least one epoch");
    let test = last.test.as_ref().expect("the last epoch is evaluated");
    Figures {
        allocator: if uses_system_allocator() {
            "system (glibc)".into()
        } else {
            "mimalloc".into()
        },
        seconds_per_epoch: median(seconds),
        eval_seconds: last.eval_seconds.expect("the last epoch is evaluated"),
        peak_mib: alignscope_models::resources::peak_memory_mib(),
        loss: last.loss,
        hits_at_1: test.left_to_right.hits_at_1,
        mrr: test.left_to_right.mrr,
    }
}

/// One reflection layer's forward and backward: (fused kernel, tensor ops) seconds.
fn reflection_reference(prepared: &PreparedRun) -> (f64, f64) {
    let device = NdArrayDevice::Cpu;
    let tensors = prepared.graph.to_device::<Train>(&device);
    let mut rng = SeededRng::new(1);
    let d = 300;
    let make = |rng: &mut SeededRng, rows: usize, cols: usize| {
        Tensor::<Train, 2>::from_data(
            TensorData::new(rng.normal_vec(rows * cols, 0.1), [rows, cols]),
            &device,
        )
        .require_grad()
    };
    let h = make(&mut rng, prepared.shape.entities, d);
    let rel = make(&mut rng, prepared.shape.relation_columns, d);
    let a = make(&mut rng, d, 1);
    let layer = |fused: bool| {
        let start = Instant::now();
        let out = if fused {
            Train::reflection_layer(h.clone(), rel.clone(), a.clone(), &tensors)
        } else {
            reflection_layer_composed(h.clone(), rel.clone(), a.clone(), &tensors)
        };
        let _ = out.tanh().sum().backward();
        start.elapsed().as_secs_f64()
    };
    let fused = median((0..3).map(|_| layer(true)).collect());
    let composed = median((0..3).map(|_| layer(false)).collect());
    (fused, composed)
}

fn print(f: &Figures) {
    println!(
        "  {:<15} {:>8.2} s/epoch  eval {:>6.2} s  peak {:>6.0} MiB  loss {:.6}  H@1 {:.4}  MRR {:.4}",
        f.allocator, f.seconds_per_epoch, f.eval_seconds, f.peak_mib, f.loss, f.hits_at_1, f.mrr
    );
}

/// The reference: this benchmark again in a child process on the C library's allocator.
fn reference_child(dataset: &str, epochs: usize) -> Figures {
    let exe = std::env::current_exe().expect("the benchmark's own path");
    let output = Command::new(exe)
        .args(["--child", dataset, &epochs.to_string()])
        .env(ALLOCATOR_VARIABLE, "system")
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("the reference process starts");
    assert!(output.status.success(), "the reference process failed");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix(FIGURES_PREFIX))
        .expect("the reference prints its figures");
    serde_json::from_str(line).expect("the reference's figures parse")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let child = args.first().map(String::as_str) == Some("--child");
    let rest = &args[usize::from(child)..];
    let dataset = rest
        .first()
        .cloned()
        .unwrap_or_else(|| "../shared/datasets/dbp15k/zh_en".into());
    let epochs: usize = rest.get(1).and_then(|e| e.parse().ok()).unwrap_or(3);
    let mut run = prepared(&dataset, epochs);
    if child {
        let figures = train(&mut run);
        println!(
            "{FIGURES_PREFIX}{}",
            serde_json::to_string(&figures).expect("figures as JSON")
        );
        return;
    }
    println!(
        "dataset {dataset}: {} entities, {} directed pairs, {} seeds, {} test pairs; {epochs} epochs at the paper's settings",
        run.shape.entities,
        run.graph.pair_count(),
        run.task.train.len(),
        run.task.test.len()
    );
    eprintln!("AlignScope (mimalloc):");
    let ours = train(&mut run);
    let (fused, composed) = reflection_reference(&run);
    drop(run);
    eprintln!("reference (the C library's allocator, a child process):");
    let reference = reference_child(&dataset, epochs);
    println!("\nfigures (median epoch; the last epoch's full evaluation and metrics):");
    print(&ours);
    print(&reference);
    let same = (ours.hits_at_1 - reference.hits_at_1).abs() <= 1e-4
        && (ours.mrr - reference.mrr).abs() <= 1e-4
        && (ours.loss - reference.loss).abs() <= 1e-4 * reference.loss.abs().max(1.0);
    println!(
        "speed-up over the C library's allocator {:.2}x; over the authors' {AUTHORS_SECONDS_PER_EPOCH} s/epoch {:.2}x (target 2x: at most {:.0} s/epoch)",
        reference.seconds_per_epoch / ours.seconds_per_epoch,
        AUTHORS_SECONDS_PER_EPOCH / ours.seconds_per_epoch,
        AUTHORS_SECONDS_PER_EPOCH / 2.0
    );
    println!("same metrics to 1e-4: {}", if same { "yes" } else { "NO" });
    println!(
        "reflection layer fwd+bwd: fused kernel {fused:.3} s, tensor ops {composed:.3} s, ratio {:.1}x",
        composed / fused
    );
}
