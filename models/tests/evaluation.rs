//! The evaluation protocol on hand-built similarity matrices, where every rank can be
//! worked out by hand, and on embeddings (held matrix and block-by-block agree).

use alignscope_models::eval::{
    CandidatePool, DenseSimilarity, EvalOptions, Similarity, SimilaritySource, evaluate,
    greedy_pairs, mutual_nearest, neighbourhood_means, rank_rows,
};
use alignscope_models::ops::l2_normalize;
use alignscope_models::rng::SeededRng;
use burn::backend::NdArray;
use burn::backend::ndarray::NdArrayDevice;
use burn::tensor::{Tensor, TensorData};

fn matrix() -> DenseSimilarity {
    // Rows are queries, the truth is the diagonal.
    DenseSimilarity::new(
        4,
        4,
        vec![
            0.9, 0.1, 0.2, 0.3, // truth best: rank 1
            0.5, 0.5, 0.5, 0.1, // truth tied with two others: rank 3
            0.8, 0.7, 0.6, 0.9, // three higher: rank 4
            0.0, 0.0, 0.0, 0.0, // all tied: rank 4
        ],
    )
}

#[test]
fn cosine_ranks_count_ties_against_the_truth() {
    let ranking = rank_rows(&mut matrix(), &[0, 1, 2, 3], Similarity::Cosine, 2);
    assert_eq!(ranking.ranks, vec![1, 3, 4, 4]);
    assert_eq!(ranking.top[0], vec![(0, 0.9), (3, 0.3)]);
    // Ties among candidates are listed by position.
    assert_eq!(ranking.top[1], vec![(0, 0.5), (1, 0.5)]);
    let m = alignscope_models::eval::DirectionMetrics::from_ranks(&ranking.ranks);
    assert_eq!(m.hits_at_1, 0.25);
    assert_eq!(m.hits_at_5, 1.0);
    assert_eq!(m.mr, 3.0);
    assert_eq!(m.mrr, (1.0 + 1.0 / 3.0 + 0.25 + 0.25) / 4.0);
}

#[test]
fn csls_matches_the_formula_worked_by_hand() {
    let mut s = DenseSimilarity::new(2, 3, vec![0.9, 0.8, 0.1, 0.7, 0.6, 0.5]);
    let (rows, cols) = neighbourhood_means(&mut s, 2);
    assert!((rows[0] - 0.85).abs() < 1e-6 && (rows[1] - 0.65).abs() < 1e-6);
    // Columns have 2 rows, so k = 2 takes both.
    assert!(
        (cols[0] - 0.8).abs() < 1e-6
            && (cols[1] - 0.7).abs() < 1e-6
            && (cols[2] - 0.3).abs() < 1e-6
    );
    // Row 1, CSLS: 2*0.7-0.65-0.8 = -0.05, 2*0.6-0.65-0.7 = -0.15, 2*0.5-0.65-0.3 = 0.05.
    let ranking = rank_rows(&mut s, &[0, 0], Similarity::Csls { k: 2 }, 3);
    assert_eq!(
        ranking.ranks[1], 2,
        "column 2 overtakes column 0 under CSLS"
    );
    assert_eq!(
        ranking.top[1].iter().map(|c| c.0).collect::<Vec<_>>(),
        vec![2, 0, 1]
    );
    // Under cosine, column 0 is first.
    assert_eq!(
        rank_rows(&mut s, &[0, 0], Similarity::Cosine, 1).ranks[1],
        1
    );
}

#[test]
fn mutual_nearest_neighbours_choose_each_other() {
    let mut s = DenseSimilarity::new(3, 3, vec![0.9, 0.2, 0.1, 0.8, 0.3, 0.2, 0.1, 0.2, 0.7]);
    // Row 1's best is column 0, but column 0 prefers row 0.
    assert_eq!(mutual_nearest(&mut s), vec![(0, 0), (2, 2)]);
}

#[test]
fn greedy_pairs_take_the_best_free_pair_first() {
    // Best entry 0.9 (0,0); then row 1's 0.8 is blocked by column 0, so 0.7 (2,2) comes
    // next and row 1 falls back to its free column 1 (0.3).
    let matrix = vec![0.9, 0.2, 0.1, 0.8, 0.3, 0.2, 0.1, 0.2, 0.7];
    let mut s = DenseSimilarity::new(3, 3, matrix.clone());
    assert_eq!(
        greedy_pairs(&mut s, 3, 10),
        vec![(0, 0, 0.9), (2, 2, 0.7), (1, 1, 0.3)]
    );
    let mut s = DenseSimilarity::new(3, 3, matrix.clone());
    assert_eq!(greedy_pairs(&mut s, 3, 2), vec![(0, 0, 0.9), (2, 2, 0.7)]);
    // With one candidate per row, row 1's only candidate (column 0) is taken: no pair.
    let mut s = DenseSimilarity::new(3, 3, matrix);
    assert_eq!(greedy_pairs(&mut s, 1, 10), vec![(0, 0, 0.9), (2, 2, 0.7)]);
}

#[test]
fn transposing_swaps_rows_and_columns() {
    let t = matrix().transposed();
    assert_eq!(t.shape(), (4, 4));
    assert_eq!(t.row(3), &[0.3, 0.1, 0.9, 0.0]);
}

#[test]
fn held_and_blockwise_evaluation_agree_in_both_directions_and_pools() {
    let device = NdArrayDevice::Cpu;
    let mut rng = SeededRng::new(4);
    let (n_left, n_right, d) = (70usize, 80usize, 12usize);
    let values = rng.normal_vec((n_left + n_right) * d, 1.0);
    let unit = l2_normalize(Tensor::<NdArray, 2>::from_data(
        TensorData::new(values, [n_left + n_right, d]),
        &device,
    ));
    let pairs: Vec<(u32, u32)> = (0..50).map(|i| (i, n_left as u32 + (i * 7 % 80))).collect();
    for pool in [CandidatePool::TestPairs, CandidatePool::AllEntities] {
        for similarity in [Similarity::Cosine, Similarity::Csls { k: 3 }] {
            let held = EvalOptions {
                pool,
                similarity,
                block_rows: 1000,
                dense_budget_bytes: usize::MAX,
                top_k: 5,
            };
            let blocks = EvalOptions {
                block_rows: 7,
                dense_budget_bytes: 0,
                ..held.clone()
            };
            let a = evaluate(&unit, &pairs, 0..n_left, n_left..n_left + n_right, &held);
            let b = evaluate(&unit, &pairs, 0..n_left, n_left..n_left + n_right, &blocks);
            assert_eq!(
                a.left_to_right.ranking.ranks, b.left_to_right.ranking.ranks,
                "{pool:?} {similarity:?}"
            );
            assert_eq!(
                a.right_to_left.ranking.ranks, b.right_to_left.ranking.ranks,
                "{pool:?} {similarity:?}"
            );
            assert_eq!(a.metrics.left_to_right.queries, 50);
        }
    }
    // Perfect embeddings: every query finds its match.
    let same: Vec<(u32, u32)> = (0..20).map(|i| (i, i)).collect();
    let e = evaluate(&unit, &same, 0..n_left, 0..n_left, &EvalOptions::default());
    assert_eq!(e.metrics.left_to_right.hits_at_1, 1.0);
    assert_eq!(e.metrics.right_to_left.mr, 1.0);
}
