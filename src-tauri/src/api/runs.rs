//! Runs: start, list, get, metrics, cancel, resume, delete, compare, evaluate.

use std::collections::HashMap;
use std::path::PathBuf;

use alignscope_datasets::LoadOptions;
use alignscope_models::eval::{EvalOptions, Evaluation};
use alignscope_models::registry;
use alignscope_models::run::{RunConfig, RunSpec, SavedModel};
use alignscope_models::train::EpochRecord;

use super::dto::{
    ArtifactDto, EntityDto, EpochDto, FlipDto, RunComparisonDto, RunDto, StartRunRequest,
};
use super::{Api, ApiError, ApiResult};
use crate::device::DeviceArg;
use crate::jobs::RunLock;
use crate::jobs::train::TrainJob;
use crate::store::{ArtifactRow, EpochRow, NewRun, RunId, RunRow, RunStatus};

/// Flips listed per side in a comparison at most.
const FLIP_CAP: usize = 500;

impl Api {
    pub(crate) fn run_dto(&self, row: RunRow) -> RunDto {
        let json =
            |text: &Option<String>| text.as_deref().and_then(|t| serde_json::from_str(t).ok());
        let seeds_from = serde_json::from_str::<StartRunRequest>(&row.request)
            .ok()
            .and_then(|r| r.seeds_from);
        let run_dir = self.data_dir.run_folder(&row);
        RunDto {
            seeds_from,
            id: row.id,
            dataset_id: row.dataset_id,
            model: row.model,
            status: row.status,
            device: row.device,
            device_label: row.device_label,
            seed: row.seed,
            code_version: row.code_version,
            created_at: row.created_at,
            started_at: row.started_at,
            finished_at: row.finished_at,
            epochs_done: row.epochs_done,
            epochs_planned: row.epochs_planned,
            best_epoch: row.best_epoch,
            hits_at_1: row.hits_at_1,
            hits_at_10: row.hits_at_10,
            mrr: row.mrr,
            mr: row.mr,
            metrics: json(&row.metrics),
            error: row.error,
            config: json(&row.config),
            run_dir,
            peak_memory_mib: row.peak_memory_mib,
            seconds_per_epoch: row.seconds_per_epoch,
            best_hits_at_1: row.best_hits_at_1,
            best_hits_at_10: row.best_hits_at_10,
            best_mrr: row.best_mrr,
            best_valid_hits_at_1: row.best_valid_hits_at_1,
        }
    }

    /// A run as stored; a run the store calls queued or running although no process has
    /// it (its process died, or could not store its end) is marked `interrupted` first.
    pub(crate) async fn run_row(&self, id: RunId) -> ApiResult<RunRow> {
        let row =
            self.store.run(id).await?.ok_or_else(|| {
                ApiError::not_found(format!("no run {id}; `runs list` shows them"))
            })?;
        self.healed(row).await
    }

    /// `row`, read again if it was an orphan that [`crate::jobs::JobRunner::recover_if_orphaned`]
    /// marked interrupted. A store that cannot take the mark (still full or locked) leaves
    /// the row as it was.
    async fn healed(&self, row: RunRow) -> ApiResult<RunRow> {
        if !matches!(self.jobs.recover_if_orphaned(&row).await, Ok(true)) {
            return Ok(row);
        }
        Ok(self.store.run(row.id).await?.unwrap_or(row))
    }

    /// Checks a request and turns it into a model run spec on its dataset: an unknown
    /// model or setting, a value of the wrong type or out of range, or a bad split is
    /// refused here, before anything is stored or run.
    async fn spec(&self, request: &StartRunRequest) -> ApiResult<RunSpec> {
        let mut request = request.clone();
        request.upgrade();
        if !StartRunRequest::split_fits(request.train_ratio, request.valid_ratio) {
            return Err(ApiError::invalid(format!(
                "invalid split: train ratio {} and validation ratio {} must be positive (validation may be 0) and sum to less than 1",
                request.train_ratio, request.valid_ratio
            )));
        }
        registry::resolve(&request.model, &request.settings)
            .map_err(|e| ApiError::invalid(e.to_string()))?;
        let dataset = self.dataset_row(request.dataset).await?;
        if dataset.removed_at.is_some() {
            return Err(ApiError::invalid(format!(
                "dataset {} was removed; import its folder ({}) again to train on it",
                dataset.id, dataset.source_path
            )));
        }
        Ok(RunSpec {
            dataset: PathBuf::from(&dataset.source_path),
            load: LoadOptions {
                format: dataset.format.parse().ok(),
                image_features: dataset.image_features.map(PathBuf::from),
                derived_features: Some(self.data_dir.dataset_features(dataset.id)),
            },
            model: request.model.clone(),
            settings: request.settings.clone(),
            train_ratio: request.train_ratio,
            valid_ratio: request.valid_ratio,
            seeds: request.seeds.clone(),
            rejected: request.rejected.clone().unwrap_or_default(),
        })
    }

    /// Queues a training run; it starts when its device is free.
    pub async fn start_run(&self, mut request: StartRunRequest) -> ApiResult<RunDto> {
        request.upgrade();
        if let Some(base) = request.seeds_from {
            let base_row = self.run_row(base).await?;
            if base_row.dataset_id != request.dataset {
                return Err(ApiError::invalid(format!(
                    "run {base} is on dataset {}, not {}; seeds come from a run of the same dataset",
                    base_row.dataset_id, request.dataset
                )));
            }
            let seeds = self.seeds_for_new_run(base).await?;
            request.seeds = Some(seeds.pairs);
            let mut rejected = request.rejected.take().unwrap_or_default();
            rejected.extend(seeds.rejected);
            rejected.sort();
            rejected.dedup();
            request.rejected = Some(rejected);
        }
        let spec = self.spec(&request).await?;
        let row = self
            .store
            .create_run(&NewRun {
                dataset: request.dataset,
                model: request.model.clone(),
                request: serde_json::to_value(&request)
                    .map_err(|e| ApiError::invalid(e.to_string()))?,
                device: device_key(&request),
                seed: request.seed() as i64,
                code_version: crate::code_version(),
                epochs_planned: request.epochs() as i64,
            })
            .await?;
        let dir = self.data_dir.run_folder(&row);
        let lock = RunLock::try_acquire(&dir)?.ok_or_else(|| {
            ApiError::conflict(format!("run {} is locked by another process", row.id))
        })?;
        // Another process's start-up may have seen the row before the lock existed and
        // marked it interrupted; it is ours now.
        self.store
            .requeue(row.id, RunStatus::Interrupted, false)
            .await?;
        self.jobs.submit(
            row.id,
            &device_key(&request),
            lock,
            TrainJob {
                spec,
                device: request.device,
                resume: false,
                run_dir: dir,
            }
            .into_work(),
        );
        self.get_run(row.id).await
    }

    /// Starts a run like `base` (same model, training and split settings) whose training
    /// pairs are `base`'s plus the accepted decisions, minus the rejected ones, which are
    /// also kept out of its pseudo seeds.
    pub async fn retrain_with_decisions(&self, base: RunId) -> ApiResult<RunDto> {
        let row = self.run_row(base).await?;
        let mut request: StartRunRequest = serde_json::from_str(&row.request).map_err(|e| {
            ApiError::invalid(format!("run {base} has an unreadable stored request: {e}"))
        })?;
        request.seeds_from = Some(base);
        request.seeds = None;
        request.rejected = None;
        self.start_run(request).await
    }

    /// Evaluates a recorded run's saved model (its newest checkpoint or its best
    /// epoch's) again on its dataset, with its own evaluation options or `options`;
    /// returns the run's config and the evaluation. Computes on a blocking thread.
    pub async fn evaluate_run(
        &self,
        id: RunId,
        which: SavedModel,
        device: DeviceArg,
        options: Option<EvalOptions>,
    ) -> ApiResult<(RunConfig, Evaluation)> {
        let row = self.run_row(id).await?;
        let dir = self.data_dir.run_folder(&row);
        let evaluated = tokio::task::spawn_blocking(move || {
            let (device, _) = crate::device::choose(device);
            alignscope_models::run::evaluate_run(&device, &dir, which, options)
        })
        .await
        .map_err(|e| ApiError::invalid(format!("evaluation stopped: {e}")))??;
        Ok(evaluated)
    }

    /// Continues an interrupted, cancelled or failed run from its newest checkpoint.
    pub async fn resume_run(&self, id: RunId) -> ApiResult<RunDto> {
        let row = self.run_row(id).await?;
        if !matches!(
            row.status,
            RunStatus::Interrupted | RunStatus::Cancelled | RunStatus::Failed
        ) {
            return Err(ApiError::conflict(format!(
                "run {id} is {}; only interrupted, cancelled or failed runs can be resumed",
                row.status.as_str()
            )));
        }
        let request: StartRunRequest = serde_json::from_str(&row.request).map_err(|e| {
            ApiError::invalid(format!("run {id} has an unreadable stored request: {e}"))
        })?;
        let spec = self.spec(&request).await?;
        let dir = self.data_dir.run_folder(&row);
        let lock = RunLock::try_acquire(&dir)?.ok_or_else(|| {
            ApiError::conflict(format!("run {id} is being worked on by another process"))
        })?;
        if !self.store.requeue(id, row.status, true).await? {
            return Err(ApiError::conflict(format!(
                "run {id} changed state meanwhile; try again"
            )));
        }
        self.jobs.submit(
            id,
            &device_key(&request),
            lock,
            TrainJob {
                spec,
                device: request.device,
                resume: true,
                run_dir: dir,
            }
            .into_work(),
        );
        self.get_run(id).await
    }

    /// Asks a queued or running run to stop (it keeps its checkpoints and metrics), or
    /// marks an interrupted one cancelled.
    pub async fn cancel_run(&self, id: RunId) -> ApiResult<RunDto> {
        let row = self.run_row(id).await?;
        if self.jobs.cancel(id) {
            // Ours: the job ends itself and stores `cancelled`.
        } else {
            match row.status {
                RunStatus::Queued | RunStatus::Running => self.store.request_cancel(id).await?,
                RunStatus::Interrupted => {
                    self.store
                        .transition(id, RunStatus::Interrupted, RunStatus::Cancelled)
                        .await?;
                }
                other => {
                    return Err(ApiError::conflict(format!(
                        "run {id} is {} already",
                        other.as_str()
                    )));
                }
            }
        }
        self.get_run(id).await
    }

    /// Waits until a run started by this process ends; the run as it ended.
    pub async fn wait_run(&self, id: RunId) -> ApiResult<RunDto> {
        self.jobs.wait(id).await;
        self.get_run(id).await
    }

    /// Deletes a run that is not active, with its files. Decisions it suggested stay.
    pub async fn delete_run(&self, id: RunId) -> ApiResult<()> {
        let row = self.run_row(id).await?;
        let dir = self.data_dir.run_folder(&row);
        let lock = RunLock::try_acquire(&dir)?;
        if row.status.is_active() || lock.is_none() || self.jobs.is_active(id) {
            return Err(ApiError::conflict(format!(
                "run {id} is {}; cancel it first",
                row.status.as_str()
            )));
        }
        self.store.delete_run(id).await?;
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| {
                ApiError::new(
                    super::ErrorCode::Io,
                    format!(
                        "run {id} was removed from the database but {} could not be deleted: {e}",
                        dir.display()
                    ),
                )
            })?;
        }
        drop(lock);
        let _ = std::fs::remove_file(RunLock::path(&dir));
        Ok(())
    }

    /// Every run, newest first.
    pub async fn list_runs(&self) -> ApiResult<Vec<RunDto>> {
        let mut runs = Vec::new();
        for row in self.store.list_runs().await? {
            runs.push(self.run_dto(self.healed(row).await?));
        }
        Ok(runs)
    }

    /// One run.
    pub async fn get_run(&self, id: RunId) -> ApiResult<RunDto> {
        let row = self.run_row(id).await?;
        Ok(self.run_dto(row))
    }

    /// A run's per-epoch metrics.
    pub async fn run_metrics(&self, id: RunId) -> ApiResult<Vec<EpochDto>> {
        self.run_row(id).await?;
        Ok(self
            .store
            .epochs(id)
            .await?
            .into_iter()
            .map(|e: EpochRow| {
                let (loss_terms, diagnostics) = serde_json::from_str::<EpochRecord>(&e.details)
                    .map(|r| (r.loss_terms, r.diagnostics))
                    .unwrap_or_default();
                EpochDto {
                    loss_terms,
                    diagnostics,
                    epoch: e.epoch,
                    loss: e.loss,
                    seconds: e.seconds,
                    eval_seconds: e.eval_seconds,
                    hits_at_1: e.hits_at_1,
                    hits_at_10: e.hits_at_10,
                    mrr: e.mrr,
                    valid_hits_at_1: e.valid_hits_at_1,
                }
            })
            .collect())
    }

    /// A run's files (kind, path, size, checksum).
    pub async fn run_artifacts(&self, id: RunId) -> ApiResult<Vec<ArtifactDto>> {
        self.run_row(id).await?;
        Ok(self
            .store
            .artifacts(id)
            .await?
            .into_iter()
            .map(|a: ArtifactRow| ArtifactDto {
                kind: a.kind,
                path: a.path,
                bytes: a.bytes,
                sha256: a.sha256,
            })
            .collect())
    }

    /// Two runs side by side: metrics, and the test pairs whose top-1 flips.
    pub async fn compare_runs(&self, a: RunId, b: RunId) -> ApiResult<RunComparisonDto> {
        let (row_a, row_b) = (self.run_row(a).await?, self.run_row(b).await?);
        if row_a.dataset_id != row_b.dataset_id {
            return Err(ApiError::invalid(format!(
                "runs {a} and {b} are on different datasets ({} and {}); compare runs of one dataset",
                row_a.dataset_id, row_b.dataset_id
            )));
        }
        let dataset = row_a.dataset_id;
        let ranks = |rows: Vec<crate::store::RankRow>| -> HashMap<(i64, i64), i64> {
            rows.into_iter()
                .filter(|r| r.direction == 0)
                .map(|r| ((r.query, r.truth), r.rank))
                .collect()
        };
        let ranks_a = ranks(self.store.ranks(a).await?);
        let ranks_b = ranks(self.store.ranks(b).await?);
        let mut common: Vec<_> = ranks_a
            .iter()
            .filter_map(|(pair, &ra)| ranks_b.get(pair).map(|&rb| (*pair, ra, rb)))
            .collect();
        common.sort_unstable();
        let (mut both, mut neither) = (0, 0);
        let (mut a_only, mut b_only) = (Vec::new(), Vec::new());
        for ((query, truth), ra, rb) in &common {
            match (*ra == 1, *rb == 1) {
                (true, true) => both += 1,
                (false, false) => neither += 1,
                (won_a, _) => {
                    let list = if won_a { &mut a_only } else { &mut b_only };
                    if list.len() < FLIP_CAP {
                        list.push(FlipDto {
                            query: self.entity_at(dataset, *query).await?,
                            truth: self.entity_at(dataset, *truth).await?,
                            rank_a: *ra,
                            rank_b: *rb,
                        });
                    }
                }
            }
        }
        let delta = match (
            (row_a.hits_at_1, row_a.hits_at_10, row_a.mrr),
            (row_b.hits_at_1, row_b.hits_at_10, row_b.mrr),
        ) {
            ((Some(h1a), Some(h10a), Some(ma)), (Some(h1b), Some(h10b), Some(mb))) => {
                Some([h1b - h1a, h10b - h10a, mb - ma])
            }
            _ => None,
        };
        Ok(RunComparisonDto {
            a: self.run_dto(row_a),
            b: self.run_dto(row_b),
            common_queries: common.len(),
            both_correct: both,
            neither_correct: neither,
            a_only,
            b_only,
            delta,
        })
    }

    /// The entity with joint index `entity` of a dataset.
    pub async fn entity_at(
        &self,
        dataset: crate::store::DatasetId,
        entity: i64,
    ) -> ApiResult<EntityDto> {
        self.store
            .entity(dataset, entity)
            .await?
            .map(EntityDto::from)
            .ok_or_else(|| ApiError::not_found(format!("no entity #{entity} in dataset {dataset}")))
    }
}

/// The queue a request waits in: one job per device at a time.
fn device_key(request: &StartRunRequest) -> String {
    match request.device {
        crate::device::DeviceArg::Cpu => "cpu".into(),
        crate::device::DeviceArg::Cuda => "cuda".into(),
    }
}
