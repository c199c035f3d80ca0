//! Serde DTOs: what crosses the API boundary (IPC, HTTP, CLI `--json`).

use std::path::PathBuf;

use alignscope_models::schema::{FieldGroup, FieldKind, Settings};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::device::DeviceArg;
use crate::store::{DatasetId, RunId, RunStatus, Verdict};

/// A registered dataset.
#[derive(Debug, Clone, Serialize, TS)]
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
    /// When it was removed (Unix ms): its decision history stays exportable, importing
    /// its folder again restores it.
    pub removed_at: Option<i64>,
}

/// What removing a dataset did.
#[derive(Debug, Clone, Serialize, TS)]
pub struct RemovedDatasetDto {
    /// The dataset.
    pub dataset: DatasetId,
    /// Runs deleted with their files.
    pub runs_removed: usize,
    /// Decisions kept (exportable; restored with the dataset by a new import).
    pub decisions_kept: usize,
}

/// The result of an import.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ImportedDataset {
    /// The dataset.
    pub dataset: DatasetDto,
    /// Whether it was registered before (same folder, same content).
    pub already_known: bool,
    /// Loader warnings (what was skipped and why).
    pub warnings: Vec<String>,
    /// Whether some entities have image files but no image features yet: encode them
    /// with `encode_features` (the CLI's import does so unless `--no-encode`).
    pub images_to_encode: bool,
    /// Whether some entities have attribute statements without text embeddings yet:
    /// encode them with `encode_features` (the CLI's import does so unless `--no-encode`).
    pub text_to_encode: bool,
}

/// What to import.
#[derive(Debug, Clone, Default, Deserialize, TS)]
pub struct ImportRequest {
    /// Dataset folder.
    pub path: PathBuf,
    /// Format (detected when absent): gcn-align, meaformer, openea, alignscope.
    #[ts(optional)]
    pub format: Option<String>,
    /// Explicit image-feature file.
    #[ts(optional)]
    pub image_features: Option<PathBuf>,
    /// Display name (the folder name when absent).
    #[ts(optional)]
    pub name: Option<String>,
}

/// Which graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
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

    /// `left` or `right`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Left => "left",
            Self::Right => "right",
        }
    }
}

impl From<SideDto> for alignscope_datasets::Side {
    fn from(side: SideDto) -> Self {
        match side {
            SideDto::Left => Self::Left,
            SideDto::Right => Self::Right,
        }
    }
}

impl From<alignscope_datasets::Side> for SideDto {
    fn from(side: alignscope_datasets::Side) -> Self {
        match side {
            alignscope_datasets::Side::Left => Self::Left,
            alignscope_datasets::Side::Right => Self::Right,
        }
    }
}

/// An entity.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
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
#[derive(Debug, Clone, Serialize, TS)]
pub struct AttributeDto {
    /// Attribute key.
    pub key: String,
    /// Literal, where the source has one.
    pub value: Option<String>,
}

/// A relation of an entity.
#[derive(Debug, Clone, Serialize, TS)]
pub struct RelationDto {
    /// Relation name.
    pub relation: String,
    /// `out` (entity is the head) or `in`.
    pub direction: String,
    /// The other entity.
    pub other: EntityDto,
}

/// Everything about one entity.
#[derive(Debug, Clone, Serialize, TS)]
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
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct StartRunRequest {
    /// Dataset.
    pub dataset: DatasetId,
    /// Model id (one of those `training_options` lists, such as `loginmea`).
    #[serde(default = "default_model")]
    #[ts(as = "Option<String>", optional)]
    pub model: String,
    /// Settings by key, as the model's schema in `training_options` lists them; missing
    /// ones take the paper's defaults. Refused before anything runs if a key is unknown
    /// or a value out of range.
    #[serde(default)]
    #[ts(
        as = "Option<std::collections::HashMap<String, serde_json::Value>>",
        optional
    )]
    pub settings: Settings,
    /// Older requests' LoginMEA config object (read into `settings`; never written).
    #[serde(default, skip_serializing)]
    #[ts(skip)]
    pub loginmea: Option<serde_json::Value>,
    /// Older requests' training config object (read into `settings`; never written).
    #[serde(default, skip_serializing)]
    #[ts(skip)]
    pub train: Option<serde_json::Value>,
    /// Share of gold pairs for training.
    pub train_ratio: f64,
    /// Share of gold pairs for validation.
    #[serde(default)]
    #[ts(as = "Option<f64>", optional)]
    pub valid_ratio: f64,
    /// Device.
    pub device: DeviceArg,
    /// Train on the seeds of this earlier run of the same dataset: its training pairs,
    /// plus accepted, minus rejected decisions (resolved into `seeds` when queued).
    #[serde(default)]
    #[ts(optional)]
    pub seeds_from: Option<RunId>,
    /// Explicit training pairs (left key, right key) instead of the seeded split.
    #[serde(default)]
    #[ts(optional)]
    pub seeds: Option<Vec<(String, String)>>,
    /// Pairs (left key, right key) never to take as pseudo seeds; with `seeds_from`, the
    /// standing rejected decisions are added.
    #[serde(default)]
    #[ts(optional)]
    pub rejected: Option<Vec<(String, String)>>,
}

impl StartRunRequest {
    /// Whether a split of `train_ratio` seeds and `valid_ratio` validation pairs leaves
    /// test pairs: seeds positive, validation not negative (0 holds none out), together
    /// under 1.
    pub fn split_fits(train_ratio: f64, valid_ratio: f64) -> bool {
        train_ratio > 0.0 && valid_ratio >= 0.0 && train_ratio + valid_ratio < 1.0
    }

    /// A request to train `model` with `settings` on `dataset`, its split `train_ratio`
    /// seeds and the rest test pairs (no validation part, no explicit seeds).
    pub fn new(
        dataset: DatasetId,
        model: &str,
        settings: Settings,
        train_ratio: f64,
        device: DeviceArg,
    ) -> Self {
        Self {
            dataset,
            model: model.into(),
            settings,
            loginmea: None,
            train: None,
            train_ratio,
            valid_ratio: 0.0,
            device,
            seeds_from: None,
            seeds: None,
            rejected: None,
        }
    }

    /// Moves an older request's `loginmea`/`train` objects into `settings` (explicit
    /// settings win).
    pub fn upgrade(&mut self) {
        if self.loginmea.is_none() && self.train.is_none() {
            return;
        }
        let model = self.loginmea.take().unwrap_or_default();
        let train = self.train.take().unwrap_or_default();
        let mut settings = alignscope_models::loginmea::legacy_settings(&model, &train);
        settings.append(&mut self.settings);
        self.settings = settings;
    }

    /// The `seed` setting, or the model's default.
    pub fn seed(&self) -> u64 {
        self.setting_u64("seed")
    }

    /// The `epochs` setting, or the model's default.
    pub fn epochs(&self) -> u64 {
        self.setting_u64("epochs")
    }

    fn setting_u64(&self, key: &str) -> u64 {
        self.settings
            .get(key)
            .and_then(serde_json::Value::as_u64)
            .or_else(|| {
                let family = alignscope_models::registry::find(&self.model).ok()?;
                family.info().config.field(key)?.default.as_u64()
            })
            .unwrap_or(0)
    }
}

fn default_model() -> String {
    "loginmea".into()
}

/// A run.
#[derive(Debug, Clone, Serialize, TS)]
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
    /// The earlier run whose training pairs and decisions this one was trained with.
    pub seeds_from: Option<RunId>,
    /// Peak resident memory (MiB) of the process while it prepared and trained, if
    /// measured.
    pub peak_memory_mib: Option<f64>,
    /// Mean training seconds per epoch.
    pub seconds_per_epoch: Option<f64>,
    /// Test H@1 of its best epoch (by validation H@1), where that epoch was evaluated.
    pub best_hits_at_1: Option<f64>,
    /// Test H@10 of its best epoch.
    pub best_hits_at_10: Option<f64>,
    /// Test MRR of its best epoch.
    pub best_mrr: Option<f64>,
    /// Validation H@1 of its best epoch, where the best epoch was chosen on a validation
    /// part.
    pub best_valid_hits_at_1: Option<f64>,
}

/// One epoch's metrics.
#[derive(Debug, Clone, Serialize, TS)]
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
    /// Each named loss term of the epoch (one curve each; their sum is `loss`).
    #[ts(as = "std::collections::HashMap<String, f64>")]
    pub loss_terms: std::collections::BTreeMap<String, f64>,
    /// The model's diagnostics of the epoch (an imputation's fit, say; one curve each).
    #[ts(as = "std::collections::HashMap<String, f64>")]
    pub diagnostics: std::collections::BTreeMap<String, f64>,
}

/// A file a run wrote.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ArtifactDto {
    /// Kind (config, checkpoint, candidates, ranks, ...).
    pub kind: String,
    /// Path relative to the data directory.
    pub path: String,
    /// Size in bytes.
    pub bytes: i64,
    /// SHA-256, hex.
    pub sha256: String,
}

/// A test pair whose top-1 correctness differs between two runs.
#[derive(Debug, Clone, Serialize, TS)]
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
#[derive(Debug, Clone, Serialize, TS)]
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
#[derive(Debug, Clone, Serialize, TS)]
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
#[derive(Debug, Clone, Serialize, TS)]
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
    /// How the run scores a pair: `cosine`, or `csls` (`2 cos − r(x) − r(y)`, `r` the
    /// mean cosine to the nearest neighbours on the other side), as its config says.
    pub similarity: Option<String>,
    /// Best first.
    pub candidates: Vec<CandidateDto>,
}

/// A decision to record.
#[derive(Debug, Clone, Deserialize, TS)]
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
    #[ts(as = "Option<crate::store::DecisionSource>", optional)]
    pub source: crate::store::DecisionSource,
    /// Run that suggested the pair.
    #[ts(optional)]
    pub run: Option<RunId>,
    /// Confidence.
    #[ts(optional)]
    pub confidence: Option<f64>,
    /// Note.
    #[ts(optional)]
    pub note: Option<String>,
    /// Author (the OS user when absent).
    #[ts(optional)]
    pub author: Option<String>,
    /// The review-queue ordering that showed the pair (decisions on `random` pairs give
    /// the run's precision estimate).
    #[serde(default)]
    #[ts(optional)]
    pub strategy: Option<ReviewStrategy>,
    /// The window (or process) taking it: an undo there takes back only its own.
    #[serde(default)]
    #[ts(optional)]
    pub session: Option<String>,
    /// Taken in blind mode (no score, rank or gold badge shown).
    #[serde(default)]
    #[ts(optional)]
    pub blind: Option<bool>,
    /// An adjudication of a pair the reviewers disagree about: final.
    #[serde(default)]
    #[ts(optional)]
    pub adjudication: Option<bool>,
}

fn default_source() -> crate::store::DecisionSource {
    crate::store::DecisionSource::Manual
}

/// How to order the review queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, TS)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStrategy {
    /// Smallest score gap between the top-1 and top-2 candidates first.
    LowestMargin,
    /// Pairs where the two directions (or two runs) disagree about the top-1.
    Disagreement,
    /// Candidates that are the top-1 of many queries first.
    Hubs,
    /// A fixed random order per run: decisions on its pairs estimate precision without
    /// bias.
    Random,
    /// The pairs of the run's saved one-to-one decoding (Sinkhorn's where it has one,
    /// else Hungarian's, else greedy's), least confident first.
    OneToOne,
}

impl ReviewStrategy {
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LowestMargin => "lowest_margin",
            Self::Disagreement => "disagreement",
            Self::Hubs => "hubs",
            Self::Random => "random",
            Self::OneToOne => "one_to_one",
        }
    }
}

/// Which pairs a review queue holds.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, TS,
)]
#[serde(rename_all = "snake_case")]
pub enum ReviewScope {
    /// The run's top-1 predictions nobody decided yet, in the strategy's order.
    #[default]
    Undecided,
    /// Pairs another reviewer decided by hand and you have not, oldest first; their
    /// verdicts stay hidden until yours is in.
    SecondOpinion,
    /// Pairs the reviewers disagree about, with what each said; a decision here is an
    /// adjudication, and final.
    Disagreements,
    /// Accepted pairs that break one-to-one (an entity with two accepted partners) or
    /// clash with the accepted neighbour structure, with the pairs they clash with.
    Conflicts,
}

/// What one reviewer said about a pair.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ReviewerVerdictDto {
    /// The reviewer.
    pub reviewer: String,
    /// Their standing verdict.
    pub verdict: Verdict,
    /// Their note.
    pub note: Option<String>,
    /// When (Unix ms).
    pub decided_at: i64,
}

/// A pair to review.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ReviewItemDto {
    /// Left entity (the query).
    pub left: EntityDto,
    /// Right entity (the model's top-1, or the pair a reviewer decided).
    pub right: EntityDto,
    /// The right entity's rank among the left's candidates in the run (`None`: not
    /// among them, or blind mode).
    pub rank: Option<i64>,
    /// Score of the pair (`None`: not among the run's candidates, or blind mode).
    pub score: Option<f64>,
    /// Gap to the second candidate.
    pub margin: Option<f64>,
    /// How many queries have this candidate as their top-1.
    pub hub_count: usize,
    /// Why it is in the queue.
    pub reason: String,
    /// What each reviewer said (in the disagreements and conflicts queues).
    pub reviews: Vec<ReviewerVerdictDto>,
    /// Accepted pairs (left key, right key) this one clashes with (conflicts queue).
    pub related: Vec<(String, String)>,
}

/// Export formats for pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, TS)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// SSSOM TSV with a YAML header (curie map, mapping set metadata).
    Sssom,
    /// owl:sameAs N-Triples.
    Nt,
    /// Plain TSV: left, right, justification, confidence (and `same` with negatives).
    Tsv,
    /// Every decision row of the dataset for audit (TSV): who, when, what, what it undid.
    History,
}

/// Which pairs to export, and how.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct ExportRequest {
    /// The dataset.
    pub dataset: DatasetId,
    /// The format.
    pub format: ExportFormat,
    /// Also this run's undecided mutual top-1 predictions.
    #[serde(default)]
    #[ts(optional)]
    pub run: Option<RunId>,
    /// Only predictions scoring at least this (all mutual top-1s when absent); with a
    /// decoder, its confidence.
    #[serde(default)]
    #[ts(optional)]
    pub min_score: Option<f64>,
    /// The run's predictions are the pairs of its saved decoding by this method instead
    /// of its mutual top-1s (a confidence from the decoder).
    #[serde(default)]
    #[ts(optional)]
    pub decoder: Option<DecoderMethod>,
    /// Also the pairs reviewers rejected, as negative mappings (default: no).
    #[serde(default)]
    #[ts(as = "Option<bool>", optional)]
    pub negatives: bool,
    /// Who decided each pair, when, and from which run and decision (default: yes).
    #[serde(default = "yes")]
    #[ts(as = "Option<bool>", optional)]
    pub provenance: bool,
}

fn yes() -> bool {
    true
}

impl ExportRequest {
    /// The accepted pairs of `dataset` in `format`, with provenance, without negatives.
    pub fn new(dataset: DatasetId, format: ExportFormat) -> Self {
        Self {
            dataset,
            format,
            run: None,
            min_score: None,
            decoder: None,
            negatives: false,
            provenance: true,
        }
    }
}

/// Seeds for a new run.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SeedSetDto {
    /// (left key, right key).
    pub pairs: Vec<(String, String)>,
    /// Training pairs of the base run.
    pub from_training: usize,
    /// Accepted decisions added.
    pub accepted_added: usize,
    /// Pairs removed because a decision rejects them.
    pub rejected_removed: usize,
    /// Every pair a standing decision rejects (kept out of pseudo seeds).
    pub rejected: Vec<(String, String)>,
}

/// Entities whose degree (relational triples they take part in) falls in
/// `min_degree..=max_degree`. Buckets are powers of two: 0, 1, 2–3, 4–7, …
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct DegreeBucketDto {
    /// Smallest degree in the bucket.
    pub min_degree: usize,
    /// Largest degree in the bucket.
    pub max_degree: usize,
    /// Entities in it.
    pub entities: usize,
}

/// How many entities of a graph have each modality.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct CoverageDto {
    /// At least one relational triple.
    pub with_relations: usize,
    /// At least one attribute triple.
    pub with_attributes: usize,
    /// At least one image file.
    pub with_images: usize,
    /// A precomputed image feature vector.
    pub with_image_features: usize,
}

/// One graph of a dataset at a glance.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SideOverviewDto {
    /// Which graph.
    pub side: SideDto,
    /// Entities.
    pub entities: usize,
    /// Relational triples.
    pub triples: usize,
    /// Distinct relations.
    pub relations: usize,
    /// Attribute triples.
    pub attribute_triples: usize,
    /// Degree distribution, log2 buckets (empty buckets included up to the largest).
    pub degree_histogram: Vec<DegreeBucketDto>,
    /// Modality coverage.
    pub coverage: CoverageDto,
}

/// A dataset's statistics for charts: degree distribution and modality coverage.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DatasetOverviewDto {
    /// The dataset.
    pub dataset: DatasetId,
    /// The left graph, then the right one.
    pub sides: Vec<SideOverviewDto>,
    /// Gold pairs.
    pub gold_pairs: usize,
}

/// An entity of a neighbourhood and its distance from the centre.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct NeighbourNodeDto {
    /// The entity.
    pub entity: EntityDto,
    /// Hops from the centre (0 for the centre itself).
    pub hop: u8,
}

/// A relational triple between two entities of a neighbourhood.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct NeighbourEdgeDto {
    /// Head (joint entity index).
    pub source: i64,
    /// Tail (joint entity index).
    pub target: i64,
    /// Relation name.
    pub relation: String,
}

/// An entity's 1- or 2-hop neighbourhood, for the graph view.
#[derive(Debug, Clone, Serialize, TS)]
pub struct NeighbourhoodDto {
    /// The centre.
    pub center: EntityDto,
    /// Entities, the centre first (hop 0), then by hop.
    pub nodes: Vec<NeighbourNodeDto>,
    /// Triples among the nodes (both ends in `nodes`).
    pub edges: Vec<NeighbourEdgeDto>,
    /// Whether nodes (or edges) were left out to keep within the limit.
    pub truncated: bool,
}

/// A compute device and whether this build and machine can use it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DeviceOptionDto {
    /// The device.
    pub name: DeviceArg,
    /// Whether a run can use it.
    pub available: bool,
    /// What it is, or why it is not available.
    pub detail: String,
}

/// One knob of a model (its schema field).
#[derive(Debug, Clone, Serialize, TS)]
pub struct ConfigFieldDto {
    /// Key in `StartRunRequest::settings`.
    pub key: String,
    /// Form group.
    pub group: FieldGroup,
    /// Kind of value.
    pub kind: FieldKind,
    /// The paper's default.
    pub default: serde_json::Value,
    /// What the knob does (one sentence).
    pub help: String,
    /// Smallest allowed value.
    pub min: Option<f64>,
    /// Largest allowed value.
    pub max: Option<f64>,
    /// Allowed values (`choice`, `list`).
    pub choices: Option<Vec<String>>,
    /// Whether it may be left empty (off).
    pub optional: bool,
    /// What is allowed, in words (as error messages say it).
    pub allowed: String,
}

/// A preset of a paper's ablation table.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AblationDto {
    /// The paper's name for it.
    pub label: String,
    /// The settings that make it.
    #[ts(as = "std::collections::HashMap<String, serde_json::Value>")]
    pub settings: Settings,
}

/// A model that can be trained, as the registry describes it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ModelOptionsDto {
    /// Id, as `StartRunRequest::model`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The paper.
    pub citation: String,
    /// One sentence on what it does.
    pub summary: String,
    /// Modalities it can use.
    pub modalities: Vec<String>,
    /// Its knobs with the paper's defaults, in form order.
    pub fields: Vec<ConfigFieldDto>,
    /// Its ablation presets.
    pub ablations: Vec<AblationDto>,
    /// Where this implementation differs from the paper.
    pub deviations: Vec<String>,
    /// Whether it learns per-entity modality weights.
    pub modality_weights: bool,
}

/// What the training form offers.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TrainingOptionsDto {
    /// Compute devices.
    pub devices: Vec<DeviceOptionDto>,
    /// Models.
    pub models: Vec<ModelOptionsDto>,
    /// Default share of gold pairs used for training (the benchmarks' 30%).
    pub train_ratio: f64,
    /// Default share of gold pairs held out for validation.
    pub valid_ratio: f64,
}

/// Where the built-in demo dataset stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DemoState {
    /// Not built, and no build running.
    Missing,
    /// Being built (see `stage`, `done`, `total`).
    Building,
    /// Built and registered (see `dataset`).
    Ready,
    /// The build failed (see `message`).
    Failed,
    /// It cannot be built here: its sources or the encoder's weights are missing.
    Unavailable,
}

/// The built-in demo dataset's state.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DemoStatusDto {
    /// State.
    pub state: DemoState,
    /// The registered dataset, once ready.
    pub dataset: Option<DatasetDto>,
    /// What the build is doing (`assembling`, `encoding left`, `encoding right`,
    /// `writing`, `registering`).
    pub stage: Option<String>,
    /// Progress within the stage.
    pub done: Option<usize>,
    /// Total of the stage.
    pub total: Option<usize>,
    /// Why it failed or is unavailable, and how to fix it.
    pub message: Option<String>,
}

/// How to sort a run's test queries in the inspector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, TS)]
#[serde(rename_all = "snake_case")]
pub enum QueryOrder {
    /// Least confident first (smallest top-1 score).
    Confidence,
    /// Worst first (largest rank of the true match).
    Error,
    /// Best connected first (most relation triples).
    Degree,
}

/// A test query of a run with its top-1 candidate, for the inspector's list.
#[derive(Debug, Clone, Serialize, TS)]
pub struct RunQueryDto {
    /// The query (left graph).
    pub entity: EntityDto,
    /// Its top-1 candidate.
    pub top1: EntityDto,
    /// Score of the top-1.
    pub score: f64,
    /// Gap to the second candidate.
    pub margin: Option<f64>,
    /// Rank of the true match, where the query has one in the test gold.
    pub true_rank: Option<i64>,
    /// Relation triples the query takes part in.
    pub degree: usize,
    /// The standing decision about (query, top-1).
    pub decision: Option<Verdict>,
}

/// Why two entities of a pair's neighbourhoods are drawn as aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// A training pair of the run.
    Seed,
    /// A standing accept decision.
    Accepted,
    /// Each is the other's top-1 in the run.
    MutualTop1,
}

/// Two entities, one in each neighbourhood, that are aligned.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct AlignedLinkDto {
    /// Left entity (joint index).
    pub left: i64,
    /// Right entity (joint index).
    pub right: i64,
    /// Why.
    pub kind: LinkKind,
}

/// What the pair view draws: both entities' neighbourhoods and the alignments that link
/// them.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PairContextDto {
    /// The left entity's neighbourhood.
    pub left: NeighbourhoodDto,
    /// The right entity's neighbourhood.
    pub right: NeighbourhoodDto,
    /// Aligned pairs among the nodes (the centres included).
    pub links: Vec<AlignedLinkDto>,
}

/// A run's precision estimated from decisions on pairs of its random review order.
#[derive(Debug, Clone, Default, Serialize, TS)]
pub struct PrecisionEstimateDto {
    /// Random-sample pairs accepted.
    pub accepted: usize,
    /// Random-sample pairs rejected.
    pub rejected: usize,
    /// Of the accepted and rejected, decided in blind mode (no score shown).
    pub blind: usize,
    /// Of the accepted and rejected, decided with the model's score in view.
    pub sighted: usize,
    /// accepted / (accepted + rejected), when any were decided.
    pub precision: Option<f64>,
    /// Lower end of the 95% Wilson interval.
    pub low: Option<f64>,
    /// Upper end of the 95% Wilson interval.
    pub high: Option<f64>,
}

/// How far the review of a run's top-1 predictions has come.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ReviewProgressDto {
    /// Left-to-right top-1 predictions of the run.
    pub predictions: usize,
    /// Predictions with a standing accept.
    pub accepted: usize,
    /// Predictions with a standing reject.
    pub rejected: usize,
    /// Predictions marked unsure.
    pub unsure: usize,
    /// Predictions the reviewers disagree about (not counted above until adjudicated).
    pub disputed: usize,
    /// Precision from the random sample.
    pub random_sample: PrecisionEstimateDto,
}

/// Test queries in a group and how many of them rank their true match first.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct HitsGroupDto {
    /// What the group is (`4–7`, `with image`).
    pub label: String,
    /// Left-to-right test queries in it.
    pub queries: usize,
    /// Of those, ranked right at the top.
    pub hits_at_1: usize,
}

/// H@1 of queries that have a modality against those that lack it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ModalityHitsDto {
    /// The modality (`image`, `attribute`, `relation`).
    pub modality: String,
    /// Queries whose entity has it.
    pub with: HitsGroupDto,
    /// Queries whose entity lacks it.
    pub without: HitsGroupDto,
}

/// A right entity that is the top-1 of many left queries.
#[derive(Debug, Clone, Serialize, TS)]
pub struct HubDto {
    /// The entity.
    pub entity: EntityDto,
    /// Left queries whose top-1 it is.
    pub top1_of: usize,
    /// Whether one of them is its true match.
    pub has_true_match: bool,
}

/// Where a run succeeds and fails over its test queries.
#[derive(Debug, Clone, Serialize, TS)]
pub struct RunAnalysisDto {
    /// Test metrics under cosine and CSLS (`exports/similarity_metrics.json`; absent for
    /// runs exported before it existed).
    pub similarity_metrics: Option<serde_json::Value>,
    /// H@1 by the query's degree (log2 buckets).
    pub by_degree: Vec<HitsGroupDto>,
    /// H@1 with and without each modality.
    pub by_modality: Vec<ModalityHitsDto>,
    /// Right entities that are the top-1 of most queries, most first (two or more).
    pub hubs: Vec<HubDto>,
}

/// The run's test entities on the plane of the first two principal components of its
/// final embeddings, as parallel columns.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ProjectionDto {
    /// First component.
    pub x: Vec<f32>,
    /// Second component.
    pub y: Vec<f32>,
    /// Entity key.
    pub key: Vec<String>,
    /// Entity label.
    pub label: Vec<String>,
    /// 0: left query ranked right at the top, 1: left query ranked wrong, 2: right entity.
    pub kind: Vec<u8>,
}

/// Where an encoding of a dataset's image files or text stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum EncodingState {
    /// No encoding has run in this process.
    Idle,
    /// Encoding (see `done`, `total`, `eta_seconds`).
    Encoding,
    /// Finished: features written (see `result`).
    Done,
    /// The dataset has nothing of this kind to encode.
    NothingToEncode,
    /// Stopped at a cancel; what was encoded is cached, so a new start resumes.
    Cancelled,
    /// Failed (see `message`).
    Failed,
}

/// An image file that could not be encoded.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ImageFailureDto {
    /// The file.
    pub path: String,
    /// Why.
    pub reason: String,
}

/// What an encoding of a dataset's image files produced.
#[derive(Debug, Clone, Serialize, TS)]
pub struct EncodedImagesDto {
    /// The encoder.
    pub encoder: String,
    /// SHA-256 of its weights.
    pub weights_sha256: String,
    /// Entities with image features, left graph then right.
    pub entities_with_image_features: Vec<usize>,
    /// Image files considered.
    pub images: usize,
    /// Of those, features found in the cache.
    pub from_cache: usize,
    /// Image files that could not be read or decoded.
    pub failed: usize,
    /// The first of them (the derived-features manifest lists up to 1,000).
    pub failures: Vec<ImageFailureDto>,
}

/// What an encoding of a dataset's attribute statements, names and abstract sentences
/// produced.
#[derive(Debug, Clone, Serialize, TS)]
pub struct EncodedTextDto {
    /// The encoder.
    pub encoder: String,
    /// SHA-256 of its weights.
    pub weights_sha256: String,
    /// Entities with an embedding of their statements, left graph then right.
    pub entities_with_attribute_text_features: Vec<usize>,
    /// Entities with an embedding of their name, left graph then right.
    pub entities_with_name_features: Vec<usize>,
    /// Entities with an embedding of their abstract sentence (attributes whose keys
    /// align across the graphs), left graph then right.
    pub entities_with_attribute_abstract_features: Vec<usize>,
    /// Distinct attribute keys each graph uses, left then right.
    pub attribute_keys: Vec<usize>,
    /// Key pairs found to mean the same (shared keys included).
    pub aligned_attribute_keys: usize,
    /// Statements, names and abstract sentences read, repeats included.
    pub texts: usize,
    /// Distinct texts among them (each embedded once).
    pub distinct: usize,
    /// Of those, embeddings found in the cache.
    pub from_cache: usize,
}

/// What a dataset's encoding turns into features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum EncodingKind {
    /// Image files, by the visual encoder.
    Images,
    /// Attribute statements and names, by the sentence encoder.
    Text,
}

/// The state of a dataset's image or text encoding.
#[derive(Debug, Clone, Serialize, TS)]
pub struct EncodingDto {
    /// The dataset.
    pub dataset: DatasetId,
    /// What is encoded.
    pub kind: EncodingKind,
    /// State.
    pub state: EncodingState,
    /// Where it runs or ran ("cpu", "cuda:0", "cpu (no cuda device)"); none before a start.
    pub device: Option<String>,
    /// Items done (images encoded, from the cache, or failed; distinct texts).
    pub done: usize,
    /// Items in all.
    pub total: usize,
    /// Of those done, features from the cache.
    pub from_cache: usize,
    /// Seconds since the encoding started.
    pub elapsed_seconds: f64,
    /// Items encoded per second so far (cache hits left out).
    pub per_second: Option<f64>,
    /// Seconds left at that rate.
    pub eta_seconds: Option<f64>,
    /// Why it failed, or what to do next.
    pub message: Option<String>,
    /// The outcome of an image encoding, once done.
    pub result: Option<EncodedImagesDto>,
    /// The outcome of a text encoding, once done.
    pub text_result: Option<EncodedTextDto>,
}

/// A decoder by name (its knobs, where it has any, travel beside it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, TS)]
#[serde(rename_all = "snake_case")]
pub enum DecoderMethod {
    /// Each entity's best candidate (not one-to-one): the reference.
    Rank,
    /// Best pairs first while both entities are free.
    Greedy,
    /// The one-to-one pairing of largest total score (exact).
    Hungarian,
    /// Sinkhorn balancing, then greedy pairs on its plan.
    Sinkhorn,
}

/// Where a run's decoding stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DecodingState {
    /// Nothing decoding, and no saved decoding.
    Idle,
    /// Decoding (see `done`, `total`, `now`).
    Decoding,
    /// A saved decoding (see `result`).
    Done,
    /// The last decoding failed (see `message`; an older saved one may be in `result`).
    Failed,
}

/// A run's one-to-one decoding: in progress, or saved in its folder.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DecodingDto {
    /// The run.
    pub run: RunId,
    /// Where it stands.
    pub state: DecodingState,
    /// Steps finished (scoring, then one per decoder).
    pub done: usize,
    /// Steps in all.
    pub total: usize,
    /// The step that runs now.
    pub now: Option<String>,
    /// Seconds since the start.
    pub elapsed_seconds: f64,
    /// Why it failed.
    pub message: Option<String>,
    /// The saved decoding.
    pub result: Option<DecodingResultDto>,
}

/// A run's saved decoding: its test pairs decoded by each method.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DecodingResultDto {
    /// Which saved model scored them: "last" or "best".
    pub checkpoint: String,
    /// The scores the decoders read ("CSLS k=3", "cosine").
    pub similarity: String,
    /// Test pairs (rows of the score matrix).
    pub test_pairs: usize,
    /// Seconds spent scoring.
    pub scoring_seconds: f64,
    /// When it was saved (ms since the epoch).
    pub saved_at: i64,
    /// One per decoder, plain ranking first.
    pub outcomes: Vec<DecoderOutcomeDto>,
}

/// One decoder's pairs judged against the test pairs.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DecoderOutcomeDto {
    /// The decoder.
    pub method: DecoderMethod,
    /// Its name with its knobs ("Sinkhorn (t = 0.05, 20 rounds)").
    pub label: String,
    /// Whether each right entity is paired at most once.
    pub one_to_one: bool,
    /// What its confidence is, in words.
    pub confidence: String,
    /// Left entities given a partner.
    pub paired: usize,
    /// Left entities given their true partner.
    pub correct: usize,
    /// H@1 of its pairs: `correct / test pairs`.
    pub hits_at_1: f64,
    /// Seconds it took (the scoring excluded).
    pub seconds: f64,
    /// Precision and recall of the pairs kept at each confidence threshold, most confident
    /// first (at most a few hundred points).
    pub curve: Vec<PrecisionRecallDto>,
}

/// The pairs kept at one confidence threshold.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, TS)]
pub struct PrecisionRecallDto {
    /// Pairs with at least this confidence are kept.
    pub threshold: f32,
    /// Pairs kept.
    pub kept: usize,
    /// Share of kept pairs that are true.
    pub precision: f64,
    /// Share of test pairs whose true pair is kept.
    pub recall: f64,
}
