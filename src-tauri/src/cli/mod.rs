//! The `alignscope` command line: argument parsing, dispatch and exit codes.

mod convert;
mod device;
mod inspect;
mod render;
mod train;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

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
    /// Train a model on a dataset, evaluating as it goes; optionally save a run folder.
    Train(Box<train::TrainArgs>),
    /// Re-evaluate a saved run (`train --out`) on its dataset.
    Eval(train::EvalCommandArgs),
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
        /// Print one JSON object instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Convert a dataset folder to AlignScope's own TSV format.
    Convert {
        /// The dataset folder to read.
        dir: PathBuf,
        /// The folder to write (must not exist, or be empty).
        #[arg(long)]
        to: PathBuf,
        /// How to read it.
        #[command(flatten)]
        source: SourceArgs,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
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
    pub(crate) fn load_options(&self) -> LoadOptions {
        LoadOptions {
            format: self.format,
            image_features: self.image_features.clone(),
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
    /// Training or evaluation failed.
    #[error(transparent)]
    Run(#[from] alignscope_models::run::RunError),
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
    match cli.command {
        Command::Dataset(DatasetCommand::Inspect { dir, source, json }) => {
            inspect::inspect(&dir, &source.load_options(), json, out)
        }
        Command::Dataset(DatasetCommand::Convert {
            dir,
            to,
            source,
            json,
        }) => convert::convert(&dir, &to, &source.load_options(), json, out),
        Command::Train(args) => train::train(&args, out),
        Command::Eval(args) => train::eval(&args, out),
    }
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
