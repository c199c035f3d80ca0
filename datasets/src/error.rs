//! The error type at this crate's boundary.

use std::path::PathBuf;

use crate::formats::Format;
use crate::problem::Problems;

/// Why a dataset could not be loaded, converted or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatasetError {
    /// The path is not a folder.
    #[error("{}: not a dataset folder (it does not exist or is not a directory)", path.display())]
    NotADirectory {
        /// The path given.
        path: PathBuf,
    },
    /// No format's files were found.
    #[error(
        "{}: cannot tell the dataset format from the files there; expected one of:\n  {}\nor force one with --format {}",
        dir.display(),
        Format::ALL.iter().map(|f| format!("{f}: {}", f.signature())).collect::<Vec<_>>().join("\n  "),
        Format::ALL.iter().map(|f| f.as_str()).collect::<Vec<_>>().join("|")
    )]
    UnknownFormat {
        /// The folder.
        dir: PathBuf,
    },
    /// A format name that does not exist.
    #[error(
        "unknown format `{name}`; expected one of {}",
        Format::ALL.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ")
    )]
    UnknownFormatName {
        /// The name given.
        name: String,
    },
    /// `--image-features` was given for a format that stores features differently.
    #[error(
        "{}: a feature pickle applies to GCN-Align/MEAformer folders only; the {format} format keeps image features in its own files",
        path.display()
    )]
    ImageFeaturesNotApplicable {
        /// The pickle given.
        path: PathBuf,
        /// The format of the folder.
        format: Format,
    },
    /// The files were read but are invalid.
    #[error("{problems}\n(read as the {format} format)")]
    Invalid {
        /// The format the folder was read as.
        format: Format,
        /// What is wrong, where.
        problems: Problems,
    },
    /// Writing a dataset failed; nothing was left half-written at the destination.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file or folder being written.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A file of an already loaded dataset could not be read again.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The destination exists and is not an empty folder.
    #[error("{}: already exists and is not empty; choose another destination or remove it first", path.display())]
    DestinationExists {
        /// The destination.
        path: PathBuf,
    },
    /// Features AlignScope derived for a dataset (in its data directory) are unusable.
    #[error(
        "the image features AlignScope encoded for this dataset ({}) cannot be used: {reason}; \
         encode them again with `alignscope dataset encode-images <dataset id>`",
        dir.display()
    )]
    DerivedFeatures {
        /// The derived-features folder.
        dir: PathBuf,
        /// What is wrong.
        reason: String,
    },
}
