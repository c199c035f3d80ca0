//! MPSEA's cross-modal deep perception reinforcement learning (§3.5): a mutual
//! information estimator between the joint embedding and each modality, and a policy
//! trained by the policy gradient with a baseline.
//!
//! - Estimator (the paper's "custom cross-modal mutual information estimator", not
//!   specified further): InfoNCE (van den Oord et al. 2018), a lower bound on `I(X; Y)`
//!   with a separable critic `f(x, y) = (x A) · (y B)`. Over a batch of `n` paired rows,
//!   each row's term is `f(x_i, y_i) − log Σ_j exp f(x_i, y_j) + log n`; their mean is
//!   the bound (at most `log n`).
//! - Policy: an MLP over the state (the joint embedding and the score) gives a softmax
//!   over actions; the loss is `−mean_i (r_i − b) log π(a_i | s_i) − η mean_i H(π(· | s_i))`
//!   with `b` a baseline (REINFORCE with a baseline, entropy bonus `η`).

use crate::backend::GraphBackend;
use burn::module::{Module, Param};
use burn::tensor::{Tensor, TensorData, activation, backend::Backend};

use crate::loginmea::Projection;
use crate::ops::{log_sum_exp_rows, param_from, xavier_uniform};
use crate::rng::SeededRng;

/// The InfoNCE estimate over a batch.
pub struct MiEstimate<B: Backend> {
    /// Each row's term (`n x 1`).
    pub per_row: Tensor<B, 2>,
    /// Their mean: the lower bound in nats.
    pub bound: Tensor<B, 1>,
}

/// A separable critic for the InfoNCE bound.
#[derive(Module, Debug)]
pub struct MiCritic<B: Backend> {
    left: Param<Tensor<B, 2>>,
    right: Param<Tensor<B, 2>>,
}

impl<B: Backend> MiCritic<B> {
    /// For `x` rows of width `dx` and `y` rows of width `dy`, compared in `width`
    /// dimensions.
    pub fn new(
        dx: usize,
        dy: usize,
        width: usize,
        rng: &mut SeededRng,
        device: &B::Device,
    ) -> Self {
        Self {
            left: param_from(
                xavier_uniform(rng, dx, width, dx * width),
                [dx, width],
                device,
            ),
            right: param_from(
                xavier_uniform(rng, dy, width, dy * width),
                [dy, width],
                device,
            ),
        }
    }

    /// The critic's value of each row pair (`n x 1`): a pointwise estimate of the
    /// mutual information up to a constant, defined for one entity at a time.
    pub fn pointwise(&self, x: Tensor<B, 2>, y: Tensor<B, 2>) -> Tensor<B, 2> {
        (x.matmul(self.left.val()) * y.matmul(self.right.val())).sum_dim(1)
    }

    /// The bound over paired rows of `x` and `y`.
    pub fn estimate(&self, x: Tensor<B, 2>, y: Tensor<B, 2>) -> MiEstimate<B> {
        let n = x.dims()[0];
        let scores = x
            .matmul(self.left.val())
            .matmul(y.matmul(self.right.val()).transpose());
        let diagonal = scores.clone() * Tensor::eye(n, &scores.device());
        let per_row = (diagonal.sum_dim(1) - log_sum_exp_rows(scores)).add_scalar((n as f64).ln());
        MiEstimate {
            bound: per_row.clone().mean(),
            per_row,
        }
    }
}

/// The policy network: state in, log-probabilities over `actions` out.
#[derive(Module, Debug)]
pub struct Policy<B: Backend> {
    hidden: Projection<B>,
    logits: Projection<B>,
}

impl<B: Backend> Policy<B> {
    /// Over states of width `state`, with a hidden layer of `hidden` units.
    pub fn new(
        state: usize,
        hidden: usize,
        actions: usize,
        rng: &mut SeededRng,
        device: &B::Device,
    ) -> Self {
        Self {
            hidden: Projection::new(state, hidden, rng, device),
            logits: Projection::new(hidden, actions, rng, device),
        }
    }

    /// The logits of `π(· | s)` for each state row (`n x A`).
    pub fn logits(&self, states: Tensor<B, 2>) -> Tensor<B, 2>
    where
        B: GraphBackend,
    {
        self.logits
            .forward(activation::relu(self.hidden.forward(states)))
    }
}

/// One action per row, drawn from the rows of `probabilities` (`n x A`, host values).
pub fn sample_actions(probabilities: &[f32], actions: usize, rng: &mut SeededRng) -> Vec<usize> {
    probabilities
        .chunks(actions)
        .map(|row| {
            let draw = rng.next_f64() as f32 * row.iter().sum::<f32>();
            let mut acc = 0.0;
            row.iter()
                .position(|&p| {
                    acc += p;
                    draw < acc
                })
                .unwrap_or(actions - 1)
        })
        .collect()
}

/// The policy's loss and what to log of it.
pub struct PolicyLoss<B: Backend> {
    /// `−mean (r − b) log π(a) − η mean H`.
    pub loss: Tensor<B, 1>,
    /// The mean entropy of the policy over the rows (nats).
    pub entropy: f64,
}

/// REINFORCE with a baseline and an entropy bonus (see the module docs) for the
/// policy's `logits` (`n x A`), the drawn `actions` and their `rewards`.
///
/// The gradient with respect to the logits is worked out on the host in f64,
/// `∂/∂z_j = ((b − r)([j = a] − π_j) + η π_j (log π_j + H)) / n` per row, and the loss
/// is `Σ z ⊙ G` shifted to the loss's value, so backpropagation brings exactly that
/// gradient to the network. Burn's own log-softmax gradient (and a log-sum-exp built
/// from tensor ops) differed in the last bits between identical calls on the NdArray
/// backend, which broke same-seed runs.
pub fn policy_gradient_loss<B: Backend>(
    logits: Tensor<B, 2>,
    actions: &[usize],
    rewards: &[f32],
    baseline: f32,
    entropy_weight: f64,
) -> PolicyLoss<B> {
    let (n, a, z) = crate::ops::to_host(logits.clone().detach());
    let mut gradient = vec![0.0f32; n * a];
    let (mut loss, mut entropy, mut surrogate) = (0.0f64, 0.0f64, 0.0f64);
    for (row, (&action, &reward)) in actions.iter().zip(rewards).enumerate() {
        let z = &z[row * a..(row + 1) * a];
        let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let total: f64 = z.iter().map(|&v| f64::from(v - max).exp()).sum();
        let log_p: Vec<f64> = z.iter().map(|&v| f64::from(v - max) - total.ln()).collect();
        let h: f64 = -log_p.iter().map(|l| l.exp() * l).sum::<f64>();
        let advantage = f64::from(reward - baseline);
        loss += -advantage * log_p[action] - entropy_weight * h;
        entropy += h;
        for j in 0..a {
            let p = log_p[j].exp();
            let chosen = if j == action { 1.0 } else { 0.0 };
            let g = (-advantage * (chosen - p) + entropy_weight * p * (log_p[j] + h)) / n as f64;
            gradient[row * a + j] = g as f32;
            surrogate += f64::from(z[j]) * f64::from(g as f32);
        }
    }
    let rows = n.max(1) as f64;
    let gradient = Tensor::<B, 2>::from_data(TensorData::new(gradient, [n, a]), &logits.device());
    let loss = (logits * gradient)
        .sum()
        .add_scalar(loss / rows - surrogate);
    PolicyLoss {
        loss,
        entropy: entropy / rows,
    }
}

#[cfg(test)]
mod tests {
    use burn::backend::{Autodiff, NdArray};
    use burn::module::AutodiffModule;
    use burn::optim::{AdamConfig, GradientsParams, Optimizer};

    use super::*;

    type T = Autodiff<NdArray>;

    fn host(x: Tensor<T, 2>) -> Vec<f32> {
        crate::ops::to_host(x.inner()).2
    }

    #[test]
    fn the_policy_gradient_matches_a_hand_worked_case() {
        let device = Default::default();
        // π = (1/4, 3/4) and (1/2, 1/2); actions 1 and 0; rewards 1 and 0; baseline 1/2.
        let logits = Tensor::<T, 2>::from_data(
            TensorData::new(vec![0.0f32, 3f32.ln(), 0.0, 0.0], [2, 2]),
            &device,
        )
        .require_grad();
        let out = policy_gradient_loss(logits.clone(), &[1, 0], &[1.0, 0.0], 0.5, 0.0);
        // −((1/2) ln(3/4) + (−1/2) ln(1/2)) / 2.
        let expected = -(0.5 * 0.75f64.ln() - 0.5 * 0.5f64.ln()) / 2.0;
        let loss: f32 = out.loss.clone().into_scalar();
        assert!(
            (f64::from(loss) - expected).abs() < 1e-6,
            "{loss} vs {expected}"
        );
        // ∂/∂z = −(1/n) (r − b) (onehot(a) − π): (1/16, −1/16) and (1/8, −1/8).
        let grads = out.loss.backward();
        let g = logits.grad(&grads).expect("the logits get a gradient");
        let g = crate::ops::to_host(g).2;
        for (got, want) in g.iter().zip([0.0625, -0.0625, 0.125, -0.125]) {
            assert!((got - want).abs() < 1e-6, "{g:?}");
        }
        // Entropies ln 4 − (3/4) ln 3 and ln 2: the bonus lowers the loss by η times
        // their mean.
        let entropy = (4f64.ln() - 0.75 * 3f64.ln() + 2f64.ln()) / 2.0;
        assert!((out.entropy - entropy).abs() < 1e-6);
        let with_bonus = policy_gradient_loss(logits.clone(), &[1, 0], &[1.0, 0.0], 0.5, 0.1);
        let bonus: f32 = with_bonus.loss.clone().into_scalar();
        assert!((f64::from(bonus) - (expected - 0.1 * entropy)).abs() < 1e-6);
        // The bonus's gradient is the entropy's, by autodiff of the entropy itself.
        let grads = with_bonus.loss.backward();
        let g = crate::ops::to_host(logits.grad(&grads).unwrap()).2;
        let z = logits.detach().require_grad();
        let p = activation::softmax(z.clone(), 1);
        let entropy_tensor = (p.clone() * p.log()).sum_dim(1).neg().mean();
        let pg = policy_gradient_loss(z.clone(), &[1, 0], &[1.0, 0.0], 0.5, 0.0).loss;
        let reference = (pg - entropy_tensor.mul_scalar(0.1)).backward();
        let want = crate::ops::to_host(z.grad(&reference).unwrap()).2;
        for (got, want) in g.iter().zip(&want) {
            assert!((got - want).abs() < 1e-6, "{g:?} vs {want:?}");
        }
    }

    #[test]
    fn actions_are_drawn_in_proportion_to_the_probabilities() {
        let mut rng = SeededRng::new(11);
        let rows: Vec<f32> = [0.1f32, 0.6, 0.3].repeat(3000);
        let drawn = sample_actions(&rows, 3, &mut rng);
        let share = |a| drawn.iter().filter(|&&d| d == a).count() as f64 / 3000.0;
        for (a, p) in [(0, 0.1), (1, 0.6), (2, 0.3)] {
            assert!((share(a) - p).abs() < 0.03, "action {a}: {}", share(a));
        }
    }

    /// `n` rows of `x` and of `y`; `y` a noisy linear map of `x` when `correlated`, an
    /// independent draw otherwise.
    fn batch(n: usize, correlated: bool, rng: &mut SeededRng) -> (Tensor<T, 2>, Tensor<T, 2>) {
        let device = Default::default();
        let x = rng.normal_vec(n * 4, 1.0);
        let y: Vec<f32> = if correlated {
            x.chunks(4)
                .flat_map(|r| {
                    let noise = rng.normal_vec(3, 0.1);
                    [
                        r[0] + r[1] + noise[0],
                        r[2] - r[3] + noise[1],
                        r[0] - r[2] + noise[2],
                    ]
                })
                .collect()
        } else {
            rng.normal_vec(n * 3, 1.0)
        };
        (
            Tensor::from_data(TensorData::new(x, [n, 4]), &device),
            Tensor::from_data(TensorData::new(y, [n, 3]), &device),
        )
    }

    /// The bound on fresh samples after training a critic on `correlated` data.
    fn trained_bound(correlated: bool) -> f32 {
        let mut rng = SeededRng::new(if correlated { 1 } else { 2 });
        let mut critic = MiCritic::<T>::new(4, 3, 8, &mut SeededRng::new(3), &Default::default());
        let mut optimizer = AdamConfig::new().init();
        for _ in 0..150 {
            let (x, y) = batch(64, correlated, &mut rng);
            let loss = critic.estimate(x, y).bound.neg();
            let grads = GradientsParams::from_grads(loss.backward(), &critic);
            critic = optimizer.step(1e-2, critic, grads);
        }
        let (x, y) = batch(256, correlated, &mut rng);
        let critic = critic.valid();
        critic.estimate(x.inner(), y.inner()).bound.into_scalar()
    }

    #[test]
    fn the_estimate_is_higher_for_correlated_than_for_independent_inputs() {
        let (correlated, independent) = (trained_bound(true), trained_bound(false));
        // log 256 = 5.5 is the bound's ceiling; independent data sit near 0.
        assert!(correlated > 1.5, "correlated: {correlated}");
        assert!(independent < 0.3, "independent: {independent}");
        let per_row = {
            let critic = MiCritic::<T>::new(4, 3, 8, &mut SeededRng::new(3), &Default::default());
            let (x, y) = batch(5, true, &mut SeededRng::new(4));
            host(critic.estimate(x, y).per_row)
        };
        assert_eq!(per_row.len(), 5);
    }
}
