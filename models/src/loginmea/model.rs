//! The LoginMEA network (Su et al., ECAI 2024) as the authors' code builds it; see
//! `design/MODELS.md` ("What the authors' LoginMEA code does").
//!
//! - Structure stream: learned entity embeddings averaged over each entity and its
//!   neighbours (`x0`), then reflection layers: `[tanh(x0), x1, x2]`.
//! - Joint stream: modality projections (no activation); layer 0 is `tanh` of the
//!   unit-normalised embeddings weighted by one softmax weight per modality (shared by
//!   all entities) and concatenated; the entity-specific adaptive weights scale the
//!   unit-normalised embeddings, the low-rank fusion mixes them, `tanh`, then reflection
//!   layers with their own attention vectors: `[layer0, y1, y2]`.
//! - Final embedding: `[structure | joint]` (2,400 wide with the defaults).
//!
//! Both streams reflect with one relation table (`2R x hidden`), as RREA shares it; the
//! concatenation ablation, whose fused width differs, gets its own table.

use burn::module::{Module, Param};
use burn::tensor::{Tensor, activation, backend::Backend};

use crate::inputs::ModalityKind;
use crate::model::{AlignmentModel, DataShape, Explanation, ModelInputs};
use crate::ops::{param_from, xavier_uniform};
use crate::rng::SeededRng;

use super::config::{FusionKind, LoginMeaConfig};
use super::fusion::{
    AdaptiveWeights, LowRankFusion, ModalityEmbedding, normalized, weighted_concat,
};
use super::graph_layer::{GraphLayer, neighbour_mean};
use crate::backend::GraphBackend;

/// A linear projection `x W + b`, initialised as PyTorch's `nn.Linear`.
#[derive(Module, Debug)]
pub struct Projection<B: Backend> {
    weight: Param<Tensor<B, 2>>,
    bias: Param<Tensor<B, 2>>,
}

impl<B: Backend> Projection<B> {
    /// `d_in -> d_out`.
    pub fn new(d_in: usize, d_out: usize, rng: &mut SeededRng, device: &B::Device) -> Self {
        let bound = 1.0 / (d_in as f64).sqrt();
        Self {
            weight: param_from(rng.uniform_vec(d_in * d_out, bound), [d_in, d_out], device),
            bias: param_from(rng.uniform_vec(d_out, bound), [1, d_out], device),
        }
    }

    /// `d_in -> d_out` with Glorot/Xavier normal weights and a zero bias.
    pub fn glorot_normal(
        d_in: usize,
        d_out: usize,
        rng: &mut SeededRng,
        device: &B::Device,
    ) -> Self {
        Self {
            weight: param_from(
                crate::ops::xavier_normal(rng, d_in, d_out, d_in * d_out),
                [d_in, d_out],
                device,
            ),
            bias: param_from(vec![0.0; d_out], [1, d_out], device),
        }
    }

    /// Applies the projection.
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2>
    where
        B: GraphBackend,
    {
        B::matrix_product(x, self.weight.val()) + self.bias.val()
    }
}

/// The LoginMEA model.
#[derive(Module, Debug)]
pub struct LoginMea<B: Backend> {
    entity_embeddings: Option<Param<Tensor<B, 2>>>,
    relation_embeddings: Option<Param<Tensor<B, 2>>>,
    joint_relation_embeddings: Option<Param<Tensor<B, 2>>>,
    projections: Vec<Projection<B>>,
    global_weights: Param<Tensor<B, 2>>,
    adaptive: Option<AdaptiveWeights<B>>,
    fusion: Option<LowRankFusion<B>>,
    structure_layers: Vec<GraphLayer<B>>,
    joint_layers: Vec<GraphLayer<B>>,
    #[module(skip)]
    config: LoginMeaConfig,
}

impl LoginMeaConfig {
    /// Builds the model for data of `shape`, parameters drawn from `seed`.
    pub fn init<B: Backend>(
        &self,
        shape: &DataShape,
        seed: u64,
        device: &B::Device,
    ) -> LoginMea<B> {
        let mut rng = SeededRng::new(seed).fork("loginmea-init");
        let h = self.hidden;
        let fused = self.fused_modalities();
        let entity_embeddings = self.uses_structure().then(|| {
            param_from(
                xavier_uniform(&mut rng, shape.entities, h, shape.entities * h),
                [shape.entities, h],
                device,
            )
        });
        // GAT layers do not use relations: no table then.
        let reflection = self.graph_layer == super::config::GraphLayerKind::Reflection;
        let relation_embeddings = reflection.then(|| {
            param_from(
                xavier_uniform(
                    &mut rng,
                    shape.relation_columns,
                    h,
                    shape.relation_columns * h,
                ),
                [shape.relation_columns, h],
                device,
            )
        });
        let fused_dim = self.fused_dim();
        let joint_relation_embeddings =
            (reflection && !fused.is_empty() && fused_dim != h).then(|| {
                param_from(
                    xavier_uniform(
                        &mut rng,
                        shape.relation_columns,
                        fused_dim,
                        shape.relation_columns * fused_dim,
                    ),
                    [shape.relation_columns, fused_dim],
                    device,
                )
            });
        let projections = fused
            .iter()
            .map(|m| Projection::new(shape.width(*m), self.modality_dim, &mut rng, device))
            .collect();
        let global_weights = param_from(
            vec![1.0; fused.len().max(1)],
            [1, fused.len().max(1)],
            device,
        );
        let adaptive = (self.adaptive_weights && !fused.is_empty())
            .then(|| AdaptiveWeights::new(self.modality_dim, &mut rng, device));
        let fusion = (self.fusion == FusionKind::LowRank && !fused.is_empty()).then(|| {
            LowRankFusion::new(
                fused.len(),
                self.modality_dim,
                h,
                self.fusion_rank,
                &mut rng,
                device,
            )
        });
        let structure_layers = if self.uses_structure() {
            (0..self.graph_layers)
                .map(|_| GraphLayer::new(self.graph_layer, h, &mut rng, device))
                .collect()
        } else {
            Vec::new()
        };
        let joint_layers = if fused.is_empty() {
            Vec::new()
        } else {
            (0..self.graph_layers)
                .map(|_| GraphLayer::new(self.graph_layer, fused_dim, &mut rng, device))
                .collect()
        };
        LoginMea {
            entity_embeddings,
            relation_embeddings,
            joint_relation_embeddings,
            projections,
            global_weights,
            adaptive,
            fusion,
            structure_layers,
            joint_layers,
            config: self.clone(),
        }
    }
}

/// Intermediate results of one forward pass.
struct Forward<B: Backend> {
    structure: Option<Tensor<B, 2>>,
    joint: Option<Tensor<B, 2>>,
    modality_embeddings: Vec<(ModalityKind, ModalityEmbedding<B>)>,
    weights: Option<Tensor<B, 2>>,
}

impl<B: Backend> LoginMea<B> {
    /// The configuration the model was built with.
    pub fn config(&self) -> &LoginMeaConfig {
        &self.config
    }

    fn run(&self, inputs: &ModelInputs<B>) -> Forward<B>
    where
        B: GraphBackend,
    {
        let graph = &inputs.graph;
        let n = inputs.entity_count();
        let relation_table = self.relation_embeddings.as_ref().map(|p| p.val());
        let propagate =
            |layers: &[GraphLayer<B>], start: Tensor<B, 2>, relations: &Option<Tensor<B, 2>>| {
                let mut outputs = Vec::with_capacity(layers.len());
                let mut h = start;
                for layer in layers {
                    h = layer.forward(h, relations.clone(), graph);
                    outputs.push(h.clone());
                }
                outputs
            };

        let structure = self.entity_embeddings.as_ref().map(|e| {
            let x0 = neighbour_mean(e.val(), graph).tanh();
            let mut parts = vec![x0.clone()];
            parts.extend(propagate(&self.structure_layers, x0, &relation_table));
            B::cat_columns(parts)
        });

        let fused_kinds = self.config.fused_modalities();
        let embeddings: Vec<ModalityEmbedding<B>> = fused_kinds
            .iter()
            .zip(&self.projections)
            .map(|(&kind, projection)| {
                let input = inputs.modality(kind).expect("fused modalities have inputs");
                ModalityEmbedding {
                    values: projection.forward(input.values.clone()),
                    shared: input.shared,
                }
            })
            .collect();
        let mut weights = None;
        let joint = (!embeddings.is_empty()).then(|| {
            let unit: Vec<ModalityEmbedding<B>> = embeddings.iter().map(normalized).collect();
            let global = activation::softmax(self.global_weights.val(), 1);
            let layer0 = weighted_concat(&unit, global, n).tanh();
            weights = self.adaptive.as_ref().map(|a| a.forward(&embeddings, n));
            let fused = match &self.fusion {
                Some(fusion) => fusion.forward(&unit, weights.clone(), n),
                None => match &weights {
                    Some(w) => weighted_concat(&unit, w.clone(), n),
                    None => B::cat_columns(unit.iter().map(|u| u.expanded(n)).collect()),
                },
            };
            let relations = match &self.joint_relation_embeddings {
                Some(table) => Some(table.val()),
                None => relation_table.clone(),
            };
            let mut parts = vec![layer0];
            parts.extend(propagate(&self.joint_layers, fused.tanh(), &relations));
            B::cat_columns(parts)
        });
        let modality_embeddings = fused_kinds.into_iter().zip(embeddings).collect();
        Forward {
            structure,
            joint,
            modality_embeddings,
            weights,
        }
    }
}

impl<B: GraphBackend> AlignmentModel<B> for LoginMea<B> {
    fn embed(&self, inputs: &ModelInputs<B>) -> Tensor<B, 2> {
        let f = self.run(inputs);
        B::cat_columns(f.structure.into_iter().chain(f.joint).collect())
    }

    fn explain(&self, inputs: &ModelInputs<B>) -> Explanation<B> {
        let f = self.run(inputs);
        let n = inputs.entity_count();
        let mut modalities = Vec::new();
        if let Some(s) = &f.structure {
            modalities.push((ModalityKind::Structure, s.clone()));
        }
        let weight_modalities = f.modality_embeddings.iter().map(|(k, _)| *k).collect();
        for (kind, embedding) in &f.modality_embeddings {
            modalities.push((*kind, embedding.expanded(n)));
        }
        let occluded = self
            .config
            .fused_modalities()
            .into_iter()
            .map(|kind| (kind, self.embed(&inputs.without(kind))))
            .collect();
        Explanation {
            joint: B::cat_columns(f.structure.into_iter().chain(f.joint).collect()),
            blocks: self.config.score_blocks(),
            occluded,
            modalities,
            weights: f.weights,
            weight_modalities,
        }
    }
}
