//! AlignScope's backend library. For now it holds the headless command-line interface;
//! the store, job runner and API join it as their issues land (see ARCHITECTURE.md).
#![deny(missing_docs)]

pub mod cli;
