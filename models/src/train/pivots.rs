//! EVA's unsupervised setting: visual pivots, seed pairs found from images alone.

use std::collections::{BTreeSet, HashMap};

use burn::tensor::{Tensor, backend::Backend};

use super::{AlignmentTask, TrainError};
use crate::eval::{EmbeddingSimilarity, greedy_pairs};
use crate::graph::int_tensor;
use crate::inputs::ModalityKind;
use crate::model::ModelInputs;
use crate::ops::{l2_normalize, to_host};

/// Candidates per left entity: its most image-similar right entities. EVA's code keeps
/// the global best `count x 100` similarities instead; with one-to-one greedy choice the
/// two differ only where an entity's 50 best partners are all taken.
const CANDIDATES_PER_ENTITY: usize = 50;

/// What pivoting found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PivotReport {
    /// Pivot pairs (they replace the split's seed pairs).
    pub pairs: usize,
    /// How many of them are gold pairs (counted, never trained on).
    pub correct: usize,
    /// Left and right entities with a real image (the others cannot be pivots).
    pub with_images: (usize, usize),
}

/// Up to `count` one-to-one pairs of a left and a right entity, both with a real image,
/// chosen greedily by the cosine similarity of their image features (EVA's visual
/// pivots); pairs a person rejected are left out. No gold pair is read except to count,
/// in the report, how many pivots are right.
pub fn visual_pivots<B: Backend>(
    inputs: &ModelInputs<B>,
    task: &AlignmentTask,
    gold: &HashMap<u32, u32>,
    count: usize,
    block_rows: usize,
) -> Result<(Vec<(u32, u32)>, PivotReport), TrainError> {
    let image = inputs
        .modality(ModalityKind::Image)
        .filter(|m| !m.shared)
        .ok_or(TrainError::NoImagesForPivots)?;
    let (_, _, present) = to_host(image.present.clone());
    let with_image = |range: &std::ops::Range<usize>| -> Vec<u32> {
        range
            .clone()
            .filter(|&i| present.get(i).is_some_and(|&p| p > 0.5))
            .map(|i| i as u32)
            .collect()
    };
    let (left, right) = (with_image(&task.left), with_image(&task.right));
    if left.is_empty() || right.is_empty() {
        return Err(TrainError::NoImagesForPivots);
    }
    let unit = l2_normalize(image.values.clone());
    let device = unit.device();
    let rows_of = |ids: &[u32]| -> Tensor<B, 2> {
        unit.clone()
            .select(0, int_tensor::<B>(ids.iter().copied(), &device))
    };
    let mut source = EmbeddingSimilarity::new(rows_of(&left), rows_of(&right), block_rows);
    let rejected: BTreeSet<&(u32, u32)> = task.rejected.iter().collect();
    let pairs: Vec<(u32, u32)> = greedy_pairs(&mut source, CANDIDATES_PER_ENTITY, count)
        .into_iter()
        .map(|(i, j, _)| (left[i], right[j]))
        .filter(|p| !rejected.contains(p))
        .collect();
    let correct = pairs.iter().filter(|(l, r)| gold.get(l) == Some(r)).count();
    let report = PivotReport {
        pairs: pairs.len(),
        correct,
        with_images: (left.len(), right.len()),
    };
    Ok((pairs, report))
}
