//! Sentences to embeddings: the model's own WordPiece tokenizer (its `tokenizer.json`,
//! through Hugging Face's `tokenizers` crate), batches of similar length, the model.

use std::path::Path;

use burn::prelude::*;
use sha2::{Digest, Sha256};

use crate::TextError;
use crate::bert::{HIDDEN, MiniLm};
use crate::weights::{TOKENIZER_FILE, WEIGHTS_FILE, read_safetensors};

/// The longest input in tokens: the model's `max_seq_length` (sentence-transformers
/// truncates there; the tokens beyond are dropped).
pub const MAX_TOKENS: usize = 256;

/// all-MiniLM-L6-v2 and its tokenizer on one device.
pub struct SentenceEncoder<B: Backend> {
    tokenizer: tokenizers::Tokenizer,
    model: MiniLm<B>,
    weights_sha256: String,
}

impl<B: Backend> std::fmt::Debug for SentenceEncoder<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentenceEncoder")
            .field("weights_sha256", &self.weights_sha256)
            .finish_non_exhaustive()
    }
}

impl<B: Backend> SentenceEncoder<B> {
    /// Loads the model folder `dir` (`model.safetensors`, `tokenizer.json`) onto `device`.
    pub fn load(dir: &Path, device: &B::Device) -> Result<Self, TextError> {
        let tokenizer_path = dir.join(TOKENIZER_FILE);
        let mut tokenizer = tokenizers::Tokenizer::from_file(&tokenizer_path).map_err(|e| {
            TextError::Unreadable {
                path: tokenizer_path.clone(),
                message: e.to_string(),
            }
        })?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(tokenizers::TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| TextError::Tokenizer(e.to_string()))?;
        let weights = dir.join(WEIGHTS_FILE);
        let bytes = std::fs::read(&weights).map_err(|e| TextError::Unreadable {
            path: weights.clone(),
            message: e.to_string(),
        })?;
        let weights_sha256 = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        drop(bytes);
        let arrays = read_safetensors(&weights)?;
        let vocabulary = tokenizer.get_vocab_size(true);
        let model = MiniLm::from_arrays(&weights, arrays, vocabulary, device)?;
        Ok(Self {
            tokenizer,
            model,
            weights_sha256,
        })
    }

    /// SHA-256 of the weights file, hex.
    pub fn weights_sha256(&self) -> &str {
        &self.weights_sha256
    }

    /// The token ids of `text` (with `[CLS]` and `[SEP]`, truncated to [`MAX_TOKENS`]).
    pub fn tokens(&self, text: &str) -> Result<Vec<u32>, TextError> {
        let encoding = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| TextError::Tokenizer(e.to_string()))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// The 384-d embedding of each text, `batch_size` texts of similar length at a time;
    /// `progress(done, total)` hears after each batch.
    pub fn embed(
        &self,
        texts: &[&str],
        batch_size: usize,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Vec<Vec<f32>>, TextError> {
        let mut tokenized = Vec::with_capacity(texts.len());
        for text in texts {
            tokenized.push(self.tokens(text)?);
        }
        // Similar lengths together: less padding, and the same result (padding is masked).
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| tokenized[i].len());
        let mut out = vec![Vec::new(); texts.len()];
        let mut done = 0;
        for chunk in order.chunks(batch_size.max(1)) {
            let length = chunk
                .iter()
                .map(|&i| tokenized[i].len())
                .max()
                .unwrap_or(0)
                .max(1);
            let mut ids = Vec::with_capacity(chunk.len() * length);
            let mut mask = Vec::with_capacity(chunk.len() * length);
            for &i in chunk {
                let row = &tokenized[i];
                ids.extend_from_slice(row);
                mask.extend(std::iter::repeat_n(1u32, row.len()));
                ids.extend(std::iter::repeat_n(0u32, length - row.len()));
                mask.extend(std::iter::repeat_n(0u32, length - row.len()));
            }
            let rows = self
                .model
                .embed(&ids, &mask, chunk.len(), length)
                .into_data()
                .convert::<f32>()
                .into_vec::<f32>()
                .map_err(|e| TextError::Inference(format!("{e:?}")))?;
            for (&i, vector) in chunk.iter().zip(rows.chunks(HIDDEN)) {
                out[i] = vector.to_vec();
            }
            done += chunk.len();
            progress(done, texts.len());
        }
        Ok(out)
    }
}
