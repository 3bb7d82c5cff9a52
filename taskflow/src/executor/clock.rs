//! The clock of a run, real or virtual, and its timers (retry delays, timeouts).
//!
//! Virtual time is real time plus skips: whenever nothing of the run is queued, running or
//! being fired by a timer, the clock jumps to its next timer instead of sleeping. A run whose tasks wait an hour
//! between retries then finishes in milliseconds, while a running task's own duration and
//! its timeout still pass in real time, so nothing times out early.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicU8;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use tokio::runtime::Handle;

/// The latest run time a timer can be set for (about 292 years): later ones are moved back
/// to it, so that virtual time, counted in nanoseconds, can always reach them.
const HORIZON: Duration = Duration::from_nanos(u64::MAX / 2);

/// The process's monotonic tick counter: the CPU's invariant time-stamp counter where it
/// has one (a few nanoseconds to read, against tens for the OS clock), calibrated against
/// the OS clock once per process; else the OS clock.
fn ticks() -> &'static quanta::Clock {
    static TICKS: OnceLock<quanta::Clock> = OnceLock::new();
    TICKS.get_or_init(quanta::Clock::new)
}

/// Something to do at a point in run time.
pub(crate) type Action = Box<dyn FnOnce() + Send>;

pub(crate) struct Clock {
    /// The reading of [`ticks`] when the clock started.
    started: u64,
    ticks: &'static quanta::Clock,
    /// The date when the clock started: run time 0.
    started_date: chrono::DateTime<chrono::Utc>,
    virtual_time: bool,
    skipped_nanos: AtomicU64,
    /// With virtual time: tries queued or running, plus timer actions being run, plus
    /// holds ([`Executor::hold_time`](crate::Executor::hold_time)). A try set aside for a
    /// limit is not counted while it waits (it cannot start before something else ends).
    /// The clock skips only when it is zero, checked under the timers lock, where firing a
    /// timer counts itself; so two threads never both skip for the same idle moment, and one
    /// read tells whether the clock is idle.
    busy: AtomicUsize,
    timers: Mutex<Timers>,
    handle: Handle,
    /// In unit tests: how many parts per million the run clock runs slow against tokio's
    /// (the two sources of time disagree by a few ppm on real machines).
    #[cfg(test)]
    slow_ppm: u64,
}

/// Pending timers: ordered by time, and their actions by id (a cancelled timer keeps its
/// heap entry until it reaches the top, but loses its action).
#[derive(Default)]
struct Timers {
    heap: BinaryHeap<Reverse<(Duration, u64)>>,
    actions: std::collections::HashMap<u64, Pending>,
    next_id: u64,
}

/// A timer's action, its run time, and the tokio task that wakes up for it.
struct Pending {
    at: Duration,
    action: Action,
    sleeper: tokio::task::AbortHandle,
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
        // The tick counter first: the first one of a process calibrates for a few
        // milliseconds, which must not come between the date and the tick it goes with.
        ticks();
        Self::new_at(virtual_time, handle, chrono::Utc::now())
    }

    /// A clock whose run time 0 is `date`.
    pub(crate) fn new_at(
        virtual_time: bool,
        handle: Handle,
        date: chrono::DateTime<chrono::Utc>,
    ) -> Arc<Self> {
        Arc::new(Self {
            started: ticks().raw(),
            ticks: ticks(),
            started_date: date,
            virtual_time,
            skipped_nanos: AtomicU64::new(0),
            busy: AtomicUsize::new(0),
            timers: Mutex::default(),
            handle,
            #[cfg(test)]
            slow_ppm: 0,
        })
    }

    /// Whether waits skip ahead.
    #[cfg(feature = "schedule")]
    pub(crate) fn is_virtual(&self) -> bool {
        self.virtual_time
    }

    /// The run time at which this clock reads `date` (0 for a date before it started).
    #[cfg(feature = "schedule")]
    pub(crate) fn run_time_at(&self, date: chrono::DateTime<chrono::Utc>) -> Duration {
        (date - self.started_date)
            .to_std()
            .unwrap_or(Duration::ZERO)
    }

    /// The date now on this clock: the wall clock's in real time, ahead of the wall clock by
    /// the skipped waits in virtual time.
    ///
    /// In real time it is read from the wall clock, not worked out from the tick counter
    /// run time goes by: that one drifts from the wall clock by some parts per million (16
    /// on some machines), which in a scheduler running for days adds up to seconds of
    /// lateness (or runs started before they are due).
    pub(crate) fn date_now(&self) -> chrono::DateTime<chrono::Utc> {
        if !self.virtual_time {
            return chrono::Utc::now();
        }
        let now = chrono::Duration::from_std(self.now()).unwrap_or(chrono::Duration::MAX);
        self.started_date
            .checked_add_signed(now)
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)
    }

    /// Run time: since the run started, plus the skipped waits of virtual time.
    #[inline]
    pub(crate) fn now(&self) -> Duration {
        Duration::from_nanos(self.now_nanos())
    }

    /// [`Clock::now`] in nanoseconds.
    #[inline]
    pub(crate) fn now_nanos(&self) -> u64 {
        let real = self.ticks.delta_as_nanos(self.started, self.ticks.raw());
        #[cfg(test)]
        let real = real - real / 1_000_000 * self.slow_ppm;
        if !self.virtual_time {
            return real; // nothing is ever skipped
        }
        real.saturating_add(self.skipped_nanos.load(Ordering::Acquire))
    }

    fn timers(&self) -> MutexGuard<'_, Timers> {
        self.timers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `action` at run time `at` (at once if `at` has passed).
    ///
    /// Run time is the one source of time: a tokio timer only wakes the clock up, which then
    /// looks at run time, fires what is due, and sleeps again for what is left of a timer
    /// that is not due yet (tokio's clock and run time may disagree by a few parts per
    /// million, and virtual time may have skipped meanwhile).
    pub(crate) fn schedule(self: &Arc<Self>, at: Duration, action: Action) -> TimerId {
        let at = at.min(HORIZON);
        let wait = at.saturating_sub(self.now());
        let clock = Arc::clone(self);
        let mut timers = self.timers();
        let id = timers.next_id;
        timers.next_id += 1;
        // Spawned under the lock, so the sleeper cannot look for its action before it is there.
        let sleeper = self.handle.spawn(async move {
            let mut wait = wait;
            loop {
                tokio::time::sleep(wait).await;
                clock.fire_due();
                match clock.left_of(id) {
                    Some(left) => wait = left,
                    None => return, // fired or cancelled
                }
            }
        });
        timers.heap.push(Reverse((at, id)));
        let sleeper = sleeper.abort_handle();
        timers.actions.insert(
            id,
            Pending {
                at,
                action,
                sleeper,
            },
        );
        TimerId(id)
    }

    /// The run time left until timer `id` is due, if it is still pending.
    fn left_of(&self, id: u64) -> Option<Duration> {
        let at = self.timers().actions.get(&id)?.at;
        Some(at.saturating_sub(self.now()))
    }

    /// Drops a timer that has not fired yet.
    pub(crate) fn cancel(&self, timer: TimerId) {
        if let Some(pending) = self.timers().actions.remove(&timer.0) {
            pending.sleeper.abort();
        }
    }

    /// Stops counting a queued try as busy while it waits for a limit (called under the
    /// scheduler's lock, so it never skips ahead itself). Returns whether the clock may now
    /// be idle: the caller then calls [`Clock::recheck`] once the lock is released.
    pub(crate) fn set_aside(&self) -> bool {
        self.virtual_time && self.busy.fetch_sub(1, Ordering::AcqRel) == 1
    }

    /// With virtual time, skips ahead if nothing can move on without it (called by a worker
    /// that found nothing to start).
    pub(crate) fn recheck(&self) {
        if self.virtual_time {
            self.skip_while_idle();
        }
    }

    /// Waits `duration` on this clock: in virtual time, a sleeping try does not keep the
    /// clock from skipping ahead.
    pub(crate) fn sleep(self: &Arc<Self>, duration: Duration, sleeps: Option<&TrySleeps>) -> Sleep {
        let state = Arc::new(AtomicU8::new(SLEEPING));
        let (wake, woken) = tokio::sync::oneshot::channel();
        let (clock, flag) = (Arc::clone(self), Arc::clone(&state));
        let timer = self.schedule(
            self.now().saturating_add(duration),
            Box::new(move || {
                if flag
                    .compare_exchange(SLEEPING, WOKEN, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                {
                    clock.work_added(1);
                }
                let _ = wake.send(());
            }),
        );
        if let Some(sleeps) = sleeps {
            sleeps.add(Arc::clone(&state), timer);
        }
        self.work_done();
        Sleep {
            clock: Arc::clone(self),
            timer,
            state,
            woken,
        }
    }

    /// Counts `tries` more tries queued (with virtual time only: a run-wide counter is a
    /// contended cache line that real-time runs do without).
    #[inline]
    pub(crate) fn work_added(&self, tries: usize) {
        if self.virtual_time {
            self.busy.fetch_add(tries, Ordering::AcqRel);
        }
    }

    /// Counts the end of a try; when nothing is left busy, virtual time skips ahead.
    #[inline]
    pub(crate) fn work_done(&self) {
        if self.virtual_time && self.idle_after_one_less() {
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
    fn fire(&self, pending: Pending) -> bool {
        pending.sleeper.abort();
        (pending.action)();
        self.virtual_time && self.idle_after_one_less()
    }

    /// Counts one busy try or firing less; whether the clock is now idle.
    fn idle_after_one_less(&self) -> bool {
        self.busy.fetch_sub(1, Ordering::AcqRel) == 1
    }

    /// Takes the next timer's action if it is due, or, with `skip`, if the clock is idle
    /// (after moving virtual time to it). A taken action counts as busy.
    fn take_due(&self, skip: bool) -> Option<Pending> {
        let mut timers = self.timers();
        let at = timers.next_at()?;
        let now = self.now();
        if at > now {
            // Not due: only an idle run skips ahead to it.
            let idle = self.virtual_time && self.busy.load(Ordering::Acquire) == 0;
            if !skip || !idle {
                return None;
            }
            let ahead = u64::try_from((at - now).as_nanos()).unwrap_or(u64::MAX);
            let skipped = self.skipped_nanos.load(Ordering::Acquire);
            self.skipped_nanos
                .store(skipped.saturating_add(ahead), Ordering::Release);
        }
        let Reverse((_, id)) = timers.heap.pop().expect("next_at saw a timer");
        let pending = timers
            .actions
            .remove(&id)
            .expect("next_at saw a live timer");
        if self.virtual_time {
            self.busy.fetch_add(1, Ordering::AcqRel);
        }
        Some(pending)
    }
}

/// The sleeps of one try, so that a try ended from outside (a timeout) settles them at once:
/// a sleeping try does not count as busy, and its end must not count it out twice.
#[derive(Debug, Default)]
pub(crate) struct TrySleeps(Mutex<Vec<(Arc<AtomicU8>, TimerId)>>);

impl TrySleeps {
    fn add(&self, state: Arc<AtomicU8>, timer: TimerId) {
        let mut sleeps = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        sleeps.retain(|(state, _)| state.load(Ordering::Acquire) == SLEEPING);
        sleeps.push((state, timer));
    }

    /// Cancels the sleeps still waiting, counting the try as busy again for each, as before
    /// it slept.
    pub(crate) fn cancel_all(&self, clock: &Clock) {
        let sleeps = std::mem::take(
            &mut *self
                .0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        for (state, timer) in sleeps {
            cancel_sleep(clock, &state, timer);
        }
    }
}

const SLEEPING: u8 = 0;
const WOKEN: u8 = 1;
const CANCELLED: u8 = 2;

/// A try waiting on its run's clock; see [`Clock::sleep`].
pub(crate) struct Sleep {
    clock: Arc<Clock>,
    timer: TimerId,
    state: Arc<AtomicU8>,
    woken: tokio::sync::oneshot::Receiver<()>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        Pin::new(&mut self.woken).poll(cx).map(|_| ())
    }
}

impl Drop for Sleep {
    /// A sleep given up early (its try timed out, say) counts its try as busy again, as
    /// it was before it slept.
    fn drop(&mut self) {
        cancel_sleep(&self.clock, &self.state, self.timer);
    }
}

/// Ends a sleep that has not woken yet: drops its timer and counts its try as busy again,
/// as before it slept. Nothing if it woke, or was cancelled already.
fn cancel_sleep(clock: &Clock, state: &AtomicU8, timer: TimerId) {
    let cancelled = state
        .compare_exchange(SLEEPING, CANCELLED, Ordering::AcqRel, Ordering::Acquire)
        .is_ok();
    if cancelled {
        clock.cancel(timer);
        clock.work_added(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clock whose run time runs `slow_ppm` parts per million slower than tokio's timers.
    fn skewed(slow_ppm: u64, runtime: &tokio::runtime::Runtime) -> Arc<Clock> {
        let clock = Clock::new(false, runtime.handle().clone());
        let mut clock = Arc::into_inner(clock).expect("a new clock has one handle");
        clock.slow_ppm = slow_ppm;
        Arc::new(clock)
    }

    #[test]
    fn a_real_time_date_follows_the_wall_clock_while_run_time_drifts() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        // Run time at half speed: the tick counter drifting from the wall clock, hugely.
        let clock = skewed(500_000, &runtime);
        let began = std::time::Instant::now();
        while began.elapsed() < Duration::from_millis(40) {
            std::hint::spin_loop();
        }
        let behind = chrono::Utc::now() - clock.date_now();
        assert!(clock.now() < Duration::from_millis(30), "run time drifts");
        assert!(
            behind < chrono::Duration::milliseconds(5),
            "the date is {behind} behind the wall clock"
        );
    }

    #[test]
    fn a_timer_fires_when_tokio_wakes_it_before_run_time_is_due() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_time()
            .build()
            .unwrap();
        // Run time runs at half speed: every tokio wake-up comes early by run time.
        let clock = skewed(500_000, &runtime);
        let (fired, woken) = std::sync::mpsc::channel();
        let at = Duration::from_millis(40);
        clock.schedule(
            at,
            Box::new(move || {
                let _ = fired.send(());
            }),
        );
        woken
            .recv_timeout(Duration::from_secs(10))
            .expect("a timer woken early by tokio was never re-armed");
        assert!(
            clock.now() >= at,
            "fired at {:?}, before {at:?}",
            clock.now()
        );
    }
}
