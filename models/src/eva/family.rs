//! EVA's registry entry: its knobs with the authors' defaults, the ablations of its
//! paper, its deviations, and how it trains and evaluates on any device.

use serde_json::json;

use super::config::{EvaConfig, MODALITY_ORDER};
use crate::inputs::ModalityKind;
use crate::registry::{
    ModelFamily, ModelInfo, ablation, family_device_methods, family_info_and_check,
    family_random_image_methods, without_modality,
};
use crate::schema::{FieldDef, FieldGroup, SettingError, Settings, settings_of};
use crate::settings::{CommonSettings, adamw_fields, model_part, model_schema};

/// The registry id.
pub const ID: &str = "eva";

/// EVA in the registry.
pub struct Family;

fn fields() -> Vec<FieldDef> {
    use FieldGroup::{Loss, Model, Training};
    let width = |key, help| FieldDef::int(key, Model, help).range(Some(1.0), Some(4096.0));
    let mut fields = vec![
        width("structure_hidden", "Width of the learned entity table and of the GCN's hidden layer."),
        width("structure_dim", "Width of the GCN's output, the structure embedding."),
        width("relation_dim", "Width of the relation embedding."),
        width("attribute_dim", "Width of the attribute embedding."),
        width("image_dim", "Width of the image embedding."),
        FieldDef::list(
            "modalities",
            Model,
            "Modalities the model uses: structure (GCN), relation and attribute (bags of words) and image.",
            &["structure", "relation", "attribute", "image"],
        ),
        FieldDef::int(
            "bag_top_k",
            Model,
            "Columns of the bags of relations and attributes (the most frequent).",
        )
        .range(Some(1.0), Some(100_000.0)),
        FieldDef::float(
            "structure_alpha",
            Loss,
            "Scale α of the NCA loss on the structure embedding: larger values push harder on the closest wrong pairs.",
        )
        .range(Some(0.01), Some(100.0)),
        FieldDef::float(
            "alpha",
            Loss,
            "Scale α of the NCA loss on the relation, attribute, image and joint embeddings.",
        )
        .range(Some(0.01), Some(100.0)),
        FieldDef::float(
            "beta",
            Loss,
            "Weight β of a seed pair's own similarity in the NCA loss.",
        )
        .range(Some(0.0), Some(1000.0)),
        FieldDef::bool(
            "detach_joint",
            Loss,
            "The joint embedding's loss trains only the modality weights, as the authors' code (off: the encoders too).",
        ),
        FieldDef::int(
            "chunk_size",
            Training,
            "Seed pairs per loss chunk; the chunks of an epoch make one step (smaller: less memory, fewer negatives per pair).",
        )
        .range(Some(1.0), Some(1_000_000.0)),
        FieldDef::bool(
            "unsupervised",
            Training,
            "The unsupervised setting: visual pivots, pairs of entities with the most similar images (one-to-one, best first), replace the seed pairs; no gold pair is trained on.",
        ),
        FieldDef::int(
            "pivots",
            Training,
            "How many visual pivots to find in the unsupervised setting (fewer where fewer entities have images).",
        )
        .range(Some(1.0), Some(10_000_000.0)),
    ];
    fields.extend(adamw_fields());
    fields
}

fn info() -> ModelInfo {
    ModelInfo {
        id: ID.into(),
        name: "EVA".into(),
        citation: "Liu et al., \"Visual Pivoting for (Unsupervised) Entity Alignment\", AAAI 2021".into(),
        summary: "Encodes structure (a GCN over a learned entity table), relations, attributes and images separately, joins the unit embeddings with one learned weight per modality, and trains each with an NCA loss; iterative learning adds mutual nearest neighbours as seeds.".into(),
        modalities: MODALITY_ORDER.to_vec(),
        config: model_schema(ID, fields(), &EvaConfig::default(), &CommonSettings::eva_lineage()),
        ablations: vec![
            without_modality("w/o structure", &MODALITY_ORDER, ModalityKind::Structure),
            without_modality("w/o relation", &MODALITY_ORDER, ModalityKind::Relation),
            without_modality("w/o attribute", &MODALITY_ORDER, ModalityKind::Attribute),
            without_modality("w/o image", &MODALITY_ORDER, ModalityKind::Image),
            ablation("w/o IL", &[("iterative", false.into())]),
            ablation("unsupervised (visual pivots)", &[("unsupervised", true.into())]),
        ],
        deviations: vec![
            "built as the authors' code does where it differs from the paper: the joint loss reads detached modality embeddings (it trains only the weights), the NCA loss's positive term is β·log(1 + relu(cos)), AdamW keeps PyTorch's weight decay 0.01, and from epoch 500 a fresh AdamW at 1e-4 starts every epoch".into(),
            "unsupervised setting (off by default): pivots are drawn only among entities with a real image (the code lets the random stand-ins compete), each left entity's 50 most image-similar right entities are its candidates (the code keeps the global best pivots x 100 similarities), and the test pairs stay the split's (the code's 70% slice)".into(),
            "visual features from AlignScope's image encoder (EfficientNet-Lite0) or the dataset's feature files, not ResNet-152; an entity without an image gets its own draw from the known vectors' per-dimension normal, as the authors' code, from the run seed with our own generator".into(),
            "parameters initialised from the run seed with our own generator (the authors' distributions: normal entity table of std 1/√N, uniform layers)".into(),
        ],
        modality_weights: false,
        quick: settings_of(&[
            ("structure_hidden", json!(32)),
            ("structure_dim", json!(16)),
            ("relation_dim", json!(16)),
            ("attribute_dim", json!(16)),
            ("image_dim", json!(16)),
            ("bag_top_k", json!(50)),
            ("learning_rate", json!(5e-3)),
            ("epochs", json!(100)),
            ("eval_every", json!(25)),
            ("iterative_start", json!(50)),
            ("iterative_every", json!(5)),
            ("iterative_window", json!(25)),
        ]),
    }
}

fn config(settings: &Settings) -> Result<EvaConfig, SettingError> {
    model_part(ID, settings)
}

impl ModelFamily for Family {
    family_info_and_check!(EvaConfig::validate);

    family_random_image_methods!(config, ID, MODALITY_ORDER, |c| {
        let detached = (!c.detach_joint).then(|| {
            "the joint loss trains the encoders too (the authors' code detaches them)".to_string()
        });
        let pivots = c.unsupervised.then(|| {
            format!(
                "ablation: unsupervised, up to {} visual pivots replace the split's seed pairs",
                c.pivots
            )
        });
        detached.into_iter().chain(pivots)
    });

    family_device_methods!(config => |config, prepared, seed, B, device| {
        config.init::<B>(&prepared.graph, &prepared.shape, seed, device)
    });
}
