//! Multi-modal knowledge-graph pairs for entity alignment: the in-memory model, readers
//! for the research formats (GCN-Align/JAPE, MEAformer/MCLEA/EVA, OpenEA) and for
//! AlignScope's own TSV format (with a writer), validation with precise errors, seeded
//! splits, the papers' bag-of-relations/attributes features, content fingerprints and
//! summary statistics.
//!
//! ```no_run
//! use alignscope_datasets::{load, LoadOptions, dataset_stats};
//! let loaded = load("../shared/datasets/dbp15k/zh_en".as_ref(), &LoadOptions::default())?;
//! println!("{} gold pairs", dataset_stats(&loaded.pair).gold_pairs);
//! # Ok::<(), alignscope_datasets::DatasetError>(())
//! ```
#![deny(missing_docs)]

pub mod abstracts;
pub mod demo;
pub mod derived;
pub mod display;
mod error;
pub mod features;
mod file;
mod fingerprint;
mod formats;
mod images;
pub mod model;
pub mod npy;
pub mod numbers;
pub mod pickle;
pub mod problem;
pub mod split;
pub mod statements;
pub mod stats;
pub mod synthetic;
mod text;

pub use demo::{DemoError, DemoOptions, DemoReport, DemoSources, build_demo_pair};
pub use error::DatasetError;
pub use features::{BagOfFeatures, DEFAULT_TOP_K, bag_of_attributes, bag_of_relations};
pub use file::{MAX_FEATURE_FILE_BYTES, MAX_TEXT_FILE_BYTES};
pub use fingerprint::fingerprint;
pub use formats::{
    FORMAT_VERSION, Format, LoadOptions, Loaded, detect_format, load, write_alignscope,
};
pub use images::is_decodable_image;
pub use model::{EntityKeys, MmkgPair, Side};
pub use split::{SplitSpec, split_gold};
pub use stats::{DatasetStats, dataset_stats};
pub use synthetic::{SyntheticError, SyntheticOptions, SyntheticReport, synthetic_pair};
