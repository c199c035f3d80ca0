//! EVA's knobs, with the authors' defaults.

use serde::{Deserialize, Serialize};

use crate::inputs::ModalityKind;
use crate::registry::chosen_in_order;
use crate::settings::{AdamWSettings, CommonSettings};
use crate::train::TrainPlan;

/// The modalities EVA can read, in the order of its joint embedding.
pub const MODALITY_ORDER: [ModalityKind; 4] = [
    ModalityKind::Structure,
    ModalityKind::Relation,
    ModalityKind::Attribute,
    ModalityKind::Image,
];

/// EVA's hyper-parameters. Stored with every run (inside its settings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EvaConfig {
    /// Width of the learned entity table and of the GCN's hidden layer (400).
    pub structure_hidden: usize,
    /// Width of the GCN's output (200).
    pub structure_dim: usize,
    /// Width of the relation embedding (100).
    pub relation_dim: usize,
    /// Width of the attribute embedding (100).
    pub attribute_dim: usize,
    /// Width of the image embedding (200).
    pub image_dim: usize,
    /// Modalities in use (ablation "w/o X" removes one).
    pub modalities: Vec<ModalityKind>,
    /// Columns of the bags of relations and attributes (1000).
    pub bag_top_k: usize,
    /// Scale α of the NCA loss on the structure embedding (5).
    pub structure_alpha: f64,
    /// Scale α of the NCA loss on the other embeddings and the joint one (15).
    pub alpha: f64,
    /// Weight β of the seed pair's own similarity in the NCA loss (10).
    pub beta: f64,
    /// The joint embedding's loss reads detached modality embeddings, so it trains only
    /// the modality weights (the authors' code); off: it trains the encoders too.
    pub detach_joint: bool,
    /// Seed pairs per loss chunk (7,500); the chunks of an epoch make one step.
    pub chunk_size: usize,
    /// The unsupervised setting: visual pivots (image-similar pairs) replace the seed
    /// pairs (off: train on the split's seeds).
    pub unsupervised: bool,
    /// How many visual pivots to find in the unsupervised setting (6,000, the authors'
    /// DBP15K script; fewer where fewer entities have images).
    pub pivots: usize,
    /// AdamW and the code's restart after epoch 500.
    #[serde(flatten)]
    pub optimizer: AdamWSettings,
}

impl Default for EvaConfig {
    fn default() -> Self {
        Self {
            structure_hidden: 400,
            structure_dim: 200,
            relation_dim: 100,
            attribute_dim: 100,
            image_dim: 200,
            modalities: MODALITY_ORDER.to_vec(),
            bag_top_k: 1000,
            structure_alpha: 5.0,
            alpha: 15.0,
            beta: 10.0,
            detach_joint: true,
            chunk_size: 7500,
            unsupervised: false,
            pivots: 6000,
            optimizer: AdamWSettings::restarting_after(500),
        }
    }
}

impl EvaConfig {
    /// The modalities in use, in joint-embedding order.
    pub fn used(&self) -> Vec<ModalityKind> {
        chosen_in_order(&MODALITY_ORDER, &self.modalities).unwrap_or_default()
    }

    /// The embedding width of modality `kind`.
    pub fn width(&self, kind: ModalityKind) -> usize {
        match kind {
            ModalityKind::Structure => self.structure_dim,
            ModalityKind::Relation => self.relation_dim,
            ModalityKind::Attribute => self.attribute_dim,
            _ => self.image_dim,
        }
    }

    /// Checks the settings together.
    pub fn validate(&self) -> Result<(), String> {
        chosen_in_order(&MODALITY_ORDER, &self.modalities)?;
        if self.unsupervised && !self.modalities.contains(&ModalityKind::Image) {
            return Err(
                "the unsupervised setting finds its seed pairs from images: keep `image` in `modalities` or turn `unsupervised` off"
                    .into(),
            );
        }
        Ok(())
    }

    /// The trainer's plan: one forward pass and one AdamW step per epoch over all seed
    /// pairs, in chunks of `chunk_size`; in the unsupervised setting the seed pairs are
    /// `pivots` visual pivots.
    pub fn plan(&self, common: &CommonSettings) -> TrainPlan {
        TrainPlan {
            visual_pivots: self.unsupervised.then_some(self.pivots),
            ..common.plan(None, Some(self.chunk_size), self.optimizer.spec())
        }
    }
}
