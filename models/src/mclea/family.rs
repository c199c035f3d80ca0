//! MCLEA's registry entry: its knobs with the authors' defaults, the ablations of its
//! paper, its deviations, and how it trains and evaluates on any device.

use serde_json::json;

use super::config::{MODALITY_ORDER, McleaConfig};
use crate::inputs::ModalityKind;
use crate::registry::{
    ModelFamily, ModelInfo, ablation, family_device_methods, family_info_and_check,
    family_random_image_methods, without_modality,
};
use crate::schema::{FieldDef, FieldGroup, SettingError, Settings, settings_of};
use crate::settings::{CommonSettings, adamw_fields, model_part, model_schema};

/// The registry id.
pub const ID: &str = "mclea";

/// MCLEA in the registry.
pub struct Family;

fn fields() -> Vec<FieldDef> {
    use FieldGroup::{Loss, Model, Training};
    let width = |key, help| FieldDef::int(key, Model, help).range(Some(1.0), Some(4096.0));
    let mut fields = vec![
        width("structure_dim", "Width of the learned entity table and of the structure GAT."),
        width("gat_layers", "Layers of the structure GAT."),
        width("gat_heads", "Heads of each GAT layer (averaged)."),
        width("modality_dim", "Width of the relation, attribute, image and name embeddings."),
        FieldDef::list(
            "modalities",
            Model,
            "Modalities the model uses: structure (GAT), relation and attribute (bags of words), image, and name (a sentence embedding of the entity's name; the authors use names on DBP15K, the papers' comparison tables do not).",
            &["structure", "relation", "attribute", "image", "name"],
        ),
        FieldDef::int(
            "bag_top_k",
            Model,
            "Columns of the bags of relations and attributes (the most frequent).",
        )
        .range(Some(1.0), Some(100_000.0)),
        FieldDef::float(
            "temperature",
            Loss,
            "Temperature τ of the intra-modal contrastive loss: lower values sharpen the softmax over candidates.",
        )
        .range(Some(1e-4), Some(100.0)),
        FieldDef::float(
            "alignment_temperature",
            Loss,
            "Temperature τ₂ of the inter-modal alignment loss, which pulls each modality's distribution towards the joint one's.",
        )
        .range(Some(1e-4), Some(100.0)),
        FieldDef::float(
            "alignment_weight",
            Loss,
            "Weight of the inter-modal alignment loss (0 switches it off: \"w/o IAL\").",
        )
        .range(Some(0.0), Some(100.0)),
        FieldDef::int(
            "chunk_size",
            Training,
            "Seed pairs per loss chunk (in-batch negatives); the chunks of an epoch make one step.",
        )
        .range(Some(1.0), Some(1_000_000.0)),
    ];
    fields.extend(adamw_fields());
    fields
}

fn info() -> ModelInfo {
    ModelInfo {
        id: ID.into(),
        name: "MCLEA".into(),
        citation: "Lin et al., \"Multi-modal Contrastive Representation Learning for Entity Alignment\", COLING 2022".into(),
        summary: "Encodes structure (a GAT over a learned entity table), relations, attributes and images separately, joins the unit embeddings with learned global weights, and trains each modality and the joint embedding contrastively (ICL) while pulling each modality's distribution towards the joint one's (IAL).".into(),
        modalities: MODALITY_ORDER.to_vec(),
        config: model_schema(ID, fields(), &McleaConfig::default(), &CommonSettings::eva_lineage()),
        ablations: vec![
            without_modality("w/o structure", &MODALITY_ORDER[..4], ModalityKind::Structure),
            without_modality("w/o relation", &MODALITY_ORDER[..4], ModalityKind::Relation),
            without_modality("w/o attribute", &MODALITY_ORDER[..4], ModalityKind::Attribute),
            without_modality("w/o image", &MODALITY_ORDER[..4], ModalityKind::Image),
            ablation("w/o IAL", &[("alignment_weight", json!(0.0))]),
            ablation("w/o IL", &[("iterative", false.into())]),
        ],
        deviations: vec![
            "built as the authors' code does where it differs from the paper: the GAT maps each head by a diagonal (a vector), the joint distribution is the detached teacher of the alignment loss, the alignment KL is scaled by 0.1 inside and 0.1 outside its uncertainty weighting, AdamW keeps PyTorch's weight decay 0.01, and from epoch 500 a fresh AdamW at 1e-4 starts every epoch".into(),
            "GAT attention softmax(LeakyReLU(g_i·a + g_j·b)) over each entity's neighbours and itself (MPSEA's plain GAT); the authors' code uses exp(−LeakyReLU(aᵀ[g_i; g_j]))".into(),
            "names are off by default (the authors use translated names and character bigrams on DBP15K); with `name` on, AlignScope's sentence embedding of the name stands for both".into(),
            "the global weights' softmax spans the modalities in use (the authors' code keeps slots for switched-off ones)".into(),
            "visual features from AlignScope's image encoder (EfficientNet-Lite0) or the dataset's feature files, not ResNet-152/VGG-16; an entity without an image gets its own draw from the known vectors' per-dimension normal, as the authors' code, from the run seed with our own generator".into(),
            "parameters initialised from the run seed with our own generator (the authors' distributions: normal entity table of std 1/√N, PyTorch's linear layers)".into(),
        ],
        modality_weights: false,
        quick: settings_of(&[
            ("structure_dim", json!(32)),
            ("modality_dim", json!(16)),
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

fn config(settings: &Settings) -> Result<McleaConfig, SettingError> {
    model_part(ID, settings)
}

impl ModelFamily for Family {
    family_info_and_check!(McleaConfig::validate);

    family_random_image_methods!(config, ID, MODALITY_ORDER[..4], |c| {
        (c.alignment_weight == 0.0)
            .then(|| "ablation: without the inter-modal alignment loss (w/o IAL)".to_string())
    });

    family_device_methods!(config => |config, prepared, seed, B, device| {
        config.init::<B>(&prepared.shape, seed, device)
    });
}
