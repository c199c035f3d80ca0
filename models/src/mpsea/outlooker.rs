//! The image token's feed-forward layer in MPSEA's fusion transformer: Outlooker
//! attention and a convolution-enhanced feed-forward network (the "OA" and "OC" of the
//! paper's ablation table, §4.2.2).
//!
//! An entity's image token is one vector, while Outlooker attention (VOLO, Yuan et al.
//! 2022) and convolutional feed-forward layers work over positions. Choice, where the
//! paper is silent: the `d`-wide token is read as `P` positions of `d / P` channels.
//! - Outlook attention: each position's own features give, by a linear map and a
//!   softmax, its weights over the `k` positions of its window (no query-key product:
//!   the Outlooker's point); the output is the weighted sum of the window's value
//!   vectors, projected (a 1-D window, each position weighting its own window, instead
//!   of VOLO's 2-D unfold and fold).
//! - Convolutional feed-forward: a per-position expansion to `2c` channels, a depthwise
//!   convolution over the positions (window `k`, zero padding), GELU, and a projection
//!   back to `c` channels.

use crate::backend::GraphBackend;
use burn::module::{Module, Param};
use burn::tensor::{Tensor, activation, backend::Backend};

use crate::loginmea::Projection;
use crate::ops::{param_from, xavier_uniform};
use crate::rng::SeededRng;

/// Window width over positions (odd).
pub const WINDOW: usize = 3;

/// `x` (`n x P x c`) with `WINDOW / 2` zero positions before and after.
fn pad_positions<B: Backend>(x: Tensor<B, 3>) -> Tensor<B, 3> {
    let [n, _, c] = x.dims();
    let zeros = Tensor::zeros([n, WINDOW / 2, c], &x.device());
    Tensor::cat(vec![zeros.clone(), x, zeros], 1)
}

/// Outlook attention over the positions of a token.
#[derive(Module, Debug)]
pub struct OutlookAttention<B: Backend> {
    weights: Projection<B>,
    value: Projection<B>,
    output: Projection<B>,
    #[module(skip)]
    positions: usize,
}

impl<B: Backend> OutlookAttention<B> {
    /// Over `dim`-wide tokens read as `positions` positions.
    pub fn new(dim: usize, positions: usize, rng: &mut SeededRng, device: &B::Device) -> Self {
        let c = dim / positions;
        Self {
            weights: Projection::new(c, WINDOW, rng, device),
            value: Projection::new(c, c, rng, device),
            output: Projection::new(c, c, rng, device),
            positions,
        }
    }

    /// Each position's weights over its window (`n x P x k`, rows sum to 1).
    pub fn window_weights(&self, x: Tensor<B, 2>) -> Tensor<B, 3>
    where
        B: GraphBackend,
    {
        let [n, d] = x.dims();
        let (p, c) = (self.positions, d / self.positions);
        let logits = self.weights.forward(x.reshape([n * p, c]));
        activation::softmax(logits.reshape([n, p, WINDOW]), 2)
    }

    /// The attention output for tokens `x` (`n x d`; the caller adds the residual).
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2>
    where
        B: GraphBackend,
    {
        let [n, d] = x.dims();
        let (p, c) = (self.positions, d / self.positions);
        let weights = self.window_weights(x.clone());
        let values = pad_positions(self.value.forward(x.reshape([n * p, c])).reshape([n, p, c]));
        let gathered = (0..WINDOW)
            .map(|o| weights.clone().narrow(2, o, 1) * values.clone().narrow(1, o, p))
            .reduce(|a, b| a + b)
            .expect("a window has positions");
        self.output
            .forward(gathered.reshape([n * p, c]))
            .reshape([n, d])
    }
}

/// The convolution-enhanced feed-forward network over the positions of a token.
#[derive(Module, Debug)]
pub struct ConvFeedForward<B: Backend> {
    expand: Projection<B>,
    /// `k x 2c`: one depthwise filter per channel.
    kernel: Param<Tensor<B, 2>>,
    contract: Projection<B>,
    #[module(skip)]
    positions: usize,
}

impl<B: Backend> ConvFeedForward<B> {
    /// Over `dim`-wide tokens read as `positions` positions.
    pub fn new(dim: usize, positions: usize, rng: &mut SeededRng, device: &B::Device) -> Self {
        let c = dim / positions;
        let e = 2 * c;
        Self {
            expand: Projection::new(c, e, rng, device),
            kernel: param_from(
                xavier_uniform(rng, WINDOW, e, WINDOW * e),
                [WINDOW, e],
                device,
            ),
            contract: Projection::new(e, c, rng, device),
            positions,
        }
    }

    /// The feed-forward output for tokens `x` (`n x d`; the caller adds the residual).
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2>
    where
        B: GraphBackend,
    {
        let [n, d] = x.dims();
        let (p, c) = (self.positions, d / self.positions);
        let expanded = self.expand.forward(x.reshape([n * p, c]));
        let e = expanded.dims()[1];
        let padded = pad_positions(expanded.reshape([n, p, e]));
        let convolved = (0..WINDOW)
            .map(|o| {
                padded.clone().narrow(1, o, p)
                    * self.kernel.val().narrow(0, o, 1).reshape([1, 1, e])
            })
            .reduce(|a, b| a + b)
            .expect("a window has positions");
        let hidden = activation::gelu(convolved).reshape([n * p, e]);
        self.contract.forward(hidden).reshape([n, d])
    }
}

#[cfg(test)]
mod tests {
    use burn::backend::{Autodiff, NdArray};
    use burn::tensor::TensorData;

    use super::*;

    fn tokens<Bk: Backend>(n: usize, d: usize, seed: u64) -> Tensor<Bk, 2> {
        let mut rng = SeededRng::new(seed);
        Tensor::from_data(
            TensorData::new(rng.normal_vec(n * d, 1.0), [n, d]),
            &Default::default(),
        )
    }

    #[test]
    fn outlook_weights_are_a_distribution_and_the_window_is_local() {
        let oa =
            OutlookAttention::<NdArray>::new(12, 4, &mut SeededRng::new(2), &Default::default());
        let w = oa.window_weights(tokens(3, 12, 1));
        let (_, _, sums) = crate::ops::to_host(w.sum_dim(2).reshape([12, 1]));
        assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-5), "{sums:?}");
        // Changing position 3 (channels 9..12) leaves position 0's output alone: its
        // window is positions -1..=1.
        let x = tokens::<NdArray>(1, 12, 5);
        let mut moved = crate::ops::to_host(x.clone()).2;
        for v in &mut moved[9..12] {
            *v += 1.0;
        }
        let y =
            Tensor::<NdArray, 2>::from_data(TensorData::new(moved, [1, 12]), &Default::default());
        let (a, b) = (
            crate::ops::to_host(oa.forward(x)).2,
            crate::ops::to_host(oa.forward(y)).2,
        );
        assert_eq!(a[..3], b[..3], "position 0");
        assert_ne!(a[6..9], b[6..9], "position 2 sees position 3");
    }

    #[test]
    fn the_outlook_and_convolution_blocks_learn() {
        type T = Autodiff<NdArray>;
        let device = Default::default();
        let mut rng = SeededRng::new(3);
        let oa = OutlookAttention::<T>::new(12, 4, &mut rng, &device);
        let conv = ConvFeedForward::<T>::new(12, 4, &mut rng, &device);
        let x = tokens::<T>(2, 12, 7);
        let out = conv.forward(oa.forward(x.clone()) + x);
        assert_eq!(out.dims(), [2, 12]);
        let grads = out.powi_scalar(2).sum().backward();
        for norms in [
            crate::run::parameter_gradient_norms(&oa, &grads),
            crate::run::parameter_gradient_norms(&conv, &grads),
        ] {
            assert!(norms.iter().all(|(_, g)| *g > 0.0), "{norms:?}");
        }
    }
}
