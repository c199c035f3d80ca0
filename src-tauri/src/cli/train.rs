//! `alignscope train` and `alignscope eval`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use alignscope_models::eval::{
    AlignmentMetrics, CandidatePool, DirectionMetrics, EvalOptions, Similarity,
};
use alignscope_models::registry;
use alignscope_models::run::{self, SavedModel};
use alignscope_models::schema::{SettingError, Settings};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::{CliError, SourceArgs};
use crate::api::dto::{EpochDto, RunDto, StartRunRequest};
use crate::api::{Api, ApiError, ErrorCode};
use crate::device::{DeviceArg, choose};
use crate::jobs::JobEvent;
use crate::store::{RunId, RunStatus};

/// Scoring for evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SimilarityArg {
    /// CSLS (k from --csls-k), the authors' default.
    Csls,
    /// Plain cosine.
    Cosine,
}

/// Candidate pool for evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PoolArg {
    /// The other side's entities of the test pairs (the papers' protocol).
    Test,
    /// Every entity of the other graph.
    All,
}

/// A modality that can be switched off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModalityArg {
    /// Structure stream.
    Structure,
    /// Bag of relations.
    Relation,
    /// Bag of attributes.
    Attribute,
    /// Image features.
    Image,
}

/// Evaluation options shared by `train` and `eval`.
#[derive(Debug, Clone, Args)]
pub struct EvalArgs {
    /// Scoring of candidates [default: csls].
    #[arg(long, value_enum)]
    pub similarity: Option<SimilarityArg>,
    /// CSLS neighbourhood size [default: 3].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub csls_k: Option<u32>,
    /// Which entities a query ranks [default: test].
    #[arg(long, value_enum)]
    pub candidates: Option<PoolArg>,
}

impl EvalArgs {
    /// Whether any option was given.
    fn any(&self) -> bool {
        self.similarity.is_some() || self.csls_k.is_some() || self.candidates.is_some()
    }

    /// `base` with the options given here applied.
    fn apply(&self, base: EvalOptions) -> EvalOptions {
        let k = match (self.csls_k, base.similarity) {
            (Some(k), _) => k as usize,
            (None, Similarity::Csls { k }) => k,
            (None, Similarity::Cosine) => 3,
        };
        let similarity = match (self.similarity, base.similarity) {
            (Some(SimilarityArg::Cosine), _) => Similarity::Cosine,
            (Some(SimilarityArg::Csls), _) | (None, Similarity::Csls { .. }) => {
                Similarity::Csls { k }
            }
            (None, Similarity::Cosine) => Similarity::Cosine,
        };
        let pool = match self.candidates {
            Some(PoolArg::Test) => CandidatePool::TestPairs,
            Some(PoolArg::All) => CandidatePool::AllEntities,
            None => base.pool,
        };
        EvalOptions {
            similarity,
            pool,
            ..base
        }
    }
}

/// `alignscope train` options.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The dataset folder.
    #[arg(long)]
    pub dataset: PathBuf,
    /// How to read it.
    #[command(flatten)]
    pub source: SourceArgs,
    /// The model (`alignscope models list` shows them).
    #[arg(long, default_value = alignscope_models::loginmea::ID)]
    pub model: String,
    /// A setting of the model, `key=value` (repeatable; `alignscope models show <id>`
    /// lists the keys, defaults and allowed values).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Share of gold pairs used as training seeds.
    #[arg(long, default_value_t = 0.3)]
    pub ratio: f64,
    /// Share of gold pairs held out for choosing the best epoch (0: none, as the papers).
    #[arg(long, default_value_t = 0.0)]
    pub valid_ratio: f64,
    /// Where to train.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceArg,
    /// Train on the seeds of an earlier run of this dataset, corrected by the decisions:
    /// its training pairs, plus accepted, minus rejected pairs.
    #[arg(long)]
    pub seeds_from: Option<i64>,
    /// Shorthands for common settings.
    #[command(flatten)]
    pub aliases: SettingAliases,
    /// Evaluation options (`--set similarity=…`, `csls_k`, `candidates`).
    #[command(flatten)]
    pub eval: EvalArgs,
}

/// Flags kept from before `--set`, each the same as a setting.
#[derive(Debug, Args)]
pub struct SettingAliases {
    /// Epochs (`--set epochs=N`) [default: the model's paper schedule].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub epochs: Option<u32>,
    /// Seed of the split, the initialisation and the shuffling (`--set seed=N`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Evaluate (and checkpoint) every N epochs (`--set eval_every=N`).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub eval_every: Option<u32>,
    /// Iterative learning (`--set iterative=true`).
    #[arg(long)]
    pub iterative: bool,
    /// LoginMEA ablation: no adaptive modality weights (`--set adaptive_weights=false`).
    #[arg(long)]
    pub no_adaptive_weights: bool,
    /// LoginMEA ablation: concatenation instead of low-rank fusion (`--set fusion=concat`).
    #[arg(long)]
    pub concat_fusion: bool,
    /// LoginMEA ablation: plain GAT instead of relational reflection
    /// (`--set graph_layer=gat`).
    #[arg(long)]
    pub gat: bool,
    /// LoginMEA ablation: switch a modality off (repeatable; `--set modalities=…`).
    #[arg(long, value_enum)]
    pub without: Vec<ModalityArg>,
    /// LoginMEA: contrastive loss in both directions (`--set loss_direction=both`).
    #[arg(long)]
    pub both_directions: bool,
}

impl SettingAliases {
    /// The settings the flags stand for.
    fn settings(&self) -> Settings {
        let mut s = Settings::new();
        let mut put = |key: &str, value: Value| {
            s.insert(key.into(), value);
        };
        if let Some(e) = self.epochs {
            put("epochs", e.into());
        }
        if let Some(seed) = self.seed {
            put("seed", seed.into());
        }
        if let Some(e) = self.eval_every {
            put("eval_every", e.into());
        }
        if self.iterative {
            put("iterative", true.into());
        }
        if self.no_adaptive_weights {
            put("adaptive_weights", false.into());
        }
        if self.concat_fusion {
            put("fusion", "concat".into());
        }
        if self.gat {
            put("graph_layer", "gat".into());
        }
        if self.both_directions {
            put("loss_direction", "both".into());
        }
        if !self.without.is_empty() {
            let kept: Vec<&str> = ["structure", "relation", "attribute", "image"]
                .into_iter()
                .filter(|m| {
                    !self
                        .without
                        .iter()
                        .any(|w| w.to_possible_value().is_some_and(|v| v.get_name() == *m))
                })
                .collect();
            put("modalities", kept.into());
        }
        s
    }
}

impl EvalArgs {
    /// The settings the evaluation flags stand for.
    fn settings(&self) -> Settings {
        let mut s = Settings::new();
        if let Some(sim) = self.similarity {
            let name = match sim {
                SimilarityArg::Csls => "csls",
                SimilarityArg::Cosine => "cosine",
            };
            s.insert("similarity".into(), name.into());
        }
        if let Some(k) = self.csls_k {
            s.insert("csls_k".into(), k.into());
        }
        if let Some(pool) = self.candidates {
            let name = match pool {
                PoolArg::Test => "test_pairs",
                PoolArg::All => "all_entities",
            };
            s.insert("candidates".into(), name.into());
        }
        s
    }
}

impl TrainArgs {
    /// The settings asked for: the flags, then each `--set` (checked against the model's
    /// schema, so a bad key or value is refused before anything runs).
    pub fn settings(&self) -> Result<Settings, SettingError> {
        let schema = &registry::find(&self.model)?.info().config;
        let mut settings = self.aliases.settings();
        settings.extend(self.eval.settings());
        for text in &self.set {
            let (key, value) = schema.parse_assignment(text)?;
            settings.insert(key, value);
        }
        registry::resolve(&self.model, &settings)?;
        Ok(settings)
    }
}

/// Draws training progress on stderr: a bar on a terminal, a line per evaluation
/// otherwise (logs).
struct Reporter {
    bar: Option<ProgressBar>,
    started: Instant,
    epochs: usize,
}

impl Reporter {
    fn new(epochs: usize) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(epochs as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} epoch {pos}/{len} [{bar:30}] {elapsed} ETA {eta}  {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar
        });
        Self {
            bar,
            started: Instant::now(),
            epochs,
        }
    }

    fn event(&mut self, event: &JobEvent) {
        match event {
            JobEvent::Queued { run } => {
                self.line(&format!("run {run} queued (waiting for its device)"));
            }
            JobEvent::Started {
                first_epoch,
                epochs,
                ..
            } => {
                self.epochs = *epochs;
                if let Some(bar) = &self.bar {
                    bar.set_length(*epochs as u64);
                    bar.set_position(first_epoch.saturating_sub(1) as u64);
                    bar.reset_eta();
                }
                let what = if *first_epoch > 1 {
                    format!("resuming at epoch {first_epoch}")
                } else {
                    "training".into()
                };
                self.line(&format!("{what}: {epochs} epochs"));
            }
            JobEvent::Progress {
                epoch,
                batch,
                batches,
                ..
            } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(format!("epoch {epoch} chunk {batch}/{batches}"));
                }
            }
            JobEvent::Metric {
                epoch,
                loss,
                hits_at_1,
                mrr,
                diagnostics,
                ..
            } => {
                let mut msg = format!("loss {loss:.4}");
                if let (Some(h1), Some(mrr)) = (hits_at_1, mrr) {
                    msg.push_str(&format!("  H@1 {h1:.3} MRR {mrr:.3}"));
                }
                for (name, value) in diagnostics {
                    msg.push_str(&format!("  {name} {value:.3}"));
                }
                if let Some(bar) = &self.bar {
                    bar.set_position(*epoch as u64);
                    bar.set_message(msg.clone());
                }
                if hits_at_1.is_some() {
                    self.line(&format!("epoch {epoch:>4}/{}  {msg}", self.epochs));
                }
            }
            JobEvent::Log { line, .. } => self.line(line),
            JobEvent::Finished { .. } | JobEvent::Failed { .. } | JobEvent::Cancelled { .. } => {}
        }
    }

    fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("[{:>7.1}s] {text}", self.started.elapsed().as_secs_f64()),
        }
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Runs `alignscope train`: registers the dataset, queues the run, follows it.
pub async fn train(
    api: &Api,
    args: &TrainArgs,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let settings = args.settings()?;
    let imported = api
        .import_dataset(args.source.import_request(&args.dataset))
        .await?;
    for w in &imported.warnings {
        eprintln!("warning: {w}");
    }
    let resolved = registry::resolve(&args.model, &settings)?;
    super::encode::encode_what_models_read(
        api,
        &imported,
        &[(args.model.as_str(), &resolved)],
        args.device,
    )
    .await?;
    let events = api.subscribe();
    let run = api
        .start_run(StartRunRequest {
            valid_ratio: args.valid_ratio,
            seeds_from: args.seeds_from.map(RunId),
            ..StartRunRequest::new(
                imported.dataset.id,
                &args.model,
                settings,
                args.ratio,
                args.device,
            )
        })
        .await?;
    follow(api, run.id, events, json, out).await
}

/// Follows a run of this process to its end (Ctrl-C cancels it), then prints it.
pub async fn follow(
    api: &Api,
    id: RunId,
    events: broadcast::Receiver<JobEvent>,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let run = follow_to_end(api, id, events).await?;
    let epochs = api.run_metrics(id).await?;
    report(&run, &epochs, json, out)
}

/// Follows run `id` with a progress display until it ends (Ctrl-C cancels it, keeping
/// its checkpoint); a failed run is an error.
pub async fn follow_to_end(
    api: &Api,
    id: RunId,
    mut events: broadcast::Receiver<JobEvent>,
) -> Result<RunDto, CliError> {
    let mut reporter = Reporter::new(0);
    let mut interrupted = false;
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(event) if event.run() == id => {
                    reporter.event(&event);
                    if matches!(event, JobEvent::Finished { .. } | JobEvent::Failed { .. } | JobEvent::Cancelled { .. }) {
                        break;
                    }
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = tokio::signal::ctrl_c(), if !interrupted => {
                interrupted = true;
                reporter.line("interrupted: stopping after the current step (checkpoint kept; `alignscope runs resume` continues)");
                api.cancel_run(id).await?;
            }
        }
    }
    drop(reporter);
    let run = api.wait_run(id).await?;
    if run.status == RunStatus::Failed {
        return Err(ApiError::new(
            ErrorCode::Training,
            format!(
                "run {id} failed: {}",
                run.error.as_deref().unwrap_or("no message")
            ),
        )
        .into());
    }
    Ok(run)
}

/// Prints a finished run: JSON, or a curve and a metric table.
fn report(
    run: &RunDto,
    epochs: &[EpochDto],
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let metrics: Option<AlignmentMetrics> = run
        .metrics
        .clone()
        .and_then(|m| serde_json::from_value(m).ok());
    let config: Option<run::RunConfig> = run
        .config
        .clone()
        .and_then(|c| run::RunConfig::from_json(c).ok());
    let eval_options = config.as_ref().and_then(|c| c.eval_options().ok());
    let seconds = if epochs.is_empty() {
        0.0
    } else {
        epochs.iter().map(|e| e.seconds).sum::<f64>() / epochs.len() as f64
    };
    if json {
        let l2r = metrics.map(|m| m.left_to_right);
        let value = json!({
            "run_id": run.id,
            "model": run.model,
            "status": run.status,
            "device": run.device_label,
            "dataset": config.as_ref().map(|c| &c.dataset.path),
            "epochs": run.epochs_done,
            "seconds_per_epoch": seconds,
            "hits_at_1": l2r.map(|m| m.hits_at_1),
            "hits_at_5": l2r.map(|m| m.hits_at_5),
            "hits_at_10": l2r.map(|m| m.hits_at_10),
            "mrr": l2r.map(|m| m.mrr),
            "mr": l2r.map(|m| m.mr),
            "right_to_left": metrics.map(|m| m.right_to_left),
            "similarity": eval_options.as_ref().map(|e| e.similarity),
            "best_epoch": run.best_epoch,
            "history": epochs,
            "run_dir": run.run_dir,
        });
        writeln!(out, "{value}")?;
        return Ok(());
    }
    if let Some(c) = &config {
        let name = c
            .family()
            .map_or(c.model.as_str(), |f| f.info().name.as_str());
        writeln!(
            out,
            "{name} on {} ({}), device {}",
            c.dataset.path.display(),
            c.dataset.format,
            c.device
        )?;
        writeln!(
            out,
            "seeds {} / valid {} / test {}; {} epochs, {:.2} s per epoch",
            c.split.train, c.split.valid, c.split.test, run.epochs_done, seconds
        )?;
    }
    render_curve(epochs, out)?;
    if let (Some(m), Some(e)) = (metrics, &eval_options) {
        writeln!(out)?;
        render_metrics(&m, &similarity_label(e), out)?;
    }
    match run.best_epoch {
        Some(best) if best != run.epochs_done && metrics.is_some() => writeln!(
            out,
            "best epoch {best} (the table is the last epoch's model; `alignscope eval --run {} --best` evaluates epoch {best}'s)",
            run.id
        )?,
        Some(best) => writeln!(out, "best epoch {best}")?,
        None => {}
    }
    writeln!(
        out,
        "run {} {} (`alignscope runs show {}` has the details); folder {}",
        run.id,
        run.status.as_str(),
        run.id,
        run.run_dir.display()
    )?;
    Ok(())
}

fn similarity_label(options: &EvalOptions) -> String {
    let pool = match options.pool {
        CandidatePool::TestPairs => "test pairs",
        CandidatePool::AllEntities => "all entities",
    };
    format!("{}, candidates: {pool}", options.similarity)
}

/// The evaluated epochs as a small bar chart of left-to-right H@1.
fn render_curve(epochs: &[EpochDto], out: &mut dyn Write) -> std::io::Result<()> {
    let evaluated: Vec<_> = epochs
        .iter()
        .filter_map(|e| Some((e.epoch, e.loss, e.hits_at_1?, e.mrr?)))
        .collect();
    if evaluated.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "  epoch      loss    H@1    MRR  H@1 (left to right)")?;
    for (epoch, loss, h1, mrr) in evaluated {
        let bar = "#".repeat((h1 * 40.0).round() as usize);
        writeln!(out, "  {epoch:>5} {loss:>9.4} {h1:>6.3} {mrr:>6.3}  {bar}")?;
    }
    Ok(())
}

fn render_metrics(m: &AlignmentMetrics, label: &str, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "Test metrics ({label})")?;
    writeln!(
        out,
        "  {:<15}{:>8}{:>8}{:>8}{:>8}{:>10}{:>8}",
        "direction", "H@1", "H@5", "H@10", "MRR", "MR", "queries"
    )?;
    let row = |out: &mut dyn Write, name: &str, d: &DirectionMetrics| {
        writeln!(
            out,
            "  {name:<15}{:>8.4}{:>8.4}{:>8.4}{:>8.4}{:>10.2}{:>8}",
            d.hits_at_1, d.hits_at_5, d.hits_at_10, d.mrr, d.mr, d.queries
        )
    };
    row(out, "left to right", &m.left_to_right)?;
    row(out, "right to left", &m.right_to_left)
}

/// `alignscope eval` options.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["run", "checkpoint"])))]
pub struct EvalCommandArgs {
    /// A recorded run's id.
    #[arg(long)]
    pub run: Option<i64>,
    /// A run folder (`runs/<id>` in the data directory).
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Evaluate the best epoch's model instead of the newest checkpoint.
    #[arg(long)]
    pub best: bool,
    /// Where to compute.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceArg,
    /// Evaluation options (default: the run's own).
    #[command(flatten)]
    pub eval: EvalArgs,
}

/// Runs `alignscope eval`.
pub fn eval(
    data_dir: Option<PathBuf>,
    args: &EvalCommandArgs,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let which = if args.best {
        SavedModel::Best
    } else {
        SavedModel::Latest
    };
    // A recorded run is evaluated through the API, like the other shells do; a bare
    // run folder (no store entry) directly.
    let (dir, options, config, evaluation) = match (&args.checkpoint, args.run) {
        (Some(dir), _) => {
            let options = args.eval.apply(run::read_config(dir)?.eval_options()?);
            let (device, _) = choose(args.device);
            let overrides = args.eval.any().then(|| options.clone());
            let (config, evaluation) = run::evaluate_run(&device, dir, which, overrides)?;
            (dir.clone(), options, config, evaluation)
        }
        (None, Some(id)) => {
            let mut found = None;
            super::with_api(data_dir, |api| {
                let found = &mut found;
                async move {
                    let dir = api.get_run(RunId(id)).await?.run_dir;
                    let stored = run::read_config(&dir)
                        .and_then(|c| Ok(c.eval_options()?))
                        .map_err(|e| ApiError::invalid(e.to_string()))?;
                    let options = args.eval.apply(stored);
                    let overrides = args.eval.any().then(|| options.clone());
                    let (config, evaluation) = api
                        .evaluate_run(RunId(id), which, args.device, overrides)
                        .await?;
                    *found = Some((dir, options, config, evaluation));
                    Ok(())
                }
            })?;
            found.expect("set on success")
        }
        (None, None) => unreachable!("clap requires --run or --checkpoint"),
    };
    let m = evaluation.metrics;
    if json {
        let value = json!({
            "checkpoint": dir,
            "model": config.model,
            "hits_at_1": m.left_to_right.hits_at_1,
            "hits_at_5": m.left_to_right.hits_at_5,
            "hits_at_10": m.left_to_right.hits_at_10,
            "mrr": m.left_to_right.mrr,
            "mr": m.left_to_right.mr,
            "right_to_left": m.right_to_left,
            "similarity": options.similarity,
        });
        writeln!(out, "{value}")?;
    } else {
        writeln!(
            out,
            "{} run in {} on {}",
            config.model,
            dir.display(),
            config.dataset.path.display()
        )?;
        render_metrics(&m, &similarity_label(&options), out)?;
    }
    Ok(())
}

#[cfg(test)]
pub(super) mod tests {
    use alignscope_models::eval::DirectionMetrics;

    use super::*;
    use crate::store::DatasetId;

    /// A completed run of `done` epochs whose validation chose `best`.
    pub(in crate::cli) fn completed_run(done: i64, best: i64) -> RunDto {
        let direction = DirectionMetrics {
            hits_at_1: 0.635,
            hits_at_5: 0.8,
            hits_at_10: 0.879,
            mrr: 0.72,
            mr: 20.0,
            queries: 2180,
        };
        let metrics = AlignmentMetrics {
            left_to_right: direction,
            right_to_left: direction,
        };
        RunDto {
            id: RunId(7),
            dataset_id: DatasetId(1),
            model: "mpsea".into(),
            status: RunStatus::Completed,
            device: "cpu".into(),
            device_label: None,
            seed: 1,
            code_version: "test".into(),
            created_at: 0,
            started_at: None,
            finished_at: None,
            epochs_done: done,
            epochs_planned: done,
            best_epoch: Some(best),
            hits_at_1: Some(0.635),
            hits_at_10: Some(0.879),
            mrr: Some(0.72),
            mr: Some(20.0),
            metrics: Some(serde_json::to_value(metrics).unwrap()),
            error: None,
            config: None,
            run_dir: PathBuf::from("runs/7"),
            seeds_from: None,
            peak_memory_mib: Some(900.0),
            seconds_per_epoch: Some(4.2),
            best_hits_at_1: Some(0.64),
            best_hits_at_10: Some(0.88),
            best_mrr: Some(0.73),
            best_valid_hits_at_1: Some(0.66),
        }
    }

    fn printed(run: &RunDto) -> String {
        let mut out = Vec::new();
        report(run, &[], false, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_summary_says_when_its_table_is_not_the_best_epochs() {
        let earlier = printed(&completed_run(150, 75));
        assert!(
            earlier.contains("best epoch 75 (the table is the last epoch's model; `alignscope eval --run 7 --best` evaluates epoch 75's)"),
            "{earlier}"
        );
        let last = printed(&completed_run(150, 150));
        assert!(last.contains("best epoch 150\n"), "{last}");
        assert!(!last.contains("the table is"), "{last}");
    }
}
