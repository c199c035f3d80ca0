//! Low-rank fusion (LMF) as one operation: `out = sum_r w_r prod_m (x_m W_m^r + b_m^r) +
//! bias`, for `M` modality inputs `x_m` (`N x d_in`, concatenated as `X`, `N x M d_in`),
//! factors `W_m` (`d_in x R d_out`, stacked as `W`, `M d_in x R d_out`) and factor biases
//! `b_m` (stacked as `Bm`, `M x R d_out`).
//!
//! Written with tensor ops, autodiff keeps every projection and every partial product,
//! `(2M - 1)` tensors of `N x R d_out` (8 x 300 wide at LoginMEA's defaults: 374 MB each
//! on DBP15K zh_en). On the CPU the op runs in row blocks and its backward pass recomputes
//! a block's projections from `X`, so it keeps nothing but its inputs and never holds more
//! than one block's projections.

use burn::backend::Autodiff;
use burn::backend::NdArray;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorPrimitive};

use super::GraphBackend;

/// Rows per block of the CPU op.
const BLOCK_ROWS: usize = 4096;

/// The operation's parameters: `X`, `W`, `Bm`, the rank weights (`1 x R`) and the bias
/// (`1 x d_out`).
#[derive(Debug, Clone)]
pub struct LowRankInputs<B: Backend> {
    /// The inputs side by side, `N x M d_in`.
    pub x: Tensor<B, 2>,
    /// The factors stacked, `M d_in x R d_out`.
    pub factors: Tensor<B, 2>,
    /// The factor biases stacked, `M x R d_out`.
    pub factor_bias: Tensor<B, 2>,
    /// Weights of the rank slices, `1 x R`.
    pub rank_weights: Tensor<B, 2>,
    /// Output bias, `1 x d_out`.
    pub bias: Tensor<B, 2>,
}

impl<B: GraphBackend> LowRankInputs<B> {
    fn modalities(&self) -> usize {
        self.factor_bias.dims()[0]
    }

    fn d_in(&self) -> usize {
        self.x.dims()[1] / self.modalities()
    }

    fn rank(&self) -> usize {
        self.rank_weights.dims()[1]
    }

    /// `x_m W_m + b_m` for the rows of `x` (a block of `X`).
    fn projection(&self, x: &Tensor<B, 2>, m: usize) -> Tensor<B, 2> {
        let (d_in, width) = (self.d_in(), self.factors.dims()[1]);
        let rows = x.dims()[0];
        B::matrix_product(
            x.clone().slice([0..rows, m * d_in..(m + 1) * d_in]),
            self.factors
                .clone()
                .slice([m * d_in..(m + 1) * d_in, 0..width]),
        ) + self.factor_bias.clone().slice([m..m + 1, 0..width])
    }

    /// `sum_r w_r p[:, r] + bias` of a product `p` (`rows x R d_out`).
    fn mix(&self, product: Tensor<B, 2>) -> Tensor<B, 2> {
        let [rows, width] = product.dims();
        let (rank, d_out) = (self.rank(), width / self.rank());
        (product.reshape([rows, rank, d_out]) * self.rank_weights.clone().reshape([1, rank, 1]))
            .sum_dim(1)
            .reshape([rows, d_out])
            + self.bias.clone()
    }

    /// The operation with tensor ops (any backend; autodiff by Burn).
    pub fn composed(&self) -> Tensor<B, 2> {
        let product = (0..self.modalities())
            .map(|m| self.projection(&self.x, m))
            .reduce(|p, q| p * q)
            .expect("low-rank fusion needs at least one modality");
        self.mix(product)
    }

    /// The operation block by block (no autodiff: the blocks' projections are dropped).
    pub fn blockwise(&self) -> Tensor<B, 2> {
        let [rows, cols] = self.x.dims();
        let blocks: Vec<Tensor<B, 2>> = (0..rows)
            .step_by(BLOCK_ROWS)
            .map(|start| {
                let end = (start + BLOCK_ROWS).min(rows);
                let block = LowRankInputs {
                    x: self.x.clone().slice([start..end, 0..cols]),
                    ..self.clone()
                };
                block.composed()
            })
            .collect();
        Tensor::cat(blocks, 0)
    }

    /// The gradients of every input given the output's gradient `grad` (`N x d_out`),
    /// block by block, projections recomputed: `(X, W, Bm, rank weights, bias)`.
    pub fn gradients(&self, grad: Tensor<B, 2>) -> [Tensor<B, 2>; 5] {
        let [rows, cols] = self.x.dims();
        let (modalities, rank) = (self.modalities(), self.rank());
        let device = self.x.device();
        let [_, width] = self.factors.dims();
        let d_out = width / rank;
        let mut grad_x = Vec::new();
        let mut grad_w: Vec<Tensor<B, 2>> = Vec::new();
        let mut grad_b: Vec<Tensor<B, 2>> = Vec::new();
        let mut grad_rank = Tensor::<B, 2>::zeros([1, rank], &device);
        for start in (0..rows).step_by(BLOCK_ROWS) {
            let end = (start + BLOCK_ROWS).min(rows);
            let n = end - start;
            let x = self.x.clone().slice([start..end, 0..cols]);
            let g = grad.clone().slice([start..end, 0..d_out]);
            let projections: Vec<Tensor<B, 2>> =
                (0..modalities).map(|m| self.projection(&x, m)).collect();
            let g3 = g.reshape([n, 1, d_out]);
            let product = projections
                .iter()
                .cloned()
                .reduce(|p, q| p * q)
                .expect("at least one modality");
            grad_rank = grad_rank
                + (product.reshape([n, rank, d_out]) * g3.clone())
                    .sum_dim(2)
                    .sum_dim(0)
                    .reshape([1, rank]);
            // d out / d product, `n x R d_out`.
            let grad_product =
                (g3 * self.rank_weights.clone().reshape([1, rank, 1])).reshape([n, width]);
            let mut block_grad_x = Vec::with_capacity(modalities);
            for m in 0..modalities {
                let others = (0..modalities)
                    .filter(|&k| k != m)
                    .map(|k| projections[k].clone())
                    .reduce(|p, q| p * q);
                let grad_projection = match others {
                    Some(o) => grad_product.clone() * o,
                    None => grad_product.clone(),
                };
                let d_in = self.d_in();
                let x_m = x.clone().slice([0..n, m * d_in..(m + 1) * d_in]);
                let factor = self
                    .factors
                    .clone()
                    .slice([m * d_in..(m + 1) * d_in, 0..width]);
                block_grad_x.push(B::matrix_product(
                    grad_projection.clone(),
                    factor.transpose(),
                ));
                let w = B::matrix_product(x_m.transpose(), grad_projection.clone());
                let b = grad_projection.sum_dim(0);
                if start == 0 {
                    grad_w.push(w);
                    grad_b.push(b);
                } else {
                    grad_w[m] = grad_w[m].clone() + w;
                    grad_b[m] = grad_b[m].clone() + b;
                }
            }
            grad_x.push(Tensor::cat(block_grad_x, 1));
        }
        let grad_bias = grad.sum_dim(0);
        [
            Tensor::cat(grad_x, 0),
            Tensor::cat(grad_w, 0),
            Tensor::cat(grad_b, 0),
            grad_rank,
            grad_bias,
        ]
    }
}

/// The blockwise op on the CPU backend.
pub(crate) fn cpu(inputs: LowRankInputs<NdArray>) -> Tensor<NdArray, 2> {
    inputs.blockwise()
}

#[derive(Debug)]
struct LowRankBackward;

impl Backward<NdArray, 5> for LowRankBackward {
    type State = LowRankInputs<NdArray>;

    fn backward(
        self,
        ops: Ops<Self::State, 5>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let grad = Tensor::<NdArray, 2>::from_primitive(TensorPrimitive::Float(
            grads.consume::<NdArray>(&ops.node),
        ));
        let gradients = ops.state.gradients(grad);
        for (parent, gradient) in ops.parents.into_iter().zip(gradients) {
            if let Some(node) = parent {
                grads.register::<NdArray>(node.id, gradient.into_primitive().tensor());
            }
        }
    }
}

/// The blockwise op with its hand-written backward pass (autodiff over the CPU backend).
pub(crate) fn autodiff<C: CheckpointStrategy>(
    inputs: LowRankInputs<Autodiff<NdArray, C>>,
) -> Tensor<Autodiff<NdArray, C>, 2> {
    let parts = [
        inputs.x.into_primitive().tensor(),
        inputs.factors.into_primitive().tensor(),
        inputs.factor_bias.into_primitive().tensor(),
        inputs.rank_weights.into_primitive().tensor(),
        inputs.bias.into_primitive().tensor(),
    ];
    let inner = |i: usize| {
        Tensor::<NdArray, 2>::from_primitive(TensorPrimitive::Float(parts[i].primitive.clone()))
    };
    let state = LowRankInputs {
        x: inner(0),
        factors: inner(1),
        factor_bias: inner(2),
        rank_weights: inner(3),
        bias: inner(4),
    };
    let out = state.blockwise().into_primitive().tensor();
    let nodes = parts.map(|p| p.node);
    let result = match LowRankBackward
        .prepare::<C>(nodes)
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish(state, out),
        OpsKind::UnTracked(prep) => prep.finish(out),
    };
    Tensor::from_primitive(TensorPrimitive::Float(result))
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::backend::test_support::{assert_close, values};
    use crate::rng::SeededRng;

    type Train = Autodiff<NdArray>;

    fn random(rng: &mut SeededRng, rows: usize, cols: usize) -> Tensor<Train, 2> {
        crate::rng::tracked_normal(rng, rows, cols, 0.5)
    }

    /// The blockwise op and its backward equal the tensor-op composition and Burn's
    /// autodiff, over more rows than one block and for one and for three modalities.
    #[test]
    fn blockwise_forward_and_backward_equal_the_composed_op() {
        for modalities in [1, 3] {
            let (rows, d_in, rank, d_out) = (BLOCK_ROWS + 37, 3, 2, 4);
            let mut rng = SeededRng::new(11 + modalities as u64);
            let leaves = [
                random(&mut rng, rows, modalities * d_in),
                random(&mut rng, modalities * d_in, rank * d_out),
                random(&mut rng, modalities, rank * d_out),
                random(&mut rng, 1, rank),
                random(&mut rng, 1, d_out),
            ];
            let inputs = || LowRankInputs {
                x: leaves[0].clone(),
                factors: leaves[1].clone(),
                factor_bias: leaves[2].clone(),
                rank_weights: leaves[3].clone(),
                bias: leaves[4].clone(),
            };
            // A loss that weighs every output differently.
            let probe = random(&mut rng, rows, d_out).detach();
            let run = |out: Tensor<Train, 2>| {
                let forward = values(out.clone().inner());
                let grads = (out * probe.clone()).sum().backward();
                let by_leaf: Vec<Vec<f32>> = leaves
                    .iter()
                    .map(|l| values(l.grad(&grads).expect("every input gets a gradient")))
                    .collect();
                (forward, by_leaf)
            };
            let (fused, fused_grads) = run(autodiff(inputs()));
            let (composed, composed_grads) = run(inputs().composed());
            assert_close(&fused, &composed, "output");
            for (i, (f, c)) in fused_grads.iter().zip(&composed_grads).enumerate() {
                assert_close(
                    f,
                    c,
                    &format!("gradient of input {i} ({modalities} modalities)"),
                );
            }
        }
    }
}
