//! Per-entity modality features, prepared on the host as the papers' code prepares them.
//!
//! - relation: raw head+tail counts over the `K` most frequent relations;
//! - attribute: 0/1 over the `K` most frequent attribute keys;
//! - image: L2-normalised feature vectors; an entity without one gets a stand-in chosen
//!   by the model ([`MissingImageStandIn`]): the mean of its neighbours' vectors, else one
//!   vector drawn from the known vectors' per-dimension normal distribution (mean and
//!   standard deviation) shared by all such entities; or a draw of its own from that
//!   distribution.
//! - attribute text, name: L2-normalised sentence embeddings (the mean over an entity's
//!   statements, or its name) encoded by AlignScope; an entity without any: zeros.
//! - number: numeric attribute values per key with presence flags (`number_input`).
//!
//! Each modality's matrix comes with a presence mask: which entities really have
//! features, so a model can tell a filled-in row from a real one. The modalities are a
//! map, so a new kind is one more entry.
//!
//! A modality every entity has the same vector for (no attribute triples at all: all
//! zeros; no image at all: one shared random vector) is kept as a single row,
//! [`ModalityInput::Shared`]. The models compute it once and broadcast: the same numbers
//! as repeating the row N times, without N-fold work.

use std::collections::{BTreeMap, BTreeSet};

use alignscope_datasets::model::{EntityFeatures, KnowledgeGraph};
use alignscope_datasets::{MmkgPair, Side, bag_of_attributes, bag_of_relations};
use burn::tensor::{Tensor, TensorData, backend::Backend};
use serde::{Deserialize, Serialize};

use crate::graph::AlignmentGraph;
use crate::rng::SeededRng;

/// The modalities the models know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModalityKind {
    /// Graph structure (learned entity embeddings propagated over the graph).
    Structure,
    /// Bag of relations.
    Relation,
    /// Bag of attribute keys.
    Attribute,
    /// Image feature vectors.
    Image,
    /// Sentence embeddings of the attribute statements (`key: value`), their mean.
    AttributeText,
    /// Sentence embedding of the entity's name (the papers leave names out: off unless a
    /// run asks for it).
    Name,
    /// Sentence embedding of the entity's abstract sentence: its attributes whose keys
    /// align across the graphs, as `key is value, ...` (TMEA's abstract representation).
    AttributeAbstract,
    /// Numeric attribute values over the most frequent numeric keys, normalised per key,
    /// with a presence flag per key (MPSEA's numerical modality; `number_input`).
    Number,
}

impl ModalityKind {
    /// Lower-case name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Structure => "structure",
            Self::Relation => "relation",
            Self::Attribute => "attribute",
            Self::Image => "image",
            Self::AttributeText => "attribute_text",
            Self::Name => "name",
            Self::AttributeAbstract => "attribute_abstract",
            Self::Number => "number",
        }
    }
}

/// One modality's input matrix on the host.
#[derive(Debug, Clone, PartialEq)]
pub enum ModalityInput {
    /// One row per entity (`rows x width`, row-major).
    PerEntity {
        /// Feature width.
        width: usize,
        /// Values.
        data: Vec<f32>,
    },
    /// The same row for every entity.
    Shared {
        /// The row.
        row: Vec<f32>,
    },
}

impl ModalityInput {
    /// `data` as per-entity rows, or one shared zero row when no entity has features
    /// (`known == 0`), so the models broadcast a single row instead of `N` zero rows.
    pub fn per_entity_or_zeros(width: usize, data: Vec<f32>, known: usize) -> Self {
        if known == 0 {
            Self::Shared {
                row: vec![0.0; width],
            }
        } else {
            Self::PerEntity { width, data }
        }
    }

    /// Feature width.
    pub fn width(&self) -> usize {
        match self {
            Self::PerEntity { width, .. } => *width,
            Self::Shared { row } => row.len(),
        }
    }

    /// Uploads the matrix: `N x width`, or `1 x width` and `true` when shared.
    fn to_device<B: Backend>(&self, device: &B::Device) -> (Tensor<B, 2>, bool) {
        match self {
            Self::PerEntity { width, data } => (
                Tensor::from_data(
                    TensorData::new(data.clone(), [data.len() / width, *width]),
                    device,
                ),
                false,
            ),
            Self::Shared { row } => (
                Tensor::from_data(TensorData::new(row.clone(), [1, row.len()]), device),
                true,
            ),
        }
    }
}

/// A modality input on a device.
#[derive(Debug, Clone)]
pub struct DeviceInput<B: Backend> {
    /// `N x width`, or `1 x width` when `shared`.
    pub values: Tensor<B, 2>,
    /// Whether one row stands for every entity.
    pub shared: bool,
    /// `N x 1`: 1 where the entity has real features, 0 where its row was filled in.
    pub present: Tensor<B, 2>,
}

/// One modality's features on the host: the matrix the models read, and which entities
/// really have features (the others' rows were filled in).
#[derive(Debug, Clone, PartialEq)]
pub struct ModalityFeatures {
    /// The matrix.
    pub matrix: ModalityInput,
    /// Per entity (joint index): whether its features are real.
    pub present: Vec<bool>,
}

impl ModalityFeatures {
    /// Feature width.
    pub fn width(&self) -> usize {
        self.matrix.width()
    }

    /// Entities with real features.
    pub fn present_count(&self) -> usize {
        self.present.iter().filter(|&&p| p).count()
    }

    /// Uploads the matrix and the mask.
    pub fn to_device<B: Backend>(&self, device: &B::Device) -> DeviceInput<B> {
        let mask: Vec<f32> = self
            .present
            .iter()
            .map(|&p| f32::from(u8::from(p)))
            .collect();
        let n = mask.len();
        let (values, shared) = self.matrix.to_device(device);
        DeviceInput {
            values,
            shared,
            present: Tensor::from_data(TensorData::new(mask, [n, 1]), device),
        }
    }
}

/// How a modality's input was obtained: stored with a run so its numbers can be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModalityInputReport {
    /// The modality.
    pub modality: ModalityKind,
    /// Feature width.
    pub width: usize,
    /// Entities with real features.
    pub entities_with_features: usize,
    /// Entities whose features were filled in, and how.
    pub imputed: usize,
    /// What was done for entities without features.
    pub policy: String,
    /// Where the features came from (a file, an encoder and its weights' checksum, the
    /// dataset's triples, or a stand-in). Empty in runs recorded before it was kept.
    #[serde(default)]
    pub source: String,
}

/// The feature inputs of the modalities, with a report of how each was built.
#[derive(Debug, Clone, PartialEq)]
pub struct ModalityInputs {
    /// The features of each modality that has an input (structure has none).
    pub features: BTreeMap<ModalityKind, ModalityFeatures>,
    /// One report per modality.
    pub reports: Vec<ModalityInputReport>,
}

/// What an entity without an image gets in the image input (its presence mask says it
/// is not real either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingImageStandIn {
    /// The mean of its neighbours' vectors; without a neighbour that has one, one vector
    /// drawn from the known vectors' per-dimension normal distribution, shared by all
    /// such entities (LoginMEA's authors' code).
    #[default]
    NeighbourMean,
    /// A vector of its own, drawn from the known vectors' per-dimension normal
    /// distribution (the random stand-in of MCLEA's, MEAformer's and TMEA's code).
    Random,
}

impl MissingImageStandIn {
    /// Lower-case name, as in settings.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NeighbourMean => "neighbour_mean",
            Self::Random => "random",
        }
    }
}

/// Width of the shared random image vector when the dataset has no image features at
/// all (the ResNet-152 width of the papers' DBP15K features).
pub const ABSENT_IMAGE_WIDTH: usize = 2048;

impl ModalityInputs {
    /// Builds the inputs of `pair`, with `top_k` columns for the bags; entities without
    /// an image get `stand_in`, whose random vectors `rng` draws.
    pub fn from_pair(
        pair: &MmkgPair,
        graph: &AlignmentGraph,
        top_k: usize,
        stand_in: MissingImageStandIn,
        rng: &mut SeededRng,
    ) -> Self {
        let n = pair.entity_count();
        let relations = bag_of_relations(pair, top_k);
        let attributes = bag_of_attributes(pair, top_k);
        let with_attributes = (0..n).filter(|&i| !attributes.row(i).is_empty()).count();
        let with_relations = (0..n).filter(|&i| !relations.row(i).is_empty()).count();
        let mut reports = vec![ModalityInputReport {
            modality: ModalityKind::Relation,
            width: top_k,
            entities_with_features: with_relations,
            imputed: 0,
            policy: "raw head+tail counts of the most frequent relations; no relation: zeros"
                .into(),
            source: "the relational triples of the dataset".into(),
        }];
        let attribute = if with_attributes == 0 {
            ModalityInput::Shared {
                row: vec![0.0; top_k],
            }
        } else {
            ModalityInput::PerEntity {
                width: top_k,
                data: attributes.to_dense(),
            }
        };
        reports.push(ModalityInputReport {
            modality: ModalityKind::Attribute,
            width: top_k,
            entities_with_features: with_attributes,
            imputed: 0,
            policy: "0/1 over the most frequent attribute keys; no attribute: zeros".into(),
            source: "the attribute triples of the dataset (keys only)".into(),
        });
        let (image, image_report) = image_input(pair, graph, stand_in, rng);
        reports.push(image_report);
        let (attribute_text, text_report) = text_input(pair, ModalityKind::AttributeText);
        reports.push(text_report);
        let (name, name_report) = text_input(pair, ModalityKind::Name);
        reports.push(name_report);
        let (abstracts, abstract_report) = text_input(pair, ModalityKind::AttributeAbstract);
        reports.push(abstract_report);
        let (numbers, number_report) = crate::number_input::number_input(pair);
        reports.push(number_report);
        let relation = ModalityFeatures {
            matrix: ModalityInput::PerEntity {
                width: top_k,
                data: relations.to_dense(),
            },
            present: (0..n).map(|i| !relations.row(i).is_empty()).collect(),
        };
        let attribute = ModalityFeatures {
            matrix: attribute,
            present: (0..n).map(|i| !attributes.row(i).is_empty()).collect(),
        };
        Self {
            features: [
                (ModalityKind::Relation, relation),
                (ModalityKind::Attribute, attribute),
                (ModalityKind::Image, image),
                (ModalityKind::AttributeText, attribute_text),
                (ModalityKind::Name, name),
                (ModalityKind::AttributeAbstract, abstracts),
                (ModalityKind::Number, numbers),
            ]
            .into(),
            reports,
        }
    }

    /// The features of `kind`, if it has an input.
    pub fn get(&self, kind: ModalityKind) -> Option<&ModalityFeatures> {
        self.features.get(&kind)
    }

    /// Each modality's feature width.
    pub fn widths(&self) -> BTreeMap<ModalityKind, usize> {
        self.features.iter().map(|(&k, f)| (k, f.width())).collect()
    }
}

/// Width of the zero stand-in when the dataset has no sentence embeddings of a kind
/// (all-MiniLM-L6-v2's width).
pub const ABSENT_TEXT_WIDTH: usize = 384;

/// The sentence embeddings of `kind` (attribute text or name): L2-normalised where an
/// entity has one, zeros where it has none.
fn text_input(pair: &MmkgPair, kind: ModalityKind) -> (ModalityFeatures, ModalityInputReport) {
    let (select, what, policy): (fn(&KnowledgeGraph) -> Option<&EntityFeatures>, _, _) = match kind
    {
        ModalityKind::Name => (
            |g| g.name_features.as_ref(),
            "names",
            "L2-normalised sentence embedding of the entity's name; none: zeros",
        ),
        ModalityKind::AttributeAbstract => (
            |g| g.attribute_abstract_features.as_ref(),
            "abstract sentences",
            "L2-normalised sentence embedding of the entity's abstract sentence (its attributes whose keys align across the graphs); none: zeros",
        ),
        _ => (
            |g| g.attribute_text_features.as_ref(),
            "attribute statements",
            "L2-normalised mean of the sentence embeddings of the entity's `key: value` statements; no statement: zeros",
        ),
    };
    let n = pair.entity_count();
    let width = Side::BOTH
        .iter()
        .filter_map(|&s| select(pair.graph(s)))
        .find(|f| f.count() > 0)
        .map_or(ABSENT_TEXT_WIDTH, |f| f.dim);
    let mut present = vec![false; n];
    let mut data = vec![0.0f32; n * width];
    let mut sources = Vec::new();
    for side in Side::BOTH {
        let origin = match select(pair.graph(side)) {
            Some(features) if features.dim == width && features.count() > 0 => {
                for e in 0..pair.graph(side).entities.len() as u32 {
                    if let Some(v) = features.vector(e) {
                        let joint = pair.joint_index(side, e);
                        present[joint] = true;
                        data[joint * width..(joint + 1) * width].copy_from_slice(&l2_normalized(v));
                    }
                }
                features.origin.to_string()
            }
            _ => format!(
                "no sentence embeddings of its {what} (stand-in: zeros; `alignscope dataset encode-text` makes them)"
            ),
        };
        sources.push(format!("{side}: {origin}"));
    }
    let known = present.iter().filter(|&&p| p).count();
    let report = ModalityInputReport {
        modality: kind,
        width,
        entities_with_features: known,
        imputed: 0,
        policy: policy.into(),
        source: sources.join("; "),
    };
    let matrix = ModalityInput::per_entity_or_zeros(width, data, known);
    (ModalityFeatures { matrix, present }, report)
}

fn image_input(
    pair: &MmkgPair,
    graph: &AlignmentGraph,
    stand_in: MissingImageStandIn,
    rng: &mut SeededRng,
) -> (ModalityFeatures, ModalityInputReport) {
    let n = pair.entity_count();
    // The width of features that hold a vector: a width no vector has is only a claim
    // (an empty matrix of any width holds no data to justify it).
    let width = Side::BOTH
        .iter()
        .filter_map(|&s| pair.graph(s).image_features.as_ref())
        .find(|f| (0..f.rows.len() as u32).any(|e| f.vector(e).is_some()))
        .map_or(ABSENT_IMAGE_WIDTH, |f| f.dim);
    let mut rows: Vec<Option<Vec<f32>>> = vec![None; n];
    for side in Side::BOTH {
        if let Some(features) = &pair.graph(side).image_features
            && features.dim == width
        {
            for e in 0..pair.graph(side).entities.len() as u32 {
                if let Some(v) = features.vector(e) {
                    rows[pair.joint_index(side, e)] = Some(l2_normalized(v));
                }
            }
        }
    }
    let known = rows.iter().filter(|r| r.is_some()).count();
    let present: Vec<bool> = rows.iter().map(Option::is_some).collect();
    if known == 0 {
        let shared = l2_normalized(&rng.normal_vec(width, 1.0));
        let report = ModalityInputReport {
            modality: ModalityKind::Image,
            width,
            entities_with_features: 0,
            imputed: n,
            policy: "no image features in the dataset: one shared random vector for every entity (authors' code)".into(),
            source: "stand-in: a seeded random vector, no image features".into(),
        };
        let matrix = ModalityInput::Shared { row: shared };
        return (ModalityFeatures { matrix, present }, report);
    }
    let known_distribution = KnownDistribution::of(&rows, width);
    if stand_in == MissingImageStandIn::Random {
        let mut data = Vec::with_capacity(n * width);
        for row in &rows {
            match row {
                Some(v) => data.extend_from_slice(v),
                None => data.extend(known_distribution.draw(rng)),
            }
        }
        let report = ModalityInputReport {
            modality: ModalityKind::Image,
            width,
            entities_with_features: known,
            imputed: n - known,
            policy: format!(
                "L2-normalised vectors; {} without an image got a vector of their own drawn from the known vectors' per-dimension mean and standard deviation (random stand-in, as MCLEA's and TMEA's code)",
                n - known
            ),
            source: image_sources(pair, width),
        };
        let matrix = ModalityInput::PerEntity { width, data };
        return (ModalityFeatures { matrix, present }, report);
    }
    // Neighbour mean over the known vectors, else one vector drawn from the known
    // vectors' per-dimension normal distribution, shared by all such entities.
    let shared = known_distribution.draw(rng);
    let mut neighbours: Vec<BTreeSet<u32>> = vec![BTreeSet::new(); n];
    for (&h, &t) in graph.heads.iter().zip(&graph.tails) {
        neighbours[h as usize].insert(t);
    }
    let mut data = Vec::with_capacity(n * width);
    let (mut from_neighbours, mut random) = (0, 0);
    for (i, row) in rows.iter().enumerate() {
        if let Some(v) = row {
            data.extend_from_slice(v);
            continue;
        }
        let known_neighbours: Vec<&Vec<f32>> = neighbours[i]
            .iter()
            .filter_map(|&j| rows[j as usize].as_ref())
            .collect();
        if known_neighbours.is_empty() {
            random += 1;
            data.extend_from_slice(&shared);
        } else {
            from_neighbours += 1;
            let mut mean = vec![0.0f32; width];
            for v in &known_neighbours {
                for (m, x) in mean.iter_mut().zip(v.iter()) {
                    *m += x / known_neighbours.len() as f32;
                }
            }
            data.extend(mean);
        }
    }
    let report = ModalityInputReport {
        modality: ModalityKind::Image,
        width,
        entities_with_features: known,
        imputed: from_neighbours + random,
        policy: format!(
            "L2-normalised vectors; {from_neighbours} without an image got the mean of their neighbours' vectors, {random} one shared vector drawn from the known vectors' per-dimension mean and standard deviation (authors' code)"
        ),
        source: image_sources(pair, width),
    };
    let matrix = ModalityInput::PerEntity { width, data };
    (ModalityFeatures { matrix, present }, report)
}

/// Where each graph's image features came from, e.g. `left: feature file …; right: …`.
fn image_sources(pair: &MmkgPair, width: usize) -> String {
    Side::BOTH
        .iter()
        .map(|&side| {
            let origin = match &pair.graph(side).image_features {
                Some(f) if f.dim == width && f.count() > 0 => f.origin.to_string(),
                Some(f) if f.count() > 0 => {
                    format!("{}-wide features ignored (not {width} wide)", f.dim)
                }
                _ => "no image features (stand-ins only)".to_string(),
            };
            format!("{side}: {origin}")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The per-dimension mean and standard deviation of the known vectors, from which the
/// authors' code draws the stand-in for a missing image, so a stand-in has their scale
/// and centre rather than being a unit random direction.
struct KnownDistribution {
    mean: Vec<f64>,
    std: Vec<f64>,
}

impl KnownDistribution {
    fn of(rows: &[Option<Vec<f32>>], width: usize) -> Self {
        let known: Vec<&Vec<f32>> = rows.iter().flatten().collect();
        let count = known.len().max(1) as f64;
        let mut mean = vec![0.0f64; width];
        for v in &known {
            for (m, &x) in mean.iter_mut().zip(v.iter()) {
                *m += f64::from(x) / count;
            }
        }
        let mut variance = vec![0.0f64; width];
        for v in &known {
            for ((var, &x), m) in variance.iter_mut().zip(v.iter()).zip(&mean) {
                *var += (f64::from(x) - m).powi(2) / count;
            }
        }
        let std = variance.into_iter().map(f64::sqrt).collect();
        Self { mean, std }
    }

    /// One vector drawn from `N(mean_d, std_d)` per dimension `d`.
    fn draw(&self, rng: &mut SeededRng) -> Vec<f32> {
        let noise = rng.normal_vec(self.mean.len(), 1.0);
        self.mean
            .iter()
            .zip(&self.std)
            .zip(&noise)
            .map(|((m, s), z)| (m + s * f64::from(*z)) as f32)
            .collect()
    }
}

/// `v / |v|` (zero stays zero).
pub fn l2_normalized(v: &[f32]) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter().map(|x| x / norm).collect()
    } else {
        v.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use alignscope_datasets::model::{Entity, FeatureOrigin};

    use super::*;

    /// Two entities a side; the left graph's features are `features`.
    fn pair_with_left_features(features: EntityFeatures) -> MmkgPair {
        let mut pair = MmkgPair::default();
        for side in Side::BOTH {
            pair.graph_mut(side).entities = ["a", "b"]
                .map(|key| Entity {
                    key: key.into(),
                    name: key.into(),
                })
                .to_vec();
        }
        pair.left.image_features = Some(features);
        pair
    }

    #[test]
    fn features_without_any_vector_do_not_set_the_image_width() {
        // An empty matrix of absurd width: using its width would allocate terabytes.
        let pair = pair_with_left_features(EntityFeatures {
            origin: Default::default(),
            dim: 1 << 40,
            rows: vec![None; 2],
            data: Vec::new(),
        });
        let graph = AlignmentGraph::from_pair(&pair);
        let inputs = ModalityInputs::from_pair(
            &pair,
            &graph,
            4,
            MissingImageStandIn::NeighbourMean,
            &mut SeededRng::new(7),
        );
        assert_eq!(inputs.widths()[&ModalityKind::Image], ABSENT_IMAGE_WIDTH);
        assert_eq!(inputs.reports[2].entities_with_features, 0);
    }

    #[test]
    fn the_width_comes_from_the_side_with_vectors() {
        let mut pair = pair_with_left_features(EntityFeatures {
            origin: Default::default(),
            dim: 1 << 40,
            rows: vec![None; 2],
            data: Vec::new(),
        });
        pair.right.image_features = Some(EntityFeatures {
            origin: Default::default(),
            dim: 3,
            rows: vec![Some(0), None],
            data: vec![3.0, 0.0, 4.0],
        });
        let graph = AlignmentGraph::from_pair(&pair);
        let inputs = ModalityInputs::from_pair(
            &pair,
            &graph,
            4,
            MissingImageStandIn::NeighbourMean,
            &mut SeededRng::new(7),
        );
        assert_eq!(inputs.widths()[&ModalityKind::Image], 3);
        assert_eq!(inputs.reports[2].entities_with_features, 1);
        // The mask says which entity's vector is real: the right graph's first (joint 2).
        let image = inputs.get(ModalityKind::Image).unwrap();
        assert_eq!(image.present, [false, false, true, false]);
        assert_eq!(image.present_count(), 1);
    }

    #[test]
    fn a_missing_image_is_drawn_from_the_known_vectors_distribution() {
        // Both left entities have the same vector (no spread), the right ones none and no
        // neighbours: the stand-in is that vector itself, not a random direction.
        let pair = pair_with_left_features(EntityFeatures {
            origin: Default::default(),
            dim: 3,
            rows: vec![Some(0), Some(1)],
            data: vec![3.0, 0.0, 4.0, 3.0, 0.0, 4.0],
        });
        let graph = AlignmentGraph::from_pair(&pair);
        let inputs = ModalityInputs::from_pair(
            &pair,
            &graph,
            4,
            MissingImageStandIn::NeighbourMean,
            &mut SeededRng::new(7),
        );
        let image = inputs.get(ModalityKind::Image).unwrap();
        assert_eq!(image.present, [true, true, false, false]);
        let ModalityInput::PerEntity { width, data } = &image.matrix else {
            panic!("per-entity image input expected");
        };
        assert_eq!(*width, 3);
        for row in data.chunks(3) {
            assert_eq!(row, [0.6, 0.0, 0.8]);
        }
    }

    #[test]
    fn the_random_stand_in_gives_each_missing_image_its_own_draw() {
        // Left vectors (3,0,4) and (0,5,0): per-dimension means (0.3, 0.5, 0.4) after
        // normalisation, and spread in every dimension, so two draws differ.
        // Without neighbours, the neighbour-mean stand-in would give both right
        // entities one shared draw.
        let pair = pair_with_left_features(EntityFeatures {
            origin: Default::default(),
            dim: 3,
            rows: vec![Some(0), Some(1)],
            data: vec![3.0, 0.0, 4.0, 0.0, 5.0, 0.0],
        });
        let graph = AlignmentGraph::from_pair(&pair);
        let inputs = ModalityInputs::from_pair(
            &pair,
            &graph,
            4,
            MissingImageStandIn::Random,
            &mut SeededRng::new(7),
        );
        let image = inputs.get(ModalityKind::Image).unwrap();
        assert_eq!(image.present, [true, true, false, false]);
        let ModalityInput::PerEntity { data, .. } = &image.matrix else {
            panic!("per-entity image input expected");
        };
        assert_eq!(&data[..6], [0.6, 0.0, 0.8, 0.0, 1.0, 0.0]);
        let (a, b) = (&data[6..9], &data[9..12]);
        assert_ne!(a, b, "each missing image gets a draw of its own");
        assert!(a.iter().chain(b).all(|x| x.is_finite()));
        let report = &inputs.reports[2];
        assert_eq!((report.entities_with_features, report.imputed), (2, 2));
        assert!(report.policy.contains("of their own"), "{}", report.policy);
    }

    #[test]
    fn sentence_embeddings_are_normalised_masked_and_say_where_they_came_from() {
        let mut pair = pair_with_left_features(EntityFeatures {
            origin: Default::default(),
            dim: 3,
            rows: vec![None; 2],
            data: Vec::new(),
        });
        pair.left.attribute_text_features = Some(EntityFeatures {
            origin: FeatureOrigin::Encoded {
                encoder: "all-MiniLM-L6-v2".into(),
                weights_sha256: "53aa".into(),
            },
            dim: 2,
            rows: vec![None, Some(0)],
            data: vec![3.0, 4.0],
        });
        let graph = AlignmentGraph::from_pair(&pair);
        let inputs = ModalityInputs::from_pair(
            &pair,
            &graph,
            4,
            MissingImageStandIn::NeighbourMean,
            &mut SeededRng::new(7),
        );
        let text = inputs.get(ModalityKind::AttributeText).unwrap();
        assert_eq!(text.present, [false, true, false, false]);
        let ModalityInput::PerEntity { width, data } = &text.matrix else {
            panic!("one entity has text: per-entity rows expected");
        };
        assert_eq!(*width, 2);
        assert_eq!(data, &[0.0, 0.0, 0.6, 0.8, 0.0, 0.0, 0.0, 0.0]);
        let report = inputs
            .reports
            .iter()
            .find(|r| r.modality == ModalityKind::AttributeText)
            .unwrap();
        assert_eq!(report.entities_with_features, 1);
        assert!(
            report
                .source
                .contains("left: encoded by AlignScope with all-MiniLM-L6-v2")
        );
        assert!(report.source.contains("right: no sentence embeddings"));

        // No names embedded at all: one shared zero row of the encoder's width.
        let name = inputs.get(ModalityKind::Name).unwrap();
        assert_eq!(
            name.matrix,
            ModalityInput::Shared {
                row: vec![0.0; ABSENT_TEXT_WIDTH]
            }
        );
        assert_eq!(name.present_count(), 0);
    }
}
