//! MCLEA (Lin et al., COLING 2022), built from the paper and checked against the
//! authors' code, whose choices it follows where the two differ (named in the registry's
//! deviations).
//!
//! - Structure: a learned `N x 300` entity table (normal, std `1/√N`) through a two-layer,
//!   two-head GAT with a diagonal map per head, heads averaged, ELU between the layers,
//!   over both graphs' relation-blind edges plus self-loops ([`crate::mpsea::gat`]).
//! - Relation and attribute bags and image vectors (and, if chosen, a name embedding):
//!   one affine layer each, to 100 columns ([`crate::global_fusion::FeatureEncoders`]).
//! - Joint embedding: `[w_m · e_m / |e_m|]_m`, `w` the softmax of one learned logit per
//!   modality ([`crate::global_fusion::GlobalWeights`]).
//! - Loss: the intra-modal contrastive loss (ICL, τ = 0.1; both sides' entities of the
//!   chunk are the negatives) on the joint embedding, plus per modality its ICL and its
//!   inter-modal alignment loss (IAL: KL from the detached joint distribution to the
//!   modality's, τ₂ = 4), each weighted by a learned uncertainty `exp(−s)·L + s`.
//! - Training: AdamW 5e-4 (weight decay 0.01), the seed pairs in chunks of 512 summed
//!   into one step per epoch, 1,000 epochs, iterative learning from epoch 500 and a fresh
//!   AdamW at 1e-4 every epoch from 500 (as EVA, which the code builds on).
//! - Ranking: CSLS (k = 3) over the test pairs.

mod config;
mod family;
mod model;

pub use config::{MODALITY_ORDER, McleaConfig};
pub use family::{Family, ID};
pub use model::Mclea;
