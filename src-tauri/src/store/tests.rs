//! The schema migrations on databases that earlier versions wrote.

use std::str::FromStr;

use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

use super::{Store, migrator};

/// A database at schema version `version` (as an older AlignScope left it) with a dataset,
/// three runs (the third with an epoch, a prediction and a weight row) and decisions, one
/// naming run 5, which was deleted before (its id then free to be taken again).
async fn database_at_version(path: &std::path::Path, version: usize) {
    let options = SqliteConnectOptions::from_str("sqlite:")
        .unwrap()
        .filename(path)
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    migrator(version).run(&pool).await.unwrap();
    for sql in [
        "INSERT INTO datasets (id, name, source_path, format, fingerprint, statistics, created_at)
         VALUES (1, 'd', '/d', 'ours', 'f', '{}', 0)",
        "INSERT INTO runs (id, dataset_id, model, request, device, seed, code_version, status,
         created_at, epochs_planned, run_dir) VALUES
         (1, 1, 'loginmea', '{}', 'cpu', 1, 'v', 'completed', 0, 1, 'runs/1'),
         (2, 1, 'loginmea', '{}', 'cpu', 2, 'v', 'failed', 0, 1, 'runs/2'),
         (3, 1, 'loginmea', '{}', 'cpu', 3, 'v', 'completed', 0, 1, 'runs/3')",
        "INSERT INTO run_epochs (run_id, epoch, loss, seconds, details, recorded_at)
         VALUES (3, 1, 0.5, 1.0, '{}', 0)",
        "INSERT INTO predictions (run_id, direction, query, rank, candidate, score, is_true,
         modality_scores) VALUES (3, 0, 0, 1, 7, 0.9, 1, x'')",
        "INSERT INTO entity_weights (run_id, entity, weights) VALUES (3, 0, x'')",
        "INSERT INTO decisions (dataset_id, left_key, right_key, action, verdict, source, run_id,
         author, created_at) VALUES
         (1, 'a', 'b', 'decide', 'accept', 'model', 3, 't', 0),
         (1, 'c', 'd', 'decide', 'reject', 'model', 5, 't', 0)",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    pool.close().await;
}

/// Inserts a queued run of dataset 1 as the store does; its id.
async fn insert_run(store: &Store) -> i64 {
    sqlx::query(
        "INSERT INTO runs (dataset_id, model, request, device, seed, code_version,
         status, created_at, epochs_planned, run_dir)
         VALUES (1, 'loginmea', '{}', 'cpu', 9, 'v', 'queued', 0, 1, '') RETURNING id",
    )
    .fetch_one(store.pool())
    .await
    .unwrap()
    .get(0)
}

async fn count(store: &Store, table: &str) -> i64 {
    // `table` is one of this file's literal table names.
    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn run_ids_are_never_reused_after_upgrading_a_version_2_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alignscope.db");
    database_at_version(&path, 2).await;
    let store = Store::open(&path).await.unwrap();

    // Everything is kept, and the children still belong to their runs.
    for (table, rows) in [
        ("runs", 3),
        ("run_epochs", 1),
        ("predictions", 1),
        ("entity_weights", 1),
        ("decisions", 2),
    ] {
        assert_eq!(count(&store, table).await, rows, "{table}");
    }
    let dangling: Vec<sqlx::sqlite::SqliteRow> = sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert!(dangling.is_empty());

    // A new run takes an id past every id ever named, run 5 of the old decision included.
    let next = insert_run(&store).await;
    assert_eq!(next, 6);
    // Deleting the newest run never frees its id, and deletes still cascade.
    sqlx::query("DELETE FROM runs WHERE id IN (3, 6)")
        .execute(store.pool())
        .await
        .unwrap();
    assert_eq!(count(&store, "predictions").await, 0);
    assert_eq!(count(&store, "run_epochs").await, 0);
    let after_delete = insert_run(&store).await;
    assert_eq!(after_delete, 7);
    store.close().await;

    // Opening again runs nothing twice and keeps the sequence.
    let store = Store::open(&path).await.unwrap();
    assert_eq!(count(&store, "runs").await, 3);
    store.close().await;
}

#[tokio::test]
async fn a_new_database_never_reuses_run_ids_and_commits_durably() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("alignscope.db"))
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO datasets (id, name, source_path, format, fingerprint, statistics,
         created_at) VALUES (1, 'd', '/d', 'ours', 'f', '{}', 0)",
    )
    .execute(store.pool())
    .await
    .unwrap();
    let first = insert_run(&store).await;
    sqlx::query("DELETE FROM runs WHERE id = ?")
        .bind(first)
        .execute(store.pool())
        .await
        .unwrap();
    let second = insert_run(&store).await;
    assert_eq!((first, second), (1, 2));
    // synchronous=FULL on every connection (2): a decision is on disk when recorded.
    for _ in 0..4 {
        let level: i64 = sqlx::query("PRAGMA synchronous")
            .fetch_one(store.pool())
            .await
            .unwrap()
            .get(0);
        assert_eq!(level, 2);
    }
}

#[tokio::test]
async fn runs_carry_their_peak_memory_time_per_epoch_and_best_epoch_metrics() {
    use crate::store::{EpochRow, RunId, RunOutcome, RunStatus};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alignscope.db");
    database_at_version(&path, 5).await;
    let store = Store::open(&path).await.unwrap();
    let before = store.run(RunId(3)).await.unwrap().unwrap();
    assert_eq!(
        before.peak_memory_mib, None,
        "measured by no earlier version"
    );
    assert_eq!(before.seconds_per_epoch, Some(1.0));
    assert_eq!(before.best_hits_at_1, None, "no best epoch yet");
    let epoch = EpochRow {
        epoch: 2,
        loss: 0.4,
        seconds: 3.0,
        eval_seconds: Some(0.5),
        hits_at_1: Some(0.7),
        hits_at_10: Some(0.9),
        mrr: Some(0.8),
        valid_hits_at_1: Some(0.75),
        details: "{}".into(),
    };
    store.record_epoch(RunId(3), &epoch).await.unwrap();
    let outcome = RunOutcome {
        best_epoch: Some(2),
        epochs_done: 2,
        peak_memory_mib: Some(512.0),
        ..RunOutcome::default()
    };
    store
        .finish_run(RunId(3), RunStatus::Completed, &outcome)
        .await
        .unwrap();
    let after = store.run(RunId(3)).await.unwrap().unwrap();
    assert_eq!(after.peak_memory_mib, Some(512.0));
    assert_eq!(
        after.seconds_per_epoch,
        Some(2.0),
        "the mean of 1 s and 3 s"
    );
    assert_eq!(
        (
            after.best_hits_at_1,
            after.best_hits_at_10,
            after.best_mrr,
            after.best_valid_hits_at_1
        ),
        (Some(0.7), Some(0.9), Some(0.8), Some(0.75))
    );
    let listed = store.list_runs().await.unwrap();
    let third = listed.iter().find(|r| r.id == RunId(3)).unwrap();
    assert_eq!(third.best_hits_at_1, Some(0.7));
    assert_eq!(listed.len(), 3, "the join adds no rows");
}
