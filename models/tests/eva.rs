//! EVA's unsupervised setting: visual pivots found from images alone replace the seed
//! pairs, and a planted alignment is still found; without images it fails clearly.

use std::sync::atomic::AtomicBool;

use alignscope_datasets::MmkgPair;
use alignscope_models::compute::{ComputeDevice, execute};
use alignscope_models::eva;
use alignscope_models::registry;
use alignscope_models::run::{PreparedRun, RunError, RunResult, RunSpec, prepare_pair};
use alignscope_models::schema::Settings;
use alignscope_models::synthetic::{planted_multimodal_pair, planted_pair};
use alignscope_models::train::{PivotReport, TrainEvent};
use serde_json::json;

/// EVA's quick settings in the unsupervised setting with `pivots` pivots, on `pair`.
fn unsupervised(pair: MmkgPair, pivots: usize) -> PreparedRun {
    let mut settings: Settings = registry::find(eva::ID).unwrap().info().quick.clone();
    settings.insert("unsupervised".into(), json!(true));
    settings.insert("pivots".into(), json!(pivots));
    let spec = RunSpec {
        dataset: "generated".into(),
        load: Default::default(),
        model: eva::ID.into(),
        settings,
        train_ratio: 0.3,
        valid_ratio: 0.0,
        seeds: None,
        rejected: Vec::new(),
    };
    prepare_pair(&spec, pair, "generated").expect("a generated pair prepares")
}

/// Trains `run` on the CPU to the end, without a run folder; the pivot reports it made.
fn train(run: &mut PreparedRun) -> (Result<RunResult, RunError>, Vec<PivotReport>) {
    let mut reports = Vec::new();
    let cancel = AtomicBool::new(false);
    let mut on_event = |e: &TrainEvent| {
        if let TrainEvent::Pivots(r) = e {
            reports.push(r.clone());
        }
    };
    let result = execute(
        &ComputeDevice::Cpu,
        run,
        "cpu",
        None,
        false,
        &cancel,
        &mut on_event,
    );
    (result, reports)
}

#[test]
fn visual_pivots_replace_the_seeds_and_find_a_planted_alignment() {
    let mut run = unsupervised(planted_multimodal_pair(300, 7), 150);
    let (result, reports) = train(&mut run);
    let result = result.unwrap_or_else(|e| panic!("training runs: {e}"));
    assert_eq!(reports.len(), 1, "one pivot search before the first epoch");
    let report = &reports[0];
    assert_eq!(report.with_images, (300, 300));
    assert_eq!(report.pairs, 150);
    assert!(
        report.correct * 10 >= report.pairs * 9,
        "{} of {} pivots right",
        report.correct,
        report.pairs
    );
    let m = result.final_test.expect("evaluated").metrics.left_to_right;
    assert!(
        m.hits_at_1 >= 0.8,
        "H@1 {:.3} from pivots alone",
        m.hits_at_1
    );
}

#[test]
fn visual_pivots_without_images_fail_clearly() {
    let mut run = unsupervised(planted_pair(100, 12, 4, 0.1, 7), 50);
    let (Err(error), _) = train(&mut run) else {
        panic!("no images, no pivots, yet training ran");
    };
    let error = error.to_string();
    assert!(error.contains("visual pivots need images"), "{error}");
}
