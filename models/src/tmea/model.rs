//! The TMEA network: tokens from the knowledge encoder, imputation of missing feature
//! modalities, commonality enhancement, the joint embedding, and its training losses.

use crate::backend::GraphBackend;
use std::sync::Arc;

use burn::module::{Module, Param};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Tensor};

use super::commonality::{Commonality, Enhanced};
use super::config::TmeaConfig;
use super::imputation::{Imputation, ImputationLosses, ImputationWeights};
use super::transe::{Triple, sample_batch, transe_loss, triples};
use crate::graph::{AlignmentGraph, int_tensor};
use crate::inputs::ModalityKind;
use crate::loginmea::Projection;
use crate::loss::margin_contrastive_loss;
use crate::model::{
    AlignmentModel, DataShape, Explanation, LossTerm, ModelInputs, StepContext, TrainableModel,
};
use crate::ops::{l2_normalize, param_from, to_host, xavier_normal};
use crate::rng::SeededRng;

/// The TMEA model.
#[derive(Module, Debug)]
pub struct Tmea<B: Backend> {
    entities: Option<Param<Tensor<B, 2>>>,
    relations: Option<Param<Tensor<B, 2>>>,
    projections: Vec<Projection<B>>,
    imputation: Option<Imputation<B>>,
    commonality: Option<Commonality<B>>,
    #[module(skip)]
    config: TmeaConfig,
    /// The relational triples of both graphs (joint indices), for the TransE loss.
    #[module(skip)]
    triples: Arc<Vec<Triple>>,
}

impl TmeaConfig {
    /// Builds the model for data of `shape` over `graph`, parameters drawn from `seed`
    /// (Xavier normal, as the paper's Appendix C.3).
    pub fn init<B: Backend>(
        &self,
        shape: &DataShape,
        graph: &AlignmentGraph,
        seed: u64,
        device: &B::Device,
    ) -> Tmea<B> {
        let mut rng = SeededRng::new(seed).fork("tmea-init");
        let d = self.dim;
        let table = |rng: &mut SeededRng, rows: usize| {
            param_from(xavier_normal(rng, rows, d, rows * d), [rows, d], device)
        };
        let entities = self
            .uses_structure()
            .then(|| table(&mut rng, shape.entities));
        let relations = self
            .uses_structure()
            .then(|| table(&mut rng, graph.relation_count.max(1)));
        let projections = self
            .feature_tokens()
            .into_iter()
            .map(|kind| Projection::glorot_normal(shape.width(kind), d, &mut rng, device))
            .collect();
        let tokens = self.tokens();
        let imputation = self.imputes().then(|| {
            let targets: Vec<usize> = (0..tokens.len())
                .filter(|&i| tokens[i] != ModalityKind::Structure)
                .collect();
            Imputation::new(
                &targets,
                tokens.len(),
                d,
                self.vae_hidden,
                self.latent_dim,
                &mut rng,
                device,
            )
        });
        let commonality = self
            .attends()
            .then(|| Commonality::new(tokens.len(), d, self.heads, &mut rng, device));
        Tmea {
            entities,
            relations,
            projections,
            imputation,
            commonality,
            config: self.clone(),
            triples: Arc::new(if self.uses_structure() {
                triples(graph)
            } else {
                Vec::new()
            }),
        }
    }
}

/// One forward pass over every entity.
struct Pass<B: Backend> {
    /// Unit-normalised features per token, before imputation.
    raw: Vec<Tensor<B, 2>>,
    /// Presence mask per token (`N x 1`; structure: all ones).
    present: Vec<Tensor<B, 2>>,
    /// The tokens after imputation.
    filled: Vec<Tensor<B, 2>>,
    /// The commonality enhancement, if on.
    enhanced: Option<Enhanced<B>>,
}

impl<B: Backend> Pass<B> {
    /// The final tokens (`e_m+`, or the filled ones without enhancement).
    fn tokens(&self) -> &[Tensor<B, 2>] {
        match &self.enhanced {
            Some(e) => &e.tokens,
            None => &self.filled,
        }
    }

    /// `e_M`, the joint embedding.
    fn joint(&self) -> Tensor<B, 2> {
        Tensor::cat(self.tokens().to_vec(), 1)
    }
}

/// One token of every entity before and after imputation (see [`Tmea::token_views`]).
pub struct TokenView<B: Backend> {
    /// The token's modality.
    pub kind: ModalityKind,
    /// The projected, normalised input (for an entity without the modality, its
    /// stand-in's projection).
    pub raw: Tensor<B, 2>,
    /// The token after imputation (the real one where present, else the pseudo feature;
    /// the raw one without imputation).
    pub filled: Tensor<B, 2>,
    /// Presence mask (`N x 1`).
    pub present: Tensor<B, 2>,
}

impl<B: Backend> Tmea<B> {
    /// The configuration the model was built with.
    pub fn config(&self) -> &TmeaConfig {
        &self.config
    }

    /// Every entity's pseudo image (unit rows), whether or not it has a real one; `None`
    /// without imputation or an image token.
    pub fn pseudo_images(&self, inputs: &ModelInputs<B>) -> Option<Tensor<B, 2>>
    where
        B: GraphBackend,
    {
        let imputation = self.imputation.as_ref()?;
        let image = self
            .config
            .tokens()
            .iter()
            .position(|&k| k == ModalityKind::Image)?;
        let at = imputation
            .target_tokens()
            .iter()
            .position(|&t| t == image)?;
        let pass = self.pass(inputs);
        imputation.pseudo_features(&pass.raw).into_iter().nth(at)
    }

    /// Each token of every entity before and after imputation: what a missing modality
    /// became (`examples/tmea_imputation.rs` compares it with the real feature).
    pub fn token_views(&self, inputs: &ModelInputs<B>) -> Vec<TokenView<B>>
    where
        B: GraphBackend,
    {
        let pass = self.pass(inputs);
        self.config
            .tokens()
            .into_iter()
            .zip(pass.raw)
            .zip(pass.filled)
            .zip(pass.present)
            .map(|(((kind, raw), filled), present)| TokenView {
                kind,
                raw,
                filled,
                present,
            })
            .collect()
    }

    fn pass(&self, inputs: &ModelInputs<B>) -> Pass<B>
    where
        B: GraphBackend,
    {
        let n = inputs.entity_count();
        let mut projections = self.projections.iter();
        let (mut raw, mut present) = (Vec::new(), Vec::new());
        for kind in self.config.tokens() {
            if kind == ModalityKind::Structure {
                let table = self.entities.as_ref().expect("structure has its table");
                raw.push(l2_normalize(table.val()));
                present.push(Tensor::ones([n, 1], &table.device()));
                continue;
            }
            let input = inputs
                .modality(kind)
                .expect("the run prepares every modality TMEA asks for");
            let projected = projections
                .next()
                .expect("one projection per feature token")
                .forward(input.values.clone());
            let projected = if input.shared {
                let [_, d] = projected.dims();
                projected.expand([n, d])
            } else {
                projected
            };
            raw.push(l2_normalize(projected));
            present.push(input.present.clone());
        }
        let filled = match &self.imputation {
            Some(imputation) => imputation.fill(&raw, &present),
            None => raw.clone(),
        };
        let enhanced = self.commonality.as_ref().map(|c| c.forward(&filled));
        Pass {
            raw,
            present,
            filled,
            enhanced,
        }
    }
}

impl<B: GraphBackend> AlignmentModel<B> for Tmea<B> {
    fn embed(&self, inputs: &ModelInputs<B>) -> Tensor<B, 2> {
        self.pass(inputs).joint()
    }

    fn explain(&self, inputs: &ModelInputs<B>) -> Explanation<B> {
        let pass = self.pass(inputs);
        let kinds = self.config.tokens();
        let modalities = kinds
            .iter()
            .copied()
            .zip(pass.tokens().iter().cloned())
            .collect();
        let occluded = self
            .config
            .feature_tokens()
            .into_iter()
            .map(|kind| (kind, self.embed(&inputs.without(kind))))
            .collect();
        Explanation {
            joint: pass.joint(),
            blocks: self.config.score_blocks(),
            occluded,
            modalities,
            weights: pass.enhanced.as_ref().map(Enhanced::received),
            weight_modalities: if pass.enhanced.is_some() {
                kinds
            } else {
                Vec::new()
            },
        }
    }
}

/// What the losses need from a training forward pass.
pub struct TmeaForward<B: Backend> {
    /// `e_M`.
    joint: Tensor<B, 2>,
    /// Each modality's feature before imputation (the uni-modal views of Eq. 19, as the
    /// authors' code takes them; with the imputed ones the planted test aligned worse).
    views: Vec<Tensor<B, 2>>,
    /// `L_v`, `L_mse` and the cross-reconstruction, if the imputation is on.
    imputation: Option<ImputationLosses<B>>,
    /// `L_o`, if the enhancement is on.
    orthogonal: Option<Tensor<B, 1>>,
}

/// Joint indices of the entities whose `masks` are all 1.
fn rows_with_all<B: Backend>(masks: &[Tensor<B, 2>]) -> Vec<u32> {
    let Some(all) = masks.iter().cloned().reduce(|a, b| a * b) else {
        return Vec::new();
    };
    let (_, _, values) = to_host(all);
    values
        .iter()
        .enumerate()
        .filter(|(_, v)| **v > 0.5)
        .map(|(i, _)| i as u32)
        .collect()
}

impl<B: AutodiffBackend + GraphBackend> TrainableModel<B> for Tmea<B> {
    type Forward = TmeaForward<B>;

    fn passes_per_epoch(&self) -> usize {
        self.config.steps_per_epoch(self.triples.len())
    }

    /// `<modality> imputation fit`: the mean cosine of each target's pseudo feature to
    /// the real one on the entities that have every target (near 0 or falling: the
    /// imputation infers nothing of the entity).
    fn diagnostics(&self, forward: &Self::Forward) -> Vec<(String, f64)> {
        let (Some(imputation), Some(losses)) = (&self.imputation, &forward.imputation) else {
            return Vec::new();
        };
        let kinds = self.config.tokens();
        imputation
            .target_tokens()
            .iter()
            .zip(&losses.fit)
            .map(|(&token, fit)| {
                let value: f32 = fit.clone().into_scalar().elem();
                (
                    format!("{} imputation fit", kinds[token].as_str()),
                    f64::from(value),
                )
            })
            .collect()
    }

    fn forward_train(&self, inputs: &ModelInputs<B>, step: &mut StepContext<'_>) -> Self::Forward {
        let pass = self.pass(inputs);
        let imputation = self.imputation.as_ref().map(|imputation| {
            let masks: Vec<Tensor<B, 2>> = imputation
                .target_tokens()
                .iter()
                .map(|&t| pass.present[t].clone())
                .collect();
            let rows = rows_with_all(&masks);
            let device = pass.raw[0].device();
            let weights = ImputationWeights {
                kl: self.config.kl_weight,
                cross_reconstruction: self.config.cross_reconstruction,
            };
            imputation.losses(
                &pass.raw,
                int_tensor::<B>(rows.into_iter(), &device),
                weights,
                step.rng,
            )
        });
        TmeaForward {
            joint: pass.joint(),
            views: pass.raw.clone(),
            imputation,
            orthogonal: pass.enhanced.map(|e| e.orthogonal),
        }
    }

    fn losses(
        &self,
        forward: &Self::Forward,
        pairs: &[(u32, u32)],
        step: &mut StepContext<'_>,
    ) -> Vec<LossTerm<B>> {
        let c = &self.config;
        let device = forward.joint.device();
        let left = || int_tensor::<B>(pairs.iter().map(|p| p.0), &device);
        let right = || int_tensor::<B>(pairs.iter().map(|p| p.1), &device);
        let contrastive = std::iter::once(&forward.joint)
            .chain(&forward.views)
            .map(|x| margin_contrastive_loss(x, left(), right(), c.contrastive_margin))
            .reduce(|a, b| a + b)
            .expect("the joint embedding");
        let mut terms = vec![LossTerm {
            name: "contrastive",
            value: contrastive,
        }];
        if let (Some(entities), Some(relations)) = (&self.entities, &self.relations) {
            let batch = sample_batch(
                &self.triples,
                c.transe_batch,
                pairs,
                &step.left,
                &step.right,
                step.rng,
            );
            terms.push(LossTerm {
                name: "transe",
                value: transe_loss(entities.val(), relations.val(), &batch, c.transe_margin),
            });
        }
        if let Some(imputation) = &forward.imputation {
            terms.push(LossTerm {
                name: "vae",
                value: imputation.vae.clone(),
            });
            terms.push(LossTerm {
                name: "latent",
                value: imputation.latent.clone().mul_scalar(c.latent_weight),
            });
            if c.cross_reconstruction {
                terms.push(LossTerm {
                    name: "cross_reconstruction",
                    value: imputation.cross.clone(),
                });
            }
        }
        if let Some(orthogonal) = &forward.orthogonal {
            terms.push(LossTerm {
                name: "orthogonal",
                value: orthogonal.clone().mul_scalar(c.orthogonal_weight),
            });
        }
        terms
    }
}
