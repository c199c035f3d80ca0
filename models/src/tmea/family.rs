//! TMEA's registry entry: its knobs (the paper's defaults), the ablations of its Table 2,
//! its deviations, and how it trains and evaluates on any device.

use serde_json::{Value, json};

use super::config::{ATTRIBUTE_FORMS, TmeaConfig};
use crate::inputs::{MissingImageStandIn, ModalityKind};
use crate::registry::{
    InputNeeds, ModelFamily, ModelInfo, ablation, family_device_methods, family_info_and_check,
};
use crate::schema::{FieldDef, FieldGroup, SettingError, Settings, settings_of};
use crate::settings::{CommonSettings, SimilarityChoice, model_part, model_schema};
use crate::train::TrainPlan;

/// The registry id.
pub const ID: &str = "tmea";

/// TMEA in the registry.
pub struct Family;

fn fields() -> Vec<FieldDef> {
    use FieldGroup::{Loss, Model, Training};
    vec![
        FieldDef::int("dim", Model, "Width of every modality feature and relation vector.")
            .range(Some(2.0), Some(4096.0)),
        FieldDef::int("latent_dim", Model, "Width of the imputation VAEs' shared latent space.")
            .range(Some(1.0), Some(4096.0)),
        FieldDef::int("vae_hidden", Model, "Width of the VAEs' hidden layer.")
            .range(Some(1.0), Some(4096.0)),
        FieldDef::int("heads", Model, "Heads of the cross-modal attention; dim must be a multiple of it.")
            .range(Some(1.0), Some(64.0)),
        FieldDef::list(
            "modalities",
            Model,
            "Modalities the model uses: structure (TransE over the triples), image, and one attribute form: attribute_abstract (the abstract representation: a sentence of the attributes whose keys align across the graphs), attribute_text (every statement, no key alignment) or attribute (bag of attribute keys, the \"w/o abstract representation\" ablation).",
            &["structure", "image", "attribute_abstract", "attribute_text", "attribute"],
        ),
        FieldDef::int(
            "bag_top_k",
            Model,
            "How many of the most frequent attribute keys the bag of attributes keeps (with attribute on).",
        )
        .range(Some(1.0), Some(100_000.0)),
        FieldDef::bool(
            "imputation",
            Model,
            "Fill in missing images and attributes with VAE pseudo features (off: missing images keep their stand-in, missing attributes zeros).",
        ),
        FieldDef::choice(
            "stand_in",
            Model,
            "What a missing image is before imputation (and instead of it, with imputation off): random, a vector of its own drawn from the known images' per-dimension distribution (the papers'); neighbour_mean, the mean of its neighbours' images (the input pipeline of the other models).",
            &["random", "neighbour_mean"],
        ),
        FieldDef::bool(
            "cross_attention",
            Model,
            "Enhance each modality with what the others share with it, by cross-modal attention.",
        ),
        FieldDef::float(
            "kl_weight",
            Loss,
            "Weight of the imputation VAEs' KL term (1 is the paper's plain ELBO, with which the VAEs collapse to one pseudo feature for everyone).",
        )
        .range(Some(0.0), Some(100.0)),
        FieldDef::bool(
            "cross_reconstruction",
            Loss,
            "Train each pseudo feature to reconstruct the real one where the entity has it (AlignScope's addition to the paper's losses).",
        ),
        FieldDef::float(
            "orthogonal_weight",
            Loss,
            "λ1, weight of the orthogonal constraint of the commonality enhancement (0 switches it off).",
        )
        .range(Some(0.0), Some(100.0)),
        FieldDef::float(
            "latent_weight",
            Loss,
            "λ2, weight of the latent alignment of the imputation VAEs (0 switches it off).",
        )
        .range(Some(0.0), Some(100.0)),
        FieldDef::float("transe_margin", Loss, "Margin of the TransE loss.")
            .range(Some(0.0), Some(100.0)),
        FieldDef::int(
            "transe_batch",
            Training,
            "Relational triples drawn per step for the TransE loss (swapped copies for seed pairs come on top).",
        )
        .range(Some(1.0), Some(10_000_000.0)),
        FieldDef::int(
            "steps_per_epoch",
            Training,
            "Optimiser steps per epoch, each with every seed pair and its own TransE batch; 0: the authors' epoch, one step per transe_batch triples.",
        )
        .range(Some(0.0), Some(100_000.0)),
        FieldDef::float(
            "contrastive_margin",
            Loss,
            "Margin γ_cl the similarity of a seed pair is pushed towards in the contrastive loss.",
        )
        .range(Some(0.0), Some(100.0)),
        FieldDef::float("learning_rate", Training, "Adam learning rate.")
            .range(Some(0.0), Some(1.0)),
    ]
}

/// The paper's schedule: Adam, cosine ranking, bi-directional iteration on.
fn paper_schedule() -> CommonSettings {
    CommonSettings {
        epochs: 600,
        eval_every: 50,
        similarity: SimilarityChoice::Cosine,
        iterative: true,
        iterative_start: 100,
        iterative_every: 100,
        iterative_window: 100,
        ..CommonSettings::default()
    }
}

fn modalities(list: &[&str]) -> Value {
    json!(list)
}

fn info() -> ModelInfo {
    ModelInfo {
        id: ID.into(),
        name: "TMEA".into(),
        citation: "Chen et al., \"Tackling Uncertain Correspondences for Multi-Modal Entity Alignment\", NeurIPS 2024".into(),
        summary: "Encodes relations with TransE, attributes as one sentence of those whose keys align across the graphs, and images; imputes missing images and attributes with VAEs in a shared latent space, and lets each modality borrow what the others share with it through cross-modal attention kept apart by an orthogonal constraint.".into(),
        modalities: vec![
            ModalityKind::Structure,
            ModalityKind::Image,
            ModalityKind::AttributeAbstract,
            ModalityKind::AttributeText,
            ModalityKind::Attribute,
        ],
        config: model_schema(ID, fields(), &TmeaConfig::default(), &paper_schedule()),
        ablations: vec![
            ablation("w/o MMI (random stand-in for missing images)", &[("imputation", false.into())]),
            ablation(
                "w/o MMI, neighbour-mean stand-in",
                &[("imputation", false.into()), ("stand_in", "neighbour_mean".into())],
            ),
            ablation("w/o MCE (no cross-modal attention)", &[("cross_attention", false.into())]),
            ablation("w/o L_o", &[("orthogonal_weight", 0.0.into())]),
            ablation("w/o L_mse", &[("latent_weight", 0.0.into())]),
            ablation(
                "w/o AP (bag of attributes)",
                &[("modalities", modalities(&["structure", "image", "attribute"]))],
            ),
            ablation(
                "w/o key alignment (every statement)",
                &[("modalities", modalities(&["structure", "image", "attribute_text"]))],
            ),
            ablation("w/o V", &[("modalities", modalities(&["structure", "attribute_abstract"]))]),
            ablation("w/o A", &[("modalities", modalities(&["structure", "image"]))]),
            ablation("w/o R", &[("modalities", modalities(&["image", "attribute_abstract"]))]),
            ablation("w/o IT", &[("iterative", false.into())]),
        ],
        deviations: vec![
            "abstract representation without an LLM: the paper asks GPT-3.5 which attribute keys of the two graphs mean the same; here a key both graphs use aligns with itself and the others align by mutual best cosine similarity (at least 0.6) of their words' all-MiniLM-L6-v2 embeddings. As in the paper, attributes without a counterpart are left out and the rest written as \"a1 is v1, a2 is v2, …\" (an aligned right key in its left counterpart's words); the sentence is embedded by all-MiniLM-L6-v2 (mean pooling over its 256 first tokens), not BERT".into(),
            "visual features from AlignScope's image encoder (EfficientNet-Lite0) or the dataset's feature files, not a ViT".into(),
            "cross-modal attention: each modality's token attends over all of the entity's modality tokens, itself included (the paper's attention has a single key token, so its softmax is 1); the attention output has no bias, so it splits exactly into one piece per modality".into(),
            "an epoch is ⌈triples / 5,000⌉ optimiser steps, as the authors' epoch (the paper does not say); each step takes the contrastive loss over all seed pairs plus TransE over 5,000 triples drawn with replacement, with their swapped copies (the authors' code shuffles the triples and walks through them)".into(),
            "the contrastive loss's similarity is the cosine, as the paper writes it (the authors' code takes the dot product of the concatenated features)".into(),
            "the uni-modal contrastive terms read the features before imputation, as the authors' code does (the paper does not say)".into(),
            "pseudo seeds of the iteration (mutual nearest neighbours among unaligned entities, by the trainer) weigh as much as given seeds (the authors' code weighs their loss by 0.1)".into(),
            "imputation: the VAEs' KL term weighted 0.01 and a cross-reconstruction loss (the pseudo feature against the real one where the entity has it) added; with the paper's plain ELBO the VAEs collapsed to one pseudo feature for every entity and imputation lost to the stand-in (`--set kl_weight=1 --set cross_reconstruction=false` is the paper's); the source VAE's own ELBO reads its input g_t detached, so the source projection is trained by the latent alignment, the cross-reconstruction and the alignment loss, not by reconstructing itself (through that ELBO g_t shrank towards a constant on the demo)".into(),
            "VAE losses: per-entity ½‖x − x̂‖² + KL, averaged over the entities that have every feature modality; latents aligned and decoded at their means".into(),
            "parameters are initialised from the run seed with our own generator (Xavier normal, as the paper), not PyTorch's RNG".into(),
        ],
        modality_weights: true,
        quick: settings_of(&[
            ("dim", json!(32)),
            ("latent_dim", json!(16)),
            ("vae_hidden", json!(32)),
            ("bag_top_k", json!(50)),
            ("transe_batch", json!(1000)),
            ("steps_per_epoch", json!(1)),
            ("learning_rate", json!(1e-2)),
            ("epochs", json!(150)),
            ("eval_every", json!(25)),
            ("iterative_start", json!(75)),
            ("iterative_every", json!(25)),
            ("iterative_window", json!(25)),
        ]),
    }
}

fn config(settings: &Settings) -> Result<TmeaConfig, SettingError> {
    model_part(ID, settings)
}

impl ModelFamily for Family {
    family_info_and_check!(TmeaConfig::validate);

    fn input_needs(&self, settings: &Settings) -> Result<InputNeeds, SettingError> {
        let c = config(settings)?;
        Ok(InputNeeds {
            modalities: c.modalities.clone(),
            bag_top_k: c.bag_top_k,
            missing_images: c.stand_in,
        })
    }

    fn plan(&self, settings: &Settings) -> Result<TrainPlan, SettingError> {
        Ok(config(settings)?.plan(&CommonSettings::from_settings(ID, settings)?))
    }

    fn run_deviations(&self, settings: &Settings) -> Vec<String> {
        let mut d = self.info().deviations.clone();
        let Ok(c) = config(settings) else {
            return d;
        };
        if !c.imputation {
            d.push(format!(
                "ablation: no imputation; missing images keep their {} stand-in, missing attributes zeros",
                c.stand_in.as_str()
            ));
        }
        if c.stand_in != MissingImageStandIn::Random {
            d.push(format!(
                "missing images stand in as {} (the papers' code draws a random vector for each)",
                c.stand_in.as_str()
            ));
        }
        if !c.cross_attention {
            d.push("ablation: no commonality enhancement (no cross-modal attention, no orthogonal constraint)".into());
        }
        if c.modalities.contains(&ModalityKind::Attribute) {
            d.push("ablation: bag of attribute keys instead of the abstract representation".into());
        }
        if c.modalities.contains(&ModalityKind::AttributeText) {
            d.push("ablation: the mean of every attribute statement's embedding instead of the abstract representation (no key alignment, no filtering)".into());
        }
        for kind in [ModalityKind::Structure, ModalityKind::Image] {
            if !c.modalities.contains(&kind) {
                d.push(format!("ablation: without the {} modality", kind.as_str()));
            }
        }
        if !ATTRIBUTE_FORMS.iter().any(|m| c.modalities.contains(m)) {
            d.push("ablation: without the attribute modality".into());
        }
        if c.kl_weight == 1.0 && !c.cross_reconstruction {
            d.push(
                "imputation losses as the paper writes them (plain ELBO, no cross-reconstruction)"
                    .into(),
            );
        }
        if c.steps_per_epoch != 0 {
            d.push(format!(
                "{} optimiser step(s) per epoch instead of one per {} triples",
                c.steps_per_epoch, c.transe_batch
            ));
        }
        let paper = TmeaConfig::default();
        if c.orthogonal_weight != paper.orthogonal_weight || c.latent_weight != paper.latent_weight
        {
            d.push(format!(
                "constraint weights λ1 = {}, λ2 = {} (the paper's: 0.01 each)",
                c.orthogonal_weight, c.latent_weight
            ));
        }
        d
    }

    family_device_methods!(config => |config, prepared, seed, B, device| {
        config.init::<B>(&prepared.shape, &prepared.graph, seed, device)
    });
}
