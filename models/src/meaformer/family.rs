//! MEAformer's registry entry: its knobs with the defaults of the authors' code, its
//! modality ablations, its deviations, and how it trains and evaluates on any device.

use serde_json::json;

use super::config::{MODALITY_ORDER, MeaformerConfig};
use crate::registry::{
    ModelFamily, ModelInfo, family_device_methods, family_info_and_check,
    family_random_image_methods, without_modality,
};
use crate::schema::{FieldDef, FieldGroup, SettingError, Settings, settings_of};
use crate::settings::{CommonSettings, model_part, model_schema};

/// The registry id.
pub const ID: &str = "meaformer";

/// MEAformer in the registry.
pub struct Family;

fn fields() -> Vec<FieldDef> {
    use FieldGroup::{Loss, Model, Training};
    let width = |key, help| FieldDef::int(key, Model, help).range(Some(1.0), Some(4096.0));
    vec![
        width("dim", "Width of every modality embedding, the entity table, the GAT and the transformer; a multiple of heads."),
        width("gat_layers", "Layers of the structure GAT."),
        width("gat_heads", "Heads of each GAT layer (averaged)."),
        width("heads", "Attention heads of the meta-modality hybrid transformer."),
        width("ffn_hidden", "Hidden width of the hybrid's feed-forward layer."),
        FieldDef::list(
            "modalities",
            Model,
            "Modalities the model uses: structure (GAT), relation and attribute (bags of words), image, and name (a sentence embedding of the entity's name: the paper's \"surface\" setting).",
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
            "Temperature of the contrastive losses: lower values sharpen the softmax over candidates.",
        )
        .range(Some(1e-4), Some(100.0)),
        FieldDef::int("batch_size", Training, "Seed pairs per optimiser step.")
            .range(Some(1.0), Some(10_000_000.0)),
        FieldDef::float(
            "learning_rate",
            Training,
            "AdamW learning rate at the end of the warm-up.",
        )
        .range(Some(0.0), Some(1.0)),
        FieldDef::float("weight_decay", Training, "AdamW weight decay.")
            .range(Some(0.0), Some(1.0)),
        FieldDef::float(
            "warmup_share",
            Training,
            "Share of the epochs over which the learning rate rises linearly, before it falls along a cosine to 0 at the last epoch.",
        )
        .range(Some(0.0), Some(1.0)),
    ]
}

/// The authors' non-iterative DBP15K schedule: 250 epochs, CSLS with k = 3.
fn paper_schedule() -> CommonSettings {
    CommonSettings {
        epochs: 250,
        eval_every: 10,
        iterative_start: 500,
        iterative_every: 5,
        iterative_window: 50,
        ..CommonSettings::default()
    }
}

fn info() -> ModelInfo {
    ModelInfo {
        id: ID.into(),
        name: "MEAformer".into(),
        citation: "Chen et al., \"MEAformer: Multi-modal Entity Alignment Transformer for Meta Modality Hybrid\", ACM MM 2023".into(),
        summary: "Encodes structure (a GAT over a learned entity table), relations, attributes and images, lets each entity's modality tokens attend to each other in a transformer layer, and weighs its unit modality embeddings by the attention each receives; trained contrastively on the joint embedding and, with learned uncertainty weights, on every modality before and after the transformer.".into(),
        modalities: MODALITY_ORDER.to_vec(),
        config: model_schema(ID, fields(), &MeaformerConfig::default(), &paper_schedule()),
        ablations: MODALITY_ORDER[..4]
            .iter()
            .map(|&k| {
                without_modality(&format!("w/o {}", k.as_str()), &MODALITY_ORDER[..4], k)
            })
            .collect(),
        deviations: vec![
            "built as the authors' code does (its method section was not at hand): the joint embedding weighs the encoders' outputs (unit rows), not the transformer's; the weights are the softmax of the attention each token receives, summed over heads and queries, over √(M·H); nothing is masked for a missing modality; best epoch by validation H@1 (the code chooses by test MRR)".into(),
            "the meta-modality hybrid is MPSEA's fusion block set up as the code's layer (every token sees every other, GELU feed-forward 300 → 400 → 300, post-norm); its queries, keys and values have no bias and its layer norms Burn's ε = 1e-5 (the code: biases, ε = 1e-12)".into(),
            "no dropout (the code: 0.1 on the attention probabilities, and so on the weights, and after each sub-layer) and no gradient clipping (the code: global norm 1)".into(),
            "the learning rate's warm-up and cosine decay change per epoch (the code: per step; the same where an epoch is one step, as on the demo)".into(),
            "each modality's contrastive terms before and after the transformer share one learned uncertainty (the code shares them crosswise through swapped token labels)".into(),
            "GAT attention softmax(LeakyReLU(g_i·a + g_j·b)) over each entity's neighbours and itself (MPSEA's plain GAT); the authors' code uses exp(−LeakyReLU(aᵀ[g_i; g_j]))".into(),
            "iterative learning is a switch (off by default, the non-iterative schedule); on, it follows the shared trainer, not the code's reload of the best weights with a fifth of the learning rate at epoch 500".into(),
            "visual features from AlignScope's image encoder (EfficientNet-Lite0) or the dataset's feature files, not ResNet-152/VGG-16; an entity without an image gets its own draw from the known vectors' per-dimension normal, as the authors' code, from the run seed with our own generator".into(),
        ],
        modality_weights: true,
        quick: settings_of(&[
            ("dim", json!(32)),
            ("ffn_hidden", json!(32)),
            ("bag_top_k", json!(50)),
            ("learning_rate", json!(5e-3)),
            ("epochs", json!(100)),
            ("eval_every", json!(25)),
        ]),
    }
}

fn config(settings: &Settings) -> Result<MeaformerConfig, SettingError> {
    model_part(ID, settings)
}

impl ModelFamily for Family {
    family_info_and_check!(MeaformerConfig::validate);

    family_random_image_methods!(config, ID, MODALITY_ORDER[..4], |c| None::<String>);

    family_device_methods!(config => |config, prepared, seed, B, device| {
        config.init::<B>(&prepared.shape, seed, device)
    });
}
