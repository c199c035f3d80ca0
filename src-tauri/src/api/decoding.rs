//! One-to-one decodings of a run's test pairs ([`alignscope_models::run::decode`]): in the
//! foreground (the CLI's `runs decode`) or in the background with its progress polled
//! (both shells: [`Api::start_decoding`], [`Api::decoding`]). Every decoding is saved in
//! the run's `exports/decoding.json` (written atomically), so the run's corpus view, the
//! export and the review queue read its pairs and confidences without decoding again.

use std::path::PathBuf;
use std::time::Instant;

use alignscope_models::eval::decode::{DecodeQuality, Decoder, PrecisionRecall, SINKHORN_DEFAULT};
use alignscope_models::run::SavedModel;
use alignscope_models::run::decode::{DecodeStep, RunDecoding};
use serde::{Deserialize, Serialize};

use super::dto::{
    DecoderMethod, DecoderOutcomeDto, DecodingDto, DecodingResultDto, DecodingState,
    PrecisionRecallDto,
};
use super::{Api, ApiError, ApiResult, ErrorCode};
use crate::device::DeviceArg;
use crate::store::{RunId, now_millis};

/// The saved decoding's file in a run's `exports/`.
const DECODING_FILE: &str = "decoding.json";
/// Points of a precision/recall curve kept in the saved decoding.
const CURVE_POINTS: usize = 200;

/// A run's saved decoding.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SavedDecoding {
    /// "last" or "best".
    checkpoint: String,
    /// The scores' similarity, in words.
    similarity: String,
    test_pairs: usize,
    scoring_seconds: f64,
    saved_at: i64,
    /// One per decoder, in the order decoded (a later decoding of the same model
    /// replaces a decoder's outcome and adds new ones).
    pub(crate) outcomes: Vec<SavedOutcome>,
}

/// One decoder's saved outcome: its quality and its pairs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SavedOutcome {
    pub(crate) decoder: Decoder,
    /// The quality, its curve thinned to [`CURVE_POINTS`].
    quality: DecodeQuality,
    seconds: f64,
    /// (left, right, confidence), joint entity indices, for every paired left entity.
    pub(crate) pairs: Vec<(i64, i64, f32)>,
}

impl DecoderMethod {
    /// The method a decoder is.
    pub fn of(decoder: &Decoder) -> Self {
        match decoder {
            Decoder::Rank => Self::Rank,
            Decoder::Greedy => Self::Greedy,
            Decoder::Hungarian => Self::Hungarian,
            Decoder::Sinkhorn { .. } => Self::Sinkhorn,
        }
    }
}

/// The decoders to run for `methods`: plain ranking first (the reference), then each
/// method once; Sinkhorn with `temperature` and `iterations` (its defaults when absent).
pub fn decoders_for(
    methods: &[DecoderMethod],
    temperature: Option<f32>,
    iterations: Option<usize>,
) -> ApiResult<Vec<Decoder>> {
    let Decoder::Sinkhorn {
        temperature: default_temperature,
        iterations: default_iterations,
    } = SINKHORN_DEFAULT
    else {
        unreachable!("the Sinkhorn default is a Sinkhorn decoder")
    };
    let temperature = temperature.unwrap_or(default_temperature);
    let iterations = iterations.unwrap_or(default_iterations);
    if !(temperature > 0.0 && temperature.is_finite()) || iterations == 0 {
        return Err(ApiError::invalid(format!(
            "Sinkhorn needs a positive temperature and at least one iteration (got temperature {temperature}, iterations {iterations})"
        )));
    }
    let mut decoders = vec![Decoder::Rank];
    for method in methods {
        let decoder = match method {
            DecoderMethod::Rank => Decoder::Rank,
            DecoderMethod::Greedy => Decoder::Greedy,
            DecoderMethod::Hungarian => Decoder::Hungarian,
            DecoderMethod::Sinkhorn => Decoder::Sinkhorn {
                temperature,
                iterations,
            },
        };
        if !decoders.contains(&decoder) {
            decoders.push(decoder);
        }
    }
    Ok(decoders)
}

/// A decoder's name with its knobs.
pub fn decoder_label(decoder: &Decoder) -> String {
    match decoder {
        Decoder::Rank => "rank (each entity's best candidate)".into(),
        Decoder::Greedy => "greedy".into(),
        Decoder::Hungarian => "Hungarian (exact)".into(),
        Decoder::Sinkhorn {
            temperature,
            iterations,
        } => format!("Sinkhorn (t = {temperature}, {iterations} rounds)"),
    }
}

/// What a decoder's confidence is, in words.
fn confidence_words(decoder: &Decoder) -> &'static str {
    match decoder {
        Decoder::Sinkhorn { .. } => "the pair's share of its row in the balanced plan (0 to 1)",
        _ => "the pair's score",
    }
}

/// At most `points` points of `curve`, evenly by pairs kept, the last one always.
fn thinned(curve: &[PrecisionRecall], points: usize) -> Vec<PrecisionRecall> {
    if curve.len() <= points {
        return curve.to_vec();
    }
    let step = curve.len().div_ceil(points);
    let mut kept: Vec<PrecisionRecall> = curve.iter().step_by(step).copied().collect();
    if let Some(last) = curve.last()
        && kept.last() != Some(last)
    {
        kept.push(*last);
    }
    kept
}

impl SavedDecoding {
    fn of(decoding: &RunDecoding, which: SavedModel) -> Self {
        let joint =
            |row: usize, pick: fn(&(u32, u32)) -> u32| i64::from(pick(&decoding.test_pairs[row]));
        Self {
            checkpoint: checkpoint_word(which).into(),
            similarity: decoding.similarity.to_string(),
            test_pairs: decoding.test_pairs.len(),
            scoring_seconds: decoding.scoring_seconds,
            saved_at: now_millis(),
            outcomes: decoding
                .outcomes
                .iter()
                .map(|o| SavedOutcome {
                    decoder: o.decoder,
                    quality: DecodeQuality {
                        curve: thinned(&o.quality.curve, CURVE_POINTS),
                        ..o.quality.clone()
                    },
                    seconds: o.seconds,
                    pairs: o
                        .pairs
                        .iter()
                        .enumerate()
                        .filter_map(|(row, pick)| {
                            pick.map(|(col, c)| (joint(row, |p| p.0), joint(col, |p| p.1), c))
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// `newer` laid over this one: where both scored the same model the same way, the
    /// outcomes of decoders `newer` lacks stay; otherwise `newer` alone.
    fn updated_by(self, mut newer: SavedDecoding) -> SavedDecoding {
        if self.checkpoint == newer.checkpoint
            && self.similarity == newer.similarity
            && self.test_pairs == newer.test_pairs
        {
            let kept: Vec<SavedOutcome> = self
                .outcomes
                .into_iter()
                .filter(|old| {
                    let method = DecoderMethod::of(&old.decoder);
                    !newer
                        .outcomes
                        .iter()
                        .any(|n| DecoderMethod::of(&n.decoder) == method)
                })
                .collect();
            let mut outcomes = kept;
            outcomes.append(&mut newer.outcomes);
            outcomes.sort_by_key(|o| DecoderMethod::of(&o.decoder) as u8);
            newer.outcomes = outcomes;
        }
        newer
    }

    /// The outcome of `method`.
    pub(crate) fn outcome(&self, method: DecoderMethod) -> Option<&SavedOutcome> {
        self.outcomes
            .iter()
            .find(|o| DecoderMethod::of(&o.decoder) == method)
    }

    fn dto(&self) -> DecodingResultDto {
        DecodingResultDto {
            checkpoint: self.checkpoint.clone(),
            similarity: self.similarity.clone(),
            test_pairs: self.test_pairs,
            scoring_seconds: self.scoring_seconds,
            saved_at: self.saved_at,
            outcomes: self
                .outcomes
                .iter()
                .map(|o| DecoderOutcomeDto {
                    method: DecoderMethod::of(&o.decoder),
                    label: decoder_label(&o.decoder),
                    one_to_one: o.decoder.is_one_to_one(),
                    confidence: confidence_words(&o.decoder).into(),
                    paired: o.quality.paired,
                    correct: o.quality.correct,
                    hits_at_1: o.quality.hits_at_1,
                    seconds: o.seconds,
                    curve: o
                        .quality
                        .curve
                        .iter()
                        .map(|p| PrecisionRecallDto {
                            threshold: p.threshold,
                            kept: p.kept,
                            precision: p.precision,
                            recall: p.recall,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

fn checkpoint_word(which: SavedModel) -> &'static str {
    match which {
        SavedModel::Latest => "last",
        SavedModel::Best => "best",
    }
}

/// A decoding's state before its first step.
fn starting(run: RunId, total: usize) -> DecodingDto {
    DecodingDto {
        run,
        state: DecodingState::Decoding,
        done: 0,
        total,
        now: Some("starting".into()),
        elapsed_seconds: 0.0,
        message: None,
        result: None,
    }
}

impl Api {
    fn decoding_file(&self, row: &crate::store::RunRow) -> PathBuf {
        self.exports_of(row).join(DECODING_FILE)
    }

    /// Run `run`'s saved decoding, if it has one.
    pub(crate) async fn saved_decoding(&self, run: RunId) -> ApiResult<Option<SavedDecoding>> {
        let row = self.run_row(run).await?;
        let path = self.decoding_file(&row);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                ApiError::invalid(format!(
                    "{} is unreadable ({e}); decode run {run} again to replace it",
                    path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ApiError::new(
                ErrorCode::Io,
                format!("{}: {e}", path.display()),
            )),
        }
    }

    /// Run `run`'s saved outcome of `method`, or an error that says how to make it.
    pub(crate) async fn saved_outcome(
        &self,
        run: RunId,
        method: DecoderMethod,
    ) -> ApiResult<SavedOutcome> {
        let saved = self.saved_decoding(run).await?;
        saved
            .as_ref()
            .and_then(|s| s.outcome(method))
            .cloned()
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "run {run} has no saved {} decoding: decode it first (`alignscope runs decode {run} --method {}`, or Decode on the run's analysis page)",
                    method_word(method),
                    method_word(method)
                ))
            })
    }

    async fn save_decoding(&self, run: RunId, newer: SavedDecoding) -> ApiResult<SavedDecoding> {
        let row = self.run_row(run).await?;
        let path = self.decoding_file(&row);
        // An unreadable old file is replaced, not merged.
        let merged = match self.saved_decoding(run).await {
            Ok(Some(old)) => old.updated_by(newer),
            _ => newer,
        };
        let bytes = serde_json::to_vec(&merged)
            .map_err(|e| ApiError::new(ErrorCode::Internal, format!("decoding as JSON: {e}")))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| ApiError::new(ErrorCode::Io, format!("{}: {e}", dir.display())))?;
        }
        alignscope_models::durable::write_atomically(&path, &bytes)
            .map_err(|e| ApiError::new(ErrorCode::Io, format!("{}: {e}", path.display())))?;
        Ok(merged)
    }

    /// Decodes a recorded run's test pairs with each of `decoders` (its newest checkpoint
    /// or its best epoch's model) on a blocking thread, telling `report` before each step,
    /// and saves the outcomes in the run's folder.
    pub async fn decode_run(
        &self,
        id: RunId,
        which: SavedModel,
        device: DeviceArg,
        decoders: Vec<Decoder>,
        mut report: impl FnMut(DecodeStep) + Send + 'static,
    ) -> ApiResult<RunDecoding> {
        let row = self.run_row(id).await?;
        let dir = self.data_dir.run_folder(&row);
        let decoded = tokio::task::spawn_blocking(move || {
            let (device, _) = crate::device::choose(device);
            alignscope_models::run::decode::decode_run_reporting(
                &device,
                &dir,
                which,
                &decoders,
                &mut report,
            )
        })
        .await
        .map_err(|e| ApiError::invalid(format!("decoding stopped: {e}")))??;
        self.save_decoding(id, SavedDecoding::of(&decoded, which))
            .await?;
        Ok(decoded)
    }

    fn decodings(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<RunId, DecodingDto>> {
        self.decodings
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Starts decoding run `run` in the background (unless a decoding of it runs): plain
    /// ranking and each of `methods`, on `device` (the CPU by default); its state.
    pub async fn start_decoding(
        &self,
        run: RunId,
        methods: Vec<DecoderMethod>,
        temperature: Option<f32>,
        iterations: Option<usize>,
        best: bool,
        device: Option<DeviceArg>,
    ) -> ApiResult<DecodingDto> {
        self.run_row(run).await?;
        let decoders = decoders_for(&methods, temperature, iterations)?;
        {
            let mut decodings = self.decodings();
            if let Some(running) = decodings
                .get(&run)
                .filter(|d| d.state == DecodingState::Decoding)
            {
                return Ok(running.clone());
            }
            decodings.insert(run, starting(run, decoders.len() + 1));
        }
        let which = if best {
            SavedModel::Best
        } else {
            SavedModel::Latest
        };
        let api = self.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let reporter = api.clone();
            let outcome = api
                .decode_run(
                    run,
                    which,
                    device.unwrap_or(DeviceArg::Cpu),
                    decoders,
                    move |step| {
                        if let Some(state) = reporter.decodings().get_mut(&run) {
                            state.done = step.done;
                            state.total = step.total;
                            state.now = Some(step.now);
                            state.elapsed_seconds = started.elapsed().as_secs_f64();
                        }
                    },
                )
                .await;
            let failure = outcome.err().map(|e| e.message);
            let saved = api.saved_decoding(run).await.ok().flatten();
            if let Some(state) = api.decodings().get_mut(&run) {
                state.state = if failure.is_some() {
                    DecodingState::Failed
                } else {
                    DecodingState::Done
                };
                state.done = state.total;
                state.now = None;
                state.elapsed_seconds = started.elapsed().as_secs_f64();
                state.message = failure;
                state.result = saved.map(|s| s.dto());
            }
        });
        self.decoding(run).await
    }

    /// Where run `run`'s decoding stands: running or failed in this process, else its
    /// saved decoding (`done`), else `idle`.
    pub async fn decoding(&self, run: RunId) -> ApiResult<DecodingDto> {
        self.run_row(run).await?;
        if let Some(state) = self
            .decodings()
            .get(&run)
            .filter(|d| d.state != DecodingState::Done)
        {
            return Ok(state.clone());
        }
        let saved = self.saved_decoding(run).await?;
        Ok(DecodingDto {
            run,
            state: if saved.is_some() {
                DecodingState::Done
            } else {
                DecodingState::Idle
            },
            done: 0,
            total: 0,
            now: None,
            elapsed_seconds: 0.0,
            message: None,
            result: saved.map(|s| s.dto()),
        })
    }
}

/// A method's name, as the CLI takes it.
pub fn method_word(method: DecoderMethod) -> &'static str {
    match method {
        DecoderMethod::Rank => "rank",
        DecoderMethod::Greedy => "greedy",
        DecoderMethod::Hungarian => "hungarian",
        DecoderMethod::Sinkhorn => "sinkhorn",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(kept: usize) -> PrecisionRecall {
        PrecisionRecall {
            threshold: 1.0 / kept as f32,
            kept,
            precision: 1.0,
            recall: kept as f64 / 1000.0,
        }
    }

    #[test]
    fn thinning_keeps_the_first_and_last_points_and_at_most_about_the_limit() {
        let curve: Vec<PrecisionRecall> = (1..=1000).map(point).collect();
        let thin = thinned(&curve, 200);
        assert!(thin.len() <= 201, "{} points", thin.len());
        assert_eq!(thin.first().map(|p| p.kept), Some(1));
        assert_eq!(thin.last().map(|p| p.kept), Some(1000));
        assert!(thin.windows(2).all(|w| w[0].kept < w[1].kept));
        assert_eq!(thinned(&curve[..10], 200).len(), 10);
    }

    #[test]
    fn decoders_start_with_ranking_and_check_sinkhorns_knobs() {
        let all = decoders_for(
            &[
                DecoderMethod::Sinkhorn,
                DecoderMethod::Greedy,
                DecoderMethod::Rank,
            ],
            Some(0.1),
            Some(5),
        )
        .unwrap();
        assert_eq!(
            all,
            vec![
                Decoder::Rank,
                Decoder::Sinkhorn {
                    temperature: 0.1,
                    iterations: 5
                },
                Decoder::Greedy
            ]
        );
        assert_eq!(decoders_for(&[], None, None).unwrap(), vec![Decoder::Rank]);
        let error = decoders_for(&[DecoderMethod::Sinkhorn], Some(0.0), None).unwrap_err();
        assert!(
            error.message.contains("positive temperature"),
            "{}",
            error.message
        );
        assert!(decoders_for(&[], None, Some(0)).is_err());
    }
}
