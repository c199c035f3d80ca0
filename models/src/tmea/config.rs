//! TMEA's configuration: the paper's defaults (its Appendix C.3) and the ablation
//! switches of its Table 2.

use serde::{Deserialize, Serialize};

use crate::inputs::{MissingImageStandIn, ModalityKind};
use crate::model::ScoreBlock;
use crate::settings::CommonSettings;
use crate::train::{OptimizerKind, OptimizerSpec, TrainPlan};

/// TMEA's hyper-parameters and switches. Stored with every run (inside its settings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TmeaConfig {
    /// Width of every modality feature and of the relation vectors (100).
    pub dim: usize,
    /// Width of the VAEs' shared latent space (64).
    pub latent_dim: usize,
    /// Width of the VAEs' hidden layer (the paper gives two layers each way but not
    /// their width: we use `dim`).
    pub vae_hidden: usize,
    /// Heads of the cross-modal attention (2).
    pub heads: usize,
    /// Modalities in use: `structure` (TransE over the relational triples, the paper's
    /// relational knowledge), one attribute form, and `image`. The attribute forms:
    /// `attribute_abstract` (the alignment-augmented abstract representation: one
    /// sentence of the attributes whose keys align across the graphs), `attribute_text`
    /// (the mean of every statement's embedding: no key alignment or filtering) or
    /// `attribute` (bag of attribute keys: the "w/o abstract representation" ablation).
    pub modalities: Vec<ModalityKind>,
    /// Columns of the bag of attribute keys, when `attribute` is on (1000).
    pub bag_top_k: usize,
    /// Missing modality imputation (off: the input pipeline's stand-in, as the other
    /// papers do: "w/o MMI").
    pub imputation: bool,
    /// What a missing image is in the input, before imputation and instead of it when
    /// imputation is off: `random` (a vector of its own drawn from the known images'
    /// per-dimension normal distribution, as the authors' code, the papers' "w/o MMI"
    /// stand-in) or `neighbour_mean` (the input pipeline of the other models).
    pub stand_in: MissingImageStandIn,
    /// Multi-modal commonality enhancement by cross-modal attention (off: "w/o MCE").
    pub cross_attention: bool,
    /// Weight of each VAE's KL term (0.01; the paper's ELBO has 1, with which the
    /// encoders collapse to the prior on our data: see `imputation`).
    pub kl_weight: f64,
    /// Train the pseudo feature to reconstruct the real one where an entity has it
    /// (AlignScope's addition; off: the paper's losses only).
    pub cross_reconstruction: bool,
    /// λ1, the weight of the orthogonal constraint (1e-2; 0: "w/o L_o").
    pub orthogonal_weight: f64,
    /// λ2, the weight of the latent alignment of the imputation (1e-2; 0: "w/o L_mse").
    pub latent_weight: f64,
    /// Margin γ of the TransE loss (1).
    pub transe_margin: f64,
    /// Relational triples drawn per optimiser step for the TransE loss (5,000, the
    /// paper's batch size), before the swapped copies are added.
    pub transe_batch: usize,
    /// Optimiser steps per epoch, each with every seed pair and its own TransE batch;
    /// 0: the authors' epoch, one step per `transe_batch` triples (⌈triples /
    /// transe_batch⌉, 6 on the demo).
    pub steps_per_epoch: usize,
    /// Margin γ_cl of the contrastive alignment loss (2).
    pub contrastive_margin: f64,
    /// Adam learning rate (1e-3).
    pub learning_rate: f64,
}

impl Default for TmeaConfig {
    fn default() -> Self {
        Self {
            dim: 100,
            latent_dim: 64,
            vae_hidden: 100,
            heads: 2,
            modalities: vec![
                ModalityKind::Structure,
                ModalityKind::Image,
                ModalityKind::AttributeAbstract,
            ],
            bag_top_k: 1000,
            imputation: true,
            stand_in: MissingImageStandIn::Random,
            cross_attention: true,
            kl_weight: 1e-2,
            cross_reconstruction: true,
            orthogonal_weight: 1e-2,
            latent_weight: 1e-2,
            transe_margin: 1.0,
            transe_batch: 5000,
            steps_per_epoch: 0,
            contrastive_margin: 2.0,
            learning_rate: 1e-3,
        }
    }
}

/// The modalities TMEA can read, in the order of its joint embedding (the paper's
/// `e_M = [e_R+, e_I+, e_A+]`).
pub const TOKEN_ORDER: [ModalityKind; 5] = [
    ModalityKind::Structure,
    ModalityKind::Image,
    ModalityKind::AttributeAbstract,
    ModalityKind::AttributeText,
    ModalityKind::Attribute,
];

/// The forms of the attribute modality, of which a run uses one at most.
pub const ATTRIBUTE_FORMS: [ModalityKind; 3] = [
    ModalityKind::AttributeAbstract,
    ModalityKind::AttributeText,
    ModalityKind::Attribute,
];

impl TmeaConfig {
    /// The modalities in use, in the joint embedding's order: one token each.
    pub fn tokens(&self) -> Vec<ModalityKind> {
        TOKEN_ORDER
            .into_iter()
            .filter(|m| self.modalities.contains(m))
            .collect()
    }

    /// The tokens that come from a feature input (all but structure), which the
    /// imputation may fill in.
    pub fn feature_tokens(&self) -> Vec<ModalityKind> {
        self.tokens()
            .into_iter()
            .filter(|m| *m != ModalityKind::Structure)
            .collect()
    }

    /// Optimiser steps per epoch over `triples` relational triples: the setting, or
    /// with 0 one per `transe_batch` triples (at least one).
    pub fn steps_per_epoch(&self, triples: usize) -> usize {
        match self.steps_per_epoch {
            0 => triples.div_ceil(self.transe_batch.max(1)).max(1),
            n => n,
        }
    }

    /// Whether the relational (TransE) token is on.
    pub fn uses_structure(&self) -> bool {
        self.modalities.contains(&ModalityKind::Structure)
    }

    /// Whether imputation runs: switched on, with a feature modality to fill in and
    /// another modality to fill it from.
    pub fn imputes(&self) -> bool {
        self.imputation && !self.feature_tokens().is_empty() && self.tokens().len() >= 2
    }

    /// Whether the cross-modal attention runs (switched on, two tokens or more).
    pub fn attends(&self) -> bool {
        self.cross_attention && self.tokens().len() >= 2
    }

    /// Width of the joint embedding.
    pub fn output_dim(&self) -> usize {
        self.dim * self.tokens().len()
    }

    /// The joint embedding's blocks: one per token. Each enhanced feature is built from
    /// its own modality's values (the attention of the others only selects among them),
    /// so each block is labelled with that modality.
    pub fn score_blocks(&self) -> Vec<ScoreBlock> {
        self.tokens()
            .into_iter()
            .enumerate()
            .map(|(i, kind)| {
                let label = format!("{} (enhanced)", kind.as_str());
                ScoreBlock::new(&label, Some(kind), i * self.dim, self.dim)
            })
            .collect()
    }

    /// Checks what the schema's per-field ranges cannot.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(other) = self.modalities.iter().find(|m| !TOKEN_ORDER.contains(m)) {
            return Err(format!(
                "TMEA does not read the {} modality (it reads structure, one of attribute_abstract, attribute_text and attribute, and image)",
                other.as_str()
            ));
        }
        if self.tokens().is_empty() {
            return Err("at least one of structure, image and an attribute form must be on".into());
        }
        let forms: Vec<&str> = ATTRIBUTE_FORMS
            .iter()
            .filter(|m| self.modalities.contains(m))
            .map(|m| m.as_str())
            .collect();
        if forms.len() > 1 {
            return Err(format!(
                "{} are forms of the same attribute modality: choose one (attribute_abstract is the paper's; attribute_text and attribute are ablations)",
                forms.join(" and ")
            ));
        }
        if !self.dim.is_multiple_of(self.heads) {
            return Err(format!(
                "dim ({}) must be a multiple of heads ({}): each head reads dim / heads columns",
                self.dim, self.heads
            ));
        }
        Ok(())
    }

    /// The trainer's plan: each step over all seed pairs, in one chunk (the per-entity
    /// losses of a step are counted once); the model says how many steps an epoch takes
    /// ([`Self::steps_per_epoch`]).
    pub fn plan(&self, common: &CommonSettings) -> TrainPlan {
        common.plan(
            None,
            None,
            OptimizerSpec {
                kind: OptimizerKind::AdamW {
                    weight_decay: 0.0,
                    epsilon: 1e-8,
                },
                learning_rate: self.learning_rate,
                restart: None,
                warmup_cosine: None,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_joint_embedding_follows_the_papers_order() {
        let c = TmeaConfig::default();
        assert_eq!(
            c.tokens(),
            [
                ModalityKind::Structure,
                ModalityKind::Image,
                ModalityKind::AttributeAbstract
            ]
        );
        assert_eq!(c.output_dim(), 300);
        let blocks = c.score_blocks();
        assert_eq!(blocks[2].columns, 200..300);
        assert!(c.imputes() && c.attends());
    }

    #[test]
    fn an_epoch_is_a_pass_over_the_triples_unless_set() {
        let c = TmeaConfig::default();
        assert_eq!(c.steps_per_epoch(28_500), 6);
        assert_eq!(c.steps_per_epoch(5_000), 1);
        assert_eq!(c.steps_per_epoch(0), 1);
        let fixed = TmeaConfig {
            steps_per_epoch: 2,
            ..Default::default()
        };
        assert_eq!(fixed.steps_per_epoch(28_500), 2);
    }

    #[test]
    fn both_attribute_forms_or_an_odd_head_split_are_refused() {
        for pair in [
            [ModalityKind::AttributeText, ModalityKind::Attribute],
            [ModalityKind::AttributeAbstract, ModalityKind::AttributeText],
        ] {
            let both = TmeaConfig {
                modalities: pair.to_vec(),
                ..Default::default()
            };
            assert!(both.validate().unwrap_err().contains("choose one"));
        }
        let odd = TmeaConfig {
            heads: 3,
            ..Default::default()
        };
        assert!(odd.validate().unwrap_err().contains("multiple of heads"));
        let relation = TmeaConfig {
            modalities: vec![ModalityKind::Relation],
            ..Default::default()
        };
        assert!(relation.validate().unwrap_err().contains("relation"));
    }
}
