//! EVA (Liu et al., AAAI 2021), built from the paper and checked against the authors'
//! code, whose choices it follows where the two differ (named in the registry's
//! deviations).
//!
//! - Structure: a learned `N x 400` entity table (normal, std `1/√N`) through a
//!   two-layer GCN `Â relu(Â X W₁ + b₁) W₂ + b₂` (400 → 400 → 200) over both graphs'
//!   relation-blind adjacency: `A[h,t]` counts the relations linking `h` and `t` either
//!   way, self-loops added, `D^-½ A D^-½`.
//! - Relation (raw head-and-tail counts over the 1,000 most frequent relations),
//!   attribute (0/1 over the 1,000 most frequent keys) and image vectors: one affine
//!   layer each, to 100, 100 and 200 columns.
//! - Joint embedding: `[w_m · e_m / |e_m|]_m` with `w = softmax` of one learned logit per
//!   modality ([`crate::global_fusion`]).
//! - Loss: the NCA loss ([`crate::loss::nca_loss`], α = 5 for structure, 15 otherwise,
//!   β = 10) on every modality and on the joint embedding, whose input is detached (the
//!   authors' code: the joint term trains only the weights).
//! - Training: AdamW 5e-4 (weight decay 0.01), one full-batch step per epoch, 1,000
//!   epochs, iterative learning from epoch 500 (mutual nearest neighbours checked every 5
//!   epochs, added when mutual through 50), a fresh AdamW at 1e-4 every epoch from 500.
//! - Ranking: CSLS (k = 3) over the test pairs.

mod config;
mod family;
mod gcn;
mod model;

pub use config::{EvaConfig, MODALITY_ORDER};
pub use family::{Family, ID};
pub use gcn::count_adjacency;
pub use model::Eva;
