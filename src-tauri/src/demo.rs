//! The built-in demo dataset, built once into the data directory.
//!
//! A fresh install opens on something real: the emoji MMKG pair that
//! [`alignscope_datasets::demo`] builds from pinned npm packages (English labels and
//! Twemoji artwork against Chinese labels and Noto artwork), with 1280-d image features
//! from the EfficientNet-Lite0 encoder, written in AlignScope's own format to
//! `<data dir>/demo/emoji-en-zh`. The write is staged and renamed, so an interrupted
//! build leaves no half-written dataset behind.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use alignscope_datasets::model::{EntityFeatures, KnowledgeGraph};
use alignscope_datasets::{
    DatasetError, DemoError, DemoOptions, DemoReport, DemoSources, Side, build_demo_pair,
    write_alignscope,
};
use alignscope_models::compute::{self, ComputeDevice};
use alignscope_vision::{EncodeProgress, FEATURE_DIM, VisionError};

use crate::data_dir::DataDir;

/// Folder name of the demo dataset inside `<data dir>/demo/`.
pub const DEMO_NAME: &str = "emoji-en-zh";

/// Environment variable naming the `node_modules` folder with the demo's packages.
pub const SOURCES_ENV: &str = "ALIGNSCOPE_DEMO_SOURCES";

/// Why the demo could not be built.
#[derive(Debug, thiserror::Error)]
pub enum DemoBuildError {
    /// The emoji packages are missing or unreadable.
    #[error(transparent)]
    Sources(#[from] DemoError),
    /// The encoder's weights are missing or unreadable.
    #[error(transparent)]
    Encoder(#[from] VisionError),
    /// The dataset could not be written.
    #[error(transparent)]
    Write(#[from] DatasetError),
    /// Too many of the demo's own images failed to decode: the packages are damaged.
    #[error(
        "{failed} of {total} demo images could not be decoded (first: {first}); \
         reinstall the packages with `npm ci --prefix scripts/demo-sources`"
    )]
    Images {
        /// Images that failed.
        failed: usize,
        /// Images in all.
        total: usize,
        /// The first failure.
        first: String,
    },
}

/// What the builder is doing, for progress displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoStage {
    /// Reading the packages and assembling the two graphs.
    Assembling,
    /// Encoding one graph's images.
    Encoding {
        /// Which graph.
        side: Side,
        /// How far it is.
        progress: EncodeProgress,
    },
    /// Writing the dataset folder.
    Writing,
}

/// Figures of a build that just happened.
#[derive(Debug, Clone)]
pub struct DemoBuild {
    /// What was built.
    pub report: DemoReport,
    /// Seconds to read the packages and assemble the graphs.
    pub assemble_seconds: f64,
    /// Seconds to encode all images.
    pub encode_seconds: f64,
    /// Images encoded.
    pub images_encoded: usize,
    /// Images that could not be decoded (counted, left without a feature).
    pub image_failures: usize,
    /// Seconds to write the folder (images copied).
    pub write_seconds: f64,
}

/// The demo dataset folder, and the build's figures when this call built it.
#[derive(Debug, Clone)]
pub struct DemoDataset {
    /// The dataset folder (AlignScope format).
    pub dir: PathBuf,
    /// `Some` when it was built now, `None` when it already existed.
    pub build: Option<DemoBuild>,
}

/// Where the demo dataset built with `options` lives in `data`: `demo/emoji-en-zh`,
/// `demo/emoji-en-zh-first<N>` for a pair cut to the first N emoji, and a
/// `-images-dropped<P>` suffix where P% of the right graph's images are removed instead
/// of the default 10%.
pub fn demo_dir(data: &DataDir, options: &DemoOptions) -> PathBuf {
    let mut name = match options.emoji_limit {
        Some(limit) => format!("{DEMO_NAME}-first{limit}"),
        None => DEMO_NAME.to_string(),
    };
    if options.image_drop_share != DemoOptions::default().image_drop_share {
        name.push_str(&format!(
            "-images-dropped{}",
            percent_label(options.image_drop_share)
        ));
    }
    data.root().join("demo").join(name)
}

/// A share as a percentage for a folder name: `40`, or `12.5`.
fn percent_label(share: f64) -> String {
    let percent = (share * 1000.0).round() / 10.0;
    if percent.fract() == 0.0 {
        format!("{percent:.0}")
    } else {
        format!("{percent:.1}")
    }
}

/// The `node_modules` folder with the demo's packages: `explicit`, then
/// `$ALIGNSCOPE_DEMO_SOURCES`, then `scripts/demo-sources/node_modules` of the source tree
/// (where `scripts/setup.sh` installs them).
pub fn locate_sources(explicit: Option<&Path>) -> PathBuf {
    if let Some(dir) = explicit {
        return dir.to_path_buf();
    }
    if let Some(dir) = std::env::var_os(SOURCES_ENV) {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/demo-sources/node_modules")
}

/// Returns the demo dataset, building it first if the data directory has none.
pub fn ensure_demo(
    data: &DataDir,
    sources: Option<&Path>,
    options: &DemoOptions,
    device: &ComputeDevice,
    progress: &mut dyn FnMut(DemoStage),
) -> Result<DemoDataset, DemoBuildError> {
    let dir = demo_dir(data, options);
    if dir.join("dataset.toml").is_file() {
        return Ok(DemoDataset { dir, build: None });
    }
    // Check everything needed before the slow work.
    let sources = DemoSources::in_node_modules(&locate_sources(sources))?;
    let (weights, weights_sha256) = crate::image_features::encoder_weights(data)?;
    let cache = crate::image_features::open_cache(data, &weights_sha256)?;

    progress(DemoStage::Assembling);
    let started = Instant::now();
    let (mut pair, report) = build_demo_pair(&sources, options)?;
    let assemble_seconds = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let mut images_encoded = 0;
    let mut failures = Vec::new();
    for side in Side::BOTH {
        let graph = match side {
            Side::Left => &mut pair.left,
            Side::Right => &mut pair.right,
        };
        let (entities, paths) = first_images(graph);
        let never = AtomicBool::new(false);
        let encoded = compute::encode_images(device, &weights, &paths, &cache, &never, &mut |p| {
            progress(DemoStage::Encoding { side, progress: p })
        })?;
        images_encoded += paths.len();
        failures.extend(encoded.failures.into_iter().map(|(_, error)| error));
        graph.image_features = Some(features_of(graph, &entities, encoded.features));
    }
    let encode_seconds = started.elapsed().as_secs_f64();
    // A few bad files are counted; many mean the packages are damaged.
    if failures.len() * 100 > images_encoded {
        return Err(DemoBuildError::Images {
            failed: failures.len(),
            total: images_encoded,
            first: failures[0].to_string(),
        });
    }

    progress(DemoStage::Writing);
    let started = Instant::now();
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent).map_err(|source| DatasetError::Write {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    write_alignscope(&pair, &dir)?;
    Ok(DemoDataset {
        dir,
        build: Some(DemoBuild {
            report,
            assemble_seconds,
            encode_seconds,
            images_encoded,
            image_failures: failures.len(),
            write_seconds: started.elapsed().as_secs_f64(),
        }),
    })
}

/// Entities with at least one image, and the first image of each.
fn first_images(graph: &KnowledgeGraph) -> (Vec<u32>, Vec<PathBuf>) {
    graph
        .images
        .iter()
        .enumerate()
        .filter_map(|(entity, files)| Some((entity as u32, files.first()?.clone())))
        .unzip()
}

/// The image-feature table of `graph` from the encoder's rows for `entities`.
fn features_of(
    graph: &KnowledgeGraph,
    entities: &[u32],
    rows: Vec<Option<Vec<f32>>>,
) -> EntityFeatures {
    let mut features = EntityFeatures {
        origin: Default::default(),
        dim: FEATURE_DIM,
        rows: vec![None; graph.entities.len()],
        data: Vec::with_capacity(rows.len() * FEATURE_DIM),
    };
    let mut next = 0u32;
    for (entity, row) in entities.iter().zip(rows) {
        if let Some(vector) = row {
            features.rows[*entity as usize] = Some(next);
            features.data.extend(vector);
            next += 1;
        }
    }
    features
}
