//! Running DAGs: worker threads for task bodies, tokio for async ones, and the entry points
//! [`Dag::run`] and [`Dag::test`].

mod args;
mod attempt;
mod changes;
mod clock;
mod expand;
mod local;
mod pool;
mod record;
mod registry;
mod resume;
mod run;
mod scheduler;
mod shared;
mod slot;
mod unwind;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use tokio::runtime::Handle;
use tokio::sync::oneshot;

pub use args::Args;
pub(crate) use run::{PreparedRun, RunSched, RunState};
pub use shared::{Executor, ExecutorBuilder, RunHandle, TimeHold};

#[cfg(feature = "schedule")]
pub(crate) use changes::STORE_WAIT;
#[cfg(feature = "schedule")]
pub(crate) use clock::TimerId;
pub(crate) use clock::{Clock, TrySleeps};
pub(crate) use registry::{Found, Runs};
pub(crate) use slot::SlotValue;
pub(crate) use unwind::panic_message;

use crate::dag::DagInner;
use crate::events::{Delivery, Listener, Listeners, RunLog};
use crate::task::context::RunInfo;
use crate::{Dag, Error, Params, Result, RunReport};
use changes::Audience;
use pool::Pool;

/// Settings of one DAG run.
///
/// ```
/// use taskflow::RunOptions;
///
/// let options = RunOptions::new().run_id("backfill_2026_01_01").param("region", "north");
/// assert_eq!(options.params.get::<String>("region")?, "north");
/// # Ok::<(), taskflow::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RunOptions {
    /// The run id. Default: Airflow's `manual__<logical date in ISO 8601>`.
    pub run_id: Option<String>,
    /// The logical date. Default: now (on the run's clock: an executor's
    /// [`virtual_start`](crate::ExecutorBuilder::virtual_start) moves it).
    pub logical_date: Option<DateTime<Utc>>,
    /// The run's params, read with `Context::param`.
    pub params: Params,
    /// Whether to keep every task's value for the report, cloning values that are passed on
    /// by value. Default: yes in [`Dag::test`]; in [`Dag::run`] values are moved to their
    /// last reader and only the values no task reads are kept.
    pub keep_xcoms: Option<bool>,
    /// Whether waits (retry delays, later sensor intervals) skip ahead in virtual time when
    /// nothing else of the run is queued or running, instead of sleeping. Default: yes in
    /// [`Dag::test`], no in [`Dag::run`]. Task bodies and timeouts still take real time.
    pub virtual_time: Option<bool>,
    /// The pools a run of [`Dag::run`] or [`Dag::test`] may use, with their slots: a task
    /// naming another pool, or needing more slots than its pool has, is an error before
    /// anything runs, as on an [`Executor`](crate::Executor) (whose own pools are used for
    /// its runs instead). The default executor checks pools but does not hold tasks back
    /// for them; see [`RunOptions::pool`].
    pub pools: Vec<(String, u32)>,
    /// Whether to print a log line per state change and the report's table at the end
    /// (see [`RunLog`]). Default: in [`Dag::test`], yes for a DAG of at most 1,000 tasks
    /// unless a `tracing` subscriber is in place (it hears the same changes); never in
    /// [`Dag::run`] or on an [`Executor`](crate::Executor).
    pub log: Option<bool>,
    /// The size in bytes above which a task's value is logged as a `tracing` WARN event
    /// (see [`RunOptions::xcom_size_warning`]). Default:
    /// [`DEFAULT_XCOM_SIZE_WARNING`](crate::DEFAULT_XCOM_SIZE_WARNING), 10 MiB; `u64::MAX`
    /// turns the warning off.
    pub xcom_size_warning: Option<u64>,
    /// The run's own listeners (see [`RunOptions::listener`]).
    listeners: Listeners,
    /// Where the run is kept (see [`RunOptions::store`]).
    store: Option<Arc<dyn crate::store::Store>>,
    /// The stored run to resume (see [`RunOptions::resume`]).
    resume: Option<String>,
    /// When the store writes (see [`RunOptions::durability`]).
    durability: crate::store::Durability,
    /// The data interval (see [`RunOptions::data_interval`]).
    data_interval: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Told when the run has ended and its changes are stored (a scheduler).
    pub(crate) on_end: Option<EndHook>,
    /// The one task a test runs (see [`Dag::test_task`]).
    task_test: Option<String>,
    /// The store's writer the run shares with others (a scheduler's runs); else it gets a
    /// writer of its own.
    pub(crate) writer: Option<crate::store::Writer>,
    /// Whether the run starts at once, whatever its DAG's `max_active_runs` on the
    /// executor (a scheduler counts runs itself).
    pub(crate) unlimited_runs: bool,
}

/// What a scheduler is told as a run it started ends, once the run's changes are stored:
/// the run's id. It takes over a hold on the run's clock (let go of
/// with `Clock::work_done`), so that virtual time does not move on before it has looked.
#[derive(Clone)]
pub(crate) struct EndHook(pub(crate) Arc<dyn Fn(&str) + Send + Sync>);

impl std::fmt::Debug for EndHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EndHook")
    }
}

impl RunOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the run id.
    pub fn run_id(mut self, run_id: impl Into<String>) -> Self {
        self.run_id = Some(run_id.into());
        self
    }

    /// Sets the logical date.
    pub fn logical_date(mut self, logical_date: DateTime<Utc>) -> Self {
        self.logical_date = Some(logical_date);
        self
    }

    /// Sets the data interval the run covers (read with
    /// [`Context::data_interval_start`](crate::Context::data_interval_start)). Default: the
    /// logical date, start and end.
    pub fn data_interval(mut self, start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        self.data_interval = Some((start, end));
        self
    }

    /// Sets the params.
    pub fn params(mut self, params: Params) -> Self {
        self.params = params;
        self
    }

    /// Sets one param.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        self.params.insert(name, value);
        self
    }

    /// Sets whether waits skip ahead in virtual time.
    pub fn virtual_time(mut self, virtual_time: bool) -> Self {
        self.virtual_time = Some(virtual_time);
        self
    }

    /// Declares a pool of `slots` for a run of [`Dag::run`] or [`Dag::test`], so that its
    /// tasks' pools are checked as an [`Executor`](crate::Executor) checks them: a typo in a
    /// pool name fails the unit test.
    ///
    /// ```
    /// use taskflow::prelude::*;
    ///
    /// #[task(pool = "warehouse", pool_slots = 2)]
    /// fn load() {}
    ///
    /// let dag = Dag::build("loads", || {
    ///     load();
    /// })?;
    /// assert!(dag.test().is_err()); // `warehouse` is not declared
    /// assert!(dag.test_with(RunOptions::new().pool("warehouse", 2))?.succeeded());
    /// assert!(dag.test_with(RunOptions::new().pool("warehouse", 1)).is_err()); // too small
    /// # Ok::<(), taskflow::Error>(())
    /// ```
    pub fn pool(mut self, name: impl Into<String>, slots: u32) -> Self {
        let name = name.into();
        self.pools.retain(|(known, _)| *known != name);
        self.pools.push((name, slots));
        self
    }

    /// Sets whether [`Dag::test`] prints its log: `false` keeps it quiet.
    pub fn log(mut self, log: bool) -> Self {
        self.log = Some(log);
        self
    }

    /// Adds a listener of this run's state changes (see [`crate::events`]), after those
    /// of its executor.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use taskflow::prelude::*;
    /// use taskflow::events::Event;
    ///
    /// #[task]
    /// fn extract() -> u32 { 7 }
    ///
    /// let heard = Arc::new(AtomicUsize::new(0));
    /// let count = Arc::clone(&heard);
    /// let options = RunOptions::new().listener(move |_: &Event| {
    ///     count.fetch_add(1, Ordering::Relaxed);
    /// });
    /// Dag::build("heard", || {
    ///     extract();
    /// })?
    /// .test_with(options)?;
    /// // run started, queued, running, success, run ended
    /// assert_eq!(heard.load(Ordering::Relaxed), 5);
    /// # Ok::<(), taskflow::Error>(())
    /// ```
    pub fn listener(mut self, listener: impl Listener) -> Self {
        self.listeners = self.listeners.with(Arc::new(listener));
        self
    }

    /// Sets the size above which a task's value is logged as a `tracing` WARN event when
    /// the task succeeds: a value that large is held in memory by every reader and the
    /// report (the idea of pandas' `df.info()` memory usage). The size is that of
    /// [`RunReport::xcom_size`]: the bytes of its JSON encoding where its type encodes
    /// (counted only up to the threshold, so a huge value costs no more to check), else the
    /// shallow size of its type. The check runs only when a `tracing` subscriber takes WARN
    /// events as the run starts; `u64::MAX` turns it off.
    ///
    /// ```
    /// use taskflow::RunOptions;
    ///
    /// let options = RunOptions::new().xcom_size_warning(1024 * 1024);
    /// assert_eq!(options.xcom_size_warning, Some(1_048_576));
    /// ```
    pub fn xcom_size_warning(mut self, bytes: u64) -> Self {
        self.xcom_size_warning = Some(bytes);
        self
    }

    /// Sets whether every task's value is kept for the report.
    pub fn keep_xcoms(mut self, keep: bool) -> Self {
        self.keep_xcoms = Some(keep);
        self
    }

    /// Keeps the run in `store`: its state, every task instance's states and tries, and
    /// the values tasks return that encode as JSON (see [`crate::store`]). The run is
    /// reported done once the store has all of it; a write that fails fails the run, with
    /// the store's error in [`RunReport::store_error`]. The run keeps its values for the
    /// report, as [`Dag::test`] does.
    pub fn store(mut self, store: Arc<dyn crate::store::Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// Resumes run `run_id` kept in the run's [`store`](RunOptions::store), after its process
    /// ended (a crash, a `kill -9`) or after some of its tasks were cleared (see
    /// [`crate::store::Clear`]).
    ///
    /// The run keeps its logical date and params. A task that finished keeps its state and
    /// gives its stored value to its downstream tasks without running again; the others run,
    /// their try numbers going on from the stored ones. A try that was running when the
    /// process ended is kept as interrupted and does not use up a retry; an instance
    /// interrupted 3 times fails instead of running again. Every instance running when the
    /// process ends counts the interruption: a task that kills its process is best run
    /// alone (a pool of one slot), so that what runs beside it is not failed with it. A finished task whose value could
    /// not be stored (its type does not encode as JSON) runs again if a task that runs needs
    /// its value ([`RunReport::resume_notes`] says so). Tasks added to the DAG since run; tasks
    /// no longer in it are kept as `removed`. A stored value that no longer decodes as its
    /// task's type is an error ([`Error::StoredValue`]) before anything runs.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")] {
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use taskflow::prelude::*;
    /// use taskflow::store::{Clear, SqliteStore};
    ///
    /// static EXTRACTS: AtomicU32 = AtomicU32::new(0);
    ///
    /// #[task]
    /// fn extract() -> u32 {
    ///     EXTRACTS.fetch_add(1, Ordering::SeqCst);
    ///     20
    /// }
    ///
    /// #[task]
    /// fn load(rows: u32) -> u32 {
    ///     rows + 1
    /// }
    ///
    /// let dir = std::env::temp_dir().join(format!("taskflow-resume-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let store = Arc::new(SqliteStore::open(dir.join("runs.db"))?);
    /// let dag = Dag::build("resumed", || {
    ///     load(extract());
    /// })?;
    /// let options = || RunOptions::new().log(false).store(store.clone());
    /// dag.test_with(options().run_id("daily"))?;
    /// // Clear `load` and run it again: `extract` keeps its stored value.
    /// dag.clear(&*store, &Clear::run("daily").task("load"))?;
    /// let report = dag.test_with(options().resume("daily"))?;
    /// assert_eq!(report.xcom::<u32>("load")?, 21);
    /// assert_eq!(EXTRACTS.load(Ordering::SeqCst), 1);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn resume(mut self, run_id: impl Into<String>) -> Self {
        self.resume = Some(run_id.into());
        self
    }

    /// When the run's changes are written to its store: in groups (the default) or each
    /// try's start and end before the run goes on (see [`Durability`](crate::store::Durability)).
    pub fn durability(mut self, durability: crate::store::Durability) -> Self {
        self.durability = durability;
        self
    }
}

impl Dag {
    /// Runs the DAG once inside the current tokio runtime, with default options.
    ///
    /// Independent tasks run in parallel and each task starts as soon as its trigger rule
    /// allows. A failing task does not fail this call: see [`RunReport::succeeded`]. The error
    /// is [`Error::NoRuntime`] outside a tokio runtime.
    ///
    /// Async bodies run on the caller's runtime. One that blocks its thread (a
    /// `std::thread::sleep` in an `async fn`) still times out at its `execution_timeout` when
    /// the runtime has another thread to fire the timer, but it holds its thread until it
    /// returns, and dropping the runtime waits for it, as tokio does for any blocking code.
    pub async fn run(&self) -> Result<RunReport> {
        self.run_with(RunOptions::default()).await
    }

    /// Runs the DAG once with these options.
    pub async fn run_with(&self, options: RunOptions) -> Result<RunReport> {
        let handle = Handle::try_current().map_err(|_| Error::NoRuntime {
            dag_id: self.dag_id().to_owned(),
        })?;
        self.run_on(handle, options, false).await
    }

    /// Runs on `handle`; `testing` picks the defaults of [`Dag::test`] (virtual time, every
    /// value kept) over those of [`Dag::run`].
    async fn run_on(
        &self,
        handle: Handle,
        options: RunOptions,
        testing: bool,
    ) -> Result<RunReport> {
        let pool = Pool::global();
        let audience = Audience {
            listeners: options.listeners.clone(),
            delivery: Box::new(global_delivery),
        };
        let (run, finished) = self
            .prepare(handle, options, pool, None, testing, audience)?
            .share();
        pool.start_run(&run);
        // The sender lives in the run until the last task ends, so this only fails if the
        // run state was dropped, which cannot happen while we hold `run`.
        let _ = finished.await;
        Ok(RunReport::new(run))
    }

    /// A run of this DAG on `pool`, checked against the pool's limits but not started. With
    /// virtual time, it runs on `shared_clock` if given (an executor's), else on its own.
    pub(crate) fn prepare(
        &self,
        handle: Handle,
        options: RunOptions,
        pool: &Pool,
        shared_clock: Option<&Arc<Clock>>,
        testing: bool,
        audience: Audience,
    ) -> Result<PreparedRun> {
        // A stored run keeps its values until they are written.
        let keep = options.keep_xcoms.unwrap_or(testing) || options.store.is_some();
        let virtual_time = options.virtual_time.unwrap_or(testing);
        let clock = match shared_clock {
            Some(clock) if virtual_time => Arc::clone(clock),
            _ => Clock::new(virtual_time, handle.clone()),
        };
        let resumed = self.resumed(&options)?;
        let mut params = options.params;
        let mut data_interval = options.data_interval;
        let (logical_date, run_id) = match &resumed {
            Some((_, stored)) => {
                params = stored.run.params.clone();
                if let (Some(start), Some(end)) =
                    (stored.run.data_interval_start, stored.run.data_interval_end)
                {
                    data_interval = Some((start, end));
                }
                (stored.run.logical_date, stored.run.run_id.clone())
            }
            None => {
                let logical_date = options.logical_date.unwrap_or_else(|| clock.date_now());
                let run_id = options
                    .run_id
                    .unwrap_or_else(|| default_run_id(logical_date));
                (logical_date, run_id)
            }
        };
        let run_timeout = self.run_timeout();
        let mut restore_from = resumed.map(|(resumed, _)| resumed);
        if let Some(task_id) = &options.task_test {
            let target = (0..self.len() as u32)
                .find(|&node| self.inner.task_id(node) == task_id.as_str())
                .ok_or_else(|| Error::UnknownTask {
                    dag_id: self.dag_id().to_owned(),
                    task_id: task_id.clone(),
                })?;
            let test = resume::Resumed::for_task_test(&self.inner, target, restore_from.take());
            restore_from = Some(test);
        }
        let (dag, restore) = match restore_from {
            Some(resumed) => {
                let mut dag = DagInner::clone(&self.inner);
                let restore = resume::restore_tasks(&mut dag, |_| Vec::new(), &resumed, false)?;
                (dag.timed_by_run(run_timeout), restore)
            }
            None if run_timeout.is_some() => {
                (DagInner::clone(&self.inner).timed_by_run(run_timeout), None)
            }
            None => (Arc::clone(&self.inner), None),
        };
        if !pool.limits().strict_pools {
            self.check_declared_pools(&options.pools)?;
        }
        let mut sched = self.sched(pool, logical_date)?;
        if options.unlimited_runs {
            sched.max_active_runs = u32::MAX;
        }
        let mut info = RunInfo::new(Arc::clone(&self.inner.dag_id), run_id, logical_date, params);
        if let Some(interval) = data_interval {
            info.data_interval = interval;
        }
        let (done, finished) = oneshot::channel();
        let writer = options.writer;
        // A test of one task writes nothing to the store it reads.
        let kept_in = options
            .store
            .clone()
            .filter(|_| options.task_test.is_none());
        let store = kept_in.map(|store| {
            let writer = writer.unwrap_or_else(|| crate::store::Writer::start(store));
            (writer, options.durability)
        });
        let observer = changes::Observer::new(audience, &info.run_id, store);
        info.store = observer.as_ref().and_then(|observer| observer.store_sink());
        let state = RunState::new(
            dag,
            Arc::new(info),
            (keep, options.xcom_size_warning),
            clock,
            handle,
            (pool.clone(), sched),
            (done, observer, None),
        )
        .resumed(restore)
        .on_end(options.on_end)
        .timed(run_timeout);
        Ok(PreparedRun::new(state, finished))
    }

    /// How long a run may take (Airflow's `dagrun_timeout`), if the DAG says.
    fn run_timeout(&self) -> Option<std::time::Duration> {
        #[cfg(feature = "schedule")]
        return self.dagrun_timeout();
        #[cfg(not(feature = "schedule"))]
        None
    }

    /// For a run that resumes a stored one: what its store kept, once the changes resuming
    /// makes first (interrupted tries, removed tasks) are written.
    fn resumed(
        &self,
        options: &RunOptions,
    ) -> Result<Option<(Arc<resume::Resumed>, crate::store::StoredRun)>> {
        let Some(run_id) = &options.resume else {
            return Ok(None);
        };
        let Some(store) = &options.store else {
            return Err(Error::ResumeWithoutStore {
                dag_id: self.dag_id().to_owned(),
                run_id: run_id.clone(),
            });
        };
        let (resumed, stored, changes) = resume::Resumed::load(&**store, &self.inner, run_id)?;
        // A test of one task reads the stored run and writes nothing.
        if !changes.is_empty() && options.task_test.is_none() {
            store.write(&changes)?;
        }
        Ok(Some((resumed, stored)))
    }

    /// For a run of the default executor: an error if a task names a pool `declared` lacks
    /// (other than `default_pool`), or needs more slots than its pool has.
    fn check_declared_pools(&self, declared: &[(String, u32)]) -> Result<()> {
        let demands = &self.inner.plan.demands;
        let default_declared = declared
            .iter()
            .any(|(name, _)| name == crate::dag::DEFAULT_POOL);
        if demands.pool_names.len() == 1 && !default_declared {
            return Ok(()); // every task in the default pool, which has no limit
        }
        for node in 0..self.len() as u32 {
            let name = &demands.pool_names[demands.pool_of(node) as usize];
            let slots = declared
                .iter()
                .find(|(known, _)| **known == **name)
                .map(|&(_, slots)| slots);
            let slots = match slots {
                Some(slots) => slots,
                None if **name == *crate::dag::DEFAULT_POOL => continue,
                None => {
                    return Err(Error::UndeclaredPool {
                        dag_id: self.dag_id().to_owned(),
                        task_id: self.inner.task_id(node).into_owned(),
                        pool: name.to_string(),
                    });
                }
            };
            if demands.slots_of(node) > slots {
                return Err(Error::PoolTooSmall {
                    dag_id: self.dag_id().to_owned(),
                    task_id: self.inner.task_id(node).into_owned(),
                    pool: name.to_string(),
                    needed: demands.slots_of(node),
                    slots,
                });
            }
        }
        Ok(())
    }

    /// What the scheduler of `pool` keeps of a run of this DAG; an error if a task names a
    /// pool the executor lacks, or needs more slots than its pool has.
    fn sched(&self, pool: &Pool, logical_date: DateTime<Utc>) -> Result<RunSched> {
        let demands = &self.inner.plan.demands;
        let limits = pool.limits();
        let dag_limits = self.inner.limits;
        let first_task_in = |index: usize| {
            (0..self.len() as u32)
                .find(|&node| demands.pool_of(node) as usize == index)
                .map_or_else(String::new, |node| self.inner.task_id(node).into_owned())
        };
        let pools = pool.map_pools(&demands.pool_names).map_err(|(name, _)| {
            let index = demands.pool_names.iter().position(|known| *known == name);
            Error::UnknownPool {
                dag_id: self.dag_id().to_owned(),
                task_id: index.map(first_task_in).unwrap_or_default(),
                pool: name.to_string(),
            }
        })?;
        for node in demands.multi_slot_tasks(self.len() as u32) {
            let index = pools
                .get(demands.pool_of(node) as usize)
                .map_or(0, |&p| p as usize);
            let size = pool.pool_size(index);
            if demands.slots_of(node) > size {
                return Err(Error::PoolTooSmall {
                    dag_id: self.dag_id().to_owned(),
                    task_id: self.inner.task_id(node).into_owned(),
                    pool: demands.pool_names[demands.pool_of(node) as usize].to_string(),
                    needed: demands.slots_of(node),
                    slots: size,
                });
            }
        }
        let accounted =
            limits.count_all || dag_limits.max_active_tasks.is_some() || demands.has_task_limits();
        if accounted {
            // Its tasks queue by weight: have the weights ready before any takes the lock.
            self.inner.plan.priorities();
        }
        Ok(RunSched {
            accounted,
            key: next_run_key(),
            date: logical_date.timestamp_micros(),
            max_active_tasks: dag_limits
                .max_active_tasks
                .unwrap_or(limits.max_active_tasks),
            max_active_runs: dag_limits.max_active_runs.unwrap_or(limits.max_active_runs),
            active: Arc::new(AtomicU32::new(0)),
            pools,
        })
    }

    /// Runs task `task_id` alone, as Airflow's `tasks test` does: the tasks upstream of it
    /// run first to give it its arguments, or, resuming a stored run
    /// (`RunOptions::new().store(store).resume(run_id)`), give their stored values without
    /// running; every other task ends skipped without running. Nothing is written to the
    /// store. Like [`Dag::test`] otherwise.
    ///
    /// ```
    /// use taskflow::prelude::*;
    ///
    /// #[task]
    /// fn extract() -> u32 {
    ///     20
    /// }
    ///
    /// #[task]
    /// fn double(n: u32) -> u32 {
    ///     n * 2
    /// }
    ///
    /// #[task]
    /// fn publish(n: u32) {
    ///     panic!("not run by a test of `double`: {n}");
    /// }
    ///
    /// let dag = Dag::build("numbers", || {
    ///     publish(double(extract()));
    /// })?;
    /// let report = dag.test_task("double", RunOptions::new().log(false))?;
    /// assert_eq!(report.xcom::<u32>("double")?, 40);
    /// assert_eq!(report.state("publish"), TaskState::Skipped);
    /// # Ok::<(), taskflow::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::UnknownTask`] if the DAG has no task `task_id`; else as [`Dag::test_with`].
    pub fn test_task(&self, task_id: &str, options: RunOptions) -> Result<RunReport> {
        self.test_with(RunOptions {
            task_test: Some(task_id.to_owned()),
            ..options
        })
    }

    /// Runs the DAG once from synchronous code, such as a plain `#[test]`, keeping every
    /// task's value for the report. It brings its own runtime for async tasks.
    pub fn test(&self) -> Result<RunReport> {
        self.test_with(RunOptions::default())
    }

    /// Like [`Dag::test`], with these options.
    pub fn test_with(&self, options: RunOptions) -> Result<RunReport> {
        if Handle::try_current().is_ok() {
            // Called from async code, which must not block: wait on a thread of its own.
            std::thread::scope(|scope| {
                scope
                    .spawn(|| self.test_here(options))
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p))
            })
        } else {
            self.test_here(options)
        }
    }

    /// [`Dag::test_with`] outside any tokio runtime: async bodies and timers run on a runtime
    /// of the run's own, with two threads so that a timeout still fires while a body blocks
    /// one; this thread only waits for the end. The runtime is then left to shut down by
    /// itself, so that a body still blocking a thread past its timeout does not hold up the
    /// caller.
    fn test_here(&self, options: RunOptions) -> Result<RunReport> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("taskflow-test")
            .enable_all()
            .build()
            .map_err(|error| Error::TestRuntime {
                dag_id: self.dag_id().to_owned(),
                reason: error.to_string(),
            })?;
        let pool = Pool::global();
        let logged = options.log.unwrap_or_else(|| {
            self.len() <= LOGGED_TASKS
                && tracing::dispatcher::get_default(|d| d.is::<tracing::subscriber::NoSubscriber>())
        });
        let log = logged.then(|| Arc::new(RunLog::stderr()));
        let listeners = match &log {
            Some(log) => options.listeners.with(Arc::clone(log) as Arc<dyn Listener>),
            None => options.listeners.clone(),
        };
        let audience = Audience {
            listeners,
            // A queue of the run's own: its thread prints where this thread would.
            delivery: Box::new(|| Delivery::start(crate::events::EVENT_QUEUE_CAPACITY)),
        };
        let handle = runtime.handle().clone();
        let (run, finished) = self
            .prepare(handle, options, pool, None, true, audience)?
            .share();
        pool.start_run(&run);
        // The sender lives in the run until the last task ends.
        let _ = finished.blocking_recv();
        let report = RunReport::new(run);
        runtime.shutdown_background();
        if let Some(log) = log {
            log.write_report(&report);
        }
        Ok(report)
    }
}

/// The largest DAG whose `test()` run prints its log by default.
const LOGGED_TASKS: usize = 1_000;

/// The delivery queue of runs of the default executor ([`Dag::run`]), started with the first
/// run that has listeners.
/// A key no other run of this process has.
pub(crate) fn next_run_key() -> u64 {
    static RUN_KEYS: AtomicU64 = AtomicU64::new(0);
    RUN_KEYS.fetch_add(1, Ordering::Relaxed)
}

fn global_delivery() -> Option<Delivery> {
    static GLOBAL: std::sync::OnceLock<Option<Delivery>> = std::sync::OnceLock::new();
    GLOBAL
        .get_or_init(|| Delivery::start(crate::events::EVENT_QUEUE_CAPACITY))
        .clone()
}

/// Airflow's id of a manual run: `manual__` and the logical date in ISO 8601, to the
/// microsecond when it has a fraction (`manual__2026-01-02T03:04:05.123456+00:00`).
pub(crate) fn default_run_id(logical_date: DateTime<Utc>) -> String {
    use chrono::{SecondsFormat, Timelike};
    let micros = logical_date
        .with_nanosecond(logical_date.nanosecond() / 1000 * 1000)
        .unwrap_or(logical_date);
    let format = if micros.nanosecond() == 0 {
        SecondsFormat::Secs
    } else {
        SecondsFormat::Micros
    };
    format!("manual__{}", micros.to_rfc3339_opts(format, false))
}

/// Runs a DAG that may have failed to build: lets `my_dag().test()` and
/// `my_dag().run().await` read naturally when `my_dag` returns `Result<Dag>`.
pub trait RunDag {
    /// [`Dag::run`], or the build error.
    fn run(self) -> impl std::future::Future<Output = Result<RunReport>> + Send;
    /// [`Dag::test`], or the build error.
    fn test(self) -> Result<RunReport>;
}

impl RunDag for Result<Dag> {
    async fn run(self) -> Result<RunReport> {
        self?.run().await
    }

    fn test(self) -> Result<RunReport> {
        self?.test()
    }
}
