//! Embeddings of statements already encoded, kept in the data directory so a second
//! encoding of the same text (another import, another dataset, a resumed run) costs
//! nothing.
//!
//! One append-only file per encoder: fixed-length records of the SHA-256 of the text
//! (32 bytes), its embedding (`dim` little-endian `f32`) and a check (the first 8 bytes
//! of the SHA-256 of the two). Each batch is appended by one write and synced, so a
//! crash can only tear the last record: a torn tail is cut off when the file is opened,
//! and a record whose check fails, or that holds a non-finite value, reads as absent.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::TextError;

const HASH_BYTES: usize = 32;
const CHECK_BYTES: usize = 8;

/// The statement cache of one encoder.
#[derive(Debug)]
pub struct StatementCache {
    path: PathBuf,
    dim: usize,
    file: File,
    entries: HashMap<[u8; HASH_BYTES], Vec<f32>>,
    damaged: usize,
}

fn text_key(text: &str) -> [u8; HASH_BYTES] {
    Sha256::digest(text.as_bytes()).into()
}

fn check_of(record_body: &[u8]) -> [u8; CHECK_BYTES] {
    let digest = Sha256::digest(record_body);
    let mut check = [0; CHECK_BYTES];
    check.copy_from_slice(&digest[..CHECK_BYTES]);
    check
}

fn cache_error(path: &Path, error: impl std::fmt::Display) -> TextError {
    TextError::Cache {
        path: path.to_path_buf(),
        message: error.to_string(),
    }
}

impl StatementCache {
    /// Opens (creating if needed) the cache of the encoder `encoder_id` with embeddings of
    /// `dim` values under `root`, reading what it holds.
    pub fn open(root: &Path, encoder_id: &str, dim: usize) -> Result<Self, TextError> {
        std::fs::create_dir_all(root).map_err(|e| cache_error(root, e))?;
        let path = root.join(format!("{encoder_id}-{dim}.records"));
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(|e| cache_error(&path, e))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| cache_error(&path, e))?;
        let record = HASH_BYTES + 4 * dim + CHECK_BYTES;
        let whole = bytes.len() / record * record;
        if whole != bytes.len() {
            // A torn last record: cut it off so the next append starts on a boundary.
            file.set_len(whole as u64)
                .map_err(|e| cache_error(&path, e))?;
        }
        let mut entries = HashMap::new();
        let mut damaged = 0;
        for chunk in bytes[..whole].chunks_exact(record) {
            let (body, check) = chunk.split_at(HASH_BYTES + 4 * dim);
            let values: Vec<f32> = body[HASH_BYTES..]
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            if check != check_of(body) || values.iter().any(|v| !v.is_finite()) {
                damaged += 1;
                continue;
            }
            let mut key = [0; HASH_BYTES];
            key.copy_from_slice(&body[..HASH_BYTES]);
            entries.insert(key, values);
        }
        Ok(Self {
            path,
            dim,
            file,
            entries,
            damaged,
        })
    }

    /// The cache file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Embeddings held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Records found damaged when the cache was opened (they read as absent).
    pub fn damaged(&self) -> usize {
        self.damaged
    }

    /// The embedding of `text`, if cached.
    pub fn get(&self, text: &str) -> Option<&[f32]> {
        self.entries.get(&text_key(text)).map(Vec::as_slice)
    }

    /// Adds embeddings (each `dim` values) with one synced append.
    pub fn append(&mut self, items: &[(&str, &[f32])]) -> Result<(), TextError> {
        let record = HASH_BYTES + 4 * self.dim + CHECK_BYTES;
        let mut buffer = Vec::with_capacity(items.len() * record);
        for (text, vector) in items {
            if vector.len() != self.dim {
                return Err(cache_error(
                    &self.path,
                    format!(
                        "an embedding of {} values, expected {}",
                        vector.len(),
                        self.dim
                    ),
                ));
            }
            let start = buffer.len();
            buffer.extend_from_slice(&text_key(text));
            for v in *vector {
                buffer.extend_from_slice(&v.to_le_bytes());
            }
            let check = check_of(&buffer[start..]);
            buffer.extend_from_slice(&check);
        }
        self.file
            .write_all(&buffer)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| cache_error(&self.path, e))?;
        for (text, vector) in items {
            self.entries.insert(text_key(text), vector.to_vec());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appended_embeddings_read_back_and_a_torn_or_damaged_record_reads_as_absent() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = StatementCache::open(dir.path(), "enc", 3).unwrap();
        assert!(cache.is_empty());
        cache
            .append(&[("a: 1", &[1.0, 2.0, 3.0]), ("b", &[4.0, 5.0, 6.0])])
            .unwrap();
        assert_eq!(cache.get("a: 1"), Some(&[1.0, 2.0, 3.0][..]));
        let path = cache.path().to_path_buf();
        drop(cache);

        let reopened = StatementCache::open(dir.path(), "enc", 3).unwrap();
        assert_eq!(reopened.len(), 2);
        assert_eq!(reopened.get("b"), Some(&[4.0, 5.0, 6.0][..]));
        assert_eq!(reopened.get("c"), None);
        drop(reopened);

        // Flip a value byte of the first record and tear a third record in half.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[HASH_BYTES] ^= 0x40;
        let record = HASH_BYTES + 12 + CHECK_BYTES;
        bytes.extend(vec![7u8; record / 2]);
        std::fs::write(&path, &bytes).unwrap();
        let mut damaged = StatementCache::open(dir.path(), "enc", 3).unwrap();
        assert_eq!(damaged.damaged(), 1);
        assert_eq!(damaged.get("a: 1"), None);
        assert_eq!(damaged.get("b"), Some(&[4.0, 5.0, 6.0][..]));
        assert_eq!(std::fs::metadata(&path).unwrap().len() as usize, 2 * record);

        // The next append starts on a record boundary and reads back.
        damaged.append(&[("a: 1", &[9.0, 9.0, 9.0])]).unwrap();
        drop(damaged);
        let mut healed = StatementCache::open(dir.path(), "enc", 3).unwrap();
        assert_eq!(healed.get("a: 1"), Some(&[9.0, 9.0, 9.0][..]));
        let wrong_width = healed.append(&[("x", &[1.0])]).unwrap_err();
        assert!(
            wrong_width.to_string().contains("expected 3"),
            "{wrong_width}"
        );
    }
}
