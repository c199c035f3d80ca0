//! Building one graph of the demo from a vendor's catalogue and one language's names.
//!
//! Entities are laid out in a fixed order: groups and subgroups as the catalogue first
//! names them, then each emoji (in emoji-datasource's sort order) followed by its
//! skin-tone variants, then keyword nodes sorted by tag. Triples are sorted and unique;
//! attributes are sorted by entity and key.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::emoji::{Emoji, Glyph, Variant};
use super::labels::{Label, Labels};
use super::report::LabelStats;
use super::schema::{
    Attribute, EntityKind, GROUP_PREFIX, KEYWORD_PREFIX, Relation, SUBGROUP_PREFIX,
};
use super::sources::Vendor;
use crate::model::{AttrTriple, Entity, KnowledgeGraph, RelTriple};

/// What one graph of the demo is made of.
#[derive(Debug, Clone, Copy)]
pub(super) struct SideSpec {
    /// Whose images.
    pub vendor: Vendor,
    /// The emojibase-data language of names and keywords.
    pub language: &'static str,
    /// The graph's label.
    pub label: &'static str,
    /// How emoji without a label in `language` are named.
    pub fallback: NameFallback,
    /// Whether images and triples are dropped to mimic incompleteness.
    pub incomplete: bool,
}

/// How to name an emoji or variant that has no label in the graph's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NameFallback {
    /// emoji-datasource's English name, lower-cased (group nodes: their key).
    DatasourceName,
    /// The entity key: the code points (group nodes: their key).
    Key,
}

/// A built graph with the kind of each entity.
#[derive(Debug, Clone)]
pub(super) struct SideGraph {
    /// The graph.
    pub graph: KnowledgeGraph,
    /// Per entity, its kind.
    pub kinds: Vec<EntityKind>,
    /// How names were found.
    pub labels: LabelStats,
}

/// Builds the graph of `spec` (before any drops).
pub(super) fn build_side(
    spec: &SideSpec,
    catalogue: &[Emoji],
    labels: &Labels,
    include_skin_tones: bool,
) -> SideGraph {
    let mut b = Builder {
        spec,
        labels,
        graph: KnowledgeGraph::default(),
        kinds: Vec::new(),
        index: HashMap::new(),
        triples: BTreeSet::new(),
        stats: LabelStats::default(),
        glyphs: Vec::new(),
        keywords: BTreeMap::new(),
    };
    for emoji in catalogue {
        let group = b.group(&emoji.group);
        let subgroup = b.subgroup(&emoji.subgroup);
        b.relate(subgroup, Relation::SubgroupInGroup, group);
    }
    for emoji in catalogue {
        let id = b.emoji(emoji);
        if include_skin_tones {
            for variant in &emoji.variants {
                b.variant(emoji, id, variant);
            }
        }
    }
    b.components();
    b.keyword_nodes();
    b.finish()
}

struct Builder<'a> {
    spec: &'a SideSpec,
    labels: &'a Labels,
    graph: KnowledgeGraph,
    kinds: Vec<EntityKind>,
    /// Entity index by key.
    index: HashMap<String, u32>,
    triples: BTreeSet<RelTriple>,
    stats: LabelStats,
    /// Emoji and variant entities with their code points, for ZWJ components.
    glyphs: Vec<(u32, &'a Glyph)>,
    /// Tag → the emoji it labels.
    keywords: BTreeMap<&'a str, Vec<u32>>,
}

impl<'a> Builder<'a> {
    /// The entity `key`, added with `name` (or, counted, `fallback`) if new.
    fn node(
        &mut self,
        kind: EntityKind,
        key: String,
        name: Option<&str>,
        fallback: impl FnOnce() -> String,
    ) -> u32 {
        if let Some(&id) = self.index.get(&key) {
            return id;
        }
        let name = match name {
            Some(name) => name.to_string(),
            None => {
                self.stats.fallback_names.add(kind);
                fallback()
            }
        };
        let id = self.graph.entities.len() as u32;
        self.index.insert(key.clone(), id);
        self.graph.entities.push(Entity { key, name });
        self.graph.images.push(Vec::new());
        self.kinds.push(kind);
        id
    }

    fn group(&mut self, key: &str) -> u32 {
        let name = self.labels.group(key);
        self.node(
            EntityKind::Group,
            format!("{GROUP_PREFIX}{key}"),
            name,
            || key.to_string(),
        )
    }

    fn subgroup(&mut self, key: &str) -> u32 {
        let name = self.labels.subgroup(key);
        self.node(
            EntityKind::Subgroup,
            format!("{SUBGROUP_PREFIX}{key}"),
            name,
            || key.to_string(),
        )
    }

    /// Adds an emoji with its facts, subgroup and keywords.
    fn emoji(&mut self, emoji: &'a Emoji) -> u32 {
        let name = emoji.name.as_ref().map(|n| n.to_string());
        let id = self.glyph(EntityKind::Emoji, &emoji.glyph, name);
        self.glyph_facts(id, &emoji.glyph, &emoji.category);
        self.attribute(id, Attribute::HasSkinTones, emoji.has_skin_tones);
        let subgroup = self.subgroup(&emoji.subgroup);
        self.relate(id, Relation::InSubgroup, subgroup);
        if let Some(label) = self.labels.emoji(&emoji.glyph.points) {
            for tag in &label.tags {
                self.keywords.entry(tag).or_default().push(id);
            }
        }
        id
    }

    /// Adds a skin-tone variant of the emoji `base` (entity `base_id`) with its facts.
    fn variant(&mut self, base: &'a Emoji, base_id: u32, variant: &'a Variant) {
        let name = base
            .name
            .as_ref()
            .map(|n| format!("{n}: skin tone {}", variant.tone));
        let id = self.glyph(EntityKind::SkinToneVariant, &variant.glyph, name);
        self.glyph_facts(id, &variant.glyph, &base.category);
        self.attribute(id, Attribute::SkinTone, &variant.tone);
        self.relate(id, Relation::SkinToneVariantOf, base_id);
    }

    /// Adds an emoji or variant entity named by its label; `datasource_name` is
    /// emoji-datasource's name for the left side's fallback.
    fn glyph(&mut self, kind: EntityKind, glyph: &Glyph, datasource_name: Option<String>) -> u32 {
        let label = self.labels.emoji(&glyph.points);
        self.count_match(glyph, label);
        let mode = self.spec.fallback;
        let fallback = || match (mode, datasource_name) {
            (NameFallback::DatasourceName, Some(name)) => name.to_lowercase(),
            _ => glyph.key.clone(),
        };
        let name = label.map(|l| l.label.as_str());
        self.node(kind, glyph.key.clone(), name, fallback)
    }

    fn count_match(&mut self, glyph: &Glyph, label: Option<&Label>) {
        match label {
            Some(l) if l.hexcode.eq_ignore_ascii_case(&glyph.key) => self.stats.exact += 1,
            Some(_) => self.stats.without_fe0f += 1,
            None => {}
        }
    }

    /// The attributes and image every emoji and variant has.
    fn glyph_facts(&mut self, id: u32, glyph: &'a Glyph, category: &str) {
        self.attribute(id, Attribute::UnicodeVersion, &glyph.added_in);
        self.attribute(id, Attribute::CodePointCount, glyph.points.len());
        self.attribute(id, Attribute::Category, category);
        self.attribute(id, Attribute::IsZwjSequence, glyph.points.is_zwj_sequence());
        if let Some(image) = &glyph.image {
            self.graph.images[id as usize] = vec![image.clone()];
        }
        self.glyphs.push((id, glyph));
    }

    /// `has-component` from each ZWJ sequence to its components that are entities.
    fn components(&mut self) {
        let by_match_key: HashMap<String, u32> = self
            .glyphs
            .iter()
            .map(|(id, glyph)| (glyph.points.match_key(), *id))
            .collect();
        let mut links = Vec::new();
        for (id, glyph) in &self.glyphs {
            for component in glyph.points.zwj_components() {
                match by_match_key.get(&component) {
                    Some(part) if part != id => links.push((*id, *part)),
                    _ => {}
                }
            }
        }
        for (whole, part) in links {
            self.relate(whole, Relation::HasComponent, part);
        }
    }

    /// Keyword nodes of the side's language, sorted by tag, with `has-keyword` links.
    fn keyword_nodes(&mut self) {
        let keywords = std::mem::take(&mut self.keywords);
        for (tag, emoji) in keywords {
            let key = format!("{KEYWORD_PREFIX}{}:{tag}", self.spec.language);
            let node = self.node(EntityKind::Keyword, key, Some(tag), String::new);
            for e in emoji {
                self.relate(e, Relation::HasKeyword, node);
            }
        }
    }

    fn relate(&mut self, head: u32, relation: Relation, tail: u32) {
        self.triples.insert(RelTriple {
            head,
            relation: relation.id(),
            tail,
        });
    }

    fn attribute(&mut self, entity: u32, attribute: Attribute, value: impl ToString) {
        self.graph.attributes.push(AttrTriple {
            entity,
            key: attribute.id(),
            value: Some(value.to_string()),
        });
    }

    fn finish(mut self) -> SideGraph {
        self.graph.triples = self.triples.into_iter().collect();
        self.graph.attributes.sort_by_key(|a| (a.entity, a.key));
        let matched = self.stats.exact + self.stats.without_fe0f;
        self.stats.unused = self.labels.len().saturating_sub(matched);
        SideGraph {
            graph: self.graph,
            kinds: self.kinds,
            labels: self.stats,
        }
    }
}
