//! One-to-one decoding of a recorded run: its saved model scores the test pairs' left
//! entities against their right entities (the evaluation's protocol and similarity), and
//! each decoder turns the scores into pairs, judged against the test pairs.

use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::{PreparedRun, RunConfig, RunError, SavedModel, SavedRun};
use crate::backend::GraphBackend;
use crate::compute::ComputeDevice;
use crate::eval::decode::{DecodeQuality, Decoder, quality, scored};
use crate::eval::{DenseSimilarity, EmbeddingSimilarity, EvalOptions, Similarity};
use crate::graph::int_tensor;
use crate::model::{AlignmentModel, ModelInputs};
use crate::ops::l2_normalize;
use crate::registry;
use crate::train::load_model;

/// One decoder's outcome on a run's test pairs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecoderOutcome {
    /// The decoder.
    pub decoder: Decoder,
    /// Its pairs against the test pairs.
    pub quality: DecodeQuality,
    /// Per test pair's left entity (in the split's order), the test pair index of the
    /// right entity it was given and the pair's confidence.
    pub pairs: Vec<Option<(usize, f32)>>,
    /// Seconds the decoding took (the scores excluded).
    pub seconds: f64,
}

/// A run's test pairs decoded several ways.
#[derive(Debug, Clone)]
pub struct RunDecoding {
    /// The run's config.
    pub config: RunConfig,
    /// The scores the decoders read.
    pub similarity: Similarity,
    /// Test pairs (rows and columns of the scores).
    pub test_pairs: Vec<(u32, u32)>,
    /// Seconds spent scoring (model loaded, embedded, matrix built).
    pub scoring_seconds: f64,
    /// One outcome per decoder, in the order asked.
    pub outcomes: Vec<DecoderOutcome>,
}

/// Where a decoding stands: `done` of `total` steps (scoring, then one per decoder) and
/// what runs now.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeStep {
    /// Steps finished.
    pub done: usize,
    /// Steps in all.
    pub total: usize,
    /// The step that runs now, in words ("scoring the test pairs", "sinkhorn").
    pub now: String,
}

/// Decodes the test pairs of the run in `run_dir` (its `which` saved model) with each of
/// `decoders`; the scores are the evaluation's (cosine or CSLS, as the run evaluates),
/// over the test pairs' entities, so every score matrix is `test x test`.
pub fn decode_run(
    device: &ComputeDevice,
    run_dir: &Path,
    which: SavedModel,
    decoders: &[Decoder],
) -> Result<RunDecoding, RunError> {
    decode_run_reporting(device, run_dir, which, decoders, &mut |_| {})
}

/// [`decode_run`], telling `report` before each step.
pub fn decode_run_reporting(
    device: &ComputeDevice,
    run_dir: &Path,
    which: SavedModel,
    decoders: &[Decoder],
    report: &mut dyn FnMut(DecodeStep),
) -> Result<RunDecoding, RunError> {
    let total = decoders.len() + 1;
    report(DecodeStep {
        done: 0,
        total,
        now: "loading the model and scoring the test pairs".into(),
    });
    let saved = SavedRun::open(run_dir, which)?;
    let options = saved.config.eval_options()?;
    let family = registry::find(&saved.config.model)?;
    let started = Instant::now();
    let scores = family.test_scores_saved(device, &saved.prepared, &saved.model, &options)?;
    let scoring_seconds = started.elapsed().as_secs_f64();
    let truth: Vec<usize> = (0..saved.prepared.task.test.len()).collect();
    let outcomes = decoders
        .iter()
        .enumerate()
        .map(|(step, decoder)| {
            report(DecodeStep {
                done: step + 1,
                total,
                now: decoder.name().into(),
            });
            let started = Instant::now();
            let pairs = decoder.decode(&scores);
            let seconds = started.elapsed().as_secs_f64();
            DecoderOutcome {
                decoder: *decoder,
                quality: quality(&pairs, &truth),
                pairs,
                seconds,
            }
        })
        .collect();
    Ok(RunDecoding {
        test_pairs: saved.prepared.task.test.clone(),
        config: saved.config,
        similarity: options.similarity,
        scoring_seconds,
        outcomes,
    })
}

/// Loads the record at `path` into `model` and scores the test pairs' left entities
/// against their right entities under `options.similarity`.
pub(crate) fn test_scores_of_record<B, M>(
    model: M,
    path: &Path,
    prepared: &PreparedRun,
    options: &EvalOptions,
    device: &B::Device,
) -> Result<DenseSimilarity, RunError>
where
    B: GraphBackend,
    M: AlignmentModel<B> + burn::module::Module<B>,
{
    let model = load_model(path, model, device)?;
    let inputs = ModelInputs::<B>::upload(&prepared.graph, &prepared.inputs, device);
    let unit = l2_normalize(model.embed(&inputs));
    let side = |pick: fn(&(u32, u32)) -> u32| {
        let ids = prepared.task.test.iter().map(pick);
        unit.clone().select(0, int_tensor::<B>(ids, device))
    };
    let mut cosines = EmbeddingSimilarity::new(side(|p| p.0), side(|p| p.1), options.block_rows);
    Ok(scored(
        DenseSimilarity::collect(&mut cosines),
        options.similarity,
    ))
}
