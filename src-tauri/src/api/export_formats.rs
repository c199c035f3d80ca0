//! The text of the exports: SSSOM TSV, N-Triples, plain TSV, and the decision history.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::dto::EntityDto;
use crate::store::{DecisionAction, DecisionId, DecisionRow, RunId, now_millis};

const OWL_SAME_AS: &str = "http://www.w3.org/2002/07/owl#sameAs";
const OWL_DIFFERENT_FROM: &str = "http://www.w3.org/2002/07/owl#differentFrom";
/// ORCID iDs are stored as `orcid:…`; this is the prefix's expansion.
const ORCID_PREFIX: &str = "orcid:";

/// One exported pair.
pub(super) struct ExportRow {
    pub left: EntityDto,
    pub right: EntityDto,
    /// A rejected pair: not the same thing (SSSOM `predicate_modifier: Not`).
    pub negated: bool,
    pub justification: &'static str,
    pub confidence: Option<f64>,
    /// Whose verdict stands: the reviewers who agree, or the adjudicator; empty for a
    /// model prediction.
    pub authors: Vec<String>,
    /// When the standing verdict was given (Unix ms); `None` for a model prediction.
    pub decided_at: Option<i64>,
    /// The run that suggested the pair.
    pub run: Option<RunId>,
    /// The standing decision.
    pub decision: Option<DecisionId>,
    pub comment: String,
}

/// Which optional parts an export carries.
#[derive(Debug, Clone, Copy)]
pub(super) struct Parts {
    /// Rejected pairs as negative mappings.
    pub negatives: bool,
    /// Who decided, when, with which tool, from which run and decision.
    pub provenance: bool,
}

/// Percent-encodes what may not stand in an IRI (spaces, controls, `<>"{}|\^` and
/// backtick).
fn iri_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if ch.is_control() || ch == ' ' || "<>\"{}|\\^`".contains(ch) {
            let mut buf = [0u8; 4];
            for b in ch.encode_utf8(&mut buf).bytes() {
                write!(out, "%{b:02X}").expect("writing to a String");
            }
        } else {
            out.push(ch);
        }
    }
    out
}

/// The entity's IRI: its name or key when that is an absolute http(s) IRI, otherwise one
/// minted under the dataset's base.
fn iri(base: &str, e: &EntityDto) -> String {
    for candidate in [&e.name, &e.key] {
        let trimmed = candidate.trim_start_matches('<').trim_end_matches('>');
        if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
            return iri_escape(trimmed);
        }
    }
    let side = match e.side {
        super::dto::SideDto::Left => "left",
        super::dto::SideDto::Right => "right",
    };
    format!("{base}/{side}/{}", iri_escape(&e.key).replace('/', "%2F"))
}

/// Splits IRIs into CURIEs, assigning one prefix per namespace (up to the last `/` or
/// `#`): `kg1`, `kg2`, ... in order of first use.
struct CurieMap {
    prefixes: BTreeMap<String, String>,
    order: Vec<String>,
}

impl CurieMap {
    fn new() -> Self {
        Self {
            prefixes: BTreeMap::new(),
            order: Vec::new(),
        }
    }

    fn curie(&mut self, iri: &str) -> String {
        let cut = iri.rfind(['/', '#']).map(|i| i + 1).unwrap_or(0);
        let (namespace, local) = iri.split_at(cut);
        let next = format!("kg{}", self.order.len() + 1);
        let prefix = self
            .prefixes
            .entry(namespace.to_string())
            .or_insert_with(|| {
                self.order.push(namespace.to_string());
                next
            })
            .clone();
        format!("{prefix}:{local}")
    }
}

/// `text` as one TSV field (tabs and line breaks become spaces).
fn tsv_field(text: &str) -> String {
    text.replace(['\t', '\n', '\r'], " ")
}

/// SSSOM TSV: the YAML header (curie map, mapping set metadata), then one row per pair;
/// `parts` add the `predicate_modifier` column (negatives) and the provenance columns
/// (`author_id` for ORCID iDs, `author_label` for names, the decision's `mapping_date`,
/// the tool, and `other`: `run=…|decision=…`).
pub(super) fn sssom(name: &str, base: &str, rows: &[ExportRow], parts: Parts) -> String {
    let mut curies = CurieMap::new();
    let mut columns = vec!["subject_id", "subject_label", "predicate_id"];
    if parts.negatives {
        columns.push("predicate_modifier");
    }
    columns.extend([
        "object_id",
        "object_label",
        "mapping_justification",
        "confidence",
    ]);
    if parts.provenance {
        columns.extend([
            "author_id",
            "author_label",
            "mapping_date",
            "mapping_tool",
            "mapping_tool_version",
            "other",
        ]);
    }
    columns.push("comment");
    let mut body = columns.join("\t");
    body.push('\n');
    let tool_version = tsv_field(&crate::code_version());
    let mut uses_orcid = false;
    for r in rows {
        let mut fields = vec![
            curies.curie(&iri(base, &r.left)),
            tsv_field(&r.left.label),
            "owl:sameAs".to_string(),
        ];
        if parts.negatives {
            fields.push(if r.negated { "Not" } else { "" }.to_string());
        }
        fields.extend([
            curies.curie(&iri(base, &r.right)),
            tsv_field(&r.right.label),
            r.justification.to_string(),
            r.confidence.map(|c| format!("{c:.6}")).unwrap_or_default(),
        ]);
        if parts.provenance {
            let (ids, labels): (Vec<&String>, Vec<&String>) =
                r.authors.iter().partition(|a| a.starts_with(ORCID_PREFIX));
            uses_orcid |= !ids.is_empty();
            let joined = |names: Vec<&String>| {
                names
                    .iter()
                    .map(|n| tsv_field(n).replace('|', "/"))
                    .collect::<Vec<_>>()
                    .join("|")
            };
            let mut other = Vec::new();
            if let Some(run) = r.run {
                other.push(format!("run={run}"));
            }
            if let Some(decision) = r.decision {
                other.push(format!("decision={}", decision.0));
            }
            fields.extend([
                joined(ids),
                joined(labels),
                r.decided_at.map(iso_date).unwrap_or_default(),
                "AlignScope".to_string(),
                tool_version.clone(),
                other.join("|"),
            ]);
        }
        fields.push(tsv_field(&r.comment));
        body.push_str(&fields.join("\t"));
        body.push('\n');
    }
    let mut out = String::from("# curie_map:\n");
    out.push_str("#   owl: \"http://www.w3.org/2002/07/owl#\"\n");
    out.push_str("#   semapv: \"https://w3id.org/semapv/vocab/\"\n");
    if uses_orcid {
        out.push_str("#   orcid: \"https://orcid.org/\"\n");
    }
    for namespace in &curies.order {
        writeln!(out, "#   {}: \"{namespace}\"", curies.prefixes[namespace]).expect("writing");
    }
    writeln!(out, "# mapping_set_id: \"{base}/mappings\"").expect("writing");
    writeln!(
        out,
        "# mapping_set_description: \"Entity alignment of {} exported by AlignScope {}\"",
        name.replace('"', "'"),
        crate::code_version()
    )
    .expect("writing");
    out.push_str("# license: \"https://creativecommons.org/publicdomain/zero/1.0/\"\n");
    writeln!(out, "# mapping_date: \"{}\"", iso_date(now_millis())).expect("writing");
    out.push_str(&body);
    out
}

/// `owl:sameAs` for matched pairs, `owl:differentFrom` for rejected ones.
pub(super) fn ntriples(base: &str, rows: &[ExportRow]) -> String {
    let mut out = String::new();
    for r in rows {
        let predicate = if r.negated {
            OWL_DIFFERENT_FROM
        } else {
            OWL_SAME_AS
        };
        writeln!(
            out,
            "<{}> <{predicate}> <{}> .",
            iri(base, &r.left),
            iri(base, &r.right)
        )
        .expect("writing to a String");
    }
    out
}

/// Keys, justification and confidence; with negatives, a `same` column (`yes` / `no`).
pub(super) fn plain_tsv(rows: &[ExportRow], parts: Parts) -> String {
    let mut out = String::from("left\tright\tjustification\tconfidence");
    out.push_str(if parts.negatives { "\tsame\n" } else { "\n" });
    for r in rows {
        write!(
            out,
            "{}\t{}\t{}\t{}",
            tsv_field(&r.left.key),
            tsv_field(&r.right.key),
            r.justification,
            r.confidence.map(|c| format!("{c:.6}")).unwrap_or_default()
        )
        .expect("writing to a String");
        if parts.negatives {
            out.push_str(if r.negated { "\tno" } else { "\tyes" });
        }
        out.push('\n');
    }
    out
}

/// Every decision row, oldest first, for audit: who, when (UTC), what, and what it undid.
pub(super) fn history_tsv(history: &[DecisionRow]) -> String {
    let mut out = String::from(
        "id\ttime\treviewer\taction\tverdict\tleft\tright\tundoes\tadjudication\tblind\tsource\trun\tconfidence\treview_strategy\tsession\tbatch\tnote\n",
    );
    let text = |value: &Option<String>| value.as_deref().map(tsv_field).unwrap_or_default();
    for r in history {
        let action = match r.action {
            DecisionAction::Decide => "decide",
            DecisionAction::Undo => "undo",
        };
        writeln!(
            out,
            "{}\t{}\t{}\t{action}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            r.id.0,
            iso_datetime(r.created_at),
            tsv_field(&r.author),
            r.verdict.as_str(),
            tsv_field(&r.left_key),
            tsv_field(&r.right_key),
            r.undoes.map(|u| u.0.to_string()).unwrap_or_default(),
            if r.adjudication { "yes" } else { "" },
            r.blind
                .map(|b| if b { "yes" } else { "no" })
                .unwrap_or_default(),
            r.source.as_str(),
            r.run_id.map(|run| run.to_string()).unwrap_or_default(),
            r.confidence.map(|c| format!("{c:.6}")).unwrap_or_default(),
            text(&r.review_strategy),
            text(&r.session),
            text(&r.batch),
            text(&r.note),
        )
        .expect("writing to a String");
    }
    out
}

/// `YYYY-MM-DD` (UTC) of Unix milliseconds (days-to-civil, proleptic Gregorian).
pub(super) fn iso_date(millis: i64) -> String {
    let days = millis.div_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// `YYYY-MM-DDThh:mm:ss.sssZ` (UTC) of Unix milliseconds.
fn iso_datetime(millis: i64) -> String {
    let ms = millis.rem_euclid(86_400_000);
    format!(
        "{}T{:02}:{:02}:{:02}.{:03}Z",
        iso_date(millis),
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_iris() {
        assert_eq!(iso_date(0), "1970-01-01");
        assert_eq!(iso_date(1_795_219_200_000), "2026-11-21");
        assert_eq!(iso_date(951_782_400_000), "2000-02-29");
        assert_eq!(
            iso_datetime(1_795_219_200_000 + 3_723_004),
            "2026-11-21T01:02:03.004Z"
        );
        assert_eq!(iso_datetime(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(iri_escape("a b<c>"), "a%20b%3Cc%3E");
        let mut map = CurieMap::new();
        assert_eq!(map.curie("http://dbpedia.org/resource/X"), "kg1:X");
        assert_eq!(map.curie("http://zh.dbpedia.org/resource/Y"), "kg2:Y");
        assert_eq!(map.curie("http://dbpedia.org/resource/Z"), "kg1:Z");
    }
}
