//! Decisions about candidate pairs: an append-only log (triggers refuse UPDATE and
//! DELETE). An undo is a new row naming the row it undoes; each reviewer's verdict on a
//! pair is their newest decision that is not undone, and the pair's verdict follows from
//! those (see [`super::consensus`]), so the whole history replays exactly.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::consensus::replay;
use super::sql_types::{sql_from_row, sql_text_enum};
use super::{DatasetId, DecisionId, RunId, Store, StoreError, now_millis};

/// A verdict about a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The two entities are the same thing.
    Accept,
    /// They are not.
    Reject,
    /// Cannot tell yet.
    Unsure,
    /// No decision (the state an undo can lead back to).
    None,
}

/// Where a decision came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum DecisionSource {
    /// A person decided.
    Manual,
    /// Imported from a file.
    Import,
    /// Taken over from a model's prediction.
    Model,
}

/// What a row does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum DecisionAction {
    /// A verdict.
    Decide,
    /// Takes back the row in `undoes`.
    Undo,
}

/// A decision to record.
#[derive(Debug, Clone)]
pub struct NewDecision {
    /// Dataset.
    pub dataset: DatasetId,
    /// Left entity key.
    pub left_key: String,
    /// Right entity key.
    pub right_key: String,
    /// Verdict (not `None`).
    pub verdict: Verdict,
    /// Source.
    pub source: DecisionSource,
    /// The run that suggested the pair.
    pub run: Option<RunId>,
    /// Confidence (model score, or a person's).
    pub confidence: Option<f64>,
    /// Free text.
    pub note: Option<String>,
    /// Who.
    pub author: String,
    /// The review-queue ordering that showed the pair (`random`, `lowest_margin`, …).
    pub review_strategy: Option<String>,
    /// The window or process it was taken in (undo stays within it).
    pub session: Option<String>,
    /// Taken in blind mode (no score, rank or gold shown); `None` outside the review view.
    pub blind: Option<bool>,
    /// An adjudicator's final decision on a pair the reviewers disagree about.
    pub adjudication: bool,
    /// Decisions recorded together as one step share this and are undone together.
    pub batch: Option<String>,
}

/// A stored decision row.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct DecisionRow {
    /// Id (increasing in time).
    pub id: DecisionId,
    /// Dataset.
    pub dataset_id: DatasetId,
    /// Left entity key.
    pub left_key: String,
    /// Right entity key.
    pub right_key: String,
    /// Decide or undo.
    pub action: DecisionAction,
    /// For a decision its verdict; for an undo the pair's verdict after it.
    pub verdict: Verdict,
    /// The row an undo takes back.
    pub undoes: Option<DecisionId>,
    /// Source.
    pub source: DecisionSource,
    /// Suggesting run.
    pub run_id: Option<RunId>,
    /// Confidence.
    pub confidence: Option<f64>,
    /// Note.
    pub note: Option<String>,
    /// Author.
    pub author: String,
    /// Unix ms.
    pub created_at: i64,
    /// The review-queue ordering that showed the pair, if it came from the queue.
    pub review_strategy: Option<String>,
    /// The window or process it was taken in (`None`: no session given, or older).
    pub session: Option<String>,
    /// Taken in blind mode; `None` outside the review view and for older rows.
    pub blind: Option<bool>,
    /// An adjudicator's final decision on a disputed pair.
    pub adjudication: bool,
    /// The step it was recorded in with others (undone together).
    pub batch: Option<String>,
}

/// A pair of entity keys (left, right).
pub type PairKey = (String, String);

impl Store {
    /// Appends a decision.
    pub async fn record_decision(&self, new: &NewDecision) -> Result<DecisionRow, StoreError> {
        insert_decision(new, new.batch.as_deref())
            .fetch_one(self.pool())
            .await
            .map_err(|e| self.err(e))
    }

    /// Appends `decisions` in one transaction (all or none), sharing one new batch id so
    /// that one undo takes them all back; the batch id.
    pub async fn record_decision_batch(
        &self,
        decisions: &[NewDecision],
    ) -> Result<String, StoreError> {
        let batch = format!("batch-{}-{}", now_millis(), std::process::id());
        let mut tx = self
            .pool()
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| self.err(e))?;
        for new in decisions {
            insert_decision(new, Some(&batch))
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| self.err(e))?;
        }
        tx.commit().await.map_err(|e| self.err(e))?;
        Ok(batch)
    }

    /// Undoes the newest decision of `dataset` by `author` that is not undone yet (with a
    /// `session`, only one taken in that session), appending an undo row; a decision
    /// recorded in a batch takes the rest of its batch with it, in the same transaction.
    /// The undo row of the newest decision, or `None` when there is nothing to undo.
    pub async fn undo_latest_decision(
        &self,
        dataset: DatasetId,
        author: &str,
        session: Option<&str>,
    ) -> Result<Option<DecisionRow>, StoreError> {
        let mut tx = self
            .pool()
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| self.err(e))?;
        let target: Option<DecisionRow> = sqlx::query_as(
            "SELECT * FROM decisions d
             WHERE d.dataset_id = ? AND d.action = 'decide' AND d.author = ?
               AND NOT EXISTS (SELECT 1 FROM decisions u WHERE u.undoes = d.id)
               AND (? IS NULL OR d.session = ?)
             ORDER BY d.id DESC LIMIT 1",
        )
        .bind(dataset)
        .bind(author)
        .bind(session)
        .bind(session)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| self.err(e))?;
        let Some(target) = target else {
            return Ok(None);
        };
        let mut targets = vec![target.clone()];
        if let Some(batch) = &target.batch {
            let rest: Vec<DecisionRow> = sqlx::query_as(
                "SELECT * FROM decisions d
                 WHERE d.batch = ? AND d.action = 'decide' AND d.author = ?
                   AND NOT EXISTS (SELECT 1 FROM decisions u WHERE u.undoes = d.id)
                   AND d.id != ?
                 ORDER BY d.id",
            )
            .bind(batch)
            .bind(author)
            .bind(target.id)
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| self.err(e))?;
            targets.extend(rest);
        }
        let mut first = None;
        for target in &targets {
            let row = self.append_undo(&mut tx, target, session).await?;
            first.get_or_insert(row);
        }
        tx.commit().await.map_err(|e| self.err(e))?;
        Ok(first)
    }

    /// Appends the undo row of `target` in `tx`: its verdict is the author's verdict on
    /// the pair once the target is gone (their newest earlier decision of the same kind,
    /// adjudication or review, that still stands).
    async fn append_undo(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        target: &DecisionRow,
        session: Option<&str>,
    ) -> Result<DecisionRow, StoreError> {
        let before: Option<Verdict> = sqlx::query_scalar(
            "SELECT d.verdict FROM decisions d
             WHERE d.dataset_id = ? AND d.left_key = ? AND d.right_key = ? AND d.action = 'decide'
               AND d.author = ? AND d.adjudication = ?
               AND d.id < ? AND NOT EXISTS (SELECT 1 FROM decisions u WHERE u.undoes = d.id)
             ORDER BY d.id DESC LIMIT 1",
        )
        .bind(target.dataset_id)
        .bind(&target.left_key)
        .bind(&target.right_key)
        .bind(&target.author)
        .bind(target.adjudication)
        .bind(target.id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(|e| self.err(e))?;
        sqlx::query_as(
            "INSERT INTO decisions (dataset_id, left_key, right_key, action, verdict, undoes, source, run_id, confidence, note, author, created_at, session, adjudication, batch)
             VALUES (?, ?, ?, 'undo', ?, ?, 'manual', ?, NULL, NULL, ?, ?, ?, ?, ?) RETURNING *",
        )
        .bind(target.dataset_id)
        .bind(&target.left_key)
        .bind(&target.right_key)
        .bind(before.unwrap_or(Verdict::None))
        .bind(target.id)
        .bind(target.run_id)
        .bind(&target.author)
        .bind(now_millis())
        .bind(session)
        .bind(target.adjudication)
        .bind(&target.batch)
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| self.err(e))
    }

    /// The whole history of a dataset's decisions, oldest first.
    pub async fn decision_history(
        &self,
        dataset: DatasetId,
    ) -> Result<Vec<DecisionRow>, StoreError> {
        sqlx::query_as("SELECT * FROM decisions WHERE dataset_id = ? ORDER BY id")
            .bind(dataset)
            .fetch_all(self.pool())
            .await
            .map_err(|e| self.err(e))
    }

    /// Every decision row about one pair, oldest first.
    pub async fn pair_history(
        &self,
        dataset: DatasetId,
        left_key: &str,
        right_key: &str,
    ) -> Result<Vec<DecisionRow>, StoreError> {
        sqlx::query_as(
            "SELECT * FROM decisions WHERE dataset_id = ? AND left_key = ? AND right_key = ? ORDER BY id",
        )
        .bind(dataset)
        .bind(left_key)
        .bind(right_key)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.err(e))
    }

    /// The standing decisions that involve the entity `key` on `side` (0 left, 1 right).
    pub async fn standing_decisions_of(
        &self,
        dataset: DatasetId,
        side: i64,
        key: &str,
    ) -> Result<BTreeMap<PairKey, DecisionRow>, StoreError> {
        let sql = if side == 0 {
            "SELECT * FROM decisions WHERE dataset_id = ? AND left_key = ? ORDER BY id"
        } else {
            "SELECT * FROM decisions WHERE dataset_id = ? AND right_key = ? ORDER BY id"
        };
        let rows: Vec<DecisionRow> = sqlx::query_as(sql)
            .bind(dataset)
            .bind(key)
            .fetch_all(self.pool())
            .await
            .map_err(|e| self.err(e))?;
        Ok(replay(&rows))
    }
}

/// The INSERT of the decision `new` (batch `batch`), its values bound, returning the row.
fn insert_decision<'q>(
    new: &'q NewDecision,
    batch: Option<&'q str>,
) -> sqlx::query::QueryAs<'q, sqlx::Sqlite, DecisionRow, <sqlx::Sqlite as sqlx::Database>::Arguments>
{
    sqlx::query_as(
        "INSERT INTO decisions (dataset_id, left_key, right_key, action, verdict, source, run_id, confidence, note, author, created_at, review_strategy, session, blind, adjudication, batch)
         VALUES (?, ?, ?, 'decide', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
    )
    .bind(new.dataset)
    .bind(&new.left_key)
    .bind(&new.right_key)
    .bind(new.verdict)
    .bind(new.source)
    .bind(new.run)
    .bind(new.confidence)
    .bind(&new.note)
    .bind(&new.author)
    .bind(now_millis())
    .bind(&new.review_strategy)
    .bind(&new.session)
    .bind(new.blind)
    .bind(new.adjudication)
    .bind(batch)
}

sql_text_enum!(Verdict { Accept => "accept", Reject => "reject", Unsure => "unsure", None => "none" });
sql_text_enum!(DecisionSource { Manual => "manual", Import => "import", Model => "model" });
sql_text_enum!(DecisionAction { Decide => "decide", Undo => "undo" });
sql_from_row!(DecisionRow {
    id,
    dataset_id,
    left_key,
    right_key,
    action,
    verdict,
    undoes,
    source,
    run_id,
    confidence,
    note,
    author,
    created_at,
    review_strategy,
    session,
    blind,
    adjudication,
    batch
});
