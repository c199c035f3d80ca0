//! Why the demo pair could not be built.

use std::path::PathBuf;

/// The command that installs the pinned packages, from the repository root.
pub const INSTALL_HINT: &str = "npm ci --prefix scripts/demo-sources";

/// Why the demo pair could not be built. Every message names the file at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// A package folder or one of its files does not exist.
    #[error("{package} is not installed: {} does not exist; install the pinned demo sources with `{INSTALL_HINT}`", path.display())]
    PackageMissing {
        /// The npm package.
        package: &'static str,
        /// The folder or file that is missing.
        path: PathBuf,
    },
    /// A package is installed in another version than the pinned one.
    #[error("{}: {package} is version {found}, but the demo is built from the pinned {pinned}; reinstall with `{INSTALL_HINT}`", path.display())]
    VersionMismatch {
        /// The npm package.
        package: &'static str,
        /// Its `package.json`.
        path: PathBuf,
        /// The version installed.
        found: String,
        /// The version the demo is built from.
        pinned: &'static str,
    },
    /// A file exists but could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A file is not JSON of the expected shape.
    #[error("{}: not the expected JSON: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// What the parser found, with line and column.
        source: serde_json::Error,
    },
    /// A code-point sequence that is not hexadecimal code points joined by `-`.
    #[error("{}: `{sequence}` is not a sequence of Unicode code points in hexadecimal joined by `-`", path.display())]
    BadCodePoints {
        /// The file.
        path: PathBuf,
        /// The offending text.
        sequence: String,
    },
    /// Two entries of an emoji catalogue have the same code points (ignoring U+FE0F).
    #[error("{}: emoji `{unified}` is listed twice (code points compared without U+FE0F)", path.display())]
    DuplicateEmoji {
        /// The catalogue file.
        path: PathBuf,
        /// The code points of the second entry.
        unified: String,
    },
    /// The catalogue says an image exists but the file is not there.
    #[error("{}: the image of emoji `{key}` is listed in emoji.json but missing; reinstall with `{INSTALL_HINT}`", path.display())]
    MissingImage {
        /// The image file expected.
        path: PathBuf,
        /// The emoji's key.
        key: String,
    },
    /// An option out of range.
    #[error("{option} must be a share between 0 and 1, got {value}")]
    InvalidShare {
        /// The option's name.
        option: &'static str,
        /// The value given.
        value: f64,
    },
}
