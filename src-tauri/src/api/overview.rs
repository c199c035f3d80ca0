//! A dataset at a glance for the explorer's charts: per graph its sizes, the degree
//! distribution in log2 buckets and how many entities have each modality.

use std::collections::HashSet;

use alignscope_datasets::Side;
use alignscope_datasets::model::KnowledgeGraph;

use super::dto::{CoverageDto, DatasetOverviewDto, DegreeBucketDto, SideOverviewDto};
use super::{Api, ApiResult};
use crate::store::DatasetId;

impl Api {
    /// Sizes, degree distribution and modality coverage of both graphs of a dataset.
    pub async fn dataset_overview(&self, dataset: DatasetId) -> ApiResult<DatasetOverviewDto> {
        let pair = self.loaded_pair(dataset).await?;
        Ok(DatasetOverviewDto {
            dataset,
            sides: Side::BOTH
                .into_iter()
                .map(|side| side_overview(pair.graph(side), side))
                .collect(),
            gold_pairs: pair.gold.len(),
        })
    }
}

/// Relation triples each entity of `graph` takes part in.
pub(crate) fn entity_degrees(graph: &KnowledgeGraph) -> Vec<usize> {
    let mut degrees = vec![0usize; graph.entities.len()];
    for t in &graph.triples {
        for end in [t.head, t.tail] {
            if let Some(d) = degrees.get_mut(end as usize) {
                *d += 1;
            }
        }
    }
    degrees
}

fn side_overview(graph: &KnowledgeGraph, side: Side) -> SideOverviewDto {
    let n = graph.entities.len();
    let degrees = entity_degrees(graph);
    let mut has_attribute = vec![false; n];
    for a in &graph.attributes {
        if let Some(flag) = has_attribute.get_mut(a.entity as usize) {
            *flag = true;
        }
    }
    let relations: HashSet<u32> = graph.triples.iter().map(|t| t.relation).collect();
    SideOverviewDto {
        side: side.into(),
        entities: n,
        triples: graph.triples.len(),
        relations: relations.len(),
        attribute_triples: graph.attributes.len(),
        degree_histogram: degree_histogram(&degrees),
        coverage: CoverageDto {
            with_relations: degrees.iter().filter(|&&d| d > 0).count(),
            with_attributes: has_attribute.iter().filter(|&&a| a).count(),
            with_images: graph
                .images
                .iter()
                .filter(|files| !files.is_empty())
                .count(),
            with_image_features: graph.image_features.as_ref().map_or(0, |f| {
                (0..n as u32).filter(|&i| f.vector(i).is_some()).count()
            }),
        },
    }
}

/// The bucket of a degree: 0 for 0, else 1 + floor(log2(degree)).
pub(crate) fn bucket_of(degree: usize) -> usize {
    if degree == 0 {
        0
    } else {
        degree.ilog2() as usize + 1
    }
}

/// The smallest and largest degree of bucket `b` (see [`bucket_of`]).
pub(crate) fn bucket_bounds(b: usize) -> (usize, usize) {
    match b {
        0 => (0, 0),
        b => (
            1 << (b - 1),
            1usize.checked_shl(b as u32).map_or(usize::MAX, |v| v - 1),
        ),
    }
}

/// Counts per log2 bucket (0, 1, 2–3, 4–7, …), every bucket up to the largest degree's.
pub fn degree_histogram(degrees: &[usize]) -> Vec<DegreeBucketDto> {
    let Some(top) = degrees.iter().copied().max() else {
        return Vec::new();
    };
    let mut buckets: Vec<DegreeBucketDto> = (0..=bucket_of(top))
        .map(|b| {
            let (min_degree, max_degree) = bucket_bounds(b);
            DegreeBucketDto {
                min_degree,
                max_degree,
                entities: 0,
            }
        })
        .collect();
    for &d in degrees {
        buckets[bucket_of(d)].entities += 1;
    }
    buckets
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(min_degree: usize, max_degree: usize, entities: usize) -> DegreeBucketDto {
        DegreeBucketDto {
            min_degree,
            max_degree,
            entities,
        }
    }

    #[test]
    fn buckets_are_powers_of_two_with_empty_ones_kept() {
        let degrees = [0, 0, 1, 2, 3, 4, 7, 8, 20];
        assert_eq!(
            degree_histogram(&degrees),
            vec![
                bucket(0, 0, 2),
                bucket(1, 1, 1),
                bucket(2, 3, 2),
                bucket(4, 7, 2),
                bucket(8, 15, 1),
                bucket(16, 31, 1),
            ]
        );
        let total: usize = degree_histogram(&degrees).iter().map(|b| b.entities).sum();
        assert_eq!(total, degrees.len());
    }

    #[test]
    fn edge_cases() {
        assert!(degree_histogram(&[]).is_empty());
        assert_eq!(degree_histogram(&[0]), vec![bucket(0, 0, 1)]);
        assert_eq!(
            degree_histogram(&[16]),
            vec![
                bucket(0, 0, 0),
                bucket(1, 1, 0),
                bucket(2, 3, 0),
                bucket(4, 7, 0),
                bucket(8, 15, 0),
                bucket(16, 31, 1)
            ]
        );
        // The largest degree a graph can have does not overflow.
        let top = degree_histogram(&[usize::MAX]);
        assert_eq!(top.last().unwrap().min_degree, 1 << (usize::BITS - 1));
    }
}
