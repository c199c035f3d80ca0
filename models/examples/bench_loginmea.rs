//! Speed and memory of LoginMEA on DBP15K zh_en with the paper's hyper-parameters (CPU).
//!
//! `cargo run --release -p alignscope-models --example bench_loginmea [-- <dataset> <epochs>]`
//!
//! Prints the median seconds per training epoch, the seconds of one full evaluation
//! (CSLS k=3, test pairs, embedding included), the peak resident memory, and — as a reference measured in the
//! same run — one reflection layer's forward+backward with the fused CPU kernel against the
//! same layer written with Burn tensor ops.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use alignscope_models::GraphBackend;
use alignscope_models::backend::reflection_layer_composed;
use alignscope_models::compute::{ComputeDevice, execute};
use alignscope_models::rng::SeededRng;
use alignscope_models::run::{RunSpec, prepare};
use alignscope_models::train::TrainEvent;
use burn::backend::ndarray::NdArrayDevice;
use burn::backend::{Autodiff, NdArray};

use burn::tensor::{Tensor, TensorData};

type Train = Autodiff<NdArray>;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dataset = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "../shared/datasets/dbp15k/zh_en".into());
    let epochs: usize = args.get(2).and_then(|e| e.parse().ok()).unwrap_or(5);
    let device = NdArrayDevice::Cpu;
    let spec = RunSpec {
        dataset: dataset.clone().into(),
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
    let mut prepared = prepare(&spec).expect("the dataset loads");
    println!(
        "dataset {dataset}: {} entities, {} directed pairs, {} seeds, {} test pairs",
        prepared.shape.entities,
        prepared.graph.pair_count(),
        prepared.task.train.len(),
        prepared.task.test.len()
    );

    // Reference in the same run: one reflection layer, fused kernel vs tensor ops.
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
    println!(
        "reflection layer fwd+bwd: fused kernel {fused:.3} s, tensor ops {composed:.3} s, ratio {:.1}x",
        composed / fused
    );
    drop(tensors);

    let mut seconds = Vec::new();
    let cancel = AtomicBool::new(false);
    let result = execute(
        &ComputeDevice::Cpu,
        &mut prepared,
        "cpu",
        None,
        false,
        &cancel,
        &mut |e| {
            if let TrainEvent::Epoch(r) = e {
                println!("epoch {}: {:.2} s (loss {:.4})", r.epoch, r.seconds, r.loss);
                seconds.push(r.seconds);
            }
        },
    )
    .expect("training runs");
    let last = result.state.history.last().expect("at least one epoch");
    let eval_seconds = last.eval_seconds.expect("the last epoch is evaluated");
    let h1 = last.test.expect("test metrics").left_to_right.hits_at_1;
    println!(
        "median {:.2} s per epoch over {} epochs; full evaluation {:.2} s (H@1 {:.3}); peak RSS {:.0} MiB",
        median(seconds),
        result.state.epoch,
        eval_seconds,
        h1,
        alignscope_models::resources::peak_memory_mib()
    );
}
