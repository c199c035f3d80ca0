//! MPSEA: multi-modal pre-synergistic fusion entity alignment based on mutual
//! information strategy optimisation (Li et al., CMC 2025), built from the paper.
//!
//! In progress (issue 21): the building blocks, each tested on its own; the model, its
//! losses and its registry entry come next.
//! - Structure: a two-head, two-layer GAT with a full linear map per head ([`gat`]).
//! - Numbers: the numerical embedding over each entity's numeric keys ([`numeric`]).
//! - Fusion: the pre-synergistic fusion transformer and its cross-modal weights
//!   ([`fusion`]), with Outlooker attention and a convolutional feed-forward layer for the
//!   image token ([`outlooker`]).
//! - Reinforcement learning: a mutual-information estimator and the policy gradient
//!   ([`policy`]).

mod config;
mod family;
pub mod fusion;
pub mod gat;
mod model;
pub mod numeric;
pub mod outlooker;
pub mod policy;

pub use config::{LEVELS, MpseaConfig, TOKEN_ORDER};
pub use family::{Family, ID};
pub use model::{MI_ROWS, Mpsea, MpseaForward};
