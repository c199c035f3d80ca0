//! Corpus views of a run: where it fails (H@1 by degree and by modality availability),
//! its hub candidates, its metrics under both similarities, and its embeddings on a plane.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use alignscope_datasets::MmkgPair;
use alignscope_datasets::model::KnowledgeGraph;
use alignscope_datasets::npy::read_npy_matrix;

use super::datasets::joint_entity_dto;
use super::dto::{HitsGroupDto, HubDto, ModalityHitsDto, ProjectionDto, RunAnalysisDto};
use super::overview::{bucket_bounds, bucket_of, entity_degrees};
use super::{Api, ApiError, ApiResult, ErrorCode};
use crate::store::{RunId, RunRow};

/// Hubs listed at most.
const HUBS: usize = 25;

impl Api {
    /// Where run `run` succeeds and fails over its left-to-right test queries.
    pub async fn run_analysis(&self, run: RunId) -> ApiResult<RunAnalysisDto> {
        let row = self.run_row(run).await?;
        let pair = self.loaded_pair(row.dataset_id).await?;
        // (query, ranked right at the top) for every left-to-right test query.
        let outcomes: Vec<(usize, bool)> = self
            .store
            .ranks(run)
            .await?
            .into_iter()
            .filter(|r| r.direction == 0)
            .filter_map(|r| usize::try_from(r.query).ok().map(|q| (q, r.rank == 1)))
            .filter(|(q, _)| *q < pair.left.entities.len())
            .collect();
        let top = self.store.top_two(run, 0).await?;
        let similarity_metrics =
            match std::fs::read(self.exports_of(&row).join("similarity_metrics.json")) {
                Ok(bytes) => Some(serde_json::from_slice(&bytes).map_err(|e| {
                    ApiError::invalid(format!(
                        "run {run}'s similarity_metrics.json is unreadable: {e}"
                    ))
                })?),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(ApiError::new(ErrorCode::Io, e.to_string())),
            };
        Ok(RunAnalysisDto {
            similarity_metrics,
            by_degree: hits_by_degree(&pair.left, &outcomes),
            by_modality: hits_by_modality(&pair.left, &outcomes),
            hubs: hubs(&pair, &top, &self.store.ranks(run).await?),
        })
    }

    /// Run `run`'s test entities on the first two principal components of its final
    /// embeddings (`exports/projection.npy`).
    pub async fn run_projection(&self, run: RunId) -> ApiResult<ProjectionDto> {
        let row = self.run_row(run).await?;
        let path = self.exports_of(&row).join("projection.npy");
        let bytes = std::fs::read(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                ApiError::not_found(format!(
                    "run {run} has no projection: it was trained before AlignScope wrote one ({} is missing); train it again to get one",
                    path.display()
                ))
            } else {
                ApiError::new(ErrorCode::Io, format!("{}: {e}", path.display()))
            }
        })?;
        let matrix = read_npy_matrix(&bytes)
            .map_err(|e| ApiError::invalid(format!("{}: {e}", path.display())))?;
        let pair = self.loaded_pair(row.dataset_id).await?;
        if matrix.cols != 2 || matrix.rows != pair.entity_count() {
            return Err(ApiError::invalid(format!(
                "{} is {}x{}, not {}x2 (one row per entity of the dataset)",
                path.display(),
                matrix.rows,
                matrix.cols,
                pair.entity_count()
            )));
        }
        let mut out = ProjectionDto {
            x: Vec::new(),
            y: Vec::new(),
            key: Vec::new(),
            label: Vec::new(),
            kind: Vec::new(),
        };
        for r in self.store.ranks(run).await? {
            let (entity, kind) = match r.direction {
                0 => (r.query, u8::from(r.rank != 1)),
                _ => (r.query, 2),
            };
            let Some(e) = joint_entity_dto(&pair, entity) else {
                continue;
            };
            let at = entity as usize * 2;
            out.x.push(matrix.data[at]);
            out.y.push(matrix.data[at + 1]);
            out.key.push(e.key);
            out.label.push(e.label);
            out.kind.push(kind);
        }
        Ok(out)
    }

    pub(super) fn exports_of(&self, row: &RunRow) -> PathBuf {
        self.data_dir.run_folder(row).join("exports")
    }
}

fn group(label: String, members: impl Iterator<Item = bool>) -> HitsGroupDto {
    let (mut queries, mut hits_at_1) = (0, 0);
    for right in members {
        queries += 1;
        hits_at_1 += usize::from(right);
    }
    HitsGroupDto {
        label,
        queries,
        hits_at_1,
    }
}

/// H@1 per log2 degree bucket of the query, from bucket 0 to the largest one used.
fn hits_by_degree(left: &KnowledgeGraph, outcomes: &[(usize, bool)]) -> Vec<HitsGroupDto> {
    let degrees = entity_degrees(left);
    let bucket = |q: usize| bucket_of(degrees[q]);
    let Some(last) = outcomes.iter().map(|&(q, _)| bucket(q)).max() else {
        return Vec::new();
    };
    (0..=last)
        .map(|b| {
            let (min, max) = bucket_bounds(b);
            let label = if min == max {
                min.to_string()
            } else {
                format!("{min}–{max}")
            };
            group(
                label,
                outcomes
                    .iter()
                    .filter(|&&(q, _)| bucket(q) == b)
                    .map(|&(_, right)| right),
            )
        })
        .collect()
}

/// H@1 of queries with and without relations, attributes and an image.
fn hits_by_modality(left: &KnowledgeGraph, outcomes: &[(usize, bool)]) -> Vec<ModalityHitsDto> {
    let degrees = entity_degrees(left);
    let attributed: HashSet<u32> = left.attributes.iter().map(|a| a.entity).collect();
    let has_image = |q: usize| {
        left.images.get(q).is_some_and(|files| !files.is_empty())
            || left
                .image_features
                .as_ref()
                .is_some_and(|f| f.vector(q as u32).is_some())
    };
    let split = |modality: &str, has: &dyn Fn(usize) -> bool| ModalityHitsDto {
        modality: modality.to_string(),
        with: group(
            format!("with {modality}"),
            outcomes.iter().filter(|&&(q, _)| has(q)).map(|&(_, r)| r),
        ),
        without: group(
            format!("without {modality}"),
            outcomes.iter().filter(|&&(q, _)| !has(q)).map(|&(_, r)| r),
        ),
    };
    vec![
        split("relations", &|q| degrees[q] > 0),
        split("attributes", &|q| attributed.contains(&(q as u32))),
        split("image", &has_image),
    ]
}

/// Right entities that are the top-1 of two or more left queries, most first.
fn hubs(
    pair: &MmkgPair,
    top: &[crate::store::TopTwoRow],
    ranks: &[crate::store::RankRow],
) -> Vec<HubDto> {
    let mut counts: HashMap<i64, (usize, bool)> = HashMap::new();
    let truth: HashMap<i64, i64> = ranks
        .iter()
        .filter(|r| r.direction == 0)
        .map(|r| (r.query, r.truth))
        .collect();
    for (q, c, ..) in top {
        let entry = counts.entry(*c).or_default();
        entry.0 += 1;
        entry.1 |= truth.get(q) == Some(c);
    }
    let mut hubs: Vec<(i64, usize, bool)> = counts
        .into_iter()
        .filter(|(_, (n, _))| *n >= 2)
        .map(|(c, (n, t))| (c, n, t))
        .collect();
    hubs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    hubs.into_iter()
        .take(HUBS)
        .filter_map(|(c, n, t)| {
            Some(HubDto {
                entity: joint_entity_dto(pair, c)?,
                top1_of: n,
                has_true_match: t,
            })
        })
        .collect()
}
