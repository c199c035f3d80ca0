//! The contrastive alignment loss (InfoNCE with in-batch negatives).

use burn::tensor::{Int, Tensor, backend::Backend};

use crate::backend::GraphBackend;

use crate::ops::log_sum_exp_rows;

/// InfoNCE over one chunk of seed pairs: `unit` are the unit-normalised embeddings of all
/// entities; row `k` of `left`/`right` is a seed pair; every other right entity of the
/// chunk is a negative for left entity `k`. Cosine similarity over `temperature`; the
/// mean over the chunk. With `both`, the mean of both directions.
pub fn contrastive_loss<B: GraphBackend>(
    unit: &Tensor<B, 2>,
    left: Tensor<B, 1, Int>,
    right: Tensor<B, 1, Int>,
    temperature: f64,
    both: bool,
) -> Tensor<B, 1> {
    contrastive_rows(unit, left, right, temperature, both).mean()
}

/// [`contrastive_loss`] per seed pair (`k x 1`): pair `k`'s left-to-right term, or with
/// `both` the mean of its left-to-right term and the right-to-left term of its right
/// entity. Their mean is [`contrastive_loss`]; a model may weigh them.
pub fn contrastive_rows<B: GraphBackend>(
    unit: &Tensor<B, 2>,
    left: Tensor<B, 1, Int>,
    right: Tensor<B, 1, Int>,
    temperature: f64,
    both: bool,
) -> Tensor<B, 2> {
    let l = unit.clone().select(0, left);
    let r = unit.clone().select(0, right);
    let scale = 1.0 / temperature;
    let logits = B::matrix_product(l.clone(), r.clone().transpose()).mul_scalar(scale);
    let positive = (l * r).sum_dim(1).mul_scalar(scale);
    let left_to_right = log_sum_exp_rows(logits.clone()) - positive.clone();
    if both {
        let right_to_left = log_sum_exp_rows(logits.transpose()) - positive;
        (left_to_right + right_to_left).div_scalar(2.0)
    } else {
        left_to_right
    }
}

/// Margin ranking loss with L1 distances and sampled negatives, per row `k`:
/// `relu(γ + |l_k - r_k|₁ - |l_k - r'_k|₁) + relu(γ + |l_k - r_k|₁ - |l'_k - r_k|₁)`,
/// averaged over the rows; `negative_right`/`negative_left` are the corrupted entities
/// `r'_k` and `l'_k` (RREA, GCN-Align).
pub fn l1_margin_loss<B: Backend>(
    embeddings: &Tensor<B, 2>,
    left: Tensor<B, 1, Int>,
    right: Tensor<B, 1, Int>,
    negative_left: Tensor<B, 1, Int>,
    negative_right: Tensor<B, 1, Int>,
    margin: f64,
) -> Tensor<B, 1> {
    let rows = |index| embeddings.clone().select(0, index);
    let (l, r) = (rows(left), rows(right));
    let l1 = |a: Tensor<B, 2>, b: Tensor<B, 2>| (a - b).abs().sum_dim(1);
    let positive = l1(l.clone(), r.clone()).add_scalar(margin);
    let corrupt_right = (positive.clone() - l1(l, rows(negative_right))).clamp_min(0.0);
    let corrupt_left = (positive - l1(rows(negative_left), r)).clamp_min(0.0);
    (corrupt_right + corrupt_left).mean()
}

/// The contrastive loss of TMEA's Eq. (18) over one chunk of seed pairs: with `s` the
/// cosine similarity of left entity `i` and right entity `j` of the chunk, and `y = 1`
/// for the seed pair itself (`i = j`), `1 / (2|H|) Σ (1 − y) s² + y max(γ − s, 0)²` over
/// all `|H| = k²` (left, right) combinations of the `k` pairs (as the authors' code
/// forms them).
pub fn margin_contrastive_loss<B: GraphBackend>(
    embeddings: &Tensor<B, 2>,
    left: Tensor<B, 1, Int>,
    right: Tensor<B, 1, Int>,
    margin: f64,
) -> Tensor<B, 1> {
    let k = left.dims()[0];
    let l = crate::ops::l2_normalize(embeddings.clone().select(0, left));
    let r = crate::ops::l2_normalize(embeddings.clone().select(0, right));
    let all = B::matrix_product(l.clone(), r.clone().transpose())
        .powi_scalar(2)
        .sum();
    let positive = (l * r).sum_dim(1);
    let negatives = all - positive.clone().powi_scalar(2).sum();
    let positives = positive
        .neg()
        .add_scalar(margin)
        .clamp_min(0.0)
        .powi_scalar(2)
        .sum();
    (negatives + positives).div_scalar((2 * k * k).max(1) as f64)
}

/// EVA's "NCA loss" over one chunk of seed pairs (as the authors' code writes it): with
/// `S` the cosine matrix of the chunk's left and right entities and
/// `E = exp(α (S − ε))` off the diagonal (0 on it), the mean over pairs `k` of
/// `(1/α) log(1 + Σ_i E[i,k]) + (1/α) log(1 + Σ_j E[k,j]) − β log(1 + relu(S[k,k]))`:
/// the other pairs of the chunk are the negatives, on both sides.
pub fn nca_loss<B: GraphBackend>(
    embeddings: &Tensor<B, 2>,
    left: Tensor<B, 1, Int>,
    right: Tensor<B, 1, Int>,
    alpha: f64,
    beta: f64,
    epsilon: f64,
) -> Tensor<B, 1> {
    let k = left.dims()[0];
    let device = embeddings.device();
    let l = crate::ops::l2_normalize(embeddings.clone().select(0, left));
    let r = crate::ops::l2_normalize(embeddings.clone().select(0, right));
    let similarity = B::matrix_product(l.clone(), r.clone().transpose());
    let off_diagonal = Tensor::<B, 2>::eye(k, &device).neg().add_scalar(1.0);
    let exponentials = similarity.sub_scalar(epsilon).mul_scalar(alpha).exp() * off_diagonal;
    let log1p_sum = |sums: Tensor<B, 2>| sums.add_scalar(1.0).log().div_scalar(alpha);
    let columns = log1p_sum(exponentials.clone().sum_dim(0)).reshape([k, 1]);
    let rows = log1p_sum(exponentials.sum_dim(1));
    let positive = (l * r)
        .sum_dim(1)
        .clamp_min(0.0)
        .add_scalar(1.0)
        .log()
        .mul_scalar(beta);
    (columns + rows - positive).mean()
}

/// Each row's log-softmax, through [`log_sum_exp_rows`] (see there why not Burn's).
fn log_softmax_rows<B: Backend>(x: Tensor<B, 2>) -> Tensor<B, 2> {
    x.clone() - log_sum_exp_rows(x)
}

/// MCLEA's logits over one chunk of `k` seed pairs: for each left entity `a_i`, its
/// cosines to every right entity of the chunk and to the other left entities (itself
/// masked), over `temperature` (`k x 2k`); and the same for each right entity.
fn both_sides_logits<B: GraphBackend>(
    embeddings: &Tensor<B, 2>,
    left: Tensor<B, 1, Int>,
    right: Tensor<B, 1, Int>,
    temperature: f64,
) -> [Tensor<B, 2>; 2] {
    let k = left.dims()[0];
    let a = crate::ops::l2_normalize(embeddings.clone().select(0, left));
    let b = crate::ops::l2_normalize(embeddings.clone().select(0, right));
    let own = Tensor::<B, 2>::eye(k, &a.device()).mul_scalar(-1e9);
    let cos =
        |x: &Tensor<B, 2>, y: &Tensor<B, 2>| B::matrix_product(x.clone(), y.clone().transpose());
    let side = |x: &Tensor<B, 2>, y: &Tensor<B, 2>| {
        Tensor::cat(vec![cos(x, y), cos(x, x) + own.clone()], 1).div_scalar(temperature)
    };
    [side(&a, &b), side(&b, &a)]
}

/// MCLEA's intra-modal contrastive loss (ICL) over one chunk of seed pairs: each
/// entity's counterpart against the other side's and its own side's entities of the
/// chunk (cross entropy over [`both_sides_logits`]), the mean of both directions.
pub fn intra_modal_contrastive_loss<B: GraphBackend>(
    embeddings: &Tensor<B, 2>,
    left: Tensor<B, 1, Int>,
    right: Tensor<B, 1, Int>,
    temperature: f64,
) -> Tensor<B, 1> {
    let k = left.dims()[0];
    let target = Tensor::cat(
        vec![
            Tensor::<B, 2>::eye(k, &embeddings.device()),
            Tensor::zeros([k, k], &embeddings.device()),
        ],
        1,
    );
    both_sides_logits(embeddings, left, right, temperature)
        .into_iter()
        .map(|logits| {
            (log_softmax_rows(logits) * target.clone())
                .sum()
                .neg()
                .div_scalar(2.0 * k.max(1) as f64)
        })
        .reduce(|x, y| x + y)
        .expect("two directions")
}

/// MCLEA's inter-modal alignment loss (IAL) over one chunk: `KL(Q ‖ P)` between the
/// joint embedding's distribution `Q` (detached: the teacher) and the modality's `P`,
/// both softmaxes of [`both_sides_logits`] at `temperature`; the mean over all entries,
/// the mean of both directions (the authors' code's reduction).
pub fn inter_modal_alignment_loss<B: GraphBackend>(
    modality: &Tensor<B, 2>,
    joint: &Tensor<B, 2>,
    left: Tensor<B, 1, Int>,
    right: Tensor<B, 1, Int>,
    temperature: f64,
) -> Tensor<B, 1> {
    let student = both_sides_logits(modality, left.clone(), right.clone(), temperature);
    let teacher = both_sides_logits(&joint.clone().detach(), left, right, temperature);
    student
        .into_iter()
        .zip(teacher)
        .map(|(p, q)| {
            let log_q = log_softmax_rows(q);
            (log_q.clone().exp() * (log_q - log_softmax_rows(p)))
                .mean()
                .div_scalar(2.0)
        })
        .reduce(|x, y| x + y)
        .expect("two directions")
}

/// `exp(−s) · loss + s` for the learned log-variance `s` (`1 x 1`): Kendall et al.'s
/// uncertainty weighting, as the authors' code writes it.
pub fn uncertainty_weighted<B: Backend>(
    loss: Tensor<B, 1>,
    log_variance: Tensor<B, 2>,
) -> Tensor<B, 1> {
    let s = log_variance.reshape([1]);
    loss * s.clone().neg().exp() + s
}

#[cfg(test)]
mod tests {
    use burn::backend::NdArray;
    use burn::tensor::TensorData;

    use super::*;

    type B = NdArray<f32>;

    fn tensor(rows: &[[f32; 2]]) -> Tensor<B, 2> {
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        Tensor::from_data(TensorData::new(flat, [rows.len(), 2]), &Default::default())
    }

    fn index(values: &[i64]) -> Tensor<B, 1, Int> {
        Tensor::from_data(
            TensorData::new(values.to_vec(), [values.len()]),
            &Default::default(),
        )
    }

    fn scalar(x: Tensor<B, 1>) -> f64 {
        f64::from(x.into_scalar())
    }

    #[test]
    fn the_nca_loss_matches_its_formula_by_hand() {
        // Pairs (0, 2) and (1, 3): cos(l0, r2) = 1, cos(l1, r3) = 0.96, cos(l0, r3) = 0.6,
        // cos(l1, r2) = 0.8.
        let x = tensor(&[[1.0, 0.0], [0.8, 0.6], [1.0, 0.0], [0.6, 0.8]]);
        let (alpha, beta) = (5.0f64, 10.0f64);
        let got = scalar(nca_loss(
            &x,
            index(&[0, 1]),
            index(&[2, 3]),
            alpha,
            beta,
            0.0,
        ));
        let e = |s: f64| (alpha * s).exp();
        let term = |negatives: f64| (1.0 + negatives).ln() / alpha;
        // Pair 0: column 0 holds l1's cos to r2 (0.8), row 0 l0's cos to r3 (0.6).
        let pair0 = term(e(0.8)) + term(e(0.6)) - beta * 2f64.ln();
        // Pair 1: column 1 holds l0's cos to r3 (0.6), row 1 l1's cos to r2 (0.8).
        let pair1 = term(e(0.6)) + term(e(0.8)) - beta * 1.96f64.ln();
        let want = (pair0 + pair1) / 2.0;
        assert!((got - want).abs() < 1e-5, "{got} against {want}");
    }

    #[test]
    fn the_contrastive_loss_counts_both_sides_entities_as_negatives() {
        // Two well-separated pairs: the loss is near zero; swapping one counterpart makes
        // it large.
        let x = tensor(&[[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]);
        let good = scalar(intra_modal_contrastive_loss(
            &x,
            index(&[0, 1]),
            index(&[2, 3]),
            0.1,
        ));
        let bad = scalar(intra_modal_contrastive_loss(
            &x,
            index(&[0, 1]),
            index(&[3, 2]),
            0.1,
        ));
        assert!(good < 1e-3, "{good}");
        // Per entity, 3 candidates: the true one at cos 0, a wrong one at cos 1, its own
        // side's other entity at cos 0: −log(e⁰ / (e⁰ + e¹⁰ + e⁰)).
        let want = -(1.0 / (2.0 + 10f64.exp())).ln();
        assert!((bad - want).abs() < 1e-3, "{bad} against {want}");
    }

    #[test]
    fn the_alignment_loss_is_zero_when_a_modality_agrees_with_the_joint_embedding() {
        let x = tensor(&[[1.0, 0.0], [0.8, 0.6], [1.0, 0.1], [0.6, 0.8]]);
        let y = tensor(&[[0.0, 1.0], [0.8, 0.6], [1.0, 0.1], [0.6, 0.8]]);
        let same = scalar(inter_modal_alignment_loss(
            &x,
            &x,
            index(&[0, 1]),
            index(&[2, 3]),
            4.0,
        ));
        let other = scalar(inter_modal_alignment_loss(
            &y,
            &x,
            index(&[0, 1]),
            index(&[2, 3]),
            4.0,
        ));
        assert!(same.abs() < 1e-7, "{same}");
        assert!(other > 1e-4, "{other}");
    }
}
