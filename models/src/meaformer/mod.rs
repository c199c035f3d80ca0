//! MEAformer (Chen et al., ACM MM 2023), built from the paper's words and the authors'
//! code, whose choices it follows (the paper's method section was not at hand; each
//! choice is in the registry's deviations).
//!
//! - Encoders: a learned `N x 300` entity table through a two-layer, two-head GAT with a
//!   diagonal map per head (as MCLEA), and one affine layer to 300 per feature modality.
//! - Meta-modality hybrid: one post-norm transformer layer (1 head, GELU feed-forward
//!   300 → 400 → 300) over each entity's raw modality tokens (MPSEA's fusion block with
//!   no pre-synergy mask). The entity's modality weights are the softmax of the attention
//!   each token receives, summed over heads and queries, over `√(M·H)`.
//! - Joint embedding: `[w_m · e_m / |e_m|]_m` over the encoders' outputs `e_m` (the
//!   transformer's outputs only enter the loss).
//! - Loss: the contrastive loss of MCLEA (τ = 0.1, both sides' entities as negatives) on
//!   the joint embedding, plus per modality on the encoder output and on the hybrid's
//!   output, weighted by a learned uncertainty `exp(−s)·L + s`.
//! - Training: AdamW 5e-4 (weight decay 1e-4), steps of 3,500 seed pairs, a linear
//!   warm-up over 15% of the 250 epochs then a cosine decay to 0.
//! - Ranking: CSLS (k = 3) over the test pairs.

mod config;
mod family;
mod model;

pub use config::{MODALITY_ORDER, MeaformerConfig};
pub use family::{Family, ID};
pub use model::Meaformer;
