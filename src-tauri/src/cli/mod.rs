//! The `alignscope` command line: argument parsing, dispatch and exit codes.

mod bench;
mod convert;
mod decisions;
mod decode;
mod demo;
mod encode;
mod inspect;
mod models;
mod render;
mod runs;
#[cfg(feature = "server")]
mod serve;
mod synth;
mod train;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::api::dto::EncodingKind;
use alignscope_datasets::{DatasetError, Format, LoadOptions};
use clap::{Args, Parser, Subcommand};

/// Exit code for invalid input (a dataset that does not validate, a bad destination).
pub const EXIT_INVALID_INPUT: u8 = 1;
/// Exit code for bad command-line usage (clap's convention).
pub const EXIT_USAGE: u8 = 2;

/// AlignScope: multi-modal entity alignment workbench (headless CLI).
#[derive(Debug, Parser)]
#[command(
    name = "alignscope",
    version,
    about = "AlignScope: multi-modal entity alignment workbench (headless CLI)"
)]
pub struct Cli {
    /// The data directory (database and run folders) [default: $ALIGNSCOPE_HOME, else
    /// the platform's data folder].
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// Print JSON instead of tables (one object; for `train`, the last stdout line).
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read, validate, describe and convert knowledge-graph pairs.
    #[command(subcommand)]
    Dataset(DatasetCommand),
    /// Build the built-in demo dataset if needed (emoji in English and Chinese, two
    /// vendors' artwork), train LoginMEA on it with and without images, compare.
    Demo(demo::DemoArgs),
    /// The models AlignScope trains: their papers, settings, ablations and deviations.
    #[command(subcommand)]
    Models(models::ModelsCommand),
    /// Train a model on a dataset, evaluating as it goes; the run is recorded in the
    /// data directory.
    Train(Box<train::TrainArgs>),
    /// Compare models on one dataset: each trained on the same splits with several
    /// seeds; a paper-style table of mean ± standard deviation (Markdown and CSV too).
    Bench(Box<bench::BenchArgs>),
    /// Re-evaluate a recorded run (or a run folder) on its dataset.
    Eval(train::EvalCommandArgs),
    /// List, show, compare, resume, cancel and delete recorded runs.
    #[command(subcommand)]
    Runs(runs::RunsCommand),
    /// Record, undo, list and export decisions about candidate pairs.
    #[command(subcommand)]
    Decisions(decisions::DecisionsCommand),
    /// Serve the API and the UI over HTTP for a browser (prints the URL with its token).
    #[cfg(feature = "server")]
    Serve(serve::ServeArgs),
}

/// `alignscope dataset ...`
#[derive(Debug, Subcommand)]
pub enum DatasetCommand {
    /// Validate a dataset folder and print its statistics.
    Inspect {
        /// The dataset folder (GCN-Align, MEAformer, OpenEA or AlignScope format).
        dir: PathBuf,
        /// How to read it.
        #[command(flatten)]
        source: SourceArgs,
    },
    /// Convert a dataset folder to AlignScope's own TSV format.
    Convert {
        /// The dataset folder to read.
        dir: PathBuf,
        /// The folder to write (must not exist, or be empty).
        #[arg(long)]
        to: PathBuf,
        /// Leave image feature files out (image files are still copied), so that an
        /// import encodes the images itself.
        #[arg(long)]
        without_image_features: bool,
        /// How to read it.
        #[command(flatten)]
        source: SourceArgs,
    },
    /// Write a synthetic pair of any size (power-law degrees like DBP15K's, a planted
    /// alignment, image-like features) in AlignScope's format, for scale tests.
    Synth(synth::SynthArgs),
    /// Validate a dataset folder and register it in the data directory.
    Import {
        /// The dataset folder.
        dir: PathBuf,
        /// How to read it.
        #[command(flatten)]
        source: SourceArgs,
        /// Display name [default: the folder's name].
        #[arg(long)]
        name: Option<String>,
        /// Do not encode image files and attribute text into features now (`dataset
        /// encode-images` and `dataset encode-text` do it later; until then runs use
        /// stand-ins).
        #[arg(long)]
        no_encode: bool,
        /// Where to encode.
        #[arg(long, value_enum, default_value = "cpu")]
        device: crate::device::DeviceArg,
    },
    /// Encode a registered dataset's image files into image features (cached by content
    /// hash in the data directory: unchanged images cost nothing; Ctrl-C stops and a new
    /// run resumes).
    EncodeImages {
        /// Dataset id (`alignscope dataset list`).
        id: i64,
        /// Where to encode.
        #[arg(long, value_enum, default_value = "cpu")]
        device: crate::device::DeviceArg,
    },
    /// Embed a registered dataset's attribute statements ("key: value") and entity names
    /// with the local sentence encoder (all-MiniLM-L6-v2), each distinct text once and
    /// cached in the data directory; Ctrl-C stops and a new run resumes.
    EncodeText {
        /// Dataset id (`alignscope dataset list`).
        id: i64,
        /// Where to encode.
        #[arg(long, value_enum, default_value = "cpu")]
        device: crate::device::DeviceArg,
    },
    /// List the registered datasets.
    List,
    /// Remove a registered dataset with its runs (their folders too) and the features
    /// AlignScope derived for it. Its decisions stay exportable; the dataset folder itself
    /// is not touched, and importing it again restores the dataset.
    Remove {
        /// Dataset id (`alignscope dataset list`).
        id: i64,
        /// Do not ask for confirmation (needed where stdin is not a terminal).
        #[arg(long)]
        yes: bool,
    },
}

/// Options for reading a dataset folder.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// Force the format instead of detecting it: gcn-align, meaformer, openea, alignscope.
    #[arg(long, value_parser = parse_format)]
    pub format: Option<Format>,
    /// Pickled image-feature dict for a GCN-Align/MEAformer folder, instead of the one
    /// found beside it.
    #[arg(long)]
    pub image_features: Option<PathBuf>,
}

impl SourceArgs {
    /// The request that registers the dataset folder `path` read this way.
    pub(crate) fn import_request(&self, path: &std::path::Path) -> crate::api::dto::ImportRequest {
        crate::api::dto::ImportRequest {
            path: path.to_path_buf(),
            format: self.format.map(|f| f.to_string()),
            image_features: self.image_features.clone(),
            name: None,
        }
    }

    pub(crate) fn load_options(&self) -> LoadOptions {
        LoadOptions {
            format: self.format,
            image_features: self.image_features.clone(),
            derived_features: None,
        }
    }
}

fn parse_format(s: &str) -> Result<Format, DatasetError> {
    s.parse()
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The dataset could not be read, validated or written.
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    /// Synthetic-pair options out of range.
    #[error(transparent)]
    Synthetic(#[from] alignscope_datasets::SyntheticError),
    /// Training or evaluation failed.
    #[error(transparent)]
    Run(#[from] alignscope_models::run::RunError),
    /// The backend refused or failed.
    #[error("{0}")]
    Api(#[from] crate::api::ApiError),
    /// A model or setting is unknown, or a value is not allowed.
    #[error(transparent)]
    Setting(#[from] alignscope_models::schema::SettingError),
    /// `bench --ablations` named a text no ablation label of the benched models has.
    #[error("no ablation of {models} has `{filter}` in its label; they are: {}", .known.join("; "))]
    NoSuchAblation {
        /// The text given.
        filter: String,
        /// The benched models.
        models: String,
        /// Their ablation labels.
        known: Vec<String>,
    },
    /// `bench` was given a seed ratio that leaves no test part.
    #[error(
        "invalid seed ratio {ratio} with validation ratio {valid}: each seed ratio must be positive and, with the validation share, below 1"
    )]
    InvalidSeedRatio {
        /// The seed ratio.
        ratio: f64,
        /// The validation ratio.
        valid: f64,
    },
    /// A benched run with a validation part recorded no epoch chosen by validation H@1.
    #[error(
        "run #{run} recorded no epoch chosen by validation H@1: raise `--valid-ratio` so that the validation part holds pairs, or let the run evaluate at least once (`--set eval_every=…`)"
    )]
    NoBestEpoch {
        /// The run.
        run: i64,
    },
    /// `runs decode` was given settings no decoder can use.
    #[error("{0}")]
    InvalidDecoder(String),
    /// The user stopped the work (what was done is kept).
    #[error("{0}")]
    Cancelled(String),
    /// Writing to the terminal failed.
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
    /// A converted dataset read back with another fingerprint (a bug: please report it).
    #[error("the converted dataset at {} reads back with fingerprint {found}, expected {expected}; please report this", path.display())]
    ConversionMismatch {
        /// The destination.
        path: PathBuf,
        /// The source's fingerprint.
        expected: String,
        /// The copy's fingerprint.
        found: String,
    },
}

/// Runs a parsed command, writing results to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<(), CliError> {
    let json = cli.json;
    let data_dir = cli.data_dir.clone();
    match cli.command {
        Command::Dataset(DatasetCommand::Inspect { dir, source }) => {
            inspect::inspect(&dir, &source.load_options(), json, out)
        }
        Command::Dataset(DatasetCommand::Convert {
            dir,
            to,
            without_image_features,
            source,
        }) => convert::convert(
            &dir,
            &to,
            &source.load_options(),
            without_image_features,
            json,
            out,
        ),
        Command::Dataset(DatasetCommand::Synth(args)) => synth::synth(&args, json, out),
        Command::Dataset(DatasetCommand::Import {
            dir,
            source,
            name,
            no_encode,
            device,
        }) => with_api(data_dir, |api| async move {
            let encode = (!no_encode).then_some(device);
            runs::import(&api, &dir, &source, name, encode, json, out).await
        }),
        Command::Dataset(DatasetCommand::EncodeImages { id, device }) => {
            with_api(data_dir, |api| async move {
                encode::encode(&api, id, EncodingKind::Images, device, json, out).await
            })
        }
        Command::Dataset(DatasetCommand::EncodeText { id, device }) => {
            with_api(data_dir, |api| async move {
                encode::encode(&api, id, EncodingKind::Text, device, json, out).await
            })
        }
        Command::Dataset(DatasetCommand::Remove { id, yes }) => {
            with_api(data_dir, |api| async move {
                runs::remove_dataset(&api, id, yes, json, out).await
            })
        }
        Command::Dataset(DatasetCommand::List) => with_api(data_dir, |api| async move {
            runs::list_datasets(&api, json, out).await
        }),
        Command::Demo(args) => with_api(data_dir, |api| async move {
            demo::demo(&api, &args, json, out).await
        }),
        Command::Models(command) => models::run(&command, json, out),
        Command::Train(args) => with_api(data_dir, |api| async move {
            train::train(&api, &args, json, out).await
        }),
        Command::Bench(args) => with_api(data_dir, |api| async move {
            bench::bench(&api, &args, json, out).await
        }),
        Command::Eval(args) => train::eval(data_dir, &args, json, out),
        Command::Runs(command) => with_api(data_dir, |api| async move {
            runs::run(&api, command, json, out).await
        }),
        Command::Decisions(command) => with_api(data_dir, |api| async move {
            decisions::run(&api, command, json, out).await
        }),
        #[cfg(feature = "server")]
        Command::Serve(args) => with_api(data_dir, |api| async move {
            serve::serve(&api, &args, out).await
        }),
    }
}

/// Opens the API on the data directory inside a tokio runtime and runs `body`.
fn with_api<'a, F, Fut>(data_dir: Option<PathBuf>, body: F) -> Result<(), CliError>
where
    F: FnOnce(crate::api::Api) -> Fut,
    Fut: std::future::Future<Output = Result<(), CliError>> + 'a,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let dir = crate::data_dir::DataDir::resolve(data_dir.as_deref())
            .map_err(crate::api::ApiError::from)?;
        let api = crate::api::Api::open(dir).await?;
        let result = body(api.clone()).await;
        api.close().await;
        result
    })
}

/// The binary's entry point: parses arguments, runs, prints errors to stderr.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match run(cli, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let _ = out.flush();
            eprintln!("error: {e}");
            ExitCode::from(EXIT_INVALID_INPUT)
        }
    }
}
