//! A run's predictions: top-k candidates per test query with per-modality scores, the
//! rank of every true match, and per-entity modality weights.
//!
//! The primary key `(run_id, direction, query, rank)` clusters one query's candidates
//! together, so "candidates of entity X in run R" is one short range scan.

use sqlx::{QueryBuilder, Sqlite};

use super::datasets::INSERT_BATCH;
use super::sql_types::sql_from_row;
use super::{RunId, Store, StoreError, decode_f32s, encode_f32s};

/// One candidate of one query, to insert.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictionRow {
    /// 0 left to right, 1 right to left.
    pub direction: i64,
    /// Query (joint index).
    pub query: i64,
    /// 1-based rank.
    pub rank: i64,
    /// Candidate (joint index).
    pub candidate: i64,
    /// Score under the run's similarity.
    pub score: f64,
    /// Whether it is the query's true match.
    pub is_true: bool,
    /// Cosine per modality (the run's `similarity_modalities` order).
    pub modality_scores: Vec<f32>,
}

/// A query's two best candidates: `(query, top1, score1, top2, score2)`.
pub type TopTwoRow = (i64, i64, f64, Option<i64>, Option<f64>);

/// The top two candidates per query: ?1 run, ?2 direction, `{filter}` more conditions.
const TOP_TWO: &str = "SELECT p1.query, p1.candidate, p1.score, p2.candidate, p2.score
     FROM predictions p1
     LEFT JOIN predictions p2 ON p2.run_id = p1.run_id AND p2.direction = p1.direction
                             AND p2.query = p1.query AND p2.rank = 2
     WHERE p1.run_id = ?1 AND p1.direction = ?2 AND p1.rank = 1 {filter}
     ORDER BY p1.query";

/// The rank of a test pair's true match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RankRow {
    /// 0 left to right, 1 right to left.
    pub direction: i64,
    /// Query (joint index).
    pub query: i64,
    /// Its true match (joint index).
    pub truth: i64,
    /// Rank of the true match.
    pub rank: i64,
}

/// A stored candidate with the entity's names joined in.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateRow {
    /// 1-based rank.
    pub rank: i64,
    /// Candidate (joint index).
    pub candidate: i64,
    /// Its key.
    pub key: String,
    /// Its name.
    pub name: String,
    /// Its label.
    pub label: String,
    /// Score.
    pub score: f64,
    /// Whether it is the true match.
    pub is_true: bool,
    /// Cosine per modality.
    pub modality_scores: Vec<f32>,
}

impl Store {
    /// Replaces a run's predictions, ranks and weights in one transaction.
    pub async fn replace_predictions(
        &self,
        run: RunId,
        predictions: &[PredictionRow],
        ranks: &[RankRow],
        weights: &[(i64, Vec<f32>)],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await.map_err(|e| self.err(e))?;
        for table in [
            "DELETE FROM predictions WHERE run_id = ?",
            "DELETE FROM run_ranks WHERE run_id = ?",
            "DELETE FROM entity_weights WHERE run_id = ?",
        ] {
            sqlx::query(table)
                .bind(run)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.err(e))?;
        }
        for chunk in predictions.chunks(INSERT_BATCH) {
            let mut insert: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO predictions (run_id, direction, query, rank, candidate, score, is_true, modality_scores) ",
            );
            insert.push_values(chunk, |mut row, p| {
                row.push_bind(run)
                    .push_bind(p.direction)
                    .push_bind(p.query)
                    .push_bind(p.rank)
                    .push_bind(p.candidate)
                    .push_bind(p.score)
                    .push_bind(p.is_true)
                    .push_bind(encode_f32s(&p.modality_scores));
            });
            insert
                .build()
                .execute(&mut *tx)
                .await
                .map_err(|e| self.err(e))?;
        }
        for chunk in ranks.chunks(INSERT_BATCH) {
            let mut insert: QueryBuilder<Sqlite> =
                QueryBuilder::new("INSERT INTO run_ranks (run_id, direction, query, truth, rank) ");
            insert.push_values(chunk, |mut row, r| {
                row.push_bind(run)
                    .push_bind(r.direction)
                    .push_bind(r.query)
                    .push_bind(r.truth)
                    .push_bind(r.rank);
            });
            insert
                .build()
                .execute(&mut *tx)
                .await
                .map_err(|e| self.err(e))?;
        }
        for chunk in weights.chunks(INSERT_BATCH) {
            let mut insert: QueryBuilder<Sqlite> =
                QueryBuilder::new("INSERT INTO entity_weights (run_id, entity, weights) ");
            insert.push_values(chunk, |mut row, (entity, w)| {
                row.push_bind(run)
                    .push_bind(*entity)
                    .push_bind(encode_f32s(w));
            });
            insert
                .build()
                .execute(&mut *tx)
                .await
                .map_err(|e| self.err(e))?;
        }
        tx.commit().await.map_err(|e| self.err(e))
    }

    /// The candidates of `query` in `direction` of run `run`, best first, with names.
    pub async fn candidates(
        &self,
        run: RunId,
        direction: i64,
        query: i64,
    ) -> Result<Vec<CandidateRow>, StoreError> {
        type Raw = (i64, i64, String, String, String, f64, bool, Vec<u8>);
        let rows: Vec<Raw> = sqlx::query_as(
            "SELECT p.rank, p.candidate, e.key, e.name, e.label, p.score, p.is_true, p.modality_scores
             FROM predictions p
             JOIN runs r ON r.id = p.run_id
             JOIN entities e ON e.dataset_id = r.dataset_id AND e.entity = p.candidate
             WHERE p.run_id = ? AND p.direction = ? AND p.query = ?
             ORDER BY p.rank",
        )
        .bind(run)
        .bind(direction)
        .bind(query)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.err(e))?;
        Ok(rows
            .into_iter()
            .map(
                |(rank, candidate, key, name, label, score, is_true, blob)| CandidateRow {
                    rank,
                    candidate,
                    key,
                    name,
                    label,
                    score,
                    is_true,
                    modality_scores: decode_f32s(&blob),
                },
            )
            .collect())
    }

    /// The `limit` queries of `direction` whose top-1 scores lowest (ties: lower query
    /// first), through the index of top-1 scores.
    pub async fn least_confident_queries(
        &self,
        run: RunId,
        direction: i64,
        limit: i64,
    ) -> Result<Vec<i64>, StoreError> {
        self.first_queries(
            "SELECT query FROM predictions WHERE run_id = ? AND direction = ? AND rank = 1
             ORDER BY score, query LIMIT ?",
            (run, direction, limit),
        )
        .await
    }

    /// The `limit` queries of `direction` whose true match ranks worst (ties: lower query
    /// first), through the index of ranks.
    pub async fn worst_ranked_queries(
        &self,
        run: RunId,
        direction: i64,
        limit: i64,
    ) -> Result<Vec<i64>, StoreError> {
        self.first_queries(
            "SELECT query FROM run_ranks WHERE run_id = ? AND direction = ?
             ORDER BY rank DESC, query LIMIT ?",
            (run, direction, limit),
        )
        .await
    }

    /// The queries `sql` selects for `(run, direction, limit)`.
    async fn first_queries(
        &self,
        sql: &'static str,
        (run, direction, limit): (RunId, i64, i64),
    ) -> Result<Vec<i64>, StoreError> {
        sqlx::query_scalar(sql)
            .bind(run)
            .bind(direction)
            .bind(limit)
            .fetch_all(self.pool())
            .await
            .map_err(|e| self.err(e))
    }

    /// The true match's rank of each of `queries` that has one in `direction`.
    pub async fn ranks_of(
        &self,
        run: RunId,
        direction: i64,
        queries: &[i64],
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        sqlx::query_as(
            "SELECT query, rank FROM run_ranks WHERE run_id = ? AND direction = ?
               AND query IN (SELECT value FROM json_each(?))",
        )
        .bind(run)
        .bind(direction)
        .bind(serde_json::to_string(queries).expect("integers serialise"))
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.err(e))
    }

    /// The top two candidates of every query of a direction.
    pub async fn top_two(&self, run: RunId, direction: i64) -> Result<Vec<TopTwoRow>, StoreError> {
        self.top_two_where("", run, direction, None).await
    }

    /// The top two candidates of those of `queries` that are queries of `direction` in
    /// `run` (in query order).
    pub async fn top_two_of(
        &self,
        run: RunId,
        direction: i64,
        queries: &[i64],
    ) -> Result<Vec<TopTwoRow>, StoreError> {
        let listed = serde_json::to_string(queries).expect("integers serialise");
        self.top_two_where(
            "AND p1.query IN (SELECT value FROM json_each(?3))",
            run,
            direction,
            Some(listed),
        )
        .await
    }

    /// [`TOP_TWO`] with `filter` (binding ?3 to `listed` where given).
    async fn top_two_where(
        &self,
        filter: &'static str,
        run: RunId,
        direction: i64,
        listed: Option<String>,
    ) -> Result<Vec<TopTwoRow>, StoreError> {
        let sql = TOP_TWO.replace("{filter}", filter);
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(run)
            .bind(direction);
        if let Some(listed) = listed {
            query = query.bind(listed);
        }
        query.fetch_all(self.pool()).await.map_err(|e| self.err(e))
    }

    /// The top-1 candidate of each of `queries` (joint indices) that is a test query of
    /// the direction.
    pub async fn top1_of(
        &self,
        run: RunId,
        direction: i64,
        queries: &[i64],
    ) -> Result<std::collections::HashMap<i64, i64>, StoreError> {
        let mut select: QueryBuilder<Sqlite> =
            QueryBuilder::new("SELECT query, candidate FROM predictions WHERE run_id = ");
        select
            .push_bind(run)
            .push(" AND direction = ")
            .push_bind(direction)
            .push(" AND rank = 1 AND query IN (");
        let mut list = select.separated(", ");
        for q in queries {
            list.push_bind(*q);
        }
        select.push(")");
        let rows: Vec<(i64, i64)> = select
            .build_query_as()
            .fetch_all(self.pool())
            .await
            .map_err(|e| self.err(e))?;
        Ok(rows.into_iter().collect())
    }

    /// Ranks of every true match of a run.
    pub async fn ranks(&self, run: RunId) -> Result<Vec<RankRow>, StoreError> {
        sqlx::query_as(
            "SELECT direction, query, truth, rank FROM run_ranks WHERE run_id = ? ORDER BY direction, query",
        )
        .bind(run)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.err(e))
    }

    /// Modality weights of one entity in a run.
    pub async fn entity_weights(
        &self,
        run: RunId,
        entity: i64,
    ) -> Result<Option<Vec<f32>>, StoreError> {
        let blob: Option<Vec<u8>> = sqlx::query_scalar(
            "SELECT weights FROM entity_weights WHERE run_id = ? AND entity = ?",
        )
        .bind(run)
        .bind(entity)
        .fetch_optional(self.pool())
        .await
        .map_err(|e| self.err(e))?;
        Ok(blob.map(|b| decode_f32s(&b)))
    }

    /// How many predictions a run has.
    pub async fn prediction_count(&self, run: RunId) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT count(*) FROM predictions WHERE run_id = ?")
            .bind(run)
            .fetch_one(self.pool())
            .await
            .map_err(|e| self.err(e))
    }

    /// Modality weights of several entities in a run.
    pub async fn weights_of(
        &self,
        run: RunId,
        entities: &[i64],
    ) -> Result<std::collections::HashMap<i64, Vec<f32>>, StoreError> {
        let mut select: QueryBuilder<Sqlite> =
            QueryBuilder::new("SELECT entity, weights FROM entity_weights WHERE run_id = ");
        select.push_bind(run).push(" AND entity IN (");
        let mut list = select.separated(", ");
        for e in entities {
            list.push_bind(*e);
        }
        select.push(")");
        let rows: Vec<(i64, Vec<u8>)> = select
            .build_query_as()
            .fetch_all(self.pool())
            .await
            .map_err(|e| self.err(e))?;
        Ok(rows
            .into_iter()
            .map(|(e, blob)| (e, decode_f32s(&blob)))
            .collect())
    }
}

sql_from_row!(RankRow {
    direction,
    query,
    truth,
    rank
});
