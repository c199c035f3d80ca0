//! Job events, as clients receive them (Tauri events, server-sent events, CLI output).

use serde::Serialize;

use crate::store::RunId;

/// Something that happened to a job. Anything it reports is in the store already.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobEvent {
    /// Waiting for its device.
    Queued {
        /// The run.
        run: RunId,
    },
    /// Training starts (or resumes).
    Started {
        /// The run.
        run: RunId,
        /// First epoch it will train.
        first_epoch: usize,
        /// Last epoch.
        epochs: usize,
    },
    /// Within an epoch.
    Progress {
        /// The run.
        run: RunId,
        /// Epoch.
        epoch: usize,
        /// Epochs in all.
        epochs: usize,
        /// Loss chunk within the epoch (1-based).
        batch: usize,
        /// Chunks per epoch.
        batches: usize,
        /// Estimated seconds left, once an epoch has been timed.
        eta_seconds: Option<f64>,
    },
    /// An epoch's metrics (stored).
    Metric {
        /// The run.
        run: RunId,
        /// Epoch.
        epoch: usize,
        /// Loss.
        loss: f64,
        /// Each named loss term (their sum is `loss`).
        #[ts(as = "std::collections::HashMap<String, f64>")]
        loss_terms: std::collections::BTreeMap<String, f64>,
        /// The model's diagnostics (an imputation's fit, say), each the epoch's mean.
        #[ts(as = "std::collections::HashMap<String, f64>")]
        diagnostics: std::collections::BTreeMap<String, f64>,
        /// Test H@1 left to right, on evaluated epochs.
        hits_at_1: Option<f64>,
        /// Test MRR left to right.
        mrr: Option<f64>,
    },
    /// A line for the log.
    Log {
        /// The run.
        run: RunId,
        /// The text.
        line: String,
    },
    /// Finished all epochs.
    Finished {
        /// The run.
        run: RunId,
        /// Final test H@1 left to right.
        hits_at_1: Option<f64>,
    },
    /// Failed.
    Failed {
        /// The run.
        run: RunId,
        /// Why.
        message: String,
    },
    /// Stopped on request.
    Cancelled {
        /// The run.
        run: RunId,
    },
}

impl JobEvent {
    /// The run it is about.
    pub fn run(&self) -> RunId {
        match self {
            Self::Queued { run }
            | Self::Started { run, .. }
            | Self::Progress { run, .. }
            | Self::Metric { run, .. }
            | Self::Log { run, .. }
            | Self::Finished { run, .. }
            | Self::Failed { run, .. }
            | Self::Cancelled { run } => *run,
        }
    }
}
