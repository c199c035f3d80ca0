//! What building the demo produced, counted, with a display for the command line.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::schema::EntityKind;
use crate::display::thousands;
use crate::model::Side;

/// Counts per kind of entity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KindCounts {
    /// Group nodes.
    pub groups: usize,
    /// Subgroup nodes.
    pub subgroups: usize,
    /// Emoji.
    pub emoji: usize,
    /// Single-tone skin variants.
    pub skin_tone_variants: usize,
    /// Keyword nodes.
    pub keywords: usize,
}

impl KindCounts {
    /// The count of one kind.
    pub fn get(&self, kind: EntityKind) -> usize {
        match kind {
            EntityKind::Group => self.groups,
            EntityKind::Subgroup => self.subgroups,
            EntityKind::Emoji => self.emoji,
            EntityKind::SkinToneVariant => self.skin_tone_variants,
            EntityKind::Keyword => self.keywords,
        }
    }

    /// Counts one more entity of `kind`.
    pub(super) fn add(&mut self, kind: EntityKind) {
        *match kind {
            EntityKind::Group => &mut self.groups,
            EntityKind::Subgroup => &mut self.subgroups,
            EntityKind::Emoji => &mut self.emoji,
            EntityKind::SkinToneVariant => &mut self.skin_tone_variants,
            EntityKind::Keyword => &mut self.keywords,
        } += 1;
    }

    /// All kinds together.
    pub fn total(&self) -> usize {
        EntityKind::ALL.iter().map(|&k| self.get(k)).sum()
    }
}

impl fmt::Display for KindCounts {
    /// `3,635: 10 groups, 99 subgroups, ...`, leaving out kinds with none.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = EntityKind::ALL
            .iter()
            .filter(|&&k| self.get(k) > 0)
            .map(|&k| format!("{} {}", thousands(self.get(k)), k.plural()))
            .collect();
        write!(f, "{}", thousands(self.total()))?;
        if !parts.is_empty() {
            write!(f, ": {}", parts.join(", "))?;
        }
        Ok(())
    }
}

/// How the names of one side were found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LabelStats {
    /// Emoji and variants whose emojibase label has exactly their code points.
    pub exact: usize,
    /// Emoji and variants whose label matched only once U+FE0F was ignored.
    pub without_fe0f: usize,
    /// Entities without a name in the side's language, named by a fallback instead
    /// (emoji-datasource's English name on the left, the code points or key on the
    /// right).
    pub fallback_names: KindCounts,
    /// emojibase labels that name no entity of the side: regional indicator letters,
    /// mixed skin tones, emoji newer than the image set (and every skin-tone label when
    /// skin tones are left out).
    pub unused: usize,
}

/// Counts of one graph of the demo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SideReport {
    /// The graph's label, e.g. `English (Twemoji)`.
    pub label: String,
    /// The emojibase-data language, e.g. `en`.
    pub language: String,
    /// The image set, e.g. `twitter`.
    pub image_set: String,
    /// Entities by kind.
    pub entities: KindCounts,
    /// Relational triples, after drops.
    pub triples: usize,
    /// Relational triples per relation name, after drops.
    pub triples_by_relation: BTreeMap<String, usize>,
    /// Attribute triples.
    pub attributes: usize,
    /// Entities with an image, after drops.
    pub images: usize,
    /// Relational triples dropped to mimic incompleteness.
    pub dropped_triples: usize,
    /// Images dropped to mimic incompleteness.
    pub dropped_images: usize,
    /// How names were found.
    pub labels: LabelStats,
}

impl SideReport {
    /// Relational triples before drops.
    pub fn triples_before_drop(&self) -> usize {
        self.triples + self.dropped_triples
    }

    /// Entities with an image before drops.
    pub fn images_before_drop(&self) -> usize {
        self.images + self.dropped_images
    }
}

/// What [`build_demo_pair`](super::build_demo_pair) built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoReport {
    /// The dataset's name.
    pub name: String,
    /// The seed of the drops.
    pub seed: u64,
    /// The left graph.
    pub left: SideReport,
    /// The right graph.
    pub right: SideReport,
    /// Gold pairs by kind.
    pub gold: KindCounts,
}

impl DemoReport {
    /// The report of one side.
    pub fn side(&self, side: Side) -> &SideReport {
        match side {
            Side::Left => &self.left,
            Side::Right => &self.right,
        }
    }

    /// All gold pairs.
    pub fn gold_pairs(&self) -> usize {
        self.gold.total()
    }
}

impl fmt::Display for DemoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {} ↔ {} (seed {})",
            self.name, self.left.label, self.right.label, self.seed
        )?;
        for side in Side::BOTH {
            write_side(f, side, self.side(side))?;
        }
        write!(
            f,
            "gold pairs       {} (keyword nodes have no counterpart)",
            self.gold
        )
    }
}

fn write_side(f: &mut fmt::Formatter<'_>, side: Side, report: &SideReport) -> fmt::Result {
    writeln!(
        f,
        "{side} ({}, {} images): {}",
        report.language, report.image_set, report.label
    )?;
    writeln!(f, "  entities       {}", report.entities)?;
    let per_relation: Vec<String> = report
        .triples_by_relation
        .iter()
        .map(|(name, n)| format!("{name} {}", thousands(*n)))
        .collect();
    writeln!(
        f,
        "  triples        {}{}",
        thousands(report.triples),
        dropped(report.dropped_triples, report.triples_before_drop()),
    )?;
    writeln!(f, "    by relation  {}", per_relation.join(", "))?;
    writeln!(f, "  attributes     {}", thousands(report.attributes))?;
    writeln!(
        f,
        "  images         {}{}",
        thousands(report.images),
        dropped(report.dropped_images, report.images_before_drop())
    )?;
    let labels = &report.labels;
    writeln!(
        f,
        "  labels         {} matched exactly, {} only without U+FE0F, {} fallback names, {} emojibase labels unused",
        thousands(labels.exact),
        thousands(labels.without_fe0f),
        thousands(labels.fallback_names.total()),
        thousands(labels.unused)
    )
}

/// ` (356 dropped of 3,526: 10.1%)`, or nothing when none were dropped.
fn dropped(dropped: usize, before: usize) -> String {
    if dropped == 0 {
        return String::new();
    }
    let percent = 100.0 * dropped as f64 / before.max(1) as f64;
    format!(
        " ({} dropped of {}: {percent:.1}%)",
        thousands(dropped),
        thousands(before)
    )
}
