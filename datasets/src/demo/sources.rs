//! The pinned npm packages the demo is built from, and reading their JSON files.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use super::error::DemoError;
use crate::file::{FileKind, ReadFileError, read_capped};

/// The version of `emoji-datasource-twitter` the demo is built from.
pub const PINNED_EMOJI_DATASOURCE_TWITTER: &str = "16.0.0";
/// The version of `emoji-datasource-google` the demo is built from.
pub const PINNED_EMOJI_DATASOURCE_GOOGLE: &str = "16.0.0";
/// The version of `emojibase-data` the demo is built from.
pub const PINNED_EMOJIBASE_DATA: &str = "17.0.0";

/// The installed packages the demo is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSources {
    /// The `emoji-datasource-twitter` package folder (catalogue and Twemoji PNGs).
    pub emoji_twitter: PathBuf,
    /// The `emoji-datasource-google` package folder (catalogue and Noto PNGs).
    pub emoji_google: PathBuf,
    /// The `emojibase-data` package folder (localised labels, tags, group names).
    pub emojibase_data: PathBuf,
}

impl DemoSources {
    /// The three packages under a `node_modules` folder; checks that they exist and that
    /// their `package.json` versions equal the pinned ones.
    pub fn in_node_modules(dir: &Path) -> Result<Self, DemoError> {
        let package = |name: &'static str, pinned: &'static str| {
            let folder = dir.join(name);
            check_version(name, &folder, pinned)?;
            Ok::<_, DemoError>(folder)
        };
        Ok(DemoSources {
            emoji_twitter: package(Vendor::Twitter.package(), PINNED_EMOJI_DATASOURCE_TWITTER)?,
            emoji_google: package(Vendor::Google.package(), PINNED_EMOJI_DATASOURCE_GOOGLE)?,
            emojibase_data: package(EMOJIBASE_DATA, PINNED_EMOJIBASE_DATA)?,
        })
    }

    /// The package folder of a vendor's catalogue and images.
    pub(super) fn vendor_dir(&self, vendor: Vendor) -> &Path {
        match vendor {
            Vendor::Twitter => &self.emoji_twitter,
            Vendor::Google => &self.emoji_google,
        }
    }

    /// `emoji.json` of a vendor's package.
    pub(super) fn catalogue_file(&self, vendor: Vendor) -> PathBuf {
        self.vendor_dir(vendor).join("emoji.json")
    }

    /// The folder of a vendor's 64-px PNGs.
    pub(super) fn image_dir(&self, vendor: Vendor) -> PathBuf {
        self.vendor_dir(vendor)
            .join("img")
            .join(vendor.image_set())
            .join("64")
    }

    /// `emojibase-data/<language>/<file>`.
    pub(super) fn emojibase_file(&self, language: &str, file: &str) -> PathBuf {
        self.emojibase_data.join(language).join(file)
    }
}

const EMOJIBASE_DATA: &str = "emojibase-data";

/// An emoji artwork vendor whose emoji-datasource package provides images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Vendor {
    /// Twemoji (Twitter/X), CC-BY 4.0 artwork.
    Twitter,
    /// Noto Color Emoji (Google), Apache-2.0 artwork.
    Google,
}

impl Vendor {
    /// The npm package.
    pub(super) fn package(self) -> &'static str {
        match self {
            Vendor::Twitter => "emoji-datasource-twitter",
            Vendor::Google => "emoji-datasource-google",
        }
    }

    /// The image set's folder name under `img/`.
    pub(super) fn image_set(self) -> &'static str {
        match self {
            Vendor::Twitter => "twitter",
            Vendor::Google => "google",
        }
    }
}

#[derive(serde::Deserialize)]
struct PackageJson {
    version: String,
}

fn check_version(
    package: &'static str,
    folder: &Path,
    pinned: &'static str,
) -> Result<(), DemoError> {
    let manifest = folder.join("package.json");
    if !manifest.is_file() {
        let missing = if folder.is_dir() {
            manifest
        } else {
            folder.to_path_buf()
        };
        return Err(DemoError::PackageMissing {
            package,
            path: missing,
        });
    }
    let found: PackageJson = read_json(&manifest)?;
    if found.version != pinned {
        return Err(DemoError::VersionMismatch {
            package,
            path: manifest,
            found: found.version,
            pinned,
        });
    }
    Ok(())
}

/// Reads and parses a JSON file of one of the packages.
pub(super) fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, DemoError> {
    let text = read_capped(path, FileKind::Text).map_err(|error| match error {
        ReadFileError::NotFound => DemoError::PackageMissing {
            package: package_of(path),
            path: path.to_path_buf(),
        },
        other => DemoError::Read {
            path: path.to_path_buf(),
            source: other.into(),
        },
    })?;
    serde_json::from_slice(&text).map_err(|source| DemoError::Json {
        path: path.to_path_buf(),
        source,
    })
}

/// The package a file belongs to, for messages.
fn package_of(path: &Path) -> &'static str {
    [
        Vendor::Twitter.package(),
        Vendor::Google.package(),
        EMOJIBASE_DATA,
    ]
    .into_iter()
    .find(|name| path.components().any(|c| c.as_os_str() == *name))
    .unwrap_or("a demo source package")
}
