//! The runner with real SQLite files and real blocking work: panics, cancellation from
//! the store, one job per device, orphan recovery.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::*;
use crate::store::{DatasetId, NewDataset, NewRun};

async fn setup() -> (tempfile::TempDir, JobRunner, Store, DatasetId) {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = DataDir::at(tmp.path().join("home")).unwrap();
    let store = Store::open(&data_dir.database()).await.unwrap();
    let dataset = store
        .insert_dataset(
            &NewDataset {
                name: "d".into(),
                source_path: "/d".into(),
                format: "alignscope".into(),
                image_features: None,
                fingerprint: "f".into(),
                statistics: serde_json::json!({}),
            },
            &[],
        )
        .await
        .unwrap();
    (tmp, JobRunner::new(store.clone(), data_dir), store, dataset)
}

async fn queued(runner: &JobRunner, store: &Store, dataset: DatasetId) -> (RunId, RunLock) {
    let run = store
        .create_run(&NewRun {
            dataset,
            model: "test".into(),
            request: serde_json::json!({}),
            device: "cpu".into(),
            seed: 1,
            code_version: "test".into(),
            epochs_planned: 1,
        })
        .await
        .unwrap();
    let lock = RunLock::try_acquire(&runner.data_dir.resolve_relative(&run.run_dir))
        .unwrap()
        .unwrap();
    (run.id, lock)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_a_job_fails_the_run_with_its_message() {
    let (_tmp, runner, store, dataset) = setup().await;
    let mut events = runner.subscribe();
    let (run, lock) = queued(&runner, &store, dataset).await;
    runner.submit(run, "cpu", lock, Box::new(|_| panic!("boom at epoch 3")));
    assert_eq!(runner.wait(run).await, Some(RunStatus::Failed));
    let row = store.run(run).await.unwrap().unwrap();
    assert_eq!(row.status, RunStatus::Failed);
    assert!(row.error.unwrap().contains("boom at epoch 3"));
    let mut seen = Vec::new();
    while let Ok(e) = events.try_recv() {
        seen.push(e);
    }
    assert!(
        matches!(seen.last(), Some(JobEvent::Failed { message, .. }) if message.contains("boom"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_request_in_the_store_stops_a_job() {
    let (_tmp, runner, store, dataset) = setup().await;
    let (run, lock) = queued(&runner, &store, dataset).await;
    runner.submit(
        run,
        "cpu",
        lock,
        Box::new(|context| {
            while !context.cancel.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(JobEnd::Cancelled(RunOutcome::default()))
        }),
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    // As another process would: only through the database.
    store.request_cancel(run).await.unwrap();
    let status = tokio::time::timeout(Duration::from_secs(10), runner.wait(run))
        .await
        .expect("the job stops");
    assert_eq!(status, Some(RunStatus::Cancelled));
    assert_eq!(
        store.run(run).await.unwrap().unwrap().status,
        RunStatus::Cancelled
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_job_per_device_at_a_time() {
    let (_tmp, runner, store, dataset) = setup().await;
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let mut runs = Vec::new();
    for device in ["cpu", "cpu", "cpu", "cuda"] {
        let (run, lock) = queued(&runner, &store, dataset).await;
        let (running, most) = (running.clone(), most.clone());
        runner.submit(
            run,
            device,
            lock,
            Box::new(move |_| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(150));
                running.fetch_sub(1, Ordering::SeqCst);
                Ok(JobEnd::Completed(RunOutcome::default()))
            }),
        );
        runs.push(run);
    }
    for run in runs {
        assert_eq!(runner.wait(run).await, Some(RunStatus::Completed));
    }
    // Three CPU jobs in a row, the CUDA one beside them: never more than two at once.
    assert_eq!(most.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_for_all_jobs_ends_only_when_the_last_one_does() {
    let (_tmp, runner, store, dataset) = setup().await;
    assert!(runner.active_runs().is_empty());
    // Immediately, with nothing to wait for.
    tokio::time::timeout(Duration::from_secs(1), runner.wait_for_all())
        .await
        .expect("no jobs: returns at once");
    let finished = Arc::new(AtomicUsize::new(0));
    let mut runs = Vec::new();
    for (device, millis) in [("cpu", 50), ("cuda", 300)] {
        let (run, lock) = queued(&runner, &store, dataset).await;
        let finished = finished.clone();
        runner.submit(
            run,
            device,
            lock,
            Box::new(move |_| {
                std::thread::sleep(Duration::from_millis(millis));
                finished.fetch_add(1, Ordering::SeqCst);
                Ok(JobEnd::Completed(RunOutcome::default()))
            }),
        );
        runs.push(run);
    }
    assert_eq!(runner.active_runs(), runs);
    tokio::time::timeout(Duration::from_secs(10), runner.wait_for_all())
        .await
        .expect("both jobs end");
    assert_eq!(finished.load(Ordering::SeqCst), 2);
    assert!(runner.active_runs().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_without_a_live_lock_holder_become_interrupted() {
    let (_tmp, runner, store, dataset) = setup().await;
    let (orphan, lock) = queued(&runner, &store, dataset).await;
    store.mark_started(orphan).await.unwrap();
    drop(lock); // its process "died"
    let (alive, _held) = queued(&runner, &store, dataset).await;
    store.mark_started(alive).await.unwrap();
    assert_eq!(runner.recover_orphans().await.unwrap(), vec![orphan]);
    let row = store.run(orphan).await.unwrap().unwrap();
    assert_eq!(row.status, RunStatus::Interrupted);
    assert!(row.error.unwrap().contains("runs resume"));
    assert_eq!(
        store.run(alive).await.unwrap().unwrap().status,
        RunStatus::Running
    );
}
