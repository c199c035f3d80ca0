//! `alignscope decisions ...`: record, undo, list and export decisions about pairs.

use std::io::Write;
use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};

use super::CliError;
use crate::api::dto::{DecisionRequest, DecoderMethod, ExportFormat};
use crate::api::{Api, ApiError};
use crate::store::{DatasetId, DecisionAction, DecisionSource, RunId, Verdict};

/// The verdicts a person can give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerdictArg {
    /// Same real-world thing.
    Accept,
    /// Not the same.
    Reject,
    /// Cannot tell.
    Unsure,
}

/// `alignscope decisions ...`
#[derive(Debug, Subcommand)]
pub enum DecisionsCommand {
    /// Record a decision about a pair (entity keys of the left and right graph).
    Add {
        /// Left entity key.
        left: String,
        /// Right entity key.
        right: String,
        /// The verdict.
        #[arg(value_enum)]
        verdict: VerdictArg,
        /// Dataset id [default: the only one, or the run's].
        #[arg(long)]
        dataset: Option<i64>,
        /// The run that suggested the pair.
        #[arg(long)]
        run: Option<i64>,
        /// A note.
        #[arg(long)]
        note: Option<String>,
        /// Who decides [default: $ALIGNSCOPE_AUTHOR or $USER].
        #[arg(long)]
        author: Option<String>,
    },
    /// Undo your newest standing decision (recorded as a new row; nothing is erased).
    /// Another reviewer's decisions are never undone.
    Undo {
        /// Dataset id [default: the only one].
        #[arg(long)]
        dataset: Option<i64>,
        /// Whose newest decision to undo [default: the OS user].
        #[arg(long)]
        author: Option<String>,
    },
    /// The standing decisions (or, with --history, every row).
    List {
        /// Dataset id [default: the only one].
        #[arg(long)]
        dataset: Option<i64>,
        /// Every row, undos included, oldest first.
        #[arg(long)]
        history: bool,
    },
    /// Export accepted pairs (and a run's undecided mutual top-1 predictions).
    Export {
        /// sssom, nt or tsv.
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Dataset id [default: the only one, or the run's].
        #[arg(long)]
        dataset: Option<i64>,
        /// Include this run's mutual top-1 predictions that nobody decided.
        #[arg(long)]
        run: Option<i64>,
        /// With --run: only predictions scoring at least this (with --decoder, whose
        /// decoder confidence is at least this).
        #[arg(long, requires = "run")]
        min_score: Option<f64>,
        /// With --run: the run's predictions are the pairs of its saved one-to-one
        /// decoding by this method (`alignscope runs decode` saves one), with the
        /// decoder's confidence, instead of its mutual top-1s.
        #[arg(long, value_enum, requires = "run")]
        decoder: Option<DecoderMethod>,
        /// Write to this file (atomically) instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// The dataset meant: explicit, else the run's, else the only one.
async fn dataset(
    api: &Api,
    explicit: Option<i64>,
    run: Option<i64>,
) -> Result<DatasetId, ApiError> {
    if let Some(id) = explicit {
        return Ok(DatasetId(id));
    }
    if let Some(run) = run {
        return Ok(api.get_run(RunId(run)).await?.dataset_id);
    }
    let all = api.list_datasets().await?;
    match all.as_slice() {
        [only] => Ok(only.id),
        [] => Err(ApiError::invalid(
            "no dataset is registered yet; `alignscope dataset import <dir>` or `train` registers one",
        )),
        many => Err(ApiError::invalid(format!(
            "several datasets are registered ({}); pass --dataset <id>",
            many.iter()
                .map(|d| format!("{} {}", d.id, d.name))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Runs `decisions ...`.
pub async fn run(
    api: &Api,
    command: DecisionsCommand,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    match command {
        DecisionsCommand::Add {
            left,
            right,
            verdict,
            dataset: ds,
            run,
            note,
            author,
        } => {
            let dataset = dataset(api, ds, run).await?;
            let row = api
                .record_decision(DecisionRequest {
                    dataset,
                    left,
                    right,
                    verdict: match verdict {
                        VerdictArg::Accept => Verdict::Accept,
                        VerdictArg::Reject => Verdict::Reject,
                        VerdictArg::Unsure => Verdict::Unsure,
                    },
                    source: DecisionSource::Manual,
                    run: run.map(RunId),
                    confidence: None,
                    note,
                    author,
                    strategy: None,
                    session: None,
                })
                .await?;
            if json {
                return super::runs::line(out, &row);
            }
            writeln!(
                out,
                "decision {}: {} {} = {} (undo with `alignscope decisions undo`)",
                row.id,
                row.verdict.as_str(),
                row.left_key,
                row.right_key
            )?;
        }
        DecisionsCommand::Undo {
            dataset: ds,
            author,
        } => {
            let dataset = dataset(api, ds, None).await?;
            let undone = api.undo_decision(dataset, author, None).await?;
            if json {
                return super::runs::line(out, &undone);
            }
            match undone {
                Some(row) => writeln!(
                    out,
                    "undid decision {} on {} = {}; the pair is now: {}",
                    row.undoes.map(|d| d.0).unwrap_or_default(),
                    row.left_key,
                    row.right_key,
                    row.verdict.as_str()
                )?,
                None => writeln!(out, "nothing to undo")?,
            }
        }
        DecisionsCommand::List {
            dataset: ds,
            history,
        } => {
            let dataset = dataset(api, ds, None).await?;
            let rows = if history {
                api.decision_history(dataset).await?
            } else {
                api.standing_decisions(dataset).await?
            };
            if json {
                return super::runs::line(out, &rows);
            }
            for r in rows {
                let what = match r.action {
                    DecisionAction::Decide => r.verdict.as_str().to_string(),
                    DecisionAction::Undo => format!(
                        "undo #{} -> {}",
                        r.undoes.map(|d| d.0).unwrap_or_default(),
                        r.verdict.as_str()
                    ),
                };
                writeln!(
                    out,
                    "{:>6}  {:<18} {} = {}  ({})",
                    r.id.0, what, r.left_key, r.right_key, r.author
                )?;
            }
        }
        DecisionsCommand::Export {
            format,
            dataset: ds,
            run,
            min_score,
            decoder,
            out: file,
        } => {
            let dataset = dataset(api, ds, run).await?;
            let text = api
                .export_pairs(dataset, format, run.map(RunId), min_score, decoder)
                .await?;
            match file {
                Some(path) => {
                    alignscope_models::durable::write_atomically(&path, text.as_bytes())
                        .map_err(|e| ApiError::new(crate::api::ErrorCode::Io, e.to_string()))?;
                    let rows = text.lines().filter(|l| !l.starts_with('#')).count();
                    if json {
                        let value = serde_json::json!({"path": path, "lines": rows});
                        return super::runs::line(out, &value);
                    }
                    writeln!(out, "wrote {} ({rows} lines)", path.display())?;
                }
                None => out.write_all(text.as_bytes())?,
            }
        }
    }
    Ok(())
}
