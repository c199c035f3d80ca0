//! `split.tsv` of a run folder: the run's train, validation and test pairs by entity
//! key, written once when the run starts; everything that needs a run's pairs later
//! (the inspector's "seen in training" marks, retraining with decisions) reads them here
//! instead of drawing the split again.
//!
//! Format: a header `part\tleft\tright`, then one line per pair, `part` one of `train`,
//! `valid`, `test`.

use std::path::Path;

use alignscope_datasets::MmkgPair;

use crate::train::{AlignmentTask, CheckpointError, checkpoint_write};

/// The file name in a run folder.
pub const SPLIT_FILE: &str = "split.tsv";

/// A run's pairs by entity key (left, right).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SplitPairs {
    /// Seed pairs.
    pub train: Vec<(String, String)>,
    /// Validation pairs.
    pub valid: Vec<(String, String)>,
    /// Test pairs.
    pub test: Vec<(String, String)>,
}

/// Writes the task's pairs into `run_dir/split.tsv`.
pub(crate) fn write_split(
    run_dir: &Path,
    pair: &MmkgPair,
    task: &AlignmentTask,
) -> Result<(), CheckpointError> {
    let key = |i: u32| pair.key_of_joint(i as usize);
    let mut text = String::from("part\tleft\tright\n");
    for (part, pairs) in [
        ("train", &task.train),
        ("valid", &task.valid),
        ("test", &task.test),
    ] {
        for &(l, r) in pairs {
            text.push_str(&format!("{part}\t{}\t{}\n", key(l), key(r)));
        }
    }
    checkpoint_write(&run_dir.join(SPLIT_FILE), text.as_bytes())
}

/// Reads `run_dir/split.tsv`; `None` for a run folder written before the file existed.
pub fn read_split(run_dir: &Path) -> Result<Option<SplitPairs>, CheckpointError> {
    let path = run_dir.join(SPLIT_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(CheckpointError::Io { path, source }),
    };
    let mut split = SplitPairs::default();
    for (n, line) in text.lines().enumerate().skip(1) {
        let mut fields = line.split('\t');
        let (Some(part), Some(l), Some(r), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(CheckpointError::Record {
                path,
                message: format!("line {}: expected part, left and right", n + 1),
            });
        };
        let target = match part {
            "train" => &mut split.train,
            "valid" => &mut split.valid,
            "test" => &mut split.test,
            other => {
                return Err(CheckpointError::Record {
                    path,
                    message: format!("line {}: unknown part {other:?}", n + 1),
                });
            }
        };
        target.push((l.to_string(), r.to_string()));
    }
    Ok(Some(split))
}
