//! LoginMEA: local-to-global interaction network for multi-modal entity alignment.

mod config;
mod fusion;
mod graph_layer;
mod model;

pub use config::{ConfigError, FusionKind, GraphLayerKind, LoginMeaConfig, LossDirection};
pub use fusion::{AdaptiveWeights, LowRankFusion, ModalityEmbedding};
pub use graph_layer::{GraphLayer, neighbour_mean, pair_relation_vectors, reflect};
pub use model::{DataShape, LoginMea, Projection};
