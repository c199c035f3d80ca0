//! `alignscope train` and `alignscope eval`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use alignscope_models::GraphBackend;
use alignscope_models::eval::{
    AlignmentMetrics, CandidatePool, DirectionMetrics, EvalOptions, Similarity,
};
use alignscope_models::inputs::ModalityKind;
use alignscope_models::loginmea::{FusionKind, GraphLayerKind, LoginMeaConfig, LossDirection};
use alignscope_models::run::{self, RunResult, RunSpec, SavedModel};
use alignscope_models::train::{IterativeConfig, TrainConfig, TrainEvent};
use burn::tensor::backend::AutodiffBackend;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use super::device::{BackendTask, DeviceArg, run_on};
use super::{CliError, SourceArgs};

/// Models `train` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelArg {
    /// LoginMEA (Su et al., ECAI 2024).
    Loginmea,
}

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
    /// The model.
    #[arg(long, value_enum, default_value = "loginmea")]
    pub model: ModelArg,
    /// Share of gold pairs used as training seeds.
    #[arg(long, default_value_t = 0.3)]
    pub ratio: f64,
    /// Share of gold pairs held out for choosing the best epoch (0: none, as the papers).
    #[arg(long, default_value_t = 0.0)]
    pub valid_ratio: f64,
    /// Epochs (the paper trains 600).
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u32).range(1..))]
    pub epochs: u32,
    /// Seed of the split, the initialisation and the shuffling.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Where to train.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceArg,
    /// Run folder for config, checkpoints and exports (none: nothing is written).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the run in --out from its newest checkpoint.
    #[arg(long, requires = "out")]
    pub resume: bool,
    /// Evaluate (and checkpoint) every N epochs.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub eval_every: u32,
    /// Iterative learning (pseudo seeds from mutual nearest neighbours) from epoch 50.
    #[arg(long)]
    pub iterative: bool,
    /// Ablation: no entity-specific adaptive modality weights.
    #[arg(long)]
    pub no_adaptive_weights: bool,
    /// Ablation: concatenation instead of low-rank fusion.
    #[arg(long)]
    pub concat_fusion: bool,
    /// Ablation: plain GAT instead of relational reflection.
    #[arg(long)]
    pub gat: bool,
    /// Ablation: switch a modality off (repeatable).
    #[arg(long, value_enum)]
    pub without: Vec<ModalityArg>,
    /// Contrastive loss in both directions (the authors use left to right).
    #[arg(long)]
    pub both_directions: bool,
    /// Evaluation options.
    #[command(flatten)]
    pub eval: EvalArgs,
    /// Print one JSON object last on stdout.
    #[arg(long)]
    pub json: bool,
}

impl TrainArgs {
    fn spec(&self) -> RunSpec {
        let off: Vec<ModalityKind> = self
            .without
            .iter()
            .map(|m| match m {
                ModalityArg::Structure => ModalityKind::Structure,
                ModalityArg::Relation => ModalityKind::Relation,
                ModalityArg::Attribute => ModalityKind::Attribute,
                ModalityArg::Image => ModalityKind::Image,
            })
            .collect();
        let defaults = LoginMeaConfig::default();
        let model = LoginMeaConfig {
            adaptive_weights: !self.no_adaptive_weights,
            fusion: if self.concat_fusion {
                FusionKind::Concat
            } else {
                FusionKind::LowRank
            },
            graph_layer: if self.gat {
                GraphLayerKind::Gat
            } else {
                GraphLayerKind::Reflection
            },
            loss_direction: if self.both_directions {
                LossDirection::Both
            } else {
                LossDirection::LeftToRight
            },
            modalities: defaults
                .modalities
                .iter()
                .copied()
                .filter(|m| !off.contains(m))
                .collect(),
            ..defaults
        };
        let train = TrainConfig {
            epochs: self.epochs as usize,
            seed: self.seed,
            eval_every: self.eval_every as usize,
            iterative: self.iterative.then(IterativeConfig::default),
            eval: self.eval.apply(EvalOptions::default()),
            ..TrainConfig::default()
        };
        RunSpec {
            dataset: self.dataset.clone(),
            load: self.source.load_options(),
            model,
            train,
            train_ratio: self.ratio,
            valid_ratio: self.valid_ratio,
        }
    }
}

struct TrainTask<'a> {
    prepared: &'a mut run::PreparedRun,
    out: Option<&'a Path>,
    resume: bool,
}

impl BackendTask for TrainTask<'_> {
    type Output = Result<RunResult, run::RunError>;

    fn run<B>(self, device: B::Device, label: &str) -> Self::Output
    where
        B: AutodiffBackend + GraphBackend,
        B::InnerBackend: GraphBackend,
    {
        let cancel = AtomicBool::new(false);
        let mut reporter = Reporter::new(self.prepared.config.train.epochs);
        run::execute::<B>(
            self.prepared,
            &device,
            label,
            self.out,
            self.resume,
            &cancel,
            &mut |e| reporter.event(e),
        )
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

    fn event(&mut self, event: &TrainEvent) {
        match event {
            TrainEvent::Started {
                first_epoch,
                epochs,
                chunks,
            } => {
                self.epochs = *epochs;
                if let Some(bar) = &self.bar {
                    bar.set_position(first_epoch.saturating_sub(1) as u64);
                    bar.reset_eta();
                }
                let what = if *first_epoch > 1 {
                    format!("resuming at epoch {first_epoch}")
                } else {
                    "training".into()
                };
                self.line(&format!(
                    "{what}: {epochs} epochs, {chunks} loss chunk(s) per epoch"
                ));
            }
            TrainEvent::Chunk {
                epoch,
                chunk,
                chunks,
                loss,
            } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(format!(
                        "epoch {epoch} chunk {chunk}/{chunks} loss {loss:.4}"
                    ));
                }
            }
            TrainEvent::Epoch(record) => {
                let mut msg = format!("loss {:.4}  {:.1} s/epoch", record.loss, record.seconds);
                if let Some(test) = &record.test {
                    let m = test.left_to_right;
                    msg.push_str(&format!(
                        "  H@1 {:.3} H@10 {:.3} MRR {:.3}",
                        m.hits_at_1, m.hits_at_10, m.mrr
                    ));
                }
                if let Some(p) = &record.pseudo_seeds {
                    msg.push_str(&format!(
                        "  pseudo: {} mutual, {} standing, +{} ({} correct), {} seeds",
                        p.mutual, p.candidates, p.added, p.added_correct, p.seeds
                    ));
                }
                if let Some(bar) = &self.bar {
                    bar.set_position(record.epoch as u64);
                    bar.set_message(msg.clone());
                }
                if record.test.is_some() || record.pseudo_seeds.is_some() {
                    self.line(&format!("epoch {:>4}/{}  {msg}", record.epoch, self.epochs));
                }
            }
            TrainEvent::Checkpoint { .. } => {}
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

/// Runs `alignscope train`.
pub fn train(args: &TrainArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let spec = args.spec();
    let mut prepared = run::prepare(&spec)?;
    let result = run_on(
        args.device,
        TrainTask {
            prepared: &mut prepared,
            out: args.out.as_deref(),
            resume: args.resume,
        },
    )?;
    let metrics = result.final_test.as_ref().map(|e| e.metrics);
    let seconds = run::seconds_per_epoch(&result.state);
    if args.json {
        let l2r = metrics.map(|m| m.left_to_right);
        let value = json!({
            "model": "loginmea",
            "status": format!("{:?}", result.status).to_lowercase(),
            "device": result.config.device,
            "dataset": result.config.dataset.path,
            "epochs": result.state.epoch,
            "seconds_per_epoch": seconds,
            "hits_at_1": l2r.map(|m| m.hits_at_1),
            "hits_at_5": l2r.map(|m| m.hits_at_5),
            "hits_at_10": l2r.map(|m| m.hits_at_10),
            "mrr": l2r.map(|m| m.mrr),
            "mr": l2r.map(|m| m.mr),
            "right_to_left": metrics.map(|m| m.right_to_left),
            "similarity": result.config.train.eval.similarity,
            "best": result.state.best,
            "history": result.state.history,
            "out": args.out,
        });
        writeln!(out, "{value}")?;
        return Ok(());
    }
    writeln!(
        out,
        "LoginMEA on {} ({}), device {}",
        result.config.dataset.path.display(),
        result.config.dataset.format,
        result.config.device
    )?;
    writeln!(
        out,
        "seeds {} / valid {} / test {}; {} epochs, {:.2} s per epoch",
        result.config.split.train,
        result.config.split.valid,
        result.config.split.test,
        result.state.epoch,
        seconds
    )?;
    render_curve(&result, out)?;
    if let Some(m) = metrics {
        writeln!(out)?;
        render_metrics(&m, &similarity_label(&result.config.train.eval), out)?;
    }
    if let Some(best) = &result.state.best {
        writeln!(
            out,
            "best epoch {} (H@1 {:.4}, chosen by {})",
            best.epoch, best.hits_at_1, best.selected_by
        )?;
    }
    if let Some(dir) = &args.out {
        writeln!(
            out,
            "run folder: {} (config.json, checkpoints/, exports/)",
            dir.display()
        )?;
    }
    Ok(())
}

fn similarity_label(options: &EvalOptions) -> String {
    let sim = match options.similarity {
        Similarity::Csls { k } => format!("CSLS k={k}"),
        Similarity::Cosine => "cosine".into(),
    };
    let pool = match options.pool {
        CandidatePool::TestPairs => "test pairs",
        CandidatePool::AllEntities => "all entities",
    };
    format!("{sim}, candidates: {pool}")
}

/// The evaluated epochs as a small bar chart of left-to-right H@1.
fn render_curve(result: &RunResult, out: &mut dyn Write) -> std::io::Result<()> {
    let evaluated: Vec<_> = result
        .state
        .history
        .iter()
        .filter_map(|r| r.test.map(|t| (r.epoch, r.loss, t)))
        .collect();
    if evaluated.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "  epoch      loss    H@1    MRR  H@1 (left to right)")?;
    for (epoch, loss, t) in evaluated {
        let m = t.left_to_right;
        let bar = "#".repeat((m.hits_at_1 * 40.0).round() as usize);
        writeln!(
            out,
            "  {epoch:>5} {loss:>9.4} {:>6.3} {:>6.3}  {bar}",
            m.hits_at_1, m.mrr
        )?;
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
pub struct EvalCommandArgs {
    /// The run folder written by `train --out`.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Evaluate the best epoch's model instead of the newest checkpoint.
    #[arg(long)]
    pub best: bool,
    /// Where to compute.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceArg,
    /// Evaluation options (default: the run's own).
    #[command(flatten)]
    pub eval: EvalArgs,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

struct EvalTask<'a> {
    args: &'a EvalCommandArgs,
    options: Option<EvalOptions>,
}

impl BackendTask for EvalTask<'_> {
    type Output = Result<(run::RunConfig, alignscope_models::eval::Evaluation), run::RunError>;

    fn run<B>(self, device: B::Device, _label: &str) -> Self::Output
    where
        B: AutodiffBackend + GraphBackend,
        B::InnerBackend: GraphBackend,
    {
        let which = if self.args.best {
            SavedModel::Best
        } else {
            SavedModel::Latest
        };
        run::evaluate_run::<B::InnerBackend>(&self.args.checkpoint, which, self.options, &device)
    }
}

/// Runs `alignscope eval`.
pub fn eval(args: &EvalCommandArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let stored = run::read_config(&args.checkpoint)?;
    let options = args.eval.apply(stored.train.eval.clone());
    let task = EvalTask {
        args,
        options: args.eval.any().then(|| options.clone()),
    };
    let (config, evaluation) = run_on(args.device, task)?;
    let m = evaluation.metrics;
    if args.json {
        let value = json!({
            "checkpoint": args.checkpoint,
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
            args.checkpoint.display(),
            config.dataset.path.display()
        )?;
        render_metrics(&m, &similarity_label(&options), out)?;
    }
    Ok(())
}
