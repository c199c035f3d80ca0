//! Generated knowledge-graph pairs with a planted alignment, for tests and benchmarks.

use alignscope_datasets::MmkgPair;
use alignscope_datasets::model::{Entity, GoldPair, KnowledgeGraph, RelTriple, Vocabulary};

use crate::rng::SeededRng;

/// A pair of graphs where the right graph is a relabelled copy of the left one with a
/// share of its triples dropped on each side; the relabelling is the gold alignment.
pub fn planted_pair(
    entities: usize,
    relations: usize,
    triples_per_entity: usize,
    drop_share: f64,
    seed: u64,
) -> MmkgPair {
    let mut rng = SeededRng::new(seed).fork("planted-pair");
    let mut vocabulary = Vocabulary::default();
    for r in 0..relations {
        vocabulary.intern(&format!("rel{r}"));
    }
    let mut triples = Vec::new();
    for h in 0..entities {
        for _ in 0..triples_per_entity {
            let t = rng.below(entities);
            if t != h {
                triples.push(RelTriple {
                    head: h as u32,
                    relation: rng.below(relations) as u32,
                    tail: t as u32,
                });
            }
        }
    }
    let mut permutation: Vec<u32> = (0..entities as u32).collect();
    rng.shuffle(&mut permutation);
    let keep = |rng: &mut SeededRng| rng.next_f64() >= drop_share;
    let left_triples: Vec<RelTriple> = triples.iter().copied().filter(|_| keep(&mut rng)).collect();
    let right_triples: Vec<RelTriple> = triples
        .iter()
        .filter(|_| keep(&mut rng))
        .map(|t| RelTriple {
            head: permutation[t.head as usize],
            relation: t.relation,
            tail: permutation[t.tail as usize],
        })
        .collect();
    let graph = |prefix: &str, triples: Vec<RelTriple>| KnowledgeGraph {
        entities: (0..entities)
            .map(|i| Entity {
                key: format!("{prefix}{i}"),
                name: format!("{prefix}{i}"),
            })
            .collect(),
        triples,
        images: vec![Vec::new(); entities],
        ..Default::default()
    };
    MmkgPair {
        relations: vocabulary,
        left: graph("l", left_triples),
        right: graph("r", right_triples),
        gold: (0..entities as u32)
            .map(|l| GoldPair {
                left: l,
                right: permutation[l as usize],
            })
            .collect(),
        ..Default::default()
    }
}

/// [`planted_pair`] whose entities also have attribute keys, numeric attribute values,
/// image vectors and attribute-text vectors (noisy copies across the two graphs), so
/// every modality carries information. An entity's image and attribute-text vectors share one latent
/// cause (the text vector is a fixed linear map of the image's base vector), as a
/// picture and its description do, so one can be guessed from the other.
pub fn planted_multimodal_pair(entities: usize, seed: u64) -> MmkgPair {
    use alignscope_datasets::model::{AttrTriple, EntityFeatures};
    let mut pair = planted_pair(entities, 12, 4, 0.1, seed);
    let mut rng = SeededRng::new(seed).fork("planted-modalities");
    let keys: Vec<u32> = (0..8)
        .map(|k| pair.attribute_keys.intern(&format!("attr{k}")))
        .collect();
    let dim = 6;
    let base: Vec<Vec<f32>> = (0..entities).map(|_| rng.normal_vec(dim, 1.0)).collect();
    let attrs: Vec<Vec<u32>> = (0..entities)
        .map(|_| (0..2).map(|_| keys[rng.below(keys.len())]).collect())
        .collect();
    let text_dim = 8;
    let text_map = rng.normal_vec(dim * text_dim, 1.0 / (dim as f64).sqrt());
    let text_of = |base: &[f32]| -> Vec<f32> {
        (0..text_dim)
            .map(|j| (0..dim).map(|k| base[k] * text_map[k * text_dim + j]).sum())
            .collect()
    };
    // Numbers: two numeric keys per entity, a value of the entity's base vector on each
    // (drawn from their own generator, so the other modalities' draws stay as they were).
    let mut number_rng = SeededRng::new(seed).fork("planted-numbers");
    let number_keys: Vec<u32> = (0..4)
        .map(|k| pair.attribute_keys.intern(&format!("number{k}")))
        .collect();
    let numbers: Vec<Vec<(u32, f64)>> = (0..entities)
        .map(|_| {
            let first = number_rng.below(number_keys.len());
            let second = (first + 1 + number_rng.below(number_keys.len() - 1)) % number_keys.len();
            [first, second]
                .map(|k| (number_keys[k], 1900.0 + 100.0 * number_rng.next_f64()))
                .to_vec()
        })
        .collect();
    let gold = pair.gold.clone();
    for right in [false, true] {
        let mut data = vec![0.0f32; entities * dim];
        let mut text = vec![0.0f32; entities * text_dim];
        let mut attributes = Vec::new();
        for g in &gold {
            let (e, src) = if right {
                (g.right as usize, g.left as usize)
            } else {
                (g.left as usize, g.left as usize)
            };
            for (k, v) in base[src].iter().enumerate() {
                data[e * dim + k] = v + 0.1 * rng.normal() as f32;
            }
            for (k, v) in text_of(&base[src]).into_iter().enumerate() {
                text[e * text_dim + k] = v + 0.1 * rng.normal() as f32;
            }
            attributes.extend(attrs[src].iter().map(|&key| AttrTriple {
                entity: e as u32,
                key,
                value: None,
            }));
            attributes.extend(numbers[src].iter().map(|&(key, value)| AttrTriple {
                entity: e as u32,
                key,
                value: Some(format!("{:.1}", value + number_rng.normal() * 0.5)),
            }));
        }
        let graph = if right {
            &mut pair.right
        } else {
            &mut pair.left
        };
        graph.image_features = Some(EntityFeatures {
            origin: Default::default(),
            dim,
            rows: (0..entities as u32).map(Some).collect(),
            data,
        });
        let text = EntityFeatures {
            origin: Default::default(),
            dim: text_dim,
            rows: (0..entities as u32).map(Some).collect(),
            data: text,
        };
        // One text vector per entity stands for both sentence-embedding forms of its
        // attributes: the statements' mean and the abstract sentence.
        graph.attribute_abstract_features = Some(text.clone());
        graph.attribute_text_features = Some(text);
        graph.attributes = attributes;
    }
    pair
}

/// `pair` with the image of a `share` of the right graph's entities removed (drawn
/// from `seed`): the missing-modality setting of TMEA's tests.
pub fn without_right_images(mut pair: MmkgPair, share: f64, seed: u64) -> MmkgPair {
    let mut rng = SeededRng::new(seed).fork("drop-images");
    if let Some(features) = pair.right.image_features.as_mut() {
        for row in &mut features.rows {
            if rng.next_f64() < share {
                *row = None;
            }
        }
    }
    pair
}
