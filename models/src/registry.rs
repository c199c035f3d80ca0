//! Every model AlignScope trains, in one list. A model is its folder in this crate plus
//! one entry in [`all`]: the CLI, the API, the store and the GUI read what they show and
//! accept from here, never from a model's own types.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use serde::Serialize;

use crate::compute::ComputeDevice;
use crate::eval::{DenseSimilarity, EvalOptions, Evaluation};
use crate::inputs::{MissingImageStandIn, ModalityKind};
use crate::run::{PreparedRun, RunError, RunResult, StepProbe};
use crate::schema::{Schema, SettingError, Settings};
use crate::train::{TrainEvent, TrainPlan};

/// A preset of the paper's ablation table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ablation {
    /// The paper's name for it ("w/o adaptive weights").
    pub label: String,
    /// The settings that make it.
    pub settings: Settings,
}

/// The preset `label` of `settings`.
pub fn ablation(label: &str, settings: &[(&str, serde_json::Value)]) -> Ablation {
    Ablation {
        label: label.into(),
        settings: crate::schema::settings_of(settings),
    }
}

/// The preset `label` that uses every modality of `order` but `kind`.
pub fn without_modality(label: &str, order: &[ModalityKind], kind: ModalityKind) -> Ablation {
    let rest: Vec<&str> = order
        .iter()
        .filter(|&&m| m != kind)
        .map(|m| m.as_str())
        .collect();
    ablation(label, &[("modalities", serde_json::json!(rest))])
}

/// The deviations of a run that leaves out some of the modalities of `order`.
pub fn missing_modality_deviations(
    order: &[ModalityKind],
    used: &[ModalityKind],
) -> impl Iterator<Item = String> {
    order
        .iter()
        .filter(|k| !used.contains(k))
        .map(|k| format!("ablation: without the {} modality", k.as_str()))
        .collect::<Vec<_>>()
        .into_iter()
}

/// What a model is, for people and for the form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelInfo {
    /// Id (`loginmea`, `tmea`, `mpsea`, `rrea`, `gcn-align`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// The paper.
    pub citation: String,
    /// One sentence on what the model does.
    pub summary: String,
    /// Modalities it can use.
    pub modalities: Vec<ModalityKind>,
    /// Its knobs with the paper's defaults.
    pub config: Schema,
    /// Its ablation switches as presets.
    pub ablations: Vec<Ablation>,
    /// Where this implementation knowingly differs from the paper or its code.
    pub deviations: Vec<String>,
    /// Whether it learns per-entity modality weights (shown in the inspector).
    pub modality_weights: bool,
    /// A small, fast configuration (narrow embeddings, a short schedule) that still
    /// finds a planted alignment: for smoke tests and a first look at a new dataset.
    pub quick: Settings,
}

/// What the dataset preparation must build for a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputNeeds {
    /// Modalities the run uses.
    pub modalities: Vec<ModalityKind>,
    /// Columns of the bag-of-relations and bag-of-attributes features.
    pub bag_top_k: usize,
    /// What an entity without an image gets in the image input.
    pub missing_images: MissingImageStandIn,
}

impl InputNeeds {
    /// `modalities` with bags of `bag_top_k` columns, an entity without an image getting
    /// its own random draw (the stand-in of EVA's code and those built on it).
    pub fn with_random_images(modalities: Vec<ModalityKind>, bag_top_k: usize) -> Self {
        Self {
            modalities,
            bag_top_k,
            missing_images: MissingImageStandIn::Random,
        }
    }
}

/// Where a run trains and reports.
pub struct RunIo<'a> {
    /// The run folder (checkpoints, exports), if any.
    pub out: Option<&'a Path>,
    /// Continue from the newest checkpoint.
    pub resume: bool,
    /// Raised to stop after the current epoch.
    pub cancel: &'a AtomicBool,
    /// Receives progress.
    pub progress: &'a mut dyn FnMut(&TrainEvent),
}

/// One model: its description and how to train and evaluate it on any device.
pub trait ModelFamily: Send + Sync {
    /// The description (built once).
    fn info(&self) -> &ModelInfo;

    /// Checks resolved settings together, beyond each field's own range.
    fn check(&self, settings: &Settings) -> Result<(), SettingError>;

    /// What the run's inputs must hold.
    fn input_needs(&self, settings: &Settings) -> Result<InputNeeds, SettingError>;

    /// The trainer's plan of resolved settings.
    fn plan(&self, settings: &Settings) -> Result<TrainPlan, SettingError>;

    /// Deviations of a run with these settings (the model's standing ones included).
    fn run_deviations(&self, settings: &Settings) -> Vec<String> {
        let _ = settings;
        self.info().deviations.clone()
    }

    /// Trains the prepared run on `device`.
    fn execute(
        &self,
        device: &ComputeDevice,
        prepared: &mut PreparedRun,
        io: RunIo<'_>,
    ) -> Result<RunResult, RunError>;

    /// Evaluates the model saved at `model_path` (a Burn record without extension).
    fn evaluate_saved(
        &self,
        device: &ComputeDevice,
        prepared: &PreparedRun,
        model_path: &Path,
        options: &EvalOptions,
    ) -> Result<Evaluation, RunError>;

    /// The test pairs' scores (left entities' rows, right entities' columns, in the
    /// split's order, under `options.similarity`) by the model saved at `model_path`.
    fn test_scores_saved(
        &self,
        device: &ComputeDevice,
        prepared: &PreparedRun,
        model_path: &Path,
        options: &EvalOptions,
    ) -> Result<DenseSimilarity, RunError>;

    /// The first training step's loss and the gradient norm of every parameter on
    /// `device`: that each parameter group learns, and that devices agree.
    fn gradient_norms(
        &self,
        device: &ComputeDevice,
        prepared: &PreparedRun,
    ) -> Result<StepProbe, RunError>;
}

/// Every model, in the order the GUI lists them.
pub fn all() -> [&'static dyn ModelFamily; 8] {
    [
        &crate::loginmea::Family,
        &crate::tmea::Family,
        &crate::mpsea::Family,
        &crate::rrea::Family,
        &crate::gcn_align::Family,
        &crate::eva::Family,
        &crate::mclea::Family,
        &crate::meaformer::Family,
    ]
}

/// The model `id`.
pub fn find(id: &str) -> Result<&'static dyn ModelFamily, SettingError> {
    all()
        .into_iter()
        .find(|m| m.info().id == id)
        .ok_or_else(|| SettingError::UnknownModel {
            model: id.into(),
            known: all().iter().map(|m| m.info().id.clone()).collect(),
        })
}

/// Resolves `given` settings for model `id`: the schema's check of each value, defaults
/// for the rest, then the model's check of the whole.
pub fn resolve(id: &str, given: &Settings) -> Result<Settings, SettingError> {
    let family = find(id)?;
    let settings = family.info().config.resolve(given)?;
    family.check(&settings)?;
    Ok(settings)
}

/// The device-bound methods of a [`ModelFamily`] (`execute`, `evaluate_saved`,
/// `gradient_norms`), written once for every model: `$config` reads the model's typed
/// config from settings, and `$build` builds the model from that config (`$c`), the
/// prepared run (`$prepared`) and the seed (`$seed`) for backend `$B` on device `$dev`.
/// Writes a family's `info` (built once from the module's `fn info() -> ModelInfo`) and
/// `check` (the schema's check, then `validate` on the model's typed config).
macro_rules! family_info_and_check {
    ($validate:expr) => {
        fn info(&self) -> &$crate::registry::ModelInfo {
            static INFO: std::sync::OnceLock<$crate::registry::ModelInfo> =
                std::sync::OnceLock::new();
            INFO.get_or_init(info)
        }

        fn check(
            &self,
            settings: &$crate::schema::Settings,
        ) -> Result<(), $crate::schema::SettingError> {
            $crate::registry::check_settings(ID, settings, $validate)
        }
    };
}
pub(crate) use family_info_and_check;

/// A family's `input_needs`, `plan` and `run_deviations` for a model config with `used()`
/// and `modalities` (chosen from `$order`), `bag_top_k` and `plan(&CommonSettings)`, read
/// from settings by `$config`, whose entities without an image get their own random
/// stand-in (EVA's code and those built on it). A run's deviations are the registry's,
/// one per modality of `$order` left out, then the strings `$extra` yields for the config
/// bound to `$c`.
macro_rules! family_random_image_methods {
    ($config:path, $id:expr, $order:expr, |$c:ident| $extra:expr) => {
        fn input_needs(
            &self,
            settings: &$crate::schema::Settings,
        ) -> Result<$crate::registry::InputNeeds, $crate::schema::SettingError> {
            let c = $config(settings)?;
            Ok($crate::registry::InputNeeds::with_random_images(
                c.used(),
                c.bag_top_k,
            ))
        }

        fn plan(
            &self,
            settings: &$crate::schema::Settings,
        ) -> Result<$crate::train::TrainPlan, $crate::schema::SettingError> {
            Ok(
                $config(settings)?.plan(&$crate::settings::CommonSettings::from_settings(
                    $id, settings,
                )?),
            )
        }

        fn run_deviations(&self, settings: &$crate::schema::Settings) -> Vec<String> {
            let mut d = self.info().deviations.clone();
            if let Ok($c) = $config(settings) {
                d.extend($crate::registry::missing_modality_deviations(
                    &$order,
                    &$c.modalities,
                ));
                d.extend($extra);
            }
            d
        }
    };
}
pub(crate) use family_random_image_methods;

/// The modalities of `order` that `chosen` holds, in `order`'s order; an error naming
/// them when there are none.
pub fn chosen_in_order(
    order: &[ModalityKind],
    chosen: &[ModalityKind],
) -> Result<Vec<ModalityKind>, String> {
    let used: Vec<ModalityKind> = order
        .iter()
        .copied()
        .filter(|m| chosen.contains(m))
        .collect();
    if used.is_empty() {
        let names: Vec<&str> = order.iter().map(|m| m.as_str()).collect();
        return Err(format!(
            "modalities: choose at least one of {}",
            names.join(", ")
        ));
    }
    Ok(used)
}

macro_rules! family_device_methods {
    ($config:path => |$c:ident, $prepared:ident, $seed:ident, $B:ident, $dev:ident| $build:expr) => {
        fn execute(
            &self,
            device: &$crate::compute::ComputeDevice,
            prepared: &mut $crate::run::PreparedRun,
            io: $crate::registry::RunIo<'_>,
        ) -> Result<$crate::run::RunResult, $crate::run::RunError> {
            let $c = $config(&prepared.config.settings)?;
            let plan = self.plan(&prepared.config.settings)?;
            let $seed = plan.seed;
            let $prepared = &*prepared;
            $crate::compute::with_backend!(device, $B, $dev => {
                let model = $build;
                $crate::run::train_and_export::<$B, _>(model, $prepared, &plan, $dev, io)
            })
        }

        fn evaluate_saved(
            &self,
            device: &$crate::compute::ComputeDevice,
            $prepared: &$crate::run::PreparedRun,
            model_path: &std::path::Path,
            options: &$crate::eval::EvalOptions,
        ) -> Result<$crate::eval::Evaluation, $crate::run::RunError> {
            let $c = $config(&$prepared.config.settings)?;
            let $seed = self.plan(&$prepared.config.settings)?.seed;
            $crate::compute::with_backend!(device, Outer, $dev => {
                type $B = <Outer as burn::tensor::backend::AutodiffBackend>::InnerBackend;
                let model = $build;
                $crate::run::evaluate_record::<$B, _>(model, model_path, $prepared, options, $dev)
            })
        }

        fn test_scores_saved(
            &self,
            device: &$crate::compute::ComputeDevice,
            $prepared: &$crate::run::PreparedRun,
            model_path: &std::path::Path,
            options: &$crate::eval::EvalOptions,
        ) -> Result<$crate::eval::DenseSimilarity, $crate::run::RunError> {
            let $c = $config(&$prepared.config.settings)?;
            let $seed = self.plan(&$prepared.config.settings)?.seed;
            $crate::compute::with_backend!(device, Outer, $dev => {
                type $B = <Outer as burn::tensor::backend::AutodiffBackend>::InnerBackend;
                let model = $build;
                $crate::run::decode::test_scores_of_record::<$B, _>(model, model_path, $prepared, options, $dev)
            })
        }

        fn gradient_norms(
            &self,
            device: &$crate::compute::ComputeDevice,
            $prepared: &$crate::run::PreparedRun,
        ) -> Result<$crate::run::StepProbe, $crate::run::RunError> {
            let $c = $config(&$prepared.config.settings)?;
            let plan = self.plan(&$prepared.config.settings)?;
            let $seed = plan.seed;
            $crate::compute::with_backend!(device, $B, $dev => {
                let model = $build;
                Ok($crate::run::gradient_norms::<$B, _>(&model, $prepared, &plan, $dev))
            })
        }
    };
}
pub(crate) use family_device_methods;

/// The shared part of [`ModelFamily::check`]: the common settings, then the model's own
/// part read into `C` and checked by `validate`.
pub(crate) fn check_settings<C: serde::de::DeserializeOwned>(
    id: &str,
    settings: &Settings,
    validate: impl FnOnce(&C) -> Result<(), String>,
) -> Result<(), SettingError> {
    crate::settings::CommonSettings::from_settings(id, settings)?;
    let own: C = crate::settings::model_part(id, settings)?;
    validate(&own).map_err(|message| SettingError::Inconsistent {
        model: id.into(),
        message,
    })
}
