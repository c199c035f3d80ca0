//! TMEA on a planted alignment with 30% of the right graph's images removed: it finds
//! the alignment, and its imputation beats the papers' random stand-in there. Real
//! training on the CPU backend with small generated data.

use std::sync::atomic::AtomicBool;

use alignscope_models::compute::{ComputeDevice, execute};
use alignscope_models::eval::DirectionMetrics;
use alignscope_models::registry;
use alignscope_models::run::{RunSpec, prepare_pair};
use alignscope_models::schema::Settings;
use alignscope_models::synthetic::{planted_multimodal_pair, without_right_images};
use alignscope_models::tmea::transe::triples;
use alignscope_models::train::TrainEvent;

/// A run of TMEA's quick settings plus `extra` on generated data, 30% of it seeds.
fn quick_spec(extra: &[(&str, serde_json::Value)]) -> RunSpec {
    let mut settings: Settings = registry::find("tmea").unwrap().info().quick.clone();
    settings.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    RunSpec {
        dataset: "generated".into(),
        load: Default::default(),
        model: "tmea".into(),
        settings,
        train_ratio: 0.3,
        valid_ratio: 0.0,
        seeds: None,
        rejected: Vec::new(),
    }
}

/// What one planted run gave.
struct Trained {
    /// Left-to-right test metrics at the end.
    metrics: DirectionMetrics,
    /// Right entities without an image.
    missing: usize,
    /// The image imputation's fit (the diagnostic) of each epoch, if it reported one.
    image_fit: Vec<f64>,
}

/// TMEA's quick settings plus `extra`, trained on the planted pair with `missing` of
/// the right images removed.
fn train(extra: &[(&str, serde_json::Value)], missing: f64) -> Trained {
    let spec = quick_spec(extra);
    let pair = without_right_images(planted_multimodal_pair(300, 7), missing, 11);
    let without = pair
        .right
        .image_features
        .as_ref()
        .unwrap()
        .rows
        .iter()
        .filter(|r| r.is_none())
        .count();
    let mut run = prepare_pair(&spec, pair, "generated").unwrap();
    let cancel = AtomicBool::new(false);
    let mut image_fit = Vec::new();
    let result = execute(
        &ComputeDevice::Cpu,
        &mut run,
        "cpu",
        None,
        false,
        &cancel,
        &mut |event| {
            if let TrainEvent::Epoch(record) = event
                && let Some(fit) = record.diagnostics.get("image imputation fit")
            {
                image_fit.push(*fit);
            }
        },
    )
    .unwrap();
    Trained {
        metrics: result.final_test.unwrap().metrics.left_to_right,
        missing: without,
        image_fit,
    }
}

#[test]
fn with_30_percent_of_the_right_images_missing_imputation_finds_the_alignment_and_beats_the_stand_in()
 {
    let trained = train(&[], 0.3);
    let (imputed, missing) = (trained.metrics, trained.missing);
    assert!(
        (70..=110).contains(&missing),
        "{missing} right entities without an image"
    );
    // The fit is logged every epoch, and the pseudo images learn the real ones.
    let fit = &trained.image_fit;
    assert_eq!(fit.len(), 150, "one image fit per epoch");
    let (first, last) = (fit[0], fit[fit.len() - 1]);
    eprintln!("image imputation fit: {first:.3} at the first epoch, {last:.3} at the last");
    assert!(
        first < 0.3 && last > 0.8,
        "image imputation fit {first:.3} at the first epoch, {last:.3} at the last"
    );
    let stand_in = train(&[("imputation", false.into())], 0.3);
    assert!(
        stand_in.image_fit.is_empty(),
        "no imputation, no imputation fit"
    );
    let stand_in = stand_in.metrics;
    eprintln!(
        "imputation: H@1 {:.3} MRR {:.3}; stand-in: H@1 {:.3} MRR {:.3} ({missing} of 300 right images missing)",
        imputed.hits_at_1, imputed.mrr, stand_in.hits_at_1, stand_in.mrr
    );
    assert!(imputed.hits_at_1 >= 0.9, "H@1 {:.3}", imputed.hits_at_1);
    assert!(
        imputed.mrr > stand_in.mrr,
        "imputation MRR {:.3} vs stand-in {:.3}",
        imputed.mrr,
        stand_in.mrr
    );
}

/// One epoch of TMEA's quick settings plus `extra` on a planted pair of 60 entities a
/// side: the optimiser steps it took, and the number of relational triples.
fn steps_of_one_epoch(extra: &[(&str, serde_json::Value)]) -> (usize, usize) {
    let spec = quick_spec(&[&[("epochs", 1.into())], extra].concat());
    let mut run = prepare_pair(&spec, planted_multimodal_pair(60, 7), "generated").unwrap();
    let triples = triples(&run.graph).len();
    let cancel = AtomicBool::new(false);
    let mut batches = 0;
    let result = execute(
        &ComputeDevice::Cpu,
        &mut run,
        "cpu",
        None,
        false,
        &cancel,
        &mut |event| {
            if let TrainEvent::Batch { .. } = event {
                batches += 1;
            }
        },
    )
    .unwrap();
    let steps = result.state.history[0].steps;
    assert_eq!(
        batches, steps,
        "one progress event per step (one chunk each)"
    );
    (steps, triples)
}

#[test]
fn an_epoch_takes_one_step_per_transe_batch_of_triples_unless_set() {
    let (steps, triples) =
        steps_of_one_epoch(&[("steps_per_epoch", 0.into()), ("transe_batch", 50.into())]);
    assert!(triples > 100, "{triples} triples");
    assert_eq!(steps, triples.div_ceil(50));
    let (fixed, _) = steps_of_one_epoch(&[("steps_per_epoch", 2.into())]);
    assert_eq!(fixed, 2);
}
