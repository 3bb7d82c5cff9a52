//! An embedded scheduler (feature `schedule`): it creates a set of DAGs' runs when their
//! schedules say, on an [`Executor`] and a [`Store`], as Airflow's scheduler does.
//!
//! Everything it decides goes through the store first: a run is created there (queued)
//! before it starts, so a scheduler that restarts (or was killed) goes on from what the
//! store holds, without a duplicate or a missing run: runs that were running resume, queued
//! ones start, and each schedule continues after its latest automated run.
//!
//! ```
//! # #[cfg(feature = "sqlite")] {
//! use std::sync::Arc;
//! use taskflow::prelude::*;
//! use taskflow::scheduler::Scheduler;
//! use taskflow::store::{SqliteStore, Store};
//! use taskflow::Executor;
//!
//! #[task]
//! fn report(ctx: &Context) -> String {
//!     ctx.logical_date().to_rfc3339()
//! }
//!
//! let dir = std::env::temp_dir().join(format!("taskflow-scheduler-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let store = Arc::new(SqliteStore::open(dir.join("runs.db"))?);
//! let daily = Dag::builder("daily")
//!     .schedule("@daily")
//!     .start_date("2026-01-01T00:00:00Z".parse()?)
//!     .catchup(true)
//!     .build(|| {
//!         report();
//!     })?;
//! let executor = Executor::builder().virtual_start("2026-01-01T00:00:00Z".parse()?).build()?;
//! let scheduler = Scheduler::builder(executor, store.clone()).dag(daily).build()?;
//! scheduler.run_until("2026-01-03T12:00:00Z".parse()?)?; // virtual days: milliseconds
//! let runs = store.dag_runs("daily", 10, 0)?;
//! let ids: Vec<_> = runs.iter().map(|run| run.run_id.as_str()).collect();
//! assert_eq!(ids, [
//!     "scheduled__2026-01-03T00:00:00+00:00",
//!     "scheduled__2026-01-02T00:00:00+00:00",
//!     "scheduled__2026-01-01T00:00:00+00:00",
//! ]);
//! # std::fs::remove_dir_all(&dir)?;
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod backfill;
mod queue;

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

pub use backfill::{
    Backfill, BackfillMade, DEFAULT_BACKFILL_MAX_ACTIVE_RUNS, MAX_BACKFILL_RUNS, Reprocess,
};
#[cfg(feature = "cli")]
pub(crate) use backfill::{Planned, PlannedRun};

use crate::executor::{Clock, EndHook, PreparedRun, STORE_WAIT, TimerId};
use crate::schedule::{DagRunInfo, DataInterval, Timetable};
use crate::store::{Change, DagRunRecord, Durability, Store, StoreSink};
use crate::{Dag, DagRunState, Error, Executor, Params, Result, RunOptions};
use queue::DagState;

/// Airflow's default `max_active_runs` of a DAG (`[core] max_active_runs_per_dag`).
pub const DEFAULT_MAX_ACTIVE_RUNS: u32 = 16;

/// How often a scheduler on real time reads its store for what other processes did
/// (runs triggered or backfills made from the command line, DAGs paused).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// How long before a run is due the scheduler does not read the store for other processes'
/// changes (it does after the run started).
const REFRESH_CLEARANCE: chrono::Duration = chrono::Duration::milliseconds(100);

/// How long before a scheduled run is due the loop makes it ready to start (its state
/// built, checked against the executor's limits), so that at its due time the loop only lets
/// it go: runs due together start within a fraction of the time their making takes.
const PREPARE_AHEAD: chrono::Duration = chrono::Duration::milliseconds(20);

/// On real time, how long before a made-ready run is due the loop's timed wait ends; the
/// rest it waits out reading the clock, as a timed wait ends a few hundred microseconds
/// late.
const WAIT_OUT: chrono::Duration = chrono::Duration::milliseconds(1);

/// Settings of a [`Scheduler`]; see [`Scheduler::builder`].
#[derive(Debug)]
pub struct SchedulerBuilder {
    executor: Executor,
    store: Arc<dyn Store>,
    dags: Vec<Arc<Dag>>,
    poll_interval: Duration,
    durability: Durability,
}

impl SchedulerBuilder {
    /// When its runs write to the store (default [`Durability::GroupCommit`]).
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Adds a DAG (a `Dag` or an `Arc<Dag>`) to schedule.
    pub fn dag(mut self, dag: impl Into<Arc<Dag>>) -> Self {
        self.dags.push(dag.into());
        self
    }

    /// Adds DAGs to schedule.
    pub fn dags<D: Into<Arc<Dag>>>(mut self, dags: impl IntoIterator<Item = D>) -> Self {
        self.dags.extend(dags.into_iter().map(Into::into));
        self
    }

    /// How often, on real time, the store is read for changes made by other processes
    /// (default [`DEFAULT_POLL_INTERVAL`]). Changes made through this scheduler are seen at
    /// once.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// The scheduler; an error if two DAGs share an id or the poll interval is zero.
    pub fn build(self) -> Result<Scheduler> {
        let mut seen = std::collections::HashSet::new();
        for dag in &self.dags {
            if !seen.insert(dag.dag_id().to_owned()) {
                return Err(Error::InvalidScheduler {
                    reason: format!("dag `{}` is given twice", dag.dag_id()),
                });
            }
        }
        if self.poll_interval.is_zero() {
            return Err(Error::InvalidScheduler {
                reason: "`poll_interval` must be positive".to_owned(),
            });
        }
        let (wakes, woken) = channel();
        let clock = self.executor.scheduling_clock();
        let writer = crate::store::Writer::start_yielding(Arc::clone(&self.store));
        Ok(Scheduler {
            executor: self.executor,
            store: self.store,
            dags: self.dags,
            clock,
            poll_interval: self.poll_interval,
            durability: self.durability,
            queued_runs: StoreSink::on(&writer, Durability::GroupCommit),
            writer,
            wakes,
            woken: Mutex::new(woken),
        })
    }
}

/// Creates the runs of a set of DAGs when their schedules say, and starts the runs queued
/// in its store (triggered, backfill, cleared), on one executor, within each DAG's
/// `max_active_runs` (backfills have their own).
///
/// It goes by the executor's clock: on an executor with virtual time
/// ([`ExecutorBuilder::virtual_start`](crate::ExecutorBuilder::virtual_start)), a month of
/// schedules passes in milliseconds, in the same order every time.
pub struct Scheduler {
    executor: Executor,
    store: Arc<dyn Store>,
    dags: Vec<Arc<Dag>>,
    clock: Arc<Clock>,
    poll_interval: Duration,
    durability: Durability,
    /// The store's writer, shared by every run it starts.
    writer: crate::store::Writer,
    /// Its own way into that writer, for the runs it makes.
    queued_runs: StoreSink,
    wakes: Sender<Wake>,
    /// Taken by the one loop running ([`Scheduler::run_until`]).
    woken: Mutex<Receiver<Wake>>,
}

/// What wakes the scheduler's loop. Each is sent with a hold on the clock, let go of once
/// the loop has dealt with it, so virtual time does not move on meanwhile.
enum Wake {
    /// Its timer: a run is due, or the loop's end.
    Timer,
    /// A run it started ended.
    Ended { dag: usize, run_id: String },
    /// The store changed (a run triggered, a backfill made, a DAG paused or unpaused).
    Refresh,
}

impl Scheduler {
    /// A scheduler of runs on `executor`, kept in `store`.
    pub fn builder(executor: Executor, store: Arc<dyn Store>) -> SchedulerBuilder {
        SchedulerBuilder {
            executor,
            store,
            dags: Vec::new(),
            poll_interval: DEFAULT_POLL_INTERVAL,
            durability: Durability::default(),
        }
    }

    /// The DAGs it schedules.
    pub fn dags(&self) -> impl Iterator<Item = &Dag> {
        self.dags.iter().map(|dag| &**dag)
    }

    /// The date now on its clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.date_now()
    }

    /// Its store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    fn dag(&self, dag_id: &str) -> Result<&Arc<Dag>> {
        self.dags
            .iter()
            .find(|dag| dag.dag_id() == dag_id)
            .ok_or_else(|| Error::UnknownDag {
                dag_id: dag_id.to_owned(),
            })
    }

    /// Tells the loop, holding the clock until it has looked.
    fn wake(&self, wake: Wake) {
        self.clock.work_added(1);
        if self.wakes.send(wake).is_err() {
            self.clock.work_done();
        }
    }

    /// Pauses DAG `dag_id`: no new run of it starts until it is unpaused (runs already
    /// running go on). Kept in the store, so other processes see it.
    pub fn pause(&self, dag_id: &str) -> Result<()> {
        self.dag(dag_id)?;
        self.store.set_paused(dag_id, true)?;
        self.wake(Wake::Refresh);
        Ok(())
    }

    /// Unpauses DAG `dag_id`. Without `catchup`, only the latest of the runs it missed
    /// runs, as in Airflow.
    pub fn unpause(&self, dag_id: &str) -> Result<()> {
        self.dag(dag_id)?;
        self.store.set_paused(dag_id, false)?;
        self.wake(Wake::Refresh);
        Ok(())
    }

    /// Queues a manual run of DAG `dag_id` with `params` (Airflow's `dags trigger`); it
    /// starts as soon as the DAG's `max_active_runs` allows. Its id.
    pub fn trigger(&self, dag_id: &str, params: Params) -> Result<String> {
        let dag = self.dag(dag_id)?;
        let run = queue_manual_run(&*self.store, dag, params, None, None, self.now())?;
        self.wake(Wake::Refresh);
        Ok(run.run_id)
    }

    /// Makes the runs of a backfill (see [`Backfill`]) and queues them; what it made.
    pub fn backfill(&self, backfill: &Backfill) -> Result<BackfillMade> {
        let dag = self.dag(&backfill.dag_id)?;
        let made = backfill.create(dag, &*self.store, self.now())?;
        self.wake(Wake::Refresh);
        Ok(made)
    }

    /// Runs the scheduler until its clock reaches `until`: every run due by then is created
    /// and started, and this returns once they have all ended.
    ///
    /// # Errors
    /// When the store fails, or another thread runs this scheduler's loop.
    pub fn run_until(&self, until: DateTime<Utc>) -> Result<()> {
        let woken = self.woken.try_lock().map_err(|_| Error::InvalidScheduler {
            reason: "its loop is already running on another thread".to_owned(),
        })?;
        let mut state = self.load()?;
        let mut timer: Option<TimerId> = None;
        let mut last_refresh = std::time::Instant::now();
        // The loop holds the clock while it works, so that nothing it is about to start is
        // skipped over; it lets go only to wait.
        self.clock.work_added(1);
        let outcome = (|| loop {
            let now = self.clock.date_now();
            let horizon = now.min(until);
            let ahead = (now + PREPARE_AHEAD).min(until);
            self.release_held(&mut state, horizon)?;
            self.start_due(&mut state, horizon, ahead)?;
            // On real time, other processes' changes are read once per poll interval: after
            // the due runs started, and not just before a run is due (a refresh that takes
            // a few milliseconds would delay it), unless that put it off twice over.
            let due_soon = [state.next_due(), state.next_held()]
                .into_iter()
                .flatten()
                .min()
                .is_some_and(|due| due - now < REFRESH_CLEARANCE);
            let since = last_refresh.elapsed();
            if !self.clock.is_virtual()
                && since >= self.poll_interval
                && (!due_soon || since >= 2 * self.poll_interval)
            {
                self.refresh(&mut state)?;
                last_refresh = std::time::Instant::now();
                self.start_due(&mut state, horizon, ahead)?;
            }
            if now >= until && state.active_runs() == 0 {
                return Ok(());
            }
            if let Some(timer) = timer.take() {
                self.clock.cancel(timer);
            }
            // The next run to make ready, or to let go.
            let release = state.next_held();
            let make = state
                .next_due()
                .filter(|due| *due <= until)
                .map(|due| due - PREPARE_AHEAD);
            let next = [make, release].into_iter().flatten().min();
            let wake_at = match next {
                Some(due) => due.max(now),
                None if now < until => until,
                None => now + chrono::Duration::from_std(self.poll_interval).unwrap_or_default(),
            };
            let wake_at = if self.clock.is_virtual() {
                wake_at
            } else {
                // On real time, look at the store now and then for other processes' changes.
                let poll = chrono::Duration::from_std(self.poll_interval).unwrap_or_default();
                wake_at.min(now + poll)
            };
            let wake = if self.clock.is_virtual() {
                // A timer of the virtual clock, which skips to it once nothing else can move:
                // set before the loop lets go of the clock.
                timer = Some(self.set_timer(wake_at));
                self.clock.work_done();
                woken.recv().ok()
            } else {
                self.clock.work_done();
                // On real time, a timed wait: to the microsecond, not the async runtime's
                // millisecond timer ticks; ended early before a run is let go.
                let release = release.filter(|due| *due <= wake_at);
                let wait_until = release.map_or(wake_at, |due| due - WAIT_OUT);
                let wait = (wait_until - self.clock.date_now())
                    .to_std()
                    .unwrap_or_default();
                match woken.recv_timeout(wait) {
                    Ok(wake) => Some(wake),
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                        self.clock.work_added(1); // as a timer's message would bring
                        if let Some(due) = release {
                            self.wait_out(due);
                        }
                        Some(Wake::Timer)
                    }
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => None,
                }
            };
            let Some(wake) = wake else {
                return Ok(()); // cannot happen: the scheduler holds a sender
            };
            // The sender's hold now counts as the loop's.
            self.handle(&mut state, wake)?;
            // Deal with everything else that came meanwhile before deciding.
            while let Ok(wake) = woken.try_recv() {
                self.handle(&mut state, wake)?;
                self.clock.work_done();
            }
        })();
        if let Some(timer) = timer {
            self.clock.cancel(timer);
        }
        self.clock.work_done();
        outcome?;
        // The runs it made and did not start (their DAG was paused meanwhile) are in the
        // store when this returns, like the ones it started.
        match self.queued_runs.flush(STORE_WAIT) {
            None => Ok(()),
            Some(reason) => Err(Error::Store {
                path: String::new(),
                reason,
            }),
        }
    }

    /// Runs the scheduler for `duration` on its clock; see [`Scheduler::run_until`].
    pub fn run_for(&self, duration: Duration) -> Result<()> {
        let duration = chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX);
        let until = self
            .now()
            .checked_add_signed(duration)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        self.run_until(until)
    }

    /// A timer that wakes the loop at `date`.
    fn set_timer(&self, date: DateTime<Utc>) -> TimerId {
        let at = self.clock.run_time_at(date);
        let clock = Arc::clone(&self.clock);
        let wakes = self.wakes.clone();
        self.clock.schedule(
            at,
            Box::new(move || {
                clock.work_added(1);
                if wakes.send(Wake::Timer).is_err() {
                    clock.work_done();
                }
            }),
        )
    }

    /// Waits on real time until `due`, at most [`WAIT_OUT`] and a little more, reading the
    /// clock (and letting other threads run meanwhile); the executor's workers wait awake
    /// meanwhile, and for [`WAIT_OUT`] after, so that the runs let go then start at once.
    fn wait_out(&self, due: DateTime<Utc>) {
        let limit = std::time::Instant::now() + 2 * WAIT_OUT.to_std().unwrap_or_default();
        self.executor.warm_up(limit);
        while self.clock.date_now() < due && std::time::Instant::now() < limit {
            std::thread::yield_now();
        }
    }

    /// What the store holds of the DAGs: where each schedule goes on from, which DAGs are
    /// paused, and the runs to start or resume.
    fn load(&self) -> Result<queue::State> {
        let now = self.now();
        let mut dags = Vec::with_capacity(self.dags.len());
        for dag in &self.dags {
            let last = self.store.last_automated_run(dag.dag_id())?;
            let last = last.as_ref().and_then(interval_of);
            let mut state = DagState::new(dag, last);
            state.paused = self.store.is_paused(dag.dag_id())?;
            state.next = dag.next_dagrun_info(state.last.as_ref(), now);
            dags.push(state);
        }
        let mut state = queue::State::new(dags);
        // Runs a process running them left running: they resume first.
        for run in self.store.dag_runs_in_state(DagRunState::Running)? {
            state.enqueue(run, &*self.store)?;
        }
        self.refresh(&mut state)?;
        Ok(state)
    }

    /// Reads what other processes (or this scheduler's own methods) changed in the store:
    /// paused DAGs, and queued runs.
    fn refresh(&self, state: &mut queue::State) -> Result<()> {
        let now = self.now();
        for dag in &mut state.dags {
            let paused = self.store.is_paused(dag.dag.dag_id())?;
            if dag.paused && !paused {
                // Unpaused: without catchup, only the latest missed run is due.
                dag.next = dag.dag.next_dagrun_info(dag.last.as_ref(), now);
            }
            dag.paused = paused;
        }
        for run in self.store.dag_runs_in_state(DagRunState::Queued)? {
            state.enqueue(run, &*self.store)?;
        }
        Ok(())
    }

    fn handle(&self, state: &mut queue::State, wake: Wake) -> Result<()> {
        match wake {
            Wake::Timer => Ok(()),
            Wake::Refresh => self.refresh(state),
            Wake::Ended { dag, run_id } => {
                let now = self.now();
                if let Some(ended) = state.ended(dag, &run_id) {
                    if let Some(backfill) = ended.backfill {
                        if state.backfill_done(backfill) {
                            self.store.complete_backfill(backfill, now)?;
                        }
                    }
                    let dag = &mut state.dags[ended.dag];
                    if dag.stale {
                        // It was at its limit: its schedule goes on from now.
                        dag.stale = false;
                        dag.next = dag.dag.next_dagrun_info(dag.last.as_ref(), now);
                    }
                }
                Ok(())
            }
        }
    }

    /// Creates the scheduled runs due by `ahead` and starts what the limits allow: those due
    /// by `now` at once, the others when they are due ([`Scheduler::release_held`]).
    ///
    /// Each DAG's due run starts as soon as it is made, and the DAGs' next due times are
    /// worked out once every due run has started: a run due with many others waits for
    /// their starts only, not for their schedules. DAGs with several runs due (catchup) get
    /// one more in each pass.
    fn start_due(
        &self,
        state: &mut queue::State,
        now: DateTime<Utc>,
        ahead: DateTime<Utc>,
    ) -> Result<()> {
        let mut made_for = Vec::new();
        loop {
            made_for.clear();
            for index in 0..state.dags.len() {
                let dag = &mut state.dags[index];
                let Some(info) = dag.next.filter(|info| info.run_after <= ahead) else {
                    continue;
                };
                if dag.paused {
                    continue;
                }
                if dag.active + dag.queued.len() as u32 >= dag.max_active_runs {
                    dag.stale = true;
                    continue;
                }
                let run = scheduled_run(&dag.dag, &info);
                dag.last = Some(info.data_interval);
                made_for.push(index);
                if info.run_after > now {
                    // Due in a moment: made ready now, let go when due.
                    let fresh = queue::Queued { run, fresh: true };
                    let prepared = self.prepare(state, index, &fresh)?;
                    state.hold(index, fresh.run, prepared);
                    continue;
                }
                self.queue(&run);
                dag.queued.push_back(queue::Queued { run, fresh: true });
                self.start_queued(state, index)?;
            }
            if made_for.is_empty() {
                break;
            }
            for &index in &made_for {
                let dag = &mut state.dags[index];
                dag.next = dag.dag.next_dagrun_info(dag.last.as_ref(), now);
            }
        }
        for index in 0..state.dags.len() {
            self.start_queued(state, index)?;
        }
        for (backfill, dag) in state.backfills_with_room() {
            while let Some(run) = state.startable_backfill(backfill) {
                self.start(state, dag, run)?;
            }
        }
        Ok(())
    }

    /// Lets go of the runs made ready ahead of their due time that are due by `now`; a run
    /// of a DAG paused meanwhile waits in its queue instead.
    fn release_held(&self, state: &mut queue::State, now: DateTime<Utc>) -> Result<()> {
        let held = state.take_due_held(now);
        if held.is_empty() {
            return Ok(());
        }
        let mut queued = Vec::with_capacity(held.len());
        let mut starting = Vec::with_capacity(held.len());
        for held in held {
            if state.dags[held.dag].paused {
                state.unhold(held.dag, held.run.clone());
            } else {
                starting.push(held.prepared);
            }
            queued.push(held.run);
        }
        // One change for them all: a change sent wakes the writer, which takes its time.
        self.queued_runs.send(Change::QueueDagRuns(queued));
        self.executor.start_together(starting);
        Ok(())
    }

    /// Has the store create scheduled run `run`, queued: written by the runs' writer ahead
    /// of the run's own changes, so that the loop never waits for the store. A run lost
    /// with the process before it was written is made again after a restart (the schedule
    /// goes on from the latest stored run).
    fn queue(&self, run: &DagRunRecord) {
        self.queued_runs
            .send(Change::QueueDagRuns(vec![run.clone()]));
    }

    /// Starts the queued runs of DAG `index` that its limit lets start.
    fn start_queued(&self, state: &mut queue::State, index: usize) -> Result<()> {
        while let Some(run) = state.startable(index) {
            self.start(state, index, run)?;
        }
        Ok(())
    }

    /// Starts (or resumes) the stored run `run` of DAG `index` on the executor.
    fn start(&self, state: &mut queue::State, index: usize, queued: queue::Queued) -> Result<()> {
        let prepared = self.prepare(state, index, &queued)?;
        state.started(index, &queued.run);
        self.executor.start(prepared);
        Ok(())
    }

    /// Run `queued` of DAG `index`, made ready to start (or resume) on the executor.
    fn prepare(
        &self,
        state: &queue::State,
        index: usize,
        queued: &queue::Queued,
    ) -> Result<PreparedRun> {
        let queue::Queued { run, fresh } = queued;
        let dag = &state.dags[index].dag;
        let wakes = self.wakes.clone();
        let clock = Arc::clone(&self.clock);
        let on_end = EndHook(Arc::new(move |run_id: &str| {
            // The run's hold on the clock goes with the message.
            let ended = Wake::Ended {
                dag: index,
                run_id: run_id.to_owned(),
            };
            if wakes.send(ended).is_err() {
                clock.work_done();
            }
        }));
        let options = RunOptions::new()
            .store(Arc::clone(&self.store))
            .durability(self.durability)
            .keep_xcoms(false);
        let mut options = if *fresh {
            // Nothing stored to resume: the run as the store has it.
            let start = run.data_interval_start.unwrap_or(run.logical_date);
            let end = run.data_interval_end.unwrap_or(run.logical_date);
            options
                .run_id(run.run_id.clone())
                .logical_date(run.logical_date)
                .data_interval(start, end)
                .params(run.params.clone())
        } else {
            options.resume(run.run_id.clone())
        };
        options.on_end = Some(on_end);
        options.writer = Some(self.writer.clone());
        options.unlimited_runs = true;
        self.executor.prepare(dag, options)
    }
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field(
                "dags",
                &self.dags.iter().map(|d| d.dag_id()).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// The data interval a stored run covers (its logical date twice for a run stored without
/// one).
fn interval_of(run: &DagRunRecord) -> Option<DataInterval> {
    Some(DataInterval {
        start: run.data_interval_start.unwrap_or(run.logical_date),
        end: run.data_interval_end.unwrap_or(run.logical_date),
    })
}

/// The stored run of a schedule's `info`: `scheduled__<logical date>`.
fn scheduled_run(dag: &Dag, info: &DagRunInfo) -> DagRunRecord {
    let interval = (info.data_interval.start, info.data_interval.end);
    DagRunRecord::queued(
        dag.dag_id(),
        Timetable::run_id(info),
        "scheduled",
        interval,
        info.run_after,
        Params::default(),
    )
}

/// A manual run of `dag` at `now`, with `params`: `manual__<now>`.
pub(crate) fn manual_run(dag: &Dag, params: Params, now: DateTime<Utc>) -> DagRunRecord {
    DagRunRecord::queued(
        dag.dag_id(),
        crate::executor::default_run_id(now),
        "manual",
        (now, now),
        now,
        params,
    )
}

/// Queues a manual run of `dag` in `store` (Airflow's `dags trigger`), for whichever
/// scheduler runs `dag` on that store: with `params`, id `run_id` (default
/// `manual__<logical date>`) and logical date `logical_date` (default `now`), due at
/// `now`. The run as stored; an error if `dag` has a run of that id already.
pub(crate) fn queue_manual_run(
    store: &dyn Store,
    dag: &Dag,
    params: Params,
    run_id: Option<String>,
    logical_date: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<DagRunRecord> {
    let mut run = manual_run(dag, params, logical_date.unwrap_or(now));
    run.run_after = Some(now);
    if let Some(run_id) = run_id {
        run.run_id = run_id;
    }
    if !store.create_dag_run(&run)? {
        return Err(Error::RunExists {
            dag_id: dag.dag_id().to_owned(),
            run_id: run.run_id,
        });
    }
    Ok(run)
}
