//! AlignScope's backend library: the SQLite store, the training job runner, the one API
//! every client calls, and the headless command-line interface built on it (see
//! ARCHITECTURE.md).
#![deny(missing_docs)]

pub mod allocator;
pub mod api;
pub mod cli;
pub mod data_dir;
pub mod demo;
#[cfg(feature = "desktop")]
pub mod desktop;
#[cfg(any(feature = "desktop", test))]
mod desktop_options;
pub mod device;
pub mod image_features;
pub mod jobs;
pub mod run_files;
#[cfg(feature = "server")]
pub mod server;
pub mod store;
pub mod text_features;

/// Every binary and test that links this library allocates through [`allocator`]:
/// mimalloc unless `ALIGNSCOPE_ALLOCATOR=system`.
#[global_allocator]
static ALLOCATOR: allocator::Allocator = allocator::Allocator;

/// This build's version: the crate version and the commit it was built from.
pub fn code_version() -> String {
    format!(
        "{} ({})",
        env!("CARGO_PKG_VERSION"),
        env!("ALIGNSCOPE_COMMIT")
    )
}
