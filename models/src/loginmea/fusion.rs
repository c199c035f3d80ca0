//! Local multi-modal interactive fusion: entity-specific adaptive modality weights and
//! low-rank interactive fusion (LMF).
//!
//! A modality embedding is either one row per entity or one row shared by all
//! ([`ModalityEmbedding::shared`]); shared rows are never repeated N times — the weighted
//! shared row is the outer product of the per-entity weight and the row, so its low-rank
//! factor product is that weight times one projected row. The numbers are the same as
//! with the repeated rows.

use burn::module::{Module, Param};
use burn::tensor::{Tensor, activation, backend::Backend};

use crate::backend::GraphBackend;
use crate::backend::low_rank::LowRankInputs;
use crate::ops::{l2_normalize, param_from, xavier_normal, xavier_uniform};
use crate::rng::SeededRng;

/// A modality's embedding: `N x d`, or `1 x d` standing for every entity.
#[derive(Debug, Clone)]
pub struct ModalityEmbedding<B: Backend> {
    /// The values.
    pub values: Tensor<B, 2>,
    /// Whether the single row stands for every entity.
    pub shared: bool,
}

impl<B: Backend> ModalityEmbedding<B> {
    /// The `N x d` matrix (a shared row is expanded, not copied, where the backend can).
    pub fn expanded(&self, entities: usize) -> Tensor<B, 2> {
        if self.shared {
            let [_, d] = self.values.dims();
            self.values.clone().expand([entities, d])
        } else {
            self.values.clone()
        }
    }
}

/// The learned vector scoring each modality embedding of an entity.
#[derive(Module, Debug)]
pub struct AdaptiveWeights<B: Backend> {
    score: Param<Tensor<B, 2>>,
}

impl<B: Backend> AdaptiveWeights<B> {
    /// Scores `dim`-wide embeddings.
    pub fn new(dim: usize, rng: &mut SeededRng, device: &B::Device) -> Self {
        Self {
            score: param_from(xavier_uniform(rng, dim, 1, dim), [dim, 1], device),
        }
    }

    /// Per-entity softmax weights over the modalities (`N x M`): a score
    /// `v . tanh(h_m)` per modality, softmax across modalities.
    pub fn forward(&self, embeddings: &[ModalityEmbedding<B>], entities: usize) -> Tensor<B, 2>
    where
        B: GraphBackend,
    {
        let scores: Vec<Tensor<B, 2>> = embeddings
            .iter()
            .map(|m| {
                let s = B::matrix_product(m.values.clone().tanh(), self.score.val());
                if m.shared { s.expand([entities, 1]) } else { s }
            })
            .collect();
        activation::softmax(Tensor::cat(scores, 1), 1)
    }
}

/// Low-rank fusion: per modality `m` and rank slice `r`, a factor `W_m^r` of shape
/// `(d_in + 1) x d_out`; the fused vector is `sum_r w_r * prod_m ([x_m, 1] W_m^r) + b`.
#[derive(Module, Debug)]
pub struct LowRankFusion<B: Backend> {
    /// Per modality: the `d_in x (R * d_out)` factor rows for the input, slice `r` in
    /// columns `r*d_out..(r+1)*d_out`.
    factors: Vec<Param<Tensor<B, 2>>>,
    /// Per modality: the factor row multiplying the appended constant 1 (`1 x R*d_out`).
    factor_bias: Vec<Param<Tensor<B, 2>>>,
    /// Weights of the rank slices (`1 x R`).
    rank_weights: Param<Tensor<B, 2>>,
    /// Output bias (`1 x d_out`).
    bias: Param<Tensor<B, 2>>,
}

impl<B: Backend> LowRankFusion<B> {
    /// Factors for `modalities` inputs of width `d_in`, rank `rank`, output `d_out`;
    /// initialised as the LMF reference code (Xavier normal factors and slice weights,
    /// zero bias).
    pub fn new(
        modalities: usize,
        d_in: usize,
        d_out: usize,
        rank: usize,
        rng: &mut SeededRng,
        device: &B::Device,
    ) -> Self {
        // PyTorch's fans for an (R, d_in+1, d_out) tensor.
        let (fan_in, fan_out) = ((d_in + 1) * d_out, rank * d_out);
        let mut factors = Vec::new();
        let mut factor_bias = Vec::new();
        for _ in 0..modalities {
            // Drawn slice by slice in (R, d_in+1, d_out) order, then laid out as columns.
            let full = xavier_normal(rng, fan_in, fan_out, rank * (d_in + 1) * d_out);
            let mut weight = vec![0.0f32; d_in * rank * d_out];
            let mut bias_row = vec![0.0f32; rank * d_out];
            for r in 0..rank {
                for row in 0..=d_in {
                    for col in 0..d_out {
                        let v = full[(r * (d_in + 1) + row) * d_out + col];
                        if row < d_in {
                            weight[row * rank * d_out + r * d_out + col] = v;
                        } else {
                            bias_row[r * d_out + col] = v;
                        }
                    }
                }
            }
            factors.push(param_from(weight, [d_in, rank * d_out], device));
            factor_bias.push(param_from(bias_row, [1, rank * d_out], device));
        }
        Self {
            factors,
            factor_bias,
            rank_weights: param_from(xavier_normal(rng, rank, 1, rank), [1, rank], device),
            bias: param_from(vec![0.0; d_out], [1, d_out], device),
        }
    }

    /// The rank.
    pub fn rank(&self) -> usize {
        self.rank_weights.dims()[1]
    }

    /// Fuses the weighted embeddings: `weights` is `N x M` (column `m` scales input `m`),
    /// `inputs[m]` the unit-normalised embedding (shared or per entity). One
    /// [`GraphBackend::low_rank_fusion`] over the weighted inputs side by side (a shared
    /// row is expanded to `N x d_in`, the width of the inputs, not of the projections).
    pub fn forward(
        &self,
        inputs: &[ModalityEmbedding<B>],
        weights: Option<Tensor<B, 2>>,
        entities: usize,
    ) -> Tensor<B, 2>
    where
        B: GraphBackend,
    {
        let weighted: Vec<Tensor<B, 2>> = inputs
            .iter()
            .enumerate()
            .map(|(m, input)| {
                let weight = weights.clone().map(|w| w.slice([0..entities, m..m + 1]));
                match weight {
                    Some(w) => input.values.clone() * w,
                    None => input.expanded(entities),
                }
            })
            .collect();
        B::low_rank_fusion(LowRankInputs {
            x: B::cat_columns(weighted),
            factors: Tensor::cat(self.factors.iter().map(|f| f.val()).collect(), 0),
            factor_bias: Tensor::cat(self.factor_bias.iter().map(|b| b.val()).collect(), 0),
            rank_weights: self.rank_weights.val(),
            bias: self.bias.val(),
        })
    }
}

/// Weighted, unit-normalised modality embeddings concatenated (the ablation without
/// low-rank fusion, and the joint stream's layer 0 with global weights).
pub fn weighted_concat<B: GraphBackend>(
    inputs: &[ModalityEmbedding<B>],
    weights: Tensor<B, 2>,
    entities: usize,
) -> Tensor<B, 2> {
    let parts = inputs
        .iter()
        .enumerate()
        .map(|(m, input)| {
            let [rows, _] = weights.dims();
            let w = weights.clone().slice([0..rows, m..m + 1]);
            (input.values.clone() * w).expand([entities, input.values.dims()[1]])
        })
        .collect();
    B::cat_columns(parts)
}

/// Unit-normalises a modality embedding.
pub fn normalized<B: Backend>(m: &ModalityEmbedding<B>) -> ModalityEmbedding<B> {
    ModalityEmbedding {
        values: l2_normalize(m.values.clone()),
        shared: m.shared,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;
    use burn::backend::ndarray::NdArrayDevice;
    use burn::tensor::TensorData;

    fn host(t: Tensor<NdArray, 2>) -> Vec<f32> {
        t.into_data().into_vec::<f32>().unwrap()
    }

    /// The low-rank fusion equals tensor fusion over `[x_1, 1] (x) [x_2, 1] (x) [x_3, 1]`
    /// with the weight tensor `sum_r w_r W_1^r (x) W_2^r (x) W_3^r` built explicitly —
    /// here with rank 9 = (d_in + 1)^2, enough to express any 3 x 3 x 3 x d_out tensor.
    #[test]
    #[allow(clippy::needless_range_loop)] // the indices spell out the tensor formula
    fn low_rank_fusion_equals_explicit_tensor_fusion() {
        let device = NdArrayDevice::Cpu;
        let (d_in, d_out, rank, n) = (2usize, 3usize, 9usize, 5usize);
        let mut rng = SeededRng::new(9);
        let fusion = LowRankFusion::<NdArray>::new(3, d_in, d_out, rank, &mut rng, &device);
        let inputs: Vec<ModalityEmbedding<NdArray>> = (0..3)
            .map(|m| ModalityEmbedding {
                values: Tensor::from_data(
                    TensorData::new(rng.normal_vec(n * d_in, 1.0), [n, d_in]),
                    &device,
                ),
                shared: m == 2,
            })
            .map(|mut e| {
                if e.shared {
                    e.values = e.values.slice([0..1, 0..d_in]);
                }
                e
            })
            .collect();
        let weights = Tensor::<NdArray, 2>::from_data(
            TensorData::new(rng.uniform_vec(n * 3, 1.0), [n, 3]),
            &device,
        );
        let fused = host(fusion.forward(&inputs, Some(weights.clone()), n));

        // Factor W_m^r[a][k]: row a < d_in from `factors`, row d_in from `factor_bias`.
        let factors: Vec<Vec<f32>> = fusion.factors.iter().map(|p| host(p.val())).collect();
        let biases: Vec<Vec<f32>> = fusion.factor_bias.iter().map(|p| host(p.val())).collect();
        let w = |m: usize, r: usize, a: usize, k: usize| {
            if a < d_in {
                factors[m][a * rank * d_out + r * d_out + k]
            } else {
                biases[m][r * d_out + k]
            }
        };
        let rank_weights = host(fusion.rank_weights.val());
        let bias = host(fusion.bias.val());
        let x = |m: usize, i: usize| -> Vec<f32> {
            let row = if inputs[m].shared { 0 } else { i };
            let v = host(inputs[m].values.clone());
            let scale = host(weights.clone())[i * 3 + m];
            let mut z: Vec<f32> = v[row * d_in..(row + 1) * d_in]
                .iter()
                .map(|x| x * scale)
                .collect();
            z.push(1.0);
            z
        };
        for i in 0..n {
            let (z1, z2, z3) = (x(0, i), x(1, i), x(2, i));
            for k in 0..d_out {
                let mut explicit = bias[k] as f64;
                for a in 0..=d_in {
                    for b in 0..=d_in {
                        for c in 0..=d_in {
                            let weight: f64 = (0..rank)
                                .map(|r| {
                                    (rank_weights[r]
                                        * w(0, r, a, k)
                                        * w(1, r, b, k)
                                        * w(2, r, c, k)) as f64
                                })
                                .sum();
                            explicit += (z1[a] * z2[b] * z3[c]) as f64 * weight;
                        }
                    }
                }
                let got = fused[i * d_out + k] as f64;
                assert!(
                    (got - explicit).abs() < 1e-5 * (1.0 + explicit.abs()),
                    "entity {i} unit {k}: {got} vs {explicit}"
                );
            }
        }
    }
}
