//! What every alignment model offers the trainer, the evaluator and the GUI.

use burn::tensor::{Tensor, backend::Backend};

use crate::graph::GraphTensors;
use crate::inputs::{DeviceInput, ModalityInputs, ModalityKind};

/// Everything a model reads, on a device.
#[derive(Debug, Clone)]
pub struct ModelInputs<B: Backend> {
    /// The relational graph.
    pub graph: GraphTensors<B>,
    /// Bag of relations.
    pub relation: DeviceInput<B>,
    /// Bag of attribute keys.
    pub attribute: DeviceInput<B>,
    /// Image vectors.
    pub image: DeviceInput<B>,
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
            relation: inputs.relation.to_device(device),
            attribute: inputs.attribute.to_device(device),
            image: inputs.image.to_device(device),
        }
    }

    /// The input of a fused modality.
    pub fn modality(&self, kind: ModalityKind) -> Option<&DeviceInput<B>> {
        match kind {
            ModalityKind::Relation => Some(&self.relation),
            ModalityKind::Attribute => Some(&self.attribute),
            ModalityKind::Image => Some(&self.image),
            ModalityKind::Structure => None,
        }
    }

    /// Number of entities (both graphs).
    pub fn entity_count(&self) -> usize {
        self.graph.entity_count
    }
}

/// A model's view of every entity, for ranking and for explaining a candidate.
#[derive(Debug, Clone)]
pub struct Explanation<B: Backend> {
    /// The final embedding used for ranking (`N x D`, not normalised).
    pub joint: Tensor<B, 2>,
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

    /// The contrastive temperature the model trains with.
    fn temperature(&self) -> f64;

    /// Whether the loss runs in both directions.
    fn loss_both_directions(&self) -> bool;
}
