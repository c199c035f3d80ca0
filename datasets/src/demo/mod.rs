//! The built-in demo: a real bilingual, multi-vendor multi-modal knowledge-graph pair
//! built deterministically from pinned npm packages of emoji data.
//!
//! - Left, `English (Twemoji)`: English labels and keywords from `emojibase-data`,
//!   Twemoji images from `emoji-datasource-twitter`.
//! - Right, `中文 (Noto Color Emoji)`: Chinese labels and keywords, Noto images from
//!   `emoji-datasource-google`; a seeded share of its images and triples is dropped to
//!   mimic real incompleteness.
//!
//! Entities: emoji (keyed by code points, e.g. `1F468-200D-1F469-200D-1F467`), their
//! single-tone skin variants, subgroup and group nodes (`subgroup:face-smiling`,
//! `group:smileys-emotion`), and keyword nodes per language (`kw:en:happy`), which have
//! no counterpart. Gold pairs join equal keys of all kinds but keywords. See
//! [`schema`] for the relations and attributes.
//!
//! ```no_run
//! use alignscope_datasets::{DemoOptions, DemoSources, build_demo_pair, write_alignscope};
//! let sources = DemoSources::in_node_modules("scripts/demo-sources/node_modules".as_ref())?;
//! let (pair, report) = build_demo_pair(&sources, &DemoOptions::default())?;
//! println!("{report}");
//! write_alignscope(&pair, "demo".as_ref())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod build;
mod codepoints;
mod emoji;
mod error;
mod incompleteness;
mod labels;
mod report;
pub mod schema;
mod side;
mod sources;

pub use build::{DATASET_NAME, build_demo_pair};
pub use error::{DemoError, INSTALL_HINT};
pub use report::{DemoReport, KindCounts, LabelStats, SideReport};
pub use schema::{Attribute, EntityKind, GROUP_PREFIX, KEYWORD_PREFIX, Relation, SUBGROUP_PREFIX};
pub use sources::{
    DemoSources, PINNED_EMOJI_DATASOURCE_GOOGLE, PINNED_EMOJI_DATASOURCE_TWITTER,
    PINNED_EMOJIBASE_DATA,
};

/// How to build the demo.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoOptions {
    /// Seed of the drops on the right graph.
    pub seed: u64,
    /// Share of the right graph's images to drop, in [0, 1].
    pub image_drop_share: f64,
    /// Share of the right graph's relational triples to drop, in [0, 1].
    pub edge_drop_share: f64,
    /// Whether single-tone skin variants are entities (about 1,600 per side).
    pub include_skin_tones: bool,
    /// Only the first N emoji of the catalogue (in its sort order), with their variants,
    /// groups and keywords: a small pair for tests and quick looks. `None`: all.
    pub emoji_limit: Option<usize>,
}

impl Default for DemoOptions {
    /// Seed 2026, 10% of images and 15% of triples dropped, skin tones included, all emoji.
    fn default() -> Self {
        DemoOptions {
            seed: 2026,
            image_drop_share: 0.10,
            edge_drop_share: 0.15,
            include_skin_tones: true,
            emoji_limit: None,
        }
    }
}

impl DemoOptions {
    /// Checks that the shares are between 0 and 1.
    fn validate(&self) -> Result<(), DemoError> {
        for (option, value) in [
            ("image_drop_share", self.image_drop_share),
            ("edge_drop_share", self.edge_drop_share),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(DemoError::InvalidShare { option, value });
            }
        }
        Ok(())
    }
}
