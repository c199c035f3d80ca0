//! MPSEA's configuration: the paper's stated settings (§4.1.2) and the switches of its
//! ablation tables (Tables 5 and 6).

use serde::{Deserialize, Serialize};

use super::fusion::{FeedForwardActivation, FusionOptions, TokenRole, WeightRule};
use crate::inputs::ModalityKind;
use crate::model::ScoreBlock;
use crate::settings::CommonSettings;
use crate::train::{OptimizerSpec, TrainPlan};

/// MPSEA's hyper-parameters and switches. Stored with every run (inside its settings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MpseaConfig {
    /// Width of every modality embedding and of the GAT's hidden layer (300).
    pub dim: usize,
    /// Heads of the fusion transformer's attention (5).
    pub heads: usize,
    /// Heads of the structure GAT (2).
    pub gat_heads: usize,
    /// Layers of the structure GAT (2).
    pub gat_layers: usize,
    /// A full linear map per GAT head (the paper's multi-weighted GAT); off: a diagonal
    /// one, as the MCLEA/MEAformer code ("repl. GAT").
    pub multi_weighted_gat: bool,
    /// Modalities in use: `structure`, `relation`, `attribute` (bags of words),
    /// `image` and `number`.
    pub modalities: Vec<ModalityKind>,
    /// Columns of the bags of relations and attributes (1000).
    pub bag_top_k: usize,
    /// Hidden width of the numerical embedding (64; the paper does not say).
    pub number_hidden: usize,
    /// Textual tokens attend to the graph token (off: "w/o MMPF-gph").
    pub graph_presynergy: bool,
    /// Textual tokens attend to the image token (off: "w/o MMPF-img").
    pub image_presynergy: bool,
    /// What the unit modality vectors are multiplied by on their way into the fusion
    /// transformer (1). Larger values sharpen its attention, and so the cross-modal
    /// weights, from the start; on the demo that lets the structure token take the
    /// weight and overfit (the paper does not say how its tokens are scaled).
    pub fusion_input_scale: f64,
    /// Outlooker attention in the image token's feed-forward layer (off: "w/o OA").
    pub outlooker: bool,
    /// The convolution-enhanced feed-forward layer for the image token (off together
    /// with `outlooker`: "w/o OC").
    pub conv_ffn: bool,
    /// Positions an image token is read as by the Outlooker and the convolution (10;
    /// `dim` must be a multiple).
    pub image_positions: usize,
    /// The cross-modal deep perception reinforcement learning (off: "w/o CPRL"; early
    /// and late fusion then weigh the same).
    pub reinforcement: bool,
    /// Weight of the mutual-information term: the loss maximises `mi_weight` times the
    /// InfoNCE bound between the joint embedding and each modality (0.1).
    pub mi_weight: f64,
    /// The reward's threshold τ: a reward is `cos(J, R) + mi − τ`, positive (a reward)
    /// above it and negative (a penalty) below (0.5).
    pub reward_threshold: f64,
    /// Weight of the policy's entropy bonus (0.01).
    pub entropy_weight: f64,
    /// Hidden units of the policy network (64).
    pub policy_hidden: usize,
    /// Width the mutual-information critic compares in (64).
    pub critic_dim: usize,
    /// Temperature of the contrastive losses (0.1).
    pub temperature: f64,
    /// Seed pairs per optimiser step (3,500).
    pub batch_size: usize,
    /// AdamW learning rate (5e-4).
    pub learning_rate: f64,
    /// AdamW weight decay (1e-2; the paper's value did not survive in our copy).
    pub weight_decay: f64,
}

impl Default for MpseaConfig {
    fn default() -> Self {
        Self {
            dim: 300,
            heads: 5,
            gat_heads: 2,
            gat_layers: 2,
            multi_weighted_gat: true,
            modalities: TOKEN_ORDER.to_vec(),
            bag_top_k: 1000,
            number_hidden: 64,
            graph_presynergy: true,
            image_presynergy: true,
            fusion_input_scale: 1.0,
            outlooker: true,
            conv_ffn: true,
            image_positions: 10,
            reinforcement: true,
            mi_weight: 0.1,
            reward_threshold: 0.5,
            entropy_weight: 0.01,
            policy_hidden: 64,
            critic_dim: 64,
            temperature: 0.1,
            batch_size: 3500,
            learning_rate: 5e-4,
            weight_decay: 1e-2,
        }
    }
}

/// The modalities MPSEA reads, in the order of its tokens and joint embedding.
pub const TOKEN_ORDER: [ModalityKind; 5] = [
    ModalityKind::Structure,
    ModalityKind::Relation,
    ModalityKind::Attribute,
    ModalityKind::Image,
    ModalityKind::Number,
];

/// The level mixes the policy chooses among: the share of late fusion in the joint
/// embedding (early fusion has the rest).
pub const LEVELS: [f64; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];

impl MpseaConfig {
    /// The modalities in use, in token order.
    pub fn tokens(&self) -> Vec<ModalityKind> {
        TOKEN_ORDER
            .into_iter()
            .filter(|m| self.modalities.contains(m))
            .collect()
    }

    /// Each token's role in the pre-synergy.
    pub fn roles(&self) -> Vec<TokenRole> {
        self.tokens()
            .into_iter()
            .map(|m| match m {
                ModalityKind::Structure => TokenRole::Graph,
                ModalityKind::Image => TokenRole::Visual,
                _ => TokenRole::Textual,
            })
            .collect()
    }

    /// The fusion block's switches.
    pub fn fusion_options(&self) -> FusionOptions {
        FusionOptions {
            heads: self.heads,
            input_scale: self.fusion_input_scale,
            graph_presynergy: self.graph_presynergy,
            image_presynergy: self.image_presynergy,
            outlooker: self.outlooker,
            conv_ffn: self.conv_ffn,
            positions: self.image_positions,
            ffn_hidden: 2 * self.dim,
            ffn_activation: FeedForwardActivation::Relu,
            weight_rule: WeightRule::MeanOverQueries,
        }
    }

    /// Width of the joint embedding: early and late fusion, one block per token each.
    pub fn output_dim(&self) -> usize {
        2 * self.dim * self.tokens().len()
    }

    /// The joint embedding's blocks: early fusion's tokens, then late fusion's.
    pub fn score_blocks(&self) -> Vec<ScoreBlock> {
        let tokens = self.tokens();
        let m = tokens.len();
        ["early", "late"]
            .into_iter()
            .enumerate()
            .flat_map(|(level, name)| {
                tokens.iter().enumerate().map(move |(i, &kind)| {
                    let label = format!("{} ({name} fusion)", kind.as_str());
                    ScoreBlock::new(&label, Some(kind), (level * m + i) * self.dim, self.dim)
                })
            })
            .collect()
    }

    /// Checks what the schema's per-field ranges cannot.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(other) = self.modalities.iter().find(|m| !TOKEN_ORDER.contains(m)) {
            return Err(format!(
                "MPSEA does not read the {} modality (it reads structure, relation, attribute, image and number)",
                other.as_str()
            ));
        }
        if self.tokens().is_empty() {
            return Err("at least one modality must be on".into());
        }
        if !(self.fusion_input_scale.is_finite() && self.fusion_input_scale > 0.0) {
            return Err(format!(
                "fusion_input_scale ({}) must be a positive number",
                self.fusion_input_scale
            ));
        }
        if !self.dim.is_multiple_of(self.heads) {
            return Err(format!(
                "dim ({}) must be a multiple of heads ({}): each head reads dim / heads columns",
                self.dim, self.heads
            ));
        }
        if !self.dim.is_multiple_of(self.image_positions) {
            return Err(format!(
                "dim ({}) must be a multiple of image_positions ({}): the image token is read as that many positions of dim / image_positions channels",
                self.dim, self.image_positions
            ));
        }
        Ok(())
    }

    /// The trainer's plan: AdamW over batches of seed pairs.
    pub fn plan(&self, common: &CommonSettings) -> TrainPlan {
        common.plan(
            Some(self.batch_size),
            None,
            OptimizerSpec::adam_w(self.learning_rate, self.weight_decay, 1e-8),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_early_then_late_fusion() {
        let c = MpseaConfig::default();
        assert_eq!(c.output_dim(), 3000);
        let blocks = c.score_blocks();
        assert_eq!(blocks.len(), 10);
        assert_eq!(blocks[0].label, "structure (early fusion)");
        assert_eq!(blocks[5].label, "structure (late fusion)");
        assert_eq!(blocks[9].columns, 2700..3000);
        assert_eq!(
            c.roles(),
            [
                TokenRole::Graph,
                TokenRole::Textual,
                TokenRole::Textual,
                TokenRole::Visual,
                TokenRole::Textual
            ]
        );
    }

    #[test]
    fn odd_splits_and_foreign_modalities_are_refused() {
        let odd = MpseaConfig {
            heads: 7,
            ..Default::default()
        };
        assert!(odd.validate().unwrap_err().contains("multiple of heads"));
        let positions = MpseaConfig {
            image_positions: 7,
            ..Default::default()
        };
        assert!(
            positions
                .validate()
                .unwrap_err()
                .contains("image_positions")
        );
        let text = MpseaConfig {
            modalities: vec![ModalityKind::AttributeText],
            ..Default::default()
        };
        assert!(text.validate().unwrap_err().contains("attribute_text"));
    }
}
