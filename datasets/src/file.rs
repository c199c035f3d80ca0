//! Reading the files a user points at, with a size cap.
//!
//! Only regular files are read: a device such as `/dev/zero`, a FIFO or a folder is
//! refused before it is opened (a FIFO would block, `/dev/zero` never ends). A file
//! larger than the limit of its kind is refused from its size, and the read itself is
//! bounded, so a file that grows while it is read cannot exceed the limit either.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::Path;

use crate::problem::{Diagnostics, Location, ProblemKind};

/// What a file holds, which sets how large it may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    /// Line-oriented text: entity lists, triples, gold pairs, metadata.
    Text,
    /// Image features: a pickled dict or a `.npy` matrix.
    Features,
}

/// Largest text file read: 2 GiB. Text files are held in memory whole; the largest
/// file of DBP15K has 1.6 MB, those of OpenEA's 100K datasets tens of MB.
pub const MAX_TEXT_FILE_BYTES: u64 = 2 << 30;

/// Largest image-feature file read: 8 GiB. MEAformer's DBP15K pickles are about
/// 250 MB; 100,000 entities with 4,096-wide `float64` vectors take 3.3 GB.
pub const MAX_FEATURE_FILE_BYTES: u64 = 8 << 30;

impl FileKind {
    /// The most bytes a file of this kind may have.
    pub(crate) fn limit(self) -> u64 {
        match self {
            Self::Text => MAX_TEXT_FILE_BYTES,
            Self::Features => MAX_FEATURE_FILE_BYTES,
        }
    }

    /// The kind in a sentence ("AlignScope reads from a ...").
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Self::Text => "text file",
            Self::Features => "feature file",
        }
    }
}

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadFileError {
    /// Nothing exists at the path.
    #[error("the file does not exist")]
    NotFound,
    /// The file was refused unread: [`ProblemKind::NotARegularFile`] or
    /// [`ProblemKind::FileTooLarge`].
    #[error(transparent)]
    Refused(ProblemKind),
    /// The operating system refused.
    #[error(transparent)]
    Io(io::Error),
}

impl From<ReadFileError> for io::Error {
    fn from(error: ReadFileError) -> Self {
        match error {
            ReadFileError::NotFound => io::Error::from(io::ErrorKind::NotFound),
            ReadFileError::Io(e) => e,
            refused @ ReadFileError::Refused(_) => {
                io::Error::new(io::ErrorKind::InvalidInput, refused.to_string())
            }
        }
    }
}

/// Reads the regular file at `path`, refusing it if it is larger than `kind` allows.
pub(crate) fn read_capped(path: &Path, kind: FileKind) -> Result<Vec<u8>, ReadFileError> {
    let limit = kind.limit();
    let metadata = fs::metadata(path).map_err(not_found_or_io)?;
    check_metadata(&metadata, kind)?;
    let file = File::open(path).map_err(not_found_or_io)?;
    // The path may have been replaced between the check and the open.
    let metadata = file.metadata().map_err(ReadFileError::Io)?;
    check_metadata(&metadata, kind)?;
    // The size is at most `limit`, which fits in memory on the 64-bit targets supported.
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadFileError::Io)?;
    let size = bytes.len() as u64;
    if size > limit {
        return Err(too_large(size, kind));
    }
    Ok(bytes)
}

/// Reads `path` as [`read_capped`] does, reporting failures: a missing file is
/// [`ProblemKind::MissingFile`] when `required` says what it should hold, and no problem
/// when it is `None`.
pub(crate) fn read_or_report(
    path: &Path,
    kind: FileKind,
    required: Option<&str>,
    diag: &mut Diagnostics,
) -> Option<Vec<u8>> {
    let problem = match read_capped(path, kind) {
        Ok(bytes) => return Some(bytes),
        Err(ReadFileError::NotFound) => ProblemKind::MissingFile {
            what: required?.to_string(),
        },
        Err(ReadFileError::Refused(problem)) => problem,
        Err(ReadFileError::Io(e)) => ProblemKind::Unreadable {
            reason: e.to_string(),
        },
    };
    diag.error(Location::file(path), problem);
    None
}

fn too_large(size: u64, kind: FileKind) -> ReadFileError {
    ReadFileError::Refused(ProblemKind::FileTooLarge {
        size,
        limit: kind.limit(),
        kind: kind.noun(),
    })
}

fn not_found_or_io(e: io::Error) -> ReadFileError {
    if e.kind() == io::ErrorKind::NotFound {
        ReadFileError::NotFound
    } else {
        ReadFileError::Io(e)
    }
}

fn check_metadata(metadata: &fs::Metadata, kind: FileKind) -> Result<(), ReadFileError> {
    if !metadata.is_file() {
        return Err(ReadFileError::Refused(ProblemKind::NotARegularFile {
            found: describe_type(metadata.file_type()),
        }));
    }
    if metadata.len() > kind.limit() {
        return Err(too_large(metadata.len(), kind));
    }
    Ok(())
}

/// What a non-regular file is, for messages.
fn describe_type(file_type: fs::FileType) -> &'static str {
    if file_type.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::write(&path, b"abc").unwrap();
        assert_eq!(read_capped(&path, FileKind::Text).unwrap(), b"abc");
    }

    #[test]
    fn a_missing_file_and_a_folder_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let missing = read_capped(&dir.path().join("nope"), FileKind::Text);
        assert!(matches!(missing, Err(ReadFileError::NotFound)));
        let folder = read_capped(dir.path(), FileKind::Features).unwrap_err();
        assert!(
            folder
                .to_string()
                .starts_with("not a regular file (it is a folder); "),
            "{folder}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn dev_zero_is_refused_unread() {
        let err = read_capped(Path::new("/dev/zero"), FileKind::Text).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("not a regular file (it is a character device); "),
            "{err}"
        );
    }

    #[test]
    fn the_limits_exceed_real_files_and_the_size_is_checked_before_reading() {
        const { assert!(MAX_TEXT_FILE_BYTES >= 1 << 30) };
        const { assert!(MAX_FEATURE_FILE_BYTES >= MAX_TEXT_FILE_BYTES) };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sparse");
        File::create(&path)
            .unwrap()
            .set_len(MAX_TEXT_FILE_BYTES + 1)
            .unwrap();
        let err = read_capped(&path, FileKind::Text).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the file is 2147483649 bytes, more than the 2147483648 bytes (2 GiB) AlignScope \
             reads from a text file; check that this is the right file"
        );
        let io: io::Error = err.into();
        assert_eq!(io.kind(), io::ErrorKind::InvalidInput);
    }
}
