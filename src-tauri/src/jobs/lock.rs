//! OS file locks: the per-run lock (`runs/<id>.lock`, beside the run folder) that tells a
//! live job from an orphan, and the per-device lock that keeps processes off each other's
//! device.

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
        Ok(try_lock_file(&Self::path(run_dir))?.map(|file| Self { _file: file }))
    }
}

/// An exclusive lock on a compute device (`devices/<device>.lock` in the data directory),
/// held while a job trains on it: two processes on one data directory never train on one
/// device at once (each would get half a GPU's memory and time, or run out of it).
#[derive(Debug)]
pub struct DeviceLock {
    _file: File,
}

impl DeviceLock {
    /// The lock file of `device` under the data directory `root`.
    pub fn path(root: &Path, device: &str) -> PathBuf {
        let name: String = device
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        root.join("devices").join(format!("{name}.lock"))
    }

    /// Takes the lock of `device`; `None` if another process trains on it.
    pub fn try_acquire(root: &Path, device: &str) -> Result<Option<Self>, RunLockError> {
        Ok(try_lock_file(&Self::path(root, device))?.map(|file| Self { _file: file }))
    }
}

/// Opens (creating it and its folder) and locks `path` exclusively; `None` when another
/// holder has it. The lock ends with the file handle, or with the process.
fn try_lock_file(path: &Path) -> Result<Option<File>, RunLockError> {
    let err = |source| RunLockError {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(err)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(err(e)),
    }
}
