//! `alignscope dataset import|list` and `alignscope runs ...`.

use std::io::Write;
use std::path::Path;

use clap::Subcommand;

use super::{CliError, SourceArgs};
use crate::api::Api;
use crate::api::dto::{
    EncodingDto, EncodingKind, EncodingState, ImportRequest, ReviewScope, ReviewStrategy, RunDto,
    SideDto,
};
use crate::api::review_queue::QueueView;
use crate::store::RunId;

/// A graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SideArg {
    /// The source graph.
    Left,
    /// The target graph.
    Right,
}

/// `alignscope runs ...`
#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// Every recorded run, newest first.
    List,
    /// One run: status, config, per-epoch metrics, files.
    Show {
        /// Run id.
        id: i64,
    },
    /// Two runs side by side, with the test pairs whose top-1 flips.
    Compare {
        /// Run A.
        a: i64,
        /// Run B.
        b: i64,
    },
    /// Continue an interrupted, cancelled or failed run from its last checkpoint (in the
    /// foreground, like `train`).
    Resume {
        /// Run id.
        id: i64,
    },
    /// Ask a queued or running run to stop (it keeps its checkpoints).
    Cancel {
        /// Run id.
        id: i64,
    },
    /// The ranked candidates of one entity in a run, with per-modality scores and
    /// modality weights.
    Candidates {
        /// Run id.
        id: i64,
        /// Entity key.
        key: String,
        /// Which graph the entity is in.
        #[arg(long, value_enum, default_value = "left")]
        side: SideArg,
    },
    /// Pairs to review next: a run's undecided top-1 predictions, pairs another reviewer
    /// decided (--scope second-opinion) or pairs reviewers disagree about (--scope
    /// disagreements).
    Review {
        /// Run id.
        id: i64,
        /// Order (of the undecided predictions).
        #[arg(long, value_enum, default_value = "lowest-margin")]
        strategy: ReviewStrategy,
        /// Second run, for --strategy disagreement.
        #[arg(long)]
        other: Option<i64>,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Which pairs.
        #[arg(long, value_enum, default_value = "undecided")]
        scope: ReviewScope,
        /// Who reviews [default: the data directory's reviewer].
        #[arg(long)]
        reviewer: Option<String>,
        /// Blind mode: no score, rank or margin.
        #[arg(long)]
        blind: bool,
    },
    /// A run's test pairs decoded one-to-one (greedy, Hungarian, Sinkhorn) beside plain
    /// ranking: H@1, and precision and recall at confidence thresholds.
    Decode(super::decode::DecodeArgs),
    /// Delete a run that is not running, with its files.
    Delete {
        /// Run id.
        id: i64,
    },
}

pub(super) fn line(out: &mut dyn Write, value: &impl serde::Serialize) -> Result<(), CliError> {
    serde_json::to_writer(&mut *out, value).map_err(std::io::Error::from)?;
    writeln!(out)?;
    Ok(())
}

fn metric(value: Option<f64>) -> String {
    value
        .map(|v| format!("{v:.4}"))
        .unwrap_or_else(|| "-".into())
}

/// `dataset import`.
pub async fn import(
    api: &Api,
    dir: &Path,
    source: &SourceArgs,
    name: Option<String>,
    encode: Option<crate::device::DeviceArg>,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let mut imported = api
        .import_dataset(ImportRequest {
            path: dir.to_path_buf(),
            format: source.format.map(|f| f.to_string()),
            image_features: source.image_features.clone(),
            name,
        })
        .await?;
    let unfinished = |state: &EncodingDto| {
        matches!(
            state.state,
            EncodingState::Cancelled | EncodingState::Failed
        )
    };
    let encoding = match encode {
        Some(device) if imported.images_to_encode => {
            let state = super::encode::encode_with_progress(
                api,
                imported.dataset.id,
                EncodingKind::Images,
                device,
            )
            .await?;
            imported.images_to_encode = unfinished(&state);
            Some(state)
        }
        _ => None,
    };
    let cancelled = |state: &Option<EncodingDto>| {
        state
            .as_ref()
            .is_some_and(|s| s.state == EncodingState::Cancelled)
    };
    let text_encoding = match encode {
        Some(device) if imported.text_to_encode && !cancelled(&encoding) => {
            let state = super::encode::encode_with_progress(
                api,
                imported.dataset.id,
                EncodingKind::Text,
                device,
            )
            .await?;
            imported.text_to_encode = unfinished(&state);
            Some(state)
        }
        _ => None,
    };
    if encoding.is_some() || text_encoding.is_some() {
        imported.dataset = api.dataset(imported.dataset.id).await?;
    }
    if json {
        let mut value = serde_json::to_value(&imported).map_err(std::io::Error::from)?;
        value["image_encoding"] = serde_json::to_value(&encoding).map_err(std::io::Error::from)?;
        value["text_encoding"] =
            serde_json::to_value(&text_encoding).map_err(std::io::Error::from)?;
        return line(out, &value);
    }
    let d = &imported.dataset;
    writeln!(
        out,
        "dataset {} \"{}\" ({}) from {}{}",
        d.id,
        d.name,
        d.format,
        d.source_path,
        if imported.already_known {
            " (already registered)"
        } else {
            ""
        }
    )?;
    for w in &imported.warnings {
        writeln!(out, "  warning: {w}")?;
    }
    match &encoding {
        Some(state) => super::encode::describe(state, out)?,
        None if imported.images_to_encode => writeln!(
            out,
            "  its image files have no features yet: `alignscope dataset encode-images {}` encodes them (runs use a stand-in until then)",
            d.id
        )?,
        None => {}
    }
    match &text_encoding {
        Some(state) => super::encode::describe(state, out)?,
        None if imported.text_to_encode => writeln!(
            out,
            "  its attribute statements have no text embeddings yet: `alignscope dataset encode-text {}` makes them",
            d.id
        )?,
        None => {}
    }
    for (state, command) in [
        (&encoding, "encode-images"),
        (&text_encoding, "encode-text"),
    ] {
        if cancelled(state) {
            return Err(CliError::Cancelled(format!(
                "dataset {} is registered but its encoding was cancelled; `alignscope dataset {command} {}` resumes it",
                d.id, d.id
            )));
        }
    }
    Ok(())
}

/// `dataset remove`: says what will go, asks on a terminal unless `yes`.
pub async fn remove_dataset(
    api: &Api,
    id: i64,
    yes: bool,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    use std::io::IsTerminal;
    let dataset = api.dataset(crate::store::DatasetId(id)).await?;
    if !yes {
        let runs = api
            .list_runs()
            .await?
            .into_iter()
            .filter(|r| r.dataset_id == dataset.id)
            .count();
        if !std::io::stdin().is_terminal() {
            return Err(CliError::Cancelled(format!(
                "removing dataset {id} \"{}\" deletes its {runs} runs; pass --yes to confirm",
                dataset.name
            )));
        }
        eprint!(
            "Remove dataset {id} \"{}\" and its {runs} runs (their files too)? Its decisions stay exportable; {} is not touched. [y/N] ",
            dataset.name, dataset.source_path
        );
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            return Err(CliError::Cancelled("nothing was removed".into()));
        }
    }
    let removed = api.remove_dataset(dataset.id).await?;
    if json {
        return line(out, &removed);
    }
    writeln!(
        out,
        "removed dataset {id} \"{}\" and {} runs; {} decisions kept (`alignscope decisions export --dataset {id}` still works; importing {} again restores it)",
        dataset.name, removed.runs_removed, removed.decisions_kept, dataset.source_path
    )?;
    Ok(())
}

/// `dataset list`.
pub async fn list_datasets(api: &Api, json: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let datasets = api.list_datasets().await?;
    if json {
        return line(out, &datasets);
    }
    writeln!(out, "{:>4}  {:<24} {:<11} source", "id", "name", "format")?;
    for d in datasets {
        writeln!(
            out,
            "{:>4}  {:<24} {:<11} {}",
            d.id.0, d.name, d.format, d.source_path
        )?;
    }
    Ok(())
}

/// `runs ...`.
pub async fn run(
    api: &Api,
    command: RunsCommand,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    match command {
        RunsCommand::List => {
            let runs = api.list_runs().await?;
            if json {
                return line(out, &runs);
            }
            writeln!(
                out,
                "{:>4}  {:<11} {:<9} {:>7} {:>11} {:>7} {:>7} {:>7}",
                "id", "status", "model", "dataset", "epochs", "H@1", "H@10", "MRR"
            )?;
            for r in runs {
                writeln!(
                    out,
                    "{:>4}  {:<11} {:<9} {:>7} {:>11} {:>7} {:>7} {:>7}",
                    r.id.0,
                    r.status.as_str(),
                    r.model,
                    r.dataset_id.0,
                    format!("{}/{}", r.epochs_done, r.epochs_planned),
                    metric(r.hits_at_1),
                    metric(r.hits_at_10),
                    metric(r.mrr)
                )?;
            }
            Ok(())
        }
        RunsCommand::Show { id } => {
            let id = RunId(id);
            let run = api.get_run(id).await?;
            let epochs = api.run_metrics(id).await?;
            let artifacts = api.run_artifacts(id).await?;
            if json {
                return line(
                    out,
                    &serde_json::json!({"run": run, "epochs": epochs, "artifacts": artifacts}),
                );
            }
            describe(&run, out)?;
            let evaluated: Vec<_> = epochs.iter().filter(|e| e.hits_at_1.is_some()).collect();
            if !evaluated.is_empty() {
                writeln!(
                    out,
                    "\n  epoch      loss    H@1    MRR  H@1 (left to right)"
                )?;
                for e in evaluated {
                    let h1 = e.hits_at_1.unwrap_or(0.0);
                    writeln!(
                        out,
                        "  {:>5} {:>9.4} {h1:>6.3} {:>6.3}  {}",
                        e.epoch,
                        e.loss,
                        e.mrr.unwrap_or(0.0),
                        "#".repeat((h1 * 40.0).round() as usize)
                    )?;
                }
            }
            if !artifacts.is_empty() {
                writeln!(out, "\nfiles:")?;
                for a in artifacts {
                    writeln!(out, "  {:<17} {:>12} B  {}", a.kind, a.bytes, a.path)?;
                }
            }
            Ok(())
        }
        RunsCommand::Compare { a, b } => {
            let c = api.compare_runs(RunId(a), RunId(b)).await?;
            if json {
                return line(out, &c);
            }
            writeln!(
                out,
                "{:<10} {:>10} {:>10} {:>10}",
                "",
                format!("run {a}"),
                format!("run {b}"),
                "B - A"
            )?;
            let rows = [
                ("H@1", c.a.hits_at_1, c.b.hits_at_1),
                ("H@10", c.a.hits_at_10, c.b.hits_at_10),
                ("MRR", c.a.mrr, c.b.mrr),
            ];
            for (name, x, y) in rows {
                let delta = match (x, y) {
                    (Some(x), Some(y)) => format!("{:+.4}", y - x),
                    _ => "-".into(),
                };
                writeln!(
                    out,
                    "{name:<10} {:>10} {:>10} {delta:>10}",
                    metric(x),
                    metric(y)
                )?;
            }
            writeln!(
                out,
                "\n{} common test queries: {} right in both, {} in neither, {} only in run {a}, {} only in run {b}",
                c.common_queries,
                c.both_correct,
                c.neither_correct,
                c.a_only.len(),
                c.b_only.len()
            )?;
            for (title, flips) in [
                (format!("lost by run {b}"), &c.a_only),
                (format!("gained by run {b}"), &c.b_only),
            ] {
                if flips.is_empty() {
                    continue;
                }
                writeln!(out, "\n{title} (first 10):")?;
                for f in flips.iter().take(10) {
                    writeln!(
                        out,
                        "  {} = {}  (rank {} -> {})",
                        f.query.label, f.truth.label, f.rank_a, f.rank_b
                    )?;
                }
            }
            Ok(())
        }
        RunsCommand::Resume { id } => {
            let events = api.subscribe();
            let run = api.resume_run(RunId(id)).await?;
            super::train::follow(api, run.id, events, json, out).await
        }
        RunsCommand::Cancel { id } => {
            let run = api.cancel_run(RunId(id)).await?;
            if json {
                return line(out, &run);
            }
            writeln!(
                out,
                "run {id}: cancel requested (status {}); it stops at the end of its current step",
                run.status.as_str()
            )?;
            Ok(())
        }
        RunsCommand::Candidates { id, key, side } => {
            let side = match side {
                SideArg::Left => SideDto::Left,
                SideArg::Right => SideDto::Right,
            };
            let c = api.candidates(RunId(id), side, &key).await?;
            if json {
                return line(out, &c);
            }
            writeln!(
                out,
                "candidates of {} ({}) in run {id}",
                c.query.label, c.query.key
            )?;
            if c.candidates.is_empty() {
                writeln!(out, "  none: the entity is not a test query of this run")?;
            }
            writeln!(
                out,
                "  {:>4} {:>8}  {:<40} {}",
                "rank",
                "score",
                "candidate",
                c.modalities.join(" / ")
            )?;
            for cand in &c.candidates {
                let sims: Vec<String> = cand
                    .modality_scores
                    .iter()
                    .map(|v| format!("{v:.3}"))
                    .collect();
                writeln!(
                    out,
                    "  {:>4} {:>8.4}  {:<40} {}{}",
                    cand.rank,
                    cand.score,
                    format!(
                        "{}{}",
                        cand.entity.label,
                        if cand.is_true { " *" } else { "" }
                    ),
                    sims.join(" / "),
                    cand.decision
                        .map(|d| format!("  [{}]", d.as_str()))
                        .unwrap_or_default()
                )?;
            }
            Ok(())
        }
        RunsCommand::Review {
            id,
            strategy,
            other,
            limit,
            scope,
            reviewer,
            blind,
        } => {
            let view = QueueView {
                scope,
                reviewer,
                blind,
            };
            let items = api
                .review_queue(RunId(id), strategy, other.map(RunId), limit, view)
                .await?;
            if json {
                return line(out, &items);
            }
            let number =
                |value: Option<f64>| value.map_or_else(|| "-".into(), |v| format!("{v:.4}"));
            for item in items {
                writeln!(
                    out,
                    "{:<32} = {:<32} score {} margin {}  ({})",
                    item.left.label,
                    item.right.label,
                    number(item.score),
                    number(item.margin),
                    item.reason
                )?;
            }
            Ok(())
        }
        RunsCommand::Decode(args) => super::decode::decode(api, &args, json, out).await,
        RunsCommand::Delete { id } => {
            api.delete_run(RunId(id)).await?;
            if json {
                return line(out, &serde_json::json!({"deleted": id}));
            }
            writeln!(out, "run {id} deleted")?;
            Ok(())
        }
    }
}

/// A few lines about a run.
pub fn describe(run: &RunDto, out: &mut dyn Write) -> Result<(), CliError> {
    writeln!(
        out,
        "run {}: {} on dataset {}, {} ({}), epochs {}/{}",
        run.id,
        run.model,
        run.dataset_id,
        run.status.as_str(),
        run.device_label.as_deref().unwrap_or(&run.device),
        run.epochs_done,
        run.epochs_planned
    )?;
    writeln!(
        out,
        "  H@1 {}  H@10 {}  MRR {}  MR {}  best epoch {}",
        metric(run.hits_at_1),
        metric(run.hits_at_10),
        metric(run.mrr),
        run.mr
            .map(|v| format!("{v:.2}"))
            .unwrap_or_else(|| "-".into()),
        run.best_epoch
            .map(|e| e.to_string())
            .unwrap_or_else(|| "-".into())
    )?;
    if let Some(error) = &run.error {
        writeln!(out, "  note: {error}")?;
    }
    writeln!(
        out,
        "  folder: {}  code: {}",
        run.run_dir.display(),
        run.code_version
    )?;
    Ok(())
}
