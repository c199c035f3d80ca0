//! An entity's ranked candidates in a run, with the per-modality breakdown, modality
//! weights and the standing decision of each pair.

use super::dto::{CandidateDto, CandidatesDto, EntityDto, SideDto};
use super::{Api, ApiResult};
use crate::store::RunId;

impl Api {
    /// The candidates of the entity `key` on `side` in run `run`, best first (empty when
    /// the entity is not a test query of the run).
    pub async fn candidates(
        &self,
        run: RunId,
        side: SideDto,
        key: &str,
    ) -> ApiResult<CandidatesDto> {
        let row = self.run_row(run).await?;
        let query = self.entity_by_key(row.dataset_id, side, key).await?;
        let rows = self
            .store
            .candidates(run, side.number(), query.entity)
            .await?;
        let mut ids: Vec<i64> = rows.iter().map(|c| c.candidate).collect();
        ids.push(query.entity);
        let mut weights = self.store.weights_of(run, &ids).await?;
        let standing = self
            .store
            .standing_decisions_of(row.dataset_id, side.number(), key)
            .await?;
        let other = if side == SideDto::Left {
            SideDto::Right
        } else {
            SideDto::Left
        };
        let columns = |text: &Option<String>| -> Vec<String> {
            text.as_deref()
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or_default()
        };
        let candidates = rows
            .into_iter()
            .map(|c| {
                let pair = if side == SideDto::Left {
                    (key.to_string(), c.key.clone())
                } else {
                    (c.key.clone(), key.to_string())
                };
                CandidateDto {
                    rank: c.rank,
                    weights: weights.get(&c.candidate).cloned(),
                    decision: standing.get(&pair).map(|d| d.verdict),
                    entity: EntityDto {
                        entity: c.candidate,
                        side: other,
                        name: c.name,
                        key: c.key,
                        label: c.label,
                    },
                    score: c.score,
                    is_true: c.is_true,
                    modality_scores: c.modality_scores,
                }
            })
            .collect();
        let similarity = row
            .config
            .as_deref()
            .and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok())
            .and_then(|c| {
                c["train"]["eval"]["similarity"]["kind"]
                    .as_str()
                    .map(String::from)
            });
        Ok(CandidatesDto {
            similarity,
            run,
            query_weights: weights.remove(&query.entity),
            query,
            modalities: columns(&row.similarity_modalities),
            weight_modalities: columns(&row.weight_modalities),
            candidates,
        })
    }
}
