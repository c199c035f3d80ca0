//! The RREA network (see the module docs of [`crate::rrea`]).

use burn::module::{Module, Param};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorData, activation};

use super::config::RreaConfig;
use crate::backend::GraphBackend;
use crate::graph::{AlignmentGraph, int_tensor};
use crate::inputs::ModalityKind;
use crate::loginmea::neighbour_mean;
use crate::loss::l1_margin_loss;
use crate::model::{
    AlignmentModel, Explanation, LossTerm, ModelInputs, ScoreBlock, StepContext, TrainableModel,
};
use crate::ops::param_from;
use crate::rng::SeededRng;
use crate::sparse::SparseMatrix;

/// Keras' `Embedding` initialiser: uniform in ±0.05.
const EMBEDDING_INIT: f64 = 0.05;

/// The RREA model.
#[derive(Module, Debug)]
pub struct Rrea<B: Backend> {
    entities: Param<Tensor<B, 2>>,
    relations: Param<Tensor<B, 2>>,
    attention: Vec<Param<Tensor<B, 2>>>,
    #[module(skip)]
    relation_mean: SparseMatrix,
    #[module(skip)]
    config: RreaConfig,
}

/// Each entity's distinct (relation, direction) columns, averaged: the relation stream's
/// input. As the authors' code builds it, column `r` stands for "`r` into the entity"
/// and `R + r` for "`r` out of it", the reverse of the attention's pair columns (where a
/// pair `(h, t)` of triple `(h, r, t)` has column `r`); the one table serves both.
fn relation_mean(graph: &AlignmentGraph) -> SparseMatrix {
    let r = graph.relation_count as u32;
    let swap = |c: u32| if c < r { c + r } else { c - r };
    SparseMatrix::row_mean(
        graph.entity_count,
        2 * graph.relation_count,
        graph
            .pair_columns
            .iter()
            .map(|&(pair, column)| (graph.heads[pair as usize], swap(column))),
    )
}

impl RreaConfig {
    /// Builds the model for `graph`, parameters drawn from `seed`.
    pub fn init<B: Backend>(
        &self,
        graph: &AlignmentGraph,
        seed: u64,
        device: &B::Device,
    ) -> Rrea<B> {
        let mut rng = SeededRng::new(seed).fork("rrea-init");
        let d = self.dim;
        let n = graph.entity_count;
        let columns = 2 * graph.relation_count;
        let entities = param_from(rng.uniform_vec(n * d, EMBEDDING_INIT), [n, d], device);
        let relations = param_from(
            rng.uniform_vec(columns * d, EMBEDDING_INIT),
            [columns, d],
            device,
        );
        // Glorot bounds of the authors' `3d x 1` kernel; its head part is left out (the
        // softmax over a head's pairs cancels it).
        let bound = (6.0 / (3 * d + 1) as f64).sqrt();
        let attention = (0..self.depth)
            .map(|_| param_from(rng.uniform_vec(2 * d, bound), [2 * d, 1], device))
            .collect();
        Rrea {
            entities,
            relations,
            attention,
            relation_mean: relation_mean(graph),
            config: self.clone(),
        }
    }
}

impl<B: GraphBackend> Rrea<B> {
    /// The entity stream and the relation stream, `N x (depth + 1) d` each.
    fn streams(&self, inputs: &ModelInputs<B>) -> (Tensor<B, 2>, Tensor<B, 2>) {
        let graph = &inputs.graph;
        let table = self.relations.val();
        let stream = |start: Tensor<B, 2>| {
            let mut x = activation::relu(start);
            let mut parts = vec![x.clone()];
            for a in &self.attention {
                x = activation::relu(B::reflection_layer(x, table.clone(), a.val(), graph));
                parts.push(x.clone());
            }
            Tensor::cat(parts, 1)
        };
        let entity = neighbour_mean(self.entities.val(), graph);
        let device = table.device();
        let relation = self
            .relation_mean
            .to_device::<B>(&device)
            .matmul(table.clone());
        (stream(entity), stream(relation))
    }
}

impl<B: GraphBackend> AlignmentModel<B> for Rrea<B> {
    fn embed(&self, inputs: &ModelInputs<B>) -> Tensor<B, 2> {
        let (entity, relation) = self.streams(inputs);
        Tensor::cat(vec![entity, relation], 1)
    }

    fn explain(&self, inputs: &ModelInputs<B>) -> Explanation<B> {
        let (entity, relation) = self.streams(inputs);
        let width = entity.dims()[1];
        Explanation {
            joint: Tensor::cat(vec![entity.clone(), relation.clone()], 1),
            blocks: vec![
                ScoreBlock::new("entity stream", Some(ModalityKind::Structure), 0, width),
                ScoreBlock::new(
                    "relation stream",
                    Some(ModalityKind::Relation),
                    width,
                    width,
                ),
            ],
            occluded: Vec::new(),
            modalities: vec![
                (ModalityKind::Structure, entity),
                (ModalityKind::Relation, relation),
            ],
            weights: None,
            weight_modalities: Vec::new(),
        }
    }
}

/// An inverted-dropout mask (`rows x cols`): each entry kept with `1 - rate`, scaled by
/// `1 / (1 - rate)`; drawn from the run's generator.
fn dropout_mask<B: Backend>(
    rows: usize,
    cols: usize,
    rate: f64,
    rng: &mut SeededRng,
    device: &B::Device,
) -> Tensor<B, 2> {
    let keep = 1.0 - rate;
    let scale = (1.0 / keep) as f32;
    let values: Vec<f32> = (0..rows * cols)
        .map(|_| if rng.next_f64() < keep { scale } else { 0.0 })
        .collect();
    Tensor::from_data(TensorData::new(values, [rows, cols]), device)
}

impl<B: AutodiffBackend + GraphBackend> TrainableModel<B> for Rrea<B> {
    /// The final embeddings with dropout applied.
    type Forward = Tensor<B, 2>;

    fn forward_train(&self, inputs: &ModelInputs<B>, step: &mut StepContext<'_>) -> Tensor<B, 2> {
        let embeddings = self.embed(inputs);
        if self.config.dropout <= 0.0 {
            return embeddings;
        }
        let [rows, cols] = embeddings.dims();
        let mask = dropout_mask::<B>(
            rows,
            cols,
            self.config.dropout,
            step.rng,
            &embeddings.device(),
        );
        embeddings * mask
    }

    fn losses(
        &self,
        embeddings: &Tensor<B, 2>,
        pairs: &[(u32, u32)],
        step: &mut StepContext<'_>,
    ) -> Vec<LossTerm<B>> {
        // The seed pairs repeated to one row per entity, in a fresh order, each row with
        // its own random negatives from all entities, as the authors' code does.
        let n = embeddings.dims()[0];
        let mut rows: Vec<(u32, u32)> = pairs.iter().copied().cycle().take(n).collect();
        step.rng.shuffle(&mut rows);
        let negatives: Vec<u32> = (0..2 * n).map(|_| step.rng.below(n) as u32).collect();
        let device = embeddings.device();
        let loss = l1_margin_loss(
            embeddings,
            int_tensor::<B>(rows.iter().map(|p| p.0), &device),
            int_tensor::<B>(rows.iter().map(|p| p.1), &device),
            int_tensor::<B>(negatives[..n].iter().copied(), &device),
            int_tensor::<B>(negatives[n..].iter().copied(), &device),
            self.config.margin,
        );
        vec![LossTerm {
            name: "margin",
            value: loss,
        }]
    }
}
