//! The writer of runs' changes into a store: a thread that writes whatever has come in since
//! its last write in one transaction (group commit), in order, and lets each run wait until
//! all it sent is written. A run has a writer of its own, or shares one (a scheduler's runs
//! share their store's, so that a run costs no thread and many runs' changes go in one
//! transaction).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::{Change, Store};

/// The most changes written in one transaction.
const BATCH: usize = 4096;

/// How long the writer lets changes gather after a write of several (group commit).
const GATHER: Duration = Duration::from_micros(30);

/// The batches after which the writer lets changes gather: of more than one change (changes
/// come fast) and fewer than this many (it keeps up; a writer behind goes straight on).
const GATHER_BELOW: usize = 256;

/// How long no change comes before the writer does what its store left for later
/// ([`Store::catch_up`]).
const IDLE: Duration = Duration::from_millis(5);

/// Sends a run's changes to its store's writer; cheap to clone.
#[derive(Clone)]
pub(crate) struct StoreSink {
    to_writer: Sender<(Arc<Progress>, Change)>,
    progress: Arc<Progress>,
    per_task: bool,
}

/// A writer thread for one store, shared by the runs given it.
#[derive(Clone)]
pub(crate) struct Writer {
    to_writer: Sender<(Arc<Progress>, Change)>,
    /// Why the writer's thread is not there, if it could not start.
    failed: Option<String>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

impl Writer {
    /// A writer for `store`, on a thread of its own; it ends when every run's sink and this
    /// writer are dropped.
    pub(crate) fn start(store: Arc<dyn Store>) -> Self {
        Self::spawn(store, false)
    }

    /// A writer for `store` whose thread yields to every other (on Linux, at the lowest
    /// priority): a scheduler's, for which a run that is due starting at once matters more
    /// than how soon the store has its changes.
    #[cfg(feature = "schedule")]
    pub(crate) fn start_yielding(store: Arc<dyn Store>) -> Self {
        Self::spawn(store, true)
    }

    fn spawn(store: Arc<dyn Store>, yielding: bool) -> Self {
        let (to_writer, from_runs) = channel();
        let started = std::thread::Builder::new()
            .name("taskflow-store".into())
            .spawn(move || {
                if yielding {
                    lower_priority();
                }
                write_all(&*store, &from_runs)
            });
        Self {
            to_writer,
            failed: started
                .err()
                .map(|error| format!("could not start the store's writer: {error}")),
        }
    }
}

/// The nice value of a yielding writer's thread, the lowest priority: a task or a run that
/// is ready to start gets a core before the writer does.
#[cfg(target_os = "linux")]
const YIELDING_NICENESS: i32 = 19;

/// Lowers the priority of the calling thread (a yielding writer's) below every other;
/// where that is not possible (or not Linux), it runs as any other thread.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let thread = rustix::thread::gettid();
        if let Err(error) = rustix::process::setpriority_process(Some(thread), YIELDING_NICENESS) {
            tracing::debug!("the store's writer keeps its priority: {error}");
        }
    }
}

/// How far the writer has got.
#[derive(Default)]
struct Progress {
    state: Mutex<Written>,
    changed: Condvar,
    /// The changes sent: counted without the lock, which the run's threads would contend for.
    sent: AtomicU64,
    /// Whether a write failed or the writer is gone: later changes are not sent.
    stopped: AtomicBool,
    /// Whether the run waits for each of its writes (per-task durability): the writer does
    /// not let its changes gather.
    waits: bool,
}

#[derive(Default)]
struct Written {
    written: u64,
    /// The first write that failed: later changes are not written (the store keeps a
    /// consistent prefix).
    error: Option<String>,
    /// Whether the writer is gone (its thread could not start, or it stopped).
    gone: bool,
    /// What to do once the changes sent up to a count are written (or a write failed).
    waiters: Vec<(u64, AfterWritten)>,
}

/// Told once a run's changes are written: the error that kept them from it, if one did.
type AfterWritten = Box<dyn FnOnce(Option<String>) + Send>;

impl StoreSink {
    /// A run's sink into `writer`.
    pub(crate) fn on(writer: &Writer, durability: super::Durability) -> Self {
        let per_task = durability == super::Durability::PerTask;
        let progress = Arc::new(Progress {
            waits: per_task,
            ..Progress::default()
        });
        if let Some(failed) = &writer.failed {
            let mut state = progress.lock();
            state.error = Some(failed.clone());
            state.gone = true;
            progress.stopped.store(true, Ordering::Release);
        }
        Self {
            to_writer: writer.to_writer.clone(),
            progress,
            per_task,
        }
    }

    /// Whether each try's start and end is written before the run goes on.
    pub(crate) fn per_task(&self) -> bool {
        self.per_task
    }

    /// Queues `change` for writing.
    pub(crate) fn send(&self, change: Change) {
        if self.progress.stopped.load(Ordering::Acquire) {
            return;
        }
        self.progress.sent.fetch_add(1, Ordering::AcqRel);
        if self
            .to_writer
            .send((Arc::clone(&self.progress), change))
            .is_err()
        {
            self.progress.lock().gone = true;
            self.progress.stopped.store(true, Ordering::Release);
            self.progress.changed.notify_all();
        }
    }

    /// Calls `then` once everything sent so far is written (on the writer's thread, or here
    /// if it is already), with the error of a write that failed, if one did. Nothing waits
    /// meanwhile.
    pub(crate) fn after_written(&self, then: impl FnOnce(Option<String>) + Send + 'static) {
        let mut state = self.progress.lock();
        let sent = self.progress.sent.load(Ordering::Acquire);
        if state.written >= sent || state.error.is_some() || state.gone {
            let error = state.error.clone().or_else(|| {
                (state.written < sent)
                    .then(|| "the store's writer stopped before writing the run".to_owned())
            });
            drop(state);
            return then(error);
        }
        state.waiters.push((sent, Box::new(then)));
    }

    /// Waits until everything sent so far is written, for at most `limit`; the first error
    /// of a write, if one failed (or the wait ran out).
    pub(crate) fn flush(&self, limit: Duration) -> Option<String> {
        let deadline = Instant::now() + limit;
        let mut state = self.progress.lock();
        let target = self.progress.sent.load(Ordering::Acquire);
        while state.written < target && state.error.is_none() && !state.gone {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Some(format!(
                    "the store had not written the run's changes after {limit:?}"
                ));
            }
            state = self
                .progress
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
        state.error.clone()
    }
}

impl Progress {
    fn lock(&self) -> std::sync::MutexGuard<'_, Written> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The writer's loop: waits for a change, takes every change queued behind it (up to
/// [`BATCH`]), writes them in one transaction, and tells each run how far it got. A run whose
/// write failed has its later changes dropped (its store keeps a consistent prefix); the
/// other runs go on. While no change comes, and once every run is over, it lets the store
/// catch up.
fn write_all(store: &dyn Store, from_runs: &Receiver<(Arc<Progress>, Change)>) {
    let mut batch = Batch::default();
    // A store opened on a file may have been left work by an earlier process.
    let mut behind = true;
    loop {
        let first = if behind {
            match from_runs.recv_timeout(IDLE) {
                Ok(first) => first,
                Err(RecvTimeoutError::Timeout) => {
                    behind = catch_up(store);
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        } else {
            match from_runs.recv() {
                Ok(first) => first,
                Err(_) => break,
            }
        };
        let gather = batch.write(store, from_runs, first);
        behind = true;
        if gather {
            // Changes come fast: the runs get a moment to send more, so that the next write
            // takes many at once and they do not wake the writer for each.
            std::thread::sleep(GATHER);
        }
    }
    while catch_up(store) {}
}

/// Lets `store` do a part of what it left for later; whether more is left. A store that
/// fails at it is not asked again until it has written more.
fn catch_up(store: &dyn Store) -> bool {
    match crate::quiet::catch(|| store.catch_up()) {
        Ok(Ok(more)) => more,
        Ok(Err(error)) => {
            tracing::warn!("the store could not catch up on its writes: {error}");
            false
        }
        Err(panic) => {
            tracing::warn!("the store panicked catching up on its writes: {panic}");
            false
        }
    }
}

/// A batch of changes, and the runs that sent them.
#[derive(Default)]
struct Batch {
    /// One buffer for every batch: a change is large, and a growing buffer copies them all.
    changes: Vec<Change>,
    /// The runs of the batch, with how many of its changes each sent, in order of arrival.
    senders: Vec<(Arc<Progress>, u64)>,
}

impl Batch {
    /// Writes `first` and every change queued behind it (up to [`BATCH`]) in one
    /// transaction, and tells each run how far it got; whether the next changes may gather
    /// (this batch took several but not many, and none of a run that waits for each write).
    fn write(
        &mut self,
        store: &dyn Store,
        from_runs: &Receiver<(Arc<Progress>, Change)>,
        first: (Arc<Progress>, Change),
    ) -> bool {
        let Self { changes, senders } = self;
        changes.clear();
        changes.reserve(BATCH);
        senders.clear();
        for (progress, change) in std::iter::once(first).chain(from_runs.try_iter().take(BATCH - 1))
        {
            if progress.stopped.load(Ordering::Acquire) {
                continue; // after a failed write of its run
            }
            match senders.last_mut() {
                Some((last, count)) if Arc::ptr_eq(last, &progress) => *count += 1,
                _ => match senders
                    .iter_mut()
                    .find(|(known, _)| Arc::ptr_eq(known, &progress))
                {
                    Some((_, count)) => *count += 1,
                    None => senders.push((progress, 1)),
                },
            }
            changes.push(change);
        }
        if changes.is_empty() {
            return false;
        }
        let outcome = crate::quiet::catch(|| store.write(changes)).unwrap_or_else(|panic| {
            Err(crate::Error::Store {
                path: String::new(),
                reason: format!("the store panicked while writing: {panic}"),
            })
        });
        for (progress, count) in senders.iter() {
            let mut state = progress.lock();
            match &outcome {
                Ok(()) => state.written += count,
                Err(error) => {
                    state.error.get_or_insert_with(|| error.to_string());
                    progress.stopped.store(true, Ordering::Release);
                }
            }
            let (written, error) = (state.written, state.error.clone());
            let waiters = std::mem::take(&mut state.waiters);
            let (ready, waiting): (Vec<_>, Vec<_>) = waiters
                .into_iter()
                .partition(|(target, _)| *target <= written || error.is_some());
            state.waiters = waiting;
            drop(state);
            progress.changed.notify_all();
            for (_, then) in ready {
                let error = error.clone();
                if let Err(panic) = crate::quiet::catch(move || then(error)) {
                    tracing::warn!(
                        "what waited for a run's changes to be written panicked: {panic}"
                    );
                }
            }
        }
        (2..GATHER_BELOW).contains(&changes.len())
            && !senders.iter().any(|(progress, _)| progress.waits)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::{Sender, channel};

    use super::*;
    use crate::Result;
    use crate::store::{
        BackfillRecord, DagRunRecord, Durability, StoredRun, TaskInstanceRecord, TryRecord,
    };

    /// A store that counts what it writes and tells each call of `catch_up`, with `left`
    /// parts to catch up on after each write.
    #[derive(Debug)]
    struct Behind {
        left: Mutex<u32>,
        parts: u32,
        caught_up: Mutex<Sender<u32>>,
    }

    impl Store for Behind {
        fn write(&self, _: &[Change]) -> Result<()> {
            *self.left.lock().unwrap() = self.parts;
            Ok(())
        }
        fn catch_up(&self) -> Result<bool> {
            let mut left = self.left.lock().unwrap();
            *left = left.saturating_sub(1);
            let _ = self.caught_up.lock().unwrap().send(*left);
            Ok(*left > 0)
        }
        fn dag_runs(&self, _: &str, _: usize, _: usize) -> Result<Vec<DagRunRecord>> {
            Ok(Vec::new())
        }
        fn task_instances(&self, _: &str, _: &str) -> Result<Vec<TaskInstanceRecord>> {
            Ok(Vec::new())
        }
        fn tries(&self, _: &str, _: &str, _: &str, _: Option<u32>) -> Result<Vec<TryRecord>> {
            Ok(Vec::new())
        }
        fn xcom_json(
            &self,
            _: &str,
            _: &str,
            _: &str,
            _: Option<u32>,
        ) -> Result<Option<serde_json::Value>> {
            Ok(None)
        }
        fn load_run(&self, _: &str, _: &str) -> Result<Option<StoredRun>> {
            Ok(None)
        }
        fn dag_run(&self, _: &str, _: &str) -> Result<Option<DagRunRecord>> {
            Ok(None)
        }
        fn create_dag_run(&self, _: &DagRunRecord) -> Result<bool> {
            Ok(false)
        }
        fn dag_runs_in_state(&self, _: crate::DagRunState) -> Result<Vec<DagRunRecord>> {
            Ok(Vec::new())
        }
        fn last_automated_run(&self, _: &str) -> Result<Option<DagRunRecord>> {
            Ok(None)
        }
        fn set_paused(&self, _: &str, _: bool) -> Result<()> {
            Ok(())
        }
        fn is_paused(&self, _: &str) -> Result<bool> {
            Ok(false)
        }
        fn create_backfill(
            &self,
            _: &BackfillRecord,
            _: &[DagRunRecord],
            _: &[String],
        ) -> Result<i64> {
            Ok(0)
        }
        fn backfills(&self, _: &str) -> Result<Vec<BackfillRecord>> {
            Ok(Vec::new())
        }
        fn complete_backfill(&self, _: i64, _: chrono::DateTime<chrono::Utc>) -> Result<()> {
            Ok(())
        }
    }

    const LIMIT: Duration = Duration::from_secs(10);

    fn change() -> Change {
        Change::TryInterrupted {
            instance: crate::store::InstanceId {
                dag_id: "d".into(),
                run_id: "r".into(),
                task_id: "t".into(),
                map_path: Vec::new(),
            },
            try_number: 1,
        }
    }

    #[test]
    fn the_writer_catches_up_while_no_change_comes_and_after_its_runs_until_nothing_is_left() {
        let (caught_up, calls) = channel();
        let store = Arc::new(Behind {
            left: Mutex::new(0),
            parts: 3,
            caught_up: Mutex::new(caught_up),
        });
        let writer = Writer::start(store);
        // A store opened on a file may be behind: the writer asks before any change comes.
        assert_eq!(calls.recv_timeout(LIMIT), Ok(0));
        let sink = StoreSink::on(&writer, Durability::GroupCommit);
        sink.send(change());
        assert_eq!(sink.flush(LIMIT), None);
        // Idle with its run still going: the writer catches up, a part at a time, and stops
        // asking once nothing is left.
        let idle: Vec<u32> = (0..3).map(|_| calls.recv_timeout(LIMIT).unwrap()).collect();
        assert_eq!(idle, [2, 1, 0]);
        sink.send(change());
        assert_eq!(sink.flush(LIMIT), None);
        // Its runs over, it catches up on everything, and then ends (dropping the store).
        drop((sink, writer));
        let after: Vec<u32> = (0..3).map(|_| calls.recv_timeout(LIMIT).unwrap()).collect();
        assert_eq!(after, [2, 1, 0]);
        assert_eq!(
            calls.recv_timeout(LIMIT),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected),
            "the writer's thread ended"
        );
    }
}
