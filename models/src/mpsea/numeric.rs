//! MPSEA's numerical embedding (the paper's §3.3.4, "DNEF"): each scalar value is
//! projected into a vector space by its key's own vectors, refined by a small network,
//! and the entity's numbers are aggregated over its keys.
//!
//! For entity `n` and key `k` with normalised value `v` (see `number_input`):
//! `u = relu(v · s_k + b_k)`, `u' = u + relu(u W_r + c)`; the entity's vector is the mean
//! of `u'` over the keys it has, projected to the model width. `b_k` doubles as the key's
//! embedding, so the same value under two keys gives two vectors.
//!
//! Choices where the paper is silent: the per-key affine projection, one residual
//! refinement layer, the mean over keys, and a hidden width of its own (`number_hidden`).
//! An entity without numbers gets the projection of zeros; its presence mask says so
//! and the fusion masks it.

use crate::backend::GraphBackend;
use burn::module::{Module, Param};
use burn::tensor::{Tensor, activation, backend::Backend};

use crate::loginmea::Projection;
use crate::ops::{param_from, xavier_normal};
use crate::rng::SeededRng;

/// The numerical embedding of `K` keys.
#[derive(Module, Debug)]
pub struct NumberEmbedding<B: Backend> {
    /// `K x h`: the vector each key's value multiplies.
    scale: Param<Tensor<B, 2>>,
    /// `K x h`: each key's own vector.
    shift: Param<Tensor<B, 2>>,
    refine: Projection<B>,
    output: Projection<B>,
    #[module(skip)]
    keys: usize,
}

impl<B: Backend> NumberEmbedding<B> {
    /// For inputs of `2 * keys` columns (values, then flags), a hidden width `hidden`,
    /// and output width `dim`.
    pub fn new(
        keys: usize,
        hidden: usize,
        dim: usize,
        rng: &mut SeededRng,
        device: &B::Device,
    ) -> Self {
        let table = |rng: &mut SeededRng| {
            param_from(
                xavier_normal(rng, keys, hidden, keys * hidden),
                [keys, hidden],
                device,
            )
        };
        Self {
            scale: table(rng),
            shift: table(rng),
            refine: Projection::glorot_normal(hidden, hidden, rng, device),
            output: Projection::glorot_normal(hidden, dim, rng, device),
            keys,
        }
    }

    /// Keys the embedding reads (half the input width).
    pub fn keys(&self) -> usize {
        self.keys
    }

    /// The vectors of `input` rows (`rows x 2K`): `rows x dim`.
    pub fn forward(&self, input: Tensor<B, 2>) -> Tensor<B, 2>
    where
        B: GraphBackend,
    {
        let [rows, width] = input.dims();
        let k = self.keys;
        assert_eq!(width, 2 * k, "the number input has 2 columns per key");
        let [_, hidden] = self.scale.dims();
        let values = input.clone().narrow(1, 0, k).reshape([rows, k, 1]);
        let flags = input.narrow(1, k, k);
        let per_key = activation::relu(
            values * self.scale.val().reshape([1, k, hidden])
                + self.shift.val().reshape([1, k, hidden]),
        );
        let flat = per_key.clone().reshape([rows * k, hidden]);
        let refined =
            per_key + activation::relu(self.refine.forward(flat)).reshape([rows, k, hidden]);
        let count = flags.clone().sum_dim(1).clamp_min(1.0);
        let summed = (refined * flags.reshape([rows, k, 1]))
            .sum_dim(1)
            .reshape([rows, hidden]);
        self.output.forward(summed / count)
    }
}

#[cfg(test)]
mod tests {
    use burn::backend::{Autodiff, NdArray};
    use burn::tensor::TensorData;

    use super::*;

    type B = NdArray;

    fn input(rows: &[[f32; 4]]) -> Tensor<B, 2> {
        let data: Vec<f32> = rows.iter().flatten().copied().collect();
        Tensor::from_data(TensorData::new(data, [rows.len(), 4]), &Default::default())
    }

    fn embedding<Bk: Backend>() -> NumberEmbedding<Bk> {
        NumberEmbedding::new(2, 8, 5, &mut SeededRng::new(3), &Default::default())
    }

    fn rows(x: Tensor<B, 2>) -> Vec<Vec<f32>> {
        let (_, cols, v) = crate::ops::to_host(x);
        v.chunks(cols).map(<[f32]>::to_vec).collect()
    }

    #[test]
    fn values_of_absent_keys_are_ignored_and_no_number_gives_the_zero_vector() {
        let e = embedding::<B>();
        // Row 0 has key 0 only; row 1 the same value of key 0 and garbage under key 1
        // without its flag; row 2 has nothing.
        let out = rows(e.forward(input(&[
            [0.5, 0.0, 1.0, 0.0],
            [0.5, 3.0, 1.0, 0.0],
            [0.0, 0.0, 0.0, 0.0],
            [9.0, 9.0, 0.0, 0.0],
        ])));
        assert_eq!(out[0].len(), 5);
        assert_eq!(out[0], out[1], "an unflagged value changes nothing");
        assert_eq!(out[2], out[3], "no flag: the values are not read");
        assert_ne!(out[0], out[2]);
    }

    #[test]
    fn the_same_value_under_two_keys_gives_two_vectors_and_the_value_matters() {
        let e = embedding::<B>();
        let out = rows(e.forward(input(&[
            [0.5, 0.0, 1.0, 0.0],
            [0.0, 0.5, 0.0, 1.0],
            [-1.5, 0.0, 1.0, 0.0],
        ])));
        assert_ne!(out[0], out[1]);
        assert_ne!(out[0], out[2]);
    }

    #[test]
    fn every_parameter_gets_a_gradient() {
        type T = Autodiff<NdArray>;
        let e = embedding::<T>();
        let x = Tensor::<T, 2>::from_data(
            TensorData::new(vec![0.5f32, -1.0, 1.0, 1.0, 1.5, 0.2, 1.0, 0.0], [2, 4]),
            &Default::default(),
        );
        let grads = e.forward(x).powi_scalar(2).sum().backward();
        let norms = crate::run::parameter_gradient_norms(&e, &grads);
        assert_eq!(norms.len(), 6, "{norms:?}");
        assert!(norms.iter().all(|(_, g)| *g > 0.0), "{norms:?}");
    }
}
