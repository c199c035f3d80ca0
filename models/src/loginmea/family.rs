//! LoginMEA's registry entry: its knobs (the authors' defaults), ablations, deviations,
//! and how it trains and evaluates on any device.

use burn::tensor::backend::AutodiffBackend;
use serde_json::{Value, json};

use super::config::{FusionKind, GraphLayerKind, LoginMeaConfig};
use super::model::LoginMea;
use crate::backend::GraphBackend;
use crate::inputs::{MissingImageStandIn, ModalityKind};
use crate::loss::contrastive_loss;
use crate::model::{LossTerm, ModelInputs, StepContext, TrainableModel};
use crate::ops::l2_normalize;
use crate::registry::{
    Ablation, InputNeeds, ModelFamily, ModelInfo, family_device_methods, family_info_and_check,
};
use crate::schema::{FieldDef, FieldGroup, SettingError, Settings, settings_of};
use crate::settings::{CommonSettings, adamw_fields, model_part, model_schema};
use crate::train::TrainPlan;

/// The registry id.
pub const ID: &str = "loginmea";

/// LoginMEA in the registry.
pub struct Family;

fn fields() -> Vec<FieldDef> {
    use FieldGroup::{Loss, Model, Training};
    let mut fields = vec![
        FieldDef::int("hidden", Model, "Width of the entity, relation and fused embeddings.")
            .range(Some(1.0), Some(4096.0)),
        FieldDef::int(
            "modality_dim",
            Model,
            "Width of each modality's projection before the fusion.",
        )
        .range(Some(1.0), Some(4096.0)),
        FieldDef::int(
            "fusion_rank",
            Model,
            "Rank of the low-rank fusion that mixes the modalities.",
        )
        .range(Some(1.0), Some(256.0)),
        FieldDef::int(
            "graph_layers",
            Model,
            "Graph layers per stream: how many hops of neighbours each embedding sees.",
        )
        .range(Some(1.0), Some(8.0)),
        FieldDef::bool(
            "adaptive_weights",
            Model,
            "Learn a weight per entity and modality instead of weighting every modality equally.",
        ),
        FieldDef::choice(
            "fusion",
            Model,
            "How modality embeddings are combined: the paper's low-rank fusion or plain concatenation.",
            &["low_rank", "concat"],
        ),
        FieldDef::choice(
            "graph_layer",
            Model,
            "The graph layer: relational reflection attention (the paper's) or plain graph attention.",
            &["reflection", "gat"],
        ),
        FieldDef::list(
            "modalities",
            Model,
            "Modalities the model uses; leaving one out is the paper's ablation. Attribute text (sentence embeddings of the attribute statements) and name are AlignScope's additions, off by default as the paper has neither.",
            &["structure", "relation", "attribute", "image", "attribute_text", "name"],
        ),
        FieldDef::int(
            "bag_top_k",
            Model,
            "How many of the most frequent relations and attribute keys the bag-of-words features keep.",
        )
        .range(Some(1.0), Some(100_000.0)),
        FieldDef::float(
            "temperature",
            Loss,
            "Temperature of the contrastive loss: lower values sharpen the softmax over candidates.",
        )
        .range(Some(0.001), Some(10.0)),
        FieldDef::choice(
            "loss_direction",
            Loss,
            "Whether the contrastive loss ranks right candidates for left entities only, or both ways.",
            &["left_to_right", "both"],
        ),
        FieldDef::int(
            "chunk_size",
            Training,
            "Seed pairs per loss chunk; smaller chunks need less memory, the step is the same.",
        )
        .range(Some(1.0), Some(1_000_000.0)),
    ];
    fields.extend(adamw_fields());
    fields
}

fn ablation(label: &str, key: &str, value: Value) -> Ablation {
    Ablation {
        label: label.into(),
        settings: [(key.to_string(), value)].into(),
    }
}

fn without(modality: &str) -> Ablation {
    let rest: Vec<&str> = ["structure", "relation", "attribute", "image"]
        .into_iter()
        .filter(|m| *m != modality)
        .collect();
    ablation(&format!("w/o {modality}"), "modalities", rest.into())
}

fn info() -> ModelInfo {
    ModelInfo {
        id: ID.into(),
        name: "LoginMEA".into(),
        citation: "Su et al., \"LoginMEA: Local-to-Global Interaction Network for Multi-modal Entity Alignment\", ECAI 2024".into(),
        summary: "Fuses each entity's modalities with adaptive weights and low-rank interaction, then aggregates over the graph with relational reflection attention.".into(),
        modalities: vec![
            ModalityKind::Structure,
            ModalityKind::Relation,
            ModalityKind::Attribute,
            ModalityKind::Image,
        ],
        config: model_schema(
            ID,
            fields(),
            &LoginMeaConfig::default(),
            &CommonSettings::default(),
        ),
        ablations: vec![
            ablation("w/o adaptive weights", "adaptive_weights", false.into()),
            ablation("w/o low-rank fusion", "fusion", "concat".into()),
            ablation("GAT instead of reflection", "graph_layer", "gat".into()),
            without("image"),
            without("relation"),
            without("attribute"),
        ],
        deviations: vec![
            "modality projections are 300 wide as in the authors' code (the paper's text says 100)".into(),
            "both streams reflect with one relation table, as RREA shares it".into(),
            "parameters are initialised from the run seed with our own generator (Xavier as RREA/LMF, PyTorch's Linear bounds), not PyTorch's RNG".into(),
        ],
        modality_weights: true,
        quick: settings_of(&[
            ("hidden", json!(32)),
            ("modality_dim", json!(32)),
            ("fusion_rank", json!(4)),
            ("bag_top_k", json!(50)),
            ("learning_rate", json!(5e-3)),
            ("restart_after", Value::Null),
            ("epochs", json!(60)),
            ("eval_every", json!(20)),
        ]),
    }
}

fn config(settings: &Settings) -> Result<LoginMeaConfig, SettingError> {
    model_part(ID, settings)
}

fn common(settings: &Settings) -> Result<CommonSettings, SettingError> {
    CommonSettings::from_settings(ID, settings)
}

impl<B: AutodiffBackend + GraphBackend> TrainableModel<B> for LoginMea<B> {
    /// Unit-normalised final embeddings of all entities.
    type Forward = burn::tensor::Tensor<B, 2>;

    fn forward_train(&self, inputs: &ModelInputs<B>, _: &mut StepContext<'_>) -> Self::Forward {
        l2_normalize(crate::model::AlignmentModel::embed(self, inputs))
    }

    fn losses(
        &self,
        unit: &Self::Forward,
        pairs: &[(u32, u32)],
        _: &mut StepContext<'_>,
    ) -> Vec<LossTerm<B>> {
        let device = unit.device();
        let (left, right) = crate::graph::pair_indices::<B>(pairs, &device);
        let config = self.config();
        vec![LossTerm {
            name: "infonce",
            value: contrastive_loss(
                unit,
                left,
                right,
                config.temperature,
                config.loss_direction == super::LossDirection::Both,
            ),
        }]
    }
}

impl ModelFamily for Family {
    family_info_and_check!(LoginMeaConfig::validate);

    fn input_needs(&self, settings: &Settings) -> Result<InputNeeds, SettingError> {
        let c = config(settings)?;
        Ok(InputNeeds {
            modalities: c.modalities.clone(),
            bag_top_k: c.bag_top_k,
            missing_images: MissingImageStandIn::NeighbourMean,
        })
    }

    fn plan(&self, settings: &Settings) -> Result<TrainPlan, SettingError> {
        Ok(config(settings)?.plan(&common(settings)?))
    }

    fn run_deviations(&self, settings: &Settings) -> Vec<String> {
        let mut d = self.info().deviations.clone();
        if let Ok(c) = config(settings) {
            if c.fusion == FusionKind::Concat {
                d.push("ablation: concatenation instead of low-rank fusion".into());
            }
            if c.graph_layer == GraphLayerKind::Gat {
                d.push("ablation: GAT instead of relational reflection".into());
            }
            for extra in [ModalityKind::AttributeText, ModalityKind::Name] {
                if c.modalities.contains(&extra) {
                    d.push(format!(
                        "extension: the {} modality (sentence embeddings, not in the paper) is fused like the others",
                        extra.as_str()
                    ));
                }
            }
            if !c.adaptive_weights {
                d.push("ablation: no entity-specific adaptive weights".into());
            }
        }
        d
    }

    family_device_methods!(config => |config, prepared, seed, B, device| {
        config.init::<B>(&prepared.shape, seed, device)
    });
}

/// The settings of a LoginMEA run stored before the registry, from its `loginmea` and
/// `train` objects (missing members take today's defaults).
pub fn legacy_settings(model: &Value, train: &Value) -> Settings {
    let mut s = Family.info().config.defaults();
    if let Some(object) = model.as_object() {
        for (k, v) in object {
            if s.contains_key(k) {
                s.insert(k.clone(), v.clone());
            }
        }
    }
    let t = |key: &str| train.get(key).filter(|v| !v.is_null());
    for key in [
        "epochs",
        "learning_rate",
        "weight_decay",
        "epsilon",
        "chunk_size",
        "eval_every",
        "seed",
    ] {
        if let Some(v) = t(key) {
            s.insert(key.into(), v.clone());
        }
    }
    match train.get("optimizer_restart") {
        Some(Value::Object(r)) => {
            s.insert(
                "restart_after".into(),
                r.get("after_epoch").cloned().unwrap_or(Value::Null),
            );
            if let Some(lr) = r.get("learning_rate") {
                s.insert("restart_learning_rate".into(), lr.clone());
            }
        }
        Some(Value::Null) => {
            s.insert("restart_after".into(), Value::Null);
        }
        _ => {}
    }
    if let Some(Value::Object(it)) = train.get("iterative") {
        s.insert("iterative".into(), true.into());
        for (from, to) in [
            ("start_epoch", "iterative_start"),
            ("check_every", "iterative_every"),
            ("window", "iterative_window"),
        ] {
            if let Some(v) = it.get(from) {
                s.insert(to.into(), v.clone());
            }
        }
    }
    if let Some(eval) = t("eval") {
        match eval.pointer("/similarity/kind").and_then(Value::as_str) {
            Some("cosine") => {
                s.insert("similarity".into(), "cosine".into());
            }
            Some("csls") => {
                s.insert("similarity".into(), "csls".into());
                if let Some(k) = eval.pointer("/similarity/k") {
                    s.insert("csls_k".into(), k.clone());
                }
            }
            _ => {}
        }
        if let Some(pool) = eval.get("pool").and_then(Value::as_str) {
            s.insert("candidates".into(), pool.into());
        }
    }
    s
}
