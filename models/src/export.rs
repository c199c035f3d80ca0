//! Compact files for the inspector: each query's best candidates with their score split
//! exactly into parts, the rank of every true match, and per-entity modality weights.
//!
//! A candidate's parts (`candidates.tsv`, after `is_true`, columns named in the manifest's
//! `score_columns`): `part:<modality or stream>` — the cosine of the unit-normalised final
//! embeddings summed over the columns of that origin ([`ScoreBlock`]), so the parts add up
//! to the cosine; `hub` under CSLS — `cos - r_q - r_c`, the hubness correction, so parts
//! plus `hub` are the ranking score `2 cos - r_q - r_c`; and for models whose blocks mix
//! modalities, `occlusion:<modality>` — how much the cosine drops when that modality is
//! replaced as the model treats a missing one (an attribution, not a part of the sum).
//!
//! Under `<run>/exports/`: `candidates.tsv`, `ranks.tsv`, `modality_weights.npy`
//! (`N x M` float32, joint entity index, columns as `manifest.json` names them),
//! `projection.npy` (`N x 2`: the unit-normalised final embeddings on their first two
//! principal components), `similarity_metrics.json` (the test metrics under cosine and
//! under CSLS, whichever the run ranks by) and `manifest.json`. Every file is written
//! through a temporary file and a rename.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use alignscope_datasets::MmkgPair;
use alignscope_datasets::npy::{NpyMatrix, write_npy_matrix};
use burn::tensor::backend::Backend;
use serde::{Deserialize, Serialize};

use crate::eval::{
    AlignmentMetrics, DirectionResult, EvalOptions, Evaluation, Similarity, evaluate,
};
use crate::inputs::ModalityKind;
use crate::model::Explanation;
use crate::ops::{l2_normalize, to_host};
use crate::projection::principal_plane;
use crate::train::CheckpointError;
use crate::train::checkpoint_write as write_atomically;

/// A host matrix: rows, columns, row-major values.
type HostMatrix = (usize, usize, Vec<f32>);

/// What was exported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportManifest {
    /// Entities (rows of the weight matrix): left graph first.
    pub entities: usize,
    /// Left-graph entities.
    pub left_entities: usize,
    /// Columns of `modality_weights.npy`, if written.
    pub weight_modalities: Vec<ModalityKind>,
    /// The score columns of `candidates.tsv` after `is_true` (see the module docs; runs
    /// exported before the exact parts have one cosine per modality here).
    #[serde(alias = "similarity_modalities")]
    pub score_columns: Vec<String>,
    /// Candidates kept per query.
    pub top_k: usize,
    /// Whether `projection.npy` was written.
    #[serde(default)]
    pub projection: bool,
    /// Whether `similarity_metrics.json` was written.
    #[serde(default)]
    pub similarity_metrics: bool,
}

/// The test metrics of one set of embeddings under both similarities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimilarityMetrics {
    /// Ranked by cosine.
    pub cosine: AlignmentMetrics,
    /// Ranked by CSLS with the run's neighbourhood size (3 unless configured).
    pub csls: AlignmentMetrics,
}

/// Writes the exports of `explanation` and `evaluation` (made with `options`) into `dir`.
pub fn export<B: Backend>(
    dir: &Path,
    pair: &MmkgPair,
    explanation: &Explanation<B>,
    evaluation: &Evaluation,
    options: &EvalOptions,
) -> Result<ExportManifest, CheckpointError> {
    std::fs::create_dir_all(dir).map_err(|source| CheckpointError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let key = |i: u32| pair.key_of_joint(i as usize);
    let parts = ScoreParts::new(explanation);
    let mut candidates = String::from("direction\tquery\trank\tcandidate\tscore\tis_true");
    let mut score_columns = parts.names();
    let csls = matches!(options.similarity, Similarity::Csls { .. });
    if csls {
        score_columns.push("hub".into());
    }
    score_columns.extend(parts.occlusion_names());
    for name in &score_columns {
        write!(candidates, "\t{name}").expect("writing to a String");
    }
    candidates.push('\n');
    let mut ranks = String::from("direction\tquery\ttrue_match\trank\n");
    let directions: [(&str, &DirectionResult, &DirectionResult); 2] = [
        (
            "left_to_right",
            &evaluation.left_to_right,
            &evaluation.right_to_left,
        ),
        (
            "right_to_left",
            &evaluation.right_to_left,
            &evaluation.left_to_right,
        ),
    ];
    let mut top_k = 0;
    for (name, result, other) in directions {
        for (q, &query) in result.queries.iter().enumerate() {
            // The pairs are aligned by position: query q's true match is the other
            // direction's query q.
            let truth = other.queries[q];
            writeln!(
                ranks,
                "{name}\t{}\t{}\t{}",
                key(query),
                key(truth),
                result.ranking.ranks[q]
            )
            .expect("writing to a String");
            for (r, &(position, score)) in result.ranking.top[q].iter().enumerate() {
                top_k = top_k.max(r + 1);
                let candidate = result.candidates[position as usize];
                write!(
                    candidates,
                    "{name}\t{}\t{}\t{}\t{score}\t{}",
                    key(query),
                    r + 1,
                    key(candidate),
                    u8::from(candidate == truth)
                )
                .expect("writing to a String");
                let shares = parts.shares(query, candidate);
                let mut values = shares.clone();
                if let Some((query_hubs, candidate_hubs)) = &result.ranking.hubness {
                    let cosine: f32 = shares.iter().sum();
                    values.push(cosine - query_hubs[q] - candidate_hubs[position as usize]);
                }
                values.extend(parts.occlusions(query, candidate));
                for v in values {
                    write!(candidates, "\t{v}").expect("writing to a String");
                }
                candidates.push('\n');
            }
        }
    }
    write_atomically(&dir.join("candidates.tsv"), candidates.as_bytes())?;
    write_atomically(&dir.join("ranks.tsv"), ranks.as_bytes())?;
    let mut weight_modalities = Vec::new();
    if let Some(weights) = &explanation.weights {
        let (rows, cols, data) = to_host(weights.clone());
        let mut bytes = Vec::new();
        write_npy_matrix(&mut bytes, &NpyMatrix { rows, cols, data }).expect("writing to memory");
        write_atomically(&dir.join("modality_weights.npy"), &bytes)?;
        weight_modalities = explanation.weight_modalities.clone();
    }
    let unit = l2_normalize(explanation.joint.clone());
    let points: Vec<f32> = principal_plane(unit.clone())
        .into_iter()
        .flatten()
        .collect();
    let mut bytes = Vec::new();
    write_npy_matrix(
        &mut bytes,
        &NpyMatrix {
            rows: points.len() / 2,
            cols: 2,
            data: points,
        },
    )
    .expect("writing to memory");
    write_atomically(&dir.join("projection.npy"), &bytes)?;
    let metrics = both_similarities(&unit, pair, evaluation, options);
    let json = serde_json::to_vec_pretty(&metrics).expect("metrics serialise");
    write_atomically(&dir.join("similarity_metrics.json"), &json)?;
    let manifest = ExportManifest {
        entities: pair.entity_count(),
        left_entities: pair.left.entities.len(),
        weight_modalities,
        score_columns,
        top_k,
        projection: true,
        similarity_metrics: true,
    };
    let json = serde_json::to_vec_pretty(&manifest).expect("the manifest serialises");
    write_atomically(&dir.join("manifest.json"), &json)?;
    Ok(manifest)
}

/// The test metrics of `unit` under cosine and CSLS: `evaluation` already holds the one
/// the run ranks by; the other is computed on the same test pairs.
fn both_similarities<B: Backend>(
    unit: &burn::tensor::Tensor<B, 2>,
    pair: &MmkgPair,
    evaluation: &Evaluation,
    options: &EvalOptions,
) -> SimilarityMetrics {
    let pairs: Vec<(u32, u32)> = evaluation
        .left_to_right
        .queries
        .iter()
        .copied()
        .zip(evaluation.right_to_left.queries.iter().copied())
        .collect();
    let nl = pair.left.entities.len();
    let other = |similarity: Similarity| {
        let options = EvalOptions {
            similarity,
            top_k: 1,
            ..options.clone()
        };
        evaluate(unit, &pairs, 0..nl, nl..pair.entity_count(), &options).metrics
    };
    match options.similarity {
        Similarity::Cosine => SimilarityMetrics {
            cosine: evaluation.metrics,
            csls: other(Similarity::Csls { k: 3 }),
        },
        Similarity::Csls { .. } => SimilarityMetrics {
            cosine: other(Similarity::Cosine),
            csls: evaluation.metrics,
        },
    }
}

/// The exports folder of a run.
pub fn exports_dir(run_dir: &Path) -> PathBuf {
    run_dir.join("exports")
}

/// The exact parts of candidates' scores, on the host: the unit-normalised final
/// embeddings, their blocks grouped by origin, and the occluded embeddings.
struct ScoreParts {
    unit: HostMatrix,
    /// Per group: its name and its column ranges.
    groups: Vec<(String, Vec<std::ops::Range<usize>>)>,
    occluded: Vec<(ModalityKind, HostMatrix)>,
}

impl ScoreParts {
    fn new<B: Backend>(explanation: &Explanation<B>) -> Self {
        let mut groups: Vec<(String, Vec<std::ops::Range<usize>>)> = Vec::new();
        for block in &explanation.blocks {
            let name = match block.modality {
                Some(m) => format!("part:{}", m.as_str()),
                None => format!("part:{}", block.label),
            };
            match groups.iter_mut().find(|(n, _)| *n == name) {
                Some((_, ranges)) => ranges.push(block.columns.clone()),
                None => groups.push((name, vec![block.columns.clone()])),
            }
        }
        Self {
            unit: to_host(l2_normalize(explanation.joint.clone())),
            groups,
            occluded: explanation
                .occluded
                .iter()
                .map(|(k, t)| (*k, to_host(l2_normalize(t.clone()))))
                .collect(),
        }
    }

    fn names(&self) -> Vec<String> {
        self.groups.iter().map(|(n, _)| n.clone()).collect()
    }

    fn occlusion_names(&self) -> Vec<String> {
        self.occluded
            .iter()
            .map(|(k, _)| format!("occlusion:{}", k.as_str()))
            .collect()
    }

    fn row(m: &HostMatrix, i: u32) -> &[f32] {
        let d = m.1;
        &m.2[i as usize * d..(i as usize + 1) * d]
    }

    /// Each group's share of the cosine of `a` and `b` (the shares sum to the cosine).
    fn shares(&self, a: u32, b: u32) -> Vec<f32> {
        let (x, y) = (Self::row(&self.unit, a), Self::row(&self.unit, b));
        self.groups
            .iter()
            .map(|(_, ranges)| {
                ranges
                    .iter()
                    .flat_map(|r| x[r.clone()].iter().zip(&y[r.clone()]))
                    .map(|(p, q)| p * q)
                    .sum()
            })
            .collect()
    }

    /// Per occluded modality, how much the cosine of `a` and `b` drops without it.
    fn occlusions(&self, a: u32, b: u32) -> Vec<f32> {
        let cosine = |m: &HostMatrix| -> f32 {
            Self::row(m, a)
                .iter()
                .zip(Self::row(m, b))
                .map(|(p, q)| p * q)
                .sum()
        };
        let full = cosine(&self.unit);
        self.occluded
            .iter()
            .map(|(_, m)| full - cosine(m))
            .collect()
    }
}
