//! The training job: prepares the dataset, trains on the chosen device with checkpoints
//! in `runs/<id>/`, stores every epoch before announcing it, then loads the run's
//! predictions and files into the store.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::Ordering;

use alignscope_models::compute;
use alignscope_models::run::{self, PreparedRun, RunResult, RunSpec};
use alignscope_models::train::{TrainEvent, TrainStatus};

use super::{JobContext, JobEnd, JobEvent, JobFailure, JobWork};
use crate::device::{DeviceArg, choose};
use crate::run_files::{export_rows, list_artifacts};
use crate::store::{EpochRow, RunOutcome};

/// A training job.
#[derive(Debug, Clone)]
pub struct TrainJob {
    /// What to train.
    pub spec: RunSpec,
    /// Where.
    pub device: DeviceArg,
    /// Continue from the run folder's newest checkpoint.
    pub resume: bool,
    /// The run's folder ([`crate::data_dir::DataDir::run_folder`]).
    pub run_dir: std::path::PathBuf,
}

impl TrainJob {
    /// The job as runner work.
    pub fn into_work(self) -> JobWork {
        Box::new(move |context| self.run(context))
    }

    fn run(self, context: &JobContext) -> Result<JobEnd, JobFailure> {
        let fail = |e: &dyn std::fmt::Display| JobFailure(e.to_string());
        context.emit(JobEvent::Log {
            run: context.run,
            line: format!("loading {}", self.spec.dataset.display()),
        });
        alignscope_models::resources::reset_peak_memory();
        let mut prepared = run::prepare(&self.spec).map_err(|e| fail(&e))?;
        let run_dir = self.run_dir.clone();
        let result = Training {
            prepared: &mut prepared,
            context,
            run_dir: &run_dir,
            resume: self.resume,
        }
        .run(self.device)?;
        let mut outcome = RunOutcome {
            best_epoch: result.state.best.as_ref().map(|b| b.epoch as i64),
            epochs_done: result.state.epoch as i64,
            peak_memory_mib: Some(alignscope_models::resources::peak_memory_mib()),
            ..RunOutcome::default()
        };
        if let Some(evaluation) = &result.final_test {
            let m = evaluation.metrics.left_to_right;
            outcome.headline = Some([m.hits_at_1, m.hits_at_10, m.mrr, m.mr]);
            outcome.metrics = Some(serde_json::to_value(evaluation.metrics).map_err(|e| fail(&e))?);
        }
        if let Some(exports) = &result.exports {
            let rows = export_rows(exports);
            context
                .block_on(context.store.replace_predictions(
                    context.run,
                    &rows.predictions,
                    &rows.ranks,
                    &rows.weights,
                ))
                .map_err(|e| fail(&e))?;
            context
                .block_on(context.store.set_modality_columns(
                    context.run,
                    &rows.weight_modalities,
                    &rows.similarity_modalities,
                ))
                .map_err(|e| fail(&e))?;
        }
        let artifacts = list_artifacts(context.data_dir.root(), &run_dir).map_err(|e| fail(&e))?;
        context
            .block_on(context.store.replace_artifacts(context.run, &artifacts))
            .map_err(|e| fail(&e))?;
        Ok(match result.status {
            TrainStatus::Completed => JobEnd::Completed(outcome),
            TrainStatus::Cancelled => JobEnd::Cancelled(outcome),
        })
    }
}

struct Training<'a> {
    prepared: &'a mut PreparedRun,
    context: &'a JobContext,
    run_dir: &'a std::path::Path,
    resume: bool,
}

impl Training<'_> {
    fn run(self, device: DeviceArg) -> Result<RunResult, JobFailure> {
        let (device, label) = choose(device);
        let context = self.context;
        let run = context.run;
        self.prepared.config.device = label.to_string();
        let config =
            serde_json::to_value(&self.prepared.config).map_err(|e| JobFailure(e.to_string()))?;
        context
            .block_on(context.store.set_run_config(run, &config, label))
            .map_err(|e| JobFailure(e.to_string()))?;
        // A store failure inside the progress callback stops training; it is reported
        // once training has returned.
        let store_failure: Arc<Mutex<Option<String>>> = Arc::default();
        let mut tracker = EtaTracker::default();
        let mut progress = |event: &TrainEvent| {
            let stored = match event {
                TrainEvent::Started {
                    first_epoch,
                    epochs,
                    ..
                } => {
                    tracker.epochs = *epochs;
                    let forgotten = context
                        .block_on(context.store.forget_epochs_from(run, *first_epoch as i64));
                    context.emit(JobEvent::Started {
                        run,
                        first_epoch: *first_epoch,
                        epochs: *epochs,
                    });
                    forgotten
                }
                TrainEvent::Batch {
                    epoch,
                    batch,
                    batches,
                    ..
                } => {
                    context.emit(JobEvent::Progress {
                        run,
                        epoch: *epoch,
                        epochs: tracker.epochs,
                        batch: *batch,
                        batches: *batches,
                        eta_seconds: tracker.eta(*epoch),
                    });
                    Ok(())
                }
                TrainEvent::Epoch(record) => {
                    tracker
                        .seconds
                        .push(record.seconds + record.eval_seconds.unwrap_or(0.0));
                    let test = record.test.map(|t| t.left_to_right);
                    let row = EpochRow {
                        epoch: record.epoch as i64,
                        loss: record.loss,
                        seconds: record.seconds,
                        eval_seconds: record.eval_seconds,
                        hits_at_1: test.map(|t| t.hits_at_1),
                        hits_at_10: test.map(|t| t.hits_at_10),
                        mrr: test.map(|t| t.mrr),
                        valid_hits_at_1: record.valid.map(|v| v.left_to_right.hits_at_1),
                        details: serde_json::to_string(record).unwrap_or_default(),
                    };
                    let stored = context.block_on(context.store.record_epoch(run, &row));
                    if stored.is_ok() {
                        context.emit(JobEvent::Metric {
                            run,
                            epoch: record.epoch,
                            loss: record.loss,
                            loss_terms: record.loss_terms.clone(),
                            diagnostics: record.diagnostics.clone(),
                            hits_at_1: row.hits_at_1,
                            mrr: row.mrr,
                        });
                    }
                    stored
                }
                TrainEvent::Pivots(report) => {
                    context.emit(JobEvent::Log {
                        run,
                        line: format!(
                            "visual pivots: {} image-similar pairs replace the seed pairs ({} of them gold pairs; {} left and {} right entities have images)",
                            report.pairs, report.correct, report.with_images.0, report.with_images.1
                        ),
                    });
                    Ok(())
                }
                TrainEvent::Checkpoint { epoch } => {
                    context.emit(JobEvent::Log {
                        run,
                        line: format!("checkpoint written at epoch {epoch}"),
                    });
                    Ok(())
                }
                TrainEvent::CheckpointSkipped { path, reason } => {
                    context.emit(JobEvent::Log {
                        run,
                        line: format!(
                            "checkpoint {} is damaged, resuming from an older one: {reason}",
                            path.display()
                        ),
                    });
                    Ok(())
                }
            };
            if let Err(e) = stored {
                *store_failure.lock().expect("failure slot") = Some(e.to_string());
                context.cancel.store(true, Ordering::SeqCst);
            }
        };
        let result = compute::execute(
            &device,
            self.prepared,
            label,
            Some(self.run_dir),
            self.resume,
            &context.cancel,
            &mut progress,
        )
        .map_err(|e| JobFailure(e.to_string()))?;
        if let Some(message) = store_failure.lock().expect("failure slot").take() {
            return Err(JobFailure(format!(
                "training stopped: its metrics could not be stored: {message}"
            )));
        }
        Ok(result)
    }
}

/// Estimates the time left from the epochs timed so far.
#[derive(Default)]
struct EtaTracker {
    epochs: usize,
    seconds: Vec<f64>,
}

impl EtaTracker {
    fn eta(&self, epoch: usize) -> Option<f64> {
        if self.seconds.is_empty() {
            return None;
        }
        let mean = self.seconds.iter().sum::<f64>() / self.seconds.len() as f64;
        Some(mean * (self.epochs + 1).saturating_sub(epoch) as f64)
    }
}
