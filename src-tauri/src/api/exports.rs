//! Exports of matched pairs: SSSOM TSV, owl:sameAs N-Triples, plain TSV.
//!
//! What is exported: the standing accepted decisions of a dataset and, when a run is
//! given, that run's mutual top-1 predictions scoring at least a threshold that no
//! standing decision covers (a rejected pair is never exported). SSSOM's
//! `mapping_justification` tells them apart: `semapv:ManualMappingCuration` for pairs a
//! person decided (or imported as decided), `semapv:SemanticSimilarityThresholdMatching`
//! for model predictions, whose `confidence` is the model's score clipped to [0, 1].
//! With a decoder, a run's predictions are instead the pairs of its saved one-to-one
//! decoding (see [`super::decoding`]) and their confidence is the decoder's.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use super::datasets::joint_entity_dto;
use super::decoding::method_word;
use super::dto::{DecoderMethod, EntityDto, ExportFormat};
use super::{Api, ApiError, ApiResult};
use crate::store::{DatasetId, DecisionSource, RunId, Verdict, now_millis, replay};

const OWL_SAME_AS: &str = "http://www.w3.org/2002/07/owl#sameAs";
const MANUAL: &str = "semapv:ManualMappingCuration";
const MODEL: &str = "semapv:SemanticSimilarityThresholdMatching";

/// One exported pair.
struct ExportRow {
    left: EntityDto,
    right: EntityDto,
    justification: &'static str,
    confidence: Option<f64>,
    author: Option<String>,
    comment: String,
}

impl Api {
    /// Exports the dataset's accepted pairs (and run `run`'s undecided predictions: its
    /// mutual top-1s scoring at least `min_score`, or with `decoder` the pairs of its saved
    /// decoding by that method whose confidence is at least `min_score`) in `format`.
    pub async fn export_pairs(
        &self,
        dataset: DatasetId,
        format: ExportFormat,
        run: Option<RunId>,
        min_score: Option<f64>,
        decoder: Option<DecoderMethod>,
    ) -> ApiResult<String> {
        let row = self.dataset_row(dataset).await?;
        let standing = replay(&self.store.decision_history(dataset).await?);
        let mut rows = Vec::new();
        for ((left, right), d) in &standing {
            if d.verdict != Verdict::Accept {
                continue;
            }
            let justification = match d.source {
                DecisionSource::Manual | DecisionSource::Import => MANUAL,
                DecisionSource::Model => MODEL,
            };
            rows.push(ExportRow {
                left: self
                    .entity_by_key(dataset, super::dto::SideDto::Left, left)
                    .await?,
                right: self
                    .entity_by_key(dataset, super::dto::SideDto::Right, right)
                    .await?,
                justification,
                confidence: Some(d.confidence.unwrap_or(1.0)),
                author: Some(d.author.clone()),
                comment: match d.run_id {
                    Some(r) => format!(
                        "decision {} ({}), suggested by run {r}",
                        d.id,
                        source_word(d.source)
                    ),
                    None => format!("decision {} ({})", d.id, source_word(d.source)),
                },
            });
        }
        if let Some(run) = run {
            let run_row = self.run_row(run).await?;
            if run_row.dataset_id != dataset {
                return Err(ApiError::invalid(format!(
                    "run {run} is on dataset {}, not {dataset}",
                    run_row.dataset_id
                )));
            }
            let pair = self.loaded_pair(dataset).await?;
            let (predictions, words) = match decoder {
                Some(method) => (
                    self.saved_outcome(run, method)
                        .await?
                        .pairs
                        .into_iter()
                        .map(|(q, c, confidence)| (q, c, f64::from(confidence)))
                        .collect(),
                    format!("{} one-to-one pair", method_word(method)),
                ),
                None => (self.mutual_top_ones(run).await?, "mutual top-1".to_string()),
            };
            for (q, c, score) in predictions {
                if min_score.is_some_and(|m| score < m) {
                    continue;
                }
                let (Some(left), Some(right)) =
                    (joint_entity_dto(&pair, q), joint_entity_dto(&pair, c))
                else {
                    return Err(ApiError::conflict(format!(
                        "run {run}'s predictions name entities that dataset {dataset} does not have"
                    )));
                };
                if standing.contains_key(&(left.key.clone(), right.key.clone())) {
                    continue;
                }
                rows.push(ExportRow {
                    left,
                    right,
                    justification: MODEL,
                    confidence: Some(score.clamp(0.0, 1.0)),
                    author: None,
                    comment: format!("{words} of run {run} ({})", run_row.model),
                });
            }
        }
        let base = format!("https://alignscope.invalid/dataset/{dataset}");
        Ok(match format {
            ExportFormat::Sssom => sssom(&row.name, &base, &rows),
            ExportFormat::Nt => ntriples(&base, &rows),
            ExportFormat::Tsv => plain_tsv(&rows),
        })
    }
}

impl Api {
    /// Run `run`'s left-to-right top-1s that are also the right-to-left top-1 of their
    /// candidate: (left, right, score), joint entity indices.
    pub(super) async fn mutual_top_ones(&self, run: RunId) -> ApiResult<Vec<(i64, i64, f64)>> {
        let back: HashMap<i64, i64> = self
            .store
            .top_two(run, 1)
            .await?
            .into_iter()
            .map(|(q, c, ..)| (q, c))
            .collect();
        Ok(self
            .store
            .top_two(run, 0)
            .await?
            .into_iter()
            .filter(|(q, c, ..)| back.get(c) == Some(q))
            .map(|(q, c, score, ..)| (q, c, score))
            .collect())
    }

    /// Writes [`Api::export_pairs`]'s text to a new file under `<data dir>/exports/`
    /// (atomically) and returns its path: how the desktop app, which has no browser
    /// downloads, hands an export over.
    pub async fn save_export(
        &self,
        dataset: DatasetId,
        format: ExportFormat,
        run: Option<RunId>,
        min_score: Option<f64>,
        decoder: Option<DecoderMethod>,
    ) -> ApiResult<std::path::PathBuf> {
        let text = self
            .export_pairs(dataset, format, run, min_score, decoder)
            .await?;
        let dir = self.data_dir.root().join("exports");
        std::fs::create_dir_all(&dir).map_err(|e| {
            ApiError::new(
                super::ErrorCode::Io,
                format!("cannot create {}: {e}", dir.display()),
            )
        })?;
        let extension = match format {
            ExportFormat::Sssom => "sssom.tsv",
            ExportFormat::Nt => "nt",
            ExportFormat::Tsv => "tsv",
        };
        let scope = run.map(|r| format!("-run-{r}")).unwrap_or_default();
        let path = dir.join(format!(
            "dataset-{dataset}{scope}-{}.{extension}",
            now_millis()
        ));
        alignscope_models::durable::write_atomically(&path, text.as_bytes()).map_err(|e| {
            ApiError::new(
                super::ErrorCode::Io,
                format!("cannot write {}: {e}", path.display()),
            )
        })?;
        Ok(path)
    }
}

fn source_word(source: DecisionSource) -> &'static str {
    match source {
        DecisionSource::Manual => "manual",
        DecisionSource::Import => "import",
        DecisionSource::Model => "model",
    }
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

fn tsv_field(text: &str) -> String {
    text.replace(['\t', '\n', '\r'], " ")
}

fn sssom(name: &str, base: &str, rows: &[ExportRow]) -> String {
    let mut curies = CurieMap::new();
    let mut body = String::from(
        "subject_id\tsubject_label\tpredicate_id\tobject_id\tobject_label\tmapping_justification\tconfidence\tauthor_label\tcomment\n",
    );
    for r in rows {
        let subject = curies.curie(&iri(base, &r.left));
        let object = curies.curie(&iri(base, &r.right));
        writeln!(
            body,
            "{subject}\t{}\towl:sameAs\t{object}\t{}\t{}\t{}\t{}\t{}",
            tsv_field(&r.left.label),
            tsv_field(&r.right.label),
            r.justification,
            r.confidence.map(|c| format!("{c:.6}")).unwrap_or_default(),
            r.author.as_deref().map(tsv_field).unwrap_or_default(),
            tsv_field(&r.comment),
        )
        .expect("writing to a String");
    }
    let mut out = String::from("# curie_map:\n");
    out.push_str("#   owl: \"http://www.w3.org/2002/07/owl#\"\n");
    out.push_str("#   semapv: \"https://w3id.org/semapv/vocab/\"\n");
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

fn ntriples(base: &str, rows: &[ExportRow]) -> String {
    let mut out = String::new();
    for r in rows {
        writeln!(
            out,
            "<{}> <{OWL_SAME_AS}> <{}> .",
            iri(base, &r.left),
            iri(base, &r.right)
        )
        .expect("writing to a String");
    }
    out
}

fn plain_tsv(rows: &[ExportRow]) -> String {
    let mut out = String::from("left\tright\tjustification\tconfidence\n");
    for r in rows {
        writeln!(
            out,
            "{}\t{}\t{}\t{}",
            tsv_field(&r.left.key),
            tsv_field(&r.right.key),
            r.justification,
            r.confidence.map(|c| format!("{c:.6}")).unwrap_or_default()
        )
        .expect("writing to a String");
    }
    out
}

/// `YYYY-MM-DD` (UTC) of Unix milliseconds (days-to-civil, proleptic Gregorian).
fn iso_date(millis: i64) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_iris() {
        assert_eq!(iso_date(0), "1970-01-01");
        assert_eq!(iso_date(1_795_219_200_000), "2026-11-21");
        assert_eq!(iso_date(951_782_400_000), "2000-02-29");
        assert_eq!(iri_escape("a b<c>"), "a%20b%3Cc%3E");
        let mut map = CurieMap::new();
        assert_eq!(map.curie("http://dbpedia.org/resource/X"), "kg1:X");
        assert_eq!(map.curie("http://zh.dbpedia.org/resource/Y"), "kg2:Y");
        assert_eq!(map.curie("http://dbpedia.org/resource/Z"), "kg1:Z");
    }
}
