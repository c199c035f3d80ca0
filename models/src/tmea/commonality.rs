//! TMEA's multi-modal commonality enhancement (the paper's §4.3, Eq. 10–16).
//!
//! Each entity's modality features are `M` tokens. For each query modality `q`, one
//! multi-head attention (its own `W_Q, W_K, W_V, W_h`, `η` heads) lets `q`'s token attend
//! over all `M` tokens: a softmax over tokens per head. The attention output splits
//! exactly into one piece per key token `m`: `MH_mq(e_q, e_m) = Concat_j(α_jm · e_m W_V,j)
//! W_h`, the part of `e_m`'s content that `e_q` selects ("the refined version of e_m
//! relevant to e_q", the paper's reading of `MH_RI(e_I, e_R)`). Then, with learned
//! weights softmax-normalised per row (Eq. 12–14):
//!
//! `e_m+ = w_mm e_m + Σ_{q ≠ m} w_mq MH_mq(e_q, e_m)`
//!
//! and the orthogonal constraint (Eq. 15–16) keeps what `e_m` does not share with `e_q`
//! apart from `e_q`: `L_o = Σ_{m ≠ q} mean_entities ((e_m − MH_mq(e_q, e_m)) · e_q)²`.
//!
//! Deviations, named in the registry: the paper's cross-attention has one key/value
//! token (`e_m` alone), so its softmax is 1 and the attention a linear map; here each
//! query attends over every modality token of the entity, itself included (so the
//! weights stay a distribution with two modalities); the share a query gives itself
//! brings nothing into the enhanced features. `W_h` has no bias, so the pieces sum to
//! the attention output exactly. The per-entity modality weights the inspector shows
//! are the attention each modality's token receives, averaged over queries and heads.

use burn::module::{Module, Param};
use burn::tensor::{Tensor, activation, backend::Backend};

use crate::ops::{param_from, xavier_normal};
use crate::rng::SeededRng;

/// One query modality's multi-head attention over the modality tokens.
#[derive(Module, Debug)]
pub struct TokenAttention<B: Backend> {
    query: Param<Tensor<B, 2>>,
    key: Param<Tensor<B, 2>>,
    value: Param<Tensor<B, 2>>,
    output: Param<Tensor<B, 2>>,
}

/// The commonality enhancement of `M` tokens.
#[derive(Module, Debug)]
pub struct Commonality<B: Backend> {
    attention: Vec<TokenAttention<B>>,
    /// `M x M` logits of `w_mq`, softmax over each row.
    mix: Param<Tensor<B, 2>>,
    #[module(skip)]
    heads: usize,
}

/// What the enhancement gives.
pub struct Enhanced<B: Backend> {
    /// `e_m+` of each token (`N x d`).
    pub tokens: Vec<Tensor<B, 2>>,
    /// `L_o`, unweighted.
    pub orthogonal: Tensor<B, 1>,
    /// Attention of each query token over the tokens, averaged over heads (`N x M`
    /// per query; rows sum to 1).
    pub attention: Vec<Tensor<B, 2>>,
}

impl<B: Backend> Enhanced<B> {
    /// The attention each token receives, averaged over queries (`N x M`, rows sum
    /// to 1): the per-entity modality weights.
    pub fn received(&self) -> Tensor<B, 2> {
        let m = self.attention.len() as f64;
        self.attention
            .iter()
            .cloned()
            .reduce(|a, b| a + b)
            .expect("at least one token")
            .div_scalar(m)
    }
}

/// `mean_rows((x · y)²)`: zero when every row of `x` is orthogonal to the row of `y`.
pub fn orthogonal_penalty<B: Backend>(x: Tensor<B, 2>, y: Tensor<B, 2>) -> Tensor<B, 1> {
    (x * y).sum_dim(1).powi_scalar(2).mean()
}

impl<B: Backend> Commonality<B> {
    /// Enhancement of `tokens` tokens of width `dim` with `heads` heads.
    pub fn new(
        tokens: usize,
        dim: usize,
        heads: usize,
        rng: &mut SeededRng,
        device: &B::Device,
    ) -> Self {
        let mut square = || param_from(xavier_normal(rng, dim, dim, dim * dim), [dim, dim], device);
        let attention = (0..tokens)
            .map(|_| TokenAttention {
                query: square(),
                key: square(),
                value: square(),
                output: square(),
            })
            .collect();
        Self {
            attention,
            mix: param_from(vec![1.0; tokens * tokens], [tokens, tokens], device),
            heads,
        }
    }

    /// The learned weights `w_mq` (`M x M`, rows sum to 1).
    pub fn weights(&self) -> Tensor<B, 2> {
        activation::softmax(self.mix.val(), 1)
    }

    /// Query `q`'s attention: the piece of every key token (`N x d` each) and the
    /// weights over tokens averaged over heads (`N x M`).
    fn attend(&self, q: usize, tokens: &[Tensor<B, 2>]) -> (Vec<Tensor<B, 2>>, Tensor<B, 2>) {
        let a = &self.attention[q];
        let [n, d] = tokens[q].dims();
        let (h, m) = (self.heads, tokens.len());
        let split = |x: Tensor<B, 2>| x.reshape([n, h, 1, d / h]);
        let stacked = |weight: &Param<Tensor<B, 2>>| {
            Tensor::cat(
                tokens
                    .iter()
                    .map(|t| split(t.clone().matmul(weight.val())))
                    .collect(),
                2,
            )
        };
        let query = split(tokens[q].clone().matmul(a.query.val()));
        let (keys, values) = (stacked(&a.key), stacked(&a.value));
        let scores = (query * keys)
            .sum_dim(3)
            .div_scalar(((d / h) as f64).sqrt());
        let alpha = activation::softmax(scores, 2);
        let pieces = (0..m)
            .map(|k| {
                (alpha.clone().narrow(2, k, 1) * values.clone().narrow(2, k, 1))
                    .reshape([n, d])
                    .matmul(a.output.val())
            })
            .collect();
        (pieces, alpha.mean_dim(1).reshape([n, m]))
    }

    /// `e_m+` of every token, `L_o` and the attention.
    pub fn forward(&self, tokens: &[Tensor<B, 2>]) -> Enhanced<B> {
        let m = tokens.len();
        let device = tokens[0].device();
        let (pieces, attention): (Vec<Vec<Tensor<B, 2>>>, Vec<Tensor<B, 2>>) =
            (0..m).map(|q| self.attend(q, tokens)).unzip();
        let w = self.weights();
        let weight = |row: usize, col: usize| w.clone().narrow(0, row, 1).narrow(1, col, 1);
        let mut orthogonal = Tensor::<B, 1>::zeros([1], &device);
        let enhanced = (0..m)
            .map(|target| {
                let mut e = tokens[target].clone() * weight(target, target);
                for q in (0..m).filter(|&q| q != target) {
                    // pieces[q][target] = MH_{target,q}(e_q, e_target).
                    let piece = pieces[q][target].clone();
                    orthogonal = orthogonal.clone()
                        + orthogonal_penalty(
                            tokens[target].clone() - piece.clone(),
                            tokens[q].clone(),
                        );
                    e = e + piece * weight(target, q);
                }
                e
            })
            .collect();
        Enhanced {
            tokens: enhanced,
            orthogonal,
            attention,
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::backend::{Autodiff, NdArray};
    use burn::tensor::TensorData;

    use super::*;

    type Train = Autodiff<NdArray>;

    fn random(rng: &mut SeededRng, rows: usize, cols: usize) -> Tensor<Train, 2> {
        Tensor::from_data(
            TensorData::new(rng.normal_vec(rows * cols, 1.0), [rows, cols]),
            &Default::default(),
        )
    }

    #[test]
    fn attention_weights_sum_to_one_over_tokens_and_carry_gradients() {
        let mut rng = SeededRng::new(5);
        let module = Commonality::<Train>::new(3, 8, 2, &mut rng, &Default::default());
        let tokens: Vec<Tensor<Train, 2>> = (0..3).map(|_| random(&mut rng, 7, 8)).collect();
        let enhanced = module.forward(&tokens);
        for a in enhanced.attention.iter().chain([&enhanced.received()]) {
            assert_eq!(a.dims(), [7, 3]);
            for total in a.clone().sum_dim(1).into_data().to_vec::<f32>().unwrap() {
                assert!((total - 1.0).abs() < 1e-5, "{total}");
            }
            let values = a.clone().into_data().to_vec::<f32>().unwrap();
            assert!(values.iter().all(|&v| v > 0.0 && v < 1.0), "{values:?}");
        }
        // The attention's own parameters get gradients through the received weights.
        let grads = enhanced.received().narrow(1, 0, 1).sum().backward();
        for (name, attention) in module.attention.iter().enumerate() {
            for p in [&attention.query, &attention.key] {
                let g = p.grad(&grads).expect("a gradient");
                let norm: f32 = g.powi_scalar(2).sum().into_scalar();
                assert!(norm > 0.0, "query {name}: no gradient");
            }
        }
        let enhanced = module.forward(&tokens);
        let loss = enhanced
            .tokens
            .into_iter()
            .map(|t| t.sum())
            .reduce(|a, b| a + b)
            .unwrap()
            + enhanced.orthogonal;
        let grads = loss.backward();
        let norm: f32 = module
            .mix
            .grad(&grads)
            .unwrap()
            .powi_scalar(2)
            .sum()
            .into_scalar();
        assert!(norm > 0.0, "the mixing weights get no gradient");
    }

    #[test]
    fn the_orthogonal_penalty_is_zero_for_orthogonal_rows_only() {
        let device = Default::default();
        let x = Tensor::<NdArray, 2>::from_data(
            TensorData::new(vec![1.0f32, 0.0, 2.0, 3.0, -1.0, 1.0], [2, 3]),
            &device,
        );
        let y = Tensor::<NdArray, 2>::from_data(
            TensorData::new(vec![0.0f32, 5.0, 0.0, 1.0, 1.0, -2.0], [2, 3]),
            &device,
        );
        let zero: f32 = orthogonal_penalty(x.clone(), y).into_scalar();
        assert_eq!(zero, 0.0);
        let same: f32 = orthogonal_penalty(x.clone(), x).into_scalar();
        // Rows (1, 0, 2) and (3, −1, 1): ((5)² + (11)²) / 2.
        assert!((same - 73.0).abs() < 1e-4, "{same}");
    }

    #[test]
    fn the_pieces_of_a_query_sum_to_its_attention_output() {
        let mut rng = SeededRng::new(2);
        let module = Commonality::<Train>::new(3, 4, 2, &mut rng, &Default::default());
        let tokens: Vec<Tensor<Train, 2>> = (0..3).map(|_| random(&mut rng, 5, 4)).collect();
        let (pieces, alpha) = module.attend(1, &tokens);
        // Standard multi-head attention computed head by head from the same weights.
        let a = &module.attention[1];
        let dh = 2;
        let mut heads = Vec::new();
        for j in 0..2 {
            let cols = |w: &Param<Tensor<Train, 2>>| w.val().narrow(1, j * dh, dh);
            let q = tokens[1].clone().matmul(cols(&a.query));
            let scores: Vec<Tensor<Train, 2>> = tokens
                .iter()
                .map(|t| (q.clone() * t.clone().matmul(cols(&a.key))).sum_dim(1))
                .collect();
            let weights = activation::softmax(Tensor::cat(scores, 1).div_scalar(2f64.sqrt()), 1);
            let mut out = Tensor::<Train, 2>::zeros([5, dh], &Default::default());
            for (k, t) in tokens.iter().enumerate() {
                out = out + weights.clone().narrow(1, k, 1) * t.clone().matmul(cols(&a.value));
            }
            heads.push(out);
        }
        let expected = Tensor::cat(heads, 1).matmul(a.output.val());
        let sum = pieces.into_iter().reduce(|x, y| x + y).unwrap();
        let diff: f32 = (sum - expected).abs().max().into_scalar();
        assert!(diff < 1e-5, "{diff}");
        assert_eq!(alpha.dims(), [5, 3]);
    }
}
