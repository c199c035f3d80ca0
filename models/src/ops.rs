//! Small tensor helpers shared by the models, written with backend-generic Burn ops.

use burn::module::Param;
use burn::tensor::{Int, Tensor, TensorData, backend::Backend};

use crate::rng::SeededRng;

pub use burn::tensor::IndexingUpdateOp;

/// Rows scaled to unit L2 norm (rows of norm below 1e-12 are divided by 1e-12, as
/// PyTorch's `F.normalize`). The clamp sits before the square root so a zero row has
/// a finite gradient.
pub fn l2_normalize<B: Backend>(x: Tensor<B, 2>) -> Tensor<B, 2> {
    let norm = x.clone().powi_scalar(2).sum_dim(1).clamp_min(1e-24).sqrt();
    x / norm
}

/// Sums the rows of `values` into `rows` output rows: `out[index[e]] += values[e]`.
pub fn scatter_rows<B: Backend>(
    rows: usize,
    index: Tensor<B, 1, Int>,
    values: Tensor<B, 2>,
) -> Tensor<B, 2> {
    let [_, width] = values.dims();
    Tensor::zeros([rows, width], &values.device()).select_assign(
        0,
        index,
        values,
        IndexingUpdateOp::Add,
    )
}

/// Softmax of `logits` (`E x 1`) over the entries that share a segment (`segments[e]`
/// in `0..segment_count`): the attention over each head entity's neighbours.
pub fn segment_softmax<B: Backend>(
    logits: Tensor<B, 2>,
    segments: Tensor<B, 1, Int>,
    segment_count: usize,
) -> Tensor<B, 2> {
    let max = logits.clone().detach().max().reshape([1, 1]);
    let exp = (logits - max).exp();
    let sums = scatter_rows(segment_count, segments.clone(), exp.clone());
    exp / sums.select(0, segments).clamp_min(1e-30)
}

/// Log of the sum of exponentials of each row (`rows x 1`), computed stably.
///
/// The shift is taken from a detached copy: a tracked `max_dim` whose result is then
/// detached made the gradient of `x` differ in the last bits between identical calls
/// (NdArray with autodiff), which broke same-seed runs; so did `activation::log_softmax`.
pub fn log_sum_exp_rows<B: Backend>(x: Tensor<B, 2>) -> Tensor<B, 2> {
    let max = x.clone().detach().max_dim(1);
    (x - max.clone()).exp().sum_dim(1).log() + max
}

/// A trainable parameter from host values.
pub fn param_from<B: Backend, const D: usize>(
    values: Vec<f32>,
    shape: [usize; D],
    device: &B::Device,
) -> Param<Tensor<B, D>> {
    Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), device))
}

/// Glorot/Xavier uniform values for a `fan_in x fan_out` matrix.
pub fn xavier_uniform(
    rng: &mut SeededRng,
    fan_in: usize,
    fan_out: usize,
    count: usize,
) -> Vec<f32> {
    let bound = (6.0 / (fan_in + fan_out) as f64).sqrt();
    rng.uniform_vec(count, bound)
}

/// Glorot/Xavier normal values.
pub fn xavier_normal(rng: &mut SeededRng, fan_in: usize, fan_out: usize, count: usize) -> Vec<f32> {
    let std = (2.0 / (fan_in + fan_out) as f64).sqrt();
    rng.normal_vec(count, std)
}

/// Copies a 2-D tensor to the host as `(rows, cols, values)`.
pub fn to_host<B: Backend>(x: Tensor<B, 2>) -> (usize, usize, Vec<f32>) {
    let [rows, cols] = x.dims();
    let values = x
        .into_data()
        .convert::<f32>()
        .into_vec::<f32>()
        .expect("a float tensor converts to f32 values");
    (rows, cols, values)
}
