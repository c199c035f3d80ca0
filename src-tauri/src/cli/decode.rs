//! `alignscope runs decode`: a run's test pairs decoded one-to-one (greedy, Hungarian,
//! Sinkhorn) beside plain ranking, with H@1 and precision/recall by confidence; saved in
//! the run's folder for `decisions export --decoder` and the one-to-one review order.

use std::io::Write;

use alignscope_models::eval::decode::PrecisionRecall;
use alignscope_models::eval::decode::{DecodeQuality, Decoder, SINKHORN_DEFAULT};
use alignscope_models::run::SavedModel;
use alignscope_models::run::decode::RunDecoding;
use clap::Args;
use serde_json::json;

use super::CliError;
use crate::api::Api;
use crate::api::decoding::decoders_for;
use crate::api::dto::DecoderMethod;
use crate::device::DeviceArg;
use crate::store::RunId;

/// `runs decode` options.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// Run id.
    pub id: i64,
    /// Decoders, comma-separated (plain ranking is always shown first, for comparison).
    #[arg(long = "method", value_enum, value_delimiter = ',', default_values_t = [DecoderMethod::Greedy, DecoderMethod::Hungarian, DecoderMethod::Sinkhorn])]
    pub methods: Vec<DecoderMethod>,
    /// Sinkhorn's temperature (lower is sharper).
    #[arg(long, default_value_t = sinkhorn_default().0)]
    pub temperature: f32,
    /// Sinkhorn's balancing rounds.
    #[arg(long, default_value_t = sinkhorn_default().1)]
    pub iterations: usize,
    /// Decode the best epoch's model instead of the newest checkpoint.
    #[arg(long)]
    pub best: bool,
    /// Where to compute the scores.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceArg,
}

fn sinkhorn_default() -> (f32, usize) {
    match SINKHORN_DEFAULT {
        Decoder::Sinkhorn {
            temperature,
            iterations,
        } => (temperature, iterations),
        _ => unreachable!("the Sinkhorn default is a Sinkhorn decoder"),
    }
}

impl DecodeArgs {
    /// The decoders to run: ranking first, then those asked, each once.
    fn decoders(&self) -> Result<Vec<Decoder>, CliError> {
        decoders_for(&self.methods, Some(self.temperature), Some(self.iterations))
            .map_err(|e| CliError::InvalidDecoder(e.message))
    }
}

/// Shares of the decoded pairs (best confidence first) at which precision and recall
/// are printed.
const KEPT_SHARES: [f64; 6] = [0.1, 0.25, 0.5, 0.75, 0.9, 1.0];

/// Runs `runs decode`.
pub async fn decode(
    api: &Api,
    args: &DecodeArgs,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let decoders = args.decoders()?;
    let which = if args.best {
        SavedModel::Best
    } else {
        SavedModel::Latest
    };
    let decoding = api
        .decode_run(RunId(args.id), which, args.device, decoders, |_| {})
        .await?;
    if json {
        let outcomes: Vec<_> = decoding
            .outcomes
            .iter()
            .map(|o| {
                json!({
                    "decoder": o.decoder,
                    "one_to_one": o.decoder.is_one_to_one(),
                    "seconds": o.seconds,
                    "quality": o.quality,
                })
            })
            .collect();
        let value = json!({
            "run": args.id,
            "model": decoding.config.model,
            "similarity": decoding.similarity,
            "test_pairs": decoding.test_pairs.len(),
            "scoring_seconds": decoding.scoring_seconds,
            "outcomes": outcomes,
        });
        writeln!(out, "{value}")?;
        return Ok(());
    }
    render(args.id, &decoding, out)?;
    writeln!(
        out,
        "\nsaved in the run's folder (exports/decoding.json): `alignscope decisions export --run {id} --decoder <method> --format sssom` exports its pairs, `alignscope runs review {id} --strategy one-to-one` reviews the least confident first",
        id = args.id
    )?;
    Ok(())
}

fn render(id: i64, decoding: &RunDecoding, out: &mut dyn Write) -> Result<(), CliError> {
    writeln!(
        out,
        "run {id} ({}): {} test pairs, scored by {} in {:.1} s",
        decoding.config.model,
        decoding.test_pairs.len(),
        decoding.similarity,
        decoding.scoring_seconds
    )?;
    writeln!(
        out,
        "{:<10} {:>10} {:>7} {:>7} {:>8}",
        "method", "one-to-one", "paired", "H@1", "seconds"
    )?;
    for o in &decoding.outcomes {
        writeln!(
            out,
            "{:<10} {:>10} {:>7} {:>7.4} {:>8.2}",
            o.decoder.name(),
            if o.decoder.is_one_to_one() {
                "yes"
            } else {
                "no"
            },
            o.quality.paired,
            o.quality.hits_at_1,
            o.seconds
        )?;
    }
    writeln!(
        out,
        "\nprecision / recall of the pairs kept at a confidence threshold (most confident first; \
         rank and greedy: the score, Sinkhorn: the plan's share)"
    )?;
    for o in &decoding.outcomes {
        writeln!(out, "{}", o.decoder.name())?;
        writeln!(
            out,
            "  {:>6} {:>10} {:>6} {:>9} {:>7}",
            "kept", "threshold", "pairs", "precision", "recall"
        )?;
        for (share, point) in at_shares(&o.quality) {
            writeln!(
                out,
                "  {:>5.0}% {:>10.4} {:>6} {:>9.3} {:>7.3}",
                share * 100.0,
                point.threshold,
                point.kept,
                point.precision,
                point.recall
            )?;
        }
    }
    Ok(())
}

/// The curve's points where at least each of [`KEPT_SHARES`] of the pairs is kept.
fn at_shares(quality: &DecodeQuality) -> Vec<(f64, PrecisionRecall)> {
    KEPT_SHARES
        .iter()
        .filter_map(|&share| {
            let wanted = (share * quality.paired as f64).ceil() as usize;
            quality
                .curve
                .iter()
                .find(|p| p.kept >= wanted.max(1))
                .map(|p| (share, *p))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use alignscope_models::eval::decode::quality;

    use super::*;

    fn parse(extra: &[&str]) -> DecodeArgs {
        #[derive(clap::Parser)]
        struct Command {
            #[command(flatten)]
            decode: DecodeArgs,
        }
        let mut args = vec!["decode", "7"];
        args.extend(extra);
        <Command as clap::Parser>::try_parse_from(args)
            .unwrap()
            .decode
    }

    #[test]
    fn ranking_comes_first_and_each_decoder_once() {
        let defaults = parse(&[]).decoders().unwrap();
        assert_eq!(
            defaults.iter().map(Decoder::name).collect::<Vec<_>>(),
            ["rank", "greedy", "hungarian", "sinkhorn"]
        );
        assert_eq!(defaults[3], SINKHORN_DEFAULT);
        let chosen = parse(&["--method", "sinkhorn,rank,sinkhorn", "--temperature", "0.1"])
            .decoders()
            .unwrap();
        assert_eq!(
            chosen,
            [
                Decoder::Rank,
                Decoder::Sinkhorn {
                    temperature: 0.1,
                    iterations: sinkhorn_default().1
                }
            ]
        );
        let err = parse(&["--temperature", "0"]).decoders().unwrap_err();
        assert!(err.to_string().contains("positive temperature"), "{err}");
    }

    #[test]
    fn shares_pick_the_first_point_that_keeps_enough_pairs() {
        let decoded: Vec<_> = (0..10)
            .map(|i| Some((if i < 7 { i } else { 0 }, 1.0 - i as f32 / 10.0)))
            .collect();
        let q = quality(&decoded, &(0..10).collect::<Vec<_>>());
        let points = at_shares(&q);
        let kept: Vec<usize> = points.iter().map(|(_, p)| p.kept).collect();
        assert_eq!(kept, [1, 3, 5, 8, 9, 10]);
        assert_eq!(points[5].1.precision, 0.7);
    }
}
