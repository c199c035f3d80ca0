//! The MPSEA network: the five encoders, the pre-synergistic fusion, early and late
//! fusion into the joint embedding, the mutual-information estimator and the policy
//! that chooses, per entity, how much of each fusion level the joint embedding holds.
//!
//! Joint embedding: with `w` the entity's cross-modal weights, `ê_m` each encoder's
//! output and `ô_m` the fusion's (both unit rows), early fusion is `E = [w_m ê_m]_m` and
//! late fusion `L = [w_m ô_m]_m`; the joint embedding is `J = [(1 − α) E, α L]` with `α`
//! the policy's expected share of late fusion (a detached number per entity; ½ without
//! the reinforcement learning).
//!
//! Choices where the paper is silent (also in the registry's deviations):
//! - the policy's actions are the share of late fusion, from {0, ¼, ½, ¾, 1}: the
//!   paper's "adaptive multi-level feature fusion" decided per entity; its state is the
//!   fusion before that choice, `[E, L] / 2` normalised, and the critics' mean pointwise
//!   score; a reward is `cos(J_i(a), J_j) + m̂i_i − τ` for a seed pair `(i, j)` with
//!   `m̂i_i` the InfoNCE term of entity `i` over `log n` averaged over the modalities;
//!   the baseline is the batch's mean reward;
//! - the critics fit their bound on detached inputs (their own loss term), and the
//!   encoders maximise the bound weighted by `mi_weight`, both over at most
//!   [`MI_ROWS`] seed entities per step;
//! - the modal-adaptive contrastive loss weighs each seed pair's per-modality InfoNCE by
//!   `M·sqrt(w_m(i) w_m(j))` (detached), so a modality either entity lacks counts 0.

use crate::backend::GraphBackend;
use std::cell::RefCell;

use burn::module::{Module, Param};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Int, Tensor, TensorData, activation};

use super::config::{LEVELS, MpseaConfig};
use super::fusion::PreSynergyFusion;
use super::gat::{AttentionEdges, Gat};
use super::numeric::NumberEmbedding;
use super::policy::{MiCritic, Policy, policy_gradient_loss, sample_actions};
use crate::graph::{chunk_entities, int_tensor};
use crate::inputs::{DeviceInput, ModalityKind};
use crate::loginmea::Projection;
use crate::loss::{contrastive_loss, contrastive_rows};
use crate::model::{
    AlignmentModel, DataShape, Explanation, LossTerm, ModelInputs, StepContext, TrainableModel,
};
use crate::ops::{l2_normalize, param_from, to_host, xavier_normal};
use crate::rng::SeededRng;

/// At most this many seed entities per step enter the mutual-information estimate and
/// the policy's update.
pub const MI_ROWS: usize = 1024;

/// The MPSEA model.
#[derive(Module, Debug)]
pub struct Mpsea<B: Backend> {
    entities: Option<Param<Tensor<B, 2>>>,
    gat: Option<Gat<B>>,
    /// Relation, attribute and image projections, for those in use (token order).
    projections: Vec<Projection<B>>,
    numbers: Option<NumberEmbedding<B>>,
    fusion: PreSynergyFusion<B>,
    /// One critic per token, when the reinforcement learning or the MI term is on.
    critics: Vec<MiCritic<B>>,
    policy: Option<Policy<B>>,
    #[module(skip)]
    config: MpseaConfig,
}

impl MpseaConfig {
    /// Builds the model for data of `shape`, parameters drawn from `seed`.
    pub fn init<B: Backend>(&self, shape: &DataShape, seed: u64, device: &B::Device) -> Mpsea<B> {
        let mut rng = SeededRng::new(seed).fork("mpsea-init");
        let d = self.dim;
        let tokens = self.tokens();
        let structure = tokens.contains(&ModalityKind::Structure);
        let entities = structure.then(|| {
            let n = shape.entities;
            param_from(xavier_normal(&mut rng, n, d, n * d), [n, d], device)
        });
        let gat = structure.then(|| {
            Gat::new(
                self.gat_layers,
                self.gat_heads,
                d,
                !self.multi_weighted_gat,
                &mut rng,
                device,
            )
        });
        let projections = tokens
            .iter()
            .filter(|k| {
                matches!(
                    k,
                    ModalityKind::Relation | ModalityKind::Attribute | ModalityKind::Image
                )
            })
            .map(|&kind| Projection::glorot_normal(shape.width(kind), d, &mut rng, device))
            .collect();
        let numbers = tokens.contains(&ModalityKind::Number).then(|| {
            let keys = (shape.width(ModalityKind::Number) / 2).max(1);
            NumberEmbedding::new(keys, self.number_hidden, d, &mut rng, device)
        });
        let fusion =
            PreSynergyFusion::new(d, self.roles(), self.fusion_options(), &mut rng, device);
        let critics = if self.reinforcement || self.mi_weight > 0.0 {
            tokens
                .iter()
                .map(|_| MiCritic::new(self.output_dim(), d, self.critic_dim, &mut rng, device))
                .collect()
        } else {
            Vec::new()
        };
        let policy = self.reinforcement.then(|| {
            Policy::new(
                self.output_dim() + 1,
                self.policy_hidden,
                LEVELS.len(),
                &mut rng,
                device,
            )
        });
        Mpsea {
            entities,
            gat,
            projections,
            numbers,
            fusion,
            critics,
            policy,
            config: self.clone(),
        }
    }
}

/// One forward pass over a set of entities (every entity, or a training chunk's).
struct Pass<B: Backend> {
    /// Each encoder's output, unit rows.
    early: Vec<Tensor<B, 2>>,
    /// Each fusion output, unit rows.
    late: Vec<Tensor<B, 2>>,
    /// Cross-modal weights (`N x M`).
    weights: Tensor<B, 2>,
    /// `[E, L] / 2`, normalised: the fusion before the level choice (`N x 2Md`).
    fused: Tensor<B, 2>,
    /// Early and late fusion (`N x Md` each).
    early_fusion: Tensor<B, 2>,
    late_fusion: Tensor<B, 2>,
    /// The policy's logits over the levels (`N x A`), if on.
    logits: Option<Tensor<B, 2>>,
    /// The share of late fusion per entity (`N x 1`, detached).
    mix: Tensor<B, 2>,
}

impl<B: Backend> Pass<B> {
    /// `J = [(1 − α) E, α L]`.
    fn joint(&self) -> Tensor<B, 2> {
        joint_of(&self.early_fusion, &self.late_fusion, self.mix.clone())
    }
}

/// What one forward pass's encoders read: the structure GAT's output over every entity
/// and the other tokens' inputs, encoded later for the rows a loss needs (a training
/// chunk's entities: the fusion is per entity and every loss term is within the chunk, so
/// the fusion of the others would be work the gradient never reads).
struct EncoderInputs<B: Backend> {
    /// Entities in the pass (both graphs).
    entities: usize,
    /// The GAT's output (`N x d`), if structure is in use.
    structure: Option<Tensor<B, 2>>,
    /// The inputs of the other tokens, in token order.
    others: Vec<DeviceInput<B>>,
}

impl<B: Backend> EncoderInputs<B> {
    fn device(&self) -> B::Device {
        match (&self.structure, self.others.first()) {
            (Some(structure), _) => structure.device(),
            (None, Some(input)) => input.values.device(),
            (None, None) => unreachable!("MPSEA has at least one modality"),
        }
    }
}

/// `[(1 − α) E, α L]` for a per-row share `mix` (`n x 1`).
fn joint_of<B: Backend>(
    early: &Tensor<B, 2>,
    late: &Tensor<B, 2>,
    mix: Tensor<B, 2>,
) -> Tensor<B, 2> {
    Tensor::cat(
        vec![
            early.clone() * mix.clone().neg().add_scalar(1.0),
            late.clone() * mix,
        ],
        1,
    )
}

impl<B: Backend> Mpsea<B> {
    /// The configuration the model was built with.
    pub fn config(&self) -> &MpseaConfig {
        &self.config
    }

    /// What the encoders read: the structure GAT runs over every entity here (it needs
    /// their neighbours); the other tokens are encoded by [`Mpsea::tokens`], for the rows
    /// asked for only.
    fn encoder_inputs(&self, inputs: &ModelInputs<B>) -> EncoderInputs<B> {
        let (mut structure, mut others) = (None, Vec::new());
        for kind in self.config.tokens() {
            if kind == ModalityKind::Structure {
                let (table, gat) = (
                    self.entities.as_ref().expect("structure has its table"),
                    self.gat.as_ref().expect("structure has its GAT"),
                );
                structure = Some(gat.forward(table.val(), &AttentionEdges::of(&inputs.graph)));
            } else {
                others.push(
                    inputs
                        .modality(kind)
                        .expect("the run prepares every modality MPSEA asks for")
                        .clone(),
                );
            }
        }
        EncoderInputs {
            entities: inputs.entity_count(),
            structure,
            others,
        }
    }

    /// Each token's encoder output (not normalised) and presence mask for the entities
    /// `rows` (every entity when `None`).
    fn tokens(
        &self,
        encoder: &EncoderInputs<B>,
        rows: Option<&Tensor<B, 1, Int>>,
    ) -> (Vec<Tensor<B, 2>>, Vec<Tensor<B, 2>>)
    where
        B: GraphBackend,
    {
        let pick = |x: Tensor<B, 2>| match rows {
            Some(rows) => x.select(0, rows.clone()),
            None => x,
        };
        let n = rows.map_or(encoder.entities, |rows| rows.dims()[0]);
        let (mut projections, mut others) = (self.projections.iter(), encoder.others.iter());
        let (mut tokens, mut present) = (Vec::new(), Vec::new());
        for kind in self.config.tokens() {
            if kind == ModalityKind::Structure {
                let structure = encoder.structure.clone().expect("structure was encoded");
                present.push(Tensor::ones([n, 1], &structure.device()));
                tokens.push(pick(structure));
                continue;
            }
            let input = others
                .next()
                .expect("one input per token besides structure");
            let values = if input.shared {
                input.values.clone()
            } else {
                pick(input.values.clone())
            };
            let encoded = if kind == ModalityKind::Number {
                self.numbers
                    .as_ref()
                    .expect("numbers have their embedding")
                    .forward(values)
            } else {
                projections
                    .next()
                    .expect("one projection per bag or image token")
                    .forward(values)
            };
            let [_, d] = encoded.dims();
            tokens.push(if input.shared {
                encoded.expand([n, d])
            } else {
                encoded
            });
            present.push(pick(input.present.clone()));
        }
        (tokens, present)
    }

    /// The pass over every entity.
    fn pass(&self, inputs: &ModelInputs<B>) -> Pass<B>
    where
        B: GraphBackend,
    {
        self.pass_of(self.tokens(&self.encoder_inputs(inputs), None))
    }

    /// The pass over the rows of `tokens` (each `n x d`) with their presence masks.
    fn pass_of(&self, (tokens, present): (Vec<Tensor<B, 2>>, Vec<Tensor<B, 2>>)) -> Pass<B>
    where
        B: GraphBackend,
    {
        let n = tokens[0].dims()[0];
        let early: Vec<Tensor<B, 2>> = tokens.into_iter().map(l2_normalize).collect();
        let fused = self.fusion.forward(early.clone(), &present);
        let late: Vec<Tensor<B, 2>> = fused.tokens.into_iter().map(l2_normalize).collect();
        let weights = fused.weights;
        let weigh = |xs: &[Tensor<B, 2>]| {
            let parts = xs
                .iter()
                .enumerate()
                .map(|(m, x)| x.clone() * weights.clone().narrow(1, m, 1))
                .collect();
            Tensor::cat(parts, 1)
        };
        let (early_fusion, late_fusion) = (weigh(&early), weigh(&late));
        let device = weights.device();
        // Off the gradient's path (no MI term), it is built from detached values: a
        // tracked operation whose result the loss never reads changed the gradients of
        // its input in the last bits from one identical call to the next (NdArray).
        let both = Tensor::cat(vec![early_fusion.clone(), late_fusion.clone()], 1);
        let both = if self.config.mi_weight > 0.0 {
            both
        } else {
            both.detach()
        };
        let before_choice = l2_normalize(both.mul_scalar(0.5));
        let (logits, mix) = match &self.policy {
            Some(policy) => {
                let state = before_choice.clone().detach();
                let tokens: Vec<Tensor<B, 2>> = early.iter().map(|t| t.clone().detach()).collect();
                let score = self.pointwise_score(state.clone(), &tokens).detach();
                let state = Tensor::cat(vec![state, score], 1);
                let logits = policy.logits(state);
                let levels = Tensor::<B, 2>::from_data(
                    TensorData::new(LEVELS.map(|l| l as f32).to_vec(), [LEVELS.len(), 1]),
                    &device,
                );
                let mix = activation::softmax(logits.clone().detach(), 1).matmul(levels);
                (Some(logits), mix)
            }
            None => (None, Tensor::ones([n, 1], &device).mul_scalar(0.5)),
        };
        Pass {
            early,
            late,
            weights,
            fused: before_choice,
            early_fusion,
            late_fusion,
            logits,
            mix,
        }
    }

    /// The critics' mean pointwise score of `fused` against each token (`N x 1`).
    fn pointwise_score(&self, fused: Tensor<B, 2>, early: &[Tensor<B, 2>]) -> Tensor<B, 2> {
        let m = self.critics.len().max(1) as f64;
        self.critics
            .iter()
            .zip(early)
            .map(|(critic, token)| critic.pointwise(fused.clone(), token.clone()))
            .reduce(|a, b| a + b)
            .expect("the policy has its critics")
            .div_scalar(m)
    }
}

impl<B: GraphBackend> AlignmentModel<B> for Mpsea<B> {
    fn embed(&self, inputs: &ModelInputs<B>) -> Tensor<B, 2> {
        self.pass(inputs).joint()
    }

    fn explain(&self, inputs: &ModelInputs<B>) -> Explanation<B> {
        let pass = self.pass(inputs);
        let kinds = self.config.tokens();
        let occluded = kinds
            .iter()
            .filter(|&&k| k != ModalityKind::Structure)
            .map(|&kind| (kind, self.embed(&inputs.without(kind))))
            .collect();
        Explanation {
            joint: pass.joint(),
            blocks: self.config.score_blocks(),
            occluded,
            modalities: kinds
                .iter()
                .copied()
                .zip(pass.early.iter().cloned())
                .collect(),
            weights: Some(pass.weights.clone()),
            weight_modalities: kinds,
        }
    }
}

/// What the losses need from a training forward pass: the encoders' inputs, fused per
/// chunk of seed pairs for the chunk's entities.
pub struct MpseaForward<B: Backend> {
    encoder: EncoderInputs<B>,
    /// Per policy update: its mean reward, its entropy, and the mean share of late
    /// fusion of the chunk's entities, for the diagnostics.
    policy_log: RefCell<Vec<PolicyRecord>>,
}

/// One policy update's figures.
struct PolicyRecord {
    reward: f64,
    entropy: f64,
    late_share: f64,
}

/// Per-row terms of the critics' InfoNCE over `rows` (each `n x 1`), and their loss.
struct MiStep<B: Backend> {
    loss_terms: Vec<LossTerm<B>>,
    /// `m̂i` per row: the mean over modalities of the row's term over `log n` (detached).
    normalised: Tensor<B, 2>,
}

impl<B: AutodiffBackend> Mpsea<B> {
    fn mutual_information(&self, pass: &Pass<B>, rows: Tensor<B, 1, Int>) -> MiStep<B> {
        let n = rows.dims()[0];
        // Detach before selecting: see `pass`.
        let detached = |x: &Tensor<B, 2>| x.clone().detach().select(0, rows.clone());
        let tracked = |x: &Tensor<B, 2>| x.clone().select(0, rows.clone());
        let shares = self.config.mi_weight > 0.0;
        let (mut fit, mut shared, mut per_row) = (None, None, None);
        let add =
            |acc: Option<Tensor<B, 1>>, x: Tensor<B, 1>| Some(acc.map_or(x.clone(), |a| a + x));
        for (critic, token) in self.critics.iter().zip(&pass.early) {
            let own = critic.estimate(detached(&pass.fused), detached(token));
            fit = add(fit, own.bound.neg());
            per_row = Some(match per_row {
                None => own.per_row.detach(),
                Some(acc) => acc + own.per_row.detach(),
            });
            if shares {
                shared = add(
                    shared,
                    critic.estimate(tracked(&pass.fused), tracked(token)).bound,
                );
            }
        }
        let m = self.critics.len().max(1) as f64;
        let mut loss_terms = vec![LossTerm {
            name: "mi_critic",
            value: fit.expect("a critic").div_scalar(m),
        }];
        if let Some(shared) = shared {
            loss_terms.push(LossTerm {
                name: "mutual_information",
                value: shared.div_scalar(m).mul_scalar(-self.config.mi_weight),
            });
        }
        let normalised = per_row
            .expect("a critic")
            .div_scalar(m * (n.max(2) as f64).ln());
        MiStep {
            loss_terms,
            normalised,
        }
    }

    /// The policy-gradient term over seed pairs `(left[k], right[k])`.
    #[allow(clippy::too_many_arguments)]
    fn policy_term(
        &self,
        pass: &Pass<B>,
        joint: &Tensor<B, 2>,
        log: &RefCell<Vec<PolicyRecord>>,
        logits: &Tensor<B, 2>,
        left: Tensor<B, 1, Int>,
        right: Tensor<B, 1, Int>,
        mi: Tensor<B, 2>,
        rng: &mut SeededRng,
    ) -> LossTerm<B> {
        let rows = logits.clone().select(0, left.clone());
        let (_, a, probabilities) = to_host(activation::softmax(rows.clone().detach(), 1));
        let actions = sample_actions(&probabilities, a, rng);
        let shares: Vec<f32> = actions.iter().map(|&i| LEVELS[i] as f32).collect();
        let k = shares.len();
        let device = rows.device();
        let chosen = Tensor::<B, 2>::from_data(TensorData::new(shares, [k, 1]), &device);
        let candidate = l2_normalize(joint_of(
            &pass.early_fusion.clone().detach().select(0, left.clone()),
            &pass.late_fusion.clone().detach().select(0, left),
            chosen,
        ));
        let counterpart = l2_normalize(joint.clone().detach().select(0, right));
        let reward = (candidate * counterpart).sum_dim(1) + mi - self.config.reward_threshold;
        let (_, _, rewards) = to_host(reward);
        let baseline = rewards.iter().sum::<f32>() / k.max(1) as f32;
        let out = policy_gradient_loss(
            rows,
            &actions,
            &rewards,
            baseline,
            self.config.entropy_weight,
        );
        let late_share: f32 = pass.mix.clone().mean().into_scalar().elem();
        log.borrow_mut().push(PolicyRecord {
            reward: f64::from(baseline),
            entropy: out.entropy,
            late_share: f64::from(late_share),
        });
        LossTerm {
            name: "policy",
            value: out.loss,
        }
    }
}

impl<B: AutodiffBackend + GraphBackend> TrainableModel<B> for Mpsea<B> {
    type Forward = MpseaForward<B>;

    fn forward_train(&self, inputs: &ModelInputs<B>, _step: &mut StepContext<'_>) -> Self::Forward {
        MpseaForward {
            encoder: self.encoder_inputs(inputs),
            policy_log: RefCell::new(Vec::new()),
        }
    }

    /// `reward` and `policy entropy` of the step's policy updates, and the mean share
    /// of late fusion the policy chose for the seed entities.
    fn diagnostics(&self, forward: &Self::Forward) -> Vec<(String, f64)> {
        let log = forward.policy_log.borrow();
        if log.is_empty() {
            return Vec::new();
        }
        let mean = |figure: fn(&PolicyRecord) -> f64| {
            log.iter().map(figure).sum::<f64>() / log.len() as f64
        };
        vec![
            ("reward".into(), mean(|r| r.reward)),
            ("policy entropy".into(), mean(|r| r.entropy)),
            ("late fusion share".into(), mean(|r| r.late_share)),
        ]
    }

    fn losses(
        &self,
        forward: &Self::Forward,
        pairs: &[(u32, u32)],
        step: &mut StepContext<'_>,
    ) -> Vec<LossTerm<B>> {
        let c = &self.config;
        let (entities, pairs) = chunk_entities(pairs);
        let device = forward.encoder.device();
        let index = |it: &mut dyn Iterator<Item = u32>| int_tensor::<B>(it, &device);
        let rows = index(&mut entities.iter().copied());
        let pass = &self.pass_of(self.tokens(&forward.encoder, Some(&rows)));
        let joint_embedding = pass.joint();
        let left = index(&mut pairs.iter().map(|p| p.0));
        let right = index(&mut pairs.iter().map(|p| p.1));
        let joint = contrastive_loss(
            &l2_normalize(joint_embedding.clone()),
            left.clone(),
            right.clone(),
            c.temperature,
            true,
        );
        let mut terms = vec![LossTerm {
            name: "joint",
            value: joint,
        }];
        let m = pass.early.len();
        let weights = pass.weights.clone().detach();
        let modal = (0..m)
            .map(|t| {
                let w = |side: &Tensor<B, 1, Int>| {
                    weights.clone().narrow(1, t, 1).select(0, side.clone())
                };
                let pair_weight = (w(&left) * w(&right)).sqrt().mul_scalar(m as f64);
                let rows = |x: &Tensor<B, 2>| {
                    contrastive_rows(x, left.clone(), right.clone(), c.temperature, true)
                };
                ((rows(&pass.early[t]) + rows(&pass.late[t])).div_scalar(2.0) * pair_weight).mean()
            })
            .reduce(|a, b| a + b)
            .expect("a token")
            .div_scalar(m as f64);
        terms.push(LossTerm {
            name: "modal_adaptive",
            value: modal,
        });
        if !self.critics.is_empty() {
            let k = pairs.len().min(MI_ROWS);
            let sample = index(&mut pairs[..k].iter().map(|p| p.0));
            let mi = self.mutual_information(pass, sample.clone());
            terms.extend(mi.loss_terms);
            if let Some(logits) = &pass.logits {
                let counterparts = index(&mut pairs[..k].iter().map(|p| p.1));
                terms.push(self.policy_term(
                    pass,
                    &joint_embedding,
                    &forward.policy_log,
                    logits,
                    sample,
                    counterparts,
                    mi.normalised,
                    step.rng,
                ));
            }
        }
        terms
    }
}
