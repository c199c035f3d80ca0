//! Store errors, classified so that clients can say what went wrong and how to fix it.

use std::path::{Path, PathBuf};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process holds the write lock longer than the busy timeout.
    #[error(
        "the database {} is locked by another process (waited {}s); close the other AlignScope or use another --data-dir",
        path.display(), super::BUSY_TIMEOUT.as_secs()
    )]
    Locked {
        /// The database file.
        path: PathBuf,
    },
    /// The file or its folder cannot be written.
    #[error(
        "the database {} is read-only ({detail}); make it and its folder writable or use another --data-dir",
        path.display()
    )]
    ReadOnly {
        /// The database file.
        path: PathBuf,
        /// SQLite's words.
        detail: String,
    },
    /// The file exists but is not an SQLite database.
    #[error(
        "{} is not an AlignScope database (SQLite says: {detail}); move the file away or use another --data-dir",
        path.display()
    )]
    NotADatabase {
        /// The file.
        path: PathBuf,
        /// SQLite's words.
        detail: String,
    },
    /// The file cannot be opened at all.
    #[error("cannot open the database {} ({detail}); check the path and its permissions", path.display())]
    CannotOpen {
        /// The file.
        path: PathBuf,
        /// SQLite's words.
        detail: String,
    },
    /// The schema could not be brought up to date.
    #[error("cannot update the schema of {}: {source}", path.display())]
    Migration {
        /// The file.
        path: PathBuf,
        /// The migration error.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// A stored JSON column does not parse (a newer or damaged database).
    #[error("the database {} holds an unreadable {what}: {source}", path.display())]
    BadJson {
        /// The file.
        path: PathBuf,
        /// Which column.
        what: &'static str,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// Any other database error.
    #[error("database error in {}: {source}", path.display())]
    Sql {
        /// The file.
        path: PathBuf,
        /// The sqlx error.
        #[source]
        source: sqlx::Error,
    },
}

impl StoreError {
    /// Sorts an sqlx error on `path` into the cases a user can act on.
    pub(crate) fn classify(path: &Path, source: sqlx::Error) -> Self {
        let path = path.to_path_buf();
        let message = match &source {
            sqlx::Error::Database(db) => db.message().to_string(),
            other => other.to_string(),
        };
        let lower = message.to_lowercase();
        if lower.contains("database is locked") || lower.contains("database is busy") {
            Self::Locked { path }
        } else if lower.contains("readonly") || lower.contains("read-only") {
            Self::ReadOnly {
                path,
                detail: message,
            }
        } else if lower.contains("not a database") || lower.contains("malformed") {
            Self::NotADatabase {
                path,
                detail: message,
            }
        } else if lower.contains("unable to open") {
            Self::CannotOpen {
                path,
                detail: message,
            }
        } else {
            Self::Sql { path, source }
        }
    }
}
