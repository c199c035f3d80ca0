//! Runs, their per-epoch metrics and their artifacts on disk.

use serde::{Deserialize, Serialize};

use super::sql_types::{sql_from_row, sql_text_enum};
use super::{DatasetId, RunId, Store, StoreError, now_millis};

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Waiting for its device.
    Queued,
    /// Training.
    Running,
    /// Finished all epochs.
    Completed,
    /// Stopped by an error or a panic.
    Failed,
    /// Stopped on request.
    Cancelled,
    /// Its process died (crash, kill): resumable from the last checkpoint.
    Interrupted,
}

impl RunStatus {
    /// Whether a process may be working on it.
    pub fn is_active(self) -> bool {
        matches!(self, Self::Queued | Self::Running)
    }
}

/// A run to register.
#[derive(Debug, Clone)]
pub struct NewRun {
    /// Its dataset.
    pub dataset: DatasetId,
    /// Model name.
    pub model: String,
    /// The request (JSON).
    pub request: serde_json::Value,
    /// Requested device.
    pub device: String,
    /// Seed.
    pub seed: i64,
    /// Code version.
    pub code_version: String,
    /// Planned epochs.
    pub epochs_planned: i64,
}

/// A stored run.
#[derive(Debug, Clone)]
pub struct RunRow {
    /// Id.
    pub id: RunId,
    /// Dataset.
    pub dataset_id: DatasetId,
    /// Model name.
    pub model: String,
    /// Request JSON.
    pub request: String,
    /// Resolved config JSON.
    pub config: Option<String>,
    /// Requested device.
    pub device: String,
    /// Device it ran on.
    pub device_label: Option<String>,
    /// Seed.
    pub seed: i64,
    /// Code version.
    pub code_version: String,
    /// Status.
    pub status: RunStatus,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub started_at: Option<i64>,
    /// Unix ms.
    pub finished_at: Option<i64>,
    /// Epochs finished.
    pub epochs_done: i64,
    /// Epochs planned.
    pub epochs_planned: i64,
    /// Best epoch.
    pub best_epoch: Option<i64>,
    /// Final left-to-right H@1.
    pub hits_at_1: Option<f64>,
    /// Final left-to-right H@10.
    pub hits_at_10: Option<f64>,
    /// Final left-to-right MRR.
    pub mrr: Option<f64>,
    /// Final left-to-right MR.
    pub mr: Option<f64>,
    /// Final metrics JSON (both directions).
    pub metrics: Option<String>,
    /// Error message.
    pub error: Option<String>,
    /// Whether a cancel was asked for.
    pub cancel_requested: bool,
    /// Run folder, relative to the data directory.
    pub run_dir: String,
    /// JSON array of weight columns.
    pub weight_modalities: Option<String>,
    /// JSON array of per-modality score columns.
    pub similarity_modalities: Option<String>,
    /// Peak resident memory (MiB) while it prepared and trained, if measured.
    pub peak_memory_mib: Option<f64>,
    /// Mean training seconds of its stored epochs (none stored: `None`).
    pub seconds_per_epoch: Option<f64>,
    /// Test H@1 of its best epoch (by validation H@1), if that epoch was evaluated.
    pub best_hits_at_1: Option<f64>,
    /// Test H@10 of its best epoch.
    pub best_hits_at_10: Option<f64>,
    /// Test MRR of its best epoch.
    pub best_mrr: Option<f64>,
    /// Validation H@1 of its best epoch: set only where the best epoch was chosen on a
    /// validation part.
    pub best_valid_hits_at_1: Option<f64>,
}

/// `SELECT` of whole [`RunRow`]s from `runs` with `$rest` (a `WHERE` or `ORDER BY`):
/// the stored columns and the figures derived from the run's epochs. The columns are
/// named, not `runs.*`, so that a column a later version adds changes nothing here.
macro_rules! select_runs {
    ($rest:literal) => {
        concat!(
            "SELECT runs.id, runs.dataset_id, runs.model, runs.request, runs.config, runs.device,
                runs.device_label, runs.seed, runs.code_version, runs.status, runs.created_at,
                runs.started_at, runs.finished_at, runs.epochs_done, runs.epochs_planned,
                runs.best_epoch, runs.hits_at_1, runs.hits_at_10, runs.mrr, runs.mr, runs.metrics,
                runs.error, runs.cancel_requested, runs.run_dir, runs.weight_modalities,
                runs.similarity_modalities, runs.peak_memory_mib,
                (SELECT avg(e.seconds) FROM run_epochs e WHERE e.run_id = runs.id) AS seconds_per_epoch,
                b.hits_at_1 AS best_hits_at_1, b.hits_at_10 AS best_hits_at_10, b.mrr AS best_mrr,
                b.valid_hits_at_1 AS best_valid_hits_at_1
             FROM runs LEFT JOIN run_epochs b ON b.run_id = runs.id AND b.epoch = runs.best_epoch ",
            $rest
        )
    };
}

/// One epoch's stored metrics.
#[derive(Debug, Clone)]
pub struct EpochRow {
    /// Epoch.
    pub epoch: i64,
    /// Loss.
    pub loss: f64,
    /// Training seconds.
    pub seconds: f64,
    /// Evaluation seconds.
    pub eval_seconds: Option<f64>,
    /// Test H@1 (left to right).
    pub hits_at_1: Option<f64>,
    /// Test H@10.
    pub hits_at_10: Option<f64>,
    /// Test MRR.
    pub mrr: Option<f64>,
    /// Validation H@1.
    pub valid_hits_at_1: Option<f64>,
    /// The whole record (JSON).
    pub details: String,
}

/// A file a run wrote.
#[derive(Debug, Clone)]
pub struct ArtifactRow {
    /// Kind.
    pub kind: String,
    /// Path relative to the data directory.
    pub path: String,
    /// Size.
    pub bytes: i64,
    /// SHA-256, hex.
    pub sha256: String,
}

/// Final figures of a run.
#[derive(Debug, Clone, Default)]
pub struct RunOutcome {
    /// Best epoch.
    pub best_epoch: Option<i64>,
    /// H@1, H@10, MRR, MR left to right.
    pub headline: Option<[f64; 4]>,
    /// Both directions (JSON).
    pub metrics: Option<serde_json::Value>,
    /// Epochs done.
    pub epochs_done: i64,
    /// Peak resident memory (MiB) while it prepared and trained.
    pub peak_memory_mib: Option<f64>,
}

impl Store {
    /// Registers a queued run whose folder is `runs/<id>`.
    pub async fn create_run(&self, new: &NewRun) -> Result<RunRow, StoreError> {
        let mut tx = self.pool().begin().await.map_err(|e| self.err(e))?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO runs (dataset_id, model, request, device, seed, code_version, status, created_at, epochs_planned, run_dir)
             VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, '') RETURNING id",
        )
        .bind(new.dataset)
        .bind(&new.model)
        .bind(new.request.to_string())
        .bind(&new.device)
        .bind(new.seed)
        .bind(&new.code_version)
        .bind(now_millis())
        .bind(new.epochs_planned)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| self.err(e))?;
        sqlx::query("UPDATE runs SET run_dir = 'runs/' || id WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.err(e))?;
        tx.commit().await.map_err(|e| self.err(e))?;
        self.run(RunId(id))
            .await?
            .ok_or_else(|| self.err(sqlx::Error::RowNotFound))
    }

    /// One run.
    pub async fn run(&self, id: RunId) -> Result<Option<RunRow>, StoreError> {
        sqlx::query_as(select_runs!("WHERE runs.id = ?"))
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(|e| self.err(e))
    }

    /// Every run, newest first.
    pub async fn list_runs(&self) -> Result<Vec<RunRow>, StoreError> {
        sqlx::query_as(select_runs!("ORDER BY runs.id DESC"))
            .fetch_all(self.pool())
            .await
            .map_err(|e| self.err(e))
    }

    /// Runs in `status`.
    pub async fn runs_with_status(&self, status: RunStatus) -> Result<Vec<RunRow>, StoreError> {
        sqlx::query_as(select_runs!("WHERE runs.status = ? ORDER BY runs.id"))
            .bind(status)
            .fetch_all(self.pool())
            .await
            .map_err(|e| self.err(e))
    }

    /// Marks a run running (its job has its device now); whether a cancel was asked for
    /// meanwhile (kept, so that a cancel that lands just before the start is not lost).
    pub async fn mark_started(&self, id: RunId) -> Result<bool, StoreError> {
        let cancel: Option<bool> = sqlx::query_scalar(
            "UPDATE runs SET status = 'running', started_at = ?, finished_at = NULL, error = NULL
                 WHERE id = ? RETURNING cancel_requested",
        )
        .bind(now_millis())
        .bind(id)
        .fetch_optional(self.pool())
        .await
        .map_err(|e| self.err(e))?;
        Ok(cancel.unwrap_or(false))
    }

    /// Queues a run again if it is still `from` (clearing its error and end time, and with
    /// `forget_cancel` an old cancel request: a resume); whether it moved.
    pub async fn requeue(
        &self,
        id: RunId,
        from: RunStatus,
        forget_cancel: bool,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE runs SET status = 'queued', error = NULL, finished_at = NULL,
                 cancel_requested = cancel_requested AND NOT ? WHERE id = ? AND status = ?",
        )
        .bind(forget_cancel)
        .bind(id)
        .bind(from)
        .execute(self.pool())
        .await
        .map_err(|e| self.err(e))?;
        Ok(done.rows_affected() == 1)
    }

    /// Stores a run's resolved config and the device it runs on.
    pub async fn set_run_config(
        &self,
        id: RunId,
        config: &serde_json::Value,
        device_label: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE runs SET config = ?, device_label = ? WHERE id = ?")
            .bind(config.to_string())
            .bind(device_label)
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Sets a run's status (and error message), stamping the finish time for end states.
    pub async fn set_status(
        &self,
        id: RunId,
        status: RunStatus,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let finished = (!status.is_active()).then(now_millis);
        sqlx::query("UPDATE runs SET status = ?, error = ?, finished_at = ? WHERE id = ?")
            .bind(status)
            .bind(error)
            .bind(finished)
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Marks a run `interrupted` with `message` if it is still `from` (one statement, so a
    /// concurrent requeue either wins or loses whole); whether it moved.
    pub async fn interrupt(
        &self,
        id: RunId,
        from: RunStatus,
        message: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE runs SET status = 'interrupted', error = ?, finished_at = ?
                 WHERE id = ? AND status = ?",
        )
        .bind(message)
        .bind(now_millis())
        .bind(id)
        .bind(from)
        .execute(self.pool())
        .await
        .map_err(|e| self.err(e))?;
        Ok(done.rows_affected() == 1)
    }

    /// Moves a run from `from` to `to` only if it is still in `from`; whether it moved.
    pub async fn transition(
        &self,
        id: RunId,
        from: RunStatus,
        to: RunStatus,
    ) -> Result<bool, StoreError> {
        let finished = (!to.is_active()).then(now_millis);
        let done = sqlx::query(
            "UPDATE runs SET status = ?, finished_at = coalesce(?, finished_at) WHERE id = ? AND status = ?",
        )
        .bind(to)
        .bind(finished)
        .bind(id)
        .bind(from)
        .execute(self.pool())
        .await
        .map_err(|e| self.err(e))?;
        Ok(done.rows_affected() == 1)
    }

    /// Stores the end of a run: status, best epoch and final metrics (figures the outcome
    /// lacks keep their stored values, e.g. a resumed run cancelled before it started).
    pub async fn finish_run(
        &self,
        id: RunId,
        status: RunStatus,
        outcome: &RunOutcome,
    ) -> Result<(), StoreError> {
        let h = outcome.headline;
        sqlx::query(
            "UPDATE runs SET status = ?, finished_at = ?, best_epoch = coalesce(?, best_epoch),
                 epochs_done = max(epochs_done, ?), hits_at_1 = coalesce(?, hits_at_1),
                 hits_at_10 = coalesce(?, hits_at_10), mrr = coalesce(?, mrr), mr = coalesce(?, mr),
                 metrics = coalesce(?, metrics), peak_memory_mib = coalesce(?, peak_memory_mib),
                 error = NULL WHERE id = ?",
        )
        .bind(status)
        .bind(now_millis())
        .bind(outcome.best_epoch)
        .bind(outcome.epochs_done)
        .bind(h.map(|h| h[0]))
        .bind(h.map(|h| h[1]))
        .bind(h.map(|h| h[2]))
        .bind(h.map(|h| h[3]))
        .bind(outcome.metrics.as_ref().map(|m| m.to_string()))
        .bind(outcome.peak_memory_mib.filter(|m| m.is_finite()))
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Stores one epoch (replacing a row of the same epoch from before a resume).
    pub async fn record_epoch(&self, id: RunId, row: &EpochRow) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await.map_err(|e| self.err(e))?;
        sqlx::query(
            "INSERT OR REPLACE INTO run_epochs (run_id, epoch, loss, seconds, eval_seconds, hits_at_1, hits_at_10, mrr, valid_hits_at_1, details, recorded_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(row.epoch)
        .bind(row.loss)
        .bind(row.seconds)
        .bind(row.eval_seconds)
        .bind(row.hits_at_1)
        .bind(row.hits_at_10)
        .bind(row.mrr)
        .bind(row.valid_hits_at_1)
        .bind(&row.details)
        .bind(now_millis())
        .execute(&mut *tx)
        .await
        .map_err(|e| self.err(e))?;
        sqlx::query("UPDATE runs SET epochs_done = ? WHERE id = ?")
            .bind(row.epoch)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.err(e))?;
        tx.commit().await.map_err(|e| self.err(e))
    }

    /// Forgets epochs from `first` on (they will be trained again after a resume).
    pub async fn forget_epochs_from(&self, id: RunId, first: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM run_epochs WHERE run_id = ? AND epoch >= ?")
            .bind(id)
            .bind(first)
            .execute(self.pool())
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// A run's epochs in order.
    pub async fn epochs(&self, id: RunId) -> Result<Vec<EpochRow>, StoreError> {
        sqlx::query_as(
            "SELECT epoch, loss, seconds, eval_seconds, hits_at_1, hits_at_10, mrr, valid_hits_at_1, details
             FROM run_epochs WHERE run_id = ? ORDER BY epoch",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.err(e))
    }

    /// Asks the process training `id` to stop.
    pub async fn request_cancel(&self, id: RunId) -> Result<(), StoreError> {
        sqlx::query("UPDATE runs SET cancel_requested = 1 WHERE id = ?")
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Whether a cancel was asked for.
    pub async fn cancel_requested(&self, id: RunId) -> Result<bool, StoreError> {
        let flag: Option<bool> =
            sqlx::query_scalar("SELECT cancel_requested FROM runs WHERE id = ?")
                .bind(id)
                .fetch_optional(self.pool())
                .await
                .map_err(|e| self.err(e))?;
        Ok(flag.unwrap_or(false))
    }

    /// Records which modality columns the run's predictions and weights carry.
    pub async fn set_modality_columns(
        &self,
        id: RunId,
        weights: &[String],
        similarities: &[String],
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE runs SET weight_modalities = ?, similarity_modalities = ? WHERE id = ?",
        )
        .bind(serde_json::to_string(weights).expect("strings serialise"))
        .bind(serde_json::to_string(similarities).expect("strings serialise"))
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Deletes a run's rows (metrics, predictions, artifacts go with it).
    pub async fn delete_run(&self, id: RunId) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM runs WHERE id = ?")
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(|e| self.err(e))?;
        Ok(done.rows_affected() == 1)
    }

    /// Replaces the artifact list of a run.
    pub async fn replace_artifacts(
        &self,
        id: RunId,
        artifacts: &[ArtifactRow],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await.map_err(|e| self.err(e))?;
        sqlx::query("DELETE FROM artifacts WHERE run_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.err(e))?;
        for a in artifacts {
            sqlx::query(
                "INSERT INTO artifacts (run_id, kind, path, bytes, sha256, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(&a.kind)
            .bind(&a.path)
            .bind(a.bytes)
            .bind(&a.sha256)
            .bind(now_millis())
            .execute(&mut *tx)
            .await
            .map_err(|e| self.err(e))?;
        }
        tx.commit().await.map_err(|e| self.err(e))
    }

    /// A run's artifacts.
    pub async fn artifacts(&self, id: RunId) -> Result<Vec<ArtifactRow>, StoreError> {
        sqlx::query_as(
            "SELECT kind, path, bytes, sha256 FROM artifacts WHERE run_id = ? ORDER BY path",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.err(e))
    }
}

sql_text_enum!(RunStatus { Queued => "queued", Running => "running", Completed => "completed", Failed => "failed", Cancelled => "cancelled", Interrupted => "interrupted" });
sql_from_row!(RunRow {
    id,
    dataset_id,
    model,
    request,
    config,
    device,
    device_label,
    seed,
    code_version,
    status,
    created_at,
    started_at,
    finished_at,
    epochs_done,
    epochs_planned,
    best_epoch,
    hits_at_1,
    hits_at_10,
    mrr,
    mr,
    metrics,
    error,
    cancel_requested,
    run_dir,
    weight_modalities,
    similarity_modalities,
    peak_memory_mib,
    seconds_per_epoch,
    best_hits_at_1,
    best_hits_at_10,
    best_mrr,
    best_valid_hits_at_1
});
sql_from_row!(EpochRow {
    epoch,
    loss,
    seconds,
    eval_seconds,
    hits_at_1,
    hits_at_10,
    mrr,
    valid_hits_at_1,
    details
});
sql_from_row!(ArtifactRow {
    kind,
    path,
    bytes,
    sha256
});
