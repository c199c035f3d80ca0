//! Putting the demo pair together: both graphs, the right graph's drops, gold pairs,
//! metadata and credits.

use std::collections::{BTreeMap, HashMap};

use super::DemoOptions;
use super::emoji::read_catalogue;
use super::error::DemoError;
use super::incompleteness::{drop_images, drop_triples};
use super::labels::Labels;
use super::report::{DemoReport, KindCounts, SideReport};
use super::schema::{Attribute, EntityKind, Relation, vocabulary};
use super::side::{NameFallback, SideGraph, SideSpec, build_side};
use super::sources::{
    DemoSources, PINNED_EMOJI_DATASOURCE_GOOGLE, PINNED_EMOJI_DATASOURCE_TWITTER,
    PINNED_EMOJIBASE_DATA, Vendor,
};
use crate::model::{DatasetMeta, GoldPair, MmkgPair, Vocabulary};

/// The demo dataset's name.
pub const DATASET_NAME: &str = "emoji-en-zh";

/// English names and keywords with Twemoji images, complete.
const LEFT: SideSpec = SideSpec {
    vendor: Vendor::Twitter,
    language: "en",
    label: "English (Twemoji)",
    fallback: NameFallback::DatasourceName,
    incomplete: false,
};

/// Chinese names and keywords with Noto images, with seeded drops.
const RIGHT: SideSpec = SideSpec {
    vendor: Vendor::Google,
    language: "zh",
    label: "中文 (Noto Color Emoji)",
    fallback: NameFallback::Key,
    incomplete: true,
};

/// Builds the demo pair from the pinned packages: English + Twemoji on the left,
/// Chinese + Noto on the right, gold pairs by code point and by group/subgroup key, and
/// on the right only a seeded share of images and triples dropped. Building twice with
/// the same sources and options gives identical pairs. Image paths point into the
/// packages; no image features are computed.
pub fn build_demo_pair(
    sources: &DemoSources,
    options: &DemoOptions,
) -> Result<(MmkgPair, DemoReport), DemoError> {
    options.validate()?;
    let relations = vocabulary(Relation::ALL.map(Relation::name));
    let (left, left_report) = build_graph(&LEFT, sources, options, &relations)?;
    let (right, right_report) = build_graph(&RIGHT, sources, options, &relations)?;
    let (gold, gold_counts) = gold_pairs(&left, &right);
    let pair = MmkgPair {
        meta: meta(),
        relations,
        attribute_keys: vocabulary(Attribute::ALL.map(Attribute::name)),
        left: left.graph,
        right: right.graph,
        gold,
        predefined_splits: Vec::new(),
    };
    let report = DemoReport {
        name: DATASET_NAME.to_string(),
        seed: options.seed,
        left: left_report,
        right: right_report,
        gold: gold_counts,
    };
    Ok((pair, report))
}

/// One graph, with its drops where the spec asks for them.
fn build_graph(
    spec: &SideSpec,
    sources: &DemoSources,
    options: &DemoOptions,
    relations: &Vocabulary,
) -> Result<(SideGraph, SideReport), DemoError> {
    let mut catalogue = read_catalogue(sources, spec.vendor)?;
    if let Some(limit) = options.emoji_limit {
        catalogue.truncate(limit);
    }
    let labels = Labels::read(sources, spec.language)?;
    let mut built = build_side(spec, &catalogue, &labels, options.include_skin_tones);
    let (dropped_images, dropped_triples) = if spec.incomplete {
        (
            drop_images(&mut built.graph, options.seed, options.image_drop_share),
            drop_triples(
                &mut built.graph,
                relations,
                options.seed,
                options.edge_drop_share,
            ),
        )
    } else {
        (0, 0)
    };
    let report = side_report(spec, &built, relations, dropped_images, dropped_triples);
    Ok((built, report))
}

fn meta() -> DatasetMeta {
    DatasetMeta {
        name: DATASET_NAME.to_string(),
        left_label: LEFT.label.to_string(),
        right_label: RIGHT.label.to_string(),
        credits: vec![
            format!(
                "Twemoji artwork (left images) © Twitter, Inc. (X Corp.) and other contributors, licensed under CC-BY 4.0 (https://creativecommons.org/licenses/by/4.0/); via emoji-datasource-twitter {PINNED_EMOJI_DATASOURCE_TWITTER}"
            ),
            format!(
                "Noto Emoji artwork (right images) © Google LLC, licensed under Apache-2.0 (https://www.apache.org/licenses/LICENSE-2.0); via emoji-datasource-google {PINNED_EMOJI_DATASOURCE_GOOGLE}"
            ),
            format!(
                "Emoji catalogue (code points, categories, skin tones, versions) from emoji-datasource {PINNED_EMOJI_DATASOURCE_TWITTER} © Cal Henderson (iamcal), MIT (https://github.com/iamcal/emoji-data)"
            ),
            format!(
                "English and Chinese labels, keywords and group names from emojibase-data {PINNED_EMOJIBASE_DATA} © Miles Johnson, MIT (https://emojibase.dev)"
            ),
        ],
    }
}

fn side_report(
    spec: &SideSpec,
    built: &SideGraph,
    relations: &Vocabulary,
    dropped_images: usize,
    dropped_triples: usize,
) -> SideReport {
    let mut entities = KindCounts::default();
    for &kind in &built.kinds {
        entities.add(kind);
    }
    let mut triples_by_relation = BTreeMap::new();
    for t in &built.graph.triples {
        *triples_by_relation
            .entry(relations.name(t.relation).to_string())
            .or_insert(0) += 1;
    }
    SideReport {
        label: spec.label.to_string(),
        language: spec.language.to_string(),
        image_set: spec.vendor.image_set().to_string(),
        entities,
        triples: built.graph.triples.len(),
        triples_by_relation,
        attributes: built.graph.attributes.len(),
        images: built.graph.images.iter().filter(|f| !f.is_empty()).count(),
        dropped_triples,
        dropped_images,
        labels: built.labels.clone(),
    }
}

/// Entities of the same key and kind on both sides, keywords excepted, in left order.
fn gold_pairs(left: &SideGraph, right: &SideGraph) -> (Vec<GoldPair>, KindCounts) {
    let right_index: HashMap<(&str, EntityKind), u32> = right
        .graph
        .entities
        .iter()
        .zip(&right.kinds)
        .enumerate()
        .map(|(i, (e, &kind))| ((e.key.as_str(), kind), i as u32))
        .collect();
    let mut gold = Vec::new();
    let mut counts = KindCounts::default();
    for (i, (entity, &kind)) in left.graph.entities.iter().zip(&left.kinds).enumerate() {
        if !kind.has_counterpart() {
            continue;
        }
        if let Some(&r) = right_index.get(&(entity.key.as_str(), kind)) {
            gold.push(GoldPair {
                left: i as u32,
                right: r,
            });
            counts.add(kind);
        }
    }
    (gold, counts)
}
