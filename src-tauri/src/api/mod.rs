//! The one backend API every client calls (desktop commands, HTTP server, CLI): async
//! functions taking and returning serde DTOs, failing with [`ApiError`].
//!
//! Grouped by subject: [`datasets`](self::datasets) (import, list, search, entity
//! detail), [`runs`](self::runs) (start, list, metrics, cancel, resume, delete,
//! compare), [`decoding`](self::decoding) (one-to-one decodings of a run's test pairs,
//! saved in its folder), [`candidates`](self::candidates) (an entity's ranked candidates with the
//! per-modality breakdown), [`decisions`](self::decisions) (record, undo, history, the
//! review queue, seeds for a new run) and [`exports`](self::exports) (SSSOM, N-Triples,
//! TSV), [`overview`](self::overview) and [`neighbourhood`](self::neighbourhood) (the
//! dataset explorer's charts and graph), [`training_options`](self::training_options)
//! (the training form), [`demo_status`](self::demo_status) (the built-in demo's
//! background build) and [`image`](self::image) (entity image files).
//!
//! [`rpc`](self::rpc) turns all of it into one `call(method, params)` entry point that
//! the desktop app and the HTTP server both forward to.

pub mod analysis;
#[cfg(test)]
mod bindings;
pub mod calibration;
pub mod candidates;
pub mod consistency;
mod dataset_cache;
pub mod dataset_removal;
pub mod datasets;
pub mod decisions;
pub mod decoding;
pub mod demo_status;
pub mod dto;
mod error;
mod export_formats;
pub mod exports;
pub mod feature_encoding;
pub mod image;
pub mod inspector;
pub mod neighbourhood;
pub mod overview;
pub mod review_queue;
pub mod reviewers;
pub mod rpc;
pub mod runs;
pub mod training_options;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::data_dir::DataDir;
use crate::jobs::{JobEvent, JobRunner};
use crate::store::{DatasetId, RunId, Store};

pub use error::{ApiError, ApiResult, ErrorCode};
pub use rpc::ApiCall;

/// The backend: store, data directory, job runner. Cheap to clone.
#[derive(Clone)]
pub struct Api {
    store: Store,
    data_dir: DataDir,
    jobs: JobRunner,
    /// The most recently used datasets, loaded (entity detail needs the triples).
    loaded: Arc<dataset_cache::DatasetCache>,
    /// The last few runs' training pairs (the pair view asks for them per pair).
    training_sets: Arc<Mutex<inspector::TrainingSets>>,
    /// The built-in demo's background build.
    demo: Arc<Mutex<demo_status::DemoProgress>>,
    /// Background encodings, per dataset and kind.
    encodings:
        Arc<Mutex<HashMap<(DatasetId, dto::EncodingKind), feature_encoding::BackgroundEncoding>>>,
    /// Background decodings, per run (running or failed; saved ones are read from disk).
    decodings: Arc<Mutex<HashMap<RunId, dto::DecodingDto>>>,
}

impl Api {
    /// Opens the store in `data_dir` and marks runs orphaned by a crash `interrupted`.
    pub async fn open(data_dir: DataDir) -> ApiResult<Self> {
        let store = Store::open(&data_dir.database()).await?;
        let jobs = JobRunner::new(store.clone(), data_dir.clone());
        jobs.recover_orphans().await?;
        Ok(Self {
            store,
            data_dir,
            jobs,
            loaded: Arc::default(),
            training_sets: Arc::default(),
            demo: Arc::default(),
            encodings: Arc::default(),
            decodings: Arc::default(),
        })
    }

    /// The store (for tools and tests).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The data directory.
    pub fn data_dir(&self) -> &DataDir {
        &self.data_dir
    }

    /// Job events from now on.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<JobEvent> {
        self.jobs.subscribe()
    }

    /// The runs this process trains or queues now (a shell that is asked to quit keeps
    /// running while there are any).
    pub fn active_runs(&self) -> Vec<RunId> {
        self.jobs.active_runs()
    }

    /// How many times this process read a dataset from disk for its calls (the cache's
    /// misses; an import's own read not counted).
    pub fn dataset_loads(&self) -> usize {
        self.loaded.loads()
    }

    /// Waits until this process trains no run.
    pub async fn wait_for_jobs(&self) {
        self.jobs.wait_for_all().await;
    }

    /// Closes the store.
    pub async fn close(&self) {
        self.store.close().await;
    }
}

/// The OS user, as the default author of decisions.
pub fn default_author() -> String {
    std::env::var("ALIGNSCOPE_AUTHOR")
        .or_else(|_| std::env::var("USER"))
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into())
}
