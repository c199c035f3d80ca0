//! Datasets: import with validation, list, inspect, entity search, entity detail.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use alignscope_datasets::model::Entity;
use alignscope_datasets::{LoadOptions, MmkgPair, Side, dataset_stats, fingerprint, load};

use super::dto::{
    AttributeDto, DatasetDto, EntityDetailDto, EntityDto, ImportRequest, ImportedDataset,
    RelationDto, SideDto,
};
use super::{Api, ApiError, ApiResult};
use crate::image_features::needs_encoding;
use crate::store::{DatasetId, DatasetRow, EntityRow, NewDataset, NewEntity};
use crate::text_features::needs_text_encoding;

/// Relations and neighbours listed in an entity's detail at most.
const DETAIL_CAP: usize = 200;

impl From<EntityRow> for EntityDto {
    fn from(r: EntityRow) -> Self {
        Self {
            entity: r.entity,
            side: SideDto::from_number(r.side),
            key: r.key,
            name: r.name,
            label: r.label,
        }
    }
}

pub(crate) fn dataset_dto(row: DatasetRow) -> DatasetDto {
    DatasetDto {
        id: row.id,
        name: row.name,
        source_path: row.source_path,
        format: row.format,
        fingerprint: row.fingerprint,
        statistics: serde_json::from_str(&row.statistics).unwrap_or(serde_json::Value::Null),
        created_at: row.created_at,
        removed_at: row.removed_at,
    }
}

/// The entity `index` of graph `side` (an index of that graph: callers take it from the
/// graph's own triples or look-ups).
pub(crate) fn entity_dto(pair: &MmkgPair, side: Side, index: u32) -> EntityDto {
    let e: &Entity = &pair.graph(side).entities[index as usize];
    EntityDto {
        entity: pair.joint_index(side, index) as i64,
        side: side.into(),
        key: e.key.clone(),
        name: e.name.clone(),
        label: e.label(),
    }
}

/// The entity with joint index `joint` (left entities first, then right ones), if any.
pub(crate) fn joint_entity_dto(pair: &MmkgPair, joint: i64) -> Option<EntityDto> {
    let left = pair.left.entities.len() as i64;
    let right = pair.right.entities.len() as i64;
    match joint {
        j if (0..left).contains(&j) => Some(entity_dto(pair, Side::Left, j as u32)),
        j if (left..left + right).contains(&j) => {
            Some(entity_dto(pair, Side::Right, (j - left) as u32))
        }
        _ => None,
    }
}

/// The entity rows of `pair` for the store.
fn new_entities(pair: &MmkgPair) -> Vec<NewEntity> {
    let mut entities = Vec::with_capacity(pair.entity_count());
    for side in Side::BOTH {
        for (i, e) in pair.graph(side).entities.iter().enumerate() {
            entities.push(NewEntity {
                entity: pair.joint_index(side, i as u32) as i64,
                side: i64::from(side == Side::Right),
                key: e.key.clone(),
                name: e.name.clone(),
                label: e.label(),
            });
        }
    }
    entities
}

pub(crate) fn canonical(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .to_string_lossy()
        .into_owned()
}

impl Api {
    /// Reads and validates a dataset folder and registers it (idempotent: the same
    /// folder with the same content gives the same dataset).
    pub async fn import_dataset(&self, request: ImportRequest) -> ApiResult<ImportedDataset> {
        let format = match &request.format {
            Some(f) => Some(f.parse().map_err(ApiError::from)?),
            None => None,
        };
        // Read from the absolute path: the pair kept loaded then names its image files
        // the way a later load from the stored (absolute) path does, whatever the
        // current directory of whoever asks for them.
        let source_path = canonical(&request.path);
        let options = LoadOptions {
            format,
            image_features: request
                .image_features
                .as_deref()
                .map(|p| PathBuf::from(canonical(p))),
            derived_features: None,
        };
        let path = PathBuf::from(&source_path);
        let loaded = tokio::task::spawn_blocking(move || load(&path, &options))
            .await
            .map_err(|e| ApiError::invalid(format!("loading stopped: {e}")))??;
        let pair = loaded.pair;
        let print = fingerprint(&pair)?;
        let warnings = loaded.warnings.iter().map(|w| w.to_string()).collect();
        if let Some(row) = self.store.find_dataset(&print, &source_path).await? {
            if row.removed_at.is_some() {
                self.store
                    .restore_dataset(row.id, &new_entities(&pair))
                    .await?;
            }
            let row = self.dataset_row(row.id).await?;
            let known = self.loaded_pair(row.id).await?;
            return Ok(ImportedDataset {
                dataset: dataset_dto(row),
                already_known: true,
                warnings,
                images_to_encode: needs_encoding(&known),
                text_to_encode: needs_text_encoding(&known),
            });
        }
        let name = request.name.clone().unwrap_or_else(|| {
            request
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| source_path.clone())
        });
        let statistics = serde_json::to_value(dataset_stats(&pair))
            .map_err(|e| ApiError::invalid(e.to_string()))?;
        let entities = new_entities(&pair);
        let id = self
            .store
            .insert_dataset(
                &NewDataset {
                    name,
                    source_path,
                    format: loaded.format.to_string(),
                    image_features: request.image_features.as_deref().map(canonical),
                    fingerprint: print,
                    statistics,
                },
                &entities,
            )
            .await?;
        let images_to_encode = needs_encoding(&pair);
        let text_to_encode = needs_text_encoding(&pair);
        self.loaded.insert(id, pair);
        Ok(ImportedDataset {
            dataset: self.dataset(id).await?,
            already_known: false,
            warnings,
            images_to_encode,
            text_to_encode,
        })
    }

    /// Every dataset, newest first.
    pub async fn list_datasets(&self) -> ApiResult<Vec<DatasetDto>> {
        Ok(self
            .store
            .list_datasets()
            .await?
            .into_iter()
            .map(dataset_dto)
            .collect())
    }

    /// One dataset with its statistics.
    pub async fn dataset(&self, id: DatasetId) -> ApiResult<DatasetDto> {
        Ok(dataset_dto(self.dataset_row(id).await?))
    }

    pub(crate) async fn dataset_row(&self, id: DatasetId) -> ApiResult<DatasetRow> {
        self.store.dataset(id).await?.ok_or_else(|| {
            ApiError::not_found(format!(
                "no dataset {id}; `alignscope dataset list` shows them"
            ))
        })
    }

    /// Entities whose label, key or name contains `query`.
    pub async fn search_entities(
        &self,
        dataset: DatasetId,
        query: &str,
        side: Option<SideDto>,
        limit: usize,
    ) -> ApiResult<Vec<EntityDto>> {
        self.dataset_row(dataset).await?;
        Ok(self
            .store
            .search_entities(
                dataset,
                query,
                side.map(SideDto::number),
                limit.min(1000) as i64,
            )
            .await?
            .into_iter()
            .map(EntityDto::from)
            .collect())
    }

    /// Finds an entity by key on `side`.
    pub async fn entity_by_key(
        &self,
        dataset: DatasetId,
        side: SideDto,
        key: &str,
    ) -> ApiResult<EntityDto> {
        self.store
            .entity_by_key(dataset, side.number(), key)
            .await?
            .map(EntityDto::from)
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "no entity with key {key:?} in the {} graph of dataset {dataset}",
                    if side == SideDto::Left {
                        "left"
                    } else {
                        "right"
                    }
                ))
            })
    }

    /// The dataset, loaded (kept for the next calls, see [`super::dataset_cache`]).
    pub(crate) async fn loaded_pair(&self, dataset: DatasetId) -> ApiResult<Arc<MmkgPair>> {
        self.loaded
            .get_or_load(dataset, || self.load_from_disk(dataset))
            .await
    }

    /// Reads `dataset` from its files, checking that they are still what was imported.
    async fn load_from_disk(&self, dataset: DatasetId) -> ApiResult<MmkgPair> {
        let row = self.dataset_row(dataset).await?;
        let options = LoadOptions {
            format: row.format.parse().ok(),
            image_features: row.image_features.as_ref().map(Into::into),
            derived_features: None,
        };
        let path = std::path::PathBuf::from(&row.source_path);
        let loaded = tokio::task::spawn_blocking(move || load(&path, &options))
            .await
            .map_err(|e| ApiError::invalid(format!("loading stopped: {e}")))??;
        if fingerprint(&loaded.pair)? != row.fingerprint {
            return Err(ApiError::conflict(format!(
                "the files of dataset {dataset} in {} changed since it was imported; import the folder again",
                row.source_path
            )));
        }
        let mut pair = loaded.pair;
        alignscope_datasets::derived::attach_all(
            &mut pair,
            &self.data_dir.dataset_features(dataset),
        )?;
        Ok(pair)
    }

    /// Attributes, relations, neighbours and images of one entity.
    pub async fn entity_detail(
        &self,
        dataset: DatasetId,
        side: SideDto,
        key: &str,
    ) -> ApiResult<EntityDetailDto> {
        let entity = self.entity_by_key(dataset, side, key).await?;
        let pair = self.loaded_pair(dataset).await?;
        let graph_side = Side::from(side);
        let graph = pair.graph(graph_side);
        let index = graph
            .find_key(key)
            .ok_or_else(|| ApiError::not_found(format!("no entity {key:?}")))?;
        let attributes = graph
            .attributes
            .iter()
            .filter(|a| a.entity == index)
            .map(|a| AttributeDto {
                key: pair.attribute_keys.name(a.key).to_string(),
                value: a.value.clone(),
            })
            .collect();
        let mut relations = Vec::new();
        let mut neighbours = BTreeMap::new();
        let mut relation_count = 0;
        for t in &graph.triples {
            let (direction, other) = if t.head == index {
                ("out", t.tail)
            } else if t.tail == index {
                ("in", t.head)
            } else {
                continue;
            };
            relation_count += 1;
            if relations.len() < DETAIL_CAP {
                relations.push(RelationDto {
                    relation: pair.relations.name(t.relation).to_string(),
                    direction: direction.into(),
                    other: entity_dto(&pair, graph_side, other),
                });
            }
            if neighbours.len() < DETAIL_CAP {
                neighbours
                    .entry(other)
                    .or_insert_with(|| entity_dto(&pair, graph_side, other));
            }
        }
        Ok(EntityDetailDto {
            entity,
            attributes,
            relations,
            relation_count,
            neighbours: neighbours.into_values().collect(),
            images: graph
                .images
                .get(index as usize)
                .cloned()
                .unwrap_or_default(),
            has_image_features: graph
                .image_features
                .as_ref()
                .is_some_and(|f| f.vector(index).is_some()),
        })
    }
}
