//! MPSEA on planted alignments: it finds the alignment with 30% of the right graph's
//! images removed and logs each loss term, the reward, the policy's entropy and its
//! choice per epoch; its numerical modality alone carries the planted numbers. Real
//! training on the CPU backend with small generated data.

use std::sync::atomic::AtomicBool;

use alignscope_models::compute::{ComputeDevice, execute};
use alignscope_models::eval::DirectionMetrics;
use alignscope_models::registry;
use alignscope_models::run::{RunSpec, prepare_pair};
use alignscope_models::schema::Settings;
use alignscope_models::synthetic::{planted_multimodal_pair, without_right_images};
use alignscope_models::train::EpochRecord;

/// What one planted run gave.
struct Trained {
    /// Left-to-right test metrics at the end.
    metrics: DirectionMetrics,
    /// Every epoch's record.
    history: Vec<EpochRecord>,
}

/// MPSEA's quick settings plus `extra`, trained on the planted pair (300 entities a
/// side, 30% seeds) with `missing` of the right images removed.
fn train(extra: &[(&str, serde_json::Value)], missing: f64) -> Trained {
    let mut settings: Settings = registry::find("mpsea").unwrap().info().quick.clone();
    settings.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    let spec = RunSpec {
        dataset: "generated".into(),
        load: Default::default(),
        model: "mpsea".into(),
        settings,
        train_ratio: 0.3,
        valid_ratio: 0.0,
        seeds: None,
        rejected: Vec::new(),
    };
    let pair = without_right_images(planted_multimodal_pair(300, 7), missing, 11);
    let mut run = prepare_pair(&spec, pair, "generated").unwrap();
    let cancel = AtomicBool::new(false);
    let result = execute(
        &ComputeDevice::Cpu,
        &mut run,
        "cpu",
        None,
        false,
        &cancel,
        &mut |_| {},
    )
    .unwrap();
    Trained {
        metrics: result.final_test.expect("evaluated").metrics.left_to_right,
        history: result.state.history,
    }
}

fn curve(history: &[EpochRecord]) -> Vec<(usize, f64)> {
    history
        .iter()
        .filter_map(|r| Some((r.epoch, r.test?.left_to_right.hits_at_1)))
        .collect()
}

#[test]
fn a_planted_alignment_with_missing_images_is_found_and_every_term_is_logged() {
    let trained = train(&[], 0.3);
    let m = &trained.metrics;
    assert!(
        m.hits_at_1 >= 0.9,
        "H@1 {:.3}; curve {:?}",
        m.hits_at_1,
        curve(&trained.history)
    );
    for record in &trained.history {
        let terms: Vec<&str> = record.loss_terms.keys().map(String::as_str).collect();
        assert_eq!(
            terms,
            [
                "joint",
                "mi_critic",
                "modal_adaptive",
                "mutual_information",
                "policy"
            ],
            "epoch {}",
            record.epoch
        );
        let figures: Vec<&str> = record.diagnostics.keys().map(String::as_str).collect();
        assert_eq!(figures, ["late fusion share", "policy entropy", "reward"]);
        let share = record.diagnostics["late fusion share"];
        assert!(
            (0.0..=1.0).contains(&share),
            "epoch {}: {share}",
            record.epoch
        );
    }
    // The policy starts near uniform over its five levels (entropy log 5 = 1.61) and the
    // critics' bound starts near 0 and rises.
    let (first, last) = (&trained.history[0], trained.history.last().unwrap());
    assert!(
        first.diagnostics["policy entropy"] > 1.5,
        "{:?}",
        first.diagnostics
    );
    assert!(
        last.loss_terms["mi_critic"] < first.loss_terms["mi_critic"] - 1.0,
        "the critics' bound (minus its loss) rises: {} -> {}",
        first.loss_terms["mi_critic"],
        last.loss_terms["mi_critic"]
    );
}

#[test]
fn numbers_alone_align_the_planted_numbers() {
    // Two of four numeric keys per entity with values in 1900..2000, copied with noise
    // of 0.5: alone they identify most entities.
    let trained = train(&[("modalities", serde_json::json!(["number"]))], 0.0);
    let m = &trained.metrics;
    assert!(
        m.hits_at_1 >= 0.8,
        "H@1 {:.3}; curve {:?}",
        m.hits_at_1,
        curve(&trained.history)
    );
}
