//! The knobs every model has: schedule length, seed, evaluation and iterative learning.
//! Each model sets its own defaults for them (its paper's) and adds its own knobs; the
//! two parts together are the model's [`Schema`](crate::schema::Schema).

use serde::{Deserialize, Serialize};

use crate::eval::{CandidatePool, EvalOptions, Similarity};
use crate::schema::{FieldDef, FieldGroup, SettingError, Settings, subset, typed};
use crate::train::{IterativeConfig, OptimizerSpec, TrainPlan};

/// How candidates are scored, as a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SimilarityChoice {
    /// CSLS with `csls_k` neighbours.
    Csls,
    /// Plain cosine.
    Cosine,
}

/// Which entities a query ranks, as a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CandidateChoice {
    /// The other side's entities of the test pairs (the papers' protocol).
    TestPairs,
    /// Every entity of the other graph.
    AllEntities,
}

/// The knobs every model has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommonSettings {
    /// Training epochs.
    pub epochs: usize,
    /// Evaluate (and checkpoint) every this many epochs.
    pub eval_every: usize,
    /// Seed of the split, the initialisation, shuffling and sampling.
    pub seed: u64,
    /// Scoring of candidates.
    pub similarity: SimilarityChoice,
    /// CSLS neighbourhood size.
    pub csls_k: usize,
    /// Candidate pool of the evaluation.
    pub candidates: CandidateChoice,
    /// Iterative learning (pseudo seeds from mutual nearest neighbours).
    pub iterative: bool,
    /// Epoch after which iterative checks start.
    pub iterative_start: usize,
    /// Epochs between checks.
    pub iterative_every: usize,
    /// Epochs a candidate must stay mutual before it becomes a seed (equal to
    /// `iterative_every`: every check adds its mutual pairs at once).
    pub iterative_window: usize,
}

impl Default for CommonSettings {
    fn default() -> Self {
        Self {
            epochs: 600,
            eval_every: 10,
            seed: 42,
            similarity: SimilarityChoice::Csls,
            csls_k: 3,
            candidates: CandidateChoice::TestPairs,
            iterative: false,
            iterative_start: 50,
            iterative_every: 5,
            iterative_window: 50,
        }
    }
}

/// The keys of [`CommonSettings`].
pub const COMMON_KEYS: &[&str] = &[
    "epochs",
    "eval_every",
    "seed",
    "similarity",
    "csls_k",
    "candidates",
    "iterative",
    "iterative_start",
    "iterative_every",
    "iterative_window",
];

/// The schema fields of [`CommonSettings`] (training first, then iterative learning,
/// then evaluation).
pub fn common_fields() -> Vec<FieldDef> {
    use FieldGroup::{Evaluation, Iterative, Training};
    vec![
        FieldDef::int("epochs", Training, "Training epochs.").range(Some(1.0), Some(100_000.0)),
        FieldDef::int(
            "eval_every",
            Evaluation,
            "Evaluate on the test pairs (and checkpoint) every this many epochs.",
        )
        .at_least(1.0),
        FieldDef::int(
            "seed",
            Training,
            "Seed of the split, initialisation, shuffling and sampling: the same seed gives the same run.",
        )
        .at_least(0.0),
        FieldDef::choice(
            "similarity",
            Evaluation,
            "How candidates are scored: CSLS (cosine corrected for hubs) or plain cosine.",
            &["csls", "cosine"],
        ),
        FieldDef::int(
            "csls_k",
            Evaluation,
            "Neighbours CSLS averages over to measure how much of a hub an entity is.",
        )
        .range(Some(1.0), Some(100.0)),
        FieldDef::choice(
            "candidates",
            Evaluation,
            "Which entities a query ranks: the test pairs' (the papers' protocol) or every entity of the other graph.",
            &["test_pairs", "all_entities"],
        ),
        FieldDef::bool(
            "iterative",
            Iterative,
            "Iterative learning: mutual nearest neighbours among unaligned entities become extra seed pairs.",
        ),
        FieldDef::int(
            "iterative_start",
            Iterative,
            "The epoch after which iterative learning starts looking for pairs.",
        )
        .at_least(0.0),
        FieldDef::int(
            "iterative_every",
            Iterative,
            "Epochs between iterative-learning checks.",
        )
        .at_least(1.0),
        FieldDef::int(
            "iterative_window",
            Iterative,
            "Epochs a pair must stay mutual at every check before it becomes a seed (equal to the check interval: each check adds its pairs).",
        )
        .at_least(1.0),
    ]
}

impl CommonSettings {
    /// The common part of resolved settings.
    pub fn from_settings(model: &str, settings: &Settings) -> Result<Self, SettingError> {
        let common: Self = typed(model, &subset(settings, COMMON_KEYS))?;
        if common.iterative
            && !common
                .iterative_window
                .is_multiple_of(common.iterative_every)
        {
            return Err(SettingError::Inconsistent {
                model: model.into(),
                message: format!(
                    "iterative_window ({}) must be a multiple of iterative_every ({}): a window ends at a check",
                    common.iterative_window, common.iterative_every
                ),
            });
        }
        Ok(common)
    }

    /// The evaluation these settings ask for.
    pub fn eval_options(&self) -> EvalOptions {
        EvalOptions {
            similarity: match self.similarity {
                SimilarityChoice::Csls => Similarity::Csls { k: self.csls_k },
                SimilarityChoice::Cosine => Similarity::Cosine,
            },
            pool: match self.candidates {
                CandidateChoice::TestPairs => CandidatePool::TestPairs,
                CandidateChoice::AllEntities => CandidatePool::AllEntities,
            },
            ..EvalOptions::default()
        }
    }

    /// The trainer's plan with these settings and a model's batching and optimiser.
    pub fn plan(
        &self,
        batch_size: Option<usize>,
        chunk_size: Option<usize>,
        optimizer: OptimizerSpec,
    ) -> TrainPlan {
        TrainPlan {
            epochs: self.epochs,
            batch_size,
            chunk_size,
            optimizer,
            secondary_optimizer: None,
            eval_every: self.eval_every,
            iterative: self.iterative_config(),
            visual_pivots: None,
            seed: self.seed,
            eval: self.eval_options(),
        }
    }

    /// EVA's schedule, which MCLEA's code keeps: 1,000 epochs evaluated every 50,
    /// iterative learning from epoch 500 (checks every 5 epochs, pairs added when mutual
    /// through 50), CSLS with k = 3.
    pub fn eva_lineage() -> Self {
        Self {
            epochs: 1000,
            eval_every: 50,
            iterative: true,
            iterative_start: 500,
            iterative_every: 5,
            iterative_window: 50,
            ..Self::default()
        }
    }

    /// Iterative learning, if on.
    pub fn iterative_config(&self) -> Option<IterativeConfig> {
        self.iterative.then_some(IterativeConfig {
            start_epoch: self.iterative_start,
            check_every: self.iterative_every,
            window: self.iterative_window,
        })
    }
}

/// A model's schema: its own fields (defaults from `own_defaults`) followed by the common
/// ones (defaults from `common`, the model's paper schedule).
pub fn model_schema(
    id: &str,
    own: Vec<FieldDef>,
    own_defaults: &impl Serialize,
    common: &CommonSettings,
) -> crate::schema::Schema {
    let mut defaults = match serde_json::to_value(own_defaults) {
        Ok(serde_json::Value::Object(o)) => o,
        other => panic!("{id}: the default config is not a JSON object: {other:?}"),
    };
    if let serde_json::Value::Object(c) = serde_json::to_value(common).expect("settings serialise")
    {
        defaults.extend(c);
    }
    let mut fields = own;
    fields.extend(common_fields());
    crate::schema::Schema::new(id, &fields, &defaults)
}

/// The model's own part of resolved settings (every key but the common ones), typed.
pub fn model_part<C: serde::de::DeserializeOwned>(
    model: &str,
    settings: &Settings,
) -> Result<C, SettingError> {
    let own: Settings = settings
        .iter()
        .filter(|(k, _)| !COMMON_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    typed(model, &own)
}

/// The AdamW knobs of the models whose authors' code descends from EVA's (LoginMEA,
/// EVA, MCLEA): the learning rate, decoupled weight decay, epsilon, and the restart
/// from `restart_after` on — a fresh AdamW every epoch at `restart_learning_rate`.
pub fn adamw_fields() -> Vec<FieldDef> {
    use FieldGroup::Training;
    vec![
        FieldDef::float("learning_rate", Training, "AdamW learning rate.")
            .range(Some(0.0), Some(1.0)),
        FieldDef::float(
            "weight_decay",
            Training,
            "AdamW decoupled weight decay, pulling weights towards zero.",
        )
        .range(Some(0.0), Some(1.0)),
        FieldDef::float(
            "epsilon",
            Training,
            "AdamW's epsilon, guarding its division against zero.",
        )
        .range(Some(0.0), Some(1.0)),
        FieldDef::int(
            "restart_after",
            Training,
            "From the epoch after this one, a fresh AdamW every epoch, as the authors' code does (none: never).",
        )
        .at_least(0.0)
        .optional(),
        FieldDef::float(
            "restart_learning_rate",
            Training,
            "Learning rate of the fresh AdamW after the restart.",
        )
        .range(Some(0.0), Some(1.0)),
    ]
}

/// The values of [`adamw_fields`], flattened into a model's config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdamWSettings {
    /// Learning rate (5e-4 in the EVA lineage).
    pub learning_rate: f64,
    /// Decoupled weight decay (0.01: PyTorch's default, which the authors' code keeps).
    pub weight_decay: f64,
    /// Denominator guard (1e-8, PyTorch's default).
    pub epsilon: f64,
    /// From the epoch after this one, a fresh AdamW every epoch (`None`: never).
    pub restart_after: Option<usize>,
    /// The fresh optimiser's learning rate (1e-4).
    pub restart_learning_rate: f64,
}

impl AdamWSettings {
    /// The EVA lineage's values with the restart after `restart_after` epochs.
    pub fn restarting_after(restart_after: usize) -> Self {
        Self {
            learning_rate: 5e-4,
            weight_decay: 0.01,
            epsilon: 1e-8,
            restart_after: Some(restart_after),
            restart_learning_rate: 1e-4,
        }
    }

    /// The optimiser and its restart.
    pub fn spec(&self) -> OptimizerSpec {
        OptimizerSpec {
            restart: self
                .restart_after
                .map(|after_epoch| crate::train::OptimizerRestart {
                    after_epoch,
                    learning_rate: self.restart_learning_rate,
                }),
            ..OptimizerSpec::adam_w(self.learning_rate, self.weight_decay, self.epsilon)
        }
    }
}
