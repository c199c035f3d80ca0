//! The numerical modality's input: each entity's numeric attribute values (years, counts,
//! coordinates; read by `alignscope_datasets::numbers`) over the most frequent numeric
//! keys, normalised per key.
//!
//! Layout: `2K` columns for `K` keys, the normalised values first, then one 0/1 flag per
//! key saying whether the entity has that key (a value of 0 is a real value, so the flag
//! carries what the value cannot). MPSEA's numerical embedding projects each value with
//! its key's own vector and aggregates over the flagged keys.
//!
//! Choices (MPSEA's paper normalises "numerical triples per entity" without saying how):
//! - keys are the pair's attribute keys, so a key spelt the same in both graphs is one
//!   column; keys are ranked by how many numeric values they have in both graphs;
//! - a value becomes `sign(x)·ln(1+|x|)` (years and populations span orders of
//!   magnitude), then the key's z-score over all its values in both graphs (no gold pair
//!   is read), clamped to ±[`CLAMP`];
//! - an entity with several values for one key gets their mean (after the transform).

use std::collections::BTreeMap;

use alignscope_datasets::numbers::numeric_triples;
use alignscope_datasets::{MmkgPair, Side};

use crate::inputs::{ModalityFeatures, ModalityInput, ModalityInputReport, ModalityKind};

/// At most this many numeric keys become columns (the most frequent).
pub const NUMBER_KEYS: usize = 32;

/// Normalised values are clamped to this many standard deviations.
pub const CLAMP: f64 = 4.0;

/// The numerical modality's features of `pair` (see the module docs).
pub fn number_input(pair: &MmkgPair) -> (ModalityFeatures, ModalityInputReport) {
    let n = pair.entity_count();
    // (joint entity, key) -> transformed values.
    let mut values: BTreeMap<(usize, u32), Vec<f64>> = BTreeMap::new();
    let mut per_key: BTreeMap<u32, usize> = BTreeMap::new();
    for side in Side::BOTH {
        for triple in numeric_triples(pair.graph(side)) {
            let joint = pair.joint_index(side, triple.entity);
            values
                .entry((joint, triple.key))
                .or_default()
                .push(signed_log(triple.value));
            *per_key.entry(triple.key).or_default() += 1;
        }
    }
    let mut ranked: Vec<(u32, usize)> = per_key.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(NUMBER_KEYS);
    let keys = ranked.len().max(1);
    let column: BTreeMap<u32, usize> = ranked
        .iter()
        .enumerate()
        .map(|(c, &(key, _))| (key, c))
        .collect();

    let mut entity_means: Vec<(usize, usize, f64)> = Vec::new();
    for (&(entity, key), vs) in &values {
        if let Some(&c) = column.get(&key) {
            entity_means.push((entity, c, vs.iter().sum::<f64>() / vs.len() as f64));
        }
    }
    let stats = key_statistics(&entity_means, keys);
    let width = 2 * keys;
    let mut data = vec![0.0f32; n * width];
    let mut present = vec![false; n];
    for &(entity, c, mean) in &entity_means {
        let (centre, spread) = stats[c];
        let z = ((mean - centre) / spread).clamp(-CLAMP, CLAMP);
        data[entity * width + c] = z as f32;
        data[entity * width + keys + c] = 1.0;
        present[entity] = true;
    }
    let known = present.iter().filter(|&&p| p).count();
    let names: Vec<&str> = ranked
        .iter()
        .map(|&(key, _)| pair.attribute_keys.name(key))
        .collect();
    let report = ModalityInputReport {
        modality: ModalityKind::Number,
        width,
        entities_with_features: known,
        imputed: 0,
        policy: format!(
            "per key: sign(x)·ln(1+|x|), then the key's z-score over both graphs clamped to ±{CLAMP}, several values averaged; {keys} value columns then {keys} presence flags; no numeric value: zeros"
        ),
        source: if ranked.is_empty() {
            "no numeric attribute values in the dataset (stand-in: zeros)".into()
        } else {
            format!(
                "the numeric attribute values of the dataset, {} most frequent keys: {}",
                ranked.len(),
                names.join(", ")
            )
        },
    };
    let matrix = ModalityInput::per_entity_or_zeros(width, data, known);
    (ModalityFeatures { matrix, present }, report)
}

/// `sign(x)·ln(1+|x|)`.
fn signed_log(x: f64) -> f64 {
    x.signum() * x.abs().ln_1p()
}

/// Per column: the mean and standard deviation of its entities' values (a spread of 1
/// where the values do not vary, so a constant key normalises to 0).
fn key_statistics(entity_means: &[(usize, usize, f64)], keys: usize) -> Vec<(f64, f64)> {
    let mut sums = vec![(0.0f64, 0.0f64, 0usize); keys];
    for &(_, c, v) in entity_means {
        sums[c].0 += v;
        sums[c].1 += v * v;
        sums[c].2 += 1;
    }
    sums.into_iter()
        .map(|(sum, squares, count)| {
            if count == 0 {
                return (0.0, 1.0);
            }
            let mean = sum / count as f64;
            let variance = (squares / count as f64 - mean * mean).max(0.0);
            let spread = variance.sqrt();
            (mean, if spread > 1e-9 { spread } else { 1.0 })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use alignscope_datasets::model::{AttrTriple, Entity};

    use super::*;

    /// Three entities a side; `attributes` are (side, entity, key, literal).
    fn pair_with(attributes: &[(Side, u32, &str, &str)]) -> MmkgPair {
        pair_of(3, attributes)
    }

    /// `entities` entities a side, with `attributes`.
    fn pair_of(entities: usize, attributes: &[(Side, u32, &str, &str)]) -> MmkgPair {
        let mut pair = MmkgPair::default();
        for side in Side::BOTH {
            pair.graph_mut(side).entities = (0..entities)
                .map(|e| Entity {
                    key: format!("e{e}"),
                    name: format!("e{e}"),
                })
                .collect();
        }
        for &(side, entity, key, literal) in attributes {
            let key = pair.attribute_keys.intern(key);
            pair.graph_mut(side).attributes.push(AttrTriple {
                entity,
                key,
                value: Some(literal.into()),
            });
        }
        pair
    }

    fn rows(features: &ModalityFeatures) -> Vec<Vec<f32>> {
        match &features.matrix {
            ModalityInput::PerEntity { width, data } => {
                data.chunks(*width).map(<[f32]>::to_vec).collect()
            }
            ModalityInput::Shared { row } => vec![row.clone()],
        }
    }

    #[test]
    fn values_are_normalised_per_key_with_presence_flags() {
        let pair = pair_with(&[
            (Side::Left, 0, "year", "1990"),
            (Side::Left, 1, "year", "2010"),
            (Side::Right, 0, "year", "\"1990-05-01\"^^xsd:date"),
            (Side::Right, 1, "year", "2010"),
            (Side::Right, 1, "height", "1.5"),
            (Side::Left, 2, "label", "not a number"),
        ]);
        let (features, report) = number_input(&pair);
        // Two numeric keys ("year" 4 values, then "height" 1): 2 values + 2 flags.
        assert_eq!(features.width(), 4);
        assert_eq!(report.width, 4);
        assert_eq!(features.present, vec![true, true, false, true, true, false]);
        assert_eq!(report.entities_with_features, 4);
        assert!(report.source.contains("year, height"), "{}", report.source);
        let rows = rows(&features);
        // Years 1990 and 2010, twice each: z-scores -1 and +1 in both graphs.
        for (row, z) in [(0, -1.0), (1, 1.0), (3, -1.0), (4, 1.0)] {
            assert!(
                (rows[row][0] - z).abs() < 1e-4,
                "row {row}: {:?}",
                rows[row]
            );
            assert_eq!(rows[row][2], 1.0, "row {row} has a year");
        }
        // One height value: it normalises to 0, yet its flag says it is there.
        assert_eq!(rows[4][1], 0.0);
        assert_eq!(rows[4][3], 1.0);
        assert_eq!(rows[3][3], 0.0, "right entity 0 has no height");
        // The entity with only a text value has nothing.
        assert!(rows[2].iter().all(|&v| v == 0.0));
    }

    #[test]
    fn several_values_of_one_key_are_averaged_and_outliers_clamped() {
        // Left entity 0 has 10 and 1000; left entity 1 an outlier; 20 right entities 5.
        let mut attributes = vec![
            (Side::Left, 0, "count", "10"),
            (Side::Left, 0, "count", "1000"),
            (Side::Left, 1, "count", "1e300"),
        ];
        attributes.extend((0..20).map(|e| (Side::Right, e, "count", "5")));
        let (features, _) = number_input(&pair_of(20, &attributes));
        let rows = rows(&features);
        assert_eq!(f64::from(rows[1][0]), CLAMP, "1e300 is clamped");
        // The mean of ln 11 and ln 1001 is 4.65, against ln 6 = 1.79 for the 5s: the
        // same z-score as a single value of 103.93 gets.
        let (features_single, _) = number_input(&pair_of(
            20,
            &[
                &[
                    (Side::Left, 0, "count", "103.9333"),
                    (Side::Left, 1, "count", "1e300"),
                ][..],
                &attributes[3..],
            ]
            .concat(),
        ));
        let single = self::rows(&features_single);
        assert!(
            (rows[0][0] - single[0][0]).abs() < 1e-3,
            "{} vs {}",
            rows[0][0],
            single[0][0]
        );
        assert!(rows[0][0] > rows[20][0]);
    }

    #[test]
    fn a_dataset_without_numbers_gives_one_shared_zero_row() {
        let pair = pair_with(&[(Side::Left, 0, "label", "text")]);
        let (features, report) = number_input(&pair);
        assert_eq!(features.matrix, ModalityInput::Shared { row: vec![0.0; 2] });
        assert_eq!(features.present_count(), 0);
        assert!(report.source.contains("no numeric"), "{}", report.source);
    }

    #[test]
    fn only_the_most_frequent_keys_become_columns() {
        let names: Vec<String> = (0..NUMBER_KEYS + 5).map(|k| format!("k{k:02}")).collect();
        let mut attributes = Vec::new();
        for (k, name) in names.iter().enumerate() {
            // Key k has k+1 values, so the last keys are the most frequent.
            for _ in 0..=k {
                attributes.push((Side::Left, 0, name.as_str(), "3"));
            }
        }
        let (features, report) = number_input(&pair_with(&attributes));
        assert_eq!(features.width(), 2 * NUMBER_KEYS);
        assert!(report.source.starts_with(&format!(
            "the numeric attribute values of the dataset, {NUMBER_KEYS} most frequent keys: k{:02}",
            NUMBER_KEYS + 4
        )));
        assert!(!report.source.contains("k04"), "{}", report.source);
    }
}
