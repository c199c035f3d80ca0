//! LoginMEA: local-to-global interaction network for multi-modal entity alignment.

mod config;
mod family;
mod fusion;
mod graph_layer;
mod model;

pub use config::{FusionKind, GraphLayerKind, LoginMeaConfig, LossDirection};
pub use family::{Family, ID, legacy_settings};
pub use fusion::{AdaptiveWeights, LowRankFusion, ModalityEmbedding};
pub use graph_layer::{GraphLayer, neighbour_mean, pair_relation_vectors, reflect};
pub use model::{LoginMea, Projection};
