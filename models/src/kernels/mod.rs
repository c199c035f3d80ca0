//! Fused host kernels for the CPU backend.
//!
//! The reflection layer touches every directed pair (about 330k on DBP15K) with
//! 300-wide vectors. Written with tensor ops, each step materialises a pairs x 300
//! tensor (about 400 MB) that autodiff keeps for the backward pass; the fused kernel
//! computes the layer and its gradients pair by pair, in parallel over entities, without
//! any pairs x width intermediate. It is deterministic: every output row is summed by one
//! thread in a fixed order. The sparse products (neighbour means, normalised adjacencies)
//! follow the same rules: ndarray's `select` and `select_assign` with `Add` made them
//! the slowest part of a structure-only model's epoch.

pub mod reflection;
pub mod spmm;
