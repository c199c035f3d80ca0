//! Encoding a dataset's image files into image features ([`crate::image_features`]):
//! in the foreground with a progress callback (the CLI), or in the background with its
//! state polled (both shells: [`Api::start_image_encoding`], [`Api::image_encoding`],
//! [`Api::cancel_image_encoding`]). When features are written the dataset's statistics
//! are updated and the next load of the dataset carries them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use alignscope_datasets::dataset_stats;
use alignscope_datasets::derived::EncodedImages;
use alignscope_models::compute::ComputeDevice;
use alignscope_vision::EncodeProgress;

use super::dto::{EncodedImagesDto, EncodingState, ImageEncodingDto, ImageFailureDto};
use super::{Api, ApiError, ApiResult};
use crate::image_features::{EncodingOutcome, encode_dataset_images};
use crate::store::DatasetId;

/// Failed files an [`EncodedImagesDto`] lists by name.
const FAILURES_SHOWN: usize = 20;

/// A background encoding: its latest state and its cancel flag.
#[derive(Debug)]
pub(crate) struct BackgroundEncoding {
    state: ImageEncodingDto,
    cancel: Arc<AtomicBool>,
}

/// The state of an encoding of `dataset` that started at `started`, at `progress`.
fn progress_dto(
    dataset: DatasetId,
    started: Instant,
    progress: EncodeProgress,
) -> ImageEncodingDto {
    let elapsed = started.elapsed().as_secs_f64();
    let encoded = progress.done.saturating_sub(progress.from_cache);
    let rate = (encoded > 0 && elapsed > 0.0).then(|| encoded as f64 / elapsed);
    ImageEncodingDto {
        dataset,
        state: EncodingState::Encoding,
        done: progress.done,
        total: progress.total,
        from_cache: progress.from_cache,
        elapsed_seconds: elapsed,
        images_per_second: rate,
        eta_seconds: rate.map(|r| progress.total.saturating_sub(progress.done) as f64 / r),
        message: None,
        result: None,
    }
}

fn result_dto(manifest: &EncodedImages) -> EncodedImagesDto {
    EncodedImagesDto {
        encoder: manifest.encoder.clone(),
        weights_sha256: manifest.weights_sha256.clone(),
        entities_with_image_features: manifest
            .sides
            .iter()
            .map(|s| s.entities_with_features)
            .collect(),
        images: manifest.sides.iter().map(|s| s.images).sum(),
        from_cache: manifest.sides.iter().map(|s| s.from_cache).sum(),
        failed: manifest.failed(),
        failures: manifest
            .sides
            .iter()
            .flat_map(|s| &s.failures)
            .take(FAILURES_SHOWN)
            .map(|f| ImageFailureDto {
                path: f.path.display().to_string(),
                reason: f.reason.clone(),
            })
            .collect(),
    }
}

fn ended(dataset: DatasetId, state: EncodingState, message: Option<String>) -> ImageEncodingDto {
    ImageEncodingDto {
        dataset,
        state,
        done: 0,
        total: 0,
        from_cache: 0,
        elapsed_seconds: 0.0,
        images_per_second: None,
        eta_seconds: None,
        message,
        result: None,
    }
}

impl Api {
    /// Encodes the image files of `dataset` on `device` in the calling task, reporting
    /// each batch to `progress`; `cancel` stops it between batches (what was encoded is
    /// cached, so the next call resumes). Returns the final state.
    pub async fn encode_images(
        &self,
        dataset: DatasetId,
        device: ComputeDevice,
        cancel: Arc<AtomicBool>,
        mut progress: impl FnMut(&ImageEncodingDto) + Send + 'static,
    ) -> ApiResult<ImageEncodingDto> {
        let pair = self.loaded_pair(dataset).await?;
        let data = self.data_dir.clone();
        let dest = self.data_dir.dataset_features(dataset);
        let started = Instant::now();
        let mut last = progress_dto(
            dataset,
            started,
            EncodeProgress {
                done: 0,
                total: 0,
                from_cache: 0,
            },
        );
        let (outcome, last) = tokio::task::spawn_blocking(move || {
            let outcome = encode_dataset_images(&data, &pair, &dest, &device, &cancel, &mut |p| {
                last = progress_dto(dataset, started, p);
                progress(&last);
            });
            (outcome, last)
        })
        .await
        .map_err(|e| ApiError::new(super::ErrorCode::Internal, format!("encoding stopped: {e}")))?;
        let outcome = outcome.map_err(|e| ApiError::invalid(e.to_string()))?;
        let mut state = last;
        match outcome {
            EncodingOutcome::NothingToEncode => {
                return Ok(ended(
                    dataset,
                    EncodingState::NothingToEncode,
                    Some("no entity has image files without image features".into()),
                ));
            }
            EncodingOutcome::Cancelled { encoded } => {
                state.state = EncodingState::Cancelled;
                state.message = Some(format!(
                    "cancelled after {encoded} images were encoded (they are cached: encoding again resumes)"
                ));
            }
            EncodingOutcome::Written(manifest) => {
                self.loaded.forget(dataset);
                let pair = self.loaded_pair(dataset).await?;
                let statistics = serde_json::to_value(dataset_stats(&pair))
                    .map_err(|e| ApiError::invalid(e.to_string()))?;
                self.store
                    .update_dataset_statistics(dataset, &statistics)
                    .await?;
                state.state = EncodingState::Done;
                state.elapsed_seconds = started.elapsed().as_secs_f64();
                state.eta_seconds = Some(0.0);
                state.result = Some(result_dto(&manifest));
            }
        }
        Ok(state)
    }

    fn encodings(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<DatasetId, BackgroundEncoding>> {
        self.encodings
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Starts encoding the image files of `dataset` in the background on the CPU, unless
    /// one is running; its state.
    pub async fn start_image_encoding(&self, dataset: DatasetId) -> ApiResult<ImageEncodingDto> {
        self.dataset_row(dataset).await?;
        let cancel = {
            let mut encodings = self.encodings();
            if let Some(running) = encodings
                .get(&dataset)
                .filter(|e| e.state.state == EncodingState::Encoding)
            {
                return Ok(running.state.clone());
            }
            let cancel = Arc::new(AtomicBool::new(false));
            let mut state = ended(dataset, EncodingState::Encoding, None);
            state.message =
                Some("Reading the image files and looking them up in the cache…".into());
            encodings.insert(
                dataset,
                BackgroundEncoding {
                    state,
                    cancel: cancel.clone(),
                },
            );
            cancel
        };
        let api = self.clone();
        tokio::spawn(async move {
            let reporter = api.clone();
            let end = api
                .encode_images(dataset, ComputeDevice::Cpu, cancel, move |state| {
                    if let Some(entry) = reporter.encodings().get_mut(&dataset) {
                        entry.state = state.clone();
                    }
                })
                .await
                .unwrap_or_else(|e| ended(dataset, EncodingState::Failed, Some(e.message)));
            if let Some(entry) = api.encodings().get_mut(&dataset) {
                entry.state = end;
            }
        });
        self.image_encoding(dataset).await
    }

    /// Where the background encoding of `dataset` stands (`idle` if none ran here).
    pub async fn image_encoding(&self, dataset: DatasetId) -> ApiResult<ImageEncodingDto> {
        self.dataset_row(dataset).await?;
        Ok(self
            .encodings()
            .get(&dataset)
            .map(|e| e.state.clone())
            .unwrap_or_else(|| ended(dataset, EncodingState::Idle, None)))
    }

    /// Asks the background encoding of `dataset` to stop after its current batch.
    pub async fn cancel_image_encoding(&self, dataset: DatasetId) -> ApiResult<ImageEncodingDto> {
        if let Some(entry) = self.encodings().get(&dataset) {
            entry.cancel.store(true, Ordering::Relaxed);
        }
        self.image_encoding(dataset).await
    }
}
