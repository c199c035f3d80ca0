//! What the training form offers: the devices this build and machine can use, and each
//! model's knobs with the paper's defaults, a one-sentence description and their range.

use alignscope_models::loginmea::LoginMeaConfig;
use alignscope_models::train::TrainConfig;
use serde_json::Value;

use super::dto::FieldKind::{Bool, Choice, Float, Int, List};
use super::dto::{
    ConfigFieldDto, DeviceOptionDto, FieldGroup, FieldKind, ModelOptionsDto, TrainingOptionsDto,
};
use super::{Api, ApiError, ApiResult, ErrorCode};
use crate::device::DeviceArg;

/// The benchmarks' share of gold pairs for training.
pub const DEFAULT_TRAIN_RATIO: f64 = 0.3;

/// A knob: name, kind, description, range, choices.
struct Knob {
    name: &'static str,
    kind: FieldKind,
    description: &'static str,
    min: Option<f64>,
    max: Option<f64>,
    choices: &'static [&'static str],
}

const fn knob(name: &'static str, kind: FieldKind, description: &'static str) -> Knob {
    Knob {
        name,
        kind,
        description,
        min: None,
        max: None,
        choices: &[],
    }
}

const fn ranged(
    name: &'static str,
    kind: FieldKind,
    description: &'static str,
    min: f64,
    max: Option<f64>,
) -> Knob {
    Knob {
        min: Some(min),
        max,
        ..knob(name, kind, description)
    }
}

const fn chosen(
    name: &'static str,
    kind: FieldKind,
    description: &'static str,
    choices: &'static [&'static str],
) -> Knob {
    Knob {
        choices,
        ..knob(name, kind, description)
    }
}

/// LoginMEA's knobs (`LoginMeaConfig`).
const LOGINMEA: &[Knob] = &[
    ranged(
        "hidden",
        Int,
        "Width of the entity, relation and fused embeddings.",
        1.0,
        Some(4096.0),
    ),
    ranged(
        "modality_dim",
        Int,
        "Width of each modality's projection before the fusion.",
        1.0,
        Some(4096.0),
    ),
    ranged(
        "fusion_rank",
        Int,
        "Rank of the low-rank fusion that mixes the modalities.",
        1.0,
        Some(256.0),
    ),
    ranged(
        "graph_layers",
        Int,
        "Graph layers per stream: how many hops of neighbours each embedding sees.",
        1.0,
        Some(8.0),
    ),
    ranged(
        "temperature",
        Float,
        "Temperature of the contrastive loss: lower values sharpen the softmax over candidates.",
        0.001,
        Some(10.0),
    ),
    chosen(
        "loss_direction",
        Choice,
        "Whether the contrastive loss ranks right candidates for left entities only, or both ways.",
        &["left_to_right", "both"],
    ),
    knob(
        "adaptive_weights",
        Bool,
        "Learn a weight per entity and modality instead of weighting every modality equally.",
    ),
    chosen(
        "fusion",
        Choice,
        "How modality embeddings are combined: the paper's low-rank fusion or plain concatenation.",
        &["low_rank", "concat"],
    ),
    chosen(
        "graph_layer",
        Choice,
        "The graph layer: relational reflection attention (the paper's) or plain graph attention.",
        &["reflection", "gat"],
    ),
    chosen(
        "modalities",
        List,
        "Modalities the model uses; leaving one out is the paper's ablation.",
        &["structure", "relation", "attribute", "image"],
    ),
    ranged(
        "bag_top_k",
        Int,
        "How many of the most frequent relations and attribute keys the bag-of-words features keep.",
        1.0,
        None,
    ),
];

/// The trainer's knobs (`TrainConfig`; nested ones keep their defaults).
const TRAINING: &[Knob] = &[
    ranged(
        "epochs",
        Int,
        "Training epochs; each is one pass over all entities and one optimiser step.",
        1.0,
        Some(100_000.0),
    ),
    ranged(
        "learning_rate",
        Float,
        "AdamW learning rate.",
        0.0,
        Some(1.0),
    ),
    ranged(
        "weight_decay",
        Float,
        "AdamW decoupled weight decay, pulling weights towards zero.",
        0.0,
        Some(1.0),
    ),
    ranged(
        "epsilon",
        Float,
        "AdamW's epsilon, guarding its division against zero.",
        0.0,
        Some(1.0),
    ),
    ranged(
        "chunk_size",
        Int,
        "Seed pairs per loss chunk; smaller chunks need less memory, the step is the same.",
        1.0,
        None,
    ),
    ranged(
        "eval_every",
        Int,
        "Evaluate on the test pairs (and checkpoint) every this many epochs.",
        1.0,
        None,
    ),
    ranged(
        "seed",
        Int,
        "Seed of parameter initialisation and shuffling: the same seed gives the same run.",
        0.0,
        None,
    ),
];

fn fields(group: FieldGroup, knobs: &[Knob], defaults: &Value) -> ApiResult<Vec<ConfigFieldDto>> {
    knobs
        .iter()
        .map(|k| {
            let default = defaults.get(k.name).cloned().ok_or_else(|| {
                ApiError::new(
                    ErrorCode::Internal,
                    format!("the default config has no field {:?}", k.name),
                )
            })?;
            Ok(ConfigFieldDto {
                name: k.name.into(),
                group,
                kind: k.kind,
                default,
                description: k.description.into(),
                min: k.min,
                max: k.max,
                choices: (!k.choices.is_empty())
                    .then(|| k.choices.iter().map(|c| c.to_string()).collect()),
            })
        })
        .collect()
}

fn defaults<T: serde::Serialize>(config: &T) -> ApiResult<Value> {
    serde_json::to_value(config).map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))
}

/// The devices and whether this build and machine can train on them.
fn devices() -> Vec<DeviceOptionDto> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cpu = DeviceOptionDto {
        name: DeviceArg::Cpu,
        available: true,
        detail: format!("the CPU ({cores} cores)"),
    };
    vec![cpu, cuda()]
}

#[cfg(feature = "cuda")]
fn cuda() -> DeviceOptionDto {
    static PROBE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let available =
        *PROBE.get_or_init(|| alignscope_models::compute::ComputeDevice::probe_cuda().is_some());
    DeviceOptionDto {
        name: DeviceArg::Cuda,
        available,
        detail: if available {
            "an NVIDIA GPU through CUDA".into()
        } else {
            "no usable CUDA GPU: the driver could not be loaded or has no device".into()
        },
    }
}

#[cfg(not(feature = "cuda"))]
fn cuda() -> DeviceOptionDto {
    DeviceOptionDto {
        name: DeviceArg::Cuda,
        available: false,
        detail: "this build has no CUDA support (rebuild with `--features cuda`)".into(),
    }
}

impl Api {
    /// Devices, and the models with their knobs and the paper's defaults.
    pub async fn training_options(&self) -> ApiResult<TrainingOptionsDto> {
        let mut knobs = fields(
            FieldGroup::Model,
            LOGINMEA,
            &defaults(&LoginMeaConfig::default())?,
        )?;
        knobs.extend(fields(
            FieldGroup::Training,
            TRAINING,
            &defaults(&TrainConfig::default())?,
        )?);
        let devices = tokio::task::spawn_blocking(devices)
            .await
            .map_err(|e| ApiError::new(ErrorCode::Internal, format!("device probe: {e}")))?;
        Ok(TrainingOptionsDto {
            devices,
            models: vec![ModelOptionsDto {
                name: "loginmea".into(),
                label: "LoginMEA".into(),
                fields: knobs,
            }],
            train_ratio: DEFAULT_TRAIN_RATIO,
            valid_ratio: 0.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Every knob exists in its config, and every choice is a value the config takes.
    #[test]
    fn knobs_match_the_configs() {
        for (knobs, defaults) in [
            (LOGINMEA, defaults(&LoginMeaConfig::default()).unwrap()),
            (TRAINING, defaults(&TrainConfig::default()).unwrap()),
        ] {
            for k in knobs {
                assert!(defaults.get(k.name).is_some(), "{}", k.name);
                assert!(k.description.ends_with('.'), "{}", k.name);
            }
        }
        for k in LOGINMEA {
            for choice in k.choices {
                let value = match k.kind {
                    List => json!([choice]),
                    _ => json!(choice),
                };
                let config: Result<LoginMeaConfig, _> =
                    serde_json::from_value(json!({ k.name: value }));
                assert!(config.is_ok(), "{} = {choice}: {config:?}", k.name);
            }
        }
    }

    #[test]
    fn defaults_are_the_papers() {
        let loginmea = fields(
            FieldGroup::Model,
            LOGINMEA,
            &defaults(&LoginMeaConfig::default()).unwrap(),
        )
        .unwrap();
        let hidden = loginmea.iter().find(|f| f.name == "hidden").unwrap();
        assert_eq!(hidden.default, json!(300));
        let training = fields(
            FieldGroup::Training,
            TRAINING,
            &defaults(&TrainConfig::default()).unwrap(),
        )
        .unwrap();
        let lr = training.iter().find(|f| f.name == "learning_rate").unwrap();
        assert_eq!(lr.default, json!(5e-4));
    }
}
