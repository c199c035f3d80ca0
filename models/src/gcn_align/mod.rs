//! GCN-Align (Wang et al., EMNLP 2018): graph convolutions over structure, with
//! attribute features where the dataset has them, built from the paper and checked
//! against the authors' code's defaults.
//!
//! - Adjacency: both graphs in one; for a triple `(h, r, t)`, `h` takes `t` with weight
//!   `max(ifun(r), 0.3)` and `t` takes `h` with `max(fun(r), 0.3)` (`fun(r)`: distinct
//!   heads over triples of `r`; `ifun(r)`: distinct tails over triples), weights of
//!   several triples add up, self-loops of weight 1 are added and the matrix is
//!   normalised `D^-½ A D^-½` with `D` the column sums, as the authors' code does.
//! - Structure (SE): a learned `N x d` matrix, each row unit-normalised in every
//!   forward pass; `SE = Â · relu(Â · X)`: two graph convolutions, the second without a
//!   weight matrix.
//! - Attributes (AE), where the dataset has attribute triples: 0/1 over the most frequent
//!   attribute keys times a learned `K x d_a` matrix (rows unit-normalised), then the
//!   same two convolutions.
//! - Loss, per half: L1 margin ranking (γ = 3) against `k = 5` corrupted pairs on each
//!   side per seed pair, corrupting entities drawn from all entities and redrawn every
//!   10 epochs; the mean over the `2k` corruptions of each pair.
//! - Training: plain gradient descent, learning rate 20, full batch, 2,000 epochs.
//! - Ranking: cosine (or CSLS) over `[√β·SE/|SE| | √(1-β)·AE/|AE|]` with β = 0.9, so a
//!   pair's cosine is `β cos(SE) + (1 - β) cos(AE)`: the paper's β-weighted sum of the
//!   two halves' similarities, on the cosine scale of our protocol.

mod adjacency;
mod config;
mod family;
mod model;

pub use adjacency::weighted_adjacency;
pub use config::GcnAlignConfig;
pub use family::{Family, ID};
pub use model::GcnAlign;
