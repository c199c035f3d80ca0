//! Reviewers: who decides (a name or an ORCID iD, set once per data directory), the
//! review settings (blind mode, rebound shortcuts), and how far reviewers agree (Cohen's
//! kappa for each pair of reviewers, with the counts it comes from).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::dto::ReviewerVerdictDto;
use super::{Api, ApiError, ApiResult, ErrorCode, default_author};
use crate::store::{
    DatasetId, DecisionRow, DecisionSource, PairKey, PairReviews, PairState, Verdict, reviews,
};

const REVIEWER_KEY: &str = "review.reviewer";
const BLIND_KEY: &str = "review.blind";
const SHORTCUTS_KEY: &str = "review.shortcuts";
/// Longest reviewer name accepted.
const MAX_REVIEWER_CHARS: usize = 100;

/// The review settings of the data directory.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ReviewSettingsDto {
    /// Who decides when a call names nobody: the data directory's reviewer, else
    /// `$ALIGNSCOPE_AUTHOR` or the OS user. An ORCID iD reads `orcid:0000-0002-1825-0097`.
    pub reviewer: String,
    /// Whether `reviewer` was set for this data directory (false: from the environment).
    pub reviewer_set: bool,
    /// Blind mode: the review view hides the model's score, rank and gold badge.
    pub blind: bool,
    /// Review actions bound to other keys than the defaults (action → key).
    pub shortcuts: BTreeMap<String, String>,
}

/// Changes to the review settings; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, TS)]
pub struct ReviewSettingsUpdate {
    /// The data directory's reviewer (a name or an ORCID iD); empty clears it.
    #[serde(default)]
    #[ts(optional)]
    pub reviewer: Option<String>,
    /// Blind mode on or off.
    #[serde(default)]
    #[ts(optional)]
    pub blind: Option<bool>,
    /// The rebound shortcuts (replacing the stored ones; empty restores the defaults).
    #[serde(default)]
    #[ts(optional)]
    pub shortcuts: Option<BTreeMap<String, String>>,
}

/// How often two reviewers agree on the pairs both decided.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ReviewerAgreementDto {
    /// One reviewer.
    pub first: String,
    /// The other.
    pub second: String,
    /// Pairs both decided.
    pub both: usize,
    /// Of those, pairs with the same verdict.
    pub agreed: usize,
    /// Cohen's kappa; `None` where it is undefined (no pairs, or both reviewers gave one
    /// and the same verdict to everything, so chance agreement is 1).
    pub kappa: Option<f64>,
    /// `counts[i][j]`: pairs `first` gave verdict `i` and `second` verdict `j`, in the
    /// order accept, reject, unsure.
    pub counts: Vec<Vec<usize>>,
}

/// A reviewer and how many pairs they decided.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ReviewerTallyDto {
    /// The reviewer.
    pub reviewer: String,
    /// Pairs with their standing verdict.
    pub decided: usize,
}

/// Agreement between the reviewers of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct AgreementDto {
    /// Everyone who decided pairs by hand, most pairs first.
    pub reviewers: Vec<ReviewerTallyDto>,
    /// Each pair of reviewers that decided at least one pair in common.
    pub pairs: Vec<ReviewerAgreementDto>,
    /// Pairs the reviewers disagree about and nobody adjudicated yet.
    pub disputed: usize,
    /// Pairs an adjudicator decided.
    pub adjudicated: usize,
}

/// What the reviewers said about one pair.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct PairReviewsDto {
    /// Each reviewer's standing verdict (adjudications aside), by reviewer.
    pub reviews: Vec<ReviewerVerdictDto>,
    /// The standing adjudication, final when present.
    pub adjudication: Option<ReviewerVerdictDto>,
}

impl From<&DecisionRow> for ReviewerVerdictDto {
    fn from(row: &DecisionRow) -> Self {
        Self {
            reviewer: row.author.clone(),
            verdict: row.verdict,
            note: row.note.clone(),
            decided_at: row.created_at,
        }
    }
}

impl Api {
    /// What each reviewer said about the pair `left`–`right` of `dataset`.
    pub async fn pair_reviews(
        &self,
        dataset: DatasetId,
        left: &str,
        right: &str,
    ) -> ApiResult<PairReviewsDto> {
        self.dataset_row(dataset).await?;
        let history = self.store.pair_history(dataset, left, right).await?;
        let pair = reviews(&history)
            .remove(&(left.to_string(), right.to_string()))
            .unwrap_or_default();
        Ok(PairReviewsDto {
            reviews: pair
                .by_reviewer
                .values()
                .map(ReviewerVerdictDto::from)
                .collect(),
            adjudication: pair.adjudication.as_ref().map(ReviewerVerdictDto::from),
        })
    }

    /// The review settings of the data directory.
    pub async fn review_settings(&self) -> ApiResult<ReviewSettingsDto> {
        let stored = self.store.setting(REVIEWER_KEY).await?;
        let shortcuts = match self.store.setting(SHORTCUTS_KEY).await? {
            Some(text) => serde_json::from_str(&text).map_err(|e| {
                ApiError::new(
                    ErrorCode::Storage,
                    format!("the stored review shortcuts are unreadable ({e}); set them again"),
                )
            })?,
            None => BTreeMap::new(),
        };
        Ok(ReviewSettingsDto {
            reviewer_set: stored.is_some(),
            reviewer: stored.unwrap_or_else(default_author),
            blind: self.store.setting(BLIND_KEY).await?.as_deref() == Some("true"),
            shortcuts,
        })
    }

    /// Changes the review settings; the settings after the change.
    pub async fn set_review_settings(
        &self,
        update: ReviewSettingsUpdate,
    ) -> ApiResult<ReviewSettingsDto> {
        // Everything is checked before anything is written.
        let reviewer = match update.reviewer.as_deref().map(str::trim) {
            Some("") => Some(None),
            Some(text) => Some(Some(reviewer_identity(text)?)),
            None => None,
        };
        let shortcuts = match update.shortcuts {
            Some(map) => Some(check_shortcuts(map)?),
            None => None,
        };
        if let Some(reviewer) = reviewer {
            self.store
                .set_setting(REVIEWER_KEY, reviewer.as_deref())
                .await?;
        }
        if let Some(blind) = update.blind {
            self.store
                .set_setting(BLIND_KEY, Some(if blind { "true" } else { "false" }))
                .await?;
        }
        if let Some(shortcuts) = shortcuts {
            let text = (!shortcuts.is_empty())
                .then(|| serde_json::to_string(&shortcuts).expect("a map of strings serialises"));
            self.store
                .set_setting(SHORTCUTS_KEY, text.as_deref())
                .await?;
        }
        self.review_settings().await
    }

    /// Who decides: `explicit` (checked and normalised) when given, else the data
    /// directory's reviewer, else `$ALIGNSCOPE_AUTHOR` or the OS user.
    pub async fn reviewer(&self, explicit: Option<&str>) -> ApiResult<String> {
        match explicit.map(str::trim) {
            Some(text) if !text.is_empty() => reviewer_identity(text),
            _ => Ok(self.review_settings().await?.reviewer),
        }
    }

    /// Agreement between the reviewers of dataset `dataset` (decisions by hand only).
    pub async fn review_agreement(&self, dataset: DatasetId) -> ApiResult<AgreementDto> {
        self.dataset_row(dataset).await?;
        let history = self.store.decision_history(dataset).await?;
        Ok(agreement(&reviews(&history)))
    }
}

/// A reviewer as stored: the name as given (trimmed), or an ORCID iD (bare, as a URL or
/// as `orcid:…`, check digit verified) as `orcid:0000-0002-1825-0097`.
pub fn reviewer_identity(text: &str) -> ApiResult<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ApiError::invalid(
            "a reviewer needs a name or an ORCID iD (e.g. 0000-0002-1825-0097)",
        ));
    }
    if text.chars().count() > MAX_REVIEWER_CHARS {
        return Err(ApiError::invalid(format!(
            "a reviewer name has at most {MAX_REVIEWER_CHARS} characters"
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "a reviewer name cannot hold tabs, line breaks or other control characters",
        ));
    }
    let lower = text.to_ascii_lowercase();
    let prefixed = [
        "https://orcid.org/",
        "http://orcid.org/",
        "orcid.org/",
        "orcid:",
    ]
    .into_iter()
    .find(|prefix| lower.starts_with(prefix))
    .map(|prefix| &text[prefix.len()..]);
    let id = prefixed.unwrap_or(text).to_ascii_uppercase();
    if is_orcid_shape(&id) {
        let expected = orcid_check_digit(&id);
        if id.ends_with(expected) {
            return Ok(format!("orcid:{id}"));
        }
        return Err(ApiError::invalid(format!(
            "{text} is not a valid ORCID iD: its last character should be {expected} (check the digits)"
        )));
    }
    if prefixed.is_some() {
        return Err(ApiError::invalid(format!(
            "{text} is not an ORCID iD: that is four groups of four digits, the last may be X (e.g. 0000-0002-1825-0097)"
        )));
    }
    Ok(text.to_string())
}

/// `dddd-dddd-dddd-dddX` (the last character a digit or X).
fn is_orcid_shape(id: &str) -> bool {
    let bytes = id.as_bytes();
    bytes.len() == 19
        && bytes.iter().enumerate().all(|(i, &b)| match i {
            4 | 9 | 14 => b == b'-',
            18 => b.is_ascii_digit() || b == b'X',
            _ => b.is_ascii_digit(),
        })
}

/// The ISO 7064 MOD 11-2 check character of an ORCID iD's first 15 digits.
fn orcid_check_digit(id: &str) -> char {
    let total = id
        .bytes()
        .filter(u8::is_ascii_digit)
        .take(15)
        .fold(0u32, |total, digit| (total + u32::from(digit - b'0')) * 2);
    match (12 - total % 11) % 11 {
        10 => 'X',
        digit => char::from(b'0' + digit as u8),
    }
}

/// The review actions that can be rebound, with their default keys.
pub const REVIEW_ACTIONS: [(&str, &str); 7] = [
    ("accept", "a"),
    ("reject", "r"),
    ("unsure", "u"),
    ("skip", "s"),
    ("undo", "z"),
    ("next", "n"),
    ("previous", "p"),
];

/// Checks rebound shortcuts: known actions, one printable key each, no key used twice
/// (defaults of the actions left alone included).
fn check_shortcuts(map: BTreeMap<String, String>) -> ApiResult<BTreeMap<String, String>> {
    let mut keys: BTreeMap<String, &str> = BTreeMap::new();
    for (action, default) in REVIEW_ACTIONS {
        let key = map.get(action).map_or(default, String::as_str);
        let key = key.to_lowercase();
        if key.chars().count() != 1 || key.chars().any(|c| c.is_control() || c == ' ' || c == '?') {
            return Err(ApiError::invalid(format!(
                "the shortcut for {action} must be one printable key other than ?, not {key:?}"
            )));
        }
        if let Some(other) = keys.insert(key.clone(), action) {
            return Err(ApiError::invalid(format!(
                "{key:?} cannot be the shortcut for both {other} and {action}"
            )));
        }
    }
    if let Some(unknown) = map
        .keys()
        .find(|a| !REVIEW_ACTIONS.iter().any(|(known, _)| known == a))
    {
        return Err(ApiError::invalid(format!(
            "there is no review action {unknown:?}; the actions are {}",
            REVIEW_ACTIONS.map(|(a, _)| a).join(", ")
        )));
    }
    Ok(map
        .into_iter()
        .map(|(action, key)| (action, key.to_lowercase()))
        .filter(|(action, key)| {
            REVIEW_ACTIONS
                .iter()
                .any(|(known, default)| known == action && default != key)
        })
        .collect())
}

/// The verdicts kappa counts, in table order.
const CATEGORIES: [Verdict; 3] = [Verdict::Accept, Verdict::Reject, Verdict::Unsure];

/// Agreement over replayed pairs: each reviewer's standing verdict by hand (decisions
/// taken over from a model or imported are not a reviewer's judgement and are left out).
pub fn agreement(pairs: &BTreeMap<PairKey, PairReviews>) -> AgreementDto {
    let mut decided: BTreeMap<&str, usize> = BTreeMap::new();
    let mut tables: BTreeMap<(&str, &str), [[usize; 3]; 3]> = BTreeMap::new();
    let (mut disputed, mut adjudicated) = (0, 0);
    for pair in pairs.values() {
        match pair.state() {
            PairState::Final(_) => adjudicated += 1,
            PairState::Disputed => disputed += 1,
            PairState::Agreed(_) => {}
        }
        let by_hand: Vec<(&str, usize)> = pair
            .by_reviewer
            .iter()
            .filter(|(_, row)| row.source == DecisionSource::Manual)
            .filter_map(|(who, row)| {
                let category = CATEGORIES.iter().position(|&c| c == row.verdict)?;
                Some((who.as_str(), category))
            })
            .collect();
        for (i, &(first, a)) in by_hand.iter().enumerate() {
            *decided.entry(first).or_default() += 1;
            for &(second, b) in &by_hand[i + 1..] {
                tables.entry((first, second)).or_default()[a][b] += 1;
            }
        }
    }
    let mut reviewers: Vec<ReviewerTallyDto> = decided
        .into_iter()
        .map(|(reviewer, decided)| ReviewerTallyDto {
            reviewer: reviewer.to_string(),
            decided,
        })
        .collect();
    reviewers.sort_by(|a, b| b.decided.cmp(&a.decided).then(a.reviewer.cmp(&b.reviewer)));
    let pairs = tables
        .into_iter()
        .map(|((first, second), table)| {
            let both = table.iter().flatten().sum();
            ReviewerAgreementDto {
                first: first.to_string(),
                second: second.to_string(),
                both,
                agreed: (0..3).map(|k| table[k][k]).sum(),
                kappa: cohen_kappa(&table),
                counts: table.iter().map(|row| row.to_vec()).collect(),
            }
        })
        .collect();
    AgreementDto {
        reviewers,
        pairs,
        disputed,
        adjudicated,
    }
}

/// Cohen's kappa of a square table of counts, `(p_o - p_e) / (1 - p_e)`; `None` for an
/// empty table or where chance agreement `p_e` is 1.
pub fn cohen_kappa<const K: usize>(table: &[[usize; K]; K]) -> Option<f64> {
    let n: usize = table.iter().flatten().sum();
    if n == 0 {
        return None;
    }
    let n = n as f64;
    let observed = (0..K).map(|k| table[k][k]).sum::<usize>() as f64 / n;
    let chance: f64 = (0..K)
        .map(|k| {
            let row: usize = table[k].iter().sum();
            let column: usize = table.iter().map(|r| r[k]).sum();
            (row as f64 / n) * (column as f64 / n)
        })
        .sum();
    (chance < 1.0 - 1e-12).then(|| (observed - chance) / (1.0 - chance))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orcid_ids_are_checked_and_normalised() {
        for given in [
            "0000-0002-1825-0097",
            "https://orcid.org/0000-0002-1825-0097",
            "ORCID:0000-0002-1825-0097",
            " orcid.org/0000-0002-1825-0097 ",
        ] {
            assert_eq!(
                reviewer_identity(given).unwrap(),
                "orcid:0000-0002-1825-0097",
                "{given}"
            );
        }
        // A check character X, in either case.
        assert_eq!(
            reviewer_identity("0000-0002-1694-233x").unwrap(),
            "orcid:0000-0002-1694-233X"
        );
        let wrong = reviewer_identity("0000-0002-1825-0098").unwrap_err();
        assert!(wrong.message.contains("should be 7"), "{}", wrong.message);
        let not_orcid = reviewer_identity("https://orcid.org/jane").unwrap_err();
        assert!(
            not_orcid.message.contains("not an ORCID iD"),
            "{}",
            not_orcid.message
        );
        assert_eq!(
            reviewer_identity("  Ada Lovelace ").unwrap(),
            "Ada Lovelace"
        );
        assert!(reviewer_identity("   ").is_err());
        assert!(reviewer_identity("tab\there").is_err());
        assert!(reviewer_identity(&"x".repeat(101)).is_err());
    }

    #[test]
    fn kappa_matches_hand_computed_values() {
        // 50 pairs: p_o = 35/50 = 0.7; p_e = 0.5·0.6 + 0.5·0.4 = 0.5; kappa = 0.4.
        let table = [[20, 5], [10, 15]];
        assert!((cohen_kappa(&table).unwrap() - 0.4).abs() < 1e-12);
        // Perfect agreement over two verdicts: 1; chance-level: 0.
        assert_eq!(cohen_kappa(&[[3, 0], [0, 2]]), Some(1.0));
        assert!(cohen_kappa(&[[1, 1], [1, 1]]).unwrap().abs() < 1e-12);
        // Undefined: nothing counted, or one verdict for everything by both.
        assert_eq!(cohen_kappa(&[[0, 0], [0, 0]]), None);
        assert_eq!(cohen_kappa(&[[4, 0], [0, 0]]), None);
    }

    #[test]
    fn shortcuts_are_checked() {
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(a, k)| (a.to_string(), k.to_string()))
                .collect()
        };
        assert_eq!(
            check_shortcuts(map(&[("accept", "Y"), ("reject", "r")])).unwrap(),
            map(&[("accept", "y")]),
            "lower-cased; keys equal to the default are dropped"
        );
        let taken = check_shortcuts(map(&[("accept", "r")])).unwrap_err();
        assert!(taken.message.contains("both"), "{}", taken.message);
        assert!(check_shortcuts(map(&[("accept", "ab")])).is_err());
        assert!(check_shortcuts(map(&[("launch", "l")])).is_err());
        assert!(check_shortcuts(map(&[("accept", " ")])).is_err());
        assert!(
            check_shortcuts(map(&[("accept", "?")])).is_err(),
            "? shows the keys"
        );
    }
}
