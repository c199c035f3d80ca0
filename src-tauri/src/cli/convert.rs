//! `alignscope dataset convert`: save any readable dataset in AlignScope's format and
//! prove the copy holds the same content by reading it back.

use std::io::Write;
use std::path::Path;

use alignscope_datasets::{Format, LoadOptions, write_alignscope};
use serde::Serialize;

use super::CliError;
use super::inspect::load_report;

#[derive(Serialize)]
struct ConvertReport<'a> {
    source: String,
    source_format: String,
    destination: String,
    fingerprint: &'a str,
    verified: bool,
    entities_left: usize,
    entities_right: usize,
    gold_pairs: usize,
}

pub(super) fn convert(
    dir: &Path,
    to: &Path,
    options: &LoadOptions,
    without_image_features: bool,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let (mut loaded, mut report) = load_report(dir, options)?;
    if without_image_features {
        loaded.pair.left.image_features = None;
        loaded.pair.right.image_features = None;
        report.fingerprint = alignscope_datasets::fingerprint(&loaded.pair)?;
    }
    write_alignscope(&loaded.pair, to)?;
    let reread = LoadOptions {
        format: Some(Format::AlignScope),
        image_features: None,
        derived_features: None,
    };
    let (_, copy) = load_report(to, &reread)?;
    if copy.fingerprint != report.fingerprint {
        return Err(CliError::ConversionMismatch {
            path: to.to_path_buf(),
            expected: report.fingerprint,
            found: copy.fingerprint,
        });
    }
    let summary = ConvertReport {
        source: dir.display().to_string(),
        source_format: report.format.clone(),
        destination: to.display().to_string(),
        fingerprint: &report.fingerprint,
        verified: true,
        entities_left: report.stats.left.entities,
        entities_right: report.stats.right.entities,
        gold_pairs: report.stats.gold_pairs,
    };
    if json {
        serde_json::to_writer_pretty(&mut *out, &summary).map_err(std::io::Error::from)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "Converted {} ({}) to {} (alignscope format): {} + {} entities, {} gold pairs.",
            summary.source,
            summary.source_format,
            summary.destination,
            summary.entities_left,
            summary.entities_right,
            summary.gold_pairs
        )?;
        writeln!(
            out,
            "Read back: same content fingerprint {}.",
            summary.fingerprint
        )?;
    }
    Ok(())
}
