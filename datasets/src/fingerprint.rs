//! A content fingerprint of a dataset, so a run can later prove which data it used.
//!
//! SHA-256 over a canonical encoding of the content: relation and attribute vocabularies,
//! each graph's entities, triples, attributes, image file bytes and feature vectors, the
//! gold pairs and predefined splits. Names, labels, credits and the source format are
//! not content: the same data read from GCN-Align files or from their conversion to our
//! format has the same fingerprint.

use std::fs::File;
use std::io::{self, Read};

use sha2::{Digest, Sha256};

use crate::error::DatasetError;
use crate::model::{GoldPair, KnowledgeGraph, MmkgPair, Side};

const DOMAIN: &[u8] = b"alignscope-dataset-fingerprint-v1";

/// The fingerprint as `sha256:<64 hex digits>`. Reads every image file.
pub fn fingerprint(pair: &MmkgPair) -> Result<String, DatasetError> {
    let mut h = Canonical(Sha256::new());
    h.bytes(DOMAIN);
    h.strings(pair.relations.names());
    h.strings(pair.attribute_keys.names());
    for side in Side::BOTH {
        h.graph(pair.graph(side))?;
    }
    h.pairs(&pair.gold);
    h.len(pair.predefined_splits.len());
    for named in &pair.predefined_splits {
        h.bytes(named.name.as_bytes());
        for part in [&named.split.train, &named.split.valid, &named.split.test] {
            h.pairs(part);
        }
    }
    let digest = h.0.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("sha256:{hex}"))
}

/// Feeds values to the hash with lengths in front, so concatenations cannot collide.
struct Canonical(Sha256);

impl Canonical {
    fn len(&mut self, n: usize) {
        self.0.update((n as u64).to_le_bytes());
    }

    fn u32(&mut self, v: u32) {
        self.0.update(v.to_le_bytes());
    }

    fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.0.update(b);
    }

    fn strings(&mut self, names: &[String]) {
        self.len(names.len());
        for name in names {
            self.bytes(name.as_bytes());
        }
    }

    fn pairs(&mut self, pairs: &[GoldPair]) {
        self.len(pairs.len());
        for p in pairs {
            self.u32(p.left);
            self.u32(p.right);
        }
    }

    fn graph(&mut self, g: &KnowledgeGraph) -> Result<(), DatasetError> {
        self.len(g.entities.len());
        for e in &g.entities {
            self.bytes(e.key.as_bytes());
            self.bytes(e.name.as_bytes());
        }
        self.len(g.triples.len());
        for t in &g.triples {
            self.u32(t.head);
            self.u32(t.relation);
            self.u32(t.tail);
        }
        self.len(g.attributes.len());
        for a in &g.attributes {
            self.u32(a.entity);
            self.u32(a.key);
            match &a.value {
                Some(v) => {
                    self.0.update([1]);
                    self.bytes(v.as_bytes());
                }
                None => self.0.update([0]),
            }
        }
        self.len(g.images.len());
        for files in &g.images {
            self.len(files.len());
            for file in files {
                self.file(file)?;
            }
        }
        match &g.image_features {
            None => self.0.update([0]),
            Some(f) => {
                self.0.update([1]);
                self.len(f.dim);
                for entity in 0..f.rows.len() {
                    match f.vector(entity as u32) {
                        Some(v) => {
                            self.0.update([1]);
                            for x in v {
                                self.0.update(x.to_bits().to_le_bytes());
                            }
                        }
                        None => self.0.update([0]),
                    }
                }
            }
        }
        Ok(())
    }

    /// Hashes a file's length and bytes, streamed: images are never held whole.
    fn file(&mut self, path: &std::path::Path) -> Result<(), DatasetError> {
        let read = |h: &mut Sha256| -> io::Result<()> {
            let file = File::open(path)?;
            let len = file.metadata()?.len();
            h.update(len.to_le_bytes());
            let copied = io::copy(&mut file.take(len), h)?;
            if copied != len {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("the file shrank from {len} to {copied} bytes while being read"),
                ));
            }
            Ok(())
        };
        read(&mut self.0).map_err(|source| DatasetError::Read {
            path: path.to_path_buf(),
            source,
        })
    }
}
