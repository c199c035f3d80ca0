//! Emoji code-point sequences as the packages spell them (`1F468-200D-1F469-200D-1F467`).
//!
//! emoji-datasource writes fully-qualified sequences (with U+FE0F, the emoji variation
//! selector, where Unicode wants it) while emojibase sometimes leaves it out, so the two
//! are matched on the code points without U+FE0F: the *match key*.

use std::ops::RangeInclusive;

/// ZERO WIDTH JOINER: glues the components of a ZWJ sequence.
const ZWJ: u32 = 0x200D;
/// VARIATION SELECTOR-16: requests the emoji presentation.
const VS16: u32 = 0xFE0F;
/// The five Fitzpatrick skin-tone modifiers.
const SKIN_TONES: RangeInclusive<u32> = 0x1F3FB..=0x1F3FF;

/// A parsed code-point sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CodePoints(Vec<u32>);

impl CodePoints {
    /// Parses hexadecimal code points joined by `-`; `None` unless every part is a
    /// Unicode scalar value.
    pub(super) fn parse(text: &str) -> Option<Self> {
        text.split('-')
            .map(|part| {
                let valid =
                    (1..=6).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_hexdigit());
                let value = u32::from_str_radix(part, 16).ok().filter(|_| valid)?;
                char::from_u32(value).map(|_| value)
            })
            .collect::<Option<Vec<u32>>>()
            .map(CodePoints)
    }

    /// How many code points, U+FE0F and U+200D included.
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether components are joined by U+200D.
    pub(super) fn is_zwj_sequence(&self) -> bool {
        self.0.contains(&ZWJ)
    }

    /// The code points without U+FE0F, in uppercase hex joined by `-`.
    pub(super) fn match_key(&self) -> String {
        match_key(&self.0)
    }

    /// The match keys of the components of a ZWJ sequence, in order, repeats kept; empty
    /// for other sequences.
    pub(super) fn zwj_components(&self) -> Vec<String> {
        if !self.is_zwj_sequence() {
            return Vec::new();
        }
        self.0.split(|&c| c == ZWJ).map(match_key).collect()
    }

    /// The one skin tone of a skin-tone key such as `1F3FB` or `1F3FB-1F3FB` (all
    /// modifiers equal); `None` for mixed tones or other code points.
    pub(super) fn single_skin_tone(&self) -> Option<u32> {
        let first = *self.0.first()?;
        let uniform = self.0.iter().all(|&c| c == first);
        (uniform && SKIN_TONES.contains(&first)).then_some(first)
    }
}

fn match_key(points: &[u32]) -> String {
    points
        .iter()
        .filter(|&&c| c != VS16)
        .map(|c| format!("{c:04X}"))
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_matches_without_variation_selector() {
        let keycap = CodePoints::parse("0023-fe0f-20E3").unwrap();
        assert_eq!(keycap.len(), 3);
        assert_eq!(keycap.match_key(), "0023-20E3");
        assert!(!keycap.is_zwj_sequence());
        assert!(keycap.zwj_components().is_empty());
        for bad in ["", "1F600-", "XYZ", "110000", "D800", "1F600 ", "+1F6"] {
            assert!(CodePoints::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn splits_zwj_sequences_into_components() {
        let runner = CodePoints::parse("1F3C3-1F3FB-200D-2640-FE0F").unwrap();
        assert!(runner.is_zwj_sequence());
        assert_eq!(runner.zwj_components(), ["1F3C3-1F3FB", "2640"]);
    }

    #[test]
    fn recognises_single_skin_tones() {
        let tone = |s: &str| CodePoints::parse(s).unwrap().single_skin_tone();
        assert_eq!(tone("1F3FB"), Some(0x1F3FB));
        assert_eq!(tone("1F3FF-1F3FF"), Some(0x1F3FF));
        assert_eq!(tone("1F3FB-1F3FC"), None);
        assert_eq!(tone("1F600"), None);
    }
}
