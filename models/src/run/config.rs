//! `config.json` of a run folder: everything a run used, typed, with the model's resolved
//! settings (every knob, defaults included) and the deviations from its paper.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::eval::EvalOptions;
use crate::inputs::ModalityInputReport;
use crate::registry::{self, ModelFamily};
use crate::schema::{SettingError, Settings};
use crate::settings::CommonSettings;
use crate::train::TrainPlan;

/// The dataset a run used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetRecord {
    /// Folder it was read from.
    pub path: PathBuf,
    /// Format it was read as.
    pub format: String,
    /// The image-feature file given instead of the one beside the data, if any.
    #[serde(default)]
    pub image_features: Option<PathBuf>,
    /// The folder of features AlignScope derived for the dataset (encoded images), if
    /// the run read one.
    #[serde(default)]
    pub derived_features: Option<PathBuf>,
    /// Content fingerprint (with the derived features the run used).
    pub fingerprint: String,
    /// Entities per graph.
    pub entities: [usize; 2],
    /// Gold pairs.
    pub gold_pairs: usize,
}

/// The split a run used (its pairs are in the run folder's `split.tsv`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitRecord {
    /// Seed share.
    pub train_ratio: f64,
    /// Validation share.
    pub valid_ratio: f64,
    /// Split seed (the run seed).
    pub seed: u64,
    /// Pairs per part.
    pub train: usize,
    /// Validation pairs.
    pub valid: usize,
    /// Test pairs.
    pub test: usize,
    /// Explicit training pairs, when the run was given them (see
    /// [`RunSpec::seeds`](super::RunSpec::seeds)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seeds: Option<Vec<(String, String)>>,
    /// Pairs a person rejected, kept out of the pseudo seeds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<(String, String)>,
}

/// Everything a run used; `config.json` of the run folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Model id.
    pub model: String,
    /// The model's settings, resolved: every key of its schema.
    pub settings: Settings,
    /// The dataset.
    pub dataset: DatasetRecord,
    /// The split.
    pub split: SplitRecord,
    /// How each modality's input was obtained.
    pub modality_inputs: Vec<ModalityInputReport>,
    /// Where this implementation knowingly differs from the paper or the authors' code.
    pub deviations: Vec<String>,
    /// The device the run trained on.
    pub device: String,
}

impl RunConfig {
    /// Reads a stored config; one written before the registry (a LoginMEA run with
    /// `loginmea` and `train` objects) is read as the same settings.
    pub fn from_json(mut value: Value) -> Result<Self, serde_json::Error> {
        if let Some(object) = value.as_object_mut()
            && !object.contains_key("settings")
            && let Some(model) = object.remove("loginmea")
        {
            let train = object.remove("train").unwrap_or(Value::Null);
            let settings = crate::loginmea::legacy_settings(&model, &train);
            object.insert(
                "settings".into(),
                Value::Object(settings.into_iter().collect()),
            );
        }
        serde_json::from_value(value)
    }

    /// The run's model.
    pub fn family(&self) -> Result<&'static dyn ModelFamily, SettingError> {
        registry::find(&self.model)
    }

    /// The knobs every model has.
    pub fn common(&self) -> Result<CommonSettings, SettingError> {
        CommonSettings::from_settings(&self.model, &self.settings)
    }

    /// The trainer's plan.
    pub fn plan(&self) -> Result<TrainPlan, SettingError> {
        self.family()?.plan(&self.settings)
    }

    /// The run's evaluation options.
    pub fn eval_options(&self) -> Result<EvalOptions, SettingError> {
        Ok(self.common()?.eval_options())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A `config.json` as LoginMEA runs wrote it before the registry: the model's knobs
    /// in `loginmea`, the trainer's in `train`.
    fn legacy_config() -> Value {
        json!({
            "model": "loginmea",
            "loginmea": {"hidden": 64, "graph_layers": 1, "modalities": ["structure", "image"]},
            "train": {
                "epochs": 7,
                "seed": 3,
                "learning_rate": 0.002,
                "optimizer_restart": {"after_epoch": 5, "learning_rate": 0.0001},
                "iterative": {"start_epoch": 4, "check_every": 2, "window": 4},
                "eval": {"similarity": {"kind": "cosine"}}
            },
            "dataset": {
                "path": "/data/pair", "format": "alignscope", "fingerprint": "abc",
                "entities": [10, 12], "gold_pairs": 8
            },
            "split": {"train_ratio": 0.3, "valid_ratio": 0.0, "seed": 3,
                      "train": 2, "valid": 0, "test": 6},
            "modality_inputs": [],
            "deviations": [],
            "device": "cpu"
        })
    }

    #[test]
    fn a_config_stored_before_the_registry_reads_as_the_same_settings() {
        let config = RunConfig::from_json(legacy_config()).expect("the legacy config reads");
        let s = &config.settings;
        assert_eq!(s["hidden"], json!(64));
        assert_eq!(s["graph_layers"], json!(1));
        assert_eq!(s["modalities"], json!(["structure", "image"]));
        assert_eq!(s["epochs"], json!(7));
        assert_eq!(s["learning_rate"], json!(0.002));
        assert_eq!(s["restart_after"], json!(5));
        assert_eq!(s["restart_learning_rate"], json!(0.0001));
        assert_eq!(s["iterative"], json!(true));
        assert_eq!(s["iterative_window"], json!(4));
        assert_eq!(s["similarity"], json!("cosine"));
        // Knobs the old file did not have take today's defaults, so every key resolves.
        let defaults = crate::loginmea::Family.info().config.defaults();
        assert_eq!(s["temperature"], defaults["temperature"]);
        let common = config.common().expect("the settings resolve");
        assert_eq!((common.epochs, common.seed), (7, 3));
        assert!(config.plan().is_ok());
        // A config written today reads back unchanged.
        let today = serde_json::to_value(&config).unwrap();
        assert_eq!(RunConfig::from_json(today).unwrap(), config);
    }
}
