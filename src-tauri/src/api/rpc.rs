//! The one remote-procedure entry point both shells forward to: an [`ApiCall`] (a method
//! name and its params, as JSON `{"method": "...", "params": {...}}`) in, the method's
//! result as JSON out. The HTTP server's `POST /api/call` and the desktop app's `api_call`
//! command are thin wrappers around [`Api::call`], so there is one route table.
//!
//! The [`api_calls!`] table below declares each method once: its params (the variant's
//! fields), its result type and the [`Api`] function it calls. From it come the enum, the
//! dispatch and the per-method result types that the TypeScript bindings export
//! ([`result_types`]).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use ts_rs::TS;

use super::calibration::{AcceptPreviewDto, CalibrationDto, CalibrationMethod};
use super::dto::{
    ArtifactDto, CandidatesDto, DatasetDto, DatasetOverviewDto, DecisionRequest, DecoderMethod,
    DecodingDto, DemoStatusDto, EncodingDto, EncodingKind, EntityDetailDto, EntityDto, EpochDto,
    ExportRequest, ImportRequest, ImportedDataset, NeighbourhoodDto, PairContextDto, ProjectionDto,
    QueryOrder, RemovedDatasetDto, ReviewItemDto, ReviewProgressDto, ReviewScope, ReviewStrategy,
    RunAnalysisDto, RunComparisonDto, RunDto, RunQueryDto, SeedSetDto, SideDto, StartRunRequest,
    TrainingOptionsDto,
};
use super::review_queue::QueueView;
use super::reviewers::{
    AgreementDto, PairReviewsDto, ReviewSettingsDto, ReviewSettingsUpdate, reviewer_identity,
};
use super::{Api, ApiError, ApiResult, ErrorCode};
use crate::device::DeviceArg;
use crate::store::{DatasetId, DecisionRow, RunId};

/// Entities a search returns when the call names no limit.
pub const DEFAULT_SEARCH_LIMIT: usize = 50;
/// Nodes of a neighbourhood when the call names no limit.
pub const DEFAULT_NEIGHBOURHOOD_LIMIT: usize = 60;
/// Pairs in a review queue when the call names no limit.
pub const DEFAULT_REVIEW_LIMIT: usize = 100;

fn default_search_limit() -> usize {
    DEFAULT_SEARCH_LIMIT
}

fn default_neighbourhood_limit() -> usize {
    DEFAULT_NEIGHBOURHOOD_LIMIT
}

fn default_review_limit() -> usize {
    DEFAULT_REVIEW_LIMIT
}

fn default_hops() -> u8 {
    1
}

/// A method's name and TypeScript result type, with the named types it refers to.
#[derive(Debug)]
pub struct ResultType {
    /// Method name, as in `{"method": ...}`.
    pub method: String,
    /// TypeScript type of the result.
    pub ts_type: String,
    /// Named types the result type mentions (for imports).
    pub imports: Vec<ts_rs::Dependency>,
}

/// Visits `T` and the types it names directly (`DatasetDto` of `Vec<DatasetDto>`).
fn visit_named<T: TS + 'static + ?Sized>(visitor: &mut impl ts_rs::TypeVisitor) {
    visitor.visit::<T>();
    T::visit_generics(visitor);
}

/// Collects exportable types as dependencies.
struct Imports<'a>(&'a ts_rs::Config, Vec<ts_rs::Dependency>);

impl ts_rs::TypeVisitor for Imports<'_> {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        if let Some(dep) = ts_rs::Dependency::from_ty::<T>(self.0)
            && !self.1.iter().any(|d| d.type_id == dep.type_id)
        {
            self.1.push(dep);
        }
    }
}

fn result_type<T: TS + 'static + ?Sized>(variant: &str, cfg: &ts_rs::Config) -> ResultType {
    let mut imports = Imports(cfg, Vec::new());
    visit_named::<T>(&mut imports);
    ResultType {
        method: snake_case(variant),
        ts_type: T::name(cfg),
        imports: imports.1,
    }
}

/// `SearchEntities` → `search_entities` (serde's `rename_all = "snake_case"`).
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn to_json<T: serde::Serialize>(result: ApiResult<T>) -> ApiResult<Value> {
    serde_json::to_value(result?).map_err(|e| {
        ApiError::new(
            ErrorCode::Internal,
            format!("the answer could not be encoded as JSON: {e}"),
        )
    })
}

/// Declares the methods: `Variant { params } -> Result => |api| call;`.
macro_rules! api_calls {
    ($(
        $(#[$vmeta:meta])*
        $variant:ident { $($(#[$fmeta:meta])* $field:ident : $fty:ty),* $(,)? }
            -> $result:ty => |$api:ident| $body:expr;
    )*) => {
        /// One call of the API: `{"method": "snake_case_name", "params": {...}}`.
        /// Parameterless methods take `{}`, `null` or no `params` at all.
        #[derive(Debug, Clone, Deserialize, TS)]
        #[serde(tag = "method", content = "params", rename_all = "snake_case", remote = "Self")]
        // A call lives for one request: the size of its largest variant costs nothing.
        #[allow(clippy::large_enum_variant)]
        pub enum ApiCall {
            $(
                $(#[$vmeta])*
                $variant { $($(#[$fmeta])* $field: $fty),* },
            )*
        }

        impl Api {
            /// Runs one call; its result as JSON. The call runs as a task of its own, so
            /// a caller that goes away (a closed browser tab, a dropped connection) never
            /// stops it half-way: a run is either started with its job or not created.
            pub async fn call(&self, call: ApiCall) -> ApiResult<Value> {
                let api = self.clone();
                let method = call.method();
                tokio::spawn(async move { api.call_to_the_end(call).await })
                    .await
                    .unwrap_or_else(|e| {
                        Err(ApiError::new(
                            ErrorCode::Internal,
                            format!("the call {method} stopped unexpectedly: {e}"),
                        ))
                    })
            }

            async fn call_to_the_end(&self, call: ApiCall) -> ApiResult<Value> {
                match call {
                    $(
                        ApiCall::$variant { $($field),* } => {
                            let $api = self;
                            to_json::<$result>($body)
                        }
                    )*
                }
            }
        }

        impl ApiCall {
            /// The method name, as in the JSON.
            pub fn method(&self) -> String {
                match self {
                    $( ApiCall::$variant { .. } => snake_case(stringify!($variant)), )*
                }
            }
        }

        /// Every method's result type, in declaration order.
        pub fn result_types(cfg: &ts_rs::Config) -> Vec<ResultType> {
            vec![$( result_type::<$result>(stringify!($variant), cfg) ),*]
        }

        /// Visits every method's result type and the types it names directly.
        pub fn visit_result_types(visitor: &mut impl ts_rs::TypeVisitor) {
            $( visit_named::<$result>(visitor); )*
        }
    };
}

api_calls! {
    /// Every dataset, newest first.
    ListDatasets {} -> Vec<DatasetDto> => |api| api.list_datasets().await;
    /// One dataset.
    Dataset {
        /// The dataset.
        id: DatasetId,
    } -> DatasetDto => |api| api.dataset(id).await;
    /// Validates a dataset folder and registers it.
    ImportDataset {
        /// What to import (the params themselves: `{"path": ..., "format": ...}`).
        #[serde(flatten)]
        request: ImportRequest,
    } -> ImportedDataset => |api| api.import_dataset(request).await;
    /// Removes a dataset with its runs and derived files (its decisions stay exportable;
    /// importing its folder again restores it).
    RemoveDataset {
        /// The dataset.
        dataset: DatasetId,
    } -> RemovedDatasetDto => |api| api.remove_dataset(dataset).await;
    /// Starts encoding a dataset's image files (or its attribute statements and names)
    /// into features in the background (through the cache) unless it is running; its
    /// state.
    StartEncoding {
        /// The dataset.
        dataset: DatasetId,
        /// Images or text.
        kind: EncodingKind,
        /// Where to compute; by default CUDA where a GPU answers, else the CPU. CUDA
        /// asked for where there is none falls back to the CPU (the state says so).
        #[serde(default)]
        #[ts(optional)]
        device: Option<DeviceArg>,
    } -> EncodingDto => |api| api.start_encoding(dataset, kind, device).await;
    /// Where a dataset's background encoding of a kind stands (progress, ETA, outcome).
    Encoding {
        /// The dataset.
        dataset: DatasetId,
        /// Images or text.
        kind: EncodingKind,
    } -> EncodingDto => |api| api.encoding(dataset, kind).await;
    /// Asks a dataset's background encoding of a kind to stop after the current batch.
    CancelEncoding {
        /// The dataset.
        dataset: DatasetId,
        /// Images or text.
        kind: EncodingKind,
    } -> EncodingDto => |api| api.cancel_encoding(dataset, kind).await;
    /// Entities whose label, key or name contains `query` (both graphs unless `side`).
    SearchEntities {
        /// The dataset.
        dataset: DatasetId,
        /// Text to look for (case-insensitive for ASCII).
        query: String,
        /// Only this graph.
        #[serde(default)]
        #[ts(optional)]
        side: Option<SideDto>,
        /// Most entities returned (default 50, at most 1000).
        #[serde(default = "default_search_limit")]
        #[ts(as = "Option<usize>", optional)]
        limit: usize,
    } -> Vec<EntityDto> => |api| api.search_entities(dataset, &query, side, limit).await;
    /// Attributes, relations, neighbours and images of one entity.
    EntityDetail {
        /// The dataset.
        dataset: DatasetId,
        /// The entity's graph.
        side: SideDto,
        /// The entity's key.
        key: String,
    } -> EntityDetailDto => |api| api.entity_detail(dataset, side, &key).await;
    /// Degree distribution and modality coverage of a dataset.
    DatasetOverview {
        /// The dataset.
        dataset: DatasetId,
    } -> DatasetOverviewDto => |api| api.dataset_overview(dataset).await;
    /// An entity's 1- or 2-hop neighbourhood, at most `limit` nodes.
    Neighbourhood {
        /// The dataset.
        dataset: DatasetId,
        /// The centre's graph.
        side: SideDto,
        /// The centre's key.
        key: String,
        /// 1 or 2 (default 1).
        #[serde(default = "default_hops")]
        #[ts(as = "Option<u8>", optional)]
        hops: u8,
        /// Most nodes, the centre included (default 60, at most 500).
        #[serde(default = "default_neighbourhood_limit")]
        #[ts(as = "Option<usize>", optional)]
        limit: usize,
    } -> NeighbourhoodDto => |api| api.neighbourhood(dataset, side, &key, hops, limit).await;
    /// Devices and models with their knobs and the paper's defaults.
    TrainingOptions {} -> TrainingOptionsDto => |api| api.training_options().await;
    /// Where the built-in demo dataset stands.
    DemoStatus {} -> DemoStatusDto => |api| api.demo_status().await;
    /// Starts building and registering the demo dataset unless it is ready or building.
    BuildDemo {} -> DemoStatusDto => |api| api.build_demo().await;
    /// Every run, newest first.
    ListRuns {} -> Vec<RunDto> => |api| api.list_runs().await;
    /// One run.
    GetRun {
        /// The run.
        id: RunId,
    } -> RunDto => |api| api.get_run(id).await;
    /// A run's per-epoch metrics.
    RunMetrics {
        /// The run.
        id: RunId,
    } -> Vec<EpochDto> => |api| api.run_metrics(id).await;
    /// A run's files.
    RunArtifacts {
        /// The run.
        id: RunId,
    } -> Vec<ArtifactDto> => |api| api.run_artifacts(id).await;
    /// Queues a training run.
    StartRun {
        /// What to train (the params themselves: `{"dataset": ..., "train": {...}}`).
        #[serde(flatten)]
        request: StartRunRequest,
    } -> RunDto => |api| api.start_run(request).await;
    /// Stops a queued or running run.
    CancelRun {
        /// The run.
        id: RunId,
    } -> RunDto => |api| api.cancel_run(id).await;
    /// Continues a run from its newest checkpoint.
    ResumeRun {
        /// The run.
        id: RunId,
    } -> RunDto => |api| api.resume_run(id).await;
    /// Deletes a run that is not active, with its files.
    DeleteRun {
        /// The run.
        id: RunId,
    } -> () => |api| api.delete_run(id).await;
    /// Two runs of one dataset side by side.
    CompareRuns {
        /// Run A.
        a: RunId,
        /// Run B.
        b: RunId,
    } -> RunComparisonDto => |api| api.compare_runs(a, b).await;
    /// An entity's ranked candidates in a run.
    Candidates {
        /// The run.
        run: RunId,
        /// The query's graph.
        side: SideDto,
        /// The query's key.
        key: String,
    } -> CandidatesDto => |api| api.candidates(run, side, &key).await;
    /// Records a decision about a pair.
    RecordDecision {
        /// The decision (the params themselves).
        #[serde(flatten)]
        request: DecisionRequest,
    } -> DecisionRow => |api| api.record_decision(request).await;
    /// Undoes the newest standing decision of a dataset that this author took in this
    /// session.
    UndoDecision {
        /// The dataset.
        dataset: DatasetId,
        /// Who undoes it (the OS user when absent): only their decisions are undone.
        #[serde(default)]
        #[ts(optional)]
        author: Option<String>,
        /// The window undoing it: only decisions taken in it are undone (any of the
        /// author's when absent).
        #[serde(default)]
        #[ts(optional)]
        session: Option<String>,
    } -> Option<DecisionRow> => |api| api.undo_decision(dataset, author, session).await;
    /// Every decision row of a dataset, oldest first.
    DecisionHistory {
        /// The dataset.
        dataset: DatasetId,
    } -> Vec<DecisionRow> => |api| api.decision_history(dataset).await;
    /// The standing decision of every decided pair.
    StandingDecisions {
        /// The dataset.
        dataset: DatasetId,
    } -> Vec<DecisionRow> => |api| api.standing_decisions(dataset).await;
    /// Pairs to review next.
    ReviewQueue {
        /// The run whose predictions are reviewed.
        run: RunId,
        /// How to order them.
        strategy: ReviewStrategy,
        /// A second run, for the disagreement strategy.
        #[serde(default)]
        #[ts(optional)]
        other: Option<RunId>,
        /// Most pairs (default 100).
        #[serde(default = "default_review_limit")]
        #[ts(as = "Option<usize>", optional)]
        limit: usize,
        /// Which pairs (default: the run's undecided predictions).
        #[serde(default)]
        #[ts(optional)]
        scope: Option<ReviewScope>,
        /// Who reviews (the data directory's reviewer when absent).
        #[serde(default)]
        #[ts(optional)]
        reviewer: Option<String>,
        /// Blind mode: no score, rank, margin or hub count in the items.
        #[serde(default)]
        #[ts(optional)]
        blind: Option<bool>,
    } -> Vec<ReviewItemDto> => |api| {
        let view = QueueView {
            scope: scope.unwrap_or_default(),
            reviewer,
            blind: blind.unwrap_or(false),
        };
        api.review_queue(run, strategy, other, limit, view).await
    };
    /// The data directory's review settings (reviewer, blind mode, shortcuts).
    ReviewSettings {} -> ReviewSettingsDto => |api| api.review_settings().await;
    /// Changes the review settings; the settings after the change.
    SetReviewSettings {
        /// The changes.
        #[serde(flatten)]
        update: ReviewSettingsUpdate,
    } -> ReviewSettingsDto => |api| api.set_review_settings(update).await;
    /// The run's scores as calibrated probabilities, fitted on its reviewed random-order
    /// pairs, with a reliability diagram on its other test predictions.
    Calibration {
        /// The run.
        run: RunId,
        /// Isotonic (default) or Platt.
        #[serde(default)]
        #[ts(optional)]
        method: Option<CalibrationMethod>,
    } -> CalibrationDto => |api| api.calibration(run, method.unwrap_or_default()).await;
    /// How many undecided predictions have a calibrated probability of at least
    /// `threshold`, and how many of them are expected wrong; records nothing.
    AcceptPreview {
        /// The run.
        run: RunId,
        /// Isotonic (default) or Platt.
        #[serde(default)]
        #[ts(optional)]
        method: Option<CalibrationMethod>,
        /// The probability threshold.
        threshold: f64,
    } -> AcceptPreviewDto => |api| {
        api.accept_preview(run, method.unwrap_or_default(), threshold).await
    };
    /// Accepts those predictions as model decisions, in one step that one undo takes back.
    AcceptAbove {
        /// The run.
        run: RunId,
        /// Isotonic (default) or Platt.
        #[serde(default)]
        #[ts(optional)]
        method: Option<CalibrationMethod>,
        /// The probability threshold.
        threshold: f64,
        /// Who records them (the data directory's reviewer when absent).
        #[serde(default)]
        #[ts(optional)]
        reviewer: Option<String>,
    } -> AcceptPreviewDto => |api| {
        api.accept_above(run, method.unwrap_or_default(), threshold, reviewer).await
    };
    /// A reviewer name or ORCID iD as it is stored (checked; ORCID iDs as `orcid:…`).
    NormaliseReviewer {
        /// The name or ORCID iD.
        name: String,
    } -> String => |_api| reviewer_identity(&name);
    /// What each reviewer said about a pair, and its adjudication.
    PairReviews {
        /// The dataset.
        dataset: DatasetId,
        /// Left entity key.
        left: String,
        /// Right entity key.
        right: String,
    } -> PairReviewsDto => |api| api.pair_reviews(dataset, &left, &right).await;
    /// Agreement between the dataset's reviewers: Cohen's kappa per pair of reviewers.
    ReviewAgreement {
        /// The dataset.
        dataset: DatasetId,
    } -> AgreementDto => |api| api.review_agreement(dataset).await;
    /// Trains again like a run, with the decisions: its training pairs plus accepted, minus
    /// rejected pairs (rejected pairs also never become pseudo seeds).
    RetrainWithDecisions {
        /// The earlier run.
        run: RunId,
    } -> RunDto => |api| api.retrain_with_decisions(run).await;
    /// Where a run succeeds and fails: H@1 by degree and modality, hubs, both similarities.
    RunAnalysis {
        /// The run.
        run: RunId,
    } -> RunAnalysisDto => |api| api.run_analysis(run).await;
    /// Starts decoding a run's test pairs one-to-one in the background (plain ranking
    /// always, for comparison), unless a decoding of it runs; saved in its folder.
    StartDecoding {
        /// The run.
        run: RunId,
        /// The decoders (default: greedy, Hungarian and Sinkhorn).
        #[serde(default)]
        #[ts(optional)]
        methods: Option<Vec<DecoderMethod>>,
        /// Sinkhorn's temperature (default 0.05).
        #[serde(default)]
        #[ts(optional)]
        temperature: Option<f32>,
        /// Sinkhorn's balancing rounds (default 20).
        #[serde(default)]
        #[ts(optional)]
        iterations: Option<usize>,
        /// Decode the best epoch's model instead of the newest checkpoint.
        #[serde(default)]
        #[ts(optional)]
        best: Option<bool>,
        /// Where to compute the scores (default: the CPU).
        #[serde(default)]
        #[ts(optional)]
        device: Option<DeviceArg>,
    } -> DecodingDto => |api| {
        let methods = methods.unwrap_or_else(|| {
            vec![DecoderMethod::Greedy, DecoderMethod::Hungarian, DecoderMethod::Sinkhorn]
        });
        api.start_decoding(run, methods, temperature, iterations, best.unwrap_or(false), device)
            .await
    };
    /// Where a run's decoding stands, with its saved outcomes.
    Decoding {
        /// The run.
        run: RunId,
    } -> DecodingDto => |api| api.decoding(run).await;
    /// A run's test entities on the plane of its embeddings' first two principal components.
    RunProjection {
        /// The run.
        run: RunId,
    } -> ProjectionDto => |api| api.run_projection(run).await;
    /// How far the review of a run's predictions has come, and its estimated precision.
    ReviewProgress {
        /// The run.
        run: RunId,
    } -> ReviewProgressDto => |api| api.review_progress(run).await;
    /// A run's test queries with their top-1, sorted for the inspector's list.
    RunQueries {
        /// The run.
        run: RunId,
        /// Sort order.
        order: QueryOrder,
        /// Most queries (default 100).
        #[serde(default = "default_review_limit")]
        #[ts(as = "Option<usize>", optional)]
        limit: usize,
    } -> Vec<RunQueryDto> => |api| api.run_queries(run, order, limit).await;
    /// Both neighbourhoods of a candidate pair and the alignments linking them.
    PairContext {
        /// The run.
        run: RunId,
        /// Left entity key.
        left: String,
        /// Right entity key.
        right: String,
    } -> PairContextDto => |api| api.pair_context(run, &left, &right).await;
    /// Seeds for a new run from an earlier one and the decisions.
    SeedsForNewRun {
        /// The earlier run.
        run: RunId,
    } -> SeedSetDto => |api| api.seeds_for_new_run(run).await;
    /// The accepted pairs as SSSOM, N-Triples or TSV text.
    ExportPairs {
        /// What to export (the params themselves).
        #[serde(flatten)]
        request: ExportRequest,
    } -> String => |api| api.export_pairs(&request).await;
    /// The same export written to a new file in the data folder's `exports/`; its path.
    SaveExport {
        /// What to export (the params themselves).
        #[serde(flatten)]
        request: ExportRequest,
    } -> std::path::PathBuf => |api| api.save_export(&request).await;
}

impl<'de> Deserialize<'de> for ApiCall {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut value = Value::deserialize(deserializer)?;
        if let Some(object) = value.as_object_mut()
            && object.get("params").is_none_or(Value::is_null)
        {
            object.insert("params".into(), Value::Object(Default::default()));
        }
        ApiCall::deserialize(value).map_err(D::Error::custom)
    }
}

/// [`Api::call`]'s futures are `Send`: both shells run them on any worker thread.
#[allow(dead_code)]
fn calls_are_send(api: &Api, call: ApiCall) -> impl Future<Output = ApiResult<Value>> + Send + '_ {
    api.call(call)
}

impl ApiCall {
    /// Reads a call from JSON; an unknown method or bad params is `invalid_input`.
    pub fn from_json(value: Value) -> ApiResult<Self> {
        serde_json::from_value(value).map_err(|e| ApiError::invalid(format!("bad call: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: Value) -> ApiCall {
        ApiCall::from_json(value).unwrap()
    }

    #[test]
    fn parameterless_calls_take_no_params_null_or_empty_object() {
        for call in [
            json!({"method": "list_datasets"}),
            json!({"method": "list_datasets", "params": null}),
            json!({"method": "list_datasets", "params": {}}),
        ] {
            assert!(matches!(parse(call), ApiCall::ListDatasets {}));
        }
    }

    #[test]
    fn params_fill_their_defaults() {
        let call =
            parse(json!({"method": "search_entities", "params": {"dataset": 3, "query": "par"}}));
        match call {
            ApiCall::SearchEntities {
                dataset,
                query,
                side,
                limit,
            } => {
                assert_eq!(dataset, DatasetId(3));
                assert_eq!(query, "par");
                assert_eq!(side, None);
                assert_eq!(limit, DEFAULT_SEARCH_LIMIT);
            }
            other => panic!("{other:?}"),
        }
        let call = parse(json!({"method": "neighbourhood",
            "params": {"dataset": 1, "side": "right", "key": "x", "hops": 2}}));
        assert!(matches!(
            call,
            ApiCall::Neighbourhood {
                side: SideDto::Right,
                hops: 2,
                limit: DEFAULT_NEIGHBOURHOOD_LIMIT,
                ..
            }
        ));
        let call = parse(json!({"method": "start_encoding",
            "params": {"dataset": 1, "kind": "images"}}));
        assert!(matches!(
            call,
            ApiCall::StartEncoding {
                kind: EncodingKind::Images,
                device: None,
                ..
            }
        ));
        let call = parse(json!({"method": "start_encoding",
            "params": {"dataset": 1, "kind": "text", "device": "cuda"}}));
        assert!(matches!(
            call,
            ApiCall::StartEncoding {
                kind: EncodingKind::Text,
                device: Some(DeviceArg::Cuda),
                ..
            }
        ));
    }

    #[test]
    fn flattened_requests_are_the_params_themselves() {
        let call = parse(json!({"method": "start_run", "params": {
            "dataset": 1, "train_ratio": 0.3, "device": "cpu", "model": "rrea",
            "settings": {"epochs": 2, "dim": 16}
        }}));
        match call {
            ApiCall::StartRun { request } => {
                assert_eq!(request.model, "rrea");
                assert_eq!(request.settings["epochs"], json!(2));
                assert_eq!(request.epochs(), 2);
                assert_eq!(request.seed(), 42, "unnamed knobs keep defaults");
            }
            other => panic!("{other:?}"),
        }
        // An older client's LoginMEA request: its objects become settings.
        let call = parse(json!({"method": "start_run", "params": {
            "dataset": 1, "train_ratio": 0.3, "device": "cpu", "train": {"epochs": 2},
            "loginmea": {"fusion": "concat"}
        }}));
        match call {
            ApiCall::StartRun { mut request } => {
                assert_eq!(request.model, "loginmea");
                request.upgrade();
                assert_eq!(request.settings["epochs"], json!(2));
                assert_eq!(request.settings["fusion"], json!("concat"));
                assert_eq!(request.settings["chunk_size"], json!(3500));
            }
            other => panic!("{other:?}"),
        }
        let call = parse(json!({"method": "import_dataset", "params": {"path": "/tmp/x"}}));
        assert!(
            matches!(call, ApiCall::ImportDataset { request } if request.path.as_os_str() == "/tmp/x")
        );
    }

    #[test]
    fn bad_calls_are_invalid_input_naming_the_problem() {
        for (call, needle) in [
            (json!({"method": "drop_tables"}), "drop_tables"),
            (json!({"method": "dataset", "params": {}}), "id"),
            (json!({"method": "dataset", "params": {"id": "one"}}), "one"),
            (json!({"params": {}}), "method"),
            (json!([1, 2]), ""),
        ] {
            let error = ApiCall::from_json(call.clone()).unwrap_err();
            assert_eq!(error.code, ErrorCode::InvalidInput, "{call}");
            assert!(error.message.contains(needle), "{call}: {}", error.message);
        }
    }

    #[test]
    fn method_names_match_the_json() {
        let call = parse(json!({"method": "seeds_for_new_run", "params": {"run": 1}}));
        assert_eq!(call.method(), "seeds_for_new_run");
        let names: Vec<String> = result_types(&ts_rs::Config::new())
            .into_iter()
            .map(|r| r.method)
            .collect();
        assert!(names.contains(&"dataset_overview".to_string()));
        let decl = ApiCall::decl(&ts_rs::Config::new());
        for name in &names {
            assert!(decl.contains(&format!("\"{name}\"")), "{name} in {decl}");
        }
    }
}
