//! Exports of matched pairs (SSSOM TSV, N-Triples, plain TSV) and of the decision
//! history (TSV, for audit).
//!
//! What is exported: the pairs whose reviewers agree on accept, or that an adjudicator
//! accepted, and — with negatives — those they agree to reject, as negative mappings
//! (SSSOM `predicate_modifier: Not`, `owl:differentFrom`); disputed pairs never. With a
//! run, also its mutual top-1 predictions scoring at least a threshold that no decision
//! covers. SSSOM's `mapping_justification` tells them apart:
//! `semapv:ManualMappingCuration` for pairs people decided (or imported as decided),
//! `semapv:SemanticSimilarityThresholdMatching` for model predictions, whose `confidence`
//! is the model's score clipped to [0, 1]. With a decoder, a run's predictions are
//! instead the pairs of its saved one-to-one decoding (see [`super::decoding`]) and their
//! confidence is the decoder's. Provenance (on by default) names the reviewers (ORCID
//! iDs as `author_id`, names as `author_label`), the decision's date, the tool, the run
//! and the decision.

use std::collections::HashMap;

use super::datasets::joint_entity_dto;
use super::decoding::method_word;
use super::dto::{ExportFormat, ExportRequest, SideDto};
use super::export_formats::{ExportRow, Parts, history_tsv, ntriples, plain_tsv, sssom};
use super::{Api, ApiError, ApiResult};
use crate::store::{DecisionSource, PairState, RunId, Verdict, now_millis, reviews};

const MANUAL: &str = "semapv:ManualMappingCuration";
const MODEL: &str = "semapv:SemanticSimilarityThresholdMatching";

impl Api {
    /// Exports what `request` names (see the module docs) in its format.
    pub async fn export_pairs(&self, request: &ExportRequest) -> ApiResult<String> {
        let dataset = request.dataset;
        let row = self.dataset_row(dataset).await?;
        let history = self.store.decision_history(dataset).await?;
        if request.format == ExportFormat::History {
            return Ok(history_tsv(&history));
        }
        let parts = Parts {
            negatives: request.negatives,
            provenance: request.provenance,
        };
        let decided = reviews(&history);
        let mut rows = Vec::new();
        for ((left, right), pair) in &decided {
            let (standing, authors) = match pair.state() {
                PairState::Final(row) => (row, vec![row.author.clone()]),
                PairState::Agreed(row) => (row, pair.by_reviewer.keys().cloned().collect()),
                PairState::Disputed => continue,
            };
            let negated = match standing.verdict {
                Verdict::Accept => false,
                Verdict::Reject if parts.negatives => true,
                _ => continue,
            };
            let justification = match standing.source {
                DecisionSource::Manual | DecisionSource::Import => MANUAL,
                DecisionSource::Model => MODEL,
            };
            let how = match pair.state() {
                // Without provenance nobody is named, in the comment either.
                PairState::Final(_) if parts.provenance => {
                    format!("adjudicated by {}", standing.author)
                }
                PairState::Final(_) => "adjudicated".to_string(),
                _ if authors.len() > 1 => format!("{} reviewers agree", authors.len()),
                _ => standing.source.as_str().to_string(),
            };
            let verdict = if negated { "rejected: " } else { "" };
            rows.push(ExportRow {
                left: self.entity_by_key(dataset, SideDto::Left, left).await?,
                right: self.entity_by_key(dataset, SideDto::Right, right).await?,
                negated,
                justification,
                confidence: (!negated).then(|| standing.confidence.unwrap_or(1.0)),
                authors,
                decided_at: Some(standing.created_at),
                run: standing.run_id,
                decision: Some(standing.id),
                comment: match standing.run_id {
                    Some(r) => format!(
                        "{verdict}decision {} ({how}), suggested by run {r}",
                        standing.id
                    ),
                    None => format!("{verdict}decision {} ({how})", standing.id),
                },
            });
        }
        if let Some(run) = request.run {
            let run_row = self.run_row(run).await?;
            if run_row.dataset_id != dataset {
                return Err(ApiError::invalid(format!(
                    "run {run} is on dataset {}, not {dataset}",
                    run_row.dataset_id
                )));
            }
            let pair = self.loaded_pair(dataset).await?;
            let (predictions, words) = match request.decoder {
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
                if request.min_score.is_some_and(|m| score < m) {
                    continue;
                }
                let (Some(left), Some(right)) =
                    (joint_entity_dto(&pair, q), joint_entity_dto(&pair, c))
                else {
                    return Err(ApiError::conflict(format!(
                        "run {run}'s predictions name entities that dataset {dataset} does not have"
                    )));
                };
                // A pair anyone decided is the reviewers' (disputed ones included).
                if decided.contains_key(&(left.key.clone(), right.key.clone())) {
                    continue;
                }
                rows.push(ExportRow {
                    left,
                    right,
                    negated: false,
                    justification: MODEL,
                    confidence: Some(score.clamp(0.0, 1.0)),
                    authors: Vec::new(),
                    decided_at: None,
                    run: Some(run),
                    decision: None,
                    comment: format!("{words} of run {run} ({})", run_row.model),
                });
            }
        }
        let base = format!("https://alignscope.invalid/dataset/{dataset}");
        Ok(match request.format {
            ExportFormat::Sssom => sssom(&row.name, &base, &rows, parts),
            ExportFormat::Nt => ntriples(&base, &rows),
            ExportFormat::Tsv => plain_tsv(&rows, parts),
            ExportFormat::History => history_tsv(&history),
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
    pub async fn save_export(&self, request: &ExportRequest) -> ApiResult<std::path::PathBuf> {
        let text = self.export_pairs(request).await?;
        let dir = self.data_dir.root().join("exports");
        std::fs::create_dir_all(&dir).map_err(|e| {
            ApiError::new(
                super::ErrorCode::Io,
                format!("cannot create {}: {e}", dir.display()),
            )
        })?;
        let extension = match request.format {
            ExportFormat::Sssom => "sssom.tsv",
            ExportFormat::Nt => "nt",
            ExportFormat::Tsv => "tsv",
            ExportFormat::History => "history.tsv",
        };
        let scope = match (request.format, request.run) {
            (ExportFormat::History, _) | (_, None) => String::new(),
            (_, Some(r)) => format!("-run-{r}"),
        };
        let path = dir.join(format!(
            "dataset-{}{scope}-{}.{extension}",
            request.dataset,
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
