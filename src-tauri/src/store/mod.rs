//! The store: one SQLite database (bundled SQLite through sqlx, WAL journal, foreign keys
//! on) holding datasets, runs, per-epoch metrics, artifacts, predictions and decisions.
//!
//! The schema comes from the embedded migrations in `src-tauri/migrations/`. Every
//! state change a client shows is written here before it is announced.

mod consensus;
mod datasets;
mod decisions;
mod error;
mod ids;
mod predictions;
mod runs;
#[cfg(test)]
mod search_tests;
mod settings;
mod sql_types;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub use consensus::{PairReviews, PairState, replay, reviews};
pub use datasets::{DatasetRow, EntityRow, NewDataset, NewEntity};
pub use decisions::{DecisionAction, DecisionRow, DecisionSource, NewDecision, PairKey, Verdict};
pub use error::StoreError;
pub use ids::{DatasetId, DecisionId, RunId};
pub use predictions::{CandidateRow, PredictionRow, RankRow, TopTwoRow};
pub use runs::{ArtifactRow, EpochRow, NewRun, RunOutcome, RunRow, RunStatus};

/// How long a statement waits for another connection's write lock before failing.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// An open store.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let wrap = |source| StoreError::classify(path, source);
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(wrap)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit (a reviewer's decision, a run's final status) is on disk
            // when it returns, power loss included; the store commits rarely enough.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        // The schema is brought up to date over a connection of its own, closed before
        // the store's pool opens: a pooled connection that read the schema before a
        // migration changed it would prepare statements against the old one.
        let migrating = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(wrap)?;
        // Touch the file once so that "not a database" and permission problems surface
        // here, with the path, rather than inside a migration.
        sqlx::query("SELECT count(*) FROM sqlite_master")
            .execute(&migrating)
            .await
            .map_err(wrap)?;
        // SQLite migrations take no lock of their own: two processes opening a new
        // database at once would both create the tables. A file lock beside the database
        // serialises them (where the folder is not writable, SQLite reports that itself).
        let lock = MigrationLock::acquire(path);
        migrator(usize::MAX)
            .run(&migrating)
            .await
            .map_err(|source| StoreError::Migration {
                path: path.to_path_buf(),
                source,
            })?;
        migrating.close().await;
        drop(lock);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(wrap)?;
        Ok(Self {
            pool,
            path: path.to_path_buf(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection pool, for the store's own modules.
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Wraps a query error with this store's path.
    pub(crate) fn err(&self, source: sqlx::Error) -> StoreError {
        StoreError::classify(&self.path, source)
    }

    /// Closes every connection (checkpointing the WAL).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// An exclusive lock on `<database>.migrate.lock`, held while the schema is updated.
struct MigrationLock {
    _file: Option<std::fs::File>,
}

impl MigrationLock {
    fn acquire(database: &Path) -> Self {
        let mut name = database.as_os_str().to_owned();
        name.push(".migrate.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(PathBuf::from(name))
            .ok()
            .filter(|f| f.lock().is_ok());
        Self { _file: file }
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Encodes floats as little-endian `f32` bytes (the BLOB columns).
pub fn encode_f32s(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Decodes little-endian `f32` bytes.
pub fn decode_f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// The schema migrations, embedded in the binary. Built by hand rather than with
/// `sqlx::migrate!` (see [`sql_types`]); the checksum is computed from the same SQL text,
/// so databases created by earlier builds validate unchanged. `up_to`: how many of them
/// (tests build databases of earlier versions).
fn migrator(up_to: usize) -> sqlx::migrate::Migrator {
    use sqlx::SqlSafeStr as _;
    use sqlx::migrate::{Migration, MigrationType, Migrator};
    // `in_transaction: false` for migrations that manage their own transaction (a table
    // rebuild needs foreign keys off, which SQLite ignores inside a transaction).
    let migration = |version: i64, name: &str, sql: &'static str, in_transaction: bool| {
        Migration::new(
            version,
            name.to_string().into(),
            MigrationType::Simple,
            sql.into_sql_str(),
            !in_transaction,
        )
    };
    let mut all = vec![
        migration(
            1,
            "init",
            include_str!("../../migrations/0001_init.sql"),
            true,
        ),
        migration(
            2,
            "review_strategy",
            include_str!("../../migrations/0002_review_strategy.sql"),
            true,
        ),
        migration(
            3,
            "run_ids_never_reused",
            include_str!("../../migrations/0003_run_ids_never_reused.sql"),
            false,
        ),
        migration(
            4,
            "decision_sessions",
            include_str!("../../migrations/0004_decision_sessions.sql"),
            true,
        ),
        migration(
            5,
            "dataset_removal",
            include_str!("../../migrations/0005_dataset_removal.sql"),
            true,
        ),
        migration(
            6,
            "run_peak_memory",
            include_str!("../../migrations/0006_run_peak_memory.sql"),
            true,
        ),
        migration(
            7,
            "inspector_indexes",
            include_str!("../../migrations/0007_inspector_indexes.sql"),
            true,
        ),
        migration(
            8,
            "team_review",
            include_str!("../../migrations/0008_team_review.sql"),
            true,
        ),
    ];
    all.truncate(up_to);
    Migrator::with_migrations(all)
}
