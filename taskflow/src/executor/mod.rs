//! Running DAGs: worker threads for task bodies, tokio for async ones, and the entry points
//! [`Dag::run`] and [`Dag::test`].

mod args;
mod attempt;
mod clock;
mod local;
mod pool;
mod record;
mod registry;
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
pub(crate) use run::{RunSched, RunState};
pub use shared::{Executor, ExecutorBuilder, RunHandle, TimeHold};

pub(crate) use clock::{Clock, TrySleeps};
pub(crate) use registry::{Found, Runs};
pub(crate) use slot::SlotValue;
pub(crate) use unwind::panic_message;

use crate::task::context::RunInfo;
use crate::{Dag, Error, Params, Result, RunReport};
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
    /// The logical date. Default: now.
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

    /// Sets whether every task's value is kept for the report.
    pub fn keep_xcoms(mut self, keep: bool) -> Self {
        self.keep_xcoms = Some(keep);
        self
    }
}

impl Dag {
    /// Runs the DAG once inside the current tokio runtime, with default options.
    ///
    /// Independent tasks run in parallel and each task starts as soon as its trigger rule
    /// allows. A failing task does not fail this call: see [`RunReport::succeeded`]. The error
    /// is [`Error::NoRuntime`] outside a tokio runtime.
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
        let (run, finished) = self.prepare(handle, options, pool, None, testing)?;
        pool.start_run(&run);
        // The sender lives in the run until the last task ends, so this only fails if the
        // run state was dropped, which cannot happen while we hold `run`.
        let _ = finished.await;
        Ok(self.finish(run))
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
    ) -> Result<(Arc<RunState>, oneshot::Receiver<()>)> {
        let keep = options.keep_xcoms.unwrap_or(testing);
        let virtual_time = options.virtual_time.unwrap_or(testing);
        let clock = match shared_clock {
            Some(clock) if virtual_time => Arc::clone(clock),
            _ => Clock::new(virtual_time, handle.clone()),
        };
        let logical_date = options.logical_date.unwrap_or_else(Utc::now);
        let run_id = options
            .run_id
            .unwrap_or_else(|| default_run_id(logical_date));
        let sched = self.sched(pool, logical_date)?;
        let info = RunInfo::new(
            Arc::clone(&self.inner.dag_id),
            run_id,
            logical_date,
            options.params,
        );
        let (done, finished) = oneshot::channel();
        let run = Arc::new(RunState::new(
            Arc::clone(&self.inner),
            info,
            keep,
            clock,
            handle,
            (pool.clone(), sched),
            done,
        ));
        Ok((run, finished))
    }

    /// What the scheduler of `pool` keeps of a run of this DAG; an error if a task names a
    /// pool the executor lacks, or needs more slots than its pool has.
    fn sched(&self, pool: &Pool, logical_date: DateTime<Utc>) -> Result<RunSched> {
        static RUN_KEYS: AtomicU64 = AtomicU64::new(0);
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
        for node in (0..self.len() as u32).filter(|&node| demands.slots_of(node) > 1) {
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
            key: RUN_KEYS.fetch_add(1, Ordering::Relaxed),
            date: logical_date.timestamp_micros(),
            max_active_tasks: dag_limits
                .max_active_tasks
                .unwrap_or(limits.max_active_tasks),
            max_active_runs: dag_limits.max_active_runs.unwrap_or(limits.max_active_runs),
            active: AtomicU32::new(0),
            pools,
        })
    }

    /// The report of a finished run, after the DAG's run callbacks.
    pub(crate) fn finish(&self, run: Arc<RunState>) -> RunReport {
        let report = RunReport::new(run);
        let callbacks = self.inner.callbacks.clone();
        let callback = if report.succeeded() {
            callbacks.on_success
        } else {
            callbacks.on_failure
        };
        if let Some(callback) = callback {
            if let Err(payload) =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| callback(&report)))
            {
                eprintln!(
                    "taskflow: a callback of dag `{}` panicked: {}",
                    self.dag_id(),
                    panic_message(&*payload)
                );
            }
        }
        report
    }

    /// Runs the DAG once from synchronous code, such as a plain `#[test]`, keeping every
    /// task's value for the report. It brings its own runtime for async tasks.
    pub fn test(&self) -> Result<RunReport> {
        self.test_with(RunOptions::default())
    }

    /// Like [`Dag::test`], with these options.
    pub fn test_with(&self, options: RunOptions) -> Result<RunReport> {
        let run = move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a current-thread tokio runtime builds on any supported platform");
            runtime.block_on(self.run_on(runtime.handle().clone(), options, true))
        };
        if Handle::try_current().is_ok() {
            // Called from async code: a runtime cannot block inside another one.
            std::thread::scope(|scope| {
                scope
                    .spawn(run)
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p))
            })
        } else {
            run()
        }
    }
}

/// Airflow's id of a manual run: `manual__` and the logical date in ISO 8601, to the
/// microsecond when it has a fraction (`manual__2026-01-02T03:04:05.123456+00:00`).
fn default_run_id(logical_date: DateTime<Utc>) -> String {
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
