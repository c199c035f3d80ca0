//! A dataset's text into sentence embeddings: each entity's attribute statements
//! (`key: value`, [`alignscope_datasets::statements`]), its name and its abstract
//! sentence (TMEA's attributes whose keys align across the graphs,
//! [`alignscope_datasets::abstracts`]) go through the sentence encoder (all-MiniLM-L6-v2,
//! CPU or CUDA), by way of the data directory's statement cache. An entity's
//! attribute-text feature is the mean of its statements' embeddings, its name and
//! abstract features the embeddings of the one text. All three are written to the
//! dataset's derived-features folder ([`alignscope_datasets::derived`]) with the key
//! alignment; a model reads only what its settings ask (the papers leave names out).
//!
//! The key alignment is the sentence encoder's too: the keys' words are embedded first,
//! then keys align by mutual best cosine similarity.
//!
//! Each distinct text is embedded once. Resumable: every batch is appended to the cache
//! at once, so an encoding cut short by a crash or a cancel starts again where it stopped.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use alignscope_datasets::abstracts::{
    KEY_SIMILARITY_THRESHOLD, KeyAlignment, abstract_sentences, align_keys, used_keys,
};
use alignscope_datasets::derived::{
    DerivedKind, EncodedTextSide, EncodedTexts, write_features, write_key_alignment,
};
use alignscope_datasets::model::{EntityFeatures, FeatureOrigin};
use alignscope_datasets::statements::{entity_statements, key_words, name_text};
use alignscope_datasets::{DatasetError, MmkgPair, Side};
use alignscope_models::compute::{ComputeDevice, DeviceSentenceEncoder};
use alignscope_text::{HIDDEN, StatementCache, TextError, locate_model};
use alignscope_vision::EncodeProgress;

use crate::data_dir::DataDir;
use crate::image_features::EncodingOutcome;

/// The sentence encoder as runs and manifests name it.
pub const TEXT_ENCODER_NAME: &str = "all-MiniLM-L6-v2 (sentence-transformers), 384-d mean pooling";

/// Distinct texts embedded between two cache appends (and cancel checks).
const CHUNK: usize = 256;

/// Why text features could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TextEncodingError {
    /// The model is missing or unreadable, the cache cannot be used, or encoding failed.
    #[error(transparent)]
    Encoder(#[from] TextError),
    /// The features could not be written.
    #[error(transparent)]
    Write(#[from] DatasetError),
}

/// How a text encoding ended: the features were written, or nothing was to do, or a
/// cancel stopped it.
pub type TextOutcome = EncodingOutcome<EncodedText>;

/// The texts of both graphs: per graph and entity its statements, its name and its
/// abstract sentence.
struct Texts {
    statements: [Vec<Vec<String>>; 2],
    names: [Vec<String>; 2],
    abstracts: [Vec<String>; 2],
}

impl Texts {
    fn of(pair: &MmkgPair, alignment: &KeyAlignment) -> Self {
        Self {
            statements: Side::BOTH
                .map(|side| entity_statements(pair.graph(side), &pair.attribute_keys)),
            names: Side::BOTH.map(|side| pair.graph(side).entities.iter().map(name_text).collect()),
            abstracts: Side::BOTH.map(|side| {
                abstract_sentences(pair.graph(side), &pair.attribute_keys, side, alignment)
            }),
        }
    }

    /// Every text once, in first-seen order.
    fn distinct(&self) -> Vec<&str> {
        let mut seen = HashSet::new();
        let statements = self.statements.iter().flatten().flatten();
        let names = self.names.iter().flatten();
        let abstracts = self.abstracts.iter().flatten();
        statements
            .chain(names)
            .chain(abstracts)
            .map(String::as_str)
            .filter(|text| !text.is_empty() && seen.insert(*text))
            .collect()
    }
}

/// Whether a graph of `pair` has entities but no attribute-text features: an encoding is
/// due.
pub fn needs_text_encoding(pair: &MmkgPair) -> bool {
    Side::BOTH.iter().any(|&side| {
        let graph = pair.graph(side);
        !graph.attributes.is_empty() && graph.attribute_text_features.is_none()
    })
}

/// The model folder and the statement cache of its weights.
fn open_encoder(
    data: &DataDir,
    device: &ComputeDevice,
) -> Result<(DeviceSentenceEncoder, StatementCache), TextError> {
    let dir = locate_model(&[data.models().join("all-MiniLM-L6-v2")])?;
    let encoder = DeviceSentenceEncoder::load(device, &dir)?;
    let sha = encoder.weights_sha256();
    let id = format!("all-minilm-l6-v2-{}", &sha[..16.min(sha.len())]);
    let cache = StatementCache::open(&data.text_feature_cache(), &id, HIDDEN)?;
    Ok((encoder, cache))
}

/// What a text encoding wrote: the manifests of the statement, name and abstract-sentence
/// features, and the attribute-key alignment behind the abstract sentences.
#[derive(Debug, Clone)]
pub struct EncodedText {
    /// `attribute-text.json`.
    pub statements: EncodedTexts,
    /// `name.json`.
    pub names: EncodedTexts,
    /// `attribute-abstract.json`.
    pub abstracts: EncodedTexts,
    /// Which attribute keys of the two graphs were found to mean the same.
    pub key_alignment: KeyAlignment,
}

/// Embeds the statements, names and abstract sentences of `pair` on `device` and writes
/// the per-entity features and the attribute-key alignment to `dest`, reporting progress
/// (distinct texts done of all) after each batch.
pub fn encode_dataset_text(
    data: &DataDir,
    pair: &MmkgPair,
    dest: &Path,
    device: &ComputeDevice,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(EncodeProgress),
) -> Result<TextOutcome, TextEncodingError> {
    let has_text = Side::BOTH.iter().any(|&side| {
        let graph = pair.graph(side);
        !graph.attributes.is_empty() || graph.entities.iter().any(|e| !name_text(e).is_empty())
    });
    if !has_text {
        return Ok(EncodingOutcome::NothingToEncode);
    }
    let (encoder, mut cache) = open_encoder(data, device)?;
    // The keys' words first: the abstract sentences depend on which keys align.
    let used = Side::BOTH.map(|side| used_keys(pair.graph(side)));
    let key_texts: Vec<String> = pair
        .attribute_keys
        .names()
        .iter()
        .map(|name| key_words(name))
        .collect();
    let wanted: Vec<&str> = used
        .iter()
        .flatten()
        .map(|&key| key_texts[key as usize].as_str())
        .collect();
    let keys = embed_missing(&encoder, &mut cache, &wanted, cancel, &mut |_, _| {})?;
    if keys.cancelled {
        return Ok(EncodingOutcome::Cancelled {
            encoded: keys.encoded,
        });
    }
    let similarity = |left: u32, right: u32| match (
        cache.get(&key_texts[left as usize]),
        cache.get(&key_texts[right as usize]),
    ) {
        (Some(a), Some(b)) => cosine(a, b),
        _ => f32::NAN,
    };
    let key_alignment = align_keys(
        &pair.attribute_keys,
        &used[0],
        &used[1],
        &similarity,
        KEY_SIMILARITY_THRESHOLD,
    );

    let texts = Texts::of(pair, &key_alignment);
    let distinct = texts.distinct();
    let missing: Vec<&str> = distinct
        .iter()
        .copied()
        .filter(|text| cache.get(text).is_none())
        .collect();
    let from_cache = distinct.len() - missing.len();
    let report = |done| EncodeProgress {
        done: from_cache + done,
        total: distinct.len(),
        from_cache,
    };
    progress(report(0));
    let texts_done = embed_missing(&encoder, &mut cache, &missing, cancel, &mut |done, _| {
        progress(report(done))
    })?;
    if texts_done.cancelled {
        return Ok(EncodingOutcome::Cancelled {
            encoded: keys.encoded + texts_done.encoded,
        });
    }
    let encoded_now: HashSet<&str> = missing.iter().copied().collect();
    let embedding = |text: &str| cache.get(text);
    let sha = encoder.weights_sha256().to_string();
    let one_each = |texts: &[Vec<String>; 2]| {
        texts.each_ref().map(|texts| {
            texts
                .iter()
                .map(|text| {
                    if text.is_empty() {
                        Vec::new()
                    } else {
                        vec![text.clone()]
                    }
                })
                .collect::<Vec<_>>()
        })
    };
    let write_kind = |kind, lists: &[Vec<Vec<String>>; 2]| {
        let mut manifest = EncodedTexts::new(TEXT_ENCODER_NAME, &sha, HIDDEN);
        let mut features: [Option<EntityFeatures>; 2] = [None, None];
        for side in Side::BOTH {
            let (table, entry) = mean_features(&lists[side.index()], &embedding, &encoded_now);
            manifest.sides[side.index()] = entry;
            features[side.index()] = Some(table);
        }
        write_features(
            dest,
            kind,
            pair,
            [features[0].as_ref(), features[1].as_ref()],
            &mut manifest,
        )
        .map(|()| manifest)
    };
    let statements = write_kind(DerivedKind::AttributeText, &texts.statements)?;
    let names = write_kind(DerivedKind::Name, &one_each(&texts.names))?;
    write_key_alignment(dest, &key_alignment)?;
    let abstracts = write_kind(DerivedKind::AttributeAbstract, &one_each(&texts.abstracts))?;
    Ok(EncodingOutcome::Written(Box::new(EncodedText {
        statements,
        names,
        abstracts,
        key_alignment,
    })))
}

/// How far [`embed_missing`] got.
struct Embedded {
    /// Texts embedded and appended to the cache.
    encoded: usize,
    /// Whether a cancel stopped it (what was appended stays).
    cancelled: bool,
}

/// Embeds those of `texts` the cache lacks, each once, in chunks, appending each chunk to
/// the cache; reports texts done of all after each.
fn embed_missing(
    encoder: &DeviceSentenceEncoder,
    cache: &mut StatementCache,
    texts: &[&str],
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Embedded, TextError> {
    let mut seen = HashSet::new();
    let missing: Vec<&str> = texts
        .iter()
        .copied()
        .filter(|text| !text.is_empty() && cache.get(text).is_none() && seen.insert(*text))
        .collect();
    let mut encoded = 0;
    for chunk in missing.chunks(CHUNK) {
        if cancel.load(Ordering::Relaxed) {
            return Ok(Embedded {
                encoded,
                cancelled: true,
            });
        }
        let vectors = encoder.embed(chunk, &mut |_, _| {})?;
        let items: Vec<(&str, &[f32])> = chunk
            .iter()
            .copied()
            .zip(vectors.iter().map(Vec::as_slice))
            .collect();
        cache.append(&items)?;
        encoded += chunk.len();
        progress(encoded, missing.len());
    }
    Ok(Embedded {
        encoded,
        cancelled: false,
    })
}

/// Cosine similarity of two vectors (0 where one is zero).
fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let denominator = norm(a) * norm(b);
    if denominator > 0.0 {
        dot / denominator
    } else {
        0.0
    }
}

/// Per entity the mean of the embeddings of its texts, and the manifest's record of them.
fn mean_features<'c>(
    lists: &[Vec<String>],
    embedding: &dyn Fn(&str) -> Option<&'c [f32]>,
    encoded_now: &HashSet<&str>,
) -> (EntityFeatures, EncodedTextSide) {
    let mut table = EntityFeatures {
        origin: FeatureOrigin::Unrecorded,
        dim: HIDDEN,
        rows: vec![None; lists.len()],
        data: Vec::new(),
    };
    let mut entry = EncodedTextSide::default();
    let mut distinct: HashMap<&str, bool> = HashMap::new();
    for (entity, texts) in lists.iter().enumerate() {
        let vectors: Vec<&[f32]> = texts.iter().filter_map(|t| embedding(t)).collect();
        entry.texts += texts.len();
        for text in texts {
            distinct.insert(text, encoded_now.contains(text.as_str()));
        }
        if vectors.is_empty() {
            continue;
        }
        table.rows[entity] = Some((table.data.len() / HIDDEN) as u32);
        let mut mean = vec![0.0f32; HIDDEN];
        for vector in &vectors {
            for (m, v) in mean.iter_mut().zip(vector.iter()) {
                *m += v / vectors.len() as f32;
            }
        }
        table.data.extend(mean);
    }
    entry.entities_with_features = table.count();
    entry.distinct = distinct.len();
    entry.from_cache = distinct.values().filter(|&&now| !now).count();
    (table, entry)
}
