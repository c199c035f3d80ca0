//! The job runner: training runs as background jobs on tokio, one job per device at a
//! time (a fair queue per device), with typed progress events, cancellation (also from
//! another process, through the store), and crash recovery.
//!
//! A job's work is a blocking closure (Burn's loop blocks) run on tokio's blocking pool.
//! Everything it reports goes to the store first, then out as a [`JobEvent`]. A panic
//! inside the work ends the run `failed` with the panic's message. Each queued or
//! running job holds an OS lock on `runs/<id>.lock`; runs left `queued`/`running` whose
//! lock nobody holds were orphaned (a crash, or an end that could not be stored) and become
//! `interrupted` (resumable from their last checkpoint), at start-up and whenever such a
//! run is read ([`JobRunner::recover_if_orphaned`]). A job also holds its device's lock
//! (`devices/<device>.lock`) while it trains, so two processes on one data directory take
//! turns on a device. A job's end is stored with retries ([`END_RETRIES`]): a full disk
//! or a database locked by another process for a while does not leave it `running`.

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
use crate::store::{RunId, RunOutcome, RunRow, RunStatus, Store, StoreError};

pub use events::JobEvent;
pub use lock::{DeviceLock, RunLock, RunLockError};

/// How often a running job looks in the store for a cancel request from elsewhere, and a
/// queued one whether another process freed its device.
const CANCEL_POLL: Duration = Duration::from_millis(250);

/// Pauses between attempts to store how a job ended (each attempt itself may wait up to
/// the store's busy timeout for a lock): about half a minute in all, then the run is
/// left to orphan recovery.
pub const END_RETRIES: [Duration; 5] = [
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
];

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
        let device = device.to_string();
        let _ = self.events.send(JobEvent::Queued { run });
        tokio::spawn(async move {
            let status = runner
                .drive(run, &device, semaphore, cancel, lock, work)
                .await;
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
        device: &str,
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
        let status = match self.device_lock(run, device, &cancel).await {
            Ok(_device) => self.execute(run, cancel, work).await,
            Err(failure) => self.end(run, Err(failure)).await,
        };
        watcher.abort();
        drop(lock);
        status
    }

    /// Waits until no other process trains on `device` (or the job is cancelled
    /// meanwhile: then no lock, and [`Self::execute`] ends the job cancelled).
    async fn device_lock(
        &self,
        run: RunId,
        device: &str,
        cancel: &AtomicBool,
    ) -> Result<Option<DeviceLock>, JobFailure> {
        let mut told = false;
        loop {
            match DeviceLock::try_acquire(self.data_dir.root(), device) {
                Ok(Some(lock)) => return Ok(Some(lock)),
                Ok(None) if cancel.load(Ordering::SeqCst) => return Ok(None),
                Ok(None) => {
                    if !told {
                        told = true;
                        let _ = self.events.send(JobEvent::Log {
                            run,
                            line: format!(
                                "waiting for the {device} device: another AlignScope process \
                                 on this data directory trains on it"
                            ),
                        });
                    }
                    tokio::time::sleep(CANCEL_POLL).await;
                }
                Err(e) => return Err(JobFailure(e.to_string())),
            }
        }
    }

    async fn execute(&self, run: RunId, cancel: Arc<AtomicBool>, work: JobWork) -> RunStatus {
        if cancel.load(Ordering::SeqCst) {
            return self
                .end(run, Ok(JobEnd::Cancelled(RunOutcome::default())))
                .await;
        }
        match self.store.mark_started(run).await {
            // A cancel asked for by another process just before the start.
            Ok(true) => {
                return self
                    .end(run, Ok(JobEnd::Cancelled(RunOutcome::default())))
                    .await;
            }
            Ok(false) => {}
            Err(e) => return self.end(run, Err(JobFailure(e.to_string()))).await,
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

    /// Stores how a job ended (retrying, see [`END_RETRIES`]), then announces it.
    async fn end(&self, run: RunId, result: Result<JobEnd, JobFailure>) -> RunStatus {
        let (status, outcome, event) = match result {
            Ok(JobEnd::Completed(outcome)) => (
                RunStatus::Completed,
                Some(outcome.clone()),
                JobEvent::Finished {
                    run,
                    hits_at_1: outcome.headline.map(|h| h[0]),
                },
            ),
            Ok(JobEnd::Cancelled(outcome)) => (
                RunStatus::Cancelled,
                Some(outcome),
                JobEvent::Cancelled { run },
            ),
            Err(JobFailure(message)) => (
                RunStatus::Failed,
                None,
                JobEvent::Failed {
                    run,
                    message: message.clone(),
                },
            ),
        };
        let store_end = || async {
            match (&outcome, &event) {
                (Some(outcome), _) => self.store.finish_run(run, status, outcome).await,
                (None, JobEvent::Failed { message, .. }) => {
                    self.store.set_status(run, status, Some(message)).await
                }
                (None, _) => unreachable!("only failures come without an outcome"),
            }
        };
        let mut stored = store_end().await;
        for pause in END_RETRIES {
            let Err(e) = &stored else { break };
            let _ = self.events.send(JobEvent::Log {
                run,
                line: format!(
                    "the run ended {} but that could not be stored ({e}); trying again in {} s",
                    status.as_str(),
                    pause.as_secs_f64()
                ),
            });
            tokio::time::sleep(pause).await;
            stored = store_end().await;
        }
        match stored {
            Ok(()) => {
                let _ = self.events.send(event);
                status
            }
            Err(e) => {
                // Still `running` in the store: once this job lets go of the run lock, the
                // next read of the run (or the next start) marks it `interrupted`.
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
                if self.recover_if_orphaned(&run).await? {
                    orphans.push(run.id);
                }
            }
        }
        Ok(orphans)
    }

    /// Marks `run` `interrupted` if the store says it is queued or running but no job
    /// anywhere has it (nobody holds its lock); whether it did.
    pub async fn recover_if_orphaned(&self, run: &RunRow) -> Result<bool, StoreError> {
        if !run.status.is_active() || self.is_active(run.id) {
            return Ok(false);
        }
        let dir = self.data_dir.run_folder(run);
        // Somebody holds the lock (or it cannot be checked): not an orphan.
        let Ok(Some(_lock)) = RunLock::try_acquire(&dir) else {
            return Ok(false);
        };
        let message = format!(
            "its process stopped (crash, kill, or an end that could not be stored) after \
             epoch {}; resume with `alignscope runs resume {}`",
            run.epochs_done, run.id
        );
        self.store.interrupt(run.id, run.status, &message).await
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
