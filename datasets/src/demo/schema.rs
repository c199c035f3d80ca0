//! The demo's schema: kinds of entities, their keys, relations and attribute keys. Both
//! graphs use the same names.

use serde::Serialize;

use crate::model::Vocabulary;

/// Key prefix of group nodes (`group:smileys-emotion`).
pub const GROUP_PREFIX: &str = "group:";
/// Key prefix of subgroup nodes (`subgroup:face-smiling`).
pub const SUBGROUP_PREFIX: &str = "subgroup:";
/// Key prefix of keyword nodes, followed by the language (`kw:en:happy`, `kw:zh:开心`):
/// tags such as `100` or `ok` occur in both languages, and keyword nodes must not share
/// keys across the graphs since they have no counterpart.
pub const KEYWORD_PREFIX: &str = "kw:";

/// What an entity of the demo stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntityKind {
    /// An emojibase group (`smileys-emotion`).
    Group,
    /// An emojibase subgroup (`face-smiling`).
    Subgroup,
    /// An emoji, keyed by its code points.
    Emoji,
    /// A single-tone skin variant of an emoji (`1F44B-1F3FB`).
    SkinToneVariant,
    /// A keyword of one language: dangling, with no counterpart in the other graph.
    Keyword,
}

impl EntityKind {
    /// Every kind, in the order entities are laid out.
    pub const ALL: [EntityKind; 5] = [
        EntityKind::Group,
        EntityKind::Subgroup,
        EntityKind::Emoji,
        EntityKind::SkinToneVariant,
        EntityKind::Keyword,
    ];

    /// A plural noun for reports.
    pub fn plural(self) -> &'static str {
        match self {
            EntityKind::Group => "groups",
            EntityKind::Subgroup => "subgroups",
            EntityKind::Emoji => "emoji",
            EntityKind::SkinToneVariant => "skin-tone variants",
            EntityKind::Keyword => "keywords",
        }
    }

    /// Whether entities of this kind are aligned by gold pairs (all but keywords).
    pub fn has_counterpart(self) -> bool {
        self != EntityKind::Keyword
    }
}

/// A relation of the demo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Relation {
    /// Emoji → its subgroup.
    InSubgroup,
    /// Subgroup → its group.
    SubgroupInGroup,
    /// Skin-tone variant → its base emoji.
    SkinToneVariantOf,
    /// ZWJ sequence → each component that is an entity (family → man, woman, girl).
    HasComponent,
    /// Emoji → a keyword node of the graph's language.
    HasKeyword,
}

impl Relation {
    /// Every relation, in vocabulary order.
    pub const ALL: [Relation; 5] = [
        Relation::InSubgroup,
        Relation::SubgroupInGroup,
        Relation::SkinToneVariantOf,
        Relation::HasComponent,
        Relation::HasKeyword,
    ];

    /// The relation name in the data.
    pub fn name(self) -> &'static str {
        match self {
            Relation::InSubgroup => "in-subgroup",
            Relation::SubgroupInGroup => "subgroup-in-group",
            Relation::SkinToneVariantOf => "skin-tone-variant-of",
            Relation::HasComponent => "has-component",
            Relation::HasKeyword => "has-keyword",
        }
    }

    /// Its index in the pair's relation vocabulary.
    pub(super) fn id(self) -> u32 {
        self as u32
    }
}

/// An attribute key of the demo; values are strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Attribute {
    /// The Emoji version that added it (`13.1`).
    UnicodeVersion,
    /// Code points of the fully-qualified sequence, U+FE0F and U+200D included.
    CodePointCount,
    /// emoji-datasource's category (`Smileys & Emotion`).
    Category,
    /// `true` or `false`: whether an emoji has skin-tone variations (emoji only).
    HasSkinTones,
    /// The skin-tone modifier of a variant (`1F3FB`; variants only).
    SkinTone,
    /// `true` or `false`: whether it is a ZWJ sequence.
    IsZwjSequence,
}

impl Attribute {
    /// Every attribute key, in vocabulary order.
    pub const ALL: [Attribute; 6] = [
        Attribute::UnicodeVersion,
        Attribute::CodePointCount,
        Attribute::Category,
        Attribute::HasSkinTones,
        Attribute::SkinTone,
        Attribute::IsZwjSequence,
    ];

    /// The attribute key in the data.
    pub fn name(self) -> &'static str {
        match self {
            Attribute::UnicodeVersion => "unicode_version",
            Attribute::CodePointCount => "code_point_count",
            Attribute::Category => "category",
            Attribute::HasSkinTones => "has_skin_tones",
            Attribute::SkinTone => "skin_tone",
            Attribute::IsZwjSequence => "is_zwj_sequence",
        }
    }

    /// Its index in the pair's attribute-key vocabulary.
    pub(super) fn id(self) -> u32 {
        self as u32
    }
}

/// A vocabulary holding `names` in order, so that index `i` is `names[i]`.
pub(super) fn vocabulary(names: impl IntoIterator<Item = &'static str>) -> Vocabulary {
    let mut vocabulary = Vocabulary::default();
    for name in names {
        vocabulary.intern(name);
    }
    vocabulary
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_vocabulary_positions() {
        let relations = vocabulary(Relation::ALL.map(Relation::name));
        for r in Relation::ALL {
            assert_eq!(relations.get(r.name()), Some(r.id()));
        }
        let attributes = vocabulary(Attribute::ALL.map(Attribute::name));
        for a in Attribute::ALL {
            assert_eq!(attributes.get(a.name()), Some(a.id()));
        }
    }
}
