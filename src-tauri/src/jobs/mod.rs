//! The job runner: training runs as background jobs on tokio, one job per device at a
//! time (a fair queue per device), with typed progress events, cancellation (also from
//! another process, through the store), and crash recovery.
//!
//! A job's work is a blocking closure (Burn's loop blocks) run on tokio's blocking pool.
//! Everything it reports goes to the store first, then out as a [`JobEvent`]. A panic
//! inside the work ends the run `failed` with the panic's message. Each queued or
//! running job holds an OS lock on `runs/<id>.lock`; at start-up, runs left
//! `queued`/`running` whose lock nobody holds were orphaned by a crash and become
//! `interrupted` (resumable from their last checkpoint).

mod events;
mod lock;
pub mod train;

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Semaphore, broadcast, watch};

use crate::data_dir::DataDir;
use crate::store::{RunId, RunOutcome, RunStatus, Store, StoreError};

pub use events::JobEvent;
pub use lock::{RunLock, RunLockError};

/// How often a running job looks in the store for a cancel request from elsewhere.
const CANCEL_POLL: Duration = Duration::from_millis(250);

/// How a job's work ended, when it did not fail.
#[derive(Debug, Clone)]
pub enum JobEnd {
    /// All the work is done.
    Completed(RunOutcome),
    /// Stopped at a cancel request (state so far kept).
    Cancelled(RunOutcome),
}

/// Why a job's work failed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct JobFailure(pub String);

/// What a job's work can use: its run, the store, the cancel flag, event output.
#[derive(Clone)]
pub struct JobContext {
    /// The run.
    pub run: RunId,
    /// The store.
    pub store: Store,
    /// The data directory.
    pub data_dir: DataDir,
    /// Set when the job should stop.
    pub cancel: Arc<AtomicBool>,
    events: broadcast::Sender<JobEvent>,
    runtime: tokio::runtime::Handle,
}

impl JobContext {
    /// Sends an event (nobody listening is fine).
    pub fn emit(&self, event: JobEvent) {
        let _ = self.events.send(event);
    }

    /// Runs a store call from the job's blocking thread.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

/// Work of one job.
pub type JobWork = Box<dyn FnOnce(&JobContext) -> Result<JobEnd, JobFailure> + Send + 'static>;

struct ActiveJob {
    cancel: Arc<AtomicBool>,
    done: watch::Receiver<Option<RunStatus>>,
}

/// The runner. Cheap to clone.
#[derive(Clone)]
pub struct JobRunner {
    store: Store,
    data_dir: DataDir,
    events: broadcast::Sender<JobEvent>,
    devices: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
    active: Arc<Mutex<HashMap<RunId, ActiveJob>>>,
    /// How this process's ended jobs ended.
    ended: Arc<Mutex<HashMap<RunId, RunStatus>>>,
}

impl JobRunner {
    /// A runner over `store`.
    pub fn new(store: Store, data_dir: DataDir) -> Self {
        let (events, _) = broadcast::channel(1024);
        Self {
            store,
            data_dir,
            events,
            devices: Arc::default(),
            active: Arc::default(),
            ended: Arc::default(),
        }
    }

    /// Receives every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<JobEvent> {
        self.events.subscribe()
    }

    /// Whether this process runs (or queues) `run`.
    pub fn is_active(&self, run: RunId) -> bool {
        self.active.lock().expect("job table").contains_key(&run)
    }

    /// The runs this process runs or queues now, in id order.
    pub fn active_runs(&self) -> Vec<RunId> {
        let mut runs: Vec<RunId> = self
            .active
            .lock()
            .expect("job table")
            .keys()
            .copied()
            .collect();
        runs.sort();
        runs
    }

    /// Waits until this process runs no job, including jobs submitted while it waits.
    pub async fn wait_for_all(&self) {
        while let Some(&run) = self.active_runs().first() {
            self.wait(run).await;
        }
    }

    /// Asks a job of this process to stop; whether it was one of ours.
    pub fn cancel(&self, run: RunId) -> bool {
        match self.active.lock().expect("job table").get(&run) {
            Some(job) => {
                job.cancel.store(true, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    /// Waits until a job of this process ends; its final status (`None` if it was
    /// never ours).
    pub async fn wait(&self, run: RunId) -> Option<RunStatus> {
        let active = self
            .active
            .lock()
            .expect("job table")
            .get(&run)
            .map(|j| j.done.clone());
        let Some(mut done) = active else {
            return self.ended.lock().expect("ended table").get(&run).copied();
        };
        loop {
            if let Some(status) = *done.borrow_and_update() {
                return Some(status);
            }
            if done.changed().await.is_err() {
                return *done.borrow();
            }
        }
    }

    /// Queues `work` for `run` on `device` (one job per device at a time, first come
    /// first served). The run must be `queued` in the store; `lock` is its run lock.
    pub fn submit(&self, run: RunId, device: &str, lock: RunLock, work: JobWork) {
        let cancel = Arc::new(AtomicBool::new(false));
        let (done_tx, done_rx) = watch::channel(None);
        self.active.lock().expect("job table").insert(
            run,
            ActiveJob {
                cancel: cancel.clone(),
                done: done_rx,
            },
        );
        let semaphore = self
            .devices
            .lock()
            .expect("device table")
            .entry(device.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(1)))
            .clone();
        let runner = self.clone();
        let _ = self.events.send(JobEvent::Queued { run });
        tokio::spawn(async move {
            let status = runner.drive(run, semaphore, cancel, lock, work).await;
            runner
                .ended
                .lock()
                .expect("ended table")
                .insert(run, status);
            runner.active.lock().expect("job table").remove(&run);
            let _ = done_tx.send(Some(status));
        });
    }

    async fn drive(
        &self,
        run: RunId,
        semaphore: Arc<Semaphore>,
        cancel: Arc<AtomicBool>,
        lock: RunLock,
        work: JobWork,
    ) -> RunStatus {
        let watcher = tokio::spawn(watch_for_cancel(self.store.clone(), run, cancel.clone()));
        let _permit = semaphore
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let status = self.execute(run, cancel, work).await;
        watcher.abort();
        drop(lock);
        status
    }

    async fn execute(&self, run: RunId, cancel: Arc<AtomicBool>, work: JobWork) -> RunStatus {
        if cancel.load(Ordering::SeqCst) {
            return self
                .end(run, Ok(JobEnd::Cancelled(RunOutcome::default())))
                .await;
        }
        if let Err(e) = self.store.mark_started(run).await {
            return self.end(run, Err(JobFailure(e.to_string()))).await;
        }
        let context = JobContext {
            run,
            store: self.store.clone(),
            data_dir: self.data_dir.clone(),
            cancel,
            events: self.events.clone(),
            runtime: tokio::runtime::Handle::current(),
        };
        let joined = tokio::task::spawn_blocking(move || {
            std::panic::catch_unwind(AssertUnwindSafe(|| work(&context)))
        })
        .await;
        let result = match joined {
            Ok(Ok(result)) => result,
            Ok(Err(payload)) => Err(JobFailure(format!(
                "the job panicked: {}",
                panic_message(payload.as_ref())
            ))),
            Err(e) => Err(JobFailure(format!("the job's thread was lost: {e}"))),
        };
        self.end(run, result).await
    }

    /// Stores how a job ended, then announces it.
    async fn end(&self, run: RunId, result: Result<JobEnd, JobFailure>) -> RunStatus {
        let (status, stored, event) = match result {
            Ok(JobEnd::Completed(outcome)) => (
                RunStatus::Completed,
                self.store
                    .finish_run(run, RunStatus::Completed, &outcome)
                    .await,
                JobEvent::Finished {
                    run,
                    hits_at_1: outcome.headline.map(|h| h[0]),
                },
            ),
            Ok(JobEnd::Cancelled(outcome)) => (
                RunStatus::Cancelled,
                self.store
                    .finish_run(run, RunStatus::Cancelled, &outcome)
                    .await,
                JobEvent::Cancelled { run },
            ),
            Err(JobFailure(message)) => (
                RunStatus::Failed,
                self.store
                    .set_status(run, RunStatus::Failed, Some(&message))
                    .await,
                JobEvent::Failed { run, message },
            ),
        };
        match stored {
            Ok(()) => {
                let _ = self.events.send(event);
                status
            }
            Err(e) => {
                let message = format!("the run ended but its end could not be stored: {e}");
                let _ = self.events.send(JobEvent::Failed { run, message });
                RunStatus::Failed
            }
        }
    }

    /// Marks runs left `queued`/`running` by a dead process `interrupted`; the ids.
    pub async fn recover_orphans(&self) -> Result<Vec<RunId>, StoreError> {
        let mut orphans = Vec::new();
        for status in [RunStatus::Running, RunStatus::Queued] {
            for run in self.store.runs_with_status(status).await? {
                if self.is_active(run.id) {
                    continue;
                }
                let dir = self.data_dir.resolve_relative(&run.run_dir);
                // Nobody holds the lock: the process that ran it is gone.
                if let Ok(Some(_lock)) = RunLock::try_acquire(&dir) {
                    let message = format!(
                        "its process stopped (crash or kill) after epoch {}; resume with `alignscope runs resume {}`",
                        run.epochs_done, run.id
                    );
                    if self
                        .store
                        .transition(run.id, status, RunStatus::Interrupted)
                        .await?
                    {
                        self.store
                            .set_status(run.id, RunStatus::Interrupted, Some(&message))
                            .await?;
                        orphans.push(run.id);
                    }
                }
            }
        }
        Ok(orphans)
    }
}

/// Sets `cancel` when the store says another process asked for it.
async fn watch_for_cancel(store: Store, run: RunId, cancel: Arc<AtomicBool>) {
    loop {
        if matches!(store.cancel_requested(run).await, Ok(true)) {
            cancel.store(true, Ordering::SeqCst);
            return;
        }
        tokio::time::sleep(CANCEL_POLL).await;
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".into()
    }
}

#[cfg(test)]
mod tests;
