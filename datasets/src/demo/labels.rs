//! Localised names from emojibase-data: emoji labels and keyword tags
//! (`<language>/data.json`) and group and subgroup names (`<language>/messages.json`).

use std::collections::HashMap;

use serde::Deserialize;

use super::codepoints::CodePoints;
use super::error::DemoError;
use super::sources::{DemoSources, read_json};

/// The label of one emoji or skin-tone variant in one language.
#[derive(Debug, Clone)]
pub(super) struct Label {
    /// emojibase's code points (U+FE0F sometimes left out).
    pub hexcode: String,
    /// The name, e.g. `grinning face` or `笑嘻嘻`.
    pub label: String,
    /// Keywords; emojibase gives none for skin-tone variants.
    pub tags: Vec<String>,
}

/// All names of one language.
#[derive(Debug, Clone)]
pub(super) struct Labels {
    /// Labels by match key (code points without U+FE0F).
    emoji: HashMap<String, Label>,
    /// Group names by key (`smileys-emotion`).
    groups: HashMap<String, String>,
    /// Subgroup names by key (`face-smiling`).
    subgroups: HashMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct RawLabel {
    label: String,
    hexcode: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    skins: Vec<RawLabel>,
}

#[derive(Debug, Deserialize)]
struct RawMessages {
    groups: Vec<RawMessage>,
    subgroups: Vec<RawMessage>,
}

#[derive(Debug, Deserialize)]
struct RawMessage {
    key: String,
    message: String,
}

impl Labels {
    /// Reads the names of `language` (an emojibase-data folder such as `en` or `zh`).
    pub(super) fn read(sources: &DemoSources, language: &str) -> Result<Self, DemoError> {
        let data_path = sources.emojibase_file(language, "data.json");
        let raw: Vec<RawLabel> = read_json(&data_path)?;
        let mut emoji = HashMap::new();
        let mut add = |entry: RawLabel| {
            let points =
                CodePoints::parse(&entry.hexcode).ok_or_else(|| DemoError::BadCodePoints {
                    path: data_path.clone(),
                    sequence: entry.hexcode.clone(),
                })?;
            emoji.entry(points.match_key()).or_insert(Label {
                hexcode: entry.hexcode,
                label: entry.label,
                tags: entry.tags,
            });
            Ok::<_, DemoError>(())
        };
        for mut entry in raw {
            let skins = std::mem::take(&mut entry.skins);
            add(entry)?;
            skins.into_iter().try_for_each(&mut add)?;
        }
        let messages: RawMessages = read_json(&sources.emojibase_file(language, "messages.json"))?;
        let names = |list: Vec<RawMessage>| {
            let mut map = HashMap::new();
            for m in list {
                map.entry(m.key).or_insert(m.message);
            }
            map
        };
        Ok(Labels {
            emoji,
            groups: names(messages.groups),
            subgroups: names(messages.subgroups),
        })
    }

    /// The label of the emoji or variant with these code points, if emojibase has one.
    pub(super) fn emoji(&self, points: &CodePoints) -> Option<&Label> {
        self.emoji.get(&points.match_key())
    }

    /// The name of a group.
    pub(super) fn group(&self, key: &str) -> Option<&str> {
        self.groups.get(key).map(String::as_str)
    }

    /// The name of a subgroup.
    pub(super) fn subgroup(&self, key: &str) -> Option<&str> {
        self.subgroups.get(key).map(String::as_str)
    }

    /// How many distinct emoji and variant labels there are.
    pub(super) fn len(&self) -> usize {
        self.emoji.len()
    }
}
