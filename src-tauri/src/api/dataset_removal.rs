//! Removing a dataset: its runs (rows and folders) and the files AlignScope derived for
//! it (encoded image features) go; the dataset's row stays, marked removed, with its
//! entities where decisions name them, so the append-only decision history stays
//! exportable. The user's dataset folder is never touched. Importing that folder again
//! restores the dataset with its decisions.

use super::dto::RemovedDatasetDto;
use super::{Api, ApiError, ApiResult, ErrorCode};
use crate::store::DatasetId;

impl Api {
    /// Removes `dataset` (see the module docs); refused while one of its runs is queued
    /// or running, or its images or text are being encoded.
    pub async fn remove_dataset(&self, dataset: DatasetId) -> ApiResult<RemovedDatasetDto> {
        let row = self.dataset_row(dataset).await?;
        if row.removed_at.is_some() {
            return Err(ApiError::not_found(format!(
                "dataset {dataset} was already removed"
            )));
        }
        for kind in [
            super::dto::EncodingKind::Images,
            super::dto::EncodingKind::Text,
        ] {
            if self.encoding(dataset, kind).await?.state == super::dto::EncodingState::Encoding {
                return Err(ApiError::conflict(format!(
                    "the {} of dataset {dataset} are being encoded; cancel that first",
                    kind.items()
                )));
            }
        }
        let runs: Vec<_> = self
            .store
            .list_runs()
            .await?
            .into_iter()
            .filter(|r| r.dataset_id == dataset)
            .collect();
        if let Some(active) = runs
            .iter()
            .find(|r| r.status.is_active() || self.jobs.is_active(r.id))
        {
            return Err(ApiError::conflict(format!(
                "run {} of dataset {dataset} is {}; cancel it first",
                active.id,
                active.status.as_str()
            )));
        }
        for run in &runs {
            self.delete_run(run.id).await?;
        }
        let decisions = self.store.decision_history(dataset).await?.len();
        self.store
            .mark_dataset_removed(dataset, decisions > 0)
            .await?;
        self.loaded.forget(dataset);
        let derived = self.data_dir.dataset_features(dataset);
        if let Some(folder) = derived.parent().filter(|f| f.exists()) {
            std::fs::remove_dir_all(folder).map_err(|e| {
                ApiError::new(
                    ErrorCode::Io,
                    format!(
                        "dataset {dataset} was removed but {} could not be deleted: {e}",
                        folder.display()
                    ),
                )
            })?;
        }
        Ok(RemovedDatasetDto {
            dataset,
            runs_removed: runs.len(),
            decisions_kept: decisions,
        })
    }
}
