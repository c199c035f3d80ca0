//! What the training form offers: the devices this build and machine can use, and every
//! registered model with its knobs (the paper's defaults, ranges, help), ablations and
//! deviations, straight from the model registry.

use alignscope_models::registry::{self, ModelFamily};
use alignscope_models::schema::Field;

use super::dto::{
    AblationDto, ConfigFieldDto, DeviceOptionDto, ModelOptionsDto, TrainingOptionsDto,
};
use super::{Api, ApiError, ApiResult, ErrorCode};
use crate::device::DeviceArg;

/// The benchmarks' share of gold pairs for training.
pub const DEFAULT_TRAIN_RATIO: f64 = 0.3;

fn field_dto(f: &Field) -> ConfigFieldDto {
    ConfigFieldDto {
        key: f.key.clone(),
        group: f.group,
        kind: f.kind,
        default: f.default.clone(),
        help: f.help.clone(),
        min: f.min,
        max: f.max,
        choices: f.choices.clone(),
        optional: f.optional,
        allowed: f.allowed(),
    }
}

/// A registered model as the form shows it.
pub fn model_dto(family: &dyn ModelFamily) -> ModelOptionsDto {
    let info = family.info();
    ModelOptionsDto {
        id: info.id.clone(),
        name: info.name.clone(),
        citation: info.citation.clone(),
        summary: info.summary.clone(),
        modalities: info.modalities.iter().map(|m| m.as_str().into()).collect(),
        fields: info.config.fields.iter().map(field_dto).collect(),
        ablations: info
            .ablations
            .iter()
            .map(|a| AblationDto {
                label: a.label.clone(),
                settings: a.settings.clone(),
            })
            .collect(),
        deviations: info.deviations.clone(),
        modality_weights: info.modality_weights,
    }
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
    let available = crate::device::cuda_available();
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
        let devices = tokio::task::spawn_blocking(devices)
            .await
            .map_err(|e| ApiError::new(ErrorCode::Internal, format!("device probe: {e}")))?;
        Ok(TrainingOptionsDto {
            devices,
            models: registry::all().into_iter().map(model_dto).collect(),
            train_ratio: DEFAULT_TRAIN_RATIO,
            valid_ratio: 0.0,
        })
    }
}
