//! MPSEA's registry entry: its knobs (the paper's stated settings, our choices where it
//! is silent), the ablations of its Tables 5 and 6, its deviations, and how it trains and
//! evaluates on any device.

use serde_json::json;

use super::config::{MpseaConfig, TOKEN_ORDER};
use crate::inputs::{MissingImageStandIn, ModalityKind};
use crate::registry::{
    InputNeeds, ModelFamily, ModelInfo, ablation, family_device_methods, family_info_and_check,
    missing_modality_deviations, without_modality,
};
use crate::schema::{FieldDef, FieldGroup, SettingError, Settings, settings_of};
use crate::settings::{CommonSettings, SimilarityChoice, model_part, model_schema};
use crate::train::TrainPlan;

/// The registry id.
pub const ID: &str = "mpsea";

/// MPSEA in the registry.
pub struct Family;

fn fields() -> Vec<FieldDef> {
    use FieldGroup::{Loss, Model, Training};
    let width = |key, help| FieldDef::int(key, Model, help).range(Some(1.0), Some(4096.0));
    vec![
        width("dim", "Width of every modality embedding and of the GAT; a multiple of heads and of image_positions."),
        width("heads", "Heads of the fusion transformer's attention."),
        width("gat_heads", "Heads of each layer of the structure GAT."),
        width("gat_layers", "Layers of the structure GAT."),
        FieldDef::bool(
            "multi_weighted_gat",
            Model,
            "A full linear map per GAT head (the paper's multi-weighted GAT); off: a diagonal map per head, the plain GAT of MCLEA and MEAformer (\"repl. GAT\").",
        ),
        FieldDef::list(
            "modalities",
            Model,
            "Modalities the model uses: structure (GAT), relation and attribute (bags of words), image, and number (numeric attribute values).",
            &["structure", "relation", "attribute", "image", "number"],
        ),
        FieldDef::int("bag_top_k", Model, "Columns of the bags of relations and attributes (the most frequent).")
            .range(Some(1.0), Some(100_000.0)),
        width("number_hidden", "Hidden width of the numerical embedding."),
        FieldDef::bool("graph_presynergy", Model, "Textual tokens attend to the graph token in the fusion (off: \"w/o MMPF-gph\")."),
        FieldDef::bool("image_presynergy", Model, "Textual tokens attend to the image token in the fusion (off: \"w/o MMPF-img\")."),
        FieldDef::float(
            "fusion_input_scale",
            Model,
            "What the unit modality vectors are multiplied by on their way into the fusion transformer. 1 keeps its attention, and the cross-modal weights, near uniform at short schedules; larger sharpens them, but on the demo the structure token then takes the weight and the run overfits sooner.",
        )
        .range(Some(1e-3), Some(100.0)),
        FieldDef::bool("outlooker", Model, "Outlooker attention in the image token's feed-forward layer (off: \"w/o OA\")."),
        FieldDef::bool(
            "conv_ffn",
            Model,
            "The convolution-enhanced feed-forward layer for the image token (off, with outlooker off: \"w/o OC\").",
        ),
        width("image_positions", "Positions the image token is read as by the Outlooker and the convolution."),
        FieldDef::bool(
            "reinforcement",
            Model,
            "The cross-modal deep perception reinforcement learning: a policy chooses each entity's share of late fusion (off: \"w/o CPRL\", both levels weigh the same).",
        ),
        FieldDef::float(
            "mi_weight",
            Loss,
            "Weight of the mutual information between the joint embedding and each modality, maximised by the encoders (0 switches it off).",
        )
        .range(Some(0.0), Some(100.0)),
        FieldDef::float(
            "reward_threshold",
            Loss,
            "The reward's threshold τ: a reward is the cosine to the counterpart plus the normalised mutual information minus τ.",
        )
        .range(Some(-10.0), Some(10.0)),
        FieldDef::float("entropy_weight", Loss, "Weight of the policy's entropy bonus.")
            .range(Some(0.0), Some(10.0)),
        width("policy_hidden", "Hidden units of the policy network."),
        width("critic_dim", "Width the mutual-information critic compares in."),
        FieldDef::float("temperature", Loss, "Temperature of the contrastive losses.")
            .range(Some(1e-4), Some(100.0)),
        FieldDef::int("batch_size", Training, "Seed pairs per optimiser step.")
            .range(Some(1.0), Some(10_000_000.0)),
        FieldDef::float("learning_rate", Training, "AdamW learning rate.")
            .range(Some(0.0), Some(1.0)),
        FieldDef::float("weight_decay", Training, "AdamW weight decay.")
            .range(Some(0.0), Some(1.0)),
    ]
}

/// The paper's schedule: 500 epochs, then 500 with iterative learning; cosine ranking.
fn paper_schedule() -> CommonSettings {
    CommonSettings {
        epochs: 1000,
        eval_every: 50,
        similarity: SimilarityChoice::Cosine,
        iterative: true,
        iterative_start: 500,
        iterative_every: 50,
        iterative_window: 50,
        ..CommonSettings::default()
    }
}

fn info() -> ModelInfo {
    ModelInfo {
        id: ID.into(),
        name: "MPSEA".into(),
        citation: "Li et al., \"Multi-Modal Pre-Synergistic Fusion Entity Alignment Based on Mutual Information Strategy Optimization\", CMC 85(2), 2025".into(),
        summary: "Encodes structure (a multi-weighted GAT), relations, attributes, images and numbers; lets the textual tokens attend to the graph and image tokens before fusing (pre-synergy), weighs each entity's modalities by the attention they receive, and trains a policy, rewarded by mutual information and the counterpart's similarity, that chooses how much of early and late fusion each entity's embedding holds.".into(),
        modalities: TOKEN_ORDER.to_vec(),
        config: model_schema(ID, fields(), &MpseaConfig::default(), &paper_schedule()),
        ablations: vec![
            without_modality("w/o structure", &TOKEN_ORDER, ModalityKind::Structure),
            without_modality("w/o relation", &TOKEN_ORDER, ModalityKind::Relation),
            without_modality("w/o attr", &TOKEN_ORDER, ModalityKind::Attribute),
            without_modality("w/o img", &TOKEN_ORDER, ModalityKind::Image),
            without_modality("w/o number", &TOKEN_ORDER, ModalityKind::Number),
            ablation("w/o MMPF-img", &[("image_presynergy", false.into())]),
            ablation("w/o MMPF-gph", &[("graph_presynergy", false.into())]),
            ablation(
                "w/o MMPF",
                &[("image_presynergy", false.into()), ("graph_presynergy", false.into())],
            ),
            ablation("w/o OA", &[("outlooker", false.into())]),
            ablation("w/o OC", &[("outlooker", false.into()), ("conv_ffn", false.into())]),
            ablation("w/o CPRL", &[("reinforcement", false.into())]),
            ablation("repl. GAT", &[("multi_weighted_gat", false.into())]),
            ablation("w/o IT", &[("iterative", false.into())]),
        ],
        deviations: vec![
            "the paper's equations did not survive in our copy of its text; each block follows its words, and the choices below are ours".into(),
            "visual features from AlignScope's image encoder (EfficientNet-Lite0) or the dataset's feature files, not VGG-16".into(),
            "numerical embedding: each key's value projected by the key's own vectors (v·s_k + b_k, ReLU), one residual refinement layer, the mean over the entity's keys; values are sign(x)·ln(1+|x|) z-scored per key over both graphs, the 32 most frequent numeric keys".into(),
            "structure GAT: heads averaged, ELU between layers, a self-loop per entity; \"plain GAT\" (repl. GAT) gives each head a diagonal map, as the MCLEA/MEAformer code".into(),
            "fusion: one post-norm transformer block over each entity's modality tokens; textual tokens (relation, attribute, number) attend to textual keys plus the graph and image keys (the pre-synergy), graph and image tokens to every key; keys of modalities the entity lacks are masked".into(),
            "Outlooker attention and the convolutional feed-forward layer read the image token as 10 positions of dim/10 channels (a 1-D window of 3, each position weighting its own window), since an entity's image is one vector".into(),
            "cross-modal weights: the attention each modality's key receives, summed over heads and averaged over queries, softmax over the modalities the entity has".into(),
            "the fusion transformer reads the unit modality vectors times fusion_input_scale (1): its attention, and so the cross-modal weights, stay near uniform at short schedules; sharper attention let the structure token take the weight and overfit on the demo".into(),
            "joint embedding [(1−α)·early, α·late] fusion, each the weighted concatenation of unit modality vectors; the policy's actions are α ∈ {0, ¼, ½, ¾, 1} per entity and the embedding uses its expected α (½ without the reinforcement learning)".into(),
            "mutual-information estimator: InfoNCE with a separable bilinear critic per modality between the fused embedding and the modality, over at most 1,024 seed entities per step; the critics fit the bound on detached inputs and the encoders maximise it weighted by mi_weight".into(),
            "reward cos(J_i(a), J_j) + InfoNCE term/log n − τ for seed pair (i, j); REINFORCE with the batch mean as baseline and an entropy bonus".into(),
            "modal-adaptive contrastive loss: InfoNCE (τ = 0.1, both directions) on the joint embedding plus, per modality, on its early and late vectors weighted per pair by M·sqrt(w_m(i)·w_m(j)) (detached)".into(),
            "AdamW weight decay 0.01 and 3,500 seed pairs per step (the paper's values did not survive in our copy); parameters initialised from the run seed with our own generator".into(),
            "an entity without an image keeps the input pipeline's neighbour-mean stand-in in its image input, which the fusion masks".into(),
        ],
        modality_weights: true,
        quick: settings_of(&[
            ("dim", json!(30)),
            ("heads", json!(5)),
            ("image_positions", json!(5)),
            ("number_hidden", json!(8)),
            ("policy_hidden", json!(16)),
            ("critic_dim", json!(16)),
            ("bag_top_k", json!(50)),
            ("learning_rate", json!(5e-3)),
            ("epochs", json!(100)),
            ("eval_every", json!(25)),
            ("iterative_start", json!(50)),
            ("iterative_every", json!(25)),
            ("iterative_window", json!(25)),
        ]),
    }
}

fn config(settings: &Settings) -> Result<MpseaConfig, SettingError> {
    model_part(ID, settings)
}

impl ModelFamily for Family {
    family_info_and_check!(MpseaConfig::validate);

    fn input_needs(&self, settings: &Settings) -> Result<InputNeeds, SettingError> {
        let c = config(settings)?;
        Ok(InputNeeds {
            modalities: c.modalities.clone(),
            bag_top_k: c.bag_top_k,
            missing_images: MissingImageStandIn::NeighbourMean,
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
        d.extend(missing_modality_deviations(&TOKEN_ORDER, &c.modalities));
        let switches = [
            (c.graph_presynergy, "no graph pre-synergy (w/o MMPF-gph)"),
            (c.image_presynergy, "no image pre-synergy (w/o MMPF-img)"),
            (c.outlooker, "no Outlooker attention (w/o OA)"),
            (
                c.conv_ffn,
                "no convolutional feed-forward layer for the image token",
            ),
            (
                c.reinforcement,
                "no reinforcement learning (w/o CPRL): early and late fusion weigh the same",
            ),
            (
                c.multi_weighted_gat,
                "plain GAT with a diagonal map per head (repl. GAT)",
            ),
        ];
        d.extend(
            switches
                .into_iter()
                .filter(|(on, _)| !on)
                .map(|(_, what)| format!("ablation: {what}")),
        );
        d
    }

    family_device_methods!(config => |config, prepared, seed, B, device| {
        config.init::<B>(&prepared.shape, seed, device)
    });
}
