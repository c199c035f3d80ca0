//! MEAformer's knobs, with the defaults of the authors' non-iterative DBP15K script.

use serde::{Deserialize, Serialize};

use crate::inputs::ModalityKind;
use crate::mpsea::fusion::{FeedForwardActivation, FusionOptions, WeightRule};
use crate::registry::chosen_in_order;
use crate::settings::CommonSettings;
use crate::train::{OptimizerSpec, TrainPlan, WarmupCosine};

/// The modalities MEAformer can read, in the order of its tokens and joint embedding:
/// MCLEA's, whose encoders it shares.
pub use crate::mclea::MODALITY_ORDER;

/// MEAformer's hyper-parameters. Stored with every run (inside its settings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MeaformerConfig {
    /// Width of every modality embedding, the entity table, the GAT and the
    /// transformer (300).
    pub dim: usize,
    /// Layers of the structure GAT (2).
    pub gat_layers: usize,
    /// Heads of each GAT layer, averaged (2).
    pub gat_heads: usize,
    /// Attention heads of the meta-modality hybrid (1).
    pub heads: usize,
    /// Hidden width of the hybrid's feed-forward layer (400).
    pub ffn_hidden: usize,
    /// Modalities in use; the default leaves out entity names (the paper's "w/o surface"
    /// setting, the one LoginMEA's tables compare with).
    pub modalities: Vec<ModalityKind>,
    /// Columns of the bags of relations and attributes (1000).
    pub bag_top_k: usize,
    /// Temperature of the contrastive losses (0.1).
    pub temperature: f64,
    /// Seed pairs per optimiser step (3,500).
    pub batch_size: usize,
    /// AdamW learning rate at the end of the warm-up (5e-4).
    pub learning_rate: f64,
    /// AdamW weight decay (1e-4, the non-iterative script's).
    pub weight_decay: f64,
    /// Share of the epochs over which the learning rate warms up before its cosine decay
    /// (0.15).
    pub warmup_share: f64,
}

impl Default for MeaformerConfig {
    fn default() -> Self {
        Self {
            dim: 300,
            gat_layers: 2,
            gat_heads: 2,
            heads: 1,
            ffn_hidden: 400,
            modalities: MODALITY_ORDER[..4].to_vec(),
            bag_top_k: 1000,
            temperature: 0.1,
            batch_size: 3500,
            learning_rate: 5e-4,
            weight_decay: 1e-4,
            warmup_share: 0.15,
        }
    }
}

impl MeaformerConfig {
    /// The modalities in use, in token order.
    pub fn used(&self) -> Vec<ModalityKind> {
        chosen_in_order(&MODALITY_ORDER, &self.modalities).unwrap_or_default()
    }

    /// Checks the settings together.
    pub fn validate(&self) -> Result<(), String> {
        chosen_in_order(&MODALITY_ORDER, &self.modalities)?;
        if !self.dim.is_multiple_of(self.heads) {
            return Err(format!(
                "dim ({}) must be a multiple of heads ({})",
                self.dim, self.heads
            ));
        }
        Ok(())
    }

    /// The meta-modality hybrid: MPSEA's fusion block with every token seeing every
    /// other, a GELU feed-forward layer and weights from the attention summed over
    /// queries.
    pub fn fusion_options(&self) -> FusionOptions {
        FusionOptions {
            heads: self.heads,
            input_scale: 1.0,
            graph_presynergy: true,
            image_presynergy: true,
            outlooker: false,
            conv_ffn: false,
            positions: 1,
            ffn_hidden: self.ffn_hidden,
            ffn_activation: FeedForwardActivation::Gelu,
            weight_rule: WeightRule::SumOverScaled,
        }
    }

    /// The trainer's plan: steps of `batch_size` seed pairs, AdamW with a linear
    /// warm-up over `warmup_share` of the epochs and a cosine decay to 0 at the end.
    pub fn plan(&self, common: &CommonSettings) -> TrainPlan {
        let warmup_epochs = (self.warmup_share * common.epochs as f64).round() as usize;
        common.plan(
            Some(self.batch_size),
            None,
            OptimizerSpec {
                warmup_cosine: Some(WarmupCosine {
                    warmup_epochs,
                    epochs: common.epochs,
                }),
                ..OptimizerSpec::adam_w(self.learning_rate, self.weight_decay, 1e-8)
            },
        )
    }
}
