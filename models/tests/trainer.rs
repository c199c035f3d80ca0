//! The trainer and the evaluator, through LoginMEA on the CPU backend with small real
//! data (generated pairs with a planted alignment, trained for real): determinism,
//! resume, damaged checkpoints, iterative learning, rejected pairs, the authors'
//! schedule, and the graphs' relations kept apart.

use std::sync::atomic::{AtomicBool, Ordering};

use alignscope_models::compute::{ComputeDevice, execute};
use alignscope_models::eval::AlignmentMetrics;
use alignscope_models::run::{PreparedRun, RunSpec, prepare_pair};
use alignscope_models::schema::Settings;
use alignscope_models::synthetic::planted_pair;
use alignscope_models::train::{CheckpointStore, TrainEvent, TrainStatus};
use serde_json::{Value, json};

/// LoginMEA small enough for CI, plus `extra`.
fn settings(extra: &[(&str, Value)]) -> Settings {
    let mut s: Settings = [
        ("hidden", json!(32)),
        ("modality_dim", json!(32)),
        ("fusion_rank", json!(4)),
        ("bag_top_k", json!(50)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    s.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    s
}

fn spec(settings: Settings) -> RunSpec {
    RunSpec {
        dataset: "generated".into(),
        load: Default::default(),
        model: alignscope_models::loginmea::ID.into(),
        settings,
        train_ratio: 0.3,
        valid_ratio: 0.0,
        seeds: None,
        rejected: Vec::new(),
    }
}

/// A short schedule: `epochs`, evaluated every 2, a larger learning rate, no restart.
fn short(epochs: usize) -> Vec<(&'static str, Value)> {
    vec![
        ("epochs", json!(epochs)),
        ("eval_every", json!(2)),
        ("learning_rate", json!(5e-3)),
        ("restart_after", Value::Null),
    ]
}

fn prepared(entities: usize, extra: &[(&str, Value)]) -> PreparedRun {
    let pair = planted_pair(entities, 12, 4, 0.1, 7);
    prepare_pair(&spec(settings(extra)), pair, "generated").expect("a generated pair prepares")
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
    execute(
        &ComputeDevice::Cpu,
        run,
        "cpu",
        out,
        resume,
        &cancel,
        &mut on_event,
    )
    .expect("training runs")
}

#[test]
fn a_cancelled_run_resumes_to_the_same_result_as_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut run = prepared(80, &short(6));
    let straight = quiet_train(&mut run, None, false, None);

    let mut first = prepared(80, &short(6));
    let stopped = quiet_train(&mut first, Some(dir.path()), false, Some(2));
    assert_eq!(stopped.status, TrainStatus::Cancelled);
    assert_eq!(stopped.state.epoch, 2);
    let latest = CheckpointStore::new(dir.path())
        .latest()
        .unwrap()
        .expect("a checkpoint");
    assert!(latest.join("model.bin").exists() && latest.join("state.json").exists());

    let mut again = prepared(80, &short(6));
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
    let mut run = prepared(80, &short(6));
    let straight = quiet_train(&mut run, None, false, None);
    let mut first = prepared(80, &short(6));
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
    let mut again = prepared(80, &short(6));
    let cancel = AtomicBool::new(false);
    execute(
        &ComputeDevice::Cpu,
        &mut again,
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
fn iterative_training() -> Vec<(&'static str, Value)> {
    let mut s = short(14);
    s.extend([
        ("iterative", json!(true)),
        ("iterative_start", json!(10)),
        ("iterative_every", json!(2)),
        ("iterative_window", json!(4)),
    ]);
    s
}

#[test]
fn iterative_learning_adds_mostly_correct_pseudo_seeds() {
    let train = iterative_training();
    let mut run = prepared(200, &train);
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
    let mut first = prepared(200, &train);
    let taken = quiet_train(&mut first, None, false, None)
        .state
        .pseudo_seeds;
    assert!(!taken.is_empty());
    // The same run again (same seed, same data) with half of those pairs rejected.
    let rejected: Vec<(u32, u32)> = taken.iter().step_by(2).copied().collect();
    let mut second = prepared(200, &train);
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
    let train = [
        ("epochs", json!(105)),
        ("chunk_size", json!(40)),
        ("eval_every", json!(15)),
        ("iterative", json!(true)),
    ];
    let mut run = prepared(300, &train);
    let seeds = run.task.train.len();
    assert_eq!(seeds, 90);
    let cancel = AtomicBool::new(false);
    let mut chunks = std::collections::BTreeMap::new();
    let mut on_event = |e: &TrainEvent| {
        if let TrainEvent::Batch {
            epoch, batches: n, ..
        } = e
        {
            chunks.insert(*epoch, *n);
        }
    };
    let result = execute(
        &ComputeDevice::Cpu,
        &mut run,
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
    use alignscope_models::inputs::{ModalityInput, ModalityKind};
    let run = prepared(80, &short(1));
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
    let relation = run.inputs.get(ModalityKind::Relation).unwrap();
    let ModalityInput::PerEntity { width, data } = &relation.matrix else {
        panic!("per-entity relation counts expected");
    };
    let row = |i: u32| &data[i as usize * width..(i as usize + 1) * width];
    for &(l, r) in &run.task.gold {
        let shared: f32 = row(l).iter().zip(row(r)).map(|(a, b)| a * b).sum();
        assert_eq!(shared, 0.0, "pair ({l}, {r})");
    }
}

/// A model with two parameter groups: an entity table (the main optimiser's) and a
/// mixing matrix (the second optimiser's, stepped at even epochs only).
mod two_groups {
    use burn::module::{Module, Param, ParamId};
    use burn::tensor::backend::{AutodiffBackend, Backend};
    use burn::tensor::{Int, Tensor, TensorData};

    use alignscope_models::GraphBackend;
    use alignscope_models::inputs::ModalityKind;
    use alignscope_models::loss::contrastive_loss;
    use alignscope_models::model::{
        AlignmentModel, Explanation, LossTerm, ModelInputs, ScoreBlock, StepContext, TrainableModel,
    };
    use alignscope_models::ops::l2_normalize;

    #[derive(Module, Debug)]
    pub struct TwoGroups<B: Backend> {
        pub table: Param<Tensor<B, 2>>,
        pub mix: Param<Tensor<B, 2>>,
    }

    impl<B: Backend> TwoGroups<B> {
        pub fn new(entities: usize, dim: usize, device: &B::Device) -> Self {
            let values = |n: usize, salt: usize| -> Vec<f32> {
                (0..n)
                    .map(|i| (((i * 7919 + salt) % 1000) as f32 / 1000.0) - 0.5)
                    .collect()
            };
            let param = |n: usize, shape: [usize; 2], salt| {
                Param::from_tensor(Tensor::from_data(
                    TensorData::new(values(n, salt), shape),
                    device,
                ))
            };
            Self {
                table: param(entities * dim, [entities, dim], 1),
                mix: param(dim * dim, [dim, dim], 2),
            }
        }
    }

    impl<B: Backend> AlignmentModel<B> for TwoGroups<B> {
        fn embed(&self, _: &ModelInputs<B>) -> Tensor<B, 2> {
            self.table.val().matmul(self.mix.val())
        }

        fn explain(&self, inputs: &ModelInputs<B>) -> Explanation<B> {
            let joint = self.embed(inputs);
            let width = joint.dims()[1];
            Explanation {
                joint: joint.clone(),
                blocks: vec![ScoreBlock::new(
                    "table",
                    Some(ModalityKind::Structure),
                    0,
                    width,
                )],
                occluded: Vec::new(),
                modalities: vec![(ModalityKind::Structure, joint)],
                weights: None,
                weight_modalities: Vec::new(),
            }
        }
    }

    impl<B: AutodiffBackend + GraphBackend> TrainableModel<B> for TwoGroups<B> {
        type Forward = Tensor<B, 2>;

        fn forward_train(&self, inputs: &ModelInputs<B>, _: &mut StepContext<'_>) -> Tensor<B, 2> {
            l2_normalize(self.embed(inputs))
        }

        fn losses(
            &self,
            unit: &Tensor<B, 2>,
            pairs: &[(u32, u32)],
            _: &mut StepContext<'_>,
        ) -> Vec<LossTerm<B>> {
            let device = unit.device();
            let index = |side: fn(&(u32, u32)) -> u32| {
                let v: Vec<i64> = pairs.iter().map(|p| i64::from(side(p))).collect();
                Tensor::<B, 1, Int>::from_data(TensorData::new(v, [pairs.len()]), &device)
            };
            vec![LossTerm {
                name: "infonce",
                value: contrastive_loss(unit, index(|p| p.0), index(|p| p.1), 0.1, true),
            }]
        }

        fn secondary_parameters(&self) -> Vec<ParamId> {
            vec![self.mix.id]
        }

        fn steps_secondary(&self, epoch: usize) -> bool {
            epoch.is_multiple_of(2)
        }
    }
}

/// The second optimiser steps only its group, only when the model says, with its own
/// learning rate and state; its state is checkpointed, so a resumed run ends where an
/// uninterrupted one does.
#[test]
fn a_second_optimizer_steps_the_models_second_group_on_its_schedule() {
    use alignscope_models::model::ModelInputs;
    use alignscope_models::train::{
        OptimizerKind, OptimizerSpec, TrainIo, TrainOutcome, TrainPlan, train,
    };
    use burn::backend::ndarray::NdArrayDevice;
    use burn::backend::{Autodiff, NdArray};
    use two_groups::TwoGroups;
    type B = Autodiff<NdArray>;

    let run = prepared(60, &short(4));
    let device = NdArrayDevice::Cpu;
    let inputs = ModelInputs::<B>::upload(&run.graph, &run.inputs, &device);
    let eval_inputs = ModelInputs::<NdArray>::upload(&run.graph, &run.inputs, &device);
    let adam = |learning_rate| OptimizerSpec {
        kind: OptimizerKind::AdamW {
            weight_decay: 0.0,
            epsilon: 1e-8,
        },
        learning_rate,
        restart: None,
        warmup_cosine: None,
    };
    let plan = |epochs, secondary: OptimizerSpec| TrainPlan {
        epochs,
        optimizer: adam(0.01),
        secondary_optimizer: Some(secondary),
        ..run.config.plan().expect("the plan resolves")
    };
    let fit = |plan: &TrainPlan, out: Option<&std::path::Path>, resume| -> TrainOutcome<_> {
        let store = out.map(alignscope_models::train::CheckpointStore::new);
        train(
            TwoGroups::<B>::new(run.graph.entity_count, 8, &device),
            &inputs,
            &eval_inputs,
            &run.task,
            plan,
            resume,
            TrainIo {
                checkpoints: store.as_ref(),
                cancel: &std::sync::atomic::AtomicBool::new(false),
                progress: &mut |_| {},
            },
        )
        .expect("training runs")
    };
    let values = |t: Tensor<NdArray, 2>| t.into_data().into_vec::<f32>().unwrap();
    use burn::module::AutodiffModule;
    use burn::tensor::Tensor;
    let initial = TwoGroups::<NdArray>::new(run.graph.entity_count, 8, &device);
    let (mix0, table0) = (values(initial.mix.val()), values(initial.table.val()));

    // Epoch 1 is odd: the second group is not stepped, and the main optimiser leaves it.
    let one = fit(&plan(1, adam(0.05)), None, false).model.valid();
    assert_eq!(values(one.mix.val()), mix0);
    assert_ne!(values(one.table.val()), table0);
    // A zero learning rate for the second group: it stays; the table trains.
    let frozen = fit(&plan(4, adam(0.0)), None, false).model.valid();
    assert_eq!(values(frozen.mix.val()), mix0);
    // Its own learning rate at epochs 2 and 4: it moves.
    let straight = fit(&plan(4, adam(0.05)), None, false);
    let moved = values(straight.model.valid().mix.val());
    assert_ne!(moved, mix0);

    // Two epochs, then a resume to four: the same numbers as four straight.
    let dir = tempfile::tempdir().unwrap();
    fit(&plan(2, adam(0.05)), Some(dir.path()), false);
    let resumed = fit(&plan(4, adam(0.05)), Some(dir.path()), true);
    assert_eq!(values(resumed.model.valid().mix.val()), moved);
    let losses =
        |o: &TrainOutcome<TwoGroups<B>>| o.state.history.iter().map(|r| r.loss).collect::<Vec<_>>();
    assert_eq!(losses(&resumed), losses(&straight));
}
