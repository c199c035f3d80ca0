//! `alignscope dataset inspect`: validate a dataset and describe it.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use alignscope_datasets::problem::Warning;
use alignscope_datasets::{DatasetStats, LoadOptions, Loaded, dataset_stats, fingerprint, load};
use serde::Serialize;

use super::CliError;
use super::render::render_report;

/// Everything `inspect --json` prints: identity, every count, and the warnings.
#[derive(Debug, Serialize)]
pub(super) struct InspectReport {
    /// The folder read.
    pub path: String,
    /// The format it was read as.
    pub format: String,
    /// Dataset name.
    pub name: String,
    /// Label of the left graph.
    pub left_label: String,
    /// Label of the right graph.
    pub right_label: String,
    /// Credits and licences.
    pub credits: Vec<String>,
    /// Content fingerprint.
    pub fingerprint: String,
    /// All statistics (`left`, `right`, `gold_pairs`, ...).
    #[serde(flatten)]
    pub stats: DatasetStats,
    /// Tolerable problems, counted.
    pub warnings: Vec<WarningDto>,
    /// Seconds spent reading and validating.
    pub load_seconds: f64,
}

/// A counted tolerable problem.
#[derive(Debug, Serialize)]
pub(super) struct WarningDto {
    /// Stable code.
    pub code: &'static str,
    /// How many.
    pub count: usize,
    /// What was counted.
    pub message: &'static str,
    /// Where the first one is.
    pub first: String,
}

impl From<&Warning> for WarningDto {
    fn from(w: &Warning) -> Self {
        Self {
            code: w.kind.code(),
            count: w.count,
            message: w.kind.describe(),
            first: w.first.clone(),
        }
    }
}

/// Loads `dir` and builds its report.
pub(super) fn load_report(
    dir: &Path,
    options: &LoadOptions,
) -> Result<(Loaded, InspectReport), CliError> {
    let started = Instant::now();
    let loaded = load(dir, options)?;
    let load_seconds = started.elapsed().as_secs_f64();
    let meta = &loaded.pair.meta;
    let report = InspectReport {
        path: dir.display().to_string(),
        format: loaded.format.to_string(),
        name: meta.name.clone(),
        left_label: meta.left_label.clone(),
        right_label: meta.right_label.clone(),
        credits: meta.credits.clone(),
        fingerprint: fingerprint(&loaded.pair)?,
        stats: dataset_stats(&loaded.pair),
        warnings: loaded.warnings.iter().map(WarningDto::from).collect(),
        load_seconds,
    };
    Ok((loaded, report))
}

pub(super) fn inspect(
    dir: &Path,
    options: &LoadOptions,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let (_, report) = load_report(dir, options)?;
    if json {
        serde_json::to_writer_pretty(&mut *out, &report).map_err(std::io::Error::from)?;
        writeln!(out)?;
    } else {
        render_report(&report, out)?;
    }
    Ok(())
}
