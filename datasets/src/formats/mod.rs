//! Dataset formats: detection, and one reader per format (our own also has a writer).

mod alignscope;
mod gcn_align;
mod meaformer;
mod openea;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub use alignscope::{FORMAT_VERSION, write_alignscope};

use crate::error::DatasetError;
use crate::model::MmkgPair;
use crate::problem::{Diagnostics, Warning};

/// The dataset formats AlignScope reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// GCN-Align / JAPE DBP15K folders: `ent_ids_1/2`, `triples_1/2`, `ref_ent_ids`.
    GcnAlign,
    /// MEAformer / MCLEA / EVA folders: as GCN-Align with `ill_ent_ids`, pickled image
    /// features and MMKB numerical triples.
    Meaformer,
    /// OpenEA folders: `rel_triples_1/2`, `attr_triples_1/2`, `ent_links`, folds.
    OpenEa,
    /// AlignScope's own TSV format (see `docs/FORMAT.md`).
    AlignScope,
}

impl Format {
    /// Every format, in detection order.
    pub const ALL: [Format; 4] = [
        Format::AlignScope,
        Format::OpenEa,
        Format::Meaformer,
        Format::GcnAlign,
    ];

    /// The name used on the command line and in stored records.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::GcnAlign => "gcn-align",
            Format::Meaformer => "meaformer",
            Format::OpenEa => "openea",
            Format::AlignScope => "alignscope",
        }
    }

    /// What a folder of this format must contain, for error messages.
    pub fn signature(self) -> &'static str {
        match self {
            Format::GcnAlign => "ent_ids_1, ent_ids_2, triples_1, triples_2, ref_ent_ids",
            Format::Meaformer => {
                "ent_ids_1, ent_ids_2, triples_1, triples_2, ill_ent_ids (+ pkls/*_id_img_feature_dict.pkl)"
            }
            Format::OpenEa => {
                "rel_triples_1, rel_triples_2, ent_links (+ attr_triples_1/2, 721_5fold/)"
            }
            Format::AlignScope => "dataset.toml, left/entities.tsv, right/entities.tsv, gold.tsv",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = DatasetError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| DatasetError::UnknownFormatName {
                name: s.to_string(),
            })
    }
}

/// How to load a dataset folder.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Force a format instead of detecting it.
    pub format: Option<Format>,
    /// A pickled image-feature dict to use instead of the one found next to the data
    /// (MEAformer format only).
    pub image_features: Option<PathBuf>,
    /// A folder of features AlignScope derived for this dataset in its data directory
    /// ([`crate::derived`]): graphs without image features of their own get the encoded
    /// ones from there. Not part of the folder's content, so [`crate::fingerprint`] of a
    /// pair loaded with it covers the features too.
    pub derived_features: Option<PathBuf>,
}

/// A loaded dataset with what was learnt while loading it.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The data.
    pub pair: MmkgPair,
    /// The format it was read as.
    pub format: Format,
    /// Tolerable problems, counted.
    pub warnings: Vec<Warning>,
}

/// Detects the format of a dataset folder from the files it holds.
pub fn detect_format(dir: &Path) -> Result<Format, DatasetError> {
    check_dir(dir)?;
    let has = |name: &str| dir.join(name).exists();
    if has("dataset.toml") || (has("left/entities.tsv") && has("gold.tsv")) {
        return Ok(Format::AlignScope);
    }
    if has("rel_triples_1") {
        return Ok(Format::OpenEa);
    }
    if has("ent_ids_1") {
        if has("ill_ent_ids") || meaformer::find_feature_pickle(dir).is_some() {
            return Ok(Format::Meaformer);
        }
        return Ok(Format::GcnAlign);
    }
    Err(DatasetError::UnknownFormat {
        dir: dir.to_path_buf(),
    })
}

/// Loads and validates the dataset in `dir`.
pub fn load(dir: &Path, options: &LoadOptions) -> Result<Loaded, DatasetError> {
    let format = match options.format {
        Some(format) => {
            check_dir(dir)?;
            format
        }
        None => detect_format(dir)?,
    };
    // A GCN-Align folder plus a feature pickle is what MEAformer reads.
    let format = match (format, &options.image_features) {
        (Format::GcnAlign, Some(_)) => Format::Meaformer,
        (Format::OpenEa | Format::AlignScope, Some(path)) => {
            return Err(DatasetError::ImageFeaturesNotApplicable {
                path: path.clone(),
                format,
            });
        }
        (format, _) => format,
    };
    let mut diag = Diagnostics::default();
    let pair = match format {
        Format::GcnAlign => gcn_align::read(dir, &mut diag).0,
        Format::Meaformer => meaformer::read(dir, options.image_features.as_deref(), &mut diag),
        Format::OpenEa => openea::read(dir, &mut diag),
        Format::AlignScope => alignscope::read(dir, &mut diag),
    };
    let mut pair = pair;
    crate::images::check_images(&mut pair, &mut diag);
    let warnings = diag
        .finish()
        .map_err(|problems| DatasetError::Invalid { format, problems })?;
    if let Some(derived) = &options.derived_features {
        crate::derived::attach_all(&mut pair, derived)?;
    }
    Ok(Loaded {
        pair,
        format,
        warnings,
    })
}

fn check_dir(dir: &Path) -> Result<(), DatasetError> {
    if dir.is_dir() {
        Ok(())
    } else {
        Err(DatasetError::NotADirectory {
            path: dir.to_path_buf(),
        })
    }
}

/// The folder's name, used as the dataset name where the format has none.
fn folder_name(dir: &Path) -> String {
    dir.canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "dataset".to_string())
}
