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

use crate::backend::GraphBackend;
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

/// The two ranking directions, as exported and stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportDirection {
    /// Left queries, right candidates.
    LeftToRight,
    /// Right queries, left candidates.
    RightToLeft,
}

impl ExportDirection {
    /// The word in the TSV files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LeftToRight => "left_to_right",
            Self::RightToLeft => "right_to_left",
        }
    }

    /// 0 left to right, 1 right to left (the store's column).
    pub fn number(self) -> i64 {
        match self {
            Self::LeftToRight => 0,
            Self::RightToLeft => 1,
        }
    }
}

/// One ranked candidate of a test query (joint entity indices).
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateRecord {
    /// Direction.
    pub direction: ExportDirection,
    /// The query.
    pub query: u32,
    /// 1-based rank.
    pub rank: u32,
    /// The candidate.
    pub candidate: u32,
    /// Its score under the run's similarity.
    pub score: f32,
    /// Whether it is the query's true match.
    pub is_true: bool,
    /// The score columns (the manifest's `score_columns` order).
    pub parts: Vec<f32>,
}

/// The rank of a test pair's true match (joint entity indices).
#[derive(Debug, Clone, PartialEq)]
pub struct RankRecord {
    /// Direction.
    pub direction: ExportDirection,
    /// The query.
    pub query: u32,
    /// Its true match.
    pub true_match: u32,
    /// The true match's rank.
    pub rank: u32,
}

/// Everything exported, in memory: the training job fills the store from this, the
/// files are the run's artifacts.
#[derive(Debug, Clone, PartialEq)]
pub struct Exports {
    /// What was written.
    pub manifest: ExportManifest,
    /// Each test query's best candidates.
    pub candidates: Vec<CandidateRecord>,
    /// Each test query's true-match rank.
    pub ranks: Vec<RankRecord>,
    /// Per-entity modality weights (`N x M`, the manifest's `weight_modalities`).
    pub weights: Option<HostMatrix>,
}

/// Ranks, candidates and their score parts of `evaluation`; the score column names.
fn ranked_tables<B: Backend>(
    explanation: &Explanation<B>,
    evaluation: &Evaluation,
    options: &EvalOptions,
) -> (Vec<String>, Vec<CandidateRecord>, Vec<RankRecord>) {
    let parts = ScoreParts::new(explanation);
    let mut score_columns = parts.names();
    if matches!(options.similarity, Similarity::Csls { .. }) {
        score_columns.push("hub".into());
    }
    score_columns.extend(parts.occlusion_names());
    let directions: [(ExportDirection, &DirectionResult, &DirectionResult); 2] = [
        (
            ExportDirection::LeftToRight,
            &evaluation.left_to_right,
            &evaluation.right_to_left,
        ),
        (
            ExportDirection::RightToLeft,
            &evaluation.right_to_left,
            &evaluation.left_to_right,
        ),
    ];
    let (mut candidates, mut ranks) = (Vec::new(), Vec::new());
    for (direction, result, other) in directions {
        for (q, &query) in result.queries.iter().enumerate() {
            // The pairs are aligned by position: query q's true match is the other
            // direction's query q.
            let truth = other.queries[q];
            ranks.push(RankRecord {
                direction,
                query,
                true_match: truth,
                rank: result.ranking.ranks[q],
            });
            for (r, &(position, score)) in result.ranking.top[q].iter().enumerate() {
                let candidate = result.candidates[position as usize];
                let shares = parts.shares(query, candidate);
                let mut values = shares.clone();
                if let Some((query_hubs, candidate_hubs)) = &result.ranking.hubness {
                    let cosine: f32 = shares.iter().sum();
                    values.push(cosine - query_hubs[q] - candidate_hubs[position as usize]);
                }
                values.extend(parts.occlusions(query, candidate));
                candidates.push(CandidateRecord {
                    direction,
                    query,
                    rank: r as u32 + 1,
                    candidate,
                    score,
                    is_true: candidate == truth,
                    parts: values,
                });
            }
        }
    }
    (score_columns, candidates, ranks)
}

/// `candidates.tsv` and `ranks.tsv` of the tables, entities by key.
fn tables_as_tsv(
    pair: &MmkgPair,
    score_columns: &[String],
    candidates: &[CandidateRecord],
    ranks: &[RankRecord],
) -> (String, String) {
    let key = |i: u32| pair.key_of_joint(i as usize);
    let mut candidate_text = String::from("direction\tquery\trank\tcandidate\tscore\tis_true");
    for name in score_columns {
        write!(candidate_text, "\t{name}").expect("writing to a String");
    }
    candidate_text.push('\n');
    for c in candidates {
        write!(
            candidate_text,
            "{}\t{}\t{}\t{}\t{}\t{}",
            c.direction.as_str(),
            key(c.query),
            c.rank,
            key(c.candidate),
            c.score,
            u8::from(c.is_true)
        )
        .expect("writing to a String");
        for v in &c.parts {
            write!(candidate_text, "\t{v}").expect("writing to a String");
        }
        candidate_text.push('\n');
    }
    let mut rank_text = String::from("direction\tquery\ttrue_match\trank\n");
    for r in ranks {
        writeln!(
            rank_text,
            "{}\t{}\t{}\t{}",
            r.direction.as_str(),
            key(r.query),
            key(r.true_match),
            r.rank
        )
        .expect("writing to a String");
    }
    (candidate_text, rank_text)
}

/// Writes the exports of `explanation` and `evaluation` (made with `options`) into `dir`
/// and returns them.
pub fn export<B: GraphBackend>(
    dir: &Path,
    pair: &MmkgPair,
    explanation: &Explanation<B>,
    evaluation: &Evaluation,
    options: &EvalOptions,
) -> Result<Exports, CheckpointError> {
    std::fs::create_dir_all(dir).map_err(|source| CheckpointError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let (score_columns, candidates, ranks) = ranked_tables(explanation, evaluation, options);
    let top_k = candidates
        .iter()
        .map(|c| c.rank as usize)
        .max()
        .unwrap_or(0);
    let (candidate_text, rank_text) = tables_as_tsv(pair, &score_columns, &candidates, &ranks);
    write_atomically(&dir.join("candidates.tsv"), candidate_text.as_bytes())?;
    write_atomically(&dir.join("ranks.tsv"), rank_text.as_bytes())?;
    let mut weight_modalities = Vec::new();
    let mut weights = None;
    if let Some(tensor) = &explanation.weights {
        let (rows, cols, data) = to_host(tensor.clone());
        let mut bytes = Vec::new();
        let matrix = NpyMatrix { rows, cols, data };
        write_npy_matrix(&mut bytes, &matrix).expect("writing to memory");
        write_atomically(&dir.join("modality_weights.npy"), &bytes)?;
        weight_modalities = explanation.weight_modalities.clone();
        weights = Some((matrix.rows, matrix.cols, matrix.data));
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
    Ok(Exports {
        manifest,
        candidates,
        ranks,
        weights,
    })
}

/// The test metrics of `unit` under cosine and CSLS: `evaluation` already holds the one
/// the run ranks by; the other is computed on the same test pairs.
fn both_similarities<B: GraphBackend>(
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
