//! The fused CPU reflection kernel against the same layer written with Burn tensor ops
//! (forward and gradients, for LoginMEA's relation-only attention and RREA's attention
//! over relation and reflected neighbour), and the reflection's geometry.

use alignscope_models::GraphBackend;
use alignscope_models::backend::reflection_layer_composed;
use alignscope_models::graph::AlignmentGraph;
use alignscope_models::loginmea::reflect;
use alignscope_models::ops::l2_normalize;
use alignscope_models::rng::SeededRng;
use alignscope_models::synthetic::planted_pair;
use burn::backend::ndarray::NdArrayDevice;
use burn::backend::{Autodiff, NdArray};
use burn::tensor::{Tensor, TensorData};

type Cpu = NdArray;
type Train = Autodiff<NdArray>;
const DEVICE: NdArrayDevice = NdArrayDevice::Cpu;

fn values(t: Tensor<Cpu, 2>) -> Vec<f32> {
    t.into_data().into_vec::<f32>().unwrap()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn random(rng: &mut SeededRng, shape: [usize; 2]) -> Tensor<Train, 2> {
    Tensor::from_data(
        TensorData::new(rng.normal_vec(shape[0] * shape[1], 1.0), shape),
        &DEVICE,
    )
    .require_grad()
}

/// The fused kernel and the tensor ops agree on one layer whose attention vector is
/// `attention_rows` long (`d`: relation only; `2d`: relation and reflected neighbour).
fn kernel_matches_tensor_ops(attention_rows: usize, d: usize) {
    let pair = planted_pair(40, 5, 3, 0.0, 3);
    let graph = AlignmentGraph::from_pair(&pair);
    let tensors = graph.to_device::<Train>(&DEVICE);
    let mut rng = SeededRng::new(11);
    let h = random(&mut rng, [graph.entity_count, d]);
    let rel = random(&mut rng, [2 * graph.relation_count, d]);
    let a = random(&mut rng, [attention_rows, 1]);
    let weights = Tensor::<Train, 2>::from_data(
        TensorData::new(
            rng.normal_vec(graph.entity_count * d, 1.0),
            [graph.entity_count, d],
        ),
        &DEVICE,
    );

    let fused = Train::reflection_layer(h.clone(), rel.clone(), a.clone(), &tensors);
    let composed = reflection_layer_composed(h.clone(), rel.clone(), a.clone(), &tensors);
    assert!(
        max_abs_diff(
            &values(fused.clone().inner()),
            &values(composed.clone().inner())
        ) < 1e-4
    );

    let g_fused = (fused * weights.clone()).sum().backward();
    let g_composed = (composed * weights).sum().backward();
    for (name, t) in [("h", &h), ("relations", &rel), ("attention", &a)] {
        let x = values(t.grad(&g_fused).expect("fused gradient"));
        let y = values(t.grad(&g_composed).expect("composed gradient"));
        // Relative to the gradient's scale: f32 sums in different orders.
        let scale = y.iter().fold(1.0f32, |m, v| m.max(v.abs()));
        let diff = max_abs_diff(&x, &y);
        assert!(
            diff < 1e-4 * scale.max(10.0),
            "gradient of {name} differs by {diff} (largest entry {scale})"
        );
        assert!(
            y.iter().any(|v| v.abs() > 1e-6),
            "gradient of {name} is zero"
        );
    }
}

#[test]
fn fused_kernel_matches_tensor_ops_with_relation_attention() {
    kernel_matches_tensor_ops(8, 8);
}

#[test]
fn fused_kernel_matches_tensor_ops_with_neighbour_attention() {
    kernel_matches_tensor_ops(16, 8);
}

#[test]
fn reflection_preserves_norms() {
    let mut rng = SeededRng::new(5);
    let x = Tensor::<Cpu, 2>::from_data(
        TensorData::new(rng.normal_vec(64 * 16, 3.0), [64, 16]),
        &DEVICE,
    );
    let u = l2_normalize(Tensor::<Cpu, 2>::from_data(
        TensorData::new(rng.normal_vec(64 * 16, 1.0), [64, 16]),
        &DEVICE,
    ));
    let before = values(x.clone().powi_scalar(2).sum_dim(1).sqrt());
    let reflected = reflect(x.clone(), u.clone());
    let after = values(reflected.clone().powi_scalar(2).sum_dim(1).sqrt());
    let relative: Vec<f32> = before
        .iter()
        .zip(&after)
        .map(|(b, a)| (b - a).abs() / b)
        .collect();
    assert!(
        relative.iter().all(|r| *r < 1e-5),
        "norms changed: {relative:?}"
    );
    // Orthogonal and an involution: reflecting twice gives the input back.
    let twice = values(reflect(reflected, u));
    assert!(max_abs_diff(&twice, &values(x)) < 1e-4);
}
