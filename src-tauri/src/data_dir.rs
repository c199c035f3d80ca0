//! The data directory: `alignscope.db` and `runs/<id>/` live here.
//!
//! Chosen in this order: `--data-dir`, the `ALIGNSCOPE_HOME` environment variable, the
//! platform's data folder (`~/.local/share/alignscope` on Linux, from `directories`).

use std::path::{Path, PathBuf};

/// The environment variable that overrides the platform default.
pub const HOME_VARIABLE: &str = "ALIGNSCOPE_HOME";

/// Why no data directory could be set up.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    /// Neither an override nor a home folder.
    #[error("no data directory: pass --data-dir or set {HOME_VARIABLE}")]
    NoDefault,
    /// The folder cannot be created.
    #[error("cannot create the data directory {}: {source}; pass another --data-dir", path.display())]
    Create {
        /// The folder.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// A resolved, existing data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// Resolves the folder (`explicit` first, then the environment, then the platform
    /// default) and creates it.
    pub fn resolve(explicit: Option<&Path>) -> Result<Self, DataDirError> {
        let root = match explicit {
            Some(path) => path.to_path_buf(),
            None => match std::env::var_os(HOME_VARIABLE).filter(|v| !v.is_empty()) {
                Some(path) => PathBuf::from(path),
                None => directories::ProjectDirs::from("org", "AlignScope", "alignscope")
                    .ok_or(DataDirError::NoDefault)?
                    .data_dir()
                    .to_path_buf(),
            },
        };
        Self::at(root)
    }

    /// Uses `root`, creating it.
    pub fn at(root: PathBuf) -> Result<Self, DataDirError> {
        std::fs::create_dir_all(&root).map_err(|source| DataDirError::Create {
            path: root.clone(),
            source,
        })?;
        Ok(Self { root })
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The database file.
    pub fn database(&self) -> PathBuf {
        self.root.join("alignscope.db")
    }

    /// A path relative to the folder, made absolute.
    pub fn resolve_relative(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// The folder of features AlignScope derived for dataset `id` (encoded images).
    pub fn dataset_features(&self, id: crate::store::DatasetId) -> PathBuf {
        self.root
            .join("datasets")
            .join(id.to_string())
            .join("features")
    }

    /// The content-hash cache of image features, shared by every dataset.
    pub fn image_feature_cache(&self) -> PathBuf {
        self.root.join("cache").join("image-features")
    }

    /// The statement cache of the sentence encoder ([`alignscope_text::StatementCache`]).
    pub fn text_feature_cache(&self) -> PathBuf {
        self.root.join("cache").join("text-features")
    }

    /// Where encoder weights may be put by hand (searched after `$ALIGNSCOPE_ENCODER_WEIGHTS`).
    pub fn models(&self) -> PathBuf {
        self.root.join("models")
    }

    /// The folder of a stored run (config, split, checkpoints, exports); the store
    /// names it when the run is created.
    pub fn run_folder(&self, run: &crate::store::RunRow) -> PathBuf {
        self.resolve_relative(&run.run_dir)
    }
}
