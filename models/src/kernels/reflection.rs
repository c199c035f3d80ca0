//! The relational reflection attention layer (before its `tanh`), forward and backward,
//! on host slices.
//!
//! For head `i` and each of its pairs `e = (i, j)` with relation columns `C_e`:
//! `v_e = sum_{c in C_e} R_c`, `u_e = v_e / max(|v_e|, 1e-12)`,
//! `m_e = h_j - 2 (h_j . u_e) u_e`, `l_e = u_e . a_r` (+ `m_e . a_h`),
//! `alpha = softmax_e(l_e)` over the head's pairs, `out_i = sum_e alpha_e m_e`.
//!
//! The attention vector `a` is `a_r` (`d` long: LoginMEA's attention reads the relation
//! only) or `[a_r; a_h]` (`2d` long: RREA's also reads the reflected neighbour; its
//! head term `a_x . h_i` is the same for all of a head's pairs, so the softmax cancels
//! it and it is left out).

use rayon::prelude::*;

use crate::graph::AlignmentGraph;

const NORM_EPS: f32 = 1e-12;

/// The graph indexed for the kernels: pairs by head (the graph's order), by tail and by
/// relation column.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelGraph {
    /// Entities.
    pub entities: usize,
    /// Relation columns (`2R`).
    pub columns: usize,
    /// Pairs of head `i`: `head_starts[i]..head_starts[i + 1]`.
    pub head_starts: Vec<usize>,
    /// Tail of each pair.
    pub tails: Vec<u32>,
    /// Head of each pair.
    pub heads: Vec<u32>,
    /// Columns of pair `e`: `pair_cols[pair_col_starts[e]..pair_col_starts[e + 1]]`.
    pub pair_col_starts: Vec<usize>,
    /// Relation columns, pair by pair.
    pub pair_cols: Vec<u32>,
    /// Pairs whose tail is `j`: `by_tail[tail_starts[j]..tail_starts[j + 1]]`.
    pub tail_starts: Vec<usize>,
    /// Pair indices grouped by tail.
    pub by_tail: Vec<u32>,
    /// Pairs using column `c`: `by_col[col_starts[c]..col_starts[c + 1]]`.
    pub col_starts: Vec<usize>,
    /// Pair indices grouped by column.
    pub by_col: Vec<u32>,
}

fn group(keys: impl Iterator<Item = u32> + Clone, groups: usize) -> (Vec<usize>, Vec<u32>) {
    let mut starts = vec![0usize; groups + 1];
    for k in keys.clone() {
        starts[k as usize + 1] += 1;
    }
    for g in 0..groups {
        starts[g + 1] += starts[g];
    }
    let mut fill = starts.clone();
    let mut items = vec![0u32; starts[groups]];
    for (index, k) in keys.enumerate() {
        items[fill[k as usize]] = index as u32;
        fill[k as usize] += 1;
    }
    (starts, items)
}

impl KernelGraph {
    /// Indexes `graph` (its pairs are sorted by head).
    pub fn new(graph: &AlignmentGraph) -> Self {
        let n = graph.entity_count;
        let columns = 2 * graph.relation_count;
        let (head_starts, _) = group(graph.heads.iter().copied(), n);
        let (tail_starts, by_tail) = group(graph.tails.iter().copied(), n);
        let (pair_col_starts, _) =
            group(graph.pair_columns.iter().map(|p| p.0), graph.pair_count());
        let pair_cols: Vec<u32> = graph.pair_columns.iter().map(|p| p.1).collect();
        let (col_starts, incidences) = group(pair_cols.iter().copied(), columns);
        let by_col = incidences
            .iter()
            .map(|&k| graph.pair_columns[k as usize].0)
            .collect();
        Self {
            entities: n,
            columns,
            head_starts,
            tails: graph.tails.clone(),
            heads: graph.heads.clone(),
            pair_col_starts,
            pair_cols,
            tail_starts,
            by_tail,
            col_starts,
            by_col,
        }
    }

    /// Number of pairs.
    pub fn pairs(&self) -> usize {
        self.tails.len()
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Writes `u_e` into `u` and returns `|v_e|`.
fn relation_unit(g: &KernelGraph, rel: &[f32], d: usize, e: usize, u: &mut [f32]) -> f32 {
    u.fill(0.0);
    for &c in &g.pair_cols[g.pair_col_starts[e]..g.pair_col_starts[e + 1]] {
        for (x, r) in u.iter_mut().zip(&rel[c as usize * d..(c as usize + 1) * d]) {
            *x += r;
        }
    }
    let norm = dot(u, u).sqrt();
    let scale = 1.0 / norm.max(NORM_EPS);
    u.iter_mut().for_each(|x| *x *= scale);
    norm
}

/// The relation part `a_r` and the neighbour part `a_h` (if any) of the attention vector.
fn attention_parts(a: &[f32], d: usize) -> (&[f32], Option<&[f32]>) {
    if a.len() == 2 * d {
        (&a[..d], Some(&a[d..]))
    } else {
        (a, None)
    }
}

/// `m . a_h = h_j . a_h - 2 (h_j . u) (u . a_h)` for a pair with unit vector `u`.
fn neighbour_logit(hj: &[f32], u: &[f32], a_h: &[f32]) -> f32 {
    dot(hj, a_h) - 2.0 * dot(hj, u) * dot(u, a_h)
}

/// Attention weights of head `i`'s pairs, with their unit relation vectors in `units`.
#[allow(clippy::too_many_arguments)] // The kernel's inputs and its two scratch buffers.
fn head_attention(
    g: &KernelGraph,
    h: &[f32],
    rel: &[f32],
    a: &[f32],
    d: usize,
    i: usize,
    units: &mut Vec<f32>,
    norms: &mut Vec<f32>,
) -> Vec<f32> {
    let (a_r, a_h) = attention_parts(a, d);
    let pairs = g.head_starts[i]..g.head_starts[i + 1];
    units.resize(pairs.len() * d, 0.0);
    norms.clear();
    let mut logits = Vec::with_capacity(pairs.len());
    for (k, e) in pairs.enumerate() {
        let u = &mut units[k * d..(k + 1) * d];
        norms.push(relation_unit(g, rel, d, e, u));
        let mut logit = dot(u, a_r);
        if let Some(a_h) = a_h {
            let j = g.tails[e] as usize;
            logit += neighbour_logit(&h[j * d..(j + 1) * d], u, a_h);
        }
        logits.push(logit);
    }
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for l in logits.iter_mut() {
        *l = (*l - max).exp();
        sum += *l;
    }
    logits.iter_mut().for_each(|l| *l /= sum);
    logits
}

/// The layer's output before `tanh`: `N x d`.
pub fn forward(g: &KernelGraph, h: &[f32], rel: &[f32], a: &[f32], d: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; g.entities * d];
    out.par_chunks_mut(d).enumerate().for_each_init(
        || (Vec::new(), Vec::new()),
        |(units, norms), (i, row)| {
            let alpha = head_attention(g, h, rel, a, d, i, units, norms);
            for (k, e) in (g.head_starts[i]..g.head_starts[i + 1]).enumerate() {
                let u = &units[k * d..(k + 1) * d];
                let j = g.tails[e] as usize;
                let hj = &h[j * d..(j + 1) * d];
                let s = 2.0 * dot(hj, u);
                for ((o, x), y) in row.iter_mut().zip(hj).zip(u) {
                    *o += alpha[k] * (x - s * y);
                }
            }
        },
    );
    out
}

/// Per-pair scalars of the backward pass.
#[derive(Debug, Clone, Copy, Default)]
struct PairGrad {
    alpha: f32,
    along: f32,
    grad_along: f32,
    grad_logit: f32,
    norm: f32,
    /// `u_e . a_h` (0 without a neighbour part).
    u_dot_ah: f32,
}

/// Gradients of the layer (before `tanh`) given `grad_out` (`N x d`): with respect to
/// `h` (`N x d`), the relation table (`2R x d`) and the attention vector (`d` or `2d`).
///
/// With a neighbour part `a_h`, a pair's logit also depends on `m_e`: its gradient
/// `g_e` adds `g_e m_e` to `a_h`'s, `g_e (a_h - 2 (u_e . a_h) u_e)` to `h_j`'s and
/// `-2 g_e ((u_e . a_h) h_j + s_e a_h)` to `u_e`'s.
pub fn backward(
    g: &KernelGraph,
    h: &[f32],
    rel: &[f32],
    a: &[f32],
    d: usize,
    grad_out: &[f32],
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    // Pass 1, per head: attention, s_e = h_j . u_e, q_e = G_i . u_e, dlogit_e, and the
    // head's share of the attention vector's gradient, sum_e dlogit_e [u_e; m_e] (while
    // the head's unit vectors are at hand).
    let (a_r, a_h) = attention_parts(a, d);
    let per_head: Vec<(Vec<PairGrad>, Vec<f32>)> = (0..g.entities)
        .into_par_iter()
        .map_init(
            || (Vec::new(), Vec::new()),
            |(units, norms), i| {
                let alpha = head_attention(g, h, rel, a, d, i, units, norms);
                let gi = &grad_out[i * d..(i + 1) * d];
                let mut out: Vec<PairGrad> = Vec::with_capacity(alpha.len());
                let mut weighted = 0.0;
                for (k, e) in (g.head_starts[i]..g.head_starts[i + 1]).enumerate() {
                    let u = &units[k * d..(k + 1) * d];
                    let j = g.tails[e] as usize;
                    let hj = &h[j * d..(j + 1) * d];
                    let along = dot(hj, u);
                    let grad_along = dot(gi, u);
                    let grad_alpha = dot(gi, hj) - 2.0 * along * grad_along;
                    weighted += alpha[k] * grad_alpha;
                    out.push(PairGrad {
                        alpha: alpha[k],
                        along,
                        grad_along,
                        grad_logit: grad_alpha,
                        norm: norms[k],
                        u_dot_ah: a_h.map_or(0.0, |a_h| dot(u, a_h)),
                    });
                }
                let mut grad_a_share = vec![0.0f32; if out.is_empty() { 0 } else { a.len() }];
                let heads_pairs = g.head_starts[i]..g.head_starts[i + 1];
                for ((k, p), e) in out.iter_mut().enumerate().zip(heads_pairs) {
                    p.grad_logit = p.alpha * (p.grad_logit - weighted);
                    let u = &units[k * d..(k + 1) * d];
                    grad_a_share[..d]
                        .iter_mut()
                        .zip(u)
                        .for_each(|(o, x)| *o += p.grad_logit * x);
                    if a_h.is_some() {
                        let j = g.tails[e] as usize;
                        let hj = &h[j * d..(j + 1) * d];
                        for ((o, x), y) in grad_a_share[d..].iter_mut().zip(hj).zip(u) {
                            *o += p.grad_logit * (x - 2.0 * p.along * y);
                        }
                    }
                }
                (out, grad_a_share)
            },
        )
        .collect();
    // Summed head by head in order: deterministic.
    let mut grad_a = vec![0.0f32; a.len()];
    let mut pair: Vec<PairGrad> = Vec::with_capacity(g.pairs());
    for (pairs, share) in per_head {
        pair.extend(pairs);
        grad_a.iter_mut().zip(share).for_each(|(o, x)| *o += x);
    }

    // Pass 2, per tail: dh_j = sum alpha_e (G_i - 2 q_e u_e) (+ g_e (a_h - 2 (u_e . a_h) u_e)).
    let mut grad_h = vec![0.0f32; g.entities * d];
    grad_h.par_chunks_mut(d).enumerate().for_each_init(
        || vec![0.0f32; d],
        |u, (j, row)| {
            for &e in &g.by_tail[g.tail_starts[j]..g.tail_starts[j + 1]] {
                let e = e as usize;
                let p = pair[e];
                relation_unit(g, rel, d, e, u);
                let i = g.heads[e] as usize;
                let gi = &grad_out[i * d..(i + 1) * d];
                for ((o, x), y) in row.iter_mut().zip(gi).zip(u.iter()) {
                    *o += p.alpha * (x - 2.0 * p.grad_along * y);
                }
                if let Some(a_h) = a_h {
                    for ((o, x), y) in row.iter_mut().zip(a_h).zip(u.iter()) {
                        *o += p.grad_logit * (x - 2.0 * p.u_dot_ah * y);
                    }
                }
            }
        },
    );

    // Pass 3, per relation column: dR_c = sum over its pairs of dv_e, with
    // du_e = -2 alpha_e (q_e h_j + s_e G_i) + dlogit_e a, dv_e = (du_e - (du_e . u_e) u_e) / |v_e|.
    let pair_grad_v = |e: usize, u: &mut [f32], du: &mut [f32]| {
        let p = pair[e];
        relation_unit(g, rel, d, e, u);
        let (i, j) = (g.heads[e] as usize, g.tails[e] as usize);
        let (gi, hj) = (&grad_out[i * d..(i + 1) * d], &h[j * d..(j + 1) * d]);
        for k in 0..d {
            du[k] =
                -2.0 * p.alpha * (p.grad_along * hj[k] + p.along * gi[k]) + p.grad_logit * a_r[k];
        }
        if let Some(a_h) = a_h {
            for k in 0..d {
                du[k] -= 2.0 * p.grad_logit * (p.u_dot_ah * hj[k] + p.along * a_h[k]);
            }
        }
        let radial = dot(du, u);
        let scale = 1.0 / p.norm.max(NORM_EPS);
        for k in 0..d {
            du[k] = if p.norm > NORM_EPS {
                (du[k] - radial * u[k]) * scale
            } else {
                du[k] * scale
            };
        }
    };
    let mut grad_rel = vec![0.0f32; g.columns * d];
    grad_rel.par_chunks_mut(d).enumerate().for_each_init(
        || (vec![0.0f32; d], vec![0.0f32; d]),
        |(u, dv), (c, row)| {
            for &e in &g.by_col[g.col_starts[c]..g.col_starts[c + 1]] {
                pair_grad_v(e as usize, u, dv);
                row.iter_mut().zip(dv.iter()).for_each(|(o, x)| *o += x);
            }
        },
    );

    (grad_h, grad_rel, grad_a)
}
