//! The datasets kept loaded between calls: entity detail, candidates and the pair view
//! need the whole pair (triples, attributes, images), and reading DBP15K takes seconds.
//!
//! Up to [`DATASETS_KEPT`] datasets stay loaded, the least recently used leaving first,
//! so a user who switches between two datasets (or a run comparison across them) does not
//! reload on every click. Concurrent cold requests for one dataset share a single load.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use alignscope_datasets::MmkgPair;
use tokio::sync::OnceCell;

use super::ApiResult;
use crate::store::DatasetId;

/// How many loaded datasets are kept.
pub const DATASETS_KEPT: usize = 3;

type Slot = Arc<OnceCell<Arc<MmkgPair>>>;

/// The cache (cheap to share behind an `Arc`).
#[derive(Default)]
pub(crate) struct DatasetCache {
    /// Most recently used first.
    slots: Mutex<VecDeque<(DatasetId, Slot)>>,
    loads: AtomicUsize,
}

impl DatasetCache {
    /// The slot of `dataset`, made most recently used (created empty if absent; the least
    /// recently used beyond [`DATASETS_KEPT`] are dropped).
    fn slot(&self, dataset: DatasetId) -> Slot {
        let mut slots = self.slots.lock().expect("dataset cache");
        let slot = match slots.iter().position(|(id, _)| *id == dataset) {
            Some(at) => slots.remove(at).expect("position is in range").1,
            None => Slot::default(),
        };
        slots.push_front((dataset, slot.clone()));
        slots.truncate(DATASETS_KEPT);
        slot
    }

    /// The loaded `dataset`, running `load` only if no call has loaded it (or is loading
    /// it: then this call waits for that load). A failed load is not kept.
    pub(crate) async fn get_or_load<F, Fut>(
        &self,
        dataset: DatasetId,
        load: F,
    ) -> ApiResult<Arc<MmkgPair>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = ApiResult<MmkgPair>>,
    {
        let slot = self.slot(dataset);
        slot.get_or_try_init(|| async {
            self.loads.fetch_add(1, Ordering::Relaxed);
            load().await.map(Arc::new)
        })
        .await
        .cloned()
    }

    /// Keeps `pair` (just read by an import) as `dataset`.
    pub(crate) fn insert(&self, dataset: DatasetId, pair: MmkgPair) {
        let slot = self.slot(dataset);
        let _ = slot.set(Arc::new(pair));
    }

    /// Drops the loaded `dataset` (its derived features changed): the next call loads it.
    pub(crate) fn forget(&self, dataset: DatasetId) {
        let mut slots = self.slots.lock().expect("dataset cache");
        slots.retain(|(id, _)| *id != dataset);
    }

    /// How many loads ran (diagnostics and tests).
    pub(crate) fn loads(&self) -> usize {
        self.loads.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> MmkgPair {
        alignscope_models::synthetic::planted_pair(10, 2, 2, 0.0, 1)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_cold_requests_share_one_load() {
        let cache = Arc::new(DatasetCache::default());
        let calls = (0..8).map(|_| {
            let cache = cache.clone();
            tokio::spawn(async move {
                cache
                    .get_or_load(DatasetId(1), || async {
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        Ok(pair())
                    })
                    .await
                    .unwrap()
            })
        });
        let pairs = futures_util::future::join_all(calls).await;
        assert_eq!(cache.loads(), 1);
        let first = pairs[0].as_ref().unwrap();
        assert!(
            pairs
                .iter()
                .all(|p| Arc::ptr_eq(p.as_ref().unwrap(), first))
        );
    }

    #[tokio::test]
    async fn several_datasets_stay_loaded_the_least_recent_leaves() {
        let cache = DatasetCache::default();
        let get = |id| cache.get_or_load(DatasetId(id), || async { Ok(pair()) });
        for id in [1, 2, 1, 2, 3, 1, 2, 3] {
            get(id).await.unwrap();
        }
        assert_eq!(cache.loads(), 3, "1, 2 and 3 fit together");
        get(4).await.unwrap(); // 1 is the least recently used now
        get(3).await.unwrap();
        assert_eq!(cache.loads(), 4);
        get(1).await.unwrap();
        assert_eq!(cache.loads(), 5);
    }

    #[tokio::test]
    async fn a_failed_load_is_tried_again() {
        let cache = DatasetCache::default();
        let failed = cache
            .get_or_load(DatasetId(1), || async {
                Err(crate::api::ApiError::invalid("unreadable"))
            })
            .await;
        assert!(failed.is_err());
        cache
            .get_or_load(DatasetId(1), || async { Ok(pair()) })
            .await
            .unwrap();
        assert_eq!(cache.loads(), 2);
    }
}
