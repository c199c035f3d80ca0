//! The built-in demo dataset's background build: both shells call
//! [`Api::start_demo_in_background`] at start-up, so the demo is registered on first start
//! (or begins building: the full pair takes minutes of image encoding), and the UI polls
//! [`Api::demo_status`] for its progress.
//!
//! The build is [`crate::demo::ensure_demo`] (images encoded on CUDA where a GPU answers,
//! else on the CPU), then an idempotent import. Where the demo's sources or the encoder's
//! weights are missing the state is `unavailable`, with a message saying how to install
//! them.

use alignscope_datasets::{DemoError, DemoOptions, Side};
use alignscope_vision::VisionError;

use super::datasets::canonical;
use super::dto::{DemoState, DemoStatusDto, ImportRequest};
use super::{Api, ApiError, ApiResult, ErrorCode};
use crate::demo::{DemoBuildError, DemoStage, demo_dir, ensure_demo};
use crate::store::DatasetId;

/// Environment variable: build only the first N emoji of the demo (a small, quick pair).
pub const DEMO_LIMIT_ENV: &str = "ALIGNSCOPE_DEMO_LIMIT";

/// Where the build stands (kept in the [`Api`]).
#[derive(Debug)]
pub struct DemoProgress {
    state: DemoState,
    stage: Option<String>,
    done: Option<usize>,
    total: Option<usize>,
    message: Option<String>,
    dataset: Option<DatasetId>,
    /// Emoji limit of the demo this process builds.
    limit: Option<usize>,
}

impl Default for DemoProgress {
    fn default() -> Self {
        Self {
            state: DemoState::Missing,
            stage: None,
            done: None,
            total: None,
            message: None,
            dataset: None,
            limit: None,
        }
    }
}

impl DemoProgress {
    fn set_stage(&mut self, stage: &str, done: Option<usize>, total: Option<usize>) {
        self.stage = Some(stage.into());
        self.done = done;
        self.total = total;
    }

    fn on(&mut self, stage: DemoStage) {
        match stage {
            DemoStage::Assembling => self.set_stage("assembling", None, None),
            DemoStage::Encoding { side, progress } => self.set_stage(
                match side {
                    Side::Left => "encoding left",
                    Side::Right => "encoding right",
                },
                Some(progress.done),
                Some(progress.total),
            ),
            DemoStage::Writing => self.set_stage("writing", None, None),
        }
    }

    fn end(&mut self, state: DemoState, dataset: Option<DatasetId>, message: Option<String>) {
        *self = Self {
            state,
            dataset,
            message,
            limit: self.limit,
            ..Self::default()
        };
    }
}

/// Whether a build error means "not installed here" rather than "broken".
fn is_unavailable(error: &DemoBuildError) -> bool {
    matches!(
        error,
        DemoBuildError::Sources(DemoError::PackageMissing { .. })
            | DemoBuildError::Sources(DemoError::VersionMismatch { .. })
            | DemoBuildError::Encoder(VisionError::WeightsNotFound { .. })
    )
}

/// The emoji limit from `$ALIGNSCOPE_DEMO_LIMIT` (unset, empty or 0: the full demo).
fn limit_from_env() -> Option<usize> {
    std::env::var(DEMO_LIMIT_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
}

impl Api {
    fn demo_progress(&self) -> std::sync::MutexGuard<'_, DemoProgress> {
        // A panic while holding the lock leaves plain data behind: keep using it.
        self.demo
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn demo_options(&self) -> DemoOptions {
        DemoOptions {
            emoji_limit: self.demo_progress().limit,
            ..DemoOptions::default()
        }
    }

    /// The start-up helper of both shells: picks the demo's size (`limit` emoji, else
    /// `$ALIGNSCOPE_DEMO_LIMIT`, else all) and starts [`Api::build_demo`].
    pub async fn start_demo_in_background(&self, limit: Option<usize>) -> ApiResult<DemoStatusDto> {
        {
            let mut progress = self.demo_progress();
            if progress.state != DemoState::Building {
                progress.limit = limit.or_else(limit_from_env);
            }
        }
        self.build_demo().await
    }

    /// Starts building and registering the demo in the background unless it is ready or
    /// building; where it stands.
    pub async fn build_demo(&self) -> ApiResult<DemoStatusDto> {
        if let Some(id) = self.registered_demo().await? {
            self.demo_progress().end(DemoState::Ready, Some(id), None);
            return self.demo_status().await;
        }
        let start = {
            let mut progress = self.demo_progress();
            let start = !matches!(progress.state, DemoState::Building | DemoState::Ready);
            if start {
                progress.end(DemoState::Building, None, None);
                progress.set_stage("starting", None, None);
            }
            start
        };
        if !start {
            return self.demo_status().await;
        }
        let api = self.clone();
        tokio::spawn(async move {
            let (state, dataset, message) = match api.build_and_register().await {
                Ok(id) => (DemoState::Ready, Some(id), None),
                Err((state, message)) => (state, None, Some(message)),
            };
            api.demo_progress().end(state, dataset, message);
        });
        self.demo_status().await
    }

    async fn build_and_register(&self) -> Result<DatasetId, (DemoState, String)> {
        let data = self.data_dir.clone();
        let options = self.demo_options();
        let api = self.clone();
        let built = tokio::task::spawn_blocking(move || {
            // The images are encoded on CUDA where a GPU answers, else on the CPU.
            let (device, _) = crate::device::choose(crate::device::preferred());
            ensure_demo(&data, None, &options, &device, &mut |stage| {
                api.demo_progress().on(stage)
            })
        })
        .await
        .map_err(|e| (DemoState::Failed, format!("the demo build stopped: {e}")))?;
        let demo = built.map_err(|e| {
            if is_unavailable(&e) {
                (
                    DemoState::Unavailable,
                    format!(
                        "the demo cannot be built on this machine: {e}. \
                         `bash scripts/setup.sh` installs everything it needs"
                    ),
                )
            } else {
                (DemoState::Failed, format!("the demo build failed: {e}"))
            }
        })?;
        self.demo_progress().set_stage("registering", None, None);
        let imported = self
            .import_dataset(ImportRequest {
                path: demo.dir,
                format: Some("alignscope".into()),
                image_features: None,
                name: None,
            })
            .await
            .map_err(|e| {
                (
                    DemoState::Failed,
                    format!("the demo could not be registered: {e}"),
                )
            })?;
        Ok(imported.dataset.id)
    }

    /// The demo's dataset if one is registered from this data directory's demo folder.
    async fn registered_demo(&self) -> ApiResult<Option<DatasetId>> {
        let known = self.demo_progress().dataset;
        if known.is_some() {
            return Ok(known);
        }
        let dir = demo_dir(&self.data_dir, &self.demo_options());
        if !dir.join("dataset.toml").is_file() {
            return Ok(None);
        }
        let source = canonical(&dir);
        Ok(self
            .store
            .list_datasets()
            .await?
            .into_iter()
            .find(|d| d.source_path == source)
            .map(|d| d.id))
    }

    /// Where the built-in demo stands.
    pub async fn demo_status(&self) -> ApiResult<DemoStatusDto> {
        let missing = self.demo_progress().state == DemoState::Missing;
        if missing && let Some(id) = self.registered_demo().await? {
            self.demo_progress().end(DemoState::Ready, Some(id), None);
        }
        let (state, stage, done, total, message, dataset) = {
            let p = self.demo_progress();
            (
                p.state,
                p.stage.clone(),
                p.done,
                p.total,
                p.message.clone(),
                p.dataset,
            )
        };
        let dataset = match dataset {
            Some(id) => Some(self.dataset(id).await.map_err(|e| {
                ApiError::new(ErrorCode::Storage, format!("the demo dataset: {e}"))
            })?),
            None => None,
        };
        Ok(DemoStatusDto {
            state,
            dataset,
            stage,
            done,
            total,
            message,
        })
    }
}
