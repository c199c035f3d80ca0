//! `alignscope demo`: builds the built-in demo dataset if needed, then trains LoginMEA on
//! it twice, with and without the image modality, and shows what images contribute.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use alignscope_datasets::{DatasetStats, DemoOptions, Side};
use alignscope_models::schema::Settings;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use super::CliError;
use super::train::follow_to_end;
use crate::api::dto::{ImportRequest, RunDto, StartRunRequest};
use crate::api::{Api, ApiError, ErrorCode};
use crate::demo::{DemoBuild, DemoStage, ensure_demo};
use crate::device::{DeviceArg, choose};
use crate::store::DatasetId;

/// `alignscope demo` options.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to encode the images and train.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceArg,
    /// Training epochs of each of the two runs (10 keep a first run short and already
    /// show what images add; a full run at the paper's schedule has 600).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub epochs: u32,
    /// Share of the gold pairs used as training seeds.
    #[arg(long, default_value_t = 0.3)]
    pub ratio: f64,
    /// The `node_modules` folder holding the pinned emoji packages
    /// [default: $ALIGNSCOPE_DEMO_SOURCES, else scripts/demo-sources/node_modules].
    #[arg(long)]
    pub sources: Option<PathBuf>,
    /// Only build (and register) the demo dataset; do not train.
    #[arg(long)]
    pub build_only: bool,
    /// Use only the first N emoji (with their variants, groups and keywords): a small
    /// pair for a quick look or a test, kept in its own folder.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
    /// Share of the right (Chinese) graph's images to remove, from 0 to 1: more missing
    /// images put imputation to the test. A share other than the default 0.1 builds a
    /// pair of its own, in its own folder.
    #[arg(long, default_value_t = DemoOptions::default().image_drop_share, value_parser = share)]
    pub image_drop: f64,
}

/// Parses a share from 0 to 1.
fn share(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "{value} is not a share from 0 to 1 (0.4 removes 40%)"
        ))
    }
}

/// Runs `alignscope demo`.
pub async fn demo(
    api: &Api,
    args: &DemoArgs,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let (device, _) = choose(args.device);
    let data = api.data_dir().clone();
    let sources = args.sources.clone();
    let options = DemoOptions {
        emoji_limit: args.limit.map(|n| n as usize),
        image_drop_share: args.image_drop,
        ..DemoOptions::default()
    };
    let build = tokio::task::spawn_blocking(move || {
        let mut display = BuildDisplay::default();
        let result = ensure_demo(&data, sources.as_deref(), &options, &device, &mut |stage| {
            display.stage(stage)
        });
        display.finish();
        result
    })
    .await
    .map_err(|error| ApiError::new(ErrorCode::Io, format!("the demo build stopped: {error}")))?
    .map_err(|error| ApiError::new(ErrorCode::InvalidInput, error.to_string()))?;

    let imported = api
        .import_dataset(ImportRequest {
            path: build.dir.clone(),
            format: Some("alignscope".into()),
            image_features: None,
            name: None,
        })
        .await?;
    let stats: DatasetStats =
        serde_json::from_value(imported.dataset.statistics.clone()).map_err(|error| {
            ApiError::new(ErrorCode::Storage, format!("dataset statistics: {error}"))
        })?;
    if !json {
        describe(&build.dir, build.build.as_ref(), &stats, out)?;
    }
    if args.build_only {
        if json {
            writeln!(out, "{}", summary(&stats, imported.dataset.id, None, None))?;
        }
        return Ok(());
    }

    let with_images = train(api, args, imported.dataset.id, true, out, json).await?;
    let without_images = train(api, args, imported.dataset.id, false, out, json).await?;
    if json {
        let value = summary(
            &stats,
            imported.dataset.id,
            Some(&with_images),
            Some(&without_images),
        );
        writeln!(out, "{value}")?;
    } else {
        comparison(&with_images, &without_images, out)?;
    }
    Ok(())
}

/// Trains LoginMEA on the demo, all modalities or all but images.
async fn train(
    api: &Api,
    args: &DemoArgs,
    dataset: DatasetId,
    images: bool,
    out: &mut dyn Write,
    json: bool,
) -> Result<RunDto, CliError> {
    let mut settings = Settings::new();
    settings.insert("epochs".into(), args.epochs.into());
    if !images {
        settings.insert(
            "modalities".into(),
            serde_json::json!(["structure", "relation", "attribute"]),
        );
    }
    if !json {
        let what = if images { "with" } else { "without" };
        writeln!(
            out,
            "\nTraining LoginMEA {what} the image modality: {} epochs, {:.0}% of the gold pairs as seeds",
            args.epochs,
            args.ratio * 100.0
        )?;
        out.flush()?;
    }
    let events = api.subscribe();
    let run = api
        .start_run(StartRunRequest::new(
            dataset,
            alignscope_models::loginmea::ID,
            settings,
            args.ratio,
            args.device,
        ))
        .await?;
    follow_to_end(api, run.id, events).await
}

/// Prints what the demo dataset holds.
fn describe(
    dir: &std::path::Path,
    build: Option<&DemoBuild>,
    stats: &DatasetStats,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    writeln!(out, "Demo dataset {}", dir.display())?;
    match build {
        Some(b) => writeln!(
            out,
            "  built now: graphs {:.1} s, {} images encoded in {:.1} s ({:.1} images/s, {} undecodable), written in {:.1} s",
            b.assemble_seconds,
            b.images_encoded,
            b.encode_seconds,
            b.images_encoded as f64 / b.encode_seconds.max(1e-9),
            b.image_failures,
            b.write_seconds
        )?,
        None => writeln!(out, "  (built earlier; delete the folder to rebuild it)")?,
    }
    for (label, graph) in [
        ("English, Twemoji images", &stats.left),
        ("Chinese, Noto images   ", &stats.right),
    ] {
        writeln!(
            out,
            "  {label}: {} entities, {} triples, {} attribute triples, {} with an image",
            graph.entities, graph.triples, graph.attribute_triples, graph.entities_with_images
        )?;
    }
    writeln!(out, "  {} gold pairs", stats.gold_pairs)?;
    writeln!(
        out,
        "  Artwork: Twemoji © Twitter/X and contributors, CC-BY 4.0; Noto Emoji © Google, Apache-2.0"
    )?;
    Ok(())
}

/// The with/without-images table.
fn comparison(with: &RunDto, without: &RunDto, out: &mut dyn Write) -> Result<(), CliError> {
    writeln!(out)?;
    writeln!(
        out,
        "LoginMEA on the demo (test pairs, left to right, CSLS)"
    )?;
    writeln!(out, "                     H@1     H@10    MRR     run")?;
    for (label, run) in [("with images   ", with), ("without images", without)] {
        writeln!(
            out,
            "  {label}     {}   {}   {}   {}",
            metric(run.hits_at_1),
            metric(run.hits_at_10),
            metric(run.mrr),
            run.id
        )?;
    }
    let delta = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => format!("{:+.3}", a - b),
        _ => "  -   ".into(),
    };
    writeln!(
        out,
        "  images add         {}  {}  {}",
        delta(with.hits_at_1, without.hits_at_1),
        delta(with.hits_at_10, without.hits_at_10),
        delta(with.mrr, without.mrr)
    )?;
    writeln!(
        out,
        "`alignscope runs show <run>` has the details; `alignscope runs compare {} {}` the pairs that flip.",
        with.id, without.id
    )?;
    Ok(())
}

fn metric(value: Option<f64>) -> String {
    value.map_or_else(|| "  -  ".into(), |v| format!("{v:.3}"))
}

/// The `--json` result: one object.
fn summary(
    stats: &DatasetStats,
    dataset: DatasetId,
    with: Option<&RunDto>,
    without: Option<&RunDto>,
) -> serde_json::Value {
    json!({
        "dataset_id": dataset,
        "entities_left": stats.left.entities,
        "entities_right": stats.right.entities,
        "gold_pairs": stats.gold_pairs,
        "images_left": stats.left.entities_with_images,
        "images_right": stats.right.entities_with_images,
        "hits_at_1_with_images": with.and_then(|r| r.hits_at_1),
        "hits_at_1_without_images": without.and_then(|r| r.hits_at_1),
        "hits_at_10_with_images": with.and_then(|r| r.hits_at_10),
        "hits_at_10_without_images": without.and_then(|r| r.hits_at_10),
        "mrr_with_images": with.and_then(|r| r.mrr),
        "mrr_without_images": without.and_then(|r| r.mrr),
        "run_with_images": with.map(|r| r.id),
        "run_without_images": without.map(|r| r.id),
    })
}

/// Progress of the demo build on stderr: a bar per graph's images on a terminal, a line
/// per tenth otherwise.
#[derive(Default)]
struct BuildDisplay {
    side: Option<Side>,
    bar: Option<ProgressBar>,
    logged: usize,
}

impl BuildDisplay {
    fn stage(&mut self, stage: DemoStage) {
        match stage {
            DemoStage::Assembling => {
                eprintln!("Building the demo dataset from the emoji packages…");
            }
            DemoStage::Encoding { side, progress } => {
                if self.side != Some(side) {
                    self.start(side, progress.total);
                }
                match &self.bar {
                    Some(bar) => bar.set_position(progress.done as u64),
                    None if progress.done * 10 >= (self.logged + 1) * progress.total => {
                        self.logged = progress.done * 10 / progress.total.max(1);
                        eprintln!(
                            "  {} images: {}/{}",
                            side.as_str(),
                            progress.done,
                            progress.total
                        );
                    }
                    None => {}
                }
            }
            DemoStage::Writing => {
                self.finish();
                eprintln!("Writing the dataset (images and features)…");
            }
        }
    }

    fn start(&mut self, side: Side, total: usize) {
        self.finish();
        self.side = Some(side);
        self.logged = 0;
        let name = side.as_str();
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template(&format!(
                    "  encoding {name} images [{{bar:30}}] {{pos}}/{{len}} {{per_sec}} ETA {{eta}}"
                ))
                .expect("valid template")
                .progress_chars("=> "),
            );
            self.bar = Some(bar);
        } else {
            eprintln!("  encoding {total} {name} images with EfficientNet-Lite0");
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
