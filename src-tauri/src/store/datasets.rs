//! Datasets and their entities.

use sqlx::{QueryBuilder, Sqlite};

use super::sql_types::sql_from_row;
use super::{DatasetId, Store, StoreError, now_millis};

/// A dataset to register.
#[derive(Debug, Clone)]
pub struct NewDataset {
    /// Display name.
    pub name: String,
    /// Folder it was read from.
    pub source_path: String,
    /// Format it was read as.
    pub format: String,
    /// Image-feature file given explicitly, if any.
    pub image_features: Option<String>,
    /// Content fingerprint.
    pub fingerprint: String,
    /// Statistics (JSON).
    pub statistics: serde_json::Value,
}

/// An entity to register (joint index: left graph first).
#[derive(Debug, Clone)]
pub struct NewEntity {
    /// Joint index.
    pub entity: i64,
    /// 0 left, 1 right.
    pub side: i64,
    /// Key in the source.
    pub key: String,
    /// Name or URI.
    pub name: String,
    /// Human label.
    pub label: String,
}

/// A stored dataset.
#[derive(Debug, Clone)]
pub struct DatasetRow {
    /// Id.
    pub id: DatasetId,
    /// Display name.
    pub name: String,
    /// Folder it was read from.
    pub source_path: String,
    /// Format it was read as.
    pub format: String,
    /// Explicit image-feature file.
    pub image_features: Option<String>,
    /// Content fingerprint.
    pub fingerprint: String,
    /// Statistics (JSON text).
    pub statistics: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// When it was removed (Unix milliseconds); `None` while it is in use.
    pub removed_at: Option<i64>,
}

/// A stored entity.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityRow {
    /// Joint index.
    pub entity: i64,
    /// 0 left, 1 right.
    pub side: i64,
    /// Key in the source.
    pub key: String,
    /// Name or URI.
    pub name: String,
    /// Human label.
    pub label: String,
}

/// Search needles at least this long (in characters) are looked up in the trigram index.
pub const INDEXED_NEEDLE_CHARS: usize = 3;

/// How many substring matches a search ranks (besides exact label matches, always
/// ranked): the first ones in entity order, all of them where fewer match.
pub const MATCHES_RANKED: i64 = 5_000;

/// Search: ?1 dataset, ?2 side or NULL, ?3 the needle as an FTS5 phrase (trigram index)
/// or a LIKE pattern (scan), ?4 the needle, ?5 the limit, ?6 [`MATCHES_RANKED`]. Exact
/// label matches come from the label index (named: the side filter's `OR` would make the
/// planner walk the whole dataset instead); the substring matches from `{matches}`.
const SEARCH: &str = "SELECT entity, side, key, name, label FROM (
         SELECT entity, side, key, name, label FROM entities INDEXED BY entities_by_label
         WHERE dataset_id = ?1 AND label = ?4 COLLATE NOCASE AND (?2 IS NULL OR side = ?2)
         UNION
         SELECT entity, side, key, name, label FROM ({matches}))
     ORDER BY (lower(label) = lower(?4)) DESC, length(label), entity
     LIMIT ?5";

/// Substring matches through the trigram index, whose rowid is dataset * 2^32 + entity.
const MATCHES_INDEXED: &str = "SELECT e.entity, e.side, e.key, e.name, e.label
     FROM (SELECT rowid FROM entity_search
           WHERE entity_search MATCH ?3
             AND rowid >= ?1 * 4294967296 AND rowid < (?1 + 1) * 4294967296
           LIMIT ?6) s
     JOIN entities e ON e.dataset_id = ?1 AND e.entity = s.rowid - ?1 * 4294967296
     WHERE ?2 IS NULL OR e.side = ?2";

/// Substring matches by scanning the dataset's entities.
const MATCHES_SCANNING: &str = "SELECT entity, side, key, name, label FROM entities
     WHERE dataset_id = ?1 AND (?2 IS NULL OR side = ?2)
       AND (label LIKE ?3 ESCAPE '\\' OR key LIKE ?3 ESCAPE '\\' OR name LIKE ?3 ESCAPE '\\')
     LIMIT ?6";

/// Rows per multi-row INSERT (SQLite allows 32,766 bound values).
pub(crate) const INSERT_BATCH: usize = 2000;

impl Store {
    /// The dataset read from `source_path` with `fingerprint`, if registered.
    pub async fn find_dataset(
        &self,
        fingerprint: &str,
        source_path: &str,
    ) -> Result<Option<DatasetRow>, StoreError> {
        sqlx::query_as("SELECT * FROM datasets WHERE fingerprint = ? AND source_path = ?")
            .bind(fingerprint)
            .bind(source_path)
            .fetch_optional(self.pool())
            .await
            .map_err(|e| self.err(e))
    }

    /// Registers a dataset and its entities in one transaction.
    pub async fn insert_dataset(
        &self,
        new: &NewDataset,
        entities: &[NewEntity],
    ) -> Result<DatasetId, StoreError> {
        let mut tx = self.pool().begin().await.map_err(|e| self.err(e))?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO datasets (name, source_path, format, image_features, fingerprint, statistics, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&new.name)
        .bind(&new.source_path)
        .bind(&new.format)
        .bind(&new.image_features)
        .bind(&new.fingerprint)
        .bind(new.statistics.to_string())
        .bind(now_millis())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| self.err(e))?;
        insert_entities(&mut tx, DatasetId(id), entities)
            .await
            .map_err(|e| self.err(e))?;
        tx.commit().await.map_err(|e| self.err(e))?;
        Ok(DatasetId(id))
    }

    /// Replaces the statistics of `id` (after its image features were encoded).
    pub async fn update_dataset_statistics(
        &self,
        id: DatasetId,
        statistics: &serde_json::Value,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE datasets SET statistics = ? WHERE id = ?")
            .bind(statistics.to_string())
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Marks dataset `id` removed; its entities go too unless `keep_entities` (decisions
    /// name them).
    pub async fn mark_dataset_removed(
        &self,
        id: DatasetId,
        keep_entities: bool,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await.map_err(|e| self.err(e))?;
        if !keep_entities {
            sqlx::query("DELETE FROM entities WHERE dataset_id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.err(e))?;
        }
        sqlx::query("UPDATE datasets SET removed_at = ? WHERE id = ?")
            .bind(now_millis())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.err(e))?;
        tx.commit().await.map_err(|e| self.err(e))
    }

    /// Brings back removed dataset `id` (its folder was imported again), registering
    /// `entities` where they were dropped.
    pub async fn restore_dataset(
        &self,
        id: DatasetId,
        entities: &[NewEntity],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await.map_err(|e| self.err(e))?;
        let (kept,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM entities WHERE dataset_id = ?")
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| self.err(e))?;
        if kept == 0 {
            insert_entities(&mut tx, id, entities)
                .await
                .map_err(|e| self.err(e))?;
        }
        sqlx::query("UPDATE datasets SET removed_at = NULL WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.err(e))?;
        tx.commit().await.map_err(|e| self.err(e))
    }

    /// Every dataset, newest first.
    pub async fn list_datasets(&self) -> Result<Vec<DatasetRow>, StoreError> {
        sqlx::query_as("SELECT * FROM datasets WHERE removed_at IS NULL ORDER BY id DESC")
            .fetch_all(self.pool())
            .await
            .map_err(|e| self.err(e))
    }

    /// One dataset.
    pub async fn dataset(&self, id: DatasetId) -> Result<Option<DatasetRow>, StoreError> {
        sqlx::query_as("SELECT * FROM datasets WHERE id = ?")
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(|e| self.err(e))
    }

    /// Entities whose label, key or name contains `needle` (case-insensitive), exact label
    /// matches first, then shorter labels.
    ///
    /// Needles of [`INDEXED_NEEDLE_CHARS`] characters or more are looked up in the
    /// trigram index (`entity_search`), shorter ones by scanning the dataset's entities.
    /// Exact label matches are always ranked (through the label index); of the other
    /// matches, the first [`MATCHES_RANKED`] in entity order: all of them where fewer
    /// match, a sample where a needle matches hundreds of thousands in a huge graph (so a
    /// search stays in milliseconds at millions of entities).
    pub async fn search_entities(
        &self,
        dataset: DatasetId,
        needle: &str,
        side: Option<i64>,
        limit: i64,
    ) -> Result<Vec<EntityRow>, StoreError> {
        let (matches, pattern) = if needle.chars().count() >= INDEXED_NEEDLE_CHARS {
            let phrase = format!("\"{}\"", needle.replace('"', "\"\""));
            (MATCHES_INDEXED, phrase)
        } else {
            let escaped = needle
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            (MATCHES_SCANNING, format!("%{escaped}%"))
        };
        let sql = SEARCH.replace("{matches}", matches);
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(dataset)
            .bind(side)
            .bind(pattern)
            .bind(needle)
            .bind(limit)
            .bind(MATCHES_RANKED)
            .fetch_all(self.pool())
            .await
            .map_err(|e| self.err(e))
    }

    /// The entity with `key` on `side`.
    pub async fn entity_by_key(
        &self,
        dataset: DatasetId,
        side: i64,
        key: &str,
    ) -> Result<Option<EntityRow>, StoreError> {
        sqlx::query_as(
            "SELECT entity, side, key, name, label FROM entities WHERE dataset_id = ? AND side = ? AND key = ?",
        )
        .bind(dataset)
        .bind(side)
        .bind(key)
        .fetch_optional(self.pool())
        .await
        .map_err(|e| self.err(e))
    }

    /// The entity with joint index `entity`.
    pub async fn entity(
        &self,
        dataset: DatasetId,
        entity: i64,
    ) -> Result<Option<EntityRow>, StoreError> {
        sqlx::query_as(
            "SELECT entity, side, key, name, label FROM entities WHERE dataset_id = ? AND entity = ?",
        )
        .bind(dataset)
        .bind(entity)
        .fetch_optional(self.pool())
        .await
        .map_err(|e| self.err(e))
    }

    /// Every entity of a dataset in joint-index order.
    pub async fn entities(&self, dataset: DatasetId) -> Result<Vec<EntityRow>, StoreError> {
        sqlx::query_as(
            "SELECT entity, side, key, name, label FROM entities WHERE dataset_id = ? ORDER BY entity",
        )
        .bind(dataset)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.err(e))
    }
}

/// Inserts the entities of dataset `id`, [`INSERT_BATCH`] rows per statement.
async fn insert_entities(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    id: DatasetId,
    entities: &[NewEntity],
) -> Result<(), sqlx::Error> {
    for chunk in entities.chunks(INSERT_BATCH) {
        let mut insert: QueryBuilder<Sqlite> =
            QueryBuilder::new("INSERT INTO entities (dataset_id, entity, side, key, name, label) ");
        insert.push_values(chunk, |mut row, e| {
            row.push_bind(id)
                .push_bind(e.entity)
                .push_bind(e.side)
                .push_bind(&e.key)
                .push_bind(&e.name)
                .push_bind(&e.label);
        });
        insert.build().execute(&mut **tx).await?;
    }
    Ok(())
}

sql_from_row!(DatasetRow {
    id,
    name,
    source_path,
    format,
    image_features,
    fingerprint,
    statistics,
    created_at,
    removed_at
});
sql_from_row!(EntityRow {
    entity,
    side,
    key,
    name,
    label
});
