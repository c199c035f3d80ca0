//! The API's one error type: a closed code enum every client can switch on, and a
//! message that says what went wrong, where, and how to fix it.

use serde::Serialize;

use crate::data_dir::DataDirError;
use crate::jobs::RunLockError;
use crate::run_files::RunFilesError;
use crate::store::StoreError;

/// What kind of failure (stable across versions: clients switch on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// No such dataset, run, entity or decision.
    NotFound,
    /// The request or its input data is invalid.
    InvalidInput,
    /// The request clashes with the current state (e.g. deleting a running run).
    Conflict,
    /// Another process holds the database.
    Locked,
    /// The database or data directory cannot be written.
    ReadOnly,
    /// The database file is not an AlignScope database.
    NotADatabase,
    /// Any other storage failure.
    Storage,
    /// Files on disk could not be read or written.
    Io,
    /// Training or evaluation failed.
    Training,
    /// A bug: the backend could not do what it should always be able to do.
    Internal,
}

/// An API failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error, ts_rs::TS)]
#[error("{message}")]
pub struct ApiError {
    /// The kind.
    pub code: ErrorCode,
    /// The explanation.
    pub message: String,
}

impl ApiError {
    /// An error of `code`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// `NotFound`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    /// `InvalidInput`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message)
    }

    /// `Conflict`.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let code = match &e {
            StoreError::Locked { .. } => ErrorCode::Locked,
            StoreError::ReadOnly { .. } => ErrorCode::ReadOnly,
            StoreError::NotADatabase { .. } => ErrorCode::NotADatabase,
            StoreError::CannotOpen { .. } => ErrorCode::Io,
            StoreError::Migration { .. } | StoreError::BadJson { .. } | StoreError::Sql { .. } => {
                ErrorCode::Storage
            }
        };
        Self::new(code, e.to_string())
    }
}

impl From<DataDirError> for ApiError {
    fn from(e: DataDirError) -> Self {
        Self::new(ErrorCode::Io, e.to_string())
    }
}

impl From<RunLockError> for ApiError {
    fn from(e: RunLockError) -> Self {
        Self::new(ErrorCode::Io, e.to_string())
    }
}

impl From<RunFilesError> for ApiError {
    fn from(e: RunFilesError) -> Self {
        Self::new(ErrorCode::Io, e.to_string())
    }
}

impl From<alignscope_datasets::DatasetError> for ApiError {
    fn from(e: alignscope_datasets::DatasetError) -> Self {
        Self::new(ErrorCode::InvalidInput, e.to_string())
    }
}

impl From<alignscope_models::run::RunError> for ApiError {
    fn from(e: alignscope_models::run::RunError) -> Self {
        Self::new(ErrorCode::Training, e.to_string())
    }
}

/// The API's result type.
pub type ApiResult<T> = Result<T, ApiError>;
