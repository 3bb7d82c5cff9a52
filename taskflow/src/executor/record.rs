//! What each task did in a run. The state, tries and times live in atomics that a plain try
//! updates without a lock; the rest (errors, later tries' start times, the handles of a try
//! in flight, a sensor's progress) lives in a sharded map that only tasks needing it touch.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::clock::{TimerId, TrySleeps};
use crate::TaskState;

/// How many locks the extras are spread over.
const SHARDS: usize = 16;

/// An unset time.
const NO_TIME: u64 = u64::MAX;

/// The records of every task of a run.
pub(crate) struct Records {
    tasks: Box<[TaskRecord]>,
    extras: Box<[Mutex<HashMap<u32, Extra>>]>,
}

/// How many start times of retries a task keeps (the latest): a task retried without end
/// does not grow its run without end.
pub(crate) const MAX_RETRY_STARTS: usize = 1024;

/// The lock-free part of a task's record (32 bytes).
struct TaskRecord {
    state: AtomicU8,
    /// Whether the task has an entry among the extras.
    has_extra: AtomicBool,
    tries: AtomicU32,
    /// The last try whose outcome was taken (a late result of a timed-out try is dropped).
    settled: AtomicU32,
    /// Run time in nanoseconds when the first try started, and when the task ended.
    start: AtomicU64,
    end: AtomicU64,
}

/// The rest of a task's record, for tasks that retry, fail, sleep, time out or sense.
#[derive(Debug, Default)]
pub(crate) struct Extra {
    /// When each later try started: the latest [`MAX_RETRY_STARTS`] of them.
    pub(crate) retry_starts: std::collections::VecDeque<Duration>,
    pub(crate) error: Option<String>,
    /// The timeout timer of the try in flight.
    pub(crate) timeout: Option<TimerId>,
    /// The tokio task of an async try in flight that has a timeout, to cancel at it.
    pub(crate) abort: Option<tokio::task::AbortHandle>,
    /// A sensor's try: when its first check began, and how many checks said "not yet".
    pub(crate) sensor_started: Option<Duration>,
    pub(crate) pokes: u32,
    /// Set while a sensor in reschedule mode waits: its next check continues the same try.
    pub(crate) rescheduled: bool,
    /// The sleeps of the try in flight (`Context::sleep`), for tasks with a timeout.
    pub(crate) sleeps: Option<Arc<TrySleeps>>,
    /// When a rescheduled sensor's try went on with its latest check.
    pub(crate) resumed_at: Option<Duration>,
    /// The tries (and sensor checks) that ended in a wait: the latest [`MAX_RETRY_STARTS`].
    pub(crate) past: std::collections::VecDeque<PastTry>,
    /// The `tracing` span of the try in flight, in an observed run.
    pub(crate) span: Option<tracing::Span>,
}

/// A try, or a sensor's check, that ended in a wait (up_for_retry, up_for_reschedule).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PastTry {
    pub(crate) try_number: u32,
    pub(crate) start: Duration,
    pub(crate) end: Duration,
    pub(crate) state: TaskState,
}

impl Extra {
    /// Keeps `past`, forgetting the oldest beyond [`MAX_RETRY_STARTS`].
    pub(crate) fn keep_past(&mut self, past: PastTry) {
        if self.past.len() == MAX_RETRY_STARTS {
            self.past.pop_front();
        }
        self.past.push_back(past);
    }
}

/// What a try leaves in flight when it ends: its sleeps, timeout timer and tokio task.
pub(crate) struct InFlight {
    pub(crate) sleeps: Option<Arc<TrySleeps>>,
    pub(crate) timeout: Option<TimerId>,
    pub(crate) abort: Option<tokio::task::AbortHandle>,
}

fn time(nanos: u64) -> Option<Duration> {
    (nanos != NO_TIME).then(|| Duration::from_nanos(nanos))
}

impl Records {
    pub(crate) fn new(tasks: usize) -> Self {
        Self {
            tasks: (0..tasks)
                .map(|_| TaskRecord {
                    state: AtomicU8::new(TaskState::None.index()),
                    has_extra: AtomicBool::new(false),
                    tries: AtomicU32::new(0),
                    settled: AtomicU32::new(0),
                    start: AtomicU64::new(NO_TIME),
                    end: AtomicU64::new(NO_TIME),
                })
                .collect(),
            extras: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    #[inline]
    fn task(&self, node: u32) -> &TaskRecord {
        &self.tasks[node as usize]
    }

    #[inline]
    pub(crate) fn state(&self, node: u32) -> TaskState {
        TaskState::from_index(self.task(node).state.load(Ordering::Acquire))
    }

    #[inline]
    pub(crate) fn set_state(&self, node: u32, state: TaskState) {
        self.task(node)
            .state
            .store(state.index(), Ordering::Release);
    }

    /// How many tries have started.
    #[inline]
    pub(crate) fn tries(&self, node: u32) -> u32 {
        self.task(node).tries.load(Ordering::Acquire)
    }

    /// Counts a new try, started at `now`; returns its number. Only the thread starting the
    /// try writes these fields.
    #[inline]
    pub(crate) fn begin_try(&self, node: u32, now: u64) -> u32 {
        let task = self.task(node);
        task.state
            .store(TaskState::Running.index(), Ordering::Release);
        let try_number = task.tries.load(Ordering::Relaxed) + 1;
        task.tries.store(try_number, Ordering::Release);
        if try_number == 1 {
            task.start.store(now.min(NO_TIME - 1), Ordering::Release);
        } else {
            let now = Duration::from_nanos(now);
            self.with_extra(node, |extra| {
                if extra.retry_starts.len() == MAX_RETRY_STARTS {
                    extra.retry_starts.pop_front();
                }
                extra.retry_starts.push_back(now);
                extra.resumed_at = None;
            });
        }
        try_number
    }

    /// A task of a resumed run goes on from `tries` stored tries.
    pub(crate) fn resume_tries(&self, node: u32, tries: u32) {
        let task = self.task(node);
        task.tries.store(tries, Ordering::Release);
        task.settled.store(tries, Ordering::Release);
    }

    /// A task of a resumed run ends at `now` in its stored state, after its stored tries.
    pub(crate) fn restore(
        &self,
        node: u32,
        state: TaskState,
        tries: u32,
        now: u64,
        error: Option<String>,
    ) {
        self.resume_tries(node, tries);
        self.end_try(node, state, now, error);
    }

    /// A mapped task starts expanding at `now`: running, without a try of its own.
    pub(crate) fn begin_expansion(&self, node: u32, now: u64) {
        let task = self.task(node);
        task.state
            .store(TaskState::Running.index(), Ordering::Release);
        task.start.store(now.min(NO_TIME - 1), Ordering::Release);
    }

    /// Ends the task (or its try) in `state` at `now`, with the error of the try (`None`
    /// clears that of an earlier try).
    #[inline]
    pub(crate) fn end_try(&self, node: u32, state: TaskState, now: u64, error: Option<String>) {
        if error.is_some() || self.task(node).has_extra.load(Ordering::Acquire) {
            self.with_extra(node, |extra| extra.error = error);
        }
        self.end(node, state, now);
    }

    /// Ends the task (or its try) in `state` at `now`.
    #[inline]
    pub(crate) fn end(&self, node: u32, state: TaskState, now: u64) {
        let task = self.task(node);
        task.end.store(now.min(NO_TIME - 1), Ordering::Release);
        task.state.store(state.index(), Ordering::Release);
    }

    pub(crate) fn start_time(&self, node: u32) -> Option<Duration> {
        time(self.task(node).start.load(Ordering::Acquire))
    }

    pub(crate) fn end_time(&self, node: u32) -> Option<Duration> {
        time(self.task(node).end.load(Ordering::Acquire))
    }

    /// Takes the outcome of try `try_number` if no other outcome (a timeout, or the try
    /// itself) was taken first. `contended`: whether another thread may take one (a task
    /// with a timeout); else a plain store does.
    #[inline]
    pub(crate) fn claim(&self, node: u32, try_number: u32, contended: bool) -> bool {
        if !contended {
            return true; // nobody else takes outcomes of this task
        }
        let settled = &self.task(node).settled;
        settled
            .compare_exchange(
                try_number - 1,
                try_number,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
    }

    /// Makes try `try_number` claimable again (a sensor's try goes on after a check).
    pub(crate) fn unclaim(&self, node: u32, try_number: u32) {
        self.task(node)
            .settled
            .store(try_number - 1, Ordering::Release);
    }

    /// The last try whose outcome was taken.
    #[inline]
    pub(crate) fn settled(&self, node: u32) -> u32 {
        self.task(node).settled.load(Ordering::Acquire)
    }

    fn shard(&self, node: u32) -> MutexGuard<'_, HashMap<u32, Extra>> {
        // Only record fields are changed under these locks, never user code: a poisoned
        // lock still holds consistent data.
        self.extras[node as usize % SHARDS]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Changes the extras of `node`, creating them if needed.
    pub(crate) fn with_extra<R>(&self, node: u32, change: impl FnOnce(&mut Extra) -> R) -> R {
        let mut shard = self.shard(node);
        self.task(node).has_extra.store(true, Ordering::Release);
        change(shard.entry(node).or_default())
    }

    /// Changes the extras of `node` if it has any; `None` (and nothing made) if it has none.
    pub(crate) fn with_existing_extra<R>(
        &self,
        node: u32,
        change: impl FnOnce(&mut Extra) -> R,
    ) -> Option<R> {
        if !self.task(node).has_extra.load(Ordering::Acquire) {
            return None;
        }
        self.shard(node).get_mut(&node).map(change)
    }

    /// Reads the extras of `node`, if it has any.
    pub(crate) fn read_extra<R>(&self, node: u32, read: impl FnOnce(Option<&Extra>) -> R) -> R {
        if !self.task(node).has_extra.load(Ordering::Acquire) {
            return read(None);
        }
        read(self.shard(node).get(&node))
    }

    /// Takes what the try in flight of `node` left running; nothing for a task without
    /// extras, which a plain try finds without a lock.
    #[inline]
    pub(crate) fn take_in_flight(&self, node: u32) -> Option<InFlight> {
        if !self.task(node).has_extra.load(Ordering::Acquire) {
            return None;
        }
        let mut shard = self.shard(node);
        let extra = shard.get_mut(&node)?;
        Some(InFlight {
            sleeps: extra.sleeps.take(),
            timeout: extra.timeout.take(),
            abort: extra.abort.take(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_try_keeps_its_state_tries_and_times_without_extras() {
        let records = Records::new(2);
        assert_eq!(records.state(1), TaskState::None);
        assert_eq!(records.begin_try(1, 5_000_000), 1);
        records.end(1, TaskState::Success, 7_000_000);
        assert_eq!(records.state(1), TaskState::Success);
        assert_eq!(records.tries(1), 1);
        assert_eq!(records.start_time(1), Some(Duration::from_millis(5)));
        assert_eq!(records.end_time(1), Some(Duration::from_millis(7)));
        assert_eq!(records.start_time(0), None);
        assert!(records.read_extra(1, |extra| extra.is_none()));
        assert!(records.take_in_flight(1).is_none());
    }

    #[test]
    fn later_tries_keep_their_start_times_in_the_extras() {
        let records = Records::new(1);
        records.begin_try(0, 1_000_000_000);
        assert_eq!(records.begin_try(0, 9_000_000_000), 2);
        assert_eq!(records.start_time(0), Some(Duration::from_secs(1)));
        let later = records.read_extra(0, |extra| extra.map(|e| e.retry_starts.clone()));
        assert_eq!(later.unwrap(), [Duration::from_secs(9)]);
    }

    #[test]
    fn a_task_retried_without_end_keeps_only_its_latest_start_times() {
        let records = Records::new(1);
        let tries = MAX_RETRY_STARTS as u64 * 3;
        for try_number in 1..=tries {
            records.begin_try(0, try_number);
        }
        assert_eq!(records.tries(0), tries as u32);
        let later = records
            .read_extra(0, |extra| extra.map(|e| e.retry_starts.clone()))
            .unwrap();
        assert_eq!(later.len(), MAX_RETRY_STARTS);
        assert_eq!(later.back(), Some(&Duration::from_nanos(tries)));
        assert_eq!(
            later.front(),
            Some(&Duration::from_nanos(tries - MAX_RETRY_STARTS as u64 + 1))
        );
    }

    #[test]
    fn a_contended_claim_takes_each_try_once() {
        let records = Records::new(1);
        assert!(records.claim(0, 1, true));
        assert!(!records.claim(0, 1, true));
        records.unclaim(0, 1);
        assert!(records.claim(0, 1, true));
        assert!(records.claim(0, 2, true));
        assert_eq!(records.settled(0), 2);
    }
}
