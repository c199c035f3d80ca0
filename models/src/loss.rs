//! The contrastive alignment loss (InfoNCE with in-batch negatives).

use burn::tensor::{Int, Tensor, backend::Backend};

use crate::ops::log_sum_exp_rows;

/// InfoNCE over one chunk of seed pairs: `unit` are the unit-normalised embeddings of all
/// entities; row `k` of `left`/`right` is a seed pair; every other right entity of the
/// chunk is a negative for left entity `k`. Cosine similarity over `temperature`; the
/// mean over the chunk. With `both`, the mean of both directions.
pub fn contrastive_loss<B: Backend>(
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
pub fn contrastive_rows<B: Backend>(
    unit: &Tensor<B, 2>,
    left: Tensor<B, 1, Int>,
    right: Tensor<B, 1, Int>,
    temperature: f64,
    both: bool,
) -> Tensor<B, 2> {
    let l = unit.clone().select(0, left);
    let r = unit.clone().select(0, right);
    let scale = 1.0 / temperature;
    let logits = l.clone().matmul(r.clone().transpose()).mul_scalar(scale);
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
pub fn margin_contrastive_loss<B: Backend>(
    embeddings: &Tensor<B, 2>,
    left: Tensor<B, 1, Int>,
    right: Tensor<B, 1, Int>,
    margin: f64,
) -> Tensor<B, 1> {
    let k = left.dims()[0];
    let l = crate::ops::l2_normalize(embeddings.clone().select(0, left));
    let r = crate::ops::l2_normalize(embeddings.clone().select(0, right));
    let all = l.clone().matmul(r.clone().transpose()).powi_scalar(2).sum();
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
