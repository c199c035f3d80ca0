//! A content-addressed cache of image features on disk: one small file per image,
//! named by the SHA-256 of the image's bytes, in a folder per encoder and weights. A
//! second import, or another dataset with the same pictures, finds its features here
//! and encodes nothing; an encoding cut short by a crash resumes where it stopped.
//!
//! Entries are written to a temporary file and renamed into place, so a reader finds a
//! whole entry or none. An entry of the wrong size or with a non-finite value is treated
//! as absent (and overwritten by the next encoding).

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::VisionError;

/// The SHA-256 of a file's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContentHash([u8; 32]);

impl ContentHash {
    /// The hash of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// The hash of the file at `path`, streamed.
    pub fn of_file(path: &Path) -> std::io::Result<Self> {
        let mut file = fs::File::open(path)?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 1 << 16];
        loop {
            let read = file.read(&mut buffer)?;
            if read == 0 {
                break;
            }
            hasher.update(&buffer[..read]);
        }
        Ok(Self(hasher.finalize().into()))
    }

    /// 64 lower-case hex digits.
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Features of one encoder (name and weights) for images by content hash.
#[derive(Debug, Clone)]
pub struct FeatureCache {
    dir: PathBuf,
    dim: usize,
}

impl FeatureCache {
    /// The cache of `encoder_id` (e.g. `efficientnet-lite0-<weights hash prefix>`) under
    /// `root`, for vectors of `dim` values; its folder is created.
    pub fn open(root: &Path, encoder_id: &str, dim: usize) -> Result<Self, VisionError> {
        let dir = root.join(encoder_id);
        fs::create_dir_all(&dir).map_err(|source| VisionError::Cache {
            path: dir.clone(),
            source,
        })?;
        Ok(Self { dir, dim })
    }

    /// The cache folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn entry_path(&self, hash: &ContentHash) -> PathBuf {
        let hex = hash.hex();
        self.dir.join(&hex[..2]).join(format!("{hex}.f32"))
    }

    /// The cached feature of the image with `hash`, if a whole, finite one is stored.
    pub fn get(&self, hash: &ContentHash) -> Option<Vec<f32>> {
        let bytes = fs::read(self.entry_path(hash)).ok()?;
        if bytes.len() != self.dim * 4 {
            return None;
        }
        let vector: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        vector.iter().all(|v| v.is_finite()).then_some(vector)
    }

    /// Stores the feature of the image with `hash` (atomically).
    pub fn put(&self, hash: &ContentHash, vector: &[f32]) -> Result<(), VisionError> {
        let path = self.entry_path(hash);
        let fail = |source| VisionError::Cache {
            path: path.clone(),
            source,
        };
        if vector.len() != self.dim {
            return Err(VisionError::Inference(format!(
                "a feature of {} values cannot be cached as {} values",
                vector.len(),
                self.dim
            )));
        }
        let folder = path.parent().unwrap_or(&self.dir);
        fs::create_dir_all(folder).map_err(fail)?;
        let mut bytes = Vec::with_capacity(vector.len() * 4);
        for v in vector {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        let mut file = tempfile::NamedTempFile::new_in(folder).map_err(fail)?;
        file.write_all(&bytes).map_err(fail)?;
        file.persist(&path).map_err(|e| fail(e.error))?;
        Ok(())
    }
}

/// The SHA-256 of a weights file, hex: which weights made a feature.
pub fn weights_sha256(path: &Path) -> Result<String, VisionError> {
    ContentHash::of_file(path)
        .map(|hash| hash.hex())
        .map_err(|source| VisionError::WeightsUnreadable {
            path: path.to_path_buf(),
            message: source.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_damaged_ones_read_as_absent() {
        let root = tempfile::tempdir().unwrap();
        let cache = FeatureCache::open(root.path(), "enc-1", 3).unwrap();
        let hash = ContentHash::of(b"picture");
        assert_eq!(cache.get(&hash), None);
        cache.put(&hash, &[1.0, -2.5, 3.25]).unwrap();
        assert_eq!(cache.get(&hash), Some(vec![1.0, -2.5, 3.25]));

        // Another encoder's cache does not see it.
        let other = FeatureCache::open(root.path(), "enc-2", 3).unwrap();
        assert_eq!(other.get(&hash), None);

        // A torn entry (wrong length) or a NaN reads as absent.
        fs::write(cache.entry_path(&hash), [0u8; 5]).unwrap();
        assert_eq!(cache.get(&hash), None);
        let nan: Vec<u8> = [f32::NAN, 0.0, 0.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        fs::write(cache.entry_path(&hash), nan).unwrap();
        assert_eq!(cache.get(&hash), None);
        assert!(cache.put(&hash, &[1.0]).is_err(), "wrong width refused");
    }

    #[test]
    fn the_hash_is_the_sha256_of_the_bytes() {
        assert_eq!(
            ContentHash::of(b"abc").hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::write(&path, b"abc").unwrap();
        assert_eq!(
            ContentHash::of_file(&path).unwrap(),
            ContentHash::of(b"abc")
        );
    }
}
