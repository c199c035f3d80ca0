//! What every alignment model offers the trainer, the evaluator and the GUI.

use std::collections::BTreeMap;
use std::ops::Range;

use burn::module::{AutodiffModule, ParamId};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Tensor, backend::Backend};
use serde::{Deserialize, Serialize};

use crate::graph::GraphTensors;
use crate::inputs::{DeviceInput, ModalityInputs, ModalityKind};
use crate::rng::SeededRng;

/// Everything a model reads, on a device.
#[derive(Debug, Clone)]
pub struct ModelInputs<B: Backend> {
    /// The relational graph.
    pub graph: GraphTensors<B>,
    /// The feature input of each modality that has one (structure has none), with its
    /// presence mask.
    pub modalities: BTreeMap<ModalityKind, DeviceInput<B>>,
}

impl<B: Backend> ModelInputs<B> {
    /// Uploads host inputs.
    pub fn upload(
        graph: &crate::graph::AlignmentGraph,
        inputs: &ModalityInputs,
        device: &B::Device,
    ) -> Self {
        Self {
            graph: graph.to_device(device),
            modalities: inputs
                .features
                .iter()
                .map(|(&kind, features)| (kind, features.to_device(device)))
                .collect(),
        }
    }

    /// The input of a modality, if it has one.
    pub fn modality(&self, kind: ModalityKind) -> Option<&DeviceInput<B>> {
        self.modalities.get(&kind)
    }

    /// Number of entities (both graphs).
    pub fn entity_count(&self) -> usize {
        self.graph.entity_count
    }

    /// These inputs with `kind` missing for every entity, as the models treat a missing
    /// modality: no relations or attribute keys (a zero bag), or, for images, the mean of
    /// the known vectors (the expectation of the vector drawn for an entity without one);
    /// the presence mask all zeros.
    pub fn without(&self, kind: ModalityKind) -> Self {
        let mut inputs = self.clone();
        if let Some(input) = inputs.modalities.get_mut(&kind) {
            let [_, width] = input.values.dims();
            let device = input.values.device();
            input.values = match kind {
                ModalityKind::Image => input.values.clone().mean_dim(0),
                _ => Tensor::zeros([1, width], &device),
            };
            input.shared = true;
            input.present = input.present.zeros_like();
        }
        inputs
    }
}

/// Sizes of the data a model is built for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataShape {
    /// Entities of both graphs.
    pub entities: usize,
    /// Relation columns (`2R`).
    pub relation_columns: usize,
    /// Feature width of each modality with an input.
    pub widths: BTreeMap<ModalityKind, usize>,
}

impl DataShape {
    /// The feature width of `kind` (0 without an input).
    pub fn width(&self, kind: ModalityKind) -> usize {
        self.widths.get(&kind).copied().unwrap_or(0)
    }
}

/// Columns of the final embedding and where they come from: a pair's cosine is the sum
/// over blocks of the block's dot product over the product of the full norms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreBlock {
    /// What the columns are (`structure stream`, `joint graph layers`, ...).
    pub label: String,
    /// The modality they come from; `None` when they mix modalities (a fusion, graph
    /// layers over fused input).
    pub modality: Option<ModalityKind>,
    /// Columns of the final embedding.
    pub columns: Range<usize>,
}

impl ScoreBlock {
    /// A block of `width` columns after `start`.
    pub fn new(label: &str, modality: Option<ModalityKind>, start: usize, width: usize) -> Self {
        Self {
            label: label.into(),
            modality,
            columns: start..start + width,
        }
    }
}

/// A model's view of every entity, for ranking and for explaining a candidate.
#[derive(Debug, Clone)]
pub struct Explanation<B: Backend> {
    /// The final embedding used for ranking (`N x D`, not normalised).
    pub joint: Tensor<B, 2>,
    /// The columns of `joint` by origin, in order, covering all of them.
    pub blocks: Vec<ScoreBlock>,
    /// Where blocks mix modalities: the final embeddings with each modality replaced as
    /// the model treats a missing one (an occlusion attribution, not an exact part).
    pub occluded: Vec<(ModalityKind, Tensor<B, 2>)>,
    /// One embedding per modality (`N x d_m`; a shared modality is expanded).
    pub modalities: Vec<(ModalityKind, Tensor<B, 2>)>,
    /// Per-entity modality weights (`N x M`, columns as `weight_modalities`), where the
    /// model has them.
    pub weights: Option<Tensor<B, 2>>,
    /// The modality of each weight column.
    pub weight_modalities: Vec<ModalityKind>,
}

/// An entity-alignment model: features in, one embedding per entity out.
pub trait AlignmentModel<B: Backend> {
    /// The final embeddings of all entities (`N x D`, not normalised).
    fn embed(&self, inputs: &ModelInputs<B>) -> Tensor<B, 2>;

    /// The final embeddings plus per-modality embeddings and weights.
    fn explain(&self, inputs: &ModelInputs<B>) -> Explanation<B>;
}

/// One named term of a model's loss (stored per epoch and drawn as its own curve).
pub struct LossTerm<B: Backend> {
    /// Name (`infonce`, `margin`, ...).
    pub name: &'static str,
    /// The scalar value.
    pub value: Tensor<B, 1>,
}

/// What a training step may read besides the model and its inputs.
pub struct StepContext<'a> {
    /// 1-based epoch.
    pub epoch: usize,
    /// The run's seed (for draws that must repeat across epochs).
    pub seed: u64,
    /// The run's generator for shuffling, dropout masks and negative samples (saved in
    /// checkpoints, so a resumed run draws the same numbers).
    pub rng: &'a mut SeededRng,
    /// Joint indices of the left graph.
    pub left: Range<usize>,
    /// Joint indices of the right graph.
    pub right: Range<usize>,
}

/// A model the trainer can train: a forward pass over all entities per optimiser step,
/// then named loss terms for each chunk of that step's seed pairs.
pub trait TrainableModel<B: AutodiffBackend>: AutodiffModule<B> + AlignmentModel<B> {
    /// What the loss needs from the forward pass.
    type Forward;

    /// The training forward pass (dropout and the like apply here).
    fn forward_train(&self, inputs: &ModelInputs<B>, step: &mut StepContext<'_>) -> Self::Forward;

    /// The loss terms of seed pairs `pairs` (joint indices); the trainer sums them.
    fn losses(
        &self,
        forward: &Self::Forward,
        pairs: &[(u32, u32)],
        step: &mut StepContext<'_>,
    ) -> Vec<LossTerm<B>>;

    /// The parameters the plan's second optimiser steps (a policy network, say); the
    /// main optimiser never steps them. None (the default) leaves every parameter to the
    /// main optimiser. Without a second optimiser in the plan this is not asked.
    fn secondary_parameters(&self) -> Vec<ParamId> {
        Vec::new()
    }

    /// How many times one epoch goes over the seed pairs (default: once). A model whose
    /// paper defines an epoch by something else says what that takes: TMEA's epoch is a
    /// pass over its relational triples in batches, each step with every seed pair.
    fn passes_per_epoch(&self) -> usize {
        1
    }

    /// Figures of a training step that are not losses (how well an imputation fits the
    /// real features, say), by name; the trainer stores each epoch's mean with the epoch
    /// and the run page plots them. Asked after the step's losses, so figures those
    /// compute (a reward, say) can be kept in the forward pass for it. Default: none.
    fn diagnostics(&self, forward: &Self::Forward) -> Vec<(String, f64)> {
        let _ = forward;
        Vec::new()
    }

    /// Whether the second optimiser steps its group at `epoch` (the model's schedule:
    /// a policy updated every few epochs, say). Default: every step.
    fn steps_secondary(&self, epoch: usize) -> bool {
        let _ = epoch;
        true
    }
}
