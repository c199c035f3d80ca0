//! TMEA's missing modality imputation (the paper's §4.2, Eq. 5–9).
//!
//! For each feature modality `t` (attribute, image) the other modalities' features are
//! concatenated and projected to one vector `g_t` (Eq. 5–6). Two VAEs, one over `e_t`
//! and one over `g_t`, share a latent space: besides each VAE's own loss (reconstruction
//! and KL, Eq. 7–8), the latent means are pulled together (`L_mse`, Eq. 9). An entity
//! without `t` gets the pseudo feature `decoder_t(z(g_t))`; an entity with `t` keeps its
//! real feature (a mask, so a real feature is never replaced).
//!
//! Two deviations, both switches (`kl_weight`, `cross_reconstruction`), found on the
//! planted missing-image test: with the plain ELBO (KL weight 1) the encoders collapse
//! to the prior (every pseudo feature was the same vector: its cosine to the mean pseudo
//! feature 1.000, and to the entity's removed real feature no higher than to another
//! entity's), and `g_t` can shrink to a constant that its own VAE reconstructs for free.
//! So the KL term is weighted 0.01, and the pseudo feature `dec_t(μ(g_t))` is trained to
//! reconstruct `e_t` where the entity has it (a cross-reconstruction, as cross-modal VAEs
//! such as CADA-VAE do). With both, the pseudo images of held-out entities reach a
//! cosine of 0.94 to their real ones (0.16 to another entity's).
//!
//! Choices where the paper is silent:
//! - the VAE losses are the per-entity negative ELBO with a unit-variance Gaussian
//!   decoder, `½‖x − x̂‖² + KL`, averaged over the entities that have every feature
//!   modality (the only ones with a target for each VAE);
//! - the VAEs read their inputs detached, as the authors' code does, so the imputation
//!   losses train the imputation only; the pseudo features are not detached, so the
//!   alignment loss trains the imputation path too;
//! - the source VAE's own ELBO reads `g_t` detached too: it models `g_t` but does not
//!   shape it, so the source projection learns from the latent alignment, the
//!   cross-reconstruction and the alignment loss only. Trained through its own ELBO,
//!   `g_t` shrank towards what that VAE reconstructs for free: on the demo with 40% of
//!   the right images missing (240 steps), any two pseudo images had cosine 0.99 and
//!   fitted the real ones at 0.05; with `g_t` detached there, 0.67 and 0.13;
//! - latents are aligned and decoded at their means (deterministic pseudo features);
//!   the reconstruction samples `z = μ + σ ε` with `ε` from the run's generator;
//! - pseudo features are L2-normalised like the real ones;
//! - an entity missing two modalities gets each from the others as the input pipeline
//!   filled them in (the stand-in), not from each other's pseudo feature;
//! - log-variances are clamped to ±10 before `exp`.

use crate::backend::GraphBackend;
use burn::module::Module;
use burn::tensor::{Int, Tensor, TensorData, activation, backend::Backend};

use crate::loginmea::Projection;
use crate::ops::l2_normalize;
use crate::rng::SeededRng;

/// A variational autoencoder with one hidden layer each way (two fully connected layers
/// per direction, as the paper's Appendix C.3 has them).
#[derive(Module, Debug)]
pub struct Vae<B: Backend> {
    hidden: Projection<B>,
    mean: Projection<B>,
    log_variance: Projection<B>,
    decode_hidden: Projection<B>,
    decode_output: Projection<B>,
}

/// KL divergence of `N(μ, diag(exp(log σ²)))` from `N(0, I)`, per row (`N x 1`):
/// `½ Σ (σ² + μ² − 1 − log σ²)`.
pub fn kl_to_standard_normal<B: Backend>(
    mean: Tensor<B, 2>,
    log_variance: Tensor<B, 2>,
) -> Tensor<B, 2> {
    (log_variance.clone().exp() + mean.powi_scalar(2) - log_variance)
        .sub_scalar(1.0)
        .sum_dim(1)
        .mul_scalar(0.5)
}

impl<B: Backend> Vae<B> {
    /// `width -> hidden -> latent` and back.
    pub fn new(
        width: usize,
        hidden: usize,
        latent: usize,
        rng: &mut SeededRng,
        device: &B::Device,
    ) -> Self {
        Self {
            hidden: Projection::glorot_normal(width, hidden, rng, device),
            mean: Projection::glorot_normal(hidden, latent, rng, device),
            log_variance: Projection::glorot_normal(hidden, latent, rng, device),
            decode_hidden: Projection::glorot_normal(latent, hidden, rng, device),
            decode_output: Projection::glorot_normal(hidden, width, rng, device),
        }
    }

    /// The posterior's mean and log-variance of each row.
    pub fn encode(&self, x: Tensor<B, 2>) -> (Tensor<B, 2>, Tensor<B, 2>)
    where
        B: GraphBackend,
    {
        let h = activation::relu(self.hidden.forward(x));
        (
            self.mean.forward(h.clone()),
            self.log_variance.forward(h).clamp(-10.0, 10.0),
        )
    }

    /// The reconstruction of latent rows.
    pub fn decode(&self, z: Tensor<B, 2>) -> Tensor<B, 2>
    where
        B: GraphBackend,
    {
        self.decode_output
            .forward(activation::relu(self.decode_hidden.forward(z)))
    }

    /// The mean negative ELBO of `x`'s rows with the KL term weighted `kl_weight` (1 is
    /// the plain ELBO), `z` drawn with the standard normal `noise` (same shape as the
    /// latent), and the posterior means.
    pub fn loss(
        &self,
        x: Tensor<B, 2>,
        noise: Tensor<B, 2>,
        kl_weight: f64,
    ) -> (Tensor<B, 1>, Tensor<B, 2>)
    where
        B: GraphBackend,
    {
        let (mean, log_variance) = self.encode(x.clone());
        let z = mean.clone() + log_variance.clone().mul_scalar(0.5).exp() * noise;
        let reconstruction = (self.decode(z) - x)
            .powi_scalar(2)
            .sum_dim(1)
            .mul_scalar(0.5);
        let kl = kl_to_standard_normal(mean.clone(), log_variance);
        ((reconstruction + kl.mul_scalar(kl_weight)).mean(), mean)
    }
}

/// The imputation of one feature modality: its source projection and its two VAEs.
#[derive(Module, Debug)]
pub struct ImputationTarget<B: Backend> {
    source: Projection<B>,
    target_vae: Vae<B>,
    source_vae: Vae<B>,
}

/// Imputation of every feature modality of the model.
#[derive(Module, Debug)]
pub struct Imputation<B: Backend> {
    targets: Vec<ImputationTarget<B>>,
    /// The token each target fills in.
    #[module(skip)]
    token_of_target: Vec<usize>,
    /// Width of the latent space.
    #[module(skip)]
    latent: usize,
}

/// The imputation's two losses on one step.
pub struct ImputationLosses<B: Backend> {
    /// `L_v`: every VAE's negative ELBO.
    pub vae: Tensor<B, 1>,
    /// `L_mse`: distance of each target's latent from its source's.
    pub latent: Tensor<B, 1>,
    /// `½‖dec_t(μ(g_t)) − e_t‖²`: the pseudo feature against the real one, where the
    /// entity has it (AlignScope's addition; zero when switched off).
    pub cross: Tensor<B, 1>,
    /// Per target, the mean cosine of the pseudo feature to the real one over the
    /// entities with both (detached: a diagnostic, not a loss; empty without rows).
    pub fit: Vec<Tensor<B, 1>>,
}

/// How the imputation's losses are weighted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImputationWeights {
    /// Weight of each VAE's KL term (1: the plain ELBO).
    pub kl: f64,
    /// Whether the cross-reconstruction loss is on.
    pub cross_reconstruction: bool,
}

/// The other tokens of `target`, concatenated.
fn others<B: Backend>(tokens: &[Tensor<B, 2>], target: usize) -> Tensor<B, 2> {
    Tensor::cat(
        tokens
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != target)
            .map(|(_, t)| t.clone())
            .collect(),
        1,
    )
}

/// Standard normal values from the run's generator, as a tensor.
fn standard_normal<B: Backend>(
    rows: usize,
    cols: usize,
    rng: &mut SeededRng,
    device: &B::Device,
) -> Tensor<B, 2> {
    Tensor::from_data(
        TensorData::new(rng.normal_vec(rows * cols, 1.0), [rows, cols]),
        device,
    )
}

impl<B: Backend> Imputation<B> {
    /// Imputation of the tokens at `targets` among `token_count` tokens of width `dim`.
    pub fn new(
        targets: &[usize],
        token_count: usize,
        dim: usize,
        hidden: usize,
        latent: usize,
        rng: &mut SeededRng,
        device: &B::Device,
    ) -> Self {
        Self {
            targets: targets
                .iter()
                .map(|_| ImputationTarget {
                    source: Projection::glorot_normal((token_count - 1) * dim, dim, rng, device),
                    target_vae: Vae::new(dim, hidden, latent, rng, device),
                    source_vae: Vae::new(dim, hidden, latent, rng, device),
                })
                .collect(),
            token_of_target: targets.to_vec(),
            latent,
        }
    }

    /// The tokens each target fills in.
    pub fn target_tokens(&self) -> &[usize] {
        &self.token_of_target
    }

    /// The pseudo feature of every entity for each target (unit rows, `N x dim`).
    pub fn pseudo_features(&self, tokens: &[Tensor<B, 2>]) -> Vec<Tensor<B, 2>>
    where
        B: GraphBackend,
    {
        self.targets
            .iter()
            .zip(&self.token_of_target)
            .map(|(target, &token)| {
                let g = target.source.forward(others(tokens, token));
                let (z, _) = target.source_vae.encode(g);
                l2_normalize(target.target_vae.decode(z))
            })
            .collect()
    }

    /// `tokens` with each target's rows of entities without it (`present` 0) replaced
    /// by their pseudo features; `present[i]` is token `i`'s mask (`N x 1`).
    pub fn fill(&self, tokens: &[Tensor<B, 2>], present: &[Tensor<B, 2>]) -> Vec<Tensor<B, 2>>
    where
        B: GraphBackend,
    {
        let mut filled = tokens.to_vec();
        for (pseudo, &token) in self
            .pseudo_features(tokens)
            .into_iter()
            .zip(&self.token_of_target)
        {
            let mask = present[token].clone();
            let missing = mask.clone().neg().add_scalar(1.0);
            filled[token] = tokens[token].clone() * mask + pseudo * missing;
        }
        filled
    }

    /// The imputation losses on the entities `rows` (those with every target present),
    /// inputs detached; the reparameterisation noise comes from `rng`.
    pub fn losses(
        &self,
        tokens: &[Tensor<B, 2>],
        rows: Tensor<B, 1, Int>,
        weights: ImputationWeights,
        rng: &mut SeededRng,
    ) -> ImputationLosses<B>
    where
        B: GraphBackend,
    {
        let device = rows.device();
        let count = rows.dims()[0];
        let zero = || Tensor::<B, 1>::zeros([1], &device);
        if count == 0 {
            return ImputationLosses {
                vae: zero(),
                latent: zero(),
                cross: zero(),
                fit: Vec::new(),
            };
        }
        let detached: Vec<Tensor<B, 2>> = tokens
            .iter()
            .map(|t| t.clone().detach().select(0, rows.clone()))
            .collect();
        let (mut vae, mut latent, mut cross) = (zero(), zero(), zero());
        let mut fit = Vec::with_capacity(self.targets.len());
        for (target, &token) in self.targets.iter().zip(&self.token_of_target) {
            let g = target.source.forward(others(&detached, token));
            let x = detached[token].clone();
            let x_target = x.clone();
            let (target_loss, target_mean) = target.target_vae.loss(
                x,
                standard_normal(count, self.latent, rng, &device),
                weights.kl,
            );
            // The source VAE models `g_t` but does not shape it: its own ELBO reads `g_t`
            // detached (else `W_s` shrinks `g_t` to what it reconstructs for free), and
            // `W_s` learns from the latent alignment and the cross-reconstruction only.
            let (source_loss, _) = target.source_vae.loss(
                g.clone().detach(),
                standard_normal(count, self.latent, rng, &device),
                weights.kl,
            );
            let (source_mean, _) = target.source_vae.encode(g);
            let pseudo = target.target_vae.decode(source_mean.clone());
            fit.push(
                (l2_normalize(pseudo.clone().detach()) * x_target.clone())
                    .sum_dim(1)
                    .mean(),
            );
            if weights.cross_reconstruction {
                cross = cross
                    + (pseudo - x_target)
                        .powi_scalar(2)
                        .sum_dim(1)
                        .mul_scalar(0.5)
                        .mean();
            }
            vae = vae + target_loss + source_loss;
            latent = latent + (target_mean - source_mean).powi_scalar(2).mean();
        }
        ImputationLosses {
            vae,
            latent,
            cross,
            fit,
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::backend::NdArray;

    use super::*;

    type Cpu = NdArray;

    /// The closed form against a Monte-Carlo estimate of `E_q[log q(z) − log p(z)]`.
    #[test]
    fn kl_matches_its_closed_form_and_a_monte_carlo_estimate() {
        let device = Default::default();
        let mean = [0.5f64, -1.0, 0.0];
        let log_variance = [0.2f64, -0.7, 1.1];
        let kl: f32 = kl_to_standard_normal(
            Tensor::<Cpu, 2>::from_data(
                TensorData::new(mean.map(|v| v as f32).to_vec(), [1, 3]),
                &device,
            ),
            Tensor::<Cpu, 2>::from_data(
                TensorData::new(log_variance.map(|v| v as f32).to_vec(), [1, 3]),
                &device,
            ),
        )
        .into_scalar();
        let closed: f64 = mean
            .iter()
            .zip(&log_variance)
            .map(|(m, lv)| 0.5 * (lv.exp() + m * m - 1.0 - lv))
            .sum();
        assert!((f64::from(kl) - closed).abs() < 1e-5, "{kl} vs {closed}");
        let mut rng = SeededRng::new(9);
        let samples = 200_000;
        let mut total = 0.0;
        for _ in 0..samples {
            for (m, lv) in mean.iter().zip(&log_variance) {
                let s = (0.5 * lv).exp();
                let e = rng.normal();
                let z = m + s * e;
                // log q − log p, the 2π terms cancel.
                total += -0.5 * e * e - s.ln() + 0.5 * z * z;
            }
        }
        let estimate = total / samples as f64;
        assert!(
            (estimate - closed).abs() < 0.02 * closed.max(0.1),
            "Monte Carlo {estimate} vs closed form {closed}"
        );
    }

    #[test]
    fn real_features_are_never_replaced_and_missing_ones_are_pseudo() {
        let device = Default::default();
        let mut rng = SeededRng::new(1);
        let imputation = Imputation::<Cpu>::new(&[1], 2, 4, 6, 3, &mut rng, &device);
        let tokens: Vec<Tensor<Cpu, 2>> = (0..2)
            .map(|_| {
                l2_normalize(Tensor::from_data(
                    TensorData::new(rng.normal_vec(20, 1.0), [5, 4]),
                    &device,
                ))
            })
            .collect();
        let ones = Tensor::<Cpu, 2>::ones([5, 1], &device);
        let mask = Tensor::from_data(
            TensorData::new(vec![1.0f32, 0.0, 1.0, 0.0, 1.0], [5, 1]),
            &device,
        );
        let filled = imputation.fill(&tokens, &[ones, mask]);
        let pseudo = imputation.pseudo_features(&tokens).remove(0);
        let rows = |t: &Tensor<Cpu, 2>| t.clone().into_data().to_vec::<f32>().unwrap();
        let (got, real, fake) = (rows(&filled[1]), rows(&tokens[1]), rows(&pseudo));
        for entity in 0..5 {
            let expected = if entity % 2 == 0 { &real } else { &fake };
            assert_eq!(
                &got[entity * 4..entity * 4 + 4],
                &expected[entity * 4..entity * 4 + 4],
                "entity {entity}"
            );
        }
        assert_eq!(
            rows(&filled[0]),
            rows(&tokens[0]),
            "the source token is untouched"
        );
    }
}
