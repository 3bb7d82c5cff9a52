//! The worker threads of an executor, which run the ready tasks of every run in the order
//! and within the limits its [`Scheduler`] sets.
//!
//! Runs that count nothing against limits (those of `Dag::run` and `Dag::test`) take a fast
//! path: a worker that finishes a task runs one newly ready successor itself (a continuation,
//! so a chain never touches a queue), hands it the value when it is its only reader, and
//! keeps the other ready tasks in a queue of its own, from which idle workers steal the older
//! half. The shared queue keeps a run's ready tasks in batches, and a worker takes a share of
//! a batch at once. Runs that count their tries go through the priority queue instead.
//!
//! Sync task bodies run on the workers; when every worker is stuck in a long task while work
//! waits (in the shared queue or a worker's own), a monitor adds a worker, up to a maximum,
//! so blocking tasks still run in parallel. Workers beyond the first ones leave again after a
//! while without work.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, RwLock};
use std::time::{Duration, Instant};

use super::clock::Clock;
use super::local::LocalQueue;
use super::registry::Runs;
use super::run::{RunState, Step};
use super::scheduler::{PoolSlots, Scheduler};
use crate::dag::DEFAULT_POOL;

/// How long every worker must have been inside tasks, with work waiting, before one is added.
const STALL: Duration = Duration::from_millis(2);

/// The most ready tasks a worker takes from the shared queue at once into its own.
const MAX_SHARE: usize = 256;

/// How long an added worker waits for work before it leaves.
const IDLE_EXIT: Duration = Duration::from_secs(10);

/// How an executor limits its runs.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    /// Tries in flight at once (`usize::MAX`: no limit).
    pub(crate) parallelism: usize,
    /// Named pools and their slots; `default_pool` among them or added unlimited.
    pub(crate) pools: Vec<(String, u32)>,
    /// Whether a task naming a pool the executor lacks is an error (else it uses the default
    /// pool).
    pub(crate) strict_pools: bool,
    /// Limits of DAGs that set none of their own.
    pub(crate) max_active_tasks: u32,
    pub(crate) max_active_runs: u32,
    /// Whether every try is counted against the limits (else only runs of DAGs with limits
    /// of their own are).
    pub(crate) count_all: bool,
    /// The most worker threads (`None`: one per try of `parallelism`).
    pub(crate) max_worker_threads: Option<usize>,
    /// The `max_map_length` of DAGs that set none (`None`: Airflow's 1024).
    pub(crate) max_map_length: Option<u32>,
}

impl Limits {
    /// No limits: the default executor of `Dag::run` and `Dag::test`.
    pub(crate) fn none() -> Self {
        Self {
            parallelism: usize::MAX,
            pools: Vec::new(),
            strict_pools: false,
            max_active_tasks: u32::MAX,
            max_active_runs: u32::MAX,
            count_all: false,
            max_worker_threads: None,
            max_map_length: None,
        }
    }
}

/// A handle to a pool of worker threads.
#[derive(Clone)]
pub(crate) struct Pool {
    shared: Arc<Shared>,
}

struct Shared {
    queue: Mutex<Queue>,
    work_ready: Condvar,
    stalled: Condvar,
    /// Jobs taken off the shared queue so far: with the workers' own counts, the monitor's
    /// sign of progress.
    taken: AtomicU64,
    /// Each worker's own queue.
    locals: RwLock<Vec<Arc<LocalQueue>>>,
    /// Workers waiting for work (`Queue::idle`, readable without the lock).
    idle: AtomicUsize,
    /// Set when the executor is dropped: workers leave once its runs are done.
    closing: AtomicBool,
    /// Whether the monitor waits for news of work that no worker took (so that only then a
    /// push pays for waking it).
    monitor_waiting: AtomicBool,
    pub(crate) limits: Limits,
    /// The virtual clock the executor's runs share, if it has one.
    clock: OnceLock<Arc<Clock>>,
    /// The runs the executor has seen, for tasks that look at other runs.
    runs: Arc<Runs>,
    /// Until when idle workers wait for work awake rather than asleep ([`Pool::warm_up`]).
    warm_until: Mutex<Option<Instant>>,
    core_workers: usize,
    max_workers: usize,
}

struct Queue {
    scheduler: Scheduler,
    /// Workers waiting for work.
    idle: usize,
    /// Wake-ups sent to idle workers that they have not acted on yet.
    waking: usize,
    workers: usize,
}

impl Queue {
    /// Idle workers no wake-up is on its way to.
    fn sleeping(&self) -> usize {
        self.idle.saturating_sub(self.waking)
    }
}

impl Pool {
    /// The process-wide pool of `Dag::run` and `Dag::test`: no limits, one worker per core
    /// to start with, more while every worker is inside a blocking task, up to
    /// [`default_max_worker_threads`].
    pub(crate) fn global() -> &'static Pool {
        static POOL: OnceLock<Pool> = OnceLock::new();
        POOL.get_or_init(|| {
            let cores = cores();
            Pool::new(
                Limits::none(),
                cores,
                default_max_worker_threads().max(cores),
            )
        })
    }

    /// A pool for an executor with these limits: at most one worker per try it may run at
    /// once (`parallelism`, at most 1024), or `max_worker_threads`.
    pub(crate) fn with_limits(limits: Limits) -> Pool {
        let cores = cores();
        let max = limits
            .max_worker_threads
            .unwrap_or(limits.parallelism)
            .clamp(1, 1024);
        Pool::new(limits, cores.min(max), max)
    }

    fn new(limits: Limits, core_workers: usize, max_workers: usize) -> Pool {
        let mut pools: Vec<PoolSlots> = Vec::new();
        let default_slots = limits
            .pools
            .iter()
            .find(|(name, _)| name == DEFAULT_POOL)
            .map_or(u32::MAX, |&(_, slots)| slots);
        pools.push(PoolSlots::new(DEFAULT_POOL.into(), default_slots));
        for (name, slots) in limits.pools.iter().filter(|(name, _)| name != DEFAULT_POOL) {
            pools.push(PoolSlots::new(name.as_str().into(), *slots));
        }
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                scheduler: Scheduler::new(limits.parallelism, pools),
                idle: 0,
                waking: 0,
                workers: 0,
            }),
            work_ready: Condvar::new(),
            stalled: Condvar::new(),
            taken: AtomicU64::new(0),
            locals: RwLock::default(),
            idle: AtomicUsize::new(0),
            closing: AtomicBool::new(false),
            monitor_waiting: AtomicBool::new(false),
            limits,
            clock: OnceLock::new(),
            runs: Arc::default(),
            warm_until: Mutex::new(None),
            core_workers,
            max_workers,
        });
        for _ in 0..core_workers {
            shared.add_worker();
        }
        let monitor = Arc::clone(&shared);
        let started = std::thread::Builder::new()
            .name("taskflow-monitor".into())
            .spawn(move || monitor.watch());
        if let Err(error) = started {
            tracing::warn!("no monitor thread ({error}); blocking tasks may wait for each other");
        }
        Pool { shared }
    }

    pub(crate) fn limits(&self) -> &Limits {
        &self.shared.limits
    }

    /// The executor's index of each pool a DAG names (by the DAG's pool index), or the name
    /// of one the executor lacks when it is strict about pools.
    pub(crate) fn map_pools(&self, names: &[Arc<str>]) -> Result<Box<[u16]>, (Arc<str>, u32)> {
        let queue = self.shared.lock();
        names
            .iter()
            .map(|name| match queue.scheduler.pool_index(name) {
                Some(index) => Ok(u16::try_from(index).unwrap_or(0)),
                None if self.shared.limits.strict_pools => Err((Arc::clone(name), 0)),
                None => Ok(0),
            })
            .collect()
    }

    /// The slots of pool `index`.
    pub(crate) fn pool_size(&self, index: usize) -> u32 {
        self.shared.lock().scheduler.pools[index].slots
    }

    /// Queues tasks of `run` that are ready to start.
    pub(crate) fn push(&self, run: &Arc<RunState>, nodes: impl IntoIterator<Item = u32>) {
        self.shared.push(run, nodes);
    }

    /// Gives back the slots a try of `node` took (for runs whose tries are counted) and
    /// queues the tasks it made ready, in one step: a freed slot goes to the best task
    /// waiting, the newly ready ones included.
    pub(crate) fn release_and_push(&self, run: &Arc<RunState>, node: u32, ready: Vec<u32>) {
        let mut queue = self.shared.lock();
        queue.scheduler.finish(run, Some(node), ready);
        self.shared.wake(queue);
    }

    /// Starts `run` now, or once its DAG has fewer than `max_active_runs` runs going.
    pub(crate) fn start_run(&self, run: &Arc<RunState>) {
        let admitted = self.shared.lock().scheduler.admit_run(run);
        if admitted {
            run.start();
        }
    }

    /// The runs this executor has seen.
    pub(crate) fn runs(&self) -> &Arc<Runs> {
        &self.shared.runs
    }

    /// Starts `runs` together, each now or once its DAG has fewer than `max_active_runs`
    /// runs going: the workers are woken once every run's first tasks are queued, so that
    /// the thread starting the last does not wait for the tasks of the first.
    #[cfg(feature = "schedule")]
    pub(crate) fn start_runs(&self, runs: &[Arc<RunState>]) {
        for run in runs {
            let admitted = self.shared.lock().scheduler.admit_run(run);
            if admitted {
                run.start_staged();
            }
        }
        self.shared.wake(self.shared.lock());
    }

    /// Has the workers wait for work awake until `until`: work that comes then (runs due at a
    /// known time) starts at once, not after a sleeping thread is woken, which on a busy or
    /// virtual machine may take milliseconds.
    #[cfg(feature = "schedule")]
    pub(crate) fn warm_up(&self, until: Instant) {
        *self
            .shared
            .warm_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(until);
        self.shared.work_ready.notify_all();
    }

    /// Queues `nodes` of `run` without waking a worker for them: one wake follows for
    /// many ([`Pool::start_runs`]).
    #[cfg(feature = "schedule")]
    pub(crate) fn stage(&self, run: &Arc<RunState>, nodes: impl IntoIterator<Item = u32>) {
        Shared::unlock(self.shared.queue_nodes(run, nodes));
    }

    /// Counts `run` as ended and starts the next run of its DAG that waited for it.
    pub(crate) fn run_ended(&self, run: &RunState) {
        let next = self.shared.lock().scheduler.run_ended(run);
        if let Some(next) = next {
            next.start();
        }
        if self.shared.closing.load(Ordering::Acquire) {
            self.shared.work_ready.notify_all();
        }
    }

    /// Shares a virtual clock among the executor's runs: time skips ahead only when no try
    /// of any run can move on without it.
    pub(crate) fn share_clock(&self, clock: &Arc<Clock>) {
        let _ = self.shared.clock.set(Arc::clone(clock));
    }

    /// Lets the workers leave once every run is done.
    pub(crate) fn close(&self) {
        self.shared.closing.store(true, Ordering::Release);
        self.shared.work_ready.notify_all();
        self.shared.stalled.notify_all();
    }
}

/// Should a worker's thread unwind after all (a defect of the executor: user code is caught
/// where it runs), it stops counting as a worker and its queue goes, so that the monitor
/// adds another one instead of waiting on a dead one.
struct LeaveOnPanic<'a> {
    shared: &'a Arc<Shared>,
    local: &'a Arc<LocalQueue>,
}

impl Drop for LeaveOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.shared.lock().workers -= 1;
            self.shared
                .locals
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .retain(|other| !Arc::ptr_eq(other, self.local));
        }
    }
}

/// The variable that sets the most worker threads of `Dag::run` and `Dag::test`.
pub(crate) const MAX_WORKER_THREADS_VAR: &str = "TASKFLOW_MAX_WORKER_THREADS";

/// The most worker threads of the process-wide pool: [`MAX_WORKER_THREADS_VAR`] if set to a
/// positive number, else 512 (as tokio's blocking pool).
fn default_max_worker_threads() -> usize {
    std::env::var(MAX_WORKER_THREADS_VAR)
        .ok()
        .and_then(|value| value.trim().parse::<usize>().ok())
        .filter(|&max| max > 0)
        .unwrap_or(512)
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // Task bodies never run under this lock, so a poisoned lock holds consistent data.
        self.queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Starts one more worker; false if the OS would not start a thread.
    fn add_worker(self: &Arc<Self>) -> bool {
        let index = {
            let mut queue = self.lock();
            queue.workers += 1;
            queue.workers
        };
        let shared = Arc::clone(self);
        let extra = index > self.core_workers;
        let started = std::thread::Builder::new()
            .name("taskflow-worker".into())
            .spawn(move || shared.work(extra));
        if started.is_err() {
            self.lock().workers -= 1;
        }
        started.is_ok()
    }

    fn push(&self, run: &Arc<RunState>, nodes: impl IntoIterator<Item = u32>) {
        self.wake(self.queue_nodes(run, nodes));
    }

    /// Queues `nodes` of `run`, the lock still held for what follows (a wake, or none).
    fn queue_nodes(
        &self,
        run: &Arc<RunState>,
        nodes: impl IntoIterator<Item = u32>,
    ) -> MutexGuard<'_, Queue> {
        let mut queue = self.lock();
        for node in nodes {
            queue.scheduler.push(run, node);
        }
        queue
    }

    /// Releases the lock, then lets the clocks of tasks set aside for limits meanwhile skip
    /// ahead if nothing else keeps them.
    fn unlock(queue: MutexGuard<'_, Queue>) {
        let mut queue = queue;
        let rechecks = queue.scheduler.take_rechecks();
        drop(queue);
        for clock in rechecks {
            clock.recheck();
        }
    }

    /// Wakes as many sleeping workers as tasks could start.
    fn wake(&self, queue: MutexGuard<'_, Queue>) {
        let mut queue = queue;
        if !queue.scheduler.has_startable() {
            Self::unlock(queue);
            return;
        }
        let waiting = queue.scheduler.len();
        let wake = waiting.min(queue.sleeping());
        queue.waking += wake;
        let short = waiting > wake;
        Self::unlock(queue);
        (0..wake).for_each(|_| self.work_ready.notify_one());
        if short && self.monitor_waiting.swap(false, Ordering::AcqRel) {
            self.stalled.notify_one();
        }
    }

    /// The next job, or `None` when the worker should leave (an added worker that waited
    /// long enough, or a closing executor with nothing left to do). Looks in the worker's
    /// own queue, then the shared one (taking a share of a run's ready tasks along into its
    /// own queue), then the other workers' queues.
    fn next_job(&self, local: &LocalQueue, extra: bool) -> Option<(Arc<RunState>, u32)> {
        let mut rechecked = false;
        let mut more = Vec::new();
        loop {
            if let Some(job) = local.pop() {
                local.took();
                return Some(job);
            }
            let mut queue = self.lock();
            let share = (queue.scheduler.len() / (2 * queue.workers.max(1))).clamp(1, MAX_SHARE);
            if let Some((run, node)) = queue.scheduler.pop_chunk(share, &mut more) {
                self.taken.fetch_add(1, Ordering::Relaxed);
                Self::unlock(queue);
                if !more.is_empty() && !local.push(&run, &mut more) {
                    self.push(&run, more.drain(..));
                }
                self.offer(local);
                return Some((run, node));
            }
            if self.closing.load(Ordering::Acquire) && queue.scheduler.is_idle() {
                queue.workers -= 1;
                return None;
            }
            Self::unlock(queue);
            if let Some(job) = self.steal(local) {
                return Some(job);
            }
            if let Some(clock) = self.clock.get().filter(|_| !rechecked) {
                // Tasks this worker set aside for a limit may leave a shared virtual clock
                // nothing to wait for: let it skip ahead before sleeping.
                rechecked = true;
                clock.recheck();
                continue;
            }
            rechecked = false;
            if self.warm() {
                // Work is due in a moment: look again instead of sleeping.
                std::thread::yield_now();
                continue;
            }
            let mut queue = self.lock();
            queue.idle += 1;
            self.idle.fetch_add(1, Ordering::SeqCst);
            // Announced as idle first, then checked: a worker queueing tasks of its own
            // either sees this one idle and wakes it, or is seen here.
            if queue.scheduler.has_startable() || self.has_local_jobs() {
                queue.idle -= 1;
                self.idle.fetch_sub(1, Ordering::SeqCst);
                continue;
            }
            let (guard, waited) = if extra {
                let (guard, result) = self
                    .work_ready
                    .wait_timeout(queue, IDLE_EXIT)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                (guard, result.timed_out())
            } else {
                let guard = self
                    .work_ready
                    .wait(queue)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                (guard, false)
            };
            queue = guard;
            queue.idle -= 1;
            self.idle.fetch_sub(1, Ordering::SeqCst);
            queue.waking = queue.waking.saturating_sub(1);
            if waited && queue.scheduler.len() == 0 && !self.has_local_jobs() {
                queue.workers -= 1;
                return None;
            }
        }
    }

    /// Whether idle workers are to stay awake now ([`Pool::warm_up`]).
    fn warm(&self) -> bool {
        let mut until = self
            .warm_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match *until {
            Some(at) if Instant::now() < at => true,
            Some(_) => {
                *until = None;
                false
            }
            None => false,
        }
    }

    /// Takes half of another worker's queue: one task to run, the rest into `own`.
    fn steal(&self, own: &LocalQueue) -> Option<(Arc<RunState>, u32)> {
        let locals = self.locals.read().unwrap_or_else(|p| p.into_inner());
        let (victim, (run, mut nodes)) = locals
            .iter()
            .filter(|victim| !std::ptr::eq(victim.as_ref(), own))
            .find_map(|victim| Some((Arc::clone(victim), victim.steal_half()?)))?;
        drop(locals);
        // What the victim still holds may wait for other sleepers.
        self.offer(&victim);
        let node = nodes.pop()?;
        own.took();
        if !nodes.is_empty() {
            if own.push(&run, &mut nodes) {
                self.offer(own);
            } else {
                self.push(&run, nodes.drain(..));
            }
        }
        Some((run, node))
    }

    /// Whether some worker's own queue holds tasks.
    fn has_local_jobs(&self) -> bool {
        let locals = self.locals.read().unwrap_or_else(|p| p.into_inner());
        locals.iter().any(|local| local.len() > 0)
    }

    /// Tasks of all workers taken so far.
    fn progress(&self) -> u64 {
        let locals = self.locals.read().unwrap_or_else(|p| p.into_inner());
        locals.iter().map(|local| local.taken()).sum::<u64>() + self.taken.load(Ordering::Relaxed)
    }

    /// After tasks went into a worker's own queue: wakes an idle worker to steal some, or
    /// tells the monitor that work waits.
    fn offer(&self, local: &LocalQueue) {
        let queued = local.len();
        if queued == 0 {
            return;
        }
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.idle.load(Ordering::SeqCst) > 0 {
            // As many as could start (a thief takes half and offers the rest in turn, but
            // blocking tasks that wait for each other need them all running).
            let mut queue = self.lock();
            let wake = queued.min(queue.sleeping());
            if wake > 0 {
                queue.waking += wake;
                drop(queue);
                (0..wake).for_each(|_| self.work_ready.notify_one());
                return;
            }
        }
        if self.monitor_waiting.swap(false, Ordering::AcqRel) {
            self.stalled.notify_one();
        }
    }

    fn work(self: Arc<Self>, extra: bool) {
        let local = Arc::new(LocalQueue::new());
        self.locals
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(Arc::clone(&local));
        let _leaving = LeaveOnPanic {
            shared: &self,
            local: &local,
        };
        let mut step = Step::default();
        let mut next = self.next_job(&local, extra);
        // When the try before ended, if the next one continues it in place.
        let mut started = None;
        while let Some((run, node)) = next.take() {
            step.taken = false;
            step.ended_at = None;
            step.may_carry = !run.sched.accounted;
            // Task bodies and callbacks are caught where they run; this catches a bug of the
            // executor itself, so that it fails the task instead of killing a worker.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run.execute(node, started.take(), &mut step)
            }));
            if let Err(payload) = outcome {
                // A carried value (unread by the try, or stored by it) goes to its slot.
                run.carry_on(&mut step.carried, None);
                let node = step.current;
                if std::mem::take(&mut step.in_body) {
                    run.body_panicked(node, payload, &mut step);
                } else {
                    if step.taken {
                        // The try had ended already: ending it again would count it twice.
                        run.executor_panicked_after_end(node, &*payload);
                    } else {
                        run.executor_panicked(node, &*payload, &mut step);
                    }
                    crate::quiet::drop_payload(payload);
                }
            }
            let successor = if run.sched.accounted {
                next = self.finish_counted(&run, step.taken.then_some(node), &mut step.ready);
                None
            } else {
                self.continuation(&run, &local, &mut step)
            };
            // A run's end is counted before its last try is counted out of a virtual clock,
            // so that the clock cannot skip ahead between the two: what hears of the end (a
            // scheduler, the run's own `dagrun_timeout` timer) does at the instant it ended.
            if let Some(successor) = successor {
                if step.taken {
                    run.try_ended();
                }
                started = step.ended_at;
                next = Some((run, successor));
            } else if next.is_some() {
                run.count_ended(&mut step);
                if step.taken {
                    run.try_ended();
                }
            } else if let Some(node) = local.pop_of(&run) {
                if step.taken {
                    run.try_ended();
                }
                local.took();
                next = Some((run, node));
            } else {
                run.count_ended(&mut step);
                if step.taken {
                    run.try_ended();
                }
                drop(run);
                next = self.next_job(&local, extra);
            }
        }
        self.locals
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|other| !Arc::ptr_eq(other, &local));
    }

    /// After a try of a run that counts its tries: gives back the slots of `released`, queues
    /// the ready tasks and takes the next job, under one lock.
    fn finish_counted(
        &self,
        run: &Arc<RunState>,
        released: Option<u32>,
        ready: &mut Vec<u32>,
    ) -> Option<(Arc<RunState>, u32)> {
        let mut queue = self.lock();
        queue.scheduler.finish(run, released, ready.drain(..));
        let job = queue.scheduler.pop();
        if job.is_some() {
            self.taken.fetch_add(1, Ordering::Relaxed);
        }
        self.wake(queue);
        job
    }

    /// For a run that counts nothing against limits (its ready tasks may all start at
    /// once): picks a ready successor to run in place and queues the others in the worker's
    /// own queue. The value the try carried stays in `step` for the successor if it reads
    /// it, else goes to its slot before any other reader is queued.
    fn continuation(
        &self,
        run: &Arc<RunState>,
        local: &LocalQueue,
        step: &mut Step,
    ) -> Option<u32> {
        let next = step.ready.pop();
        run.carry_on(&mut step.carried, next);
        if !step.ready.is_empty() {
            if local.push(run, &mut step.ready) {
                self.offer(local);
            } else {
                self.push(run, step.ready.drain(..));
            }
        }
        next
    }

    /// Adds a worker whenever work has waited for `STALL` while every worker was busy; at
    /// the most workers allowed, says so (once per stall) instead.
    fn watch(self: Arc<Self>) {
        let mut warned = false;
        loop {
            let mut queue = self.lock();
            while !(queue.scheduler.has_startable() || self.has_local_jobs())
                || queue.sleeping() > 0
            {
                warned = false;
                if self.closing.load(Ordering::Acquire) && queue.scheduler.is_idle() {
                    return;
                }
                // The timeout is a backstop against a missed notification.
                self.monitor_waiting.store(true, Ordering::Release);
                let (guard, _) = self
                    .stalled
                    .wait_timeout(queue, STALL * 25)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                queue = guard;
            }
            drop(queue);
            let progress = self.progress();
            std::thread::sleep(STALL);
            let queue = self.lock();
            let stuck = (queue.scheduler.has_startable() || self.has_local_jobs())
                && queue.sleeping() == 0
                && self.progress() == progress;
            let (workers, waiting) = (queue.workers, queue.scheduler.len());
            drop(queue);
            if !stuck {
                warned = false;
            } else if workers >= self.max_workers {
                if !std::mem::replace(&mut warned, true) {
                    self.warn_all_blocked(workers, waiting);
                }
                std::thread::sleep(STALL * 50);
            } else if !self.add_worker() {
                tracing::warn!("the OS would not start another worker thread");
                std::thread::sleep(STALL * 50);
            }
        }
    }

    /// Tells that every worker is inside a task while others wait, naming some of the
    /// running tasks (tasks that wait for each other beyond the cap deadlock here).
    #[cold]
    fn warn_all_blocked(&self, workers: usize, waiting: usize) {
        let running = self.runs.running_tasks(MAX_NAMED);
        tracing::warn!(
            max_worker_threads = self.max_workers,
            waiting,
            "all {workers} worker threads are inside tasks that have not returned for a while, \
             and ready tasks wait for one; if these tasks wait for each other, raise \
             `max_worker_threads` (or `{MAX_WORKER_THREADS_VAR}` for `Dag::run` and \
             `Dag::test`). Running: {}",
            running.join(", ")
        );
    }
}

/// How many running tasks a warning names at most.
const MAX_NAMED: usize = 16;
