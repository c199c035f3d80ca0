//! One-to-one decoders on hand-built matrices (where the best assignment can be worked
//! out by hand or by trying every permutation), and on a recorded run of a planted pair.

use std::sync::atomic::AtomicBool;

use alignscope_datasets::write_alignscope;
use alignscope_models::compute::{ComputeDevice, execute};
use alignscope_models::eval::decode::{
    Decoder, SINKHORN_DEFAULT, greedy, hungarian, quality, rank, scored, sinkhorn,
};
use alignscope_models::eval::{DenseSimilarity, Similarity};
use alignscope_models::rng::SeededRng;
use alignscope_models::run::decode::decode_run;
use alignscope_models::run::{RunSpec, SavedModel, prepare};
use alignscope_models::synthetic::planted_pair;
use alignscope_models::{registry, rrea};
use serde_json::json;

fn total(scores: &DenseSimilarity, picks: &[Option<(usize, f32)>]) -> f64 {
    picks
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.map(|(j, _)| scores.row(i)[j] as f64))
        .sum()
}

fn columns(picks: &[Option<(usize, f32)>]) -> Vec<Option<usize>> {
    picks.iter().map(|p| p.map(|(j, _)| j)).collect()
}

/// The best total over every way of giving each row its own column (rows <= cols).
fn brute_force_best(scores: &DenseSimilarity, rows: usize, cols: usize) -> f64 {
    fn go(s: &DenseSimilarity, row: usize, rows: usize, used: &mut Vec<bool>) -> f64 {
        if row == rows {
            return 0.0;
        }
        let mut best = f64::NEG_INFINITY;
        for j in 0..used.len() {
            if !used[j] {
                used[j] = true;
                best = best.max(s.row(row)[j] as f64 + go(s, row + 1, rows, used));
                used[j] = false;
            }
        }
        best
    }
    go(scores, 0, rows, &mut vec![false; cols])
}

fn random_matrix(rows: usize, cols: usize, seed: u64) -> DenseSimilarity {
    let mut rng = SeededRng::new(seed);
    let values = (0..rows * cols).map(|_| rng.next_f64() as f32).collect();
    DenseSimilarity::new(rows, cols, values)
}

#[test]
fn hungarian_beats_greedy_where_the_best_first_pair_is_a_trap() {
    // Greedy takes 0.9 first and is left with 0.1 (total 1.0); crossing gives 1.6.
    let s = DenseSimilarity::new(2, 2, vec![0.9, 0.8, 0.8, 0.1]);
    assert_eq!(columns(&greedy(&s)), [Some(0), Some(1)]);
    assert_eq!(columns(&hungarian(&s)), [Some(1), Some(0)]);
    assert_eq!(
        hungarian(&s)[0],
        Some((1, 0.8)),
        "confidence is the pair's score"
    );
    // Plain ranking gives both rows column 0.
    assert_eq!(columns(&rank(&s)), [Some(0), Some(0)]);
}

#[test]
fn hungarian_is_optimal_on_every_shape() {
    for (rows, cols, seed) in [
        (6, 6, 1),
        (7, 7, 2),
        (4, 7, 3),
        (7, 4, 4),
        (1, 5, 5),
        (5, 1, 6),
    ] {
        let s = random_matrix(rows, cols, seed);
        let picks = hungarian(&s);
        let best = if rows <= cols {
            brute_force_best(&s, rows, cols)
        } else {
            brute_force_best(&s.transposed(), cols, rows)
        };
        assert!(
            (total(&s, &picks) - best).abs() < 1e-5,
            "{rows} x {cols}: {} against the best {best}",
            total(&s, &picks)
        );
        let paired: Vec<usize> = picks.iter().flatten().map(|p| p.0).collect();
        assert_eq!(paired.len(), rows.min(cols), "{rows} x {cols}: {picks:?}");
        let mut distinct = paired.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), paired.len(), "one-to-one: {picks:?}");
    }
}

#[test]
fn sinkhorn_rows_and_columns_sum_to_one() {
    let s = random_matrix(6, 6, 11);
    let plan = sinkhorn(&s, 0.1, 200);
    for i in 0..6 {
        let row: f32 = plan.row(i).iter().sum();
        assert!((row - 1.0).abs() < 1e-3, "row {i} sums to {row}");
    }
    let t = plan.transposed();
    for j in 0..6 {
        let column: f32 = t.row(j).iter().sum();
        assert!((column - 1.0).abs() < 1e-4, "column {j} sums to {column}");
    }
    // Rectangular: rows sum to 1, columns to rows / cols.
    let wide = sinkhorn(&random_matrix(3, 6, 12), 0.1, 200).transposed();
    for j in 0..6 {
        let column: f32 = wide.row(j).iter().sum();
        assert!((column - 0.5).abs() < 1e-4, "column {j} sums to {column}");
    }
}

#[test]
fn sinkhorn_stays_finite_at_a_sharp_temperature_and_resolves_a_shared_favourite() {
    // Both rows like column 0 best; balancing sends row 1 to column 1, where it is
    // relatively stronger (0.85 against row 0's 0.2).
    let s = DenseSimilarity::new(2, 2, vec![0.95, 0.2, 0.9, 0.85]);
    let plan = sinkhorn(&s, 0.001, 50);
    assert!((0..2).all(|i| plan.row(i).iter().all(|v| v.is_finite())));
    let decoded = (Decoder::Sinkhorn {
        temperature: 0.001,
        iterations: 50,
    })
    .decode(&s);
    assert_eq!(columns(&decoded), [Some(0), Some(1)]);
    let (_, confidence) = decoded[1].unwrap();
    assert!(confidence > 0.99, "a plan share: {confidence}");
}

#[test]
fn csls_scores_match_the_formula_worked_by_hand() {
    // As in evaluation.rs: row 1 under CSLS k = 2 is -0.05, -0.15, 0.05.
    let s = DenseSimilarity::new(2, 3, vec![0.9, 0.8, 0.1, 0.7, 0.6, 0.5]);
    let csls = scored(s.clone(), Similarity::Csls { k: 2 });
    for (got, want) in csls.row(1).iter().zip([-0.05, -0.15, 0.05]) {
        assert!((got - want).abs() < 1e-6, "{:?}", csls.row(1));
    }
    assert_eq!(scored(s.clone(), Similarity::Cosine), s);
}

#[test]
fn quality_counts_hits_and_draws_precision_and_recall_by_confidence() {
    // Rows 0..4, truth = identity; row 3 unpaired.
    let decoded = [Some((0, 0.9)), Some((2, 0.8)), Some((2, 0.8)), None];
    let q = quality(&decoded, &[0, 1, 2, 3]);
    assert_eq!((q.paired, q.correct, q.rows), (3, 2, 4));
    assert_eq!(q.hits_at_1, 0.5);
    assert_eq!(q.curve.len(), 2, "one point per distinct confidence");
    assert_eq!((q.curve[0].threshold, q.curve[0].kept), (0.9, 1));
    assert_eq!((q.curve[0].precision, q.curve[0].recall), (1.0, 0.25));
    assert_eq!((q.curve[1].threshold, q.curve[1].kept), (0.8, 3));
    assert!((q.curve[1].precision - 2.0 / 3.0).abs() < 1e-12);
    assert_eq!(q.curve[1].recall, 0.5);
}

/// A recorded RREA run on a planted pair written to disk, decoded every way: plain
/// ranking's H@1 is the run's own, and the one-to-one decoders pair each right entity
/// once and find the planted alignment at least as well.
#[test]
fn a_recorded_run_decodes_every_way() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    write_alignscope(&planted_pair(300, 12, 4, 0.1, 7), &data).unwrap();
    let mut settings = registry::find(rrea::ID).unwrap().info().quick.clone();
    settings.insert("epochs".into(), json!(8));
    settings.insert("eval_every".into(), json!(8));
    let spec = RunSpec {
        dataset: data,
        load: Default::default(),
        model: rrea::ID.into(),
        settings,
        train_ratio: 0.3,
        valid_ratio: 0.0,
        seeds: None,
        rejected: Vec::new(),
    };
    let mut run = prepare(&spec).unwrap();
    let run_dir = root.path().join("run");
    let result = execute(
        &ComputeDevice::Cpu,
        &mut run,
        "cpu",
        Some(&run_dir),
        false,
        &AtomicBool::new(false),
        &mut |_| {},
    )
    .unwrap();
    let trained = result.final_test.expect("evaluated").metrics.left_to_right;
    let decoders = [
        Decoder::Rank,
        Decoder::Greedy,
        Decoder::Hungarian,
        SINKHORN_DEFAULT,
    ];
    let decoding = decode_run(&ComputeDevice::Cpu, &run_dir, SavedModel::Latest, &decoders)
        .expect("the run decodes");
    assert_eq!(
        decoding.test_pairs.len(),
        210,
        "70% of 300 pairs are test pairs"
    );
    let h1: Vec<f64> = decoding
        .outcomes
        .iter()
        .map(|o| o.quality.hits_at_1)
        .collect();
    assert!(
        (h1[0] - trained.hits_at_1).abs() < 1e-9,
        "ranking reproduces the run's H@1 {}: {h1:?}",
        trained.hits_at_1
    );
    assert!(h1[0] > 0.5, "the planted alignment is found: {h1:?}");
    for outcome in &decoding.outcomes[1..] {
        let mut used: Vec<usize> = outcome.pairs.iter().flatten().map(|p| p.0).collect();
        let paired = used.len();
        used.sort_unstable();
        used.dedup();
        assert_eq!(
            used.len(),
            paired,
            "{:?} pairs each column once",
            outcome.decoder
        );
        assert!(
            outcome.quality.hits_at_1 >= h1[0] - 0.02,
            "{:?}: {h1:?}",
            outcome.decoder
        );
    }
    assert_eq!(
        decoding.outcomes[2].quality.paired, 210,
        "Hungarian pairs every row"
    );
}
