//! AlignScope's own format: plain TSV files and an images folder, so a knowledge-graph
//! engineer can bring two graphs without writing Python. The layout is documented in
//! `docs/FORMAT.md`; [`write_alignscope`] saves any loaded pair in it, and reading the
//! result gives the same content fingerprint.

mod read;
mod write;

pub(super) use read::read;
pub use write::write_alignscope;

use crate::problem::ProblemKind;

/// The version written to `dataset.toml`; readers refuse newer versions.
pub const FORMAT_VERSION: u32 = 1;

const MANIFEST: &str = "dataset.toml";
const RELATIONS: &str = "relations.tsv";
const ATTRIBUTE_KEYS: &str = "attribute_keys.tsv";
const GOLD: &str = "gold.tsv";
const SPLITS: &str = "splits";
const ENTITIES: &str = "entities.tsv";
const TRIPLES: &str = "triples.tsv";
const ATTRIBUTES: &str = "attributes.tsv";
const IMAGES: &str = "images";
const FEATURES: &str = "image_features.npy";
const FEATURE_KEYS: &str = "image_features_keys.tsv";
const SPLIT_PARTS: [&str; 3] = ["train.tsv", "valid.tsv", "test.tsv"];

const HEADER_RELATIONS: &str = "relation";
const HEADER_ATTRIBUTE_KEYS: &str = "attribute";
const HEADER_PAIRS: &str = "left\tright";
const HEADER_ENTITIES: &str = "key\tname";
const HEADER_TRIPLES: &str = "head\trelation\ttail";
const HEADER_ATTRIBUTES: &str = "entity\tattribute\tvalue";
const HEADER_FEATURE_KEYS: &str = "key";

/// Image file extensions recognised in `images/`.
const IMAGE_EXTENSIONS: [&str; 6] = ["png", "jpg", "jpeg", "webp", "gif", "bmp"];

/// The `dataset.toml` manifest.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    format_version: u32,
    #[serde(default)]
    name: String,
    #[serde(default)]
    left_label: String,
    #[serde(default)]
    right_label: String,
    #[serde(default)]
    credits: Vec<String>,
}

/// Characters kept as they are in image file names; everything else is %-encoded.
const FILE_NAME_ESCAPES: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_');

/// The image file stem of an entity key.
fn key_to_file_stem(key: &str) -> String {
    percent_encoding::utf8_percent_encode(key, FILE_NAME_ESCAPES).to_string()
}

/// The entity key of an image file stem, if it decodes to UTF-8.
fn file_stem_to_key(stem: &str) -> Option<String> {
    percent_encoding::percent_decode_str(stem)
        .decode_utf8()
        .ok()
        .map(|k| k.into_owned())
}

/// Escapes a field for TSV: backslash, tab, newline and carriage return.
fn escape(field: &str) -> std::borrow::Cow<'_, str> {
    if !field.contains(['\\', '\t', '\n', '\r']) {
        return field.into();
    }
    let mut out = String::with_capacity(field.len() + 4);
    for c in field.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.into()
}

/// Reverses [`escape`]; an undefined escape is a problem.
fn unescape(field: &str) -> Result<std::borrow::Cow<'_, str>, ProblemKind> {
    if !field.contains('\\') {
        return Ok(field.into());
    }
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            other => {
                return Err(ProblemKind::BadEscape {
                    escape: format!("\\{}", other.map(String::from).unwrap_or_default()),
                });
            }
        }
    }
    Ok(out.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_round_trips() {
        for text in [
            "plain",
            "a\tb",
            "line\nbreak\r",
            "back\\slash",
            "\\t literal",
        ] {
            assert_eq!(unescape(&escape(text)).unwrap(), text);
        }
        assert!(unescape("bad \\x").is_err());
        assert!(unescape("trailing \\").is_err());
    }

    #[test]
    fn file_stems_round_trip_and_are_safe() {
        for key in ["1F600", "../etc/passwd", "Kim Dae-jung", "東京", ".", "a/b"] {
            let stem = key_to_file_stem(key);
            assert!(!stem.contains('/') && !stem.starts_with('.'), "{stem}");
            assert_eq!(file_stem_to_key(&stem).as_deref(), Some(key));
        }
    }
}
