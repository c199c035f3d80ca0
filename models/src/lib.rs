//! AlignScope's models: Burn modules generic over the backend, the one trainer every model
//! uses, evaluation (cosine/CSLS ranking in blocks) and checkpoints.
//!
//! - [`loginmea`]: LoginMEA (Su et al., ECAI 2024), as the authors' code builds it.
//! - [`tmea`]: TMEA (Chen et al., NeurIPS 2024), built from the paper.
//! - [`train`]: the shared trainer.
//! - [`eval`]: the evaluation protocol of `design/MODELS.md`.
//! - [`run`]: a whole run — dataset to trained, evaluated, exported model — for the CLI
//!   and the app.
#![deny(missing_docs)]

pub mod backend;
pub mod compute;
pub mod durable;
pub mod eva;
pub mod eval;
pub mod export;
pub mod gcn_align;
pub mod global_fusion;
pub mod graph;
pub mod inputs;
pub mod kernels;
pub mod loginmea;
pub mod loss;
pub mod mclea;
pub mod meaformer;
pub mod model;
pub mod mpsea;
pub mod number_input;
pub mod ops;
pub mod projection;
pub mod registry;
pub mod relations;
pub mod resources;
pub mod rng;
pub mod rrea;
pub mod run;
pub mod schema;
pub mod settings;
pub mod sparse;
pub mod synthetic;
pub mod tmea;
pub mod train;

pub use backend::GraphBackend;
pub use model::{AlignmentModel, DataShape, Explanation, ModelInputs, TrainableModel};
