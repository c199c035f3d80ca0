//! all-MiniLM-L6-v2's transformer (a 6-layer, 384-wide BERT) for inference, with the
//! sentence-transformers head the model ships with: mean pooling over the real tokens,
//! then L2 normalisation.
//!
//! The layer is BERT's post-norm block: self-attention (12 heads of 32), residual,
//! LayerNorm; feed-forward (1536, exact GELU), residual, LayerNorm. Padding is masked
//! out of attention by adding -10,000 to its scores, as the `transformers` version the
//! model was saved with (4.8) does.

use std::collections::HashMap;
use std::path::Path;

use burn::prelude::*;
use burn::tensor::activation::{gelu, softmax};

use crate::TextError;
use crate::weights::NamedArray;

/// Width of the hidden states and of a sentence embedding.
pub const HIDDEN: usize = 384;
/// Transformer layers.
pub const LAYERS: usize = 6;
/// Attention heads.
pub const HEADS: usize = 12;
/// Feed-forward width.
pub const INTERMEDIATE: usize = 1536;
/// Longest input the position embeddings cover.
pub const MAX_POSITIONS: usize = 512;
/// LayerNorm epsilon of the saved model.
const LAYER_NORM_EPS: f64 = 1e-12;
/// Added to the attention scores of padding (the saved model's convention).
const MASKED_SCORE: f32 = -10_000.0;

/// `x · W + b` with `W` stored `[in, out]`.
#[derive(Debug)]
struct Dense<B: Backend> {
    weight: Tensor<B, 2>,
    bias: Tensor<B, 1>,
}

impl<B: Backend> Dense<B> {
    fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        x.matmul(self.weight.clone()) + self.bias.clone().unsqueeze()
    }
}

#[derive(Debug)]
struct LayerNorm<B: Backend> {
    gamma: Tensor<B, 1>,
    beta: Tensor<B, 1>,
}

impl<B: Backend> LayerNorm<B> {
    fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let mean = x.clone().mean_dim(1);
        let centred = x - mean;
        let variance = centred.clone().powi_scalar(2).mean_dim(1);
        let normed = centred / (variance + LAYER_NORM_EPS).sqrt();
        normed * self.gamma.clone().unsqueeze() + self.beta.clone().unsqueeze()
    }
}

#[derive(Debug)]
struct Layer<B: Backend> {
    query: Dense<B>,
    key: Dense<B>,
    value: Dense<B>,
    attention_out: Dense<B>,
    attention_norm: LayerNorm<B>,
    intermediate: Dense<B>,
    output: Dense<B>,
    output_norm: LayerNorm<B>,
}

/// The model with its weights on one device.
#[derive(Debug)]
pub struct MiniLm<B: Backend> {
    word: Tensor<B, 2>,
    position: Tensor<B, 2>,
    token_type: Tensor<B, 2>,
    embedding_norm: LayerNorm<B>,
    layers: Vec<Layer<B>>,
}

/// Takes the tensors of the weights file by name, checking each shape.
struct Weights<'a, B: Backend> {
    path: &'a Path,
    arrays: HashMap<String, NamedArray>,
    device: &'a B::Device,
}

impl<B: Backend> Weights<'_, B> {
    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>, TextError> {
        let wrong = |problem: String| TextError::WrongTensor {
            path: self.path.to_path_buf(),
            name: name.to_string(),
            problem,
        };
        let array = self
            .arrays
            .remove(name)
            .ok_or_else(|| wrong("is missing".into()))?;
        if array.shape != shape {
            return Err(wrong(format!(
                "has shape {:?}, expected {shape:?}",
                array.shape
            )));
        }
        Ok(array.data)
    }

    fn matrix(&mut self, name: &str, rows: usize, cols: usize) -> Result<Tensor<B, 2>, TextError> {
        let data = self.take(name, &[rows, cols])?;
        Ok(Tensor::from_data(
            TensorData::new(data, [rows, cols]),
            self.device,
        ))
    }

    fn vector(&mut self, name: &str, len: usize) -> Result<Tensor<B, 1>, TextError> {
        let data = self.take(name, &[len])?;
        Ok(Tensor::from_data(TensorData::new(data, [len]), self.device))
    }

    /// A PyTorch `Linear` (`weight` stored `[out, in]`) as a [`Dense`]. The weight is
    /// transposed here, on the host, into a contiguous `[in, out]` tensor: a transposed
    /// view would be copied by the CPU backend's matrix product on every call.
    fn dense(&mut self, prefix: &str, input: usize, output: usize) -> Result<Dense<B>, TextError> {
        let stored = self.take(&format!("{prefix}.weight"), &[output, input])?;
        let mut weight = vec![0.0; stored.len()];
        for (row, values) in stored.chunks_exact(input).enumerate() {
            for (col, &value) in values.iter().enumerate() {
                weight[col * output + row] = value;
            }
        }
        Ok(Dense {
            weight: Tensor::from_data(TensorData::new(weight, [input, output]), self.device),
            bias: self.vector(&format!("{prefix}.bias"), output)?,
        })
    }

    fn norm(&mut self, prefix: &str) -> Result<LayerNorm<B>, TextError> {
        Ok(LayerNorm {
            gamma: self.vector(&format!("{prefix}.weight"), HIDDEN)?,
            beta: self.vector(&format!("{prefix}.bias"), HIDDEN)?,
        })
    }
}

impl<B: Backend> MiniLm<B> {
    /// Builds the model from the tensors of `path` (already read into `arrays`).
    pub fn from_arrays(
        path: &Path,
        arrays: HashMap<String, NamedArray>,
        vocabulary: usize,
        device: &B::Device,
    ) -> Result<Self, TextError> {
        let mut w = Weights::<B> {
            path,
            arrays,
            device,
        };
        let word = w.matrix("embeddings.word_embeddings.weight", vocabulary, HIDDEN)?;
        let position = w.matrix(
            "embeddings.position_embeddings.weight",
            MAX_POSITIONS,
            HIDDEN,
        )?;
        let token_type = w.matrix("embeddings.token_type_embeddings.weight", 2, HIDDEN)?;
        let embedding_norm = w.norm("embeddings.LayerNorm")?;
        let mut layers = Vec::with_capacity(LAYERS);
        for index in 0..LAYERS {
            let p = format!("encoder.layer.{index}");
            layers.push(Layer {
                query: w.dense(&format!("{p}.attention.self.query"), HIDDEN, HIDDEN)?,
                key: w.dense(&format!("{p}.attention.self.key"), HIDDEN, HIDDEN)?,
                value: w.dense(&format!("{p}.attention.self.value"), HIDDEN, HIDDEN)?,
                attention_out: w.dense(&format!("{p}.attention.output.dense"), HIDDEN, HIDDEN)?,
                attention_norm: w.norm(&format!("{p}.attention.output.LayerNorm"))?,
                intermediate: w.dense(&format!("{p}.intermediate.dense"), HIDDEN, INTERMEDIATE)?,
                output: w.dense(&format!("{p}.output.dense"), INTERMEDIATE, HIDDEN)?,
                output_norm: w.norm(&format!("{p}.output.LayerNorm"))?,
            });
        }
        Ok(Self {
            word,
            position,
            token_type,
            embedding_norm,
            layers,
        })
    }

    /// Sentence embeddings `[batch, 384]` (mean-pooled over the real tokens, L2-normalised)
    /// of token ids `ids` (`batch` rows of `length`, padded with any id) whose real tokens
    /// are marked by `mask` (1 real, 0 padding).
    pub fn embed(&self, ids: &[u32], mask: &[u32], batch: usize, length: usize) -> Tensor<B, 2> {
        let device = self.word.device();
        let tokens = batch * length;
        let id_tensor = Tensor::<B, 1, Int>::from_data(
            TensorData::new(ids.iter().map(|&i| i as i64).collect(), [tokens]),
            &device,
        );
        let positions = Tensor::<B, 1, Int>::from_data(
            TensorData::new((0..tokens).map(|t| (t % length) as i64).collect(), [tokens]),
            &device,
        );
        let mut x = self.word.clone().select(0, id_tensor)
            + self.position.clone().select(0, positions)
            + self.token_type.clone().slice([0..1, 0..HIDDEN]);
        x = self.embedding_norm.forward(x);
        let mask_f: Vec<f32> = mask.iter().map(|&m| m as f32).collect();
        let score_bias = Tensor::<B, 2>::from_data(
            TensorData::new(
                mask_f
                    .iter()
                    .map(|&m| (1.0 - m) * MASKED_SCORE)
                    .collect::<Vec<_>>(),
                [batch, length],
            ),
            &device,
        )
        .reshape([batch, 1, 1, length]);
        for layer in &self.layers {
            x = layer.forward(x, score_bias.clone(), batch, length);
        }
        let weights = Tensor::<B, 2>::from_data(TensorData::new(mask_f, [batch, length]), &device);
        let summed = (x.reshape([batch, length, HIDDEN]) * weights.clone().unsqueeze_dim(2))
            .sum_dim(1)
            .reshape([batch, HIDDEN]);
        let counts = weights.sum_dim(1).clamp_min(1e-9);
        let mean = summed / counts;
        let norm = mean
            .clone()
            .powi_scalar(2)
            .sum_dim(1)
            .sqrt()
            .clamp_min(1e-12);
        mean / norm
    }
}

impl<B: Backend> Layer<B> {
    fn forward(
        &self,
        x: Tensor<B, 2>,
        score_bias: Tensor<B, 4>,
        batch: usize,
        length: usize,
    ) -> Tensor<B, 2> {
        let head = HIDDEN / HEADS;
        let split = |t: Tensor<B, 2>| t.reshape([batch, length, HEADS, head]).swap_dims(1, 2);
        let q = split(self.query.forward(x.clone()));
        let k = split(self.key.forward(x.clone()));
        let v = split(self.value.forward(x.clone()));
        let scores = q.matmul(k.swap_dims(2, 3)) / (head as f64).sqrt() + score_bias;
        let context = softmax(scores, 3)
            .matmul(v)
            .swap_dims(1, 2)
            .reshape([batch * length, HIDDEN]);
        let attended = self
            .attention_norm
            .forward(self.attention_out.forward(context) + x);
        let hidden = gelu(self.intermediate.forward(attended.clone()));
        self.output_norm
            .forward(self.output.forward(hidden) + attended)
    }
}
