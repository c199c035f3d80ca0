//! TMEA: tackling uncertain correspondences for multi-modal entity alignment (Chen et
//! al., NeurIPS 2024), built from the paper.
//!
//! - Knowledge encoder: relational features from TransE with swapping ([`transe`]);
//!   attribute features from the abstract representation (sentence embeddings of the
//!   attribute statements, see the registry's deviations for what replaces the LLM) or
//!   a bag of attribute keys; visual features; each a linear projection, L2-normalised.
//! - Missing modality imputation with VAEs in a shared latent space ([`imputation`]).
//! - Commonality enhancement by cross-modal attention with an orthogonal constraint
//!   ([`commonality`]).
//! - Objective: TransE + multi-modal contrastive loss (Eq. 18–19) + `L_v` + the two
//!   constraint losses weighted `λ1`, `λ2`; bi-directional iteration through the
//!   trainer's mutual-nearest-neighbour pseudo seeds.

pub mod commonality;
mod config;
mod family;
pub mod imputation;
mod model;
pub mod transe;

pub use config::{TOKEN_ORDER, TmeaConfig};
pub use family::{Family, ID};
pub use model::{Tmea, TmeaForward, TokenView};
