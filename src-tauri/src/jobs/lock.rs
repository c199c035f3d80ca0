//! The per-run OS lock (`runs/<id>.lock`, beside the run folder) that tells a live job from an orphan.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

/// Why a run lock could not be taken.
#[derive(Debug, thiserror::Error)]
#[error("cannot use the lock file {}: {source}", path.display())]
pub struct RunLockError {
    /// The lock file.
    pub path: PathBuf,
    /// The OS error.
    #[source]
    pub source: std::io::Error,
}

/// An exclusive lock on a run folder, released when dropped (or when the process dies).
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

impl RunLock {
    /// The lock file of `run_dir`: `runs/<id>.lock`.
    pub fn path(run_dir: &Path) -> PathBuf {
        run_dir.with_extension("lock")
    }

    /// Takes the lock of `run_dir`; `None` if another process holds it.
    pub fn try_acquire(run_dir: &Path) -> Result<Option<Self>, RunLockError> {
        let path = Self::path(run_dir);
        let err = |source| RunLockError {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(err)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(err)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Self { _file: file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(err(e)),
        }
    }
}
