//! `alignscope dataset synth`: a synthetic pair of any size (power-law degrees, planted
//! alignment, image-like features) written in AlignScope's format, for scale tests.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use alignscope_datasets::{SyntheticOptions, synthetic_pair, write_alignscope};
use clap::Args;
use serde::Serialize;

use super::CliError;

/// Options of `dataset synth`.
#[derive(Debug, Args)]
pub struct SynthArgs {
    /// The folder to write (must not exist, or be empty).
    #[arg(long)]
    pub to: PathBuf,
    /// Entities per side.
    #[arg(long, default_value_t = 10_000)]
    pub entities: usize,
    /// Share of the entities that have a counterpart.
    #[arg(long, default_value_t = 0.9)]
    pub matched_share: f64,
    /// Relation types.
    #[arg(long, default_value_t = 1_000)]
    pub relations: usize,
    /// Relational triples per left entity.
    #[arg(long, default_value_t = 4.0)]
    pub triples_per_entity: f64,
    /// Probability that a left fact is also on the right.
    #[arg(long, default_value_t = 0.8)]
    pub keep: f64,
    /// Width of the image-like feature vectors (0: none).
    #[arg(long, default_value_t = 64)]
    pub image_dim: usize,
    /// The seed.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

impl SynthArgs {
    fn options(&self) -> SyntheticOptions {
        SyntheticOptions {
            entities: self.entities,
            matched_share: self.matched_share,
            relations: self.relations,
            triples_per_entity: self.triples_per_entity,
            keep: self.keep,
            image_dim: (self.image_dim > 0).then_some(self.image_dim),
            seed: self.seed,
            ..SyntheticOptions::default()
        }
    }
}

#[derive(Serialize)]
struct SynthSummary {
    destination: String,
    entities_per_side: usize,
    gold_pairs: usize,
    triples_left: usize,
    triples_right: usize,
    images_left: usize,
    images_right: usize,
    max_degree: usize,
    median_degree: usize,
    seconds: f64,
}

/// Builds the pair and writes it to `args.to`.
pub(super) fn synth(args: &SynthArgs, json: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let started = Instant::now();
    let (pair, report) = synthetic_pair(&args.options())?;
    write_alignscope(&pair, &args.to)?;
    let summary = SynthSummary {
        destination: args.to.display().to_string(),
        entities_per_side: report.entities,
        gold_pairs: report.gold,
        triples_left: report.triples.0,
        triples_right: report.triples.1,
        images_left: report.images.0,
        images_right: report.images.1,
        max_degree: report.max_degree,
        median_degree: report.median_degree,
        seconds: started.elapsed().as_secs_f64(),
    };
    if json {
        serde_json::to_writer_pretty(&mut *out, &summary).map_err(std::io::Error::from)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "Wrote a synthetic pair to {} in {:.1} s: {} entities per side, {} gold pairs, {} + {} triples (degrees: median {}, largest {}), {} + {} image vectors.",
            summary.destination,
            summary.seconds,
            summary.entities_per_side,
            summary.gold_pairs,
            summary.triples_left,
            summary.triples_right,
            summary.median_degree,
            summary.max_degree,
            summary.images_left,
            summary.images_right
        )?;
    }
    Ok(())
}
