//! `alignscope decisions ...`: record, undo, list and export decisions about pairs.

use std::io::Write;
use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};

use super::CliError;
use crate::api::dto::{DecisionRequest, DecoderMethod, ExportFormat, ExportRequest};
use crate::api::reviewers::{AgreementDto, ReviewSettingsUpdate};
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
        /// Who decides: a name or an ORCID iD [default: the data directory's reviewer
        /// (`decisions reviewer`), else $ALIGNSCOPE_AUTHOR or $USER].
        #[arg(long, alias = "author")]
        reviewer: Option<String>,
        /// Settle a pair the reviewers disagree about: the decision is final.
        #[arg(long)]
        adjudicate: bool,
    },
    /// Undo your newest standing decision (recorded as a new row; nothing is erased).
    /// Another reviewer's decisions are never undone.
    Undo {
        /// Dataset id [default: the only one].
        #[arg(long)]
        dataset: Option<i64>,
        /// Whose newest decision to undo [default: the data directory's reviewer].
        #[arg(long, alias = "author")]
        reviewer: Option<String>,
    },
    /// Show or set who decides by default in this data directory (a name or an ORCID iD,
    /// e.g. 0000-0002-1825-0097).
    Reviewer {
        /// The new reviewer; without it, the current one is shown.
        name: Option<String>,
        /// Forget the data directory's reviewer ($ALIGNSCOPE_AUTHOR or $USER again).
        #[arg(long, conflicts_with = "name")]
        clear: bool,
    },
    /// How far the reviewers agree: Cohen's kappa for each pair of reviewers, with counts.
    Agreement {
        /// Dataset id [default: the only one].
        #[arg(long)]
        dataset: Option<i64>,
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
    /// Export accepted pairs (and a run's undecided mutual top-1 predictions), or with
    /// `--format history` every decision row for audit.
    Export {
        /// sssom, nt, tsv or history.
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
        /// Also the pairs reviewers rejected, as negative mappings (SSSOM
        /// `predicate_modifier: Not`, `owl:differentFrom`, `same = no`).
        #[arg(long)]
        negatives: bool,
        /// Leave out who decided, when, and from which run (SSSOM `author_id`,
        /// `author_label`, `mapping_date`, `mapping_tool`, `other`).
        #[arg(long)]
        no_provenance: bool,
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
            reviewer,
            adjudicate,
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
                    author: reviewer,
                    strategy: None,
                    session: None,
                    blind: None,
                    adjudication: Some(adjudicate),
                })
                .await?;
            if json {
                return super::runs::line(out, &row);
            }
            writeln!(
                out,
                "decision {}{}: {} {} = {} by {} (undo with `alignscope decisions undo`)",
                row.id,
                if row.adjudication {
                    " (adjudication, final)"
                } else {
                    ""
                },
                row.verdict.as_str(),
                row.left_key,
                row.right_key,
                row.author
            )?;
        }
        DecisionsCommand::Undo {
            dataset: ds,
            reviewer,
        } => {
            let dataset = dataset(api, ds, None).await?;
            let undone = api.undo_decision(dataset, reviewer, None).await?;
            if json {
                return super::runs::line(out, &undone);
            }
            match undone {
                Some(row) => writeln!(
                    out,
                    "undid decision {} on {} = {}; your verdict on it is now: {}",
                    row.undoes.map(|d| d.0).unwrap_or_default(),
                    row.left_key,
                    row.right_key,
                    row.verdict.as_str()
                )?,
                None => writeln!(out, "nothing to undo")?,
            }
        }
        DecisionsCommand::Reviewer { name, clear } => {
            let settings = if name.is_some() || clear {
                api.set_review_settings(ReviewSettingsUpdate {
                    reviewer: Some(name.unwrap_or_default()),
                    ..ReviewSettingsUpdate::default()
                })
                .await?
            } else {
                api.review_settings().await?
            };
            if json {
                return super::runs::line(out, &settings);
            }
            let from = if settings.reviewer_set {
                "this data directory's reviewer"
            } else {
                "from $ALIGNSCOPE_AUTHOR or $USER; set one with `alignscope decisions reviewer NAME`"
            };
            writeln!(out, "{} ({from})", settings.reviewer)?;
        }
        DecisionsCommand::Agreement { dataset: ds } => {
            let dataset = dataset(api, ds, None).await?;
            let agreement = api.review_agreement(dataset).await?;
            if json {
                return super::runs::line(out, &agreement);
            }
            write_agreement(out, &agreement)?;
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
            negatives,
            no_provenance,
            out: file,
        } => {
            let request = ExportRequest {
                run: run.map(RunId),
                min_score,
                decoder,
                negatives,
                provenance: !no_provenance,
                ..ExportRequest::new(dataset(api, ds, run).await?, format)
            };
            let text = api.export_pairs(&request).await?;
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

/// Reviewers, then kappa per pair of reviewers with its table.
fn write_agreement(out: &mut dyn Write, agreement: &AgreementDto) -> std::io::Result<()> {
    if agreement.reviewers.is_empty() {
        return writeln!(out, "no decisions by hand yet");
    }
    for r in &agreement.reviewers {
        writeln!(out, "{:<40} {:>6} pairs decided", r.reviewer, r.decided)?;
    }
    writeln!(
        out,
        "disputed pairs: {} · adjudicated: {}",
        agreement.disputed, agreement.adjudicated
    )?;
    for p in &agreement.pairs {
        let kappa = p
            .kappa
            .map_or_else(|| "undefined".to_string(), |k| format!("{k:.3}"));
        writeln!(
            out,
            "\n{} × {}: {} pairs in common, {} agreed, Cohen's kappa {kappa}",
            p.first, p.second, p.both, p.agreed
        )?;
        writeln!(
            out,
            "  {:<10} {:>8} {:>8} {:>8}",
            "", "accept", "reject", "unsure"
        )?;
        for (verdict, row) in ["accept", "reject", "unsure"].iter().zip(&p.counts) {
            writeln!(
                out,
                "  {verdict:<10} {:>8} {:>8} {:>8}",
                row[0], row[1], row[2]
            )?;
        }
    }
    Ok(())
}
