//! [`Executor`]: one set of workers, limits and pools that many DAG runs share.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use tokio::sync::oneshot;

use super::changes::Audience;
use super::pool::{Limits, Pool};
use super::run::{PreparedRun, RunState};
use crate::events::{Delivery, Listener, Listeners};
use crate::{Dag, Error, Result, RunOptions, RunReport};

/// Airflow's defaults for an executor's limits.
const PARALLELISM: usize = 32;
const DEFAULT_POOL_SLOTS: u32 = 128;
const MAX_ACTIVE_TASKS: u32 = 16;
const MAX_ACTIVE_RUNS: u32 = 16;

/// Workers, a ready queue, pools and limits shared by many DAG runs, like an Airflow
/// deployment in one process.
///
/// Every run submitted to it competes in one ready queue ordered by effective priority
/// weight (highest first; see [`Dag::priority_weight`]), then logical date (oldest first),
/// then the order in which tasks became ready. A high-priority run submitted behind a
/// backfill of many runs gets its tasks started first.
///
/// Limits, with Airflow's names and defaults:
/// - `parallelism` (32): tries running at once on the executor;
/// - pools: named slot counts; a task takes `pool_slots` (default 1) of its `pool` (default
///   `default_pool`, 128 slots) while it runs. A task waiting for slots holds the pool for
///   itself: tasks of lower priority in the same pool wait behind it, so a task that needs
///   many slots is not starved by a stream of small ones;
/// - `max_active_tasks` (16) per run and `max_active_runs` (16) per DAG, unless the DAG sets
///   its own; `max_active_tis_per_dag` per task, across runs.
///
/// A waiting task (for a worker, a slot or a retry) holds no worker and no slot.
/// [`Dag::run`] and [`Dag::test`] use a default executor with no limits but the DAG's own;
/// its worker threads for sync task bodies grow while every one is inside a task, up to 512
/// (or the `TASKFLOW_MAX_WORKER_THREADS` environment variable), where a `tracing` warning
/// names the running tasks.
///
/// ```
/// use taskflow::prelude::*;
/// use taskflow::Executor;
///
/// #[task]
/// fn step(n: u64) -> u64 {
///     n + 1
/// }
///
/// #[task(priority_weight = 100, pool = "warehouse", pool_slots = 2)]
/// fn urgent_load() -> &'static str {
///     "loaded"
/// }
///
/// let backfill = Dag::build("backfill", || {
///     step(step(0));
/// })?;
/// let urgent = Dag::build("urgent", || {
///     urgent_load();
/// })?;
/// let executor = Executor::builder().parallelism(2).pool("warehouse", 2).build()?;
/// let days: Vec<_> = (1..=30)
///     .map(|day| executor.submit(&backfill, RunOptions::new().run_id(format!("day_{day}"))))
///     .collect::<taskflow::Result<Vec<_>>>()?;
/// let report = executor.submit(&urgent, RunOptions::new())?.wait()?;
/// assert_eq!(report.xcom::<&str>("urgent_load")?, "loaded");
/// for day in days {
///     assert!(day.wait()?.succeeded());
/// }
/// # Ok::<(), taskflow::Error>(())
/// ```
#[derive(Clone)]
pub struct Executor {
    inner: Arc<ExecutorInner>,
}

struct ExecutorInner {
    pool: Pool,
    /// Where async task bodies and timers run; each run in flight holds it too, so that it
    /// outlives the executor until the runs end.
    runtime: Arc<RuntimeOwner>,
    handle: tokio::runtime::Handle,
    /// The clock of runs in virtual time, shared so that time skips ahead only when no run
    /// can move on without it; `None` unless the executor defaults to virtual time.
    clock: Option<Arc<super::Clock>>,
    listeners: Listeners,
    event_queue_capacity: usize,
    /// The queue of events for listeners, started with the first run that has some.
    delivery: std::sync::OnceLock<Option<Delivery>>,
}

impl Drop for ExecutorInner {
    fn drop(&mut self) {
        // Workers leave once the runs in flight are done; those keep the runtime.
        self.pool.close();
    }
}

/// An async runtime that shuts down without blocking when the last one holding it lets go,
/// which may be a run ending on one of the runtime's own threads.
struct RuntimeOwner(Option<tokio::runtime::Runtime>);

impl Drop for RuntimeOwner {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            // Dropping a runtime blocks, which async code must not: let it end by itself.
            runtime.shutdown_background();
        }
    }
}

/// Settings of an [`Executor`]; see [`Executor::builder`].
#[derive(Debug, Clone)]
pub struct ExecutorBuilder {
    limits: Limits,
    virtual_time: bool,
    virtual_start: Option<chrono::DateTime<chrono::Utc>>,
    listeners: Listeners,
    event_queue_capacity: usize,
}

impl Default for ExecutorBuilder {
    fn default() -> Self {
        Self {
            limits: Limits {
                parallelism: PARALLELISM,
                pools: vec![(crate::dag::DEFAULT_POOL.to_owned(), DEFAULT_POOL_SLOTS)],
                strict_pools: true,
                max_active_tasks: MAX_ACTIVE_TASKS,
                max_active_runs: MAX_ACTIVE_RUNS,
                count_all: true,
                max_worker_threads: None,
                max_map_length: None,
            },
            virtual_time: false,
            virtual_start: None,
            listeners: Listeners::default(),
            event_queue_capacity: crate::events::EVENT_QUEUE_CAPACITY,
        }
    }
}

impl ExecutorBuilder {
    /// At most this many tries run at once (Airflow's `parallelism`; default 32).
    pub fn parallelism(mut self, parallelism: usize) -> Self {
        self.limits.parallelism = parallelism;
        self
    }

    /// Adds a pool, or sets the slots of one (`"default_pool"` has 128 unless set here).
    pub fn pool(mut self, name: impl Into<String>, slots: u32) -> Self {
        let name = name.into();
        self.limits.pools.retain(|(known, _)| *known != name);
        self.limits.pools.push((name, slots));
        self
    }

    /// The most worker threads for sync task bodies (default: `parallelism`, at most 1024).
    ///
    /// Workers start one per core and are added while every worker is inside a task and
    /// ready tasks wait, so that blocking tasks still run side by side. At this cap, ready
    /// tasks wait for a running one to return, and a `tracing` warning names the running
    /// tasks: sync tasks that wait for each other need a cap above their number.
    ///
    /// ```
    /// let executor = taskflow::Executor::builder().parallelism(64).max_worker_threads(8).build()?;
    /// # Ok::<(), taskflow::Error>(())
    /// ```
    pub fn max_worker_threads(mut self, max: usize) -> Self {
        self.limits.max_worker_threads = Some(max);
        self
    }

    /// The `max_active_tasks` of DAGs that set none (default 16).
    pub fn max_active_tasks(mut self, limit: u32) -> Self {
        self.limits.max_active_tasks = limit;
        self
    }

    /// The `max_active_runs` of DAGs that set none (default 16).
    pub fn max_active_runs(mut self, limit: u32) -> Self {
        self.limits.max_active_runs = limit;
        self
    }

    /// The `max_map_length` of DAGs that set none (Airflow's `core.max_map_length`, default
    /// 1024): the longest value a mapped task maps over.
    pub fn max_map_length(mut self, limit: u32) -> Self {
        self.limits.max_map_length = Some(limit);
        self
    }

    /// Adds a listener of the state changes of every run of the executor (see
    /// [`crate::events`]); a run's own listeners ([`RunOptions::listener`]) hear after it.
    ///
    /// ```
    /// use taskflow::{Executor, events::Event};
    ///
    /// let executor = Executor::builder()
    ///     .listener(|event: &Event| println!("{event:?}"))
    ///     .build()?;
    /// # Ok::<(), taskflow::Error>(())
    /// ```
    pub fn listener(mut self, listener: impl Listener) -> Self {
        self.listeners = self.listeners.with(Arc::new(listener));
        self
    }

    /// How many events may wait for slow listeners before new ones are dropped and counted
    /// ([`RunReport::dropped_events`]); default 10,000.
    pub fn event_queue_capacity(mut self, capacity: usize) -> Self {
        self.event_queue_capacity = capacity;
        self
    }

    /// Whether runs use virtual time unless their options say otherwise (default: no). The
    /// executor's runs then share one virtual clock that skips ahead, to the next retry, sleep
    /// or timeout, whenever no try of any of them can move on without it: a simulation of
    /// hours of work on the executor's limits that takes milliseconds and gives the same
    /// order every time.
    pub fn virtual_time(mut self, virtual_time: bool) -> Self {
        self.virtual_time = virtual_time;
        self
    }

    /// The date the shared virtual clock starts at (default: now), turning virtual time
    /// on: a simulated month of schedules then begins where a test says.
    ///
    /// ```
    /// use taskflow::prelude::*;
    /// use taskflow::Executor;
    ///
    /// #[task]
    /// fn when(ctx: &Context) -> i64 {
    ///     ctx.logical_date().timestamp()
    /// }
    ///
    /// let start = "2026-01-01T00:00:00Z".parse()?;
    /// let executor = Executor::builder().virtual_start(start).build()?;
    /// let dag = Dag::build("when", || {
    ///     when();
    /// })?;
    /// let report = executor.submit(&dag, RunOptions::new())?.wait()?;
    /// assert!(report.xcom::<i64>("when")? - start.timestamp() < 60);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn virtual_start(mut self, date: chrono::DateTime<chrono::Utc>) -> Self {
        self.virtual_time = true;
        self.virtual_start = Some(date);
        self
    }

    /// Starts the executor's workers. An error if a limit is zero, or if the threads of its
    /// async runtime cannot start.
    pub fn build(self) -> Result<Executor> {
        let Self {
            limits,
            virtual_time,
            virtual_start,
            listeners,
            event_queue_capacity,
        } = self;
        let zero = [
            ("parallelism", limits.parallelism == 0),
            ("max_active_tasks", limits.max_active_tasks == 0),
            ("max_active_runs", limits.max_active_runs == 0),
            ("max_worker_threads", limits.max_worker_threads == Some(0)),
            ("event_queue_capacity", event_queue_capacity == 0),
        ];
        if let Some((name, _)) = zero.iter().find(|(_, zero)| *zero) {
            return Err(Error::InvalidExecutor {
                reason: format!("`{name}` must be at least 1"),
            });
        }
        if let Some((pool, _)) = limits.pools.iter().find(|(_, slots)| *slots == 0) {
            return Err(Error::InvalidExecutor {
                reason: format!("pool `{pool}` must have at least 1 slot"),
            });
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            // Two at least: a timer still fires while an async body blocks a thread.
            .worker_threads(limits.parallelism.clamp(2, 4))
            .thread_name("taskflow-async")
            .enable_all()
            .build()
            .map_err(|error| Error::InvalidExecutor {
                reason: format!("its async runtime did not start: {error}"),
            })?;
        let pool = Pool::with_limits(limits);
        let clock = virtual_time.then(|| {
            let start = virtual_start.unwrap_or_else(chrono::Utc::now);
            let clock = super::Clock::new_at(true, runtime.handle().clone(), start);
            pool.share_clock(&clock);
            clock
        });
        Ok(Executor {
            inner: Arc::new(ExecutorInner {
                pool,
                handle: runtime.handle().clone(),
                runtime: Arc::new(RuntimeOwner(Some(runtime))),
                clock,
                listeners,
                event_queue_capacity,
                delivery: std::sync::OnceLock::new(),
            }),
        })
    }
}

impl Executor {
    /// The clock a scheduler of this executor's runs goes by: the shared virtual clock, or
    /// a real one.
    #[cfg(feature = "schedule")]
    pub(crate) fn scheduling_clock(&self) -> Arc<super::Clock> {
        match &self.inner.clock {
            Some(clock) => Arc::clone(clock),
            None => super::Clock::new(false, self.inner.handle.clone()),
        }
    }

    /// An executor with Airflow's default limits.
    ///
    /// # Panics
    /// If the OS refuses the threads of its async runtime; use
    /// [`Executor::builder`]`().build()` to get that as an error.
    pub fn new() -> Executor {
        Self::builder()
            .build()
            .unwrap_or_else(|error| panic!("taskflow: cannot start an executor: {error}"))
    }

    /// Settings for a new executor.
    pub fn builder() -> ExecutorBuilder {
        ExecutorBuilder::default()
    }

    /// Holds the shared virtual clock still until the returned guard is dropped, so that
    /// runs submitted meanwhile all start at the same virtual time (the clock otherwise moves
    /// on whenever nothing can run, between two submissions too). Tasks still run. Without
    /// virtual time it does nothing.
    ///
    /// ```
    /// use taskflow::prelude::*;
    /// use taskflow::Executor;
    ///
    /// #[task]
    /// async fn slow(ctx: &Context) {
    ///     ctx.sleep(std::time::Duration::from_secs(600)).await;
    /// }
    ///
    /// let executor = Executor::builder().virtual_time(true).build()?;
    /// let dag = Dag::build("slow", || {
    ///     slow();
    /// })?;
    /// let hold = executor.hold_time();
    /// let first = executor.submit(&dag, RunOptions::new().run_id("first"))?;
    /// let second = executor.submit(&dag, RunOptions::new().run_id("second"))?;
    /// drop(hold);
    /// let (first, second) = (first.wait()?, second.wait()?);
    /// let start = |report: &RunReport| report.task("slow").unwrap().start_date.unwrap();
    /// assert!((start(&second) - start(&first)).num_seconds() < 1); // not 600 s apart
    /// # Ok::<(), taskflow::Error>(())
    /// ```
    pub fn hold_time(&self) -> TimeHold {
        let clock = self.inner.clock.clone();
        if let Some(clock) = &clock {
            clock.work_added(1);
        }
        TimeHold { clock }
    }

    /// Starts a run of `dag` (a `Dag`, `&Dag` or `Arc<Dag>`), or queues it behind the DAG's
    /// `max_active_runs`, and returns a handle to await, or to [`wait`](RunHandle::wait) for
    /// from synchronous code.
    ///
    /// Values are kept for the report as in [`Dag::test`] unless `options` says otherwise;
    /// waits take real time unless `options` asks for virtual time.
    ///
    /// # Errors
    /// When the run cannot start: a task names a pool the executor lacks
    /// ([`Error::UnknownPool`]) or needs more slots than its pool has
    /// ([`Error::PoolTooSmall`]). Nothing of the run has started then.
    pub fn submit(&self, dag: impl AsRef<Dag>, options: RunOptions) -> Result<RunHandle> {
        let prepared = self.prepare(dag.as_ref(), options)?;
        Ok(self.start(prepared))
    }

    /// A run of `dag` made ready to [`start`](Executor::start) as [`submit`](Executor::submit)
    /// would: a scheduler prepares a run ahead of its due time and starts it at that time.
    pub(crate) fn prepare(&self, dag: &Dag, options: RunOptions) -> Result<PreparedRun> {
        let options = RunOptions {
            keep_xcoms: options.keep_xcoms.or(Some(true)),
            virtual_time: options.virtual_time.or(Some(self.inner.clock.is_some())),
            ..options
        };
        let inner = Arc::clone(&self.inner);
        let audience = Audience {
            listeners: self.inner.listeners.and(&options.listeners),
            delivery: Box::new(move || {
                let capacity = inner.event_queue_capacity;
                inner
                    .delivery
                    .get_or_init(|| Delivery::start(capacity))
                    .clone()
            }),
        };
        dag.prepare(
            self.inner.handle.clone(),
            options,
            &self.inner.pool,
            self.inner.clock.as_ref(),
            false,
            audience,
        )
    }

    /// The state of a run [`prepare`](Executor::prepare)d before, shared, its time starting
    /// now, kept with what it needs alive while it runs.
    fn share(&self, prepared: PreparedRun) -> (Arc<RunState>, oneshot::Receiver<()>) {
        let (run, finished) = prepared.share();
        run.keep_alive(Arc::clone(&self.inner.runtime) as Arc<dyn Send + Sync>);
        (run, finished)
    }

    /// Starts a run [`prepare`](Executor::prepare)d before, its time starting now, or
    /// queues it behind its DAG's `max_active_runs`.
    pub(crate) fn start(&self, prepared: PreparedRun) -> RunHandle {
        let (run, finished) = self.share(prepared);
        self.inner.pool.start_run(&run);
        RunHandle {
            state: HandleState::Running { run, finished },
        }
    }
}

#[cfg(feature = "schedule")]
impl Executor {
    /// Has the workers wait for work awake until `until` (runs are about to be let go).
    pub(crate) fn warm_up(&self, until: std::time::Instant) {
        self.inner.pool.warm_up(until);
    }

    /// Starts runs [`prepare`](Executor::prepare)d before, all at once, their time starting
    /// now: the workers are woken once every run's first tasks are queued.
    pub(crate) fn start_together(&self, prepared: Vec<PreparedRun>) {
        let runs: Vec<Arc<RunState>> = prepared
            .into_iter()
            .map(|prepared| self.share(prepared).0)
            .collect();
        self.inner.pool.start_runs(&runs);
    }
}

/// Holds an executor's virtual clock still while it lives; see [`Executor::hold_time`].
#[must_use = "the clock moves again as soon as the hold is dropped"]
pub struct TimeHold {
    clock: Option<Arc<super::Clock>>,
}

impl Drop for TimeHold {
    fn drop(&mut self) {
        if let Some(clock) = self.clock.take() {
            clock.work_done();
        }
    }
}

impl std::fmt::Debug for TimeHold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimeHold").finish_non_exhaustive()
    }
}

/// A run submitted to an [`Executor`]: await it (or call [`wait`](RunHandle::wait)) for
/// its report. Dropping the handle does not stop the run.
pub struct RunHandle {
    state: HandleState,
}

enum HandleState {
    Running {
        run: Arc<RunState>,
        finished: oneshot::Receiver<()>,
    },
    Done,
}

impl RunHandle {
    /// Blocks until the run ends and returns its report; for synchronous code (inside async
    /// code, `.await` the handle instead).
    pub fn wait(self) -> Result<RunReport> {
        match self.state {
            HandleState::Running { run, finished } => {
                let waited = if tokio::runtime::Handle::try_current().is_ok() {
                    std::thread::scope(|scope| {
                        scope
                            .spawn(|| finished.blocking_recv())
                            .join()
                            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                    })
                } else {
                    finished.blocking_recv()
                };
                // The sender lives in the run until its last task ends.
                let _ = waited;
                Ok(RunReport::new(run))
            }
            HandleState::Done => Err(Error::RunHandleUsed),
        }
    }
}

impl Future for RunHandle {
    type Output = Result<RunReport>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        match &mut self.state {
            HandleState::Running { finished, .. } => {
                if Pin::new(finished).poll(cx).is_pending() {
                    return Poll::Pending;
                }
                match std::mem::replace(&mut self.state, HandleState::Done) {
                    HandleState::Running { run, .. } => Poll::Ready(Ok(RunReport::new(run))),
                    _ => Poll::Ready(Err(Error::RunHandleUsed)),
                }
            }
            HandleState::Done => Poll::Ready(Err(Error::RunHandleUsed)),
        }
    }
}

impl Default for Executor {
    /// [`Executor::new`].
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("limits", self.inner.pool.limits())
            .finish()
    }
}

impl std::fmt::Debug for RunHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &self.state {
            HandleState::Running { run, .. } => run.info.run_id.to_string(),
            HandleState::Done => "done".to_owned(),
        };
        f.debug_struct("RunHandle").field("run", &state).finish()
    }
}
