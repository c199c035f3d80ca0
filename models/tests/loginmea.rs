//! LoginMEA, the trainer and the evaluator on the CPU backend with small real data:
//! generated pairs with a planted alignment, trained for real.

use std::sync::atomic::{AtomicBool, Ordering};

use alignscope_models::backend::reflection_layer_composed;
use alignscope_models::eval::AlignmentMetrics;
use alignscope_models::graph::AlignmentGraph;
use alignscope_models::loginmea::{FusionKind, GraphLayerKind, LoginMeaConfig, reflect};
use alignscope_models::model::{AlignmentModel, ModelInputs};
use alignscope_models::ops::l2_normalize;
use alignscope_models::rng::SeededRng;
use alignscope_models::run::{PreparedRun, RunSpec, execute, prepare_pair};
use alignscope_models::synthetic::planted_pair;
use alignscope_models::train::{CheckpointStore, TrainConfig, TrainEvent, TrainStatus};
use alignscope_models::{GraphBackend, loss::contrastive_loss};
use burn::backend::ndarray::NdArrayDevice;
use burn::backend::{Autodiff, NdArray};
use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Tensor, TensorData};

type Cpu = NdArray;
type Train = Autodiff<NdArray>;
const DEVICE: NdArrayDevice = NdArrayDevice::Cpu;

fn spec(config: LoginMeaConfig, train: TrainConfig) -> RunSpec {
    RunSpec {
        dataset: "generated".into(),
        load: Default::default(),
        model: config,
        train,
        train_ratio: 0.3,
        valid_ratio: 0.0,
        seeds: None,
        rejected: Vec::new(),
    }
}

fn small_config() -> LoginMeaConfig {
    LoginMeaConfig {
        hidden: 32,
        modality_dim: 32,
        fusion_rank: 4,
        bag_top_k: 50,
        ..Default::default()
    }
}

fn prepared(entities: usize, config: LoginMeaConfig, train: TrainConfig) -> PreparedRun {
    let pair = planted_pair(entities, 12, 4, 0.1, 7);
    prepare_pair(&spec(config, train), pair, "generated").expect("a generated pair prepares")
}

/// A planted pair whose entities also have attribute keys and image vectors (noisy
/// copies across the two graphs), so every modality carries information.
fn multimodal_pair(entities: usize) -> alignscope_datasets::MmkgPair {
    use alignscope_datasets::model::{AttrTriple, ImageFeatures};
    let mut pair = planted_pair(entities, 12, 4, 0.1, 7);
    let mut rng = SeededRng::new(21);
    let keys: Vec<u32> = (0..8)
        .map(|k| pair.attribute_keys.intern(&format!("attr{k}")))
        .collect();
    let dim = 6;
    let base: Vec<Vec<f32>> = (0..entities).map(|_| rng.normal_vec(dim, 1.0)).collect();
    let attrs: Vec<Vec<u32>> = (0..entities)
        .map(|_| (0..2).map(|_| keys[rng.below(keys.len())]).collect())
        .collect();
    let gold = pair.gold.clone();
    for (side, right) in [(0, false), (1, true)] {
        let _ = side;
        let mut data = vec![0.0f32; entities * dim];
        let mut attributes = Vec::new();
        for g in &gold {
            let (e, src) = if right {
                (g.right as usize, g.left as usize)
            } else {
                (g.left as usize, g.left as usize)
            };
            for (k, v) in base[src].iter().enumerate() {
                data[e * dim + k] = v + 0.1 * rng.normal() as f32;
            }
            attributes.extend(attrs[src].iter().map(|&key| AttrTriple {
                entity: e as u32,
                key,
                value: None,
            }));
        }
        let graph = if right {
            &mut pair.right
        } else {
            &mut pair.left
        };
        graph.image_features = Some(ImageFeatures {
            dim,
            rows: (0..entities as u32).map(Some).collect(),
            data,
        });
        graph.attributes = attributes;
    }
    pair
}

fn values(t: Tensor<Cpu, 2>) -> Vec<f32> {
    t.into_data().into_vec::<f32>().unwrap()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn random(rng: &mut SeededRng, shape: [usize; 2]) -> Tensor<Train, 2> {
    Tensor::from_data(
        TensorData::new(rng.normal_vec(shape[0] * shape[1], 1.0), shape),
        &DEVICE,
    )
    .require_grad()
}

#[test]
fn fused_reflection_kernel_matches_tensor_ops_forward_and_gradients() {
    let pair = planted_pair(40, 5, 3, 0.0, 3);
    let graph = AlignmentGraph::from_pair(&pair);
    let tensors = graph.to_device::<Train>(&DEVICE);
    let d = 8;
    let mut rng = SeededRng::new(11);
    let h = random(&mut rng, [graph.entity_count, d]);
    let rel = random(&mut rng, [2 * graph.relation_count, d]);
    let a = random(&mut rng, [d, 1]);
    let weights = Tensor::<Train, 2>::from_data(
        TensorData::new(
            rng.normal_vec(graph.entity_count * d, 1.0),
            [graph.entity_count, d],
        ),
        &DEVICE,
    );

    let fused = Train::reflection_layer(h.clone(), rel.clone(), a.clone(), &tensors);
    let composed = reflection_layer_composed(h.clone(), rel.clone(), a.clone(), &tensors);
    assert!(
        max_abs_diff(
            &values(fused.clone().inner()),
            &values(composed.clone().inner())
        ) < 1e-4
    );

    let g_fused = (fused * weights.clone()).sum().backward();
    let g_composed = (composed * weights).sum().backward();
    for (name, t) in [("h", &h), ("relations", &rel), ("attention", &a)] {
        let x = values(t.grad(&g_fused).expect("fused gradient"));
        let y = values(t.grad(&g_composed).expect("composed gradient"));
        let diff = max_abs_diff(&x, &y);
        assert!(diff < 1e-3, "gradient of {name} differs by {diff}");
        assert!(
            y.iter().any(|v| v.abs() > 1e-6),
            "gradient of {name} is zero"
        );
    }
}

#[test]
fn reflection_preserves_norms() {
    let mut rng = SeededRng::new(5);
    let x = Tensor::<Cpu, 2>::from_data(
        TensorData::new(rng.normal_vec(64 * 16, 3.0), [64, 16]),
        &DEVICE,
    );
    let u = l2_normalize(Tensor::<Cpu, 2>::from_data(
        TensorData::new(rng.normal_vec(64 * 16, 1.0), [64, 16]),
        &DEVICE,
    ));
    let before = values(x.clone().powi_scalar(2).sum_dim(1).sqrt());
    let reflected = reflect(x.clone(), u.clone());
    let after = values(reflected.clone().powi_scalar(2).sum_dim(1).sqrt());
    let relative: Vec<f32> = before
        .iter()
        .zip(&after)
        .map(|(b, a)| (b - a).abs() / b)
        .collect();
    assert!(
        relative.iter().all(|r| *r < 1e-5),
        "norms changed: {relative:?}"
    );
    // Orthogonal and an involution: reflecting twice gives the input back.
    let twice = values(reflect(reflected, u));
    assert!(max_abs_diff(&twice, &values(x)) < 1e-4);
}

struct GradientCheck<'a> {
    grads: &'a <Train as burn::tensor::backend::AutodiffBackend>::Gradients,
    missing: Vec<String>,
    seen: usize,
}

impl ModuleVisitor<Train> for GradientCheck<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<Train, D>>) {
        self.seen += 1;
        let ok = param
            .val()
            .grad(self.grads)
            .is_some_and(|g| g.abs().sum().into_scalar() > 0.0);
        if !ok {
            self.missing.push(format!("{:?}", param.val().dims()));
        }
    }
}

fn check_gradients(config: LoginMeaConfig) {
    let run = prepare_pair(
        &spec(config.clone(), TrainConfig::default()),
        multimodal_pair(60),
        "generated",
    )
    .unwrap();
    let model = config.init::<Train>(run.shape, 1, &DEVICE);
    let inputs = ModelInputs::<Train>::upload(&run.graph, &run.inputs, &DEVICE);
    let unit = l2_normalize(model.embed(&inputs));
    let seeds = &run.task.train;
    let left = alignscope_models::graph::int_tensor::<Train>(seeds.iter().map(|p| p.0), &DEVICE);
    let right = alignscope_models::graph::int_tensor::<Train>(seeds.iter().map(|p| p.1), &DEVICE);
    let grads = contrastive_loss(&unit, left, right, 0.1, false).backward();
    let mut check = GradientCheck {
        grads: &grads,
        missing: Vec::new(),
        seen: 0,
    };
    model.visit(&mut check);
    assert!(check.seen >= 8, "only {} parameter groups", check.seen);
    assert!(
        check.missing.is_empty(),
        "{config:?}: no gradient for parameters of shape {:?}",
        check.missing
    );
}

#[test]
fn gradients_reach_every_parameter_group() {
    check_gradients(small_config());
}

#[test]
fn gradients_reach_every_parameter_group_in_ablations() {
    check_gradients(LoginMeaConfig {
        fusion: FusionKind::Concat,
        adaptive_weights: false,
        ..small_config()
    });
    check_gradients(LoginMeaConfig {
        graph_layer: GraphLayerKind::Gat,
        ..small_config()
    });
}

fn quiet_train(
    run: &mut PreparedRun,
    out: Option<&std::path::Path>,
    resume: bool,
    cancel_after: Option<usize>,
) -> alignscope_models::run::RunResult {
    let cancel = AtomicBool::new(false);
    let mut on_event = |e: &TrainEvent| {
        if let (TrainEvent::Epoch(r), Some(limit)) = (e, cancel_after)
            && r.epoch >= limit
        {
            cancel.store(true, Ordering::Relaxed);
        }
    };
    execute::<Train>(run, &DEVICE, "cpu", out, resume, &cancel, &mut on_event)
        .expect("training runs")
}

fn short_training(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        eval_every: 2,
        learning_rate: 5e-3,
        optimizer_restart: None,
        ..TrainConfig::default()
    }
}

#[test]
fn same_seed_gives_identical_metrics() {
    let history = || {
        let mut run = prepared(80, small_config(), short_training(4));
        let result = quiet_train(&mut run, None, false, None);
        serde_json::to_string(
            &result
                .state
                .history
                .iter()
                .map(|r| (r.loss, r.test))
                .collect::<Vec<_>>(),
        )
        .unwrap()
    };
    let (first, second) = (history(), history());
    assert_eq!(first, second);
    assert!(first.contains("hits_at_1"));
}

/// The right graph's relations are kept apart from the left's (`keep_relations_apart`, as
/// the authors' code keeps them), so the bag of relations cannot match entities across the
/// graphs: the planted alignment is found through the graph layers and the seeds.
#[test]
fn planted_alignment_is_found() {
    let mut run = prepared(300, small_config(), short_training(60));
    let result = quiet_train(&mut run, None, false, None);
    let m = result.final_test.expect("evaluated").metrics.left_to_right;
    assert!(
        m.hits_at_1 >= 0.9,
        "H@1 {:.3} after 60 epochs (MRR {:.3})",
        m.hits_at_1,
        m.mrr
    );
}

#[test]
fn a_cancelled_run_resumes_to_the_same_result_as_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut run = prepared(80, small_config(), short_training(6));
    let straight = quiet_train(&mut run, None, false, None);

    let mut first = prepared(80, small_config(), short_training(6));
    let stopped = quiet_train(&mut first, Some(dir.path()), false, Some(2));
    assert_eq!(stopped.status, TrainStatus::Cancelled);
    assert_eq!(stopped.state.epoch, 2);
    let latest = CheckpointStore::new(dir.path())
        .latest()
        .unwrap()
        .expect("a checkpoint");
    assert!(latest.join("model.bin").exists() && latest.join("state.json").exists());

    let mut again = prepared(80, small_config(), short_training(6));
    let resumed = quiet_train(&mut again, Some(dir.path()), true, None);
    assert_eq!(resumed.status, TrainStatus::Completed);
    assert_eq!(resumed.state.epoch, 6);
    let strip = |h: &[alignscope_models::train::EpochRecord]| {
        h.iter()
            .map(|r| (r.epoch, r.loss, r.test))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        strip(&resumed.state.history),
        strip(&straight.state.history)
    );
    assert!(dir.path().join("exports/candidates.tsv").exists());
    assert!(dir.path().join("exports/modality_weights.npy").exists());
}

/// Trains 6 epochs straight, and 6 epochs stopped after 4 (checkpoints at 2 and 4) into
/// `dir`; returns the straight run's history.
fn straight_and_stopped(dir: &std::path::Path) -> Vec<(usize, f64, Option<AlignmentMetrics>)> {
    let mut run = prepared(80, small_config(), short_training(6));
    let straight = quiet_train(&mut run, None, false, None);
    let mut first = prepared(80, small_config(), short_training(6));
    let stopped = quiet_train(&mut first, Some(dir), false, Some(4));
    assert_eq!(stopped.state.epoch, 4);
    strip_history(&straight.state.history)
}

fn strip_history(
    h: &[alignscope_models::train::EpochRecord],
) -> Vec<(usize, f64, Option<AlignmentMetrics>)> {
    h.iter().map(|r| (r.epoch, r.loss, r.test)).collect()
}

/// Resumes the 6-epoch run of [`straight_and_stopped`] from the checkpoints in `dir`.
fn resume_six_epochs(
    dir: &std::path::Path,
    on_event: &mut dyn FnMut(&TrainEvent),
) -> Result<alignscope_models::run::RunResult, alignscope_models::run::RunError> {
    let mut again = prepared(80, small_config(), short_training(6));
    let cancel = AtomicBool::new(false);
    execute::<Train>(
        &mut again,
        &DEVICE,
        "cpu",
        Some(dir),
        true,
        &cancel,
        on_event,
    )
}

#[test]
fn a_damaged_newest_checkpoint_resumes_from_the_one_before() {
    let dir = tempfile::tempdir().unwrap();
    let straight = straight_and_stopped(dir.path());
    let checkpoints = dir.path().join("checkpoints");
    // Truncate the newest model file to half its length.
    let newest = checkpoints.join("epoch-000004/model.bin");
    let bytes = std::fs::read(&newest).unwrap();
    std::fs::write(&newest, &bytes[..bytes.len() / 2]).unwrap();

    let mut events = Vec::new();
    let resumed = resume_six_epochs(dir.path(), &mut |e: &TrainEvent| match e {
        TrainEvent::Started { first_epoch, .. } => events.push(format!("start {first_epoch}")),
        TrainEvent::CheckpointSkipped { path, reason } => {
            events.push(format!("skip {} {reason}", path.display()))
        }
        _ => {}
    })
    .expect("resumes from the older checkpoint");
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(
        events[0].starts_with("skip") && events[0].contains("epoch-000004"),
        "{events:?}"
    );
    assert!(events[0].contains("damaged"), "{events:?}");
    assert_eq!(events[1], "start 3", "resumed after epoch 2");
    assert_eq!(resumed.status, TrainStatus::Completed);
    assert_eq!(strip_history(&resumed.state.history), straight);
}

#[test]
fn a_resume_with_every_checkpoint_damaged_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    straight_and_stopped(dir.path());
    let checkpoints = dir.path().join("checkpoints");
    // Epoch 4: one flipped byte in the optimiser state (same length); epoch 2: a model
    // file cut short.
    let optimizer = checkpoints.join("epoch-000004/optimizer.bin");
    let mut bytes = std::fs::read(&optimizer).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&optimizer, &bytes).unwrap();
    let model = checkpoints.join("epoch-000002/model.bin");
    std::fs::write(&model, b"").unwrap();

    let error = match resume_six_epochs(dir.path(), &mut |_| {}) {
        Ok(_) => panic!("a resume with every checkpoint damaged ran"),
        Err(e) => e.to_string(),
    };
    assert!(error.contains("no usable checkpoint"), "{error}");
    assert!(error.contains("optimizer.bin"), "{error}");
    assert!(error.contains("epoch-000002"), "{error}");
    assert!(error.contains("start the run again"), "{error}");
}

/// 14 epochs with iterative learning checking at 12 and 14 (window 4: additions at 14).
fn iterative_training() -> TrainConfig {
    TrainConfig {
        iterative: Some(alignscope_models::train::IterativeConfig {
            start_epoch: 10,
            check_every: 2,
            window: 4,
        }),
        ..short_training(14)
    }
}

#[test]
fn iterative_learning_adds_mostly_correct_pseudo_seeds() {
    let train = iterative_training();
    let mut run = prepared(200, small_config(), train);
    let result = quiet_train(&mut run, None, false, None);
    let reports: Vec<_> = result
        .state
        .history
        .iter()
        .filter_map(|r| r.pseudo_seeds)
        .collect();
    assert_eq!(reports.len(), 2, "checks at 12 and 14");
    let added: usize = reports.iter().map(|r| r.added).sum();
    let correct: usize = reports.iter().map(|r| r.added_correct).sum();
    assert!(added > 0, "no pseudo seeds added: {reports:?}");
    assert!(
        correct * 10 >= added * 8,
        "{correct} of {added} pseudo seeds correct"
    );
    assert_eq!(reports.last().unwrap().seeds, run.task.train.len() + added);
}

#[test]
fn rejected_pairs_never_become_pseudo_seeds() {
    let train = iterative_training();
    let mut first = prepared(200, small_config(), train.clone());
    let taken = quiet_train(&mut first, None, false, None)
        .state
        .pseudo_seeds;
    assert!(!taken.is_empty());
    // The same run again (same seed, same data) with half of those pairs rejected.
    let rejected: Vec<(u32, u32)> = taken.iter().step_by(2).copied().collect();
    let mut second = prepared(200, small_config(), train);
    second.task.rejected = rejected.clone();
    let again = quiet_train(&mut second, None, false, None)
        .state
        .pseudo_seeds;
    assert!(!again.is_empty(), "the other pairs are still found");
    for pair in &rejected {
        assert!(
            !again.contains(pair),
            "rejected {pair:?} became a pseudo seed"
        );
    }
}

#[test]
fn the_authors_schedule_runs_whole_chunks_restart_and_iterative_window() {
    // LoginMEA's own schedule (optimiser restart after 50 at 1e-4, iterative checks at
    // 55, 60, ..., 100 with additions at 100), on a planted pair small enough for CI and
    // chunks small enough that every epoch is several chunks.
    let train = TrainConfig {
        epochs: 105,
        chunk_size: 40,
        eval_every: 15,
        iterative: Some(alignscope_models::train::IterativeConfig::default()),
        ..TrainConfig::default()
    };
    let mut run = prepared(300, small_config(), train);
    let seeds = run.task.train.len();
    assert_eq!(seeds, 90);
    let cancel = AtomicBool::new(false);
    let mut chunks = std::collections::BTreeMap::new();
    let mut on_event = |e: &TrainEvent| {
        if let TrainEvent::Chunk {
            epoch, chunks: n, ..
        } = e
        {
            chunks.insert(*epoch, *n);
        }
    };
    let result = execute::<Train>(
        &mut run,
        &DEVICE,
        "cpu",
        None,
        false,
        &cancel,
        &mut on_event,
    )
    .expect("training runs");
    let history = &result.state.history;
    assert_eq!(history.len(), 105);
    // Seed chunks: 90 seeds in chunks of 40 until the pseudo seeds of epoch 100 join.
    assert!((1..=100).all(|e| chunks[&e] == 3), "{chunks:?}");
    // The optimiser: AdamW at 5e-4 until epoch 50, then a fresh one at 1e-4 every epoch.
    for r in history {
        let restarted = r.epoch > 50;
        assert_eq!(r.fresh_optimizer, restarted, "epoch {}", r.epoch);
        let lr = if restarted { 1e-4 } else { 5e-4 };
        assert_eq!(r.learning_rate, lr, "epoch {}", r.epoch);
    }
    // Iterative learning: checks every 5 epochs from 55; the first window (55..100) ends at
    // 100, when its survivors are added; 105 opens the next window.
    let checks: Vec<usize> = history
        .iter()
        .filter(|r| r.pseudo_seeds.is_some())
        .map(|r| r.epoch)
        .collect();
    assert_eq!(checks, (55..=105).step_by(5).collect::<Vec<_>>());
    let added: Vec<(usize, usize, usize)> = history
        .iter()
        .filter_map(|r| r.pseudo_seeds.map(|p| (r.epoch, p.added, p.added_correct)))
        .filter(|&(_, added, _)| added > 0)
        .collect();
    assert_eq!(added.len(), 1, "{added:?}");
    let (epoch, count, correct) = added[0];
    assert_eq!(epoch, 100);
    assert!(correct * 10 >= count * 8, "{correct} of {count} correct");
    assert_eq!(result.state.pseudo_seeds.len(), count);
    assert_eq!(chunks[&101], (seeds + count).div_ceil(40));
    // The paper's small learning rates on a small pair: far from converged, far above
    // chance (1 in 210); measured 0.70.
    let m = result.final_test.expect("evaluated").metrics.left_to_right;
    assert!(m.hits_at_1 >= 0.5, "H@1 {:.3}", m.hits_at_1);
}

#[test]
fn a_run_keeps_the_two_graphs_relations_apart() {
    use alignscope_models::inputs::ModalityInput;
    let run = prepared(80, small_config(), short_training(1));
    let left: std::collections::BTreeSet<u32> =
        run.pair.left.triples.iter().map(|t| t.relation).collect();
    assert!(
        run.pair
            .right
            .triples
            .iter()
            .all(|t| !left.contains(&t.relation))
    );
    assert_eq!(
        run.graph.relation_count, 24,
        "12 names, apart in each graph"
    );
    // A left entity's bag of relations and its true match's share no column.
    let ModalityInput::PerEntity { width, data } = &run.inputs.relation else {
        panic!("per-entity relation counts expected");
    };
    let row = |i: u32| &data[i as usize * width..(i as usize + 1) * width];
    for &(l, r) in &run.task.gold {
        let shared: f32 = row(l).iter().zip(row(r)).map(|(a, b)| a * b).sum();
        assert_eq!(shared, 0.0, "pair ({l}, {r})");
    }
}
