//! The writer of a run's changes into its store: a thread of its own that writes whatever
//! has come in since its last write in one transaction (group commit), in order, and lets the
//! run wait until all it sent is written.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::{Change, Store};

/// The most changes written in one transaction.
const BATCH: usize = 4096;

/// Sends a run's changes to its store's writer; cheap to clone.
#[derive(Clone)]
pub(crate) struct StoreSink {
    to_writer: Sender<Change>,
    progress: Arc<Progress>,
    per_task: bool,
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
}

impl StoreSink {
    /// A writer for `store`, on a thread of its own.
    pub(crate) fn start(store: Arc<dyn Store>, durability: super::Durability) -> Self {
        let (to_writer, from_runs) = channel();
        let progress = Arc::new(Progress::default());
        let writer = Arc::clone(&progress);
        let started = std::thread::Builder::new()
            .name("taskflow-store".into())
            .spawn(move || write_all(&*store, &from_runs, &writer));
        if let Err(error) = started {
            let mut state = progress.lock();
            state.error = Some(format!("could not start the store's writer: {error}"));
            state.gone = true;
        }
        Self {
            to_writer,
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
        if self.to_writer.send(change).is_err() {
            self.progress.lock().gone = true;
        }
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
/// [`BATCH`]), writes them in one transaction, and says so.
fn write_all(store: &dyn Store, from_runs: &Receiver<Change>, progress: &Progress) {
    // One buffer for every batch: a change is large, and a growing buffer copies them all.
    let mut batch = Vec::with_capacity(BATCH);
    while let Ok(first) = from_runs.recv() {
        batch.clear();
        batch.push(first);
        batch.extend(from_runs.try_iter().take(BATCH - 1));
        let outcome = crate::quiet::catch(|| store.write(&batch)).unwrap_or_else(|panic| {
            Err(crate::Error::Store {
                path: String::new(),
                reason: format!("the store panicked while writing: {panic}"),
            })
        });
        let mut state = progress.lock();
        match outcome {
            Ok(()) => state.written += batch.len() as u64,
            Err(error) => {
                state.error.get_or_insert_with(|| error.to_string());
            }
        }
        drop(state);
        progress.changed.notify_all();
        if progress.lock().error.is_some() {
            break;
        }
    }
    progress.lock().gone = true;
    progress.changed.notify_all();
}
