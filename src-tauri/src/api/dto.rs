//! Serde DTOs: what crosses the API boundary (IPC, HTTP, CLI `--json`).

use std::path::PathBuf;

use alignscope_models::loginmea::LoginMeaConfig;
use alignscope_models::train::TrainConfig;
use serde::{Deserialize, Serialize};

use crate::device::DeviceArg;
use crate::store::{DatasetId, RunId, RunStatus, Verdict};

/// A registered dataset.
#[derive(Debug, Clone, Serialize)]
pub struct DatasetDto {
    /// Id.
    pub id: DatasetId,
    /// Name.
    pub name: String,
    /// Folder it is read from.
    pub source_path: String,
    /// Format.
    pub format: String,
    /// Content fingerprint.
    pub fingerprint: String,
    /// Statistics.
    pub statistics: serde_json::Value,
    /// Unix ms.
    pub created_at: i64,
}

/// The result of an import.
#[derive(Debug, Clone, Serialize)]
pub struct ImportedDataset {
    /// The dataset.
    pub dataset: DatasetDto,
    /// Whether it was registered before (same folder, same content).
    pub already_known: bool,
    /// Loader warnings (what was skipped and why).
    pub warnings: Vec<String>,
}

/// What to import.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ImportRequest {
    /// Dataset folder.
    pub path: PathBuf,
    /// Format (detected when absent): gcn-align, meaformer, openea, alignscope.
    pub format: Option<String>,
    /// Explicit image-feature file.
    pub image_features: Option<PathBuf>,
    /// Display name (the folder name when absent).
    pub name: Option<String>,
}

/// Which graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SideDto {
    /// The source graph.
    Left,
    /// The target graph.
    Right,
}

impl SideDto {
    /// 0 or 1, as stored.
    pub fn number(self) -> i64 {
        match self {
            Self::Left => 0,
            Self::Right => 1,
        }
    }

    /// From the stored number.
    pub fn from_number(n: i64) -> Self {
        if n == 0 { Self::Left } else { Self::Right }
    }
}

/// An entity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntityDto {
    /// Joint index (left graph first).
    pub entity: i64,
    /// Its graph.
    pub side: SideDto,
    /// Key in the source.
    pub key: String,
    /// Name or URI.
    pub name: String,
    /// Human label.
    pub label: String,
}

/// An attribute of an entity.
#[derive(Debug, Clone, Serialize)]
pub struct AttributeDto {
    /// Attribute key.
    pub key: String,
    /// Literal, where the source has one.
    pub value: Option<String>,
}

/// A relation of an entity.
#[derive(Debug, Clone, Serialize)]
pub struct RelationDto {
    /// Relation name.
    pub relation: String,
    /// `out` (entity is the head) or `in`.
    pub direction: String,
    /// The other entity.
    pub other: EntityDto,
}

/// Everything about one entity.
#[derive(Debug, Clone, Serialize)]
pub struct EntityDetailDto {
    /// The entity.
    pub entity: EntityDto,
    /// Attributes.
    pub attributes: Vec<AttributeDto>,
    /// Relations (capped; see `relation_count`).
    pub relations: Vec<RelationDto>,
    /// All relations.
    pub relation_count: usize,
    /// Distinct neighbours (capped).
    pub neighbours: Vec<EntityDto>,
    /// Image files.
    pub images: Vec<PathBuf>,
    /// Whether a precomputed image feature vector exists.
    pub has_image_features: bool,
}

/// What to train.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StartRunRequest {
    /// Dataset.
    pub dataset: DatasetId,
    /// Model name (`loginmea`).
    #[serde(default = "default_model")]
    pub model: String,
    /// Model config.
    #[serde(default)]
    pub loginmea: LoginMeaConfig,
    /// Training config.
    #[serde(default)]
    pub train: TrainConfig,
    /// Share of gold pairs for training.
    pub train_ratio: f64,
    /// Share of gold pairs for validation.
    #[serde(default)]
    pub valid_ratio: f64,
    /// Device.
    pub device: DeviceArg,
    /// Train on the seeds of this earlier run of the same dataset: its training pairs,
    /// plus accepted, minus rejected decisions (resolved into `seeds` when queued).
    #[serde(default)]
    pub seeds_from: Option<RunId>,
    /// Explicit training pairs (left key, right key) instead of the seeded split.
    #[serde(default)]
    pub seeds: Option<Vec<(String, String)>>,
}

fn default_model() -> String {
    "loginmea".into()
}

/// A run.
#[derive(Debug, Clone, Serialize)]
pub struct RunDto {
    /// Id.
    pub id: RunId,
    /// Dataset.
    pub dataset_id: DatasetId,
    /// Model.
    pub model: String,
    /// Status.
    pub status: RunStatus,
    /// Requested device.
    pub device: String,
    /// Device it ran on.
    pub device_label: Option<String>,
    /// Seed.
    pub seed: i64,
    /// Code version.
    pub code_version: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub started_at: Option<i64>,
    /// Unix ms.
    pub finished_at: Option<i64>,
    /// Epochs done.
    pub epochs_done: i64,
    /// Epochs planned.
    pub epochs_planned: i64,
    /// Best epoch.
    pub best_epoch: Option<i64>,
    /// Final test H@1 (left to right).
    pub hits_at_1: Option<f64>,
    /// Final test H@10.
    pub hits_at_10: Option<f64>,
    /// Final test MRR.
    pub mrr: Option<f64>,
    /// Final test MR.
    pub mr: Option<f64>,
    /// Final metrics, both directions.
    pub metrics: Option<serde_json::Value>,
    /// Error message.
    pub error: Option<String>,
    /// Full resolved config (model, training, dataset, split, deviations).
    pub config: Option<serde_json::Value>,
    /// Run folder.
    pub run_dir: PathBuf,
}

/// One epoch's metrics.
#[derive(Debug, Clone, Serialize)]
pub struct EpochDto {
    /// Epoch.
    pub epoch: i64,
    /// Loss.
    pub loss: f64,
    /// Training seconds.
    pub seconds: f64,
    /// Evaluation seconds.
    pub eval_seconds: Option<f64>,
    /// Test H@1.
    pub hits_at_1: Option<f64>,
    /// Test H@10.
    pub hits_at_10: Option<f64>,
    /// Test MRR.
    pub mrr: Option<f64>,
    /// Validation H@1.
    pub valid_hits_at_1: Option<f64>,
}

/// A test pair whose top-1 correctness differs between two runs.
#[derive(Debug, Clone, Serialize)]
pub struct FlipDto {
    /// Query (left).
    pub query: EntityDto,
    /// Its true match.
    pub truth: EntityDto,
    /// Rank of the truth in run A.
    pub rank_a: i64,
    /// Rank of the truth in run B.
    pub rank_b: i64,
}

/// Two runs side by side.
#[derive(Debug, Clone, Serialize)]
pub struct RunComparisonDto {
    /// Run A.
    pub a: RunDto,
    /// Run B.
    pub b: RunDto,
    /// Test queries (left to right) both runs ranked.
    pub common_queries: usize,
    /// Correct at top 1 in both.
    pub both_correct: usize,
    /// Correct in neither.
    pub neither_correct: usize,
    /// Correct in A only (B lost them).
    pub a_only: Vec<FlipDto>,
    /// Correct in B only (B gained them).
    pub b_only: Vec<FlipDto>,
    /// B minus A: H@1, H@10, MRR (left to right).
    pub delta: Option<[f64; 3]>,
}

/// One candidate of a query.
#[derive(Debug, Clone, Serialize)]
pub struct CandidateDto {
    /// 1-based rank.
    pub rank: i64,
    /// The candidate.
    pub entity: EntityDto,
    /// Score.
    pub score: f64,
    /// Whether it is the true match (test gold).
    pub is_true: bool,
    /// Cosine per modality (`CandidatesDto::modalities`).
    pub modality_scores: Vec<f32>,
    /// The candidate's modality weights (`CandidatesDto::weight_modalities`).
    pub weights: Option<Vec<f32>>,
    /// The standing decision about (query, candidate), if any.
    pub decision: Option<Verdict>,
}

/// The candidates of one entity in one run, with the per-modality breakdown.
#[derive(Debug, Clone, Serialize)]
pub struct CandidatesDto {
    /// Run.
    pub run: RunId,
    /// The query.
    pub query: EntityDto,
    /// The query's modality weights.
    pub query_weights: Option<Vec<f32>>,
    /// Names of the per-modality score columns.
    pub modalities: Vec<String>,
    /// Names of the weight columns.
    pub weight_modalities: Vec<String>,
    /// Best first.
    pub candidates: Vec<CandidateDto>,
}

/// A decision to record.
#[derive(Debug, Clone, Deserialize)]
pub struct DecisionRequest {
    /// Dataset.
    pub dataset: DatasetId,
    /// Left entity key.
    pub left: String,
    /// Right entity key.
    pub right: String,
    /// Verdict (accept, reject, unsure).
    pub verdict: Verdict,
    /// Source (manual unless imported or taken from a model).
    #[serde(default = "default_source")]
    pub source: crate::store::DecisionSource,
    /// Run that suggested the pair.
    pub run: Option<RunId>,
    /// Confidence.
    pub confidence: Option<f64>,
    /// Note.
    pub note: Option<String>,
    /// Author (the OS user when absent).
    pub author: Option<String>,
}

fn default_source() -> crate::store::DecisionSource {
    crate::store::DecisionSource::Manual
}

/// How to order the review queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStrategy {
    /// Smallest score gap between the top-1 and top-2 candidates first.
    LowestMargin,
    /// Pairs where the two directions (or two runs) disagree about the top-1.
    Disagreement,
    /// Candidates that are the top-1 of many queries first.
    Hubs,
}

/// A pair to review.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewItemDto {
    /// Left entity (the query).
    pub left: EntityDto,
    /// Right entity (the model's top-1).
    pub right: EntityDto,
    /// Score of the pair.
    pub score: f64,
    /// Gap to the second candidate.
    pub margin: Option<f64>,
    /// How many queries have this candidate as their top-1.
    pub hub_count: usize,
    /// Why it is in the queue.
    pub reason: String,
}

/// Export formats for pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// SSSOM TSV with a YAML header (curie map, mapping set metadata).
    Sssom,
    /// owl:sameAs N-Triples.
    Nt,
    /// Plain TSV: left, right, verdict, source, confidence.
    Tsv,
}

/// Seeds for a new run.
#[derive(Debug, Clone, Serialize)]
pub struct SeedSetDto {
    /// (left key, right key).
    pub pairs: Vec<(String, String)>,
    /// Training pairs of the base run.
    pub from_training: usize,
    /// Accepted decisions added.
    pub accepted_added: usize,
    /// Pairs removed because a decision rejects them.
    pub rejected_removed: usize,
}
