//! The clock of a run, real or virtual, and its timers (retry delays, timeouts).
//!
//! Virtual time is real time plus skips: whenever nothing of the run is queued or running,
//! the clock jumps to its next timer instead of sleeping. A run whose tasks wait an hour
//! between retries then finishes in milliseconds, while a running task's own duration and
//! its timeout still pass in real time, so nothing times out early.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::runtime::Handle;

/// The latest run time a timer can be set for (about 292 years): later ones are moved back
/// to it, so that virtual time, counted in nanoseconds, can always reach them.
const HORIZON: Duration = Duration::from_nanos(u64::MAX / 2);

/// Something to do at a point in run time.
pub(crate) type Action = Box<dyn FnOnce() + Send>;

pub(crate) struct Clock {
    started: Instant,
    virtual_time: bool,
    skipped_nanos: AtomicU64,
    timers: Mutex<Timers>,
    handle: Handle,
}

/// Pending timers: ordered by time, and their actions by id (a cancelled timer keeps its
/// heap entry until it reaches the top, but loses its action).
#[derive(Default)]
struct Timers {
    heap: BinaryHeap<Reverse<(Duration, u64)>>,
    actions: std::collections::HashMap<u64, (Action, tokio::task::AbortHandle)>,
    next_id: u64,
}

impl Timers {
    /// The time of the next live timer, dropping cancelled ones on the way.
    fn next_at(&mut self) -> Option<Duration> {
        while let Some(&Reverse((at, id))) = self.heap.peek() {
            if self.actions.contains_key(&id) {
                return Some(at);
            }
            self.heap.pop();
        }
        None
    }
}

/// A scheduled action, for cancelling it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimerId(u64);

impl Clock {
    pub(crate) fn new(virtual_time: bool, handle: Handle) -> Arc<Self> {
        Arc::new(Self {
            started: Instant::now(),
            virtual_time,
            skipped_nanos: AtomicU64::new(0),
            timers: Mutex::default(),
            handle,
        })
    }

    /// Whether waits skip ahead when the run is idle.
    pub(crate) fn is_virtual(&self) -> bool {
        self.virtual_time
    }

    /// Run time: since the run started, plus the skipped waits of virtual time.
    pub(crate) fn now(&self) -> Duration {
        self.started.elapsed().saturating_add(Duration::from_nanos(
            self.skipped_nanos.load(Ordering::Acquire),
        ))
    }

    fn timers(&self) -> MutexGuard<'_, Timers> {
        self.timers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `action` at run time `at` (at once if `at` has passed).
    pub(crate) fn schedule(self: &Arc<Self>, at: Duration, action: Action) -> TimerId {
        let at = at.min(HORIZON);
        let wait = at.saturating_sub(self.now());
        let clock = Arc::clone(self);
        let mut timers = self.timers();
        let id = timers.next_id;
        timers.next_id += 1;
        // Spawned under the lock, so the sleeper cannot look for its action before it is there.
        let sleeper = self.handle.spawn(async move {
            tokio::time::sleep(wait).await;
            clock.fire_due();
        });
        timers.heap.push(Reverse((at, id)));
        timers.actions.insert(id, (action, sleeper.abort_handle()));
        TimerId(id)
    }

    /// Drops a timer that has not fired yet.
    pub(crate) fn cancel(&self, timer: TimerId) {
        if let Some((_, sleeper)) = self.timers().actions.remove(&timer.0) {
            sleeper.abort();
        }
    }

    /// Runs every action whose time has come.
    pub(crate) fn fire_due(&self) {
        loop {
            let action = {
                let mut timers = self.timers();
                match timers.next_at() {
                    Some(at) if at <= self.now() => {
                        let Reverse((_, id)) = timers.heap.pop().expect("next_at saw a timer");
                        timers.actions.remove(&id)
                    }
                    _ => return,
                }
            };
            if let Some((action, sleeper)) = action {
                sleeper.abort();
                action();
            }
        }
    }

    /// With virtual time, jumps to the next timer and runs what is due; called when nothing
    /// of the run is queued or running. Returns whether there was a timer to jump to.
    pub(crate) fn skip_idle(&self) -> bool {
        if !self.virtual_time {
            return false;
        }
        {
            // Under the timers lock, so two threads finding the run idle skip only once.
            let mut timers = self.timers();
            let Some(at) = timers.next_at() else {
                return false;
            };
            let ahead = u64::try_from(at.saturating_sub(self.now()).as_nanos()).unwrap_or(u64::MAX);
            let skipped = self.skipped_nanos.load(Ordering::Acquire);
            self.skipped_nanos
                .store(skipped.saturating_add(ahead), Ordering::Release);
        }
        self.fire_due();
        true
    }
}
