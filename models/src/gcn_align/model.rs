//! The GCN-Align network (see the module docs of [`crate::gcn_align`]).

use burn::module::{Module, Param};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, activation};

use super::adjacency::weighted_adjacency;
use super::config::GcnAlignConfig;
use crate::backend::GraphBackend;
use crate::graph::{AlignmentGraph, int_tensor};
use crate::inputs::ModalityKind;
use crate::loss::l1_margin_loss;
use crate::model::{
    AlignmentModel, Explanation, LossTerm, ModelInputs, ScoreBlock, StepContext, TrainableModel,
};
use crate::ops::{l2_normalize, param_from};
use crate::rng::SeededRng;
use crate::sparse::SparseMatrix;

/// The GCN-Align model.
#[derive(Module, Debug)]
pub struct GcnAlign<B: Backend> {
    structure: Param<Tensor<B, 2>>,
    attribute: Option<Param<Tensor<B, 2>>>,
    #[module(skip)]
    adjacency: SparseMatrix,
    #[module(skip)]
    config: GcnAlignConfig,
}

impl GcnAlignConfig {
    /// Builds the model for `graph`; the attribute half when `attribute_width` (the
    /// width of the dataset's attribute bag, `None` without attribute triples) is given
    /// and attributes are on. Parameters are drawn from `seed`.
    pub fn init<B: Backend>(
        &self,
        graph: &AlignmentGraph,
        attribute_width: Option<usize>,
        seed: u64,
        device: &B::Device,
    ) -> GcnAlign<B> {
        let mut rng = SeededRng::new(seed).fork("gcn-align-init");
        let n = graph.entity_count;
        // The authors' truncated normal has standard deviation 1/√rows; the rows are
        // unit-normalised in every pass, so only their directions matter.
        let normal = |rng: &mut SeededRng, rows: usize, cols: usize| {
            rng.normal_vec(rows * cols, 1.0 / (rows as f64).sqrt())
        };
        let structure = param_from(
            normal(&mut rng, n, self.structure_dim),
            [n, self.structure_dim],
            device,
        );
        let attribute = attribute_width.filter(|_| self.use_attributes).map(|k| {
            param_from(
                normal(&mut rng, k, self.attribute_dim),
                [k, self.attribute_dim],
                device,
            )
        });
        GcnAlign {
            structure,
            attribute,
            adjacency: weighted_adjacency(graph),
            config: self.clone(),
        }
    }
}

/// The two halves' outputs.
pub struct Halves<B: Backend> {
    structure: Tensor<B, 2>,
    attribute: Option<Tensor<B, 2>>,
}

impl<B: GraphBackend> GcnAlign<B> {
    fn halves(&self, inputs: &ModelInputs<B>) -> Halves<B> {
        let device = self.structure.val().device();
        let a = self.adjacency.to_device::<B>(&device);
        let convolve = |x: Tensor<B, 2>| a.matmul(activation::relu(a.matmul(x)));
        let structure = convolve(l2_normalize(self.structure.val()));
        let attribute = self.attribute.as_ref().map(|w| {
            let features = inputs
                .modality(ModalityKind::Attribute)
                .expect("the attribute half is built only where attributes exist")
                .values
                .clone();
            convolve(features.matmul(l2_normalize(w.val())))
        });
        Halves {
            structure,
            attribute,
        }
    }

    /// The ranking embedding: `[√β·SE/|SE| | √(1-β)·AE/|AE|]`, or SE alone.
    fn ranked(&self, halves: &Halves<B>) -> Tensor<B, 2> {
        match &halves.attribute {
            None => halves.structure.clone(),
            Some(ae) => {
                let beta = self.config.beta;
                Tensor::cat(
                    vec![
                        l2_normalize(halves.structure.clone()).mul_scalar(beta.sqrt()),
                        l2_normalize(ae.clone()).mul_scalar((1.0 - beta).sqrt()),
                    ],
                    1,
                )
            }
        }
    }
}

impl<B: GraphBackend> AlignmentModel<B> for GcnAlign<B> {
    fn embed(&self, inputs: &ModelInputs<B>) -> Tensor<B, 2> {
        self.ranked(&self.halves(inputs))
    }

    fn explain(&self, inputs: &ModelInputs<B>) -> Explanation<B> {
        let halves = self.halves(inputs);
        let mut modalities = vec![(ModalityKind::Structure, halves.structure.clone())];
        let se = halves.structure.dims()[1];
        let mut blocks = vec![ScoreBlock::new(
            "structure (SE)",
            Some(ModalityKind::Structure),
            0,
            se,
        )];
        if let Some(ae) = &halves.attribute {
            modalities.push((ModalityKind::Attribute, ae.clone()));
            blocks.push(ScoreBlock::new(
                "attributes (AE)",
                Some(ModalityKind::Attribute),
                se,
                ae.dims()[1],
            ));
        }
        Explanation {
            joint: self.ranked(&halves),
            blocks,
            occluded: Vec::new(),
            modalities,
            weights: None,
            weight_modalities: Vec::new(),
        }
    }
}

impl<B: AutodiffBackend + GraphBackend> TrainableModel<B> for GcnAlign<B> {
    type Forward = Halves<B>;

    fn forward_train(&self, inputs: &ModelInputs<B>, _: &mut StepContext<'_>) -> Halves<B> {
        self.halves(inputs)
    }

    fn losses(
        &self,
        halves: &Halves<B>,
        pairs: &[(u32, u32)],
        step: &mut StepContext<'_>,
    ) -> Vec<LossTerm<B>> {
        // Corruptions are drawn per seed pair (in a fixed order) from a generator of the
        // current 10-epoch period, so each pair keeps its corruptions for that period.
        let k = self.config.negatives.max(1);
        let n = halves.structure.dims()[0];
        let period = (step.epoch - 1) / self.config.resample_every.max(1);
        let mut rng = SeededRng::new(step.seed).fork(&format!("gcn-align-negatives-{period}"));
        let mut ordered = pairs.to_vec();
        ordered.sort_unstable();
        // Columns of the rows: left, right, corrupting left, corrupting right.
        let mut columns: [Vec<u32>; 4] = Default::default();
        for &(l, r) in &ordered {
            for _ in 0..k {
                columns[0].push(l);
                columns[1].push(r);
                columns[2].push(rng.below(n) as u32);
                columns[3].push(rng.below(n) as u32);
            }
        }
        let device = halves.structure.device();
        let index = |c: usize| int_tensor::<B>(columns[c].iter().copied(), &device);
        let term = |embeddings: &Tensor<B, 2>| {
            // The mean over the 2k corruptions of each pair: half the mean over rows of
            // the two-sided loss.
            l1_margin_loss(
                embeddings,
                index(0),
                index(1),
                index(2),
                index(3),
                self.config.margin,
            )
            .mul_scalar(0.5)
        };
        let mut terms = vec![LossTerm {
            name: "structure_margin",
            value: term(&halves.structure),
        }];
        if let Some(ae) = &halves.attribute {
            terms.push(LossTerm {
                name: "attribute_margin",
                value: term(ae),
            });
        }
        terms
    }
}
