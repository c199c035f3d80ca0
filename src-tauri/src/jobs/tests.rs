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
    let lock = RunLock::try_acquire(&runner.data_dir.run_folder(&run))
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_that_lands_just_before_the_start_is_kept() {
    let (_tmp, runner, store, dataset) = setup().await;
    let (first, first_lock) = queued(&runner, &store, dataset).await;
    let (second, second_lock) = queued(&runner, &store, dataset).await;
    // The first job, as its last act, has another "process" cancel the queued second one
    // through the store: the cancel lands after the second job's last poll, just before
    // it gets the device.
    let store_for_first = store.clone();
    runner.submit(
        first,
        "cpu",
        first_lock,
        Box::new(move |context| {
            std::thread::sleep(Duration::from_millis(400));
            context
                .block_on(store_for_first.request_cancel(second))
                .unwrap();
            Ok(JobEnd::Completed(RunOutcome::default()))
        }),
    );
    // The second job queues only once the first holds the device (else it could start
    // first and never see the cancel).
    while store.run(first).await.unwrap().unwrap().status != RunStatus::Running {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    runner.submit(
        second,
        "cpu",
        second_lock,
        Box::new(move |context| {
            for _ in 0..100 {
                if context.cancel.load(Ordering::SeqCst) {
                    return Ok(JobEnd::Cancelled(RunOutcome::default()));
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(JobEnd::Completed(RunOutcome::default()))
        }),
    );
    assert_eq!(runner.wait(first).await, Some(RunStatus::Completed));
    assert_eq!(runner.wait(second).await, Some(RunStatus::Cancelled));
    assert_eq!(
        store.run(second).await.unwrap().unwrap().status,
        RunStatus::Cancelled
    );
}

/// Holds SQLite's write lock on the database from another connection for `hold`.
fn hold_write_lock(path: std::path::PathBuf, hold: Duration) -> std::thread::JoinHandle<()> {
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            use sqlx::Connection as _;
            let url = format!("sqlite:{}", path.display());
            let mut connection = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::query("BEGIN IMMEDIATE")
                .execute(&mut connection)
                .await
                .unwrap();
            tx.send(()).unwrap();
            tokio::time::sleep(hold).await;
            sqlx::query("COMMIT")
                .execute(&mut connection)
                .await
                .unwrap();
        });
    });
    rx.recv().unwrap();
    handle
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_end_that_meets_a_locked_database_is_stored_once_it_is_free() {
    let (_tmp, runner, store, dataset) = setup().await;
    let mut events = runner.subscribe();
    let (run, lock) = queued(&runner, &store, dataset).await;
    let database = store.path().to_path_buf();
    let holder = Arc::new(Mutex::new(None));
    let slot = holder.clone();
    runner.submit(
        run,
        "cpu",
        lock,
        Box::new(move |_| {
            // Another process takes the write lock for longer than the busy timeout just
            // as the job ends.
            let hold = crate::store::BUSY_TIMEOUT + Duration::from_secs(2);
            *slot.lock().unwrap() = Some(hold_write_lock(database, hold));
            Ok(JobEnd::Completed(RunOutcome::default()))
        }),
    );
    let status = tokio::time::timeout(Duration::from_secs(60), runner.wait(run))
        .await
        .expect("the job ends");
    assert_eq!(status, Some(RunStatus::Completed));
    assert_eq!(
        store.run(run).await.unwrap().unwrap().status,
        RunStatus::Completed
    );
    let mut retried = false;
    while let Ok(event) = events.try_recv() {
        retried |= matches!(&event, JobEvent::Log { line, .. } if line.contains("trying again"));
    }
    assert!(retried, "the first attempt met the lock");
    if let Some(handle) = holder.lock().unwrap().take() {
        handle.join().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_data_directory_take_turns_on_a_device() {
    let (_tmp, runner, store, dataset) = setup().await;
    // A second runner over the same data directory and database: another process (its
    // device lock is a separate open file, which flock treats as another holder).
    let other = JobRunner::new(
        Store::open(store.path()).await.unwrap(),
        runner.data_dir.clone(),
    );
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let mut runs = Vec::new();
    for (who, device) in [(&runner, "cuda"), (&other, "cuda"), (&other, "cpu")] {
        let (run, lock) = queued(who, &store, dataset).await;
        let (running, most) = (running.clone(), most.clone());
        let cuda = device == "cuda";
        who.submit(
            run,
            device,
            lock,
            Box::new(move |_| {
                if cuda {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                }
                std::thread::sleep(Duration::from_millis(400));
                if cuda {
                    running.fetch_sub(1, Ordering::SeqCst);
                }
                Ok(JobEnd::Completed(RunOutcome::default()))
            }),
        );
        runs.push((who, run));
    }
    for (who, run) in &runs {
        assert_eq!(who.wait(*run).await, Some(RunStatus::Completed));
    }
    assert_eq!(
        most.load(Ordering::SeqCst),
        1,
        "both trained on cuda at once"
    );
    let rows: Vec<_> = futures_util::future::join_all(runs.iter().map(|(_, run)| store.run(*run)))
        .await
        .into_iter()
        .map(|r| r.unwrap().unwrap())
        .collect();
    // The CPU job did not wait for the GPU ones.
    assert!(
        rows[2].started_at.unwrap()
            < rows[0]
                .finished_at
                .unwrap()
                .max(rows[1].finished_at.unwrap())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_process_is_gone_heals_when_it_is_next_read() {
    let (_tmp, runner, store, dataset) = setup().await;
    let (run, lock) = queued(&runner, &store, dataset).await;
    store.mark_started(run).await.unwrap();
    let row = store.run(run).await.unwrap().unwrap();
    // While the lock is held (its job lives, in this or another process): untouched.
    assert!(!runner.recover_if_orphaned(&row).await.unwrap());
    drop(lock);
    assert!(runner.recover_if_orphaned(&row).await.unwrap());
    let healed = store.run(run).await.unwrap().unwrap();
    assert_eq!(healed.status, RunStatus::Interrupted);
    assert!(healed.error.unwrap().contains("could not be stored"));
}
