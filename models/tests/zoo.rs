//! The tests every registered model gets, run through the registry (so a new model is
//! covered by adding its entry): a usable schema, gradients reaching every parameter
//! group (in every ablation too), the same seed giving the same metrics, and a planted
//! alignment found. Real training on the CPU backend with small generated data.

use std::sync::atomic::AtomicBool;

use alignscope_models::compute::{ComputeDevice, execute};
use alignscope_models::registry::{self, ModelFamily};
use alignscope_models::run::{PreparedRun, RunResult, RunSpec, prepare_pair};
use alignscope_models::schema::Settings;
use alignscope_models::synthetic::planted_multimodal_pair;

fn spec(model: &str, settings: Settings) -> RunSpec {
    RunSpec {
        dataset: "generated".into(),
        load: Default::default(),
        model: model.into(),
        settings,
        train_ratio: 0.3,
        valid_ratio: 0.0,
        seeds: None,
        rejected: Vec::new(),
    }
}

/// `family`'s quick settings with `extra` on top, prepared on a planted pair.
fn prepared(family: &dyn ModelFamily, entities: usize, extra: &Settings) -> PreparedRun {
    let mut settings = family.info().quick.clone();
    settings.extend(extra.clone());
    let pair = planted_multimodal_pair(entities, 7);
    prepare_pair(&spec(&family.info().id, settings), pair, "generated")
        .unwrap_or_else(|e| panic!("{}: {e}", family.info().id))
}

fn train(run: &mut PreparedRun) -> RunResult {
    train_on(&ComputeDevice::Cpu, run)
}

fn train_on(device: &ComputeDevice, run: &mut PreparedRun) -> RunResult {
    let cancel = AtomicBool::new(false);
    execute(device, run, "cpu", None, false, &cancel, &mut |_| {})
        .unwrap_or_else(|e| panic!("{}: {e}", run.config.model))
}

#[test]
fn every_model_has_a_complete_schema_and_presets_that_resolve() {
    let ids: Vec<String> = registry::all()
        .iter()
        .map(|m| m.info().id.clone())
        .collect();
    assert_eq!(
        ids.join(" "),
        "loginmea tmea mpsea rrea gcn-align eva mclea meaformer"
    );
    for family in registry::all() {
        let info = family.info();
        let id = &info.id;
        assert!(
            !info.citation.is_empty() && !info.deviations.is_empty(),
            "{id}"
        );
        for field in &info.config.fields {
            assert!(field.help.ends_with('.'), "{id}.{}: help", field.key);
            // Each default passes its own field's check.
            assert_eq!(
                field.check(&field.default).as_ref(),
                Ok(&field.default),
                "{id}.{}",
                field.key
            );
        }
        registry::resolve(id, &Settings::new()).unwrap_or_else(|e| panic!("{id}: {e}"));
        registry::resolve(id, &info.quick).unwrap_or_else(|e| panic!("{id} quick: {e}"));
        for ablation in &info.ablations {
            registry::resolve(id, &ablation.settings)
                .unwrap_or_else(|e| panic!("{id} {}: {e}", ablation.label));
        }
        family
            .plan(&registry::resolve(id, &Settings::new()).unwrap())
            .unwrap();
    }
}

#[test]
fn gradients_reach_every_parameter_group_in_every_ablation() {
    for family in registry::all() {
        let info = family.info();
        let variants = std::iter::once(("paper".to_string(), Settings::new())).chain(
            info.ablations
                .iter()
                .map(|a| (a.label.clone(), a.settings.clone())),
        );
        for (label, settings) in variants {
            let run = prepared(family, 60, &settings);
            let norms = family
                .gradient_norms(&ComputeDevice::Cpu, &run)
                .expect("one step runs")
                .norms;
            assert!(!norms.is_empty(), "{} {label}: no parameters", info.id);
            let dead: Vec<&(String, f64)> = norms
                .iter()
                .filter(|(_, n)| n.is_nan() || *n <= 0.0)
                .collect();
            assert!(
                dead.is_empty(),
                "{} {label}: no gradient for {dead:?}",
                info.id
            );
        }
    }
}

#[test]
fn the_same_seed_gives_identical_metrics() {
    let short: Settings = [
        ("epochs".to_string(), 4.into()),
        ("eval_every".to_string(), 2.into()),
    ]
    .into();
    for family in registry::all() {
        let history = || {
            let mut run = prepared(family, 80, &short);
            let result = train(&mut run);
            serde_json::to_string(
                &result
                    .state
                    .history
                    .iter()
                    .map(|r| (r.loss, &r.loss_terms, r.test))
                    .collect::<Vec<_>>(),
            )
            .unwrap()
        };
        let (first, second) = (history(), history());
        assert_eq!(first, second, "{}", family.info().id);
        assert!(first.contains("hits_at_1"));
    }
}

/// The tensor-op paths that GPU backends run (sparse products by gather and scatter, the
/// reflection layer in tensor ops) train as the fused CPU kernels do: the same losses and
/// metrics, epoch by epoch, up to float summation order.
#[test]
fn the_gpu_code_path_trains_like_the_cpu_kernels() {
    let short: Settings = [
        ("epochs".to_string(), 6.into()),
        ("eval_every".to_string(), 3.into()),
    ]
    .into();
    for family in registry::all() {
        let id = &family.info().id;
        let curve = |device: &ComputeDevice| {
            let result = train_on(device, &mut prepared(family, 80, &short));
            result
                .state
                .history
                .iter()
                .map(|r| (r.loss, r.test.map(|t| t.left_to_right)))
                .collect::<Vec<_>>()
        };
        let (fused, composed) = (
            curve(&ComputeDevice::Cpu),
            curve(&ComputeDevice::CpuTensorOps),
        );
        assert_eq!(fused.len(), 6, "{id}");
        for (epoch, (a, b)) in fused.iter().zip(&composed).enumerate() {
            let epoch = epoch + 1;
            assert!(
                (a.0 - b.0).abs() <= 1e-3 * a.0.abs().max(1.0),
                "{id} epoch {epoch}: loss {} (fused) vs {} (tensor ops)",
                a.0,
                b.0
            );
            assert_eq!(a.1.is_some(), b.1.is_some(), "{id} epoch {epoch}");
            if let (Some(x), Some(y)) = (&a.1, &b.1) {
                assert!(
                    (x.hits_at_1 - y.hits_at_1).abs() <= 0.02 && (x.mrr - y.mrr).abs() <= 0.02,
                    "{id} epoch {epoch}: H@1 {:.3} / MRR {:.3} (fused) vs {:.3} / {:.3} (tensor ops)",
                    x.hits_at_1,
                    x.mrr,
                    y.hits_at_1,
                    y.mrr
                );
            }
        }
    }
}

/// The right graph is a relabelled copy of the left with 10% of the triples dropped on
/// each side; the graphs' relations are kept apart, so a model must find the alignment
/// through the graph and the seeds (and, for those that use them, the noisy attribute
/// and image copies).
#[test]
fn a_planted_alignment_is_found() {
    for family in registry::all() {
        let mut run = prepared(family, 300, &Settings::new());
        let result = train(&mut run);
        let m = result.final_test.expect("evaluated").metrics.left_to_right;
        let curve: Vec<(usize, f64)> = result
            .state
            .history
            .iter()
            .filter_map(|r| Some((r.epoch, r.test?.left_to_right.hits_at_1)))
            .collect();
        assert!(
            m.hits_at_1 >= 0.9,
            "{}: H@1 {:.3} (MRR {:.3}); curve {curve:?}",
            family.info().id,
            m.hits_at_1,
            m.mrr
        );
    }
}

/// `exports/candidates.tsv` of a run folder: per row the score and the named columns.
fn exported_candidates(dir: &std::path::Path) -> (Vec<String>, Vec<(f64, Vec<f64>)>) {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("exports/manifest.json")).unwrap()).unwrap();
    let columns: Vec<String> = serde_json::from_value(manifest["score_columns"].clone()).unwrap();
    let text = std::fs::read_to_string(dir.join("exports/candidates.tsv")).unwrap();
    let rows = text
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            let number = |s: &str| s.parse::<f64>().unwrap();
            (number(f[4]), f[6..].iter().map(|s| number(s)).collect())
        })
        .collect();
    (columns, rows)
}

/// Every exported candidate's score is exactly the sum of its parts (each origin's share
/// of the cosine), plus CSLS's hubness correction when the run ranks by CSLS; occlusion
/// columns (for models that mix modalities) are not parts.
#[test]
fn explanation_parts_sum_to_the_score() {
    for family in registry::all() {
        for similarity in ["csls", "cosine"] {
            let dir = tempfile::tempdir().unwrap();
            let extra: Settings = [
                ("epochs".to_string(), 6.into()),
                ("eval_every".to_string(), 6.into()),
                ("similarity".to_string(), similarity.into()),
            ]
            .into();
            let mut run = prepared(family, 120, &extra);
            let cancel = AtomicBool::new(false);
            execute(
                &ComputeDevice::Cpu,
                &mut run,
                "cpu",
                Some(dir.path()),
                false,
                &cancel,
                &mut |_| {},
            )
            .unwrap();
            let id = &family.info().id;
            let (columns, rows) = exported_candidates(dir.path());
            let counted: Vec<usize> = columns
                .iter()
                .enumerate()
                .filter(|(_, c)| c.starts_with("part:") || *c == "hub")
                .map(|(i, _)| i)
                .collect();
            assert!(
                columns.iter().filter(|c| c.starts_with("part:")).count() >= 2,
                "{id}: {columns:?}"
            );
            assert_eq!(
                columns.iter().any(|c| c == "hub"),
                similarity == "csls",
                "{id}: {columns:?}"
            );
            assert!(rows.len() >= 100, "{id}: {} rows", rows.len());
            for (score, values) in &rows {
                let sum: f64 = counted.iter().map(|&i| values[i]).sum();
                assert!(
                    (sum - score).abs() < 1e-5,
                    "{id} {similarity}: parts sum to {sum}, score {score} ({columns:?} = {values:?})"
                );
            }
        }
    }
}
