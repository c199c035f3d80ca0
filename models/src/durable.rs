//! Files that a crash or a power loss cannot tear: write a uniquely named temporary file
//! beside the target, flush it to disk, rename it over the target, then flush the folder
//! (so the rename itself is on disk). A failed write removes its temporary file.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A path beside `path` that no other writer uses: `.NAME.TAG.PID.N` (hidden, so listings
/// of the folder skip it). Two threads or processes writing the same target never share
/// a temporary file.
pub fn unique_sibling(path: &Path, tag: &str) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{tag}.{}.{n}", std::process::id()))
}

/// Removes a file or folder when dropped, unless [`kept`](Self::kept): temporary files and
/// staging folders of a write that failed half-way.
#[derive(Debug)]
pub struct RemoveOnDrop(Option<PathBuf>);

impl RemoveOnDrop {
    /// Guards `path`.
    pub fn new(path: PathBuf) -> Self {
        Self(Some(path))
    }

    /// The guarded path.
    pub fn path(&self) -> &Path {
        self.0.as_deref().expect("guard holds its path until kept")
    }

    /// The write succeeded: keep (or no longer own) the path.
    pub fn kept(mut self) {
        self.0 = None;
    }
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = fs::remove_dir_all(&path).or_else(|_| fs::remove_file(&path));
        }
    }
}

/// Flushes a folder's entries (creations, renames, removals) to disk.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    // Opening a folder read-only and fsyncing it is how POSIX flushes its entries;
    // elsewhere folders cannot be opened like that, and renames are durable already.
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Flushes every regular file directly in `dir`, then the folder itself.
pub fn sync_files_in(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            fs::File::open(entry.path())?.sync_all()?;
        }
    }
    sync_dir(dir)
}

/// Writes `bytes` to `path` atomically and durably (see the module docs). On error the
/// target is untouched and no temporary file is left.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = RemoveOnDrop::new(unique_sibling(path, "tmp"));
    let mut file = fs::File::create(tmp.path())?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(tmp.path(), path)?;
    tmp.kept();
    sync_dir(parent_of(path))
}

/// Renames the staged folder `stage` to `target` (replacing a folder there) and flushes
/// the parent folder; `stage`'s files must be flushed already ([`sync_files_in`]).
pub fn publish_dir(stage: &Path, target: &Path) -> io::Result<()> {
    if target.exists() {
        fs::remove_dir_all(target)?;
    }
    fs::rename(stage, target)?;
    sync_dir(parent_of(target))
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writes_replace_the_target_and_leave_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latest");
        write_atomically(&path, b"epoch-000002").unwrap();
        write_atomically(&path, b"epoch-000004").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"epoch-000004");
        assert_eq!(names_in(dir.path()), ["latest"]);
    }

    #[test]
    fn a_failed_write_keeps_the_target_and_removes_its_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // A non-empty folder where the file should go: the rename fails.
        let path = dir.path().join("target");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("inside"), b"kept").unwrap();
        assert!(write_atomically(&path, b"new").is_err());
        assert_eq!(names_in(dir.path()), ["target"]);
        assert_eq!(fs::read(path.join("inside")).unwrap(), b"kept");
    }

    #[test]
    fn temporary_names_are_unique_and_hidden() {
        let path = Path::new("/x/checkpoints/latest");
        let a = unique_sibling(path, "tmp");
        let b = unique_sibling(path, "tmp");
        assert_ne!(a, b);
        assert_eq!(a.parent(), path.parent());
        assert!(
            a.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".latest.tmp.")
        );
    }

    #[test]
    fn a_staged_folder_replaces_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let stage = dir.path().join(".stage");
        let target = dir.path().join("epoch-000002");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("old"), b"1").unwrap();
        fs::create_dir(&stage).unwrap();
        fs::write(stage.join("model.bin"), b"2").unwrap();
        sync_files_in(&stage).unwrap();
        publish_dir(&stage, &target).unwrap();
        assert_eq!(names_in(&target), ["model.bin"]);
        assert_eq!(names_in(dir.path()), ["epoch-000002"]);
    }
}
