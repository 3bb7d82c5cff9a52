//! The clock of a run, real or virtual, and its timers (retry delays, timeouts).
//!
//! Virtual time is real time plus skips: whenever nothing of the run is queued, running or
//! being fired by a timer, the clock jumps to its next timer instead of sleeping. A run whose tasks wait an hour
//! between retries then finishes in milliseconds, while a running task's own duration and
//! its timeout still pass in real time, so nothing times out early.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
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
    /// With virtual time: tries queued or running, plus timer actions being run. The clock
    /// skips only when it is zero, checked under the timers lock, where firing a timer
    /// counts itself; so two threads never both skip for the same idle moment.
    busy: AtomicUsize,
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
            busy: AtomicUsize::new(0),
            timers: Mutex::default(),
            handle,
        })
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

    /// Counts `tries` more tries queued (with virtual time only: a run-wide counter is a
    /// contended cache line that real-time runs do without).
    pub(crate) fn work_added(&self, tries: usize) {
        if self.virtual_time {
            self.busy.fetch_add(tries, Ordering::AcqRel);
        }
    }

    /// Counts the end of a try; when nothing is left busy, virtual time skips ahead.
    pub(crate) fn work_done(&self) {
        if self.virtual_time && self.busy.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.skip_while_idle();
        }
    }

    /// Runs every action whose time has come.
    pub(crate) fn fire_due(&self) {
        while let Some(action) = self.take_due(false) {
            if self.fire(action) {
                self.skip_while_idle();
            }
        }
    }

    /// With virtual time, while the run is idle, jumps to the next timer and fires it.
    fn skip_while_idle(&self) {
        while let Some(action) = self.take_due(true) {
            if !self.fire(action) {
                return;
            }
        }
    }

    /// Runs a timer's action, counted as busy so that virtual time waits for what it
    /// queues. Returns whether the run is idle afterwards.
    fn fire(&self, (action, sleeper): (Action, tokio::task::AbortHandle)) -> bool {
        sleeper.abort();
        action();
        self.virtual_time && self.busy.fetch_sub(1, Ordering::AcqRel) == 1
    }

    /// Takes the next timer's action if it is due, or, with `skip`, if the run is idle (after
    /// moving virtual time to it). A taken action counts as busy.
    fn take_due(&self, skip: bool) -> Option<(Action, tokio::task::AbortHandle)> {
        let mut timers = self.timers();
        let at = timers.next_at()?;
        if skip {
            if !self.virtual_time || self.busy.load(Ordering::Acquire) != 0 {
                return None;
            }
            let ahead = u64::try_from(at.saturating_sub(self.now()).as_nanos()).unwrap_or(u64::MAX);
            let skipped = self.skipped_nanos.load(Ordering::Acquire);
            self.skipped_nanos
                .store(skipped.saturating_add(ahead), Ordering::Release);
        } else if at > self.now() {
            return None;
        }
        let Reverse((_, id)) = timers.heap.pop().expect("next_at saw a timer");
        let action = timers
            .actions
            .remove(&id)
            .expect("next_at saw a live timer");
        if self.virtual_time {
            self.busy.fetch_add(1, Ordering::AcqRel);
        }
        Some(action)
    }
}
