//! The emoji catalogue of one vendor's emoji-datasource package (`emoji.json`): which
//! emoji exist, how they are grouped, their single-tone skin variants and their images.

use std::collections::{BTreeMap, HashSet};
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;

use super::codepoints::CodePoints;
use super::error::DemoError;
use super::sources::{DemoSources, Vendor, read_json};

/// What an emoji and a skin-tone variant have in common.
#[derive(Debug, Clone)]
pub(super) struct Glyph {
    /// The fully-qualified code points as emoji-datasource writes them (`unified`):
    /// the entity key on both sides.
    pub key: String,
    /// The parsed code points.
    pub points: CodePoints,
    /// The Unicode/Emoji version that added it (`added_in`, e.g. `13.1`).
    pub added_in: String,
    /// The vendor's 64-px PNG, where the vendor has one.
    pub image: Option<PathBuf>,
}

/// A skin-tone variant with one tone (`1F44B-1F3FB`).
#[derive(Debug, Clone)]
pub(super) struct Variant {
    /// Key, code points, version and image.
    pub glyph: Glyph,
    /// The modifier, e.g. `1F3FB` (light skin tone).
    pub tone: String,
}

/// An emoji of the catalogue.
#[derive(Debug, Clone)]
pub(super) struct Emoji {
    /// Key, code points, version and image.
    pub glyph: Glyph,
    /// emoji-datasource's upper-case English name (`GRINNING FACE`), if any.
    pub name: Option<String>,
    /// emoji-datasource's category (`Smileys & Emotion`).
    pub category: String,
    /// The emojibase group key of the category (`smileys-emotion`).
    pub group: String,
    /// The emojibase subgroup key of the subcategory (`face-smiling`).
    pub subgroup: String,
    /// Whether it has skin-tone variations at all (mixed tones included).
    pub has_skin_tones: bool,
    /// Its single-tone variants, lightest first.
    pub variants: Vec<Variant>,
}

/// Flags saying which vendors have an image of an emoji.
#[derive(Debug, Deserialize)]
struct ImageFlags {
    #[serde(default)]
    has_img_twitter: bool,
    #[serde(default)]
    has_img_google: bool,
}

impl ImageFlags {
    fn has(&self, vendor: Vendor) -> bool {
        match vendor {
            Vendor::Twitter => self.has_img_twitter,
            Vendor::Google => self.has_img_google,
        }
    }
}

#[derive(Debug, Deserialize)]
struct RawVariation {
    unified: String,
    image: String,
    added_in: String,
    #[serde(flatten)]
    flags: ImageFlags,
}

#[derive(Debug, Deserialize)]
struct RawEmoji {
    #[serde(default)]
    name: Option<String>,
    unified: String,
    image: String,
    category: String,
    subcategory: String,
    sort_order: u64,
    added_in: String,
    #[serde(flatten)]
    flags: ImageFlags,
    #[serde(default)]
    skin_variations: Option<BTreeMap<String, RawVariation>>,
}

/// Reads a vendor's catalogue, in emoji-datasource's sort order.
pub(super) fn read_catalogue(
    sources: &DemoSources,
    vendor: Vendor,
) -> Result<Vec<Emoji>, DemoError> {
    let path = sources.catalogue_file(vendor);
    let raw: Vec<RawEmoji> = read_json(&path)?;
    let mut reader = Reader {
        image_dir: sources.image_dir(vendor),
        path,
        vendor,
        seen: HashSet::new(),
    };
    let mut catalogue = Vec::with_capacity(raw.len());
    for emoji in raw {
        let item = reader.emoji(&emoji)?;
        catalogue.push((emoji.sort_order, item));
    }
    catalogue.sort_by(|(a, x), (b, y)| (a, &x.glyph.key).cmp(&(b, &y.glyph.key)));
    Ok(catalogue.into_iter().map(|(_, emoji)| emoji).collect())
}

/// Turns raw entries into [`Emoji`], checking code points, uniqueness and images.
struct Reader {
    path: PathBuf,
    image_dir: PathBuf,
    vendor: Vendor,
    /// Match keys seen so far.
    seen: HashSet<String>,
}

impl Reader {
    fn emoji(&mut self, raw: &RawEmoji) -> Result<Emoji, DemoError> {
        let glyph = self.glyph(&raw.unified, &raw.image, &raw.added_in, &raw.flags)?;
        let mut variants = Vec::new();
        for (tones, variation) in raw.skin_variations.iter().flatten() {
            let Some(tone) = self.points(tones)?.single_skin_tone() else {
                continue;
            };
            variants.push(Variant {
                glyph: self.glyph(
                    &variation.unified,
                    &variation.image,
                    &variation.added_in,
                    &variation.flags,
                )?,
                tone: format!("{tone:04X}"),
            });
        }
        variants.sort_by(|a, b| a.tone.cmp(&b.tone));
        Ok(Emoji {
            glyph,
            name: raw.name.clone(),
            category: raw.category.clone(),
            group: slug(&raw.category),
            subgroup: slug(&raw.subcategory),
            has_skin_tones: raw.skin_variations.as_ref().is_some_and(|v| !v.is_empty()),
            variants,
        })
    }

    fn glyph(
        &mut self,
        unified: &str,
        image: &str,
        added_in: &str,
        flags: &ImageFlags,
    ) -> Result<Glyph, DemoError> {
        let points = self.points(unified)?;
        if !self.seen.insert(points.match_key()) {
            return Err(DemoError::DuplicateEmoji {
                path: self.path.clone(),
                unified: unified.to_string(),
            });
        }
        let image = if flags.has(self.vendor) {
            Some(self.image(unified, image)?)
        } else {
            None
        };
        Ok(Glyph {
            key: unified.to_string(),
            points,
            added_in: added_in.to_string(),
            image,
        })
    }

    fn points(&self, sequence: &str) -> Result<CodePoints, DemoError> {
        CodePoints::parse(sequence).ok_or_else(|| DemoError::BadCodePoints {
            path: self.path.clone(),
            sequence: sequence.to_string(),
        })
    }

    /// The image file, which must be a plain file name of an existing file.
    fn image(&self, key: &str, file_name: &str) -> Result<PathBuf, DemoError> {
        let path = self.image_dir.join(file_name);
        let plain = matches!(
            Path::new(file_name)
                .components()
                .collect::<Vec<_>>()
                .as_slice(),
            [Component::Normal(_)]
        );
        if plain && path.is_file() {
            Ok(path)
        } else {
            Err(DemoError::MissingImage {
                path,
                key: key.to_string(),
            })
        }
    }
}

/// emojibase's key of an emoji-datasource category or subcategory: lower-case ASCII
/// letters and digits, other runs as one `-` (`Smileys & Emotion` → `smileys-emotion`).
fn slug(name: &str) -> String {
    name.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn slugs_match_emojibase_keys() {
        assert_eq!(slug("Smileys & Emotion"), "smileys-emotion");
        assert_eq!(slug("sky & weather"), "sky-weather");
        assert_eq!(slug("face-smiling"), "face-smiling");
        assert_eq!(slug("Travel & Places"), "travel-places");
    }
}
