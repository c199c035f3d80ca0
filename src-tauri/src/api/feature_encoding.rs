//! Encoding a dataset's image files ([`crate::image_features`]) or its attribute
//! statements and names ([`crate::text_features`]) into features: in the foreground with
//! a progress callback (the CLI), or in the background with its state polled (both
//! shells: [`Api::start_encoding`], [`Api::encoding`], [`Api::cancel_encoding`]). When
//! features are written the dataset's statistics are updated and the next load of the
//! dataset carries them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use alignscope_datasets::dataset_stats;
use alignscope_datasets::derived::{EncodedImages, EncodedTextSide, EncodedTexts};
use alignscope_models::compute::ComputeDevice;
use alignscope_vision::EncodeProgress;

use super::dto::{
    EncodedImagesDto, EncodedTextDto, EncodingDto, EncodingKind, EncodingState, ImageFailureDto,
};
use super::{Api, ApiError, ApiResult};
use crate::device::DeviceArg;
use crate::image_features::{EncodingOutcome, encode_dataset_images};
use crate::store::DatasetId;
use crate::text_features::{EncodedText, encode_dataset_text};

/// Failed files an [`EncodedImagesDto`] lists by name.
const FAILURES_SHOWN: usize = 20;

/// A background encoding: its latest state and its cancel flag.
#[derive(Debug)]
pub(crate) struct BackgroundEncoding {
    state: EncodingDto,
    cancel: Arc<AtomicBool>,
}

/// How an encoding of either kind ended.
enum Ended {
    Images(Box<EncodedImages>),
    Text(Box<EncodedText>),
    NothingToEncode,
    Cancelled { encoded: usize },
}

impl<M> EncodingOutcome<M> {
    /// The outcome with its manifest turned into an [`Ended`] by `written`.
    fn ended(self, written: impl FnOnce(Box<M>) -> Ended) -> Ended {
        match self {
            Self::Written(manifest) => written(manifest),
            Self::NothingToEncode => Ended::NothingToEncode,
            Self::Cancelled { encoded } => Ended::Cancelled { encoded },
        }
    }
}

impl EncodingKind {
    /// What is encoded, in words: "images", "statements and names".
    pub(crate) fn items(self) -> &'static str {
        match self {
            Self::Images => "images",
            Self::Text => "statements and names",
        }
    }
}

/// The state of an encoding of `dataset` on `device` that started at `started`, at
/// `progress`.
fn progress_dto(
    dataset: DatasetId,
    kind: EncodingKind,
    device: &'static str,
    started: Instant,
    progress: EncodeProgress,
) -> EncodingDto {
    let elapsed = started.elapsed().as_secs_f64();
    let encoded = progress.done.saturating_sub(progress.from_cache);
    let rate = (encoded > 0 && elapsed > 0.0).then(|| encoded as f64 / elapsed);
    EncodingDto {
        dataset,
        kind,
        state: EncodingState::Encoding,
        device: Some(device.into()),
        done: progress.done,
        total: progress.total,
        from_cache: progress.from_cache,
        elapsed_seconds: elapsed,
        per_second: rate,
        eta_seconds: rate.map(|r| progress.total.saturating_sub(progress.done) as f64 / r),
        message: None,
        result: None,
        text_result: None,
    }
}

fn images_dto(manifest: &EncodedImages) -> EncodedImagesDto {
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

fn text_dto(encoded: &EncodedText) -> EncodedTextDto {
    let per_side = |m: &EncodedTexts| m.sides.iter().map(|s| s.entities_with_features).collect();
    let all = [&encoded.statements, &encoded.names, &encoded.abstracts];
    let sum = |count: fn(&EncodedTextSide) -> usize| {
        all.iter().flat_map(|m| &m.sides).map(count).sum::<usize>()
    };
    let alignment = &encoded.key_alignment;
    EncodedTextDto {
        encoder: encoded.statements.encoder.clone(),
        weights_sha256: encoded.statements.weights_sha256.clone(),
        entities_with_attribute_text_features: per_side(&encoded.statements),
        entities_with_name_features: per_side(&encoded.names),
        entities_with_attribute_abstract_features: per_side(&encoded.abstracts),
        attribute_keys: vec![alignment.left_keys, alignment.right_keys],
        aligned_attribute_keys: alignment.pairs.len(),
        texts: sum(|s| s.texts),
        distinct: sum(|s| s.distinct),
        from_cache: sum(|s| s.from_cache),
    }
}

fn ended(
    dataset: DatasetId,
    kind: EncodingKind,
    state: EncodingState,
    message: Option<String>,
) -> EncodingDto {
    EncodingDto {
        dataset,
        kind,
        state,
        device: None,
        done: 0,
        total: 0,
        from_cache: 0,
        elapsed_seconds: 0.0,
        per_second: None,
        eta_seconds: None,
        message,
        result: None,
        text_result: None,
    }
}

impl Api {
    /// Encodes the image files or the text of `dataset` on `device` (named `device_label`
    /// in its states) in the calling task, reporting each batch to `progress`; `cancel`
    /// stops it between batches (what was encoded is cached, so the next call resumes).
    /// Returns the final state.
    pub async fn encode_features(
        &self,
        dataset: DatasetId,
        kind: EncodingKind,
        (device, device_label): (ComputeDevice, &'static str),
        cancel: Arc<AtomicBool>,
        mut progress: impl FnMut(&EncodingDto) + Send + 'static,
    ) -> ApiResult<EncodingDto> {
        let pair = self.loaded_pair(dataset).await?;
        let data = self.data_dir.clone();
        let dest = self.data_dir.dataset_features(dataset);
        let started = Instant::now();
        let none = EncodeProgress {
            done: 0,
            total: 0,
            from_cache: 0,
        };
        let mut last = progress_dto(dataset, kind, device_label, started, none);
        let (outcome, last) = tokio::task::spawn_blocking(move || {
            let mut report = |p| {
                last = progress_dto(dataset, kind, device_label, started, p);
                progress(&last);
            };
            let outcome: Result<Ended, String> = match kind {
                EncodingKind::Images => {
                    encode_dataset_images(&data, &pair, &dest, &device, &cancel, &mut report)
                        .map(|o| o.ended(Ended::Images))
                        .map_err(|e| e.to_string())
                }
                EncodingKind::Text => {
                    encode_dataset_text(&data, &pair, &dest, &device, &cancel, &mut report)
                        .map(|o| o.ended(Ended::Text))
                        .map_err(|e| e.to_string())
                }
            };
            (outcome, last)
        })
        .await
        .map_err(|e| ApiError::new(super::ErrorCode::Internal, format!("encoding stopped: {e}")))?;
        let outcome = outcome.map_err(ApiError::invalid)?;
        let mut state = last;
        match outcome {
            Ended::NothingToEncode => {
                let message = match kind {
                    EncodingKind::Images => "no entity has image files without image features",
                    EncodingKind::Text => "no entity has an attribute statement or a name",
                };
                return Ok(ended(
                    dataset,
                    kind,
                    EncodingState::NothingToEncode,
                    Some(message.into()),
                ));
            }
            Ended::Cancelled { encoded } => {
                state.state = EncodingState::Cancelled;
                state.message = Some(format!(
                    "cancelled after {encoded} {} were encoded (they are cached: encoding again resumes)",
                    kind.items()
                ));
                return Ok(state);
            }
            Ended::Images(manifest) => state.result = Some(images_dto(&manifest)),
            Ended::Text(manifests) => state.text_result = Some(text_dto(&manifests)),
        }
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
        Ok(state)
    }

    fn encodings(
        &self,
    ) -> std::sync::MutexGuard<
        '_,
        std::collections::HashMap<(DatasetId, EncodingKind), BackgroundEncoding>,
    > {
        self.encodings
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Starts encoding the image files or the text of `dataset` in the background on
    /// `device` (by default CUDA where it answers, else the CPU), unless one of that kind
    /// is running; its state.
    pub async fn start_encoding(
        &self,
        dataset: DatasetId,
        kind: EncodingKind,
        device: Option<DeviceArg>,
    ) -> ApiResult<EncodingDto> {
        self.dataset_row(dataset).await?;
        let chosen = tokio::task::spawn_blocking(move || {
            crate::device::choose(device.unwrap_or_else(crate::device::preferred))
        })
        .await
        .map_err(|e| ApiError::new(super::ErrorCode::Internal, format!("device probe: {e}")))?;
        let cancel = {
            let mut encodings = self.encodings();
            if let Some(running) = encodings
                .get(&(dataset, kind))
                .filter(|e| e.state.state == EncodingState::Encoding)
            {
                return Ok(running.state.clone());
            }
            let cancel = Arc::new(AtomicBool::new(false));
            let mut state = ended(dataset, kind, EncodingState::Encoding, None);
            state.device = Some(chosen.1.into());
            state.message = Some(format!(
                "Reading the {} and looking them up in the cache…",
                kind.items()
            ));
            encodings.insert(
                (dataset, kind),
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
                .encode_features(dataset, kind, chosen, cancel, move |state| {
                    if let Some(entry) = reporter.encodings().get_mut(&(dataset, kind)) {
                        entry.state = state.clone();
                    }
                })
                .await
                .unwrap_or_else(|e| ended(dataset, kind, EncodingState::Failed, Some(e.message)));
            if let Some(entry) = api.encodings().get_mut(&(dataset, kind)) {
                entry.state = end;
            }
        });
        self.encoding(dataset, kind).await
    }

    /// Where the background encoding of `kind` of `dataset` stands (`idle` if none ran
    /// here).
    pub async fn encoding(&self, dataset: DatasetId, kind: EncodingKind) -> ApiResult<EncodingDto> {
        self.dataset_row(dataset).await?;
        Ok(self
            .encodings()
            .get(&(dataset, kind))
            .map(|e| e.state.clone())
            .unwrap_or_else(|| ended(dataset, kind, EncodingState::Idle, None)))
    }

    /// Asks the background encoding of `kind` of `dataset` to stop after its current batch.
    pub async fn cancel_encoding(
        &self,
        dataset: DatasetId,
        kind: EncodingKind,
    ) -> ApiResult<EncodingDto> {
        if let Some(entry) = self.encodings().get(&(dataset, kind)) {
            entry.cancel.store(true, Ordering::Relaxed);
        }
        self.encoding(dataset, kind).await
    }
}
