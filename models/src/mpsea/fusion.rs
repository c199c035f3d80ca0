//! MPSEA's multi-modal pre-synergistic fusion transformer (§3.4): one transformer block
//! over each entity's modality tokens, in which the textual tokens (relations,
//! attributes, numbers) attend with the graph and visual tokens injected as keys and
//! values, and the image token's feed-forward layer has Outlooker attention and a
//! convolution ([`super::outlooker`]).
//!
//! Attention: multi-head scaled dot products over the `M` tokens of one entity. Who may
//! attend to whom:
//! - a textual query sees the textual keys, plus the graph key (graph pre-synergy) and
//!   the image key (image pre-synergy); the ablations "w/o MMPF-gph" / "w/o MMPF-img"
//!   drop one, "w/o MMPF" both;
//! - the graph and image queries see every key (the graph structure transformer's
//!   self-attention over the modalities);
//! - a key whose modality the entity lacks (no image, no number, ...) is masked for
//!   every other query; a token always sees itself, so no row is empty.
//!
//! Cross-modal weights (§3.4.2): the attention each modality's key receives, summed over
//! heads and averaged over queries, then a softmax over the modalities the entity has
//! (an absent one gets weight 0). The paper's own equations did not survive in our copy
//! of the text; this follows its words ("weighted-average the attention weight scores of
//! each modality and subsequently applied Softmax") and MEAformer, which it extends.
//!
//! Each sub-layer is residual with layer normalisation after it (post-norm, as the
//! original Transformer). The feed-forward layer is `d → 2d → d` with ReLU.
//!
//! With no pre-synergy mask, no Outlooker and no convolution, a GELU feed-forward layer
//! and weights from the attention summed over queries, the same block is MEAformer's
//! meta-modality hybrid ([`crate::meaformer`]).

use crate::backend::GraphBackend;
use burn::module::{Module, Param};
use burn::nn::{LayerNorm, LayerNormConfig};
use burn::tensor::{Tensor, TensorData, activation, backend::Backend};

use super::outlooker::{ConvFeedForward, OutlookAttention};
use crate::loginmea::Projection;
use crate::ops::{param_from, xavier_uniform};
use crate::rng::SeededRng;

/// What a token is to the pre-synergy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRole {
    /// The structure token.
    Graph,
    /// Relations, attributes, numbers.
    Textual,
    /// The image token.
    Visual,
}

/// The switches of the fusion block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FusionOptions {
    /// Attention heads (the model width must divide by it).
    pub heads: usize,
    /// What the tokens are multiplied by as they come in: with unit tokens, 1 gives
    /// attention logits near 0 (uniform attention) and larger values sharper ones.
    pub input_scale: f64,
    /// Textual queries see the graph key.
    pub graph_presynergy: bool,
    /// Textual queries see the image key.
    pub image_presynergy: bool,
    /// Outlooker attention in the image token's feed-forward layer.
    pub outlooker: bool,
    /// The convolution-enhanced feed-forward network for the image token (off: the
    /// plain one every other token has).
    pub conv_ffn: bool,
    /// Positions an image token is read as (the width must divide by it).
    pub positions: usize,
    /// Hidden width of the plain feed-forward layer (MPSEA: twice the model width).
    pub ffn_hidden: usize,
    /// The plain feed-forward layer's activation (MPSEA: ReLU).
    pub ffn_activation: FeedForwardActivation,
    /// How the attention becomes the cross-modal weights.
    pub weight_rule: WeightRule,
}

/// The activation of the plain feed-forward layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedForwardActivation {
    /// `max(0, x)`, as the original Transformer (MPSEA).
    Relu,
    /// GELU, as BERT (MEAformer's code).
    Gelu,
}

/// How the attention each modality's key receives becomes its weight (a softmax over
/// the modalities either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightRule {
    /// Summed over heads, averaged over queries (MPSEA, from its words).
    MeanOverQueries,
    /// Summed over heads and queries, over `√(M·H)` (MEAformer's code).
    SumOverScaled,
}

/// The fusion block.
#[derive(Module, Debug)]
pub struct PreSynergyFusion<B: Backend> {
    query: Param<Tensor<B, 2>>,
    key: Param<Tensor<B, 2>>,
    value: Param<Tensor<B, 2>>,
    output: Param<Tensor<B, 2>>,
    attention_norm: LayerNorm<B>,
    ffn_in: Projection<B>,
    ffn_out: Projection<B>,
    ffn_norm: LayerNorm<B>,
    outlook: Option<OutlookAttention<B>>,
    outlook_norm: Option<LayerNorm<B>>,
    conv: Option<ConvFeedForward<B>>,
    #[module(skip)]
    roles: Vec<TokenRole>,
    #[module(skip)]
    options: FusionOptions,
}

/// What the block gives.
pub struct Fused<B: Backend> {
    /// The output token of each modality (`N x d`), in input order.
    pub tokens: Vec<Tensor<B, 2>>,
    /// Attention probabilities, `N x H x M x M` (query, key).
    pub attention: Tensor<B, 4>,
    /// Cross-modal weights, `N x M` (rows sum to 1; 0 for an absent modality).
    pub weights: Tensor<B, 2>,
}

/// Added to a masked logit.
const MASKED: f32 = -1e9;

impl<B: Backend> PreSynergyFusion<B> {
    /// A block over tokens of width `dim` with `roles` (one per modality, in order).
    pub fn new(
        dim: usize,
        roles: Vec<TokenRole>,
        options: FusionOptions,
        rng: &mut SeededRng,
        device: &B::Device,
    ) -> Self {
        let mut square =
            || param_from(xavier_uniform(rng, dim, dim, dim * dim), [dim, dim], device);
        let (query, key, value, output) = (square(), square(), square(), square());
        let norm = || LayerNormConfig::new(dim).init(device);
        let has_image = roles.contains(&TokenRole::Visual);
        let outlook = (has_image && options.outlooker)
            .then(|| OutlookAttention::new(dim, options.positions, rng, device));
        let conv = (has_image && options.conv_ffn)
            .then(|| ConvFeedForward::new(dim, options.positions, rng, device));
        Self {
            query,
            key,
            value,
            output,
            attention_norm: norm(),
            ffn_in: Projection::new(dim, options.ffn_hidden, rng, device),
            ffn_out: Projection::new(options.ffn_hidden, dim, rng, device),
            ffn_norm: norm(),
            outlook_norm: outlook.as_ref().map(|_| norm()),
            outlook,
            conv,
            roles,
            options,
        }
    }

    /// Whether query token `q` may attend to key token `k` (presence aside).
    pub fn may_attend(&self, q: usize, k: usize) -> bool {
        if q == k || self.roles[q] != TokenRole::Textual {
            return true;
        }
        match self.roles[k] {
            TokenRole::Textual => true,
            TokenRole::Graph => self.options.graph_presynergy,
            TokenRole::Visual => self.options.image_presynergy,
        }
    }

    /// The additive mask of who may attend to whom: `1 x 1 x M x M`.
    fn role_mask(&self, device: &B::Device) -> Tensor<B, 4> {
        let m = self.roles.len();
        let values: Vec<f32> = (0..m * m)
            .map(|i| {
                if self.may_attend(i / m, i % m) {
                    0.0
                } else {
                    MASKED
                }
            })
            .collect();
        Tensor::from_data(TensorData::new(values, [1, 1, m, m]), device)
    }

    /// Fuses `tokens` (`N x d` each, roles as built); `present` is each token's presence
    /// mask (`N x 1`, 1 where the entity has the modality).
    pub fn forward(&self, tokens: Vec<Tensor<B, 2>>, present: &[Tensor<B, 2>]) -> Fused<B>
    where
        B: GraphBackend,
    {
        let m = tokens.len();
        assert_eq!(m, self.roles.len(), "one token per role");
        let [n, d] = tokens[0].dims();
        let h = self.options.heads;
        let device = tokens[0].device();
        let x: Tensor<B, 3> = Tensor::stack(tokens, 1).mul_scalar(self.options.input_scale);
        let flat = x.clone().reshape([n * m, d]);
        let split = |w: &Param<Tensor<B, 2>>| {
            flat.clone()
                .matmul(w.val())
                .reshape([n, m, h, d / h])
                .swap_dims(1, 2)
        };
        let (q, k, v) = (split(&self.query), split(&self.key), split(&self.value));
        // Absent keys are masked for every query but their own token.
        let presence = Tensor::cat(present.to_vec(), 1);
        let absent_key = presence.clone().neg().add_scalar(1.0).mul_scalar(MASKED);
        let off_diagonal = Tensor::<B, 2>::eye(m, &device).neg().add_scalar(1.0);
        let mask = self.role_mask(&device)
            + absent_key.clone().reshape([n, 1, 1, m]) * off_diagonal.reshape([1, 1, m, m]);
        let scores = q
            .matmul(k.swap_dims(2, 3))
            .div_scalar(((d / h) as f64).sqrt())
            + mask;
        let attention = activation::softmax(scores, 3);
        let attended = attention
            .clone()
            .matmul(v)
            .swap_dims(1, 2)
            .reshape([n * m, d])
            .matmul(self.output.val());
        let y = self
            .attention_norm
            .forward(flat + attended)
            .reshape([n, m, d]);
        let outputs = (0..m)
            .map(|t| self.feed_forward(t, y.clone().narrow(1, t, 1).reshape([n, d])))
            .collect();
        let received = match self.options.weight_rule {
            WeightRule::MeanOverQueries => attention.clone().sum_dim(1).mean_dim(2).reshape([n, m]),
            WeightRule::SumOverScaled => attention
                .clone()
                .sum_dim(1)
                .sum_dim(2)
                .reshape([n, m])
                .div_scalar(((m * h) as f64).sqrt()),
        };
        let weights = activation::softmax(received + absent_key, 1);
        Fused {
            tokens: outputs,
            attention,
            weights,
        }
    }

    /// Token `t`'s feed-forward sub-layer.
    fn feed_forward(&self, t: usize, x: Tensor<B, 2>) -> Tensor<B, 2>
    where
        B: GraphBackend,
    {
        let mut x = x;
        let visual = self.roles[t] == TokenRole::Visual;
        if visual && let (Some(outlook), Some(norm)) = (&self.outlook, &self.outlook_norm) {
            x = norm.forward(x.clone() + outlook.forward(x));
        }
        let ffn = match (&self.conv, visual) {
            (Some(conv), true) => conv.forward(x.clone()),
            _ => {
                let hidden = self.ffn_in.forward(x.clone());
                self.ffn_out.forward(match self.options.ffn_activation {
                    FeedForwardActivation::Relu => activation::relu(hidden),
                    FeedForwardActivation::Gelu => activation::gelu(hidden),
                })
            }
        };
        self.ffn_norm.forward(x + ffn)
    }
}

#[cfg(test)]
mod tests {
    use burn::backend::{Autodiff, NdArray};

    use super::*;

    const ROLES: [TokenRole; 5] = [
        TokenRole::Graph,
        TokenRole::Textual,
        TokenRole::Textual,
        TokenRole::Visual,
        TokenRole::Textual,
    ];

    fn options() -> FusionOptions {
        FusionOptions {
            heads: 2,
            input_scale: 1.0,
            graph_presynergy: true,
            image_presynergy: true,
            outlooker: true,
            conv_ffn: true,
            positions: 4,
            ffn_hidden: 16,
            ffn_activation: FeedForwardActivation::Relu,
            weight_rule: WeightRule::MeanOverQueries,
        }
    }

    fn block<Bk: Backend>(options: FusionOptions) -> PreSynergyFusion<Bk> {
        PreSynergyFusion::new(
            8,
            ROLES.to_vec(),
            options,
            &mut SeededRng::new(5),
            &Default::default(),
        )
    }

    /// Three entities: all modalities; no image (token 3); no number (token 4) and no
    /// image.
    fn inputs<Bk: Backend>() -> (Vec<Tensor<Bk, 2>>, Vec<Tensor<Bk, 2>>) {
        let mut rng = SeededRng::new(8);
        let device = Default::default();
        let tokens = (0..5)
            .map(|_| Tensor::from_data(TensorData::new(rng.normal_vec(24, 1.0), [3, 8]), &device))
            .collect();
        let present = [
            [1.0, 1.0, 1.0],
            [1.0, 1.0, 1.0],
            [1.0, 1.0, 1.0],
            [1.0, 0.0, 0.0],
            [1.0, 1.0, 0.0],
        ]
        .into_iter()
        .map(|p: [f32; 3]| Tensor::from_data(TensorData::new(p.to_vec(), [3, 1]), &device))
        .collect();
        (tokens, present)
    }

    /// `attention[entity, head, query, key]`.
    fn probability(fused: &Fused<NdArray>, e: usize, h: usize, q: usize, k: usize) -> f32 {
        let a = fused
            .attention
            .clone()
            .narrow(0, e, 1)
            .narrow(1, h, 1)
            .narrow(2, q, 1)
            .narrow(3, k, 1);
        a.into_scalar()
    }

    #[test]
    fn attention_rows_sum_to_one_and_absent_modalities_are_masked() {
        let b = block::<NdArray>(options());
        let (tokens, present) = inputs();
        let fused = b.forward(tokens, &present);
        assert_eq!(fused.attention.dims(), [3, 2, 5, 5]);
        assert_eq!(fused.tokens.len(), 5);
        assert!(fused.tokens.iter().all(|t| t.dims() == [3, 8]));
        let sums = crate::ops::to_host(fused.attention.clone().sum_dim(3).reshape([30, 1])).2;
        assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-5), "{sums:?}");
        for h in 0..2 {
            for q in [0, 1, 2, 4] {
                assert!(
                    probability(&fused, 0, h, q, 3) > 0.0,
                    "entity 0 has an image"
                );
                assert!(
                    probability(&fused, 1, h, q, 3) < 1e-6,
                    "entity 1 has no image"
                );
                assert!(probability(&fused, 2, h, q, 3) < 1e-6);
            }
            for q in [0, 1, 2, 3] {
                assert!(
                    probability(&fused, 2, h, q, 4) < 1e-6,
                    "entity 2 has no number"
                );
            }
        }
        let (_, _, w) = crate::ops::to_host(fused.weights);
        for e in 0..3 {
            let row = &w[e * 5..e * 5 + 5];
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{row:?}");
            assert!(row.iter().all(|&x| x >= 0.0));
        }
        assert!(w[3] > 0.05, "entity 0 weighs its image");
        assert!(
            w[5 + 3] < 1e-6 && w[10 + 3] < 1e-6 && w[10 + 4] < 1e-6,
            "{w:?}"
        );
    }

    /// Max minus min of each entity's cross-modal weights, averaged over the entities.
    fn weight_spread(fused: &Fused<NdArray>) -> f32 {
        let (_, _, w) = crate::ops::to_host(fused.weights.clone());
        let spreads: Vec<f32> = w
            .chunks(5)
            .map(|row| {
                let present: Vec<f32> = row.iter().copied().filter(|&x| x > 0.0).collect();
                present.iter().copied().fold(f32::MIN, f32::max)
                    - present.iter().copied().fold(f32::MAX, f32::min)
            })
            .collect();
        spreads.iter().sum::<f32>() / spreads.len() as f32
    }

    #[test]
    fn a_larger_input_scale_sharpens_the_cross_modal_weights() {
        let unit = |tokens: Vec<Tensor<NdArray, 2>>| -> Vec<Tensor<NdArray, 2>> {
            tokens.into_iter().map(crate::ops::l2_normalize).collect()
        };
        let (tokens, present) = inputs::<NdArray>();
        let spread = |scale| {
            let b = block::<NdArray>(FusionOptions {
                input_scale: scale,
                ..options()
            });
            weight_spread(&b.forward(unit(tokens.clone()), &present))
        };
        let (one, four) = (spread(1.0), spread(4.0));
        assert!(one < 0.05, "unit rows: near uniform weights ({one})");
        assert!(four > 2.0 * one, "scale 4: {four}, scale 1: {one}");
    }

    #[test]
    fn meaformers_weights_are_the_softmax_of_summed_attention_over_root_m_h() {
        let b = block::<NdArray>(FusionOptions {
            outlooker: false,
            conv_ffn: false,
            ffn_activation: FeedForwardActivation::Gelu,
            weight_rule: WeightRule::SumOverScaled,
            ..options()
        });
        let (tokens, present) = inputs();
        let fused = b.forward(tokens, &present);
        let (_, _, w) = crate::ops::to_host(fused.weights.clone());
        // Entity 0 has all five modalities: nothing masked.
        let logits: Vec<f32> = (0..5)
            .map(|k| {
                let received: f32 = (0..2)
                    .flat_map(|h| (0..5).map(move |q| (h, q)))
                    .map(|(h, q)| probability(&fused, 0, h, q, k))
                    .sum();
                received / (5.0f32 * 2.0).sqrt()
            })
            .collect();
        let total: f32 = logits.iter().map(|l| l.exp()).sum();
        for k in 0..5 {
            let want = logits[k].exp() / total;
            assert!(
                (w[k] - want).abs() < 1e-5,
                "weight {k}: {} against {want}",
                w[k]
            );
        }
    }

    #[test]
    fn the_presynergy_switches_decide_what_textual_tokens_see() {
        let (tokens, present) = inputs::<NdArray>();
        for (graph, image) in [(true, true), (false, true), (true, false), (false, false)] {
            let b = block::<NdArray>(FusionOptions {
                graph_presynergy: graph,
                image_presynergy: image,
                ..options()
            });
            let fused = b.forward(tokens.clone(), &present);
            for q in [1, 2, 4] {
                let to_graph = probability(&fused, 0, 0, q, 0);
                let to_image = probability(&fused, 0, 0, q, 3);
                assert_eq!(
                    to_graph > 1e-6,
                    graph,
                    "query {q}, graph {graph}: {to_graph}"
                );
                assert_eq!(
                    to_image > 1e-6,
                    image,
                    "query {q}, image {image}: {to_image}"
                );
            }
            // The graph and image queries always see the textual keys.
            assert!(probability(&fused, 0, 1, 0, 1) > 1e-6);
            assert!(probability(&fused, 0, 1, 3, 2) > 1e-6);
        }
    }

    #[test]
    fn the_image_feed_forward_variants_hold_their_blocks() {
        let full = block::<NdArray>(options()).num_params();
        let without_outlook = block::<NdArray>(FusionOptions {
            outlooker: false,
            ..options()
        })
        .num_params();
        let plain = block::<NdArray>(FusionOptions {
            outlooker: false,
            conv_ffn: false,
            ..options()
        })
        .num_params();
        // Outlook: c -> k weights, c -> c value and output (c = 2), plus a norm of 8.
        assert_eq!(
            full - without_outlook,
            (2 * 3 + 3) + 2 * (2 * 2 + 2) + 2 * 8
        );
        // Conv FFN: c -> 2c, a 3 x 2c kernel, 2c -> c.
        assert_eq!(without_outlook - plain, (2 * 4 + 4) + 3 * 4 + (4 * 2 + 2));
    }

    #[test]
    fn every_parameter_gets_a_gradient() {
        type T = Autodiff<NdArray>;
        let b = block::<T>(options());
        let (tokens, present) = inputs::<T>();
        let fused = b.forward(tokens, &present);
        let weights = fused.weights.clone();
        let loss = fused
            .tokens
            .into_iter()
            .map(|t| t.powi_scalar(2).sum())
            .reduce(|a, b| a + b)
            .unwrap()
            + weights.powi_scalar(2).sum();
        let grads = loss.backward();
        let norms = crate::run::parameter_gradient_norms(&b, &grads);
        assert!(norms.iter().all(|(_, g)| *g > 0.0), "{norms:?}");
    }
}
