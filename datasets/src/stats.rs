//! Summary statistics of a dataset, as `dataset inspect` shows them and runs store them.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::model::{MmkgPair, Side};
use crate::numbers::{NumericKeyCount, numeric_key_counts};

/// Statistics of a pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetStats {
    /// The left graph.
    pub left: GraphStats,
    /// The right graph.
    pub right: GraphStats,
    /// Gold pairs.
    pub gold_pairs: usize,
    /// Whether every entity is in at most one gold pair.
    pub gold_is_one_to_one: bool,
    /// Distinct relations of both graphs together.
    pub relations_total: usize,
    /// Distinct attribute keys of both graphs together.
    pub attribute_keys_total: usize,
    /// Splits shipped with the dataset: name and sizes.
    pub predefined_splits: Vec<SplitSizes>,
}

/// Sizes of a predefined split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitSizes {
    /// Its name.
    pub name: String,
    /// Training pairs.
    pub train: usize,
    /// Validation pairs.
    pub valid: usize,
    /// Test pairs.
    pub test: usize,
}

/// Statistics of one graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphStats {
    /// Entities.
    pub entities: usize,
    /// Distinct relations used by its triples.
    pub relations: usize,
    /// Relational triples.
    pub triples: usize,
    /// Distinct attribute keys used.
    pub attribute_keys: usize,
    /// Attribute triples.
    pub attribute_triples: usize,
    /// Attribute triples with a literal value.
    pub attribute_values: usize,
    /// Attribute triples whose value is a number (plain, typed literal, year of a date).
    #[serde(default)]
    pub numeric_attribute_triples: usize,
    /// Those per attribute key, most frequent first.
    #[serde(default)]
    pub numeric_keys: Vec<NumericKeyCount>,
    /// Entities with at least one image file.
    pub entities_with_image_files: usize,
    /// Image files.
    pub image_files: usize,
    /// Entities with a precomputed image feature vector.
    pub entities_with_image_features: usize,
    /// Length of the image feature vectors, if any.
    pub image_feature_dim: Option<usize>,
    /// Entities with a sentence embedding of their attribute statements (encoded by
    /// AlignScope: `dataset encode-text`).
    #[serde(default)]
    pub entities_with_attribute_text_features: usize,
    /// Entities with a sentence embedding of their name.
    #[serde(default)]
    pub entities_with_name_features: usize,
    /// Entities with a sentence embedding of their abstract sentence (attributes whose
    /// keys align across the graphs).
    #[serde(default)]
    pub entities_with_attribute_abstract_features: usize,
    /// Entities with an image file or feature vector.
    pub entities_with_images: usize,
    /// `entities_with_images / entities` (0 for an empty graph).
    pub image_coverage: f64,
    /// Entities in no gold pair.
    pub dangling_entities: usize,
    /// Entities in no relational triple.
    pub isolated_entities: usize,
    /// Degree (triples an entity takes part in, as head or tail) distribution.
    pub degree: DegreeStats,
}

/// A degree distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DegreeStats {
    /// Smallest degree.
    pub min: usize,
    /// Largest degree.
    pub max: usize,
    /// Mean degree.
    pub mean: f64,
    /// Median degree (lower median).
    pub median: usize,
    /// `(degree, number of entities)` for every degree that occurs, ascending.
    pub histogram: Vec<(usize, usize)>,
}

/// Computes the statistics of `pair`.
pub fn dataset_stats(pair: &MmkgPair) -> DatasetStats {
    let mut in_gold: [HashSet<u32>; 2] = [HashSet::new(), HashSet::new()];
    let mut one_to_one = true;
    for p in &pair.gold {
        one_to_one &= in_gold[0].insert(p.left);
        one_to_one &= in_gold[1].insert(p.right);
    }
    let [left_gold, right_gold] = in_gold;
    DatasetStats {
        left: graph_stats(pair, Side::Left, &left_gold),
        right: graph_stats(pair, Side::Right, &right_gold),
        gold_pairs: pair.gold.len(),
        gold_is_one_to_one: one_to_one,
        relations_total: distinct(
            Side::BOTH
                .iter()
                .flat_map(|&s| pair.graph(s).triples.iter().map(|t| t.relation)),
        ),
        attribute_keys_total: distinct(
            Side::BOTH
                .iter()
                .flat_map(|&s| pair.graph(s).attributes.iter().map(|a| a.key)),
        ),
        predefined_splits: pair
            .predefined_splits
            .iter()
            .map(|n| SplitSizes {
                name: n.name.clone(),
                train: n.split.train.len(),
                valid: n.split.valid.len(),
                test: n.split.test.len(),
            })
            .collect(),
    }
}

fn distinct(ids: impl Iterator<Item = u32>) -> usize {
    ids.collect::<HashSet<_>>().len()
}

fn graph_stats(pair: &MmkgPair, side: Side, in_gold: &HashSet<u32>) -> GraphStats {
    let g = pair.graph(side);
    let numeric_keys = numeric_key_counts(pair, side);
    let n = g.entities.len();
    let mut degrees = vec![0usize; n];
    for t in &g.triples {
        degrees[t.head as usize] += 1;
        degrees[t.tail as usize] += 1;
    }
    let with_images = (0..n).filter(|&e| g.has_image(e as u32)).count();
    let features = g.image_features.as_ref();
    GraphStats {
        entities: n,
        relations: distinct(g.triples.iter().map(|t| t.relation)),
        triples: g.triples.len(),
        attribute_keys: distinct(g.attributes.iter().map(|a| a.key)),
        attribute_triples: g.attributes.len(),
        attribute_values: g.attributes.iter().filter(|a| a.value.is_some()).count(),
        numeric_attribute_triples: numeric_keys.iter().map(|k| k.count).sum(),
        numeric_keys,
        entities_with_image_files: g.images.iter().filter(|f| !f.is_empty()).count(),
        image_files: g.images.iter().map(Vec::len).sum(),
        entities_with_image_features: features.map_or(0, |f| f.count()),
        image_feature_dim: features.map(|f| f.dim),
        entities_with_attribute_text_features: g
            .attribute_text_features
            .as_ref()
            .map_or(0, |f| f.count()),
        entities_with_name_features: g.name_features.as_ref().map_or(0, |f| f.count()),
        entities_with_attribute_abstract_features: g
            .attribute_abstract_features
            .as_ref()
            .map_or(0, |f| f.count()),
        entities_with_images: with_images,
        image_coverage: if n == 0 {
            0.0
        } else {
            with_images as f64 / n as f64
        },
        dangling_entities: n - in_gold.len(),
        isolated_entities: degrees.iter().filter(|&&d| d == 0).count(),
        degree: degree_stats(degrees),
    }
}

fn degree_stats(mut degrees: Vec<usize>) -> DegreeStats {
    degrees.sort_unstable();
    let mut histogram: BTreeMap<usize, usize> = BTreeMap::new();
    for &d in &degrees {
        *histogram.entry(d).or_default() += 1;
    }
    let n = degrees.len();
    DegreeStats {
        min: degrees.first().copied().unwrap_or(0),
        max: degrees.last().copied().unwrap_or(0),
        mean: if n == 0 {
            0.0
        } else {
            degrees.iter().sum::<usize>() as f64 / n as f64
        },
        median: if n == 0 { 0 } else { degrees[(n - 1) / 2] },
        histogram: histogram.into_iter().collect(),
    }
}
