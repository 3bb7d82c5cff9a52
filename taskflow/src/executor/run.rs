//! One DAG run in flight: join counters, values, records, and the step that runs a task and
//! releases its downstream tasks.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::runtime::Handle;
use tokio::sync::oneshot;

use super::clock::{Clock, TimerId, TrySleeps};
use super::pool::Pool;
use super::slot::Slot;
use crate::TaskState;
use crate::dag::{DagInner, Role};
use crate::policy::trigger_rule::{Decision, Tally};
use crate::task::context::{Context, RunInfo, TryLinks};

/// The state of one DAG run, shared by the workers running its tasks.
pub(crate) struct RunState {
    pub(crate) dag: Arc<DagInner>,
    pub(crate) info: Arc<RunInfo>,
    pub(crate) keep_values: bool,
    pub(crate) slots: Box<[Slot]>,
    joins: Box<[Join]>,
    records: Box<[Mutex<Record>]>,
    unfinished: AtomicUsize,
    /// Per task: the last try whose outcome was taken (a late result of a timed-out try is
    /// dropped).
    pub(crate) settled: Box<[AtomicU32]>,
    pub(crate) clock: Arc<Clock>,
    /// The clock's time when the run was created (a clock may serve many runs).
    origin: Duration,
    pub(crate) start_date: DateTime<Utc>,
    pub(crate) handle: Handle,
    pub(crate) pool: Pool,
    pub(crate) sched: RunSched,
    done: Mutex<Option<oneshot::Sender<()>>>,
}

/// What the executor's scheduler keeps of a run.
pub(crate) struct RunSched {
    /// Whether the run's tries are counted against limits (else they start as soon as a
    /// worker is free).
    pub(crate) accounted: bool,
    /// Unique among the executor's runs.
    pub(crate) key: u64,
    /// The logical date, in microseconds: older runs go first among equal priorities.
    pub(crate) date: i64,
    pub(crate) max_active_tasks: u32,
    pub(crate) max_active_runs: u32,
    /// Tries of the run in flight (changed under the scheduler's lock).
    pub(crate) active: AtomicU32,
    /// The executor's pool for each pool the DAG names.
    pub(crate) pools: Box<[u16]>,
}

impl RunSched {
    /// The executor's index of the DAG's pool `dag_pool`.
    pub(crate) fn pool_of(&self, dag_pool: u16) -> usize {
        self.pools
            .get(dag_pool as usize)
            .map_or(0, |&pool| pool as usize)
    }
}

/// What one task did in a run, and the handles of its try in flight.
#[derive(Debug, Default)]
pub(crate) struct Record {
    pub(crate) state: TaskState,
    pub(crate) tries: u32,
    /// When the first try started.
    pub(crate) start: Option<Duration>,
    /// When each later try started (empty, so unallocated, for tasks tried once).
    pub(crate) retry_starts: Vec<Duration>,
    pub(crate) end: Option<Duration>,
    pub(crate) error: Option<String>,
    /// The timeout timer of the try in flight.
    pub(crate) timeout: Option<TimerId>,
    /// The tokio task of an async try in flight, to cancel on timeout.
    pub(crate) abort: Option<tokio::task::AbortHandle>,
    /// A sensor's try: when its first check began, and how many checks said "not yet".
    pub(crate) sensor_started: Option<Duration>,
    pub(crate) pokes: u32,
    /// Set while a sensor in reschedule mode waits: its next check continues the same try.
    pub(crate) rescheduled: bool,
    /// The sleeps of the try in flight (`Context::sleep`).
    pub(crate) sleeps: Option<Arc<TrySleeps>>,
}

/// How the direct upstream tasks of one task have ended so far.
struct Join {
    remaining: AtomicU32,
    success: AtomicU32,
    failed: AtomicU32,
    upstream_failed: AtomicU32,
    skipped: AtomicU32,
    setup_success: AtomicU32,
    setup_skipped: AtomicU32,
    decided: AtomicBool,
}

impl RunState {
    pub(crate) fn new(
        dag: Arc<DagInner>,
        info: RunInfo,
        keep_values: bool,
        clock: Arc<Clock>,
        handle: Handle,
        (pool, sched): (Pool, RunSched),
        done: oneshot::Sender<()>,
    ) -> Self {
        let plan = &dag.plan;
        let joins = plan
            .upstream_count
            .iter()
            .map(|&count| Join {
                remaining: AtomicU32::new(count),
                success: AtomicU32::new(0),
                failed: AtomicU32::new(0),
                upstream_failed: AtomicU32::new(0),
                skipped: AtomicU32::new(0),
                setup_success: AtomicU32::new(0),
                setup_skipped: AtomicU32::new(0),
                decided: AtomicBool::new(false),
            })
            .collect();
        let slots = plan
            .readers
            .iter()
            .map(|&readers| Slot::new(readers))
            .collect();
        let count = dag.nodes.len();
        Self {
            unfinished: AtomicUsize::new(count),
            settled: (0..count).map(|_| AtomicU32::new(0)).collect(),
            records: (0..count).map(|_| Mutex::default()).collect(),
            dag,
            info: Arc::new(info),
            keep_values,
            slots,
            joins,
            origin: clock.now(),
            start_date: clock.date_now(),
            clock,
            handle,
            pool,
            sched,
            done: Mutex::new(Some(done)),
        }
    }

    /// Queues the tasks without upstream tasks, or ends an empty run at once.
    pub(crate) fn start(self: &Arc<Self>) {
        self.pool.runs().started(self);
        if self.dag.nodes.is_empty() {
            self.signal_done();
            return;
        }
        let roots = &self.dag.plan.roots;
        self.count_queued(roots.len());
        for &root in roots {
            self.record(root).state = TaskState::Queued;
        }
        self.pool.push(self, roots.iter().copied());
    }

    pub(crate) fn record(&self, node: u32) -> MutexGuard<'_, Record> {
        self.records[node as usize]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The context of try `try_number` of `node`.
    pub(crate) fn context(&self, node: u32, try_number: u32) -> Context {
        let task_id: Arc<str> = self.dag.task_id(node).into();
        let sleeps = Arc::clone(self.record(node).sleeps.get_or_insert_default());
        let links = TryLinks {
            clock: Arc::clone(&self.clock),
            runs: Arc::clone(self.pool.runs()),
            sleeps,
        };
        Context::new(Arc::clone(&self.info), task_id, try_number, Some(links))
    }

    /// Time since the run was created, on its clock.
    pub(crate) fn now(&self) -> Duration {
        self.clock.now().saturating_sub(self.origin)
    }

    /// Runs `action` once `wait` has passed on the run's clock.
    pub(crate) fn schedule_after(&self, wait: Duration, action: super::clock::Action) -> TimerId {
        self.clock
            .schedule(self.clock.now().saturating_add(wait), action)
    }

    /// Takes the outcome of try `try_number` of `node` if no other outcome (a timeout, or the
    /// try itself) was taken first.
    pub(crate) fn claim(&self, node: u32, try_number: u32) -> bool {
        self.settled[node as usize]
            .compare_exchange(
                try_number - 1,
                try_number,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
    }

    /// Makes try `try_number` of `node` claimable again: a sensor's try goes on after a
    /// check that said "not yet".
    pub(crate) fn unclaim(&self, node: u32, try_number: u32) {
        self.settled[node as usize].store(try_number - 1, Ordering::Release);
    }

    /// Counts a task as queued again (a retry).
    pub(crate) fn requeue(self: &Arc<Self>, node: u32) {
        self.count_queued(1);
        self.record(node).state = TaskState::Queued;
        self.pool.push(self, [node]);
    }

    fn count_queued(&self, tasks: usize) {
        self.clock.work_added(tasks);
    }

    /// Marks the end of a try; when nothing is queued or running any more, virtual time
    /// skips to the next timer.
    pub(crate) fn try_ended(&self) {
        self.clock.work_done();
    }

    /// Tells the downstream tasks of `node` that it ended in `state`, queues those that may
    /// run onto `ready`, and ends (without running) those whose trigger rule says skip or
    /// upstream_failed.
    pub(crate) fn settle(&self, node: u32, state: TaskState, ready: &mut Vec<u32>) {
        // Only skips and upstream failures cascade, so this stays unallocated on the hot path.
        let mut ended = Vec::new();
        let mut next = Some((node, state));
        while let Some((node, state)) = next.take().or_else(|| ended.pop()) {
            for &down in self.dag.plan.downstream(node) {
                match self.arrive(down, node, state) {
                    Decision::Wait => {}
                    Decision::Run => {
                        self.count_queued(1);
                        self.record(down).state = TaskState::Queued;
                        ready.push(down);
                    }
                    Decision::Skip => {
                        ended.push((down, self.end_without_running(down, TaskState::Skipped)))
                    }
                    Decision::UpstreamFailed => ended.push((
                        down,
                        self.end_without_running(down, TaskState::UpstreamFailed),
                    )),
                }
            }
            self.task_done();
        }
    }

    /// Settles a successful `node` whose tasks `skipped` are skipped whatever their trigger
    /// rules say (a branch not taken, a short-circuit): they are ended first, so that the
    /// success of `node` cannot start them.
    pub(crate) fn settle_skipping(&self, node: u32, skipped: &[u32], ready: &mut Vec<u32>) {
        let ended: Vec<u32> = skipped
            .iter()
            .copied()
            .filter(|&task| {
                !self.joins[task as usize]
                    .decided
                    .swap(true, Ordering::AcqRel)
            })
            .collect();
        for &task in &ended {
            self.end_without_running(task, TaskState::Skipped);
        }
        self.settle(node, TaskState::Success, ready);
        for task in ended {
            self.settle(task, TaskState::Skipped, ready);
        }
    }

    fn end_without_running(&self, node: u32, state: TaskState) -> TaskState {
        let mut record = self.record(node);
        record.state = state;
        record.end = Some(self.now());
        state
    }

    /// Counts one upstream task of `node` as ended in `state`; returns the decision if this
    /// arrival is the one that decides.
    fn arrive(&self, node: u32, upstream: u32, state: TaskState) -> Decision {
        let join = &self.joins[node as usize];
        if self.dag.plan.roles[upstream as usize] == Role::Setup {
            match state {
                TaskState::Success => join.setup_success.fetch_add(1, Ordering::Release),
                TaskState::Skipped => join.setup_skipped.fetch_add(1, Ordering::Release),
                _ => 0,
            };
        }
        let counter = match state {
            TaskState::Success => &join.success,
            TaskState::Skipped => &join.skipped,
            TaskState::UpstreamFailed => &join.upstream_failed,
            _ => &join.failed,
        };
        counter.fetch_add(1, Ordering::Release);
        let remaining = join.remaining.fetch_sub(1, Ordering::AcqRel) - 1;
        let plan = &self.dag.plan;
        let rule = plan.trigger_rules[node as usize];
        if remaining > 0 && !rule.may_decide_early() {
            return Decision::Wait;
        }
        let tally = Tally {
            upstream: plan.upstream_count[node as usize],
            success: join.success.load(Ordering::Acquire),
            failed: join.failed.load(Ordering::Acquire),
            upstream_failed: join.upstream_failed.load(Ordering::Acquire),
            skipped: join.skipped.load(Ordering::Acquire),
            setups: plan.setup_upstream[node as usize],
            setup_success: join.setup_success.load(Ordering::Acquire),
            setup_skipped: join.setup_skipped.load(Ordering::Acquire),
        };
        match rule.decide(&tally) {
            Decision::Wait => Decision::Wait,
            decision if !join.decided.swap(true, Ordering::AcqRel) => decision,
            _ => Decision::Wait,
        }
    }

    fn task_done(&self) {
        if self.unfinished.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.signal_done();
        }
    }

    fn signal_done(&self) {
        self.pool.run_ended(self);
        let sender = self
            .done
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(sender) = sender {
            // The receiver is gone only if the caller dropped the run future; nothing to tell.
            let _ = sender.send(());
        }
    }
}
