//! The writer of runs' changes into a store: a thread that writes whatever has come in since
//! its last write in one transaction (group commit), in order, and lets each run wait until
//! all it sent is written. A run has a writer of its own, or shares one (a scheduler's runs
//! share their store's, so that a run costs no thread and many runs' changes go in one
//! transaction).

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::{Change, Store};

/// The most changes written in one transaction.
const BATCH: usize = 4096;

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
        let (to_writer, from_runs) = channel();
        let started = std::thread::Builder::new()
            .name("taskflow-store".into())
            .spawn(move || write_all(&*store, &from_runs));
        Self {
            to_writer,
            failed: started
                .err()
                .map(|error| format!("could not start the store's writer: {error}")),
        }
    }
}

/// How far the writer has got.
#[derive(Default)]
struct Progress {
    state: Mutex<Written>,
    changed: Condvar,
}

#[derive(Default)]
struct Written {
    sent: u64,
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
        let progress = Arc::new(Progress::default());
        if let Some(failed) = &writer.failed {
            let mut state = progress.lock();
            state.error = Some(failed.clone());
            state.gone = true;
        }
        Self {
            to_writer: writer.to_writer.clone(),
            progress,
            per_task: durability == super::Durability::PerTask,
        }
    }

    /// Whether each try's start and end is written before the run goes on.
    pub(crate) fn per_task(&self) -> bool {
        self.per_task
    }

    /// Queues `change` for writing.
    pub(crate) fn send(&self, change: Change) {
        let mut state = self.progress.lock();
        if state.gone || state.error.is_some() {
            return;
        }
        state.sent += 1;
        drop(state);
        if self
            .to_writer
            .send((Arc::clone(&self.progress), change))
            .is_err()
        {
            self.progress.lock().gone = true;
            self.progress.changed.notify_all();
        }
    }

    /// Calls `then` once everything sent so far is written (on the writer's thread, or here
    /// if it is already), with the error of a write that failed, if one did. Nothing waits
    /// meanwhile.
    pub(crate) fn after_written(&self, then: impl FnOnce(Option<String>) + Send + 'static) {
        let mut state = self.progress.lock();
        if state.written >= state.sent || state.error.is_some() || state.gone {
            let error = state.error.clone().or_else(|| {
                (state.written < state.sent)
                    .then(|| "the store's writer stopped before writing the run".to_owned())
            });
            drop(state);
            return then(error);
        }
        let target = state.sent;
        state.waiters.push((target, Box::new(then)));
    }

    /// Waits until everything sent so far is written, for at most `limit`; the first error
    /// of a write, if one failed (or the wait ran out).
    pub(crate) fn flush(&self, limit: Duration) -> Option<String> {
        let deadline = Instant::now() + limit;
        let mut state = self.progress.lock();
        let target = state.sent;
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
/// other runs go on.
fn write_all(store: &dyn Store, from_runs: &Receiver<(Arc<Progress>, Change)>) {
    // One buffer for every batch: a change is large, and a growing buffer copies them all.
    let mut batch: Vec<Change> = Vec::with_capacity(BATCH);
    // The runs of the batch, with how many of its changes each sent, in order of arrival.
    let mut senders: Vec<(Arc<Progress>, u64)> = Vec::new();
    while let Ok(first) = from_runs.recv() {
        batch.clear();
        senders.clear();
        for (progress, change) in std::iter::once(first).chain(from_runs.try_iter().take(BATCH - 1))
        {
            if progress.lock().error.is_some() {
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
            batch.push(change);
        }
        if batch.is_empty() {
            continue;
        }
        let outcome = crate::quiet::catch(|| store.write(&batch)).unwrap_or_else(|panic| {
            Err(crate::Error::Store {
                path: String::new(),
                reason: format!("the store panicked while writing: {panic}"),
            })
        });
        for (progress, count) in &senders {
            let mut state = progress.lock();
            match &outcome {
                Ok(()) => state.written += count,
                Err(error) => {
                    state.error.get_or_insert_with(|| error.to_string());
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
    }
}
