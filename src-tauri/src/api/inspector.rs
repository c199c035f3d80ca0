//! The alignment inspector's per-run views: a run's training pairs, its test queries
//! sorted for picking one, and the context of one candidate pair (both neighbourhoods
//! and the alignments that link them).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use alignscope_datasets::{Side, SplitSpec, split_gold};

use super::datasets::joint_entity_dto;
use super::dto::{
    AlignedLinkDto, LinkKind, PairContextDto, QueryOrder, RunQueryDto, SideDto, StartRunRequest,
};
use super::{Api, ApiError, ApiResult};
use crate::store::{PairKey, RunId, RunRow, Verdict, replay};

/// Neighbours drawn around each side of a pair: enough to show shared structure, few
/// enough to read.
const PAIR_NEIGHBOURS: usize = 24;

/// Entities checked per store call when listing queries by degree.
const DEGREE_BATCH: usize = 2_000;

/// Runs whose training pairs are kept computed (the inspector and a comparison use two).
const KEPT_TRAINING_SETS: usize = 4;

/// A run's training pairs, kept with the stored request and config they came from: a
/// row that changed (or an id used again) is computed afresh.
pub(super) struct TrainingSet {
    run: RunId,
    request: String,
    config: Option<String>,
    pairs: Arc<BTreeSet<PairKey>>,
}

/// The most recently used runs' training pairs, newest last.
pub(super) type TrainingSets = Vec<TrainingSet>;

impl Api {
    /// The pairs run `run` trained on (left key, right key): the seeds it was given, or
    /// else the training part of its gold split. Kept for the last few runs: the split
    /// costs tens of milliseconds on a DBP15K pair, and the pair view asks per pair.
    pub async fn training_pairs(&self, run: RunId) -> ApiResult<Arc<BTreeSet<PairKey>>> {
        let row = self.run_row(run).await?;
        let kept =
            |t: &TrainingSet| t.run == run && t.request == row.request && t.config == row.config;
        if let Some(t) = self
            .training_sets
            .lock()
            .expect("training sets")
            .iter()
            .find(|t| kept(t))
        {
            return Ok(t.pairs.clone());
        }
        let pairs = Arc::new(self.compute_training_pairs(&row).await?);
        let mut sets = self.training_sets.lock().expect("training sets");
        sets.retain(|t| t.run != run);
        sets.push(TrainingSet {
            run,
            request: row.request.clone(),
            config: row.config.clone(),
            pairs: pairs.clone(),
        });
        let excess = sets.len().saturating_sub(KEPT_TRAINING_SETS);
        sets.drain(..excess);
        Ok(pairs)
    }

    async fn compute_training_pairs(&self, row: &RunRow) -> ApiResult<BTreeSet<PairKey>> {
        let run = row.id;
        let request: StartRunRequest = serde_json::from_str(&row.request).map_err(|e| {
            ApiError::invalid(format!("run {run} has an unreadable stored request: {e}"))
        })?;
        if let Some(seeds) = request.seeds {
            return Ok(seeds.into_iter().collect());
        }
        let dir = self.data_dir.run_folder(row);
        if let Some(split) = alignscope_models::run::read_split(&dir)
            .map_err(|e| ApiError::invalid(format!("run {run}'s split file cannot be read: {e}")))?
        {
            return Ok(split.train.into_iter().collect());
        }
        // A run folder from before `split.tsv`: draw its split again from the stored
        // ratios and seed.
        let config: serde_json::Value = row
            .config
            .as_deref()
            .and_then(|c| serde_json::from_str(c).ok())
            .ok_or_else(|| {
                ApiError::conflict(format!("run {run} has not started; no training pairs yet"))
            })?;
        let split = &config["split"];
        let field = |name: &str| {
            split[name].as_f64().ok_or_else(|| {
                ApiError::invalid(format!("run {run}'s stored config has no split.{name}"))
            })
        };
        let spec = SplitSpec {
            train_ratio: field("train_ratio")?,
            valid_ratio: field("valid_ratio")?,
            seed: split["seed"].as_u64().unwrap_or(row.seed as u64),
        };
        let pair = self.loaded_pair(row.dataset_id).await?;
        let split = split_gold(&pair, spec).map_err(|e| ApiError::invalid(e.to_string()))?;
        let key = |side: Side, i: u32| pair.graph(side).entities[i as usize].key.clone();
        Ok(split
            .train
            .iter()
            .map(|p| (key(Side::Left, p.left), key(Side::Right, p.right)))
            .collect())
    }

    /// Up to `limit` left-to-right test queries of run `run` with their top-1, sorted by
    /// `order`.
    pub async fn run_queries(
        &self,
        run: RunId,
        order: QueryOrder,
        limit: usize,
    ) -> ApiResult<Vec<RunQueryDto>> {
        let row = self.run_row(run).await?;
        let pair = self.loaded_pair(row.dataset_id).await?;
        let mut degree = vec![0usize; pair.left.entities.len()];
        for t in &pair.left.triples {
            degree[t.head as usize] += 1;
            degree[t.tail as usize] += 1;
        }
        let degree_of = |q: i64| degree.get(q as usize).copied().unwrap_or(0);
        // Only the `limit` queries shown are read: a run at a million entities has
        // hundreds of thousands (the store's indexes give the first by confidence and by
        // error; by degree, the best connected entities are checked in turn).
        let wanted = i64::try_from(limit).unwrap_or(i64::MAX);
        let (queries, mut top) = match order {
            QueryOrder::Confidence => {
                let queries = self.store.least_confident_queries(run, 0, wanted).await?;
                let top = self.store.top_two_of(run, 0, &queries).await?;
                (queries, top)
            }
            QueryOrder::Error => {
                let queries = self.store.worst_ranked_queries(run, 0, wanted).await?;
                let top = self.store.top_two_of(run, 0, &queries).await?;
                (queries, top)
            }
            QueryOrder::Degree => {
                let mut by_degree: Vec<u32> = (0..pair.left.entities.len() as u32).collect();
                by_degree.sort_unstable_by_key(|&e| (std::cmp::Reverse(degree[e as usize]), e));
                let mut top = Vec::new();
                for batch in by_degree.chunks(DEGREE_BATCH) {
                    let batch: Vec<i64> = batch.iter().map(|&e| i64::from(e)).collect();
                    top.extend(self.store.top_two_of(run, 0, &batch).await?);
                    if top.len() >= limit {
                        break;
                    }
                }
                top.sort_by_key(|t| (std::cmp::Reverse(degree_of(t.0)), t.0));
                top.truncate(limit);
                (top.iter().map(|t| t.0).collect(), top)
            }
        };
        let position: HashMap<i64, usize> =
            queries.iter().enumerate().map(|(i, &q)| (q, i)).collect();
        top.sort_by_key(|t| position.get(&t.0).copied().unwrap_or(usize::MAX));
        let true_rank: HashMap<i64, i64> = self
            .store
            .ranks_of(run, 0, &queries)
            .await?
            .into_iter()
            .collect();
        let standing = replay(&self.store.decision_history(row.dataset_id).await?);
        Ok(top
            .into_iter()
            .filter_map(|(q, c, score, _, score2)| {
                let entity = joint_entity_dto(&pair, q)?;
                let top1 = joint_entity_dto(&pair, c)?;
                let decision = standing
                    .get(&(entity.key.clone(), top1.key.clone()))
                    .map(|d| d.verdict);
                Some(RunQueryDto {
                    degree: degree_of(q),
                    true_rank: true_rank.get(&q).copied(),
                    margin: score2.map(|s2| score - s2),
                    entity,
                    top1,
                    score,
                    decision,
                })
            })
            .collect())
    }

    /// The neighbourhoods of `left` and `right` in run `run`'s dataset and the aligned
    /// pairs among their nodes: training pairs, accepted decisions, and mutual top-1s.
    pub async fn pair_context(
        &self,
        run: RunId,
        left: &str,
        right: &str,
    ) -> ApiResult<PairContextDto> {
        let row = self.run_row(run).await?;
        let dataset = row.dataset_id;
        let left = self
            .neighbourhood(dataset, SideDto::Left, left, 1, PAIR_NEIGHBOURS)
            .await?;
        let right = self
            .neighbourhood(dataset, SideDto::Right, right, 1, PAIR_NEIGHBOURS)
            .await?;
        let nodes = |n: &super::dto::NeighbourhoodDto| -> Vec<(i64, String)> {
            std::iter::once(&n.center)
                .chain(n.nodes.iter().map(|node| &node.entity))
                .map(|e| (e.entity, e.key.clone()))
                .collect()
        };
        let (left_nodes, right_nodes) = (nodes(&left), nodes(&right));
        let seeds = self.training_pairs(run).await.unwrap_or_default();
        let accepted: BTreeSet<PairKey> = replay(&self.store.decision_history(dataset).await?)
            .into_iter()
            .filter(|(_, d)| d.verdict == Verdict::Accept)
            .map(|(k, _)| k)
            .collect();
        let ids = |nodes: &[(i64, String)]| nodes.iter().map(|(e, _)| *e).collect::<Vec<_>>();
        let forward = self.store.top1_of(run, 0, &ids(&left_nodes)).await?;
        let backward = self.store.top1_of(run, 1, &ids(&right_nodes)).await?;
        let mut links = Vec::new();
        for (l, l_key) in &left_nodes {
            for (r, r_key) in &right_nodes {
                let key = (l_key.clone(), r_key.clone());
                let kind = if seeds.contains(&key) {
                    LinkKind::Seed
                } else if accepted.contains(&key) {
                    LinkKind::Accepted
                } else if forward.get(l) == Some(r) && backward.get(r) == Some(l) {
                    LinkKind::MutualTop1
                } else {
                    continue;
                };
                links.push(AlignedLinkDto {
                    left: *l,
                    right: *r,
                    kind,
                });
            }
        }
        Ok(PairContextDto { left, right, links })
    }
}
