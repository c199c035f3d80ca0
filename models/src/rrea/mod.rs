//! RREA: Relational Reflection Entity Alignment (Mao et al., CIKM 2020), structure only,
//! built from the paper and checked against the authors' code's defaults.
//!
//! - Inputs: an entity table (`N x d`) and a relation table (`2R x d`), both learned.
//!   The entity stream starts from the mean of each entity's and its neighbours'
//!   embeddings; the relation stream from the mean of the relation embeddings of the
//!   entity's distinct (relation, direction) columns.
//! - Relational reflection attention, shared by both streams (one attention vector per
//!   layer): each neighbour `h_j` is reflected by the pair's unit relation vector `u`,
//!   `h_j - 2 (h_j . u) u`; the attention logit reads `u` and the reflected neighbour;
//!   a softmax over each entity's neighbours weighs the reflected neighbours; ReLU.
//! - Output: `[x0 | x1 | x2]` of each stream (ReLU of the input, then each layer),
//!   concatenated: `2 · 3 · d` = 600 wide with the defaults; dropout 0.3 in training.
//! - Loss: L1 margin ranking (γ = 3) with one random negative on each side per row; the
//!   seed pairs are repeated to `N` rows per step, each row with fresh negatives drawn
//!   from all entities of both graphs.
//! - Training: RMSprop (lr 0.005, ρ 0.9, ε 1e-7, as Keras), one full-batch step per
//!   epoch, 1,200 epochs for the non-iterative result; its semi-supervised turns are
//!   iterative learning with a window of one check (mutual nearest neighbours added
//!   every 1,200 epochs).

mod config;
mod family;
mod model;

pub use config::RreaConfig;
pub use family::{Family, ID};
pub use model::Rrea;
