//! MCLEA's knobs, with the authors' defaults.

use serde::{Deserialize, Serialize};

use crate::inputs::ModalityKind;
use crate::registry::chosen_in_order;
use crate::settings::{AdamWSettings, CommonSettings};
use crate::train::TrainPlan;

/// The modalities MCLEA can read, in the order of its joint embedding.
pub const MODALITY_ORDER: [ModalityKind; 5] = [
    ModalityKind::Structure,
    ModalityKind::Relation,
    ModalityKind::Attribute,
    ModalityKind::Image,
    ModalityKind::Name,
];

/// MCLEA's hyper-parameters. Stored with every run (inside its settings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct McleaConfig {
    /// Width of the learned entity table and of the structure GAT (300).
    pub structure_dim: usize,
    /// Layers of the structure GAT (2).
    pub gat_layers: usize,
    /// Heads of each GAT layer, averaged (2).
    pub gat_heads: usize,
    /// Width of the relation, attribute, image and name embeddings (100).
    pub modality_dim: usize,
    /// Modalities in use; the default leaves out entity names (the authors use them on
    /// DBP15K; MEAformer's and LoginMEA's tables compare without).
    pub modalities: Vec<ModalityKind>,
    /// Columns of the bags of relations and attributes (1000).
    pub bag_top_k: usize,
    /// Temperature τ of the intra-modal contrastive loss (0.1).
    pub temperature: f64,
    /// Temperature τ₂ of the inter-modal alignment loss (4).
    pub alignment_temperature: f64,
    /// Weight of the inter-modal alignment terms (0.1), each term being its uncertainty
    /// weighting of `0.1 · KL` (the authors' code scales the KL inside the loss too).
    pub alignment_weight: f64,
    /// Seed pairs per loss chunk (512); the chunks of an epoch make one step.
    pub chunk_size: usize,
    /// AdamW and the code's restart after epoch 500.
    #[serde(flatten)]
    pub optimizer: AdamWSettings,
}

impl Default for McleaConfig {
    fn default() -> Self {
        Self {
            structure_dim: 300,
            gat_layers: 2,
            gat_heads: 2,
            modality_dim: 100,
            modalities: MODALITY_ORDER[..4].to_vec(),
            bag_top_k: 1000,
            temperature: 0.1,
            alignment_temperature: 4.0,
            alignment_weight: 0.1,
            chunk_size: 512,
            optimizer: AdamWSettings::restarting_after(500),
        }
    }
}

impl McleaConfig {
    /// The modalities in use, in joint-embedding order.
    pub fn used(&self) -> Vec<ModalityKind> {
        chosen_in_order(&MODALITY_ORDER, &self.modalities).unwrap_or_default()
    }

    /// Checks the settings together.
    pub fn validate(&self) -> Result<(), String> {
        chosen_in_order(&MODALITY_ORDER, &self.modalities)?;
        Ok(())
    }

    /// The trainer's plan: one forward pass and one AdamW step per epoch over all seed
    /// pairs, in chunks of `chunk_size` (the authors' code accumulates its batches'
    /// gradients into one step).
    pub fn plan(&self, common: &CommonSettings) -> TrainPlan {
        common.plan(None, Some(self.chunk_size), self.optimizer.spec())
    }
}
