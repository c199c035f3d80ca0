//! LoginMEA's configuration: the paper's defaults (as the authors' code sets them) and
//! the ablation switches of the paper's table.

use serde::{Deserialize, Serialize};

use crate::inputs::ModalityKind;
use crate::model::ScoreBlock;
use crate::settings::{AdamWSettings, CommonSettings};
use crate::train::TrainPlan;

/// How the modality embeddings are fused before the graph layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FusionKind {
    /// Low-rank interactive fusion (LMF, Liu et al. 2018) — the paper's module.
    LowRank,
    /// Ablation "w/o low-rank": plain concatenation of the (weighted) embeddings.
    Concat,
}

/// The graph layer of both streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GraphLayerKind {
    /// Relational reflection graph attention (RREA) — the paper's module.
    Reflection,
    /// Ablation "GAT": neighbours not reflected; attention from the two entities.
    Gat,
}

/// Which directions the contrastive loss uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossDirection {
    /// Left to right only, as the authors' code does.
    LeftToRight,
    /// The mean of left-to-right and right-to-left.
    Both,
}

/// LoginMEA's hyper-parameters and switches. Stored with every run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoginMeaConfig {
    /// Width of entity, relation and fused embeddings (300).
    pub hidden: usize,
    /// Width of each modality projection (300 in the authors' code; the paper's text
    /// says 100 — we follow the code, whose numbers MODELS.md reports).
    pub modality_dim: usize,
    /// Rank of the low-rank fusion (8).
    pub fusion_rank: usize,
    /// Graph layers per stream (2).
    pub graph_layers: usize,
    /// Temperature of the contrastive loss (0.1).
    pub temperature: f64,
    /// Directions of the contrastive loss.
    pub loss_direction: LossDirection,
    /// Entity-specific adaptive modality weights (off: ablation "w/o adaptive weights",
    /// every modality weighted 1).
    pub adaptive_weights: bool,
    /// Fusion module.
    pub fusion: FusionKind,
    /// Graph layer.
    pub graph_layer: GraphLayerKind,
    /// Modalities in use (ablation "w/o X" removes one). Structure is its own stream;
    /// the others are fused.
    pub modalities: Vec<ModalityKind>,
    /// Columns of the bag-of-relations / bag-of-attributes features (1000).
    pub bag_top_k: usize,
    /// Seed pairs per loss chunk (3,500); the chunk losses of an epoch are summed into
    /// its one optimiser step.
    pub chunk_size: usize,
    /// AdamW and its restart after epoch 50 (the authors' code).
    #[serde(flatten)]
    pub optimizer: AdamWSettings,
}

impl Default for LoginMeaConfig {
    fn default() -> Self {
        Self {
            hidden: 300,
            modality_dim: 300,
            fusion_rank: 8,
            graph_layers: 2,
            temperature: 0.1,
            loss_direction: LossDirection::LeftToRight,
            adaptive_weights: true,
            fusion: FusionKind::LowRank,
            graph_layer: GraphLayerKind::Reflection,
            modalities: vec![
                ModalityKind::Structure,
                ModalityKind::Relation,
                ModalityKind::Attribute,
                ModalityKind::Image,
            ],
            bag_top_k: 1000,
            chunk_size: 3500,
            optimizer: AdamWSettings::restarting_after(50),
        }
    }
}

impl LoginMeaConfig {
    /// The fused (non-structure) modalities in use, in a fixed order. Attribute text and
    /// name (sentence embeddings) are AlignScope's extension, off by default.
    pub fn fused_modalities(&self) -> Vec<ModalityKind> {
        [
            ModalityKind::Relation,
            ModalityKind::Attribute,
            ModalityKind::AttributeText,
            ModalityKind::Name,
            ModalityKind::Image,
        ]
        .into_iter()
        .filter(|m| self.modalities.contains(m))
        .collect()
    }

    /// Whether the structure stream is on.
    pub fn uses_structure(&self) -> bool {
        self.modalities.contains(&ModalityKind::Structure)
    }

    /// Width of the fused vector entering the joint stream's graph layers.
    pub fn fused_dim(&self) -> usize {
        match self.fusion {
            FusionKind::LowRank => self.hidden,
            FusionKind::Concat => self.modality_dim * self.fused_modalities().len(),
        }
    }

    /// Width of the final embedding.
    pub fn output_dim(&self) -> usize {
        let structure = if self.uses_structure() {
            self.hidden * (self.graph_layers + 1)
        } else {
            0
        };
        let fused = self.fused_modalities().len();
        let joint = if fused == 0 {
            0
        } else {
            self.modality_dim * fused + self.fused_dim() * self.graph_layers
        };
        structure + joint
    }

    /// The final embedding's blocks: the structure stream, each fused modality's
    /// weighted embedding (layer 0 of the joint stream: one modality each), then the joint
    /// stream's graph layers, which mix the fused modalities.
    pub fn score_blocks(&self) -> Vec<ScoreBlock> {
        let mut blocks = Vec::new();
        let mut at = 0;
        let mut push = |label: &str, modality, width| {
            blocks.push(ScoreBlock::new(label, modality, at, width));
            at += width;
        };
        if self.uses_structure() {
            push(
                "structure stream",
                Some(ModalityKind::Structure),
                self.hidden * (self.graph_layers + 1),
            );
        }
        let fused = self.fused_modalities();
        for &kind in &fused {
            push(kind.as_str(), Some(kind), self.modality_dim);
        }
        if !fused.is_empty() {
            push(
                "joint graph layers",
                None,
                self.fused_dim() * self.graph_layers,
            );
        }
        blocks
    }

    /// Checks what the schema's per-field ranges cannot: that the modalities left on
    /// make a model.
    pub fn validate(&self) -> Result<(), String> {
        if self.output_dim() == 0 {
            return Err("at least one modality must be on".into());
        }
        Ok(())
    }

    /// The trainer's plan: the authors' schedule (one AdamW step per epoch over all seed
    /// pairs in chunks, a fresh AdamW every epoch after `restart_after`).
    pub fn plan(&self, common: &CommonSettings) -> TrainPlan {
        common.plan(None, Some(self.chunk_size), self.optimizer.spec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_output_is_2400_wide_as_the_authors_code() {
        assert_eq!(LoginMeaConfig::default().output_dim(), 2400);
    }

    #[test]
    fn config_round_trips_through_json() {
        let c = LoginMeaConfig {
            fusion: FusionKind::Concat,
            ..Default::default()
        };
        let text = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<LoginMeaConfig>(&text).unwrap(), c);
        assert!(serde_json::from_str::<LoginMeaConfig>("{\"hiden\": 3}").is_err());
    }
}
