//! One DAG run in flight: join counters, values, records, and the step that runs a task and
//! releases its downstream tasks.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::runtime::Handle;
use tokio::sync::oneshot;

use super::changes::Observer;
use super::clock::{Clock, TimerId};
use super::pool::Pool;
use super::record::Records;
use super::slot::Slots;
use crate::dag::{DagInner, Features, NO_JOIN, Role};
use crate::policy::trigger_rule::{Decision, Tally};
use crate::task::context::{Context, RunInfo, TryLinks};
use crate::xcom::Value;
use crate::{TaskState, TriggerRule};

/// The state of one DAG run, shared by the workers running its tasks.
pub(crate) struct RunState {
    pub(crate) dag: Arc<DagInner>,
    pub(crate) info: Arc<RunInfo>,
    pub(crate) keep_values: bool,
    /// The size above which a stored value is logged as a warning; `None` when the
    /// warning is off or nothing would record it, decided once as the run is created.
    pub(crate) size_warning: Option<u64>,
    pub(crate) slots: Slots,
    joins: Box<[Join]>,
    pub(crate) records: Records,
    unfinished: AtomicUsize,
    /// Tasks other than teardown tasks that ended failed or upstream_failed.
    failures: AtomicU32,
    pub(crate) clock: Arc<Clock>,
    /// The clock's time in nanoseconds when the run was created (a clock may serve many
    /// runs).
    origin: u64,
    pub(crate) start_date: DateTime<Utc>,
    pub(crate) handle: Handle,
    pub(crate) pool: Pool,
    pub(crate) sched: RunSched,
    done: Mutex<Option<oneshot::Sender<()>>>,
    /// What the run needs alive until it ends (the async runtime of a dropped
    /// [`Executor`](crate::Executor)); let go of when it ends.
    keep_alive: Mutex<Option<Arc<dyn Send + Sync>>>,
    /// Who hears the run's state changes; `None` when nobody does.
    pub(crate) observer: Option<Box<Observer>>,
    /// When the run ended, in nanoseconds on its clock (`u64::MAX` until then).
    ended_at: AtomicU64,
    /// For the instances of a mapped task (a run within a run): whose they are.
    pub(crate) mapped: Option<Box<super::expand::MappedRun>>,
    /// The runs of the instances of this run's mapped tasks, by mapped task.
    pub(crate) expansions: Mutex<Vec<(u32, Arc<RunState>)>>,
    /// For a resumed run: what its tasks restore from its store.
    pub(crate) restore: Option<Box<super::resume::Restore>>,
    /// Told when the run has ended and its changes are stored, with a hold on the clock
    /// that it takes over.
    on_end: Option<super::EndHook>,
    /// How long the run may take (Airflow's `dagrun_timeout`), and the timer set for it.
    run_timeout: Option<Duration>,
    run_timer: Mutex<Option<TimerId>>,
    /// Whether the run reached its `dagrun_timeout`: what had not ended is skipped, and the
    /// run fails.
    timed_out: AtomicBool,
}

/// A run that has ended: dropping it tells whoever waits, after the run callback if one
/// runs first.
struct RunEnded(Arc<RunState>);

impl Drop for RunEnded {
    fn drop(&mut self) {
        self.0.after_delivery(RunState::after_stored);
    }
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
    /// Tries of the run in flight (changed under the scheduler's lock), shared with the
    /// runs of its mapped tasks' instances, which count against the same `max_active_tasks`.
    pub(crate) active: Arc<AtomicU32>,
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

impl Drop for RunState {
    /// The executor's registry keeps the final states for tasks of later runs that look
    /// at this one (the external task sensor).
    fn drop(&mut self) {
        self.pool.runs().dropped(self);
    }
}

/// What a try that ended on a worker hands back to it: the tasks it made ready, whether its
/// slots are the worker's to give back, and when it ended (a successor run in place starts
/// then, without reading the clock again).
#[derive(Default)]
pub(crate) struct Step {
    pub(crate) ready: Vec<u32>,
    /// Whether the try ended here: its slots are the worker's to give back, and the worker
    /// counts it out of a virtual clock's busy tries (`RunState::try_ended`). Cleared for
    /// each try, chain links included, so that no try is counted out twice.
    pub(crate) taken: bool,
    pub(crate) ended_at: Option<u64>,
    /// Whether the caller may run a successor in place, so that a value with one reader may
    /// be handed to it in `carried` instead of going through its slot.
    pub(crate) may_carry: bool,
    /// The value of the try that just ended, with its slot, when it has one reader.
    pub(crate) carried: Option<Carried>,
    /// Set while a task body runs on the worker without a guard of its own: a panic caught
    /// meanwhile is the body's, and fails the try like any panicking task.
    pub(crate) in_body: bool,
    /// The task whose try runs or ran last (a chain runs several in one call).
    pub(crate) current: u32,
    /// Tasks that ended and are not counted out of their run yet: the caller counts them
    /// with [`RunState::count_ended`] before it leaves the run, so that a worker running
    /// one run's tasks one after another does not touch the run's shared counter for each.
    pub(crate) ended: usize,
}

/// A value on its way to its only reader, and the slot it would otherwise wait in.
pub(crate) struct Carried {
    pub(crate) slot: u32,
    pub(crate) reader: u32,
    pub(crate) value: Value,
}

/// How the direct upstream tasks of one task have ended so far.
struct Join {
    remaining: AtomicU32,
    failed: AtomicU32,
    upstream_failed: AtomicU32,
    skipped: AtomicU32,
    setup_success: AtomicU32,
    setup_skipped: AtomicU32,
    decided: AtomicBool,
}

/// A run made ready to start: its state built and checked against the pool's limits, its
/// changes not yet sent. Its clock starts when it is shared, so that a run prepared ahead of
/// its due time (a scheduler's) starts at that time, not when it was made.
pub(crate) struct PreparedRun {
    /// Not shared yet: nothing else holds it until [`PreparedRun::share`] (its state is
    /// large, and many prepared runs are moved around before they start).
    state: Arc<RunState>,
    finished: oneshot::Receiver<()>,
}

impl PreparedRun {
    pub(crate) fn new(state: RunState, finished: oneshot::Receiver<()>) -> Self {
        Self {
            state: Arc::new(state),
            finished,
        }
    }

    /// The run's state, shared, its time starting now; and what tells that it has ended.
    pub(crate) fn share(self) -> (Arc<RunState>, oneshot::Receiver<()>) {
        let Self {
            state: mut run,
            finished,
        } = self;
        // Nothing else holds the state yet; were it held, its time would count from when it
        // was made.
        if let Some(state) = Arc::get_mut(&mut run) {
            state.origin = state.clock.now_nanos();
            state.start_date = state.clock.date_now();
        }
        // Once per run: lets a task's context read its upstream states.
        run.info.attach(&run);
        (run, finished)
    }
}

impl RunState {
    pub(crate) fn new(
        dag: Arc<DagInner>,
        info: Arc<RunInfo>,
        (keep_values, xcom_size_warning): (bool, Option<u64>),
        clock: Arc<Clock>,
        handle: Handle,
        (pool, sched): (Pool, RunSched),
        (done, observer, mapped): (
            oneshot::Sender<()>,
            Option<Box<Observer>>,
            Option<Box<super::expand::MappedRun>>,
        ),
    ) -> Self {
        let plan = &dag.plan;
        let joins = plan
            .join_index
            .iter()
            .zip(&plan.upstream_count)
            .filter(|&(&index, _)| index != NO_JOIN)
            .map(|(_, &count)| Join {
                remaining: AtomicU32::new(count),
                failed: AtomicU32::new(0),
                upstream_failed: AtomicU32::new(0),
                skipped: AtomicU32::new(0),
                setup_success: AtomicU32::new(0),
                setup_skipped: AtomicU32::new(0),
                decided: AtomicBool::new(false),
            })
            .collect();
        let slots = Slots::new(Arc::clone(&dag));
        let count = dag.nodes.len();
        let listened = observer.as_ref().is_some_and(|o| o.has_listeners());
        Self {
            unfinished: AtomicUsize::new(count),
            failures: AtomicU32::new(0),
            records: Records::new(count),
            dag,
            info,
            keep_values,
            size_warning: crate::size::warning_threshold(xcom_size_warning, listened),
            slots,
            joins,
            origin: clock.now_nanos(),
            start_date: clock.date_now(),
            clock,
            handle,
            pool,
            sched,
            done: Mutex::new(Some(done)),
            keep_alive: Mutex::new(None),
            observer,
            ended_at: AtomicU64::new(u64::MAX),
            mapped,
            expansions: Mutex::new(Vec::new()),
            restore: None,
            on_end: None,
            run_timeout: None,
            run_timer: Mutex::new(None),
            timed_out: AtomicBool::new(false),
        }
    }

    /// Resumes the run with what its store kept: its restored tasks, and the stored tries
    /// of the others, which go on from there.
    pub(crate) fn resumed(mut self, restore: Option<Box<super::resume::Restore>>) -> Self {
        if let Some(restore) = &restore {
            for (node, tries) in restore.tries() {
                self.records.resume_tries(node, tries);
            }
        }
        self.restore = restore;
        self
    }

    /// Has `on_end` told when the run ends.
    pub(crate) fn on_end(mut self, on_end: Option<super::EndHook>) -> Self {
        self.on_end = on_end;
        self
    }

    /// Limits the run to `timeout` from its start (Airflow's `dagrun_timeout`).
    pub(crate) fn timed(mut self, timeout: Option<Duration>) -> Self {
        self.run_timeout = timeout;
        self
    }

    /// Whether the run reached its `dagrun_timeout`.
    pub(crate) fn timed_out(&self) -> bool {
        self.timed_out.load(Ordering::Acquire)
    }

    /// Ends the run at its `dagrun_timeout`, as Airflow's scheduler does: every try in flight
    /// ends skipped (a sync body still running is left to finish, its outcome dropped), and
    /// so does every task that had not started yet once it is due; the run fails.
    fn time_out_run(self: &Arc<Self>) {
        self.timed_out.store(true, Ordering::Release);
        for node in 0..self.dag.nodes.len() as u32 {
            if self.records.state(node) == TaskState::Running {
                let try_number = self.records.tries(node);
                self.end_timed_out_try(node, try_number);
            }
        }
    }

    /// Calls the DAG's `on_success_callback` or `on_failure_callback` with the report of the
    /// run; a panic in it is caught and reported.
    fn call_run_callback(self: &Arc<Self>) {
        if let Some(callback) = self.run_callback() {
            let report = crate::RunReport::new(Arc::clone(self));
            if let Err(message) = crate::quiet::catch(|| callback(&report)) {
                tracing::warn!(
                    "a callback of dag `{}` panicked: {message}",
                    self.dag.dag_id
                );
            }
        }
    }

    /// Keeps `owner` alive until the run ends, even if everything else lets go of it.
    pub(crate) fn keep_alive(&self, owner: Arc<dyn Send + Sync>) {
        *self
            .keep_alive
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(owner);
    }

    /// Queues the tasks without upstream tasks, or ends an empty run at once.
    pub(crate) fn start(self: &Arc<Self>) {
        if self.begin() {
            self.pool.push(self, self.dag.plan.roots.iter().copied());
        }
    }

    /// [`RunState::start`], without waking a worker for the first tasks: the caller wakes
    /// them once for many runs ([`Pool::start_runs`]).
    #[cfg(feature = "schedule")]
    pub(crate) fn start_staged(self: &Arc<Self>) {
        if self.begin() {
            self.pool.stage(self, self.dag.plan.roots.iter().copied());
        }
    }

    /// Counts the run as started and its first tasks as queued; whether it has any (an
    /// empty run ends here).
    fn begin(self: &Arc<Self>) -> bool {
        self.pool.runs().started(self);
        self.mark_run_started();
        if let Some(timeout) = self.run_timeout {
            let run = Arc::clone(self);
            let timer = self.schedule_after(timeout, Box::new(move || run.time_out_run()));
            *self
                .run_timer
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(timer);
        }
        if self.dag.nodes.is_empty() {
            self.signal_done();
            return false;
        }
        let roots = &self.dag.plan.roots;
        self.count_queued(roots.len());
        for &root in roots {
            self.mark_queued(root);
        }
        true
    }

    /// Leaves a carried value where it is for `successor`, which runs next on this thread,
    /// if that task takes it as it is: it is the reader, and its try cannot be retried and
    /// runs here. Else (no successor, or another one) the value goes to its slot, where its
    /// reader finds it.
    #[inline(always)]
    pub(crate) fn carry_on(&self, carried: &mut Option<Carried>, successor: Option<u32>) {
        if carried.is_none() {
            return; // the common case: the value was read, or there is none
        }
        const ELSEWHERE: Features = Features::TIMEOUT
            .and(Features::RETRIES)
            .and(Features::SENSOR);
        let received = |carried: &mut Carried| {
            successor.is_some_and(|successor| {
                carried.reader == successor && !self.features(successor).has_any(ELSEWHERE)
            })
        };
        if let Some(carried) = carried.take_if(|carried| !received(carried)) {
            self.slots[carried.slot as usize].put(carried.value);
        }
    }

    /// What task `node` asks of a run beyond the plain path.
    #[inline]
    pub(crate) fn features(&self, node: u32) -> Features {
        self.dag.plan.features[node as usize]
    }

    /// Whether the run failed: a task other than a teardown task ended failed or
    /// upstream_failed.
    pub(crate) fn has_failures(&self) -> bool {
        self.failures.load(Ordering::Acquire) > 0 || self.timed_out()
    }

    /// The context of try `try_number` of `node`.
    pub(crate) fn context(&self, node: u32, try_number: u32) -> Context {
        let task_id: Arc<str> = self.dag.task_id(node).into();
        // Only a try that may be ended from outside (at its timeout) needs its sleeps found.
        let sleeps = self.features(node).has(Features::TIMEOUT).then(|| {
            self.records.with_extra(node, |extra| {
                Arc::clone(extra.sleeps.get_or_insert_default())
            })
        });
        let copy_upstream = self
            .mapped
            .as_ref()
            .filter(|mapped| mapped.is_group())
            .map(|_| self.upstream_in_copy(node));
        let links = TryLinks {
            clock: Arc::clone(&self.clock),
            runs: Arc::clone(self.pool.runs()),
            sleeps,
            copy_upstream,
        };
        Context::new(Arc::clone(&self.info), task_id, try_number, Some(links))
            .with_map_path(self.map_path(node))
    }

    /// When the run ended, if it did.
    pub(crate) fn end_time(&self) -> Option<Duration> {
        let ended = self.ended_at.load(Ordering::Acquire);
        (ended != u64::MAX).then(|| Duration::from_nanos(ended))
    }

    /// Time since the run was created, on its clock.
    #[inline]
    pub(crate) fn now(&self) -> Duration {
        Duration::from_nanos(self.now_nanos())
    }

    /// [`RunState::now`] in nanoseconds.
    #[inline]
    pub(crate) fn now_nanos(&self) -> u64 {
        self.clock.now_nanos().saturating_sub(self.origin)
    }

    /// Runs `action` once `wait` has passed on the run's clock.
    pub(crate) fn schedule_after(&self, wait: Duration, action: super::clock::Action) -> TimerId {
        self.clock
            .schedule(self.clock.now().saturating_add(wait), action)
    }

    /// Takes the outcome of try `try_number` of `node` if no other outcome (a timeout, or the
    /// try itself) was taken first.
    #[inline]
    pub(crate) fn claim(&self, node: u32, try_number: u32) -> bool {
        let contended = self.features(node).has(Features::TIMEOUT);
        self.records.claim(node, try_number, contended)
    }

    /// Counts a task as queued again (a retry).
    pub(crate) fn requeue(self: &Arc<Self>, node: u32) {
        self.count_queued(1);
        self.mark_queued(node);
        self.pool.push(self, [node]);
    }

    #[inline]
    pub(crate) fn count_queued(&self, tasks: usize) {
        self.clock.work_added(tasks);
    }

    /// Marks the end of a try; when nothing is queued or running any more, virtual time
    /// skips to the next timer.
    #[inline]
    pub(crate) fn try_ended(&self) {
        self.clock.work_done();
    }

    /// Tells the downstream tasks of `node` that it ended in `state`, queues those that may
    /// run onto `step.ready`, and ends (without running) those whose trigger rule says skip or
    /// upstream_failed.
    pub(crate) fn settle(&self, node: u32, state: TaskState, step: &mut Step) {
        // Only skips and upstream failures cascade, so this stays unallocated on the hot path.
        let mut ended = Vec::new();
        let (mut node, mut state) = (node, state);
        loop {
            for &down in self.dag.plan.downstream(node) {
                match self.arrive(down, node, state) {
                    Decision::Wait => {}
                    Decision::Run => {
                        self.count_queued(1);
                        self.mark_queued(down);
                        step.ready.push(down);
                    }
                    Decision::Skip => ended.push((down, self.end_unrun(down, TaskState::Skipped))),
                    Decision::UpstreamFailed => {
                        ended.push((down, self.end_unrun(down, TaskState::UpstreamFailed)))
                    }
                }
            }
            if matches!(state, TaskState::Failed | TaskState::UpstreamFailed) {
                self.count_failure(node);
            }
            step.ended += 1;
            match ended.pop() {
                Some(next) => (node, state) = next,
                None => return,
            }
        }
    }

    /// Counts a failed or upstream_failed task against the run, unless it is a teardown.
    #[cold]
    fn count_failure(&self, node: u32) {
        if self.dag.plan.roles[node as usize] != Role::Teardown {
            self.failures.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Settles a successful `node` whose tasks `skipped` are skipped whatever their trigger
    /// rules say (a branch not taken, a short-circuit): they are ended first, so that the
    /// success of `node` cannot start them.
    pub(crate) fn settle_skipping(&self, node: u32, skipped: &[u32], step: &mut Step) {
        let ended: Vec<u32> = skipped
            .iter()
            .copied()
            .filter(|&task| !self.join(task).decided.swap(true, Ordering::AcqRel))
            .collect();
        for &task in &ended {
            self.end_unrun(task, TaskState::Skipped);
        }
        self.settle(node, TaskState::Success, step);
        for task in ended {
            self.settle(task, TaskState::Skipped, step);
        }
    }

    /// Counts one upstream task of `node` as ended in `state`; returns the decision if this
    /// arrival is the one that decides.
    fn arrive(&self, node: u32, upstream: u32, state: TaskState) -> Decision {
        let plan = &self.dag.plan;
        if plan.upstream_count[node as usize] == 1 {
            return self.arrive_alone(node, upstream, state);
        }
        let join = self.join(node);
        if plan.roles[upstream as usize] == Role::Setup {
            match state {
                TaskState::Success => join.setup_success.fetch_add(1, Ordering::Release),
                TaskState::Skipped => join.setup_skipped.fetch_add(1, Ordering::Release),
                _ => 0,
            };
        }
        // Successes are not counted: they are the ended upstream tasks that ended otherwise.
        let counter = match state {
            TaskState::Success => None,
            TaskState::Skipped => Some(&join.skipped),
            TaskState::UpstreamFailed => Some(&join.upstream_failed),
            _ => Some(&join.failed),
        };
        if let Some(counter) = counter {
            counter.fetch_add(1, Ordering::Release);
        }
        let remaining = join.remaining.fetch_sub(1, Ordering::AcqRel) - 1;
        let rule = plan.trigger_rules[node as usize];
        // Under all_success, only the last success or a first failure can decide.
        let all_success = rule == TriggerRule::AllSuccess;
        if remaining > 0 && (!rule.may_decide_early() || all_success && state == TaskState::Success)
        {
            return Decision::Wait;
        }
        let upstream = plan.upstream_count[node as usize];
        let (failed, upstream_failed, skipped) = (
            join.failed.load(Ordering::Acquire),
            join.upstream_failed.load(Ordering::Acquire),
            join.skipped.load(Ordering::Acquire),
        );
        // Exact once all have ended; before, an arrival counted above but not yet in
        // `remaining` can only make it smaller, and that arrival decides again itself.
        let success = (upstream - remaining).saturating_sub(failed + upstream_failed + skipped);
        let tally = Tally {
            upstream,
            success,
            failed,
            upstream_failed,
            skipped,
            setups: plan.setups_upstream(node),
            setup_success: join.setup_success.load(Ordering::Acquire),
            setup_skipped: join.setup_skipped.load(Ordering::Acquire),
        };
        match rule.decide(&tally) {
            Decision::Wait => Decision::Wait,
            // Every upstream task succeeded: none decided early, and without steering no
            // one else decides.
            Decision::Run if all_success && !plan.has_steering => Decision::Run,
            decision if !join.decided.swap(true, Ordering::AcqRel) => decision,
            _ => Decision::Wait,
        }
    }

    /// [`RunState::arrive`] for a task with one upstream task: this arrival decides, and
    /// unless a branch or short-circuit of the DAG may decide it too, no counter is touched.
    fn arrive_alone(&self, node: u32, upstream: u32, state: TaskState) -> Decision {
        let plan = &self.dag.plan;
        let rule = plan.trigger_rules[node as usize];
        if state == TaskState::Success && rule == TriggerRule::AllSuccess && !plan.has_steering {
            return Decision::Run; // the common case, in short
        }
        let is_setup = plan.roles[upstream as usize] == Role::Setup;
        let count = |wanted: TaskState| u32::from(state == wanted);
        let tally = Tally {
            upstream: 1,
            success: count(TaskState::Success),
            failed: u32::from(!matches!(
                state,
                TaskState::Success | TaskState::Skipped | TaskState::UpstreamFailed
            )),
            upstream_failed: count(TaskState::UpstreamFailed),
            skipped: count(TaskState::Skipped),
            setups: u32::from(is_setup),
            setup_success: u32::from(is_setup) * count(TaskState::Success),
            setup_skipped: u32::from(is_setup) * count(TaskState::Skipped),
        };
        let decision = rule.decide(&tally);
        // Without steering nobody else decides this task.
        let decided_elsewhere = plan.has_steering
            && decision != Decision::Wait
            && self.join(node).decided.swap(true, Ordering::AcqRel);
        if decided_elsewhere {
            Decision::Wait
        } else {
            decision
        }
    }

    /// The upstream counters of `node`, which has some (see `Plan::join_index`).
    #[inline]
    fn join(&self, node: u32) -> &Join {
        &self.joins[self.dag.plan.join_index[node as usize] as usize]
    }

    /// Counts the tasks `step` ended out of the run; the last one ends the run.
    #[inline]
    pub(crate) fn count_ended(self: &Arc<Self>, step: &mut Step) {
        let ended = std::mem::take(&mut step.ended);
        if ended > 0 && self.unfinished.fetch_sub(ended, Ordering::AcqRel) == ended {
            self.signal_done();
        }
    }

    /// Ends the run: frees its place among its DAG's active runs, calls its DAG's run
    /// callback (whether or not anyone waits for the run), then tells whoever waits and lets
    /// go of what it kept alive.
    ///
    /// The callback runs off the workers, on the runtime's blocking threads: it may wait for
    /// other runs of the same executor (a rerun, a clean-up DAG) without holding a worker.
    fn signal_done(self: &Arc<Self>) {
        self.ended_at.store(self.now_nanos(), Ordering::Release);
        if let Some(mapped) = &self.mapped {
            return mapped.instances_ended(self);
        }
        let run_timer = self
            .run_timer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(timer) = run_timer {
            self.clock.cancel(timer);
        }
        if self.on_end.is_some() {
            // Virtual time stands still until whoever hears of the end has looked; the hook
            // takes this hold over once the run's changes are stored.
            self.clock.work_added(1);
        }
        self.pool.run_ended(self);
        self.mark_run_ended();
        let ended = RunEnded(Arc::clone(self));
        if self.run_callback().is_some() {
            // Should the runtime refuse it (shutting down), dropping `ended` still ends the run.
            drop(self.handle.spawn_blocking(move || {
                ended.0.call_run_callback();
                drop(ended);
            }));
        }
    }

    /// The run callback for the way the run ended, if the DAG has one.
    fn run_callback(&self) -> Option<&crate::RunCallback> {
        let callbacks = &self.dag.callbacks;
        if self.has_failures() {
            callbacks.on_failure.as_ref()
        } else {
            callbacks.on_success.as_ref()
        }
    }

    /// Tells whoever waits for the run once its store has all its changes, without holding
    /// the thread meanwhile (a worker); at once without a store.
    fn after_stored(run: &Arc<RunState>) {
        let Some(sink) = run.observer.as_ref().and_then(|o| o.store_sink()) else {
            return run.tell_waiters();
        };
        let once = TellOnce::new(run);
        let written = once.clone();
        sink.after_written(move |error| {
            if let Some(run) = written.take() {
                if let (Some(error), Some(observer)) = (error, &run.observer) {
                    observer.keep_store_error(error);
                }
                run.tell_waiters();
            }
        });
        if !once.told() {
            // A store that never answers does not keep the run from ending.
            drop(run.handle.spawn(async move {
                tokio::time::sleep(super::changes::STORE_WAIT).await;
                if let Some(run) = once.take() {
                    if let Some(observer) = &run.observer {
                        observer.keep_store_error(format!(
                            "the store had not written the run's changes after {:?}",
                            super::changes::STORE_WAIT
                        ));
                    }
                    run.tell_waiters();
                }
            }));
        }
    }

    /// Tells whoever waits for the run that it ended, and lets go of what it kept alive.
    pub(crate) fn tell_waiters(&self) {
        if let Some(on_end) = &self.on_end {
            let hook = || (on_end.0)(&self.info.run_id);
            if let Err(message) = crate::quiet::catch(hook) {
                tracing::warn!(
                    "the end of run `{}` went unheard: {message}",
                    self.info.run_id
                );
            }
        }
        let sender = self
            .done
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(sender) = sender {
            // The receiver is gone only if the caller dropped the run future; nothing to tell.
            let _ = sender.send(());
        }
        let kept = self
            .keep_alive
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        drop(kept);
    }
}

/// A run to tell something once, from whichever comes first of an answer and a timeout:
/// the first to take it tells, the other finds nothing.
#[derive(Clone)]
pub(crate) struct TellOnce(Arc<Mutex<Option<Arc<RunState>>>>);

impl TellOnce {
    pub(crate) fn new(run: &Arc<RunState>) -> Self {
        Self(Arc::new(Mutex::new(Some(Arc::clone(run)))))
    }

    /// The run, to the first caller only.
    pub(crate) fn take(&self) -> Option<Arc<RunState>> {
        self.lock().take()
    }

    /// Whether it was taken already.
    pub(crate) fn told(&self) -> bool {
        self.lock().is_none()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Arc<RunState>>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
