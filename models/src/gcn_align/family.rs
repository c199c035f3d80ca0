//! GCN-Align's registry entry.

use serde_json::json;

use super::config::{GcnAlignConfig, paper_schedule};
use crate::inputs::{MissingImageStandIn, ModalityInput, ModalityKind};
use crate::registry::{
    InputNeeds, ModelFamily, ModelInfo, family_device_methods, family_info_and_check,
};
use crate::run::PreparedRun;
use crate::schema::{FieldDef, FieldGroup, SettingError, Settings, settings_of};
use crate::settings::{CommonSettings, model_part, model_schema};
use crate::train::TrainPlan;

/// The registry id.
pub const ID: &str = "gcn-align";

/// GCN-Align in the registry.
pub struct Family;

fn fields() -> Vec<FieldDef> {
    use FieldGroup::{Loss, Model, Training};
    vec![
        FieldDef::int("structure_dim", Model, "Width of the structure embedding.")
            .range(Some(1.0), Some(4096.0)),
        FieldDef::int("attribute_dim", Model, "Width of the attribute embedding.")
            .range(Some(1.0), Some(4096.0)),
        FieldDef::bool(
            "use_attributes",
            Model,
            "Learn an attribute embedding too, where the dataset has attribute triples.",
        ),
        FieldDef::int(
            "attribute_top_k",
            Model,
            "How many of the most frequent attribute keys the attribute features keep.",
        )
        .range(Some(1.0), Some(100_000.0)),
        FieldDef::float(
            "beta",
            Model,
            "Weight of the structure half against the attribute half when ranking.",
        )
        .range(Some(0.0), Some(1.0)),
        FieldDef::float(
            "margin",
            Loss,
            "Margin of the ranking loss: how much closer a seed pair must be than a corrupted one.",
        )
        .range(Some(0.0), Some(100.0)),
        FieldDef::int("negatives", Loss, "Corrupted pairs per seed pair and side.")
            .range(Some(1.0), Some(100.0)),
        FieldDef::int(
            "resample_every",
            Loss,
            "Epochs between redrawing the corrupted pairs.",
        )
        .range(Some(1.0), Some(10_000.0)),
        FieldDef::float("learning_rate", Training, "Gradient-descent learning rate.")
            .range(Some(0.0), Some(1000.0)),
    ]
}

fn info() -> ModelInfo {
    ModelInfo {
        id: ID.into(),
        name: "GCN-Align".into(),
        citation: "Wang et al., \"Cross-lingual Knowledge Graph Alignment via Graph Convolutional Networks\", EMNLP 2018".into(),
        summary: "Graph convolutions over a relation-weighted adjacency of both graphs, for structure and, where there are attribute triples, attributes.".into(),
        modalities: vec![ModalityKind::Structure, ModalityKind::Attribute],
        config: model_schema(ID, fields(), &GcnAlignConfig::default(), &paper_schedule()),
        ablations: vec![crate::registry::Ablation {
            label: "structure only (SE)".into(),
            settings: [("use_attributes".to_string(), false.into())].into(),
        }],
        deviations: vec![
            "ranked by cosine or CSLS (the protocol of design/MODELS.md) over the β-weighted unit halves, so a pair scores β cos(SE) + (1 - β) cos(AE); the authors rank by the β-weighted L1 distance".into(),
            "where the dataset has no attribute triples the attribute half is left out: structure only (the paper's SE)".into(),
            "the two halves' losses are summed into one gradient-descent step (the same update as the authors' two steps: the halves share no parameters)".into(),
            "parameters are initialised from the run seed with our own generator (a normal instead of the authors' truncated normal; rows are unit-normalised in every pass either way)".into(),
        ],
        modality_weights: false,
        quick: settings_of(&[
            ("structure_dim", json!(32)),
            ("attribute_dim", json!(16)),
            ("epochs", json!(200)),
            ("eval_every", json!(50)),
        ]),
    }
}

fn config(settings: &Settings) -> Result<GcnAlignConfig, SettingError> {
    model_part(ID, settings)
}

/// The attribute bag's width, if the dataset has attribute triples.
fn attribute_width(prepared: &PreparedRun) -> Option<usize> {
    match &prepared.inputs.get(ModalityKind::Attribute)?.matrix {
        ModalityInput::PerEntity { width, .. } => Some(*width),
        ModalityInput::Shared { .. } => None,
    }
}

impl ModelFamily for Family {
    family_info_and_check!(|_: &GcnAlignConfig| Ok(()));

    fn input_needs(&self, settings: &Settings) -> Result<InputNeeds, SettingError> {
        let c = config(settings)?;
        let mut modalities = vec![ModalityKind::Structure];
        if c.use_attributes {
            modalities.push(ModalityKind::Attribute);
        }
        Ok(InputNeeds {
            modalities,
            bag_top_k: c.attribute_top_k,
            missing_images: MissingImageStandIn::NeighbourMean,
        })
    }

    fn plan(&self, settings: &Settings) -> Result<TrainPlan, SettingError> {
        Ok(config(settings)?.plan(&CommonSettings::from_settings(ID, settings)?))
    }

    family_device_methods!(config => |config, prepared, seed, B, device| {
        config.init::<B>(&prepared.graph, attribute_width(prepared), seed, device)
    });
}
