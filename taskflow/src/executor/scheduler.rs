//! The ready queue of an executor and what decides whether a ready task may start: priority
//! order, the executor's parallelism, pools, and per-run and per-task limits.
//!
//! Ready tasks of every run wait in one heap ordered by effective priority weight (highest
//! first), then logical date (oldest first), then the order in which they became ready. A
//! task that may not start yet (its run, its task or its pool is at its limit) waits in the
//! list of that limit, holding nothing, and goes back to the heap when the limit frees up.
//!
//! Pools hold slots for the head of their line: while a task waits for slots, tasks of
//! lower order in the same pool wait behind it even if they would fit, so a task that needs
//! many slots is not starved by a stream of small ones. Tasks of higher priority still go
//! first.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering as Atomic;

use super::clock::Clock;
use super::run::RunState;

/// A task of a run that counts its tries against limits, ready to start.
struct Job {
    priority: i32,
    date: i64,
    seq: u64,
    run: Arc<RunState>,
    node: u32,
}

impl Job {
    fn key(&self) -> (i32, Reverse<i64>, Reverse<u64>) {
        (self.priority, Reverse(self.date), Reverse(self.seq))
    }
}

impl PartialEq for Job {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Job {}

impl PartialOrd for Job {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Job {
    /// Greater is sooner: higher priority, then older logical date, then earlier ready.
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

/// A pool of slots.
pub(crate) struct PoolSlots {
    pub(crate) name: Arc<str>,
    /// `u32::MAX`: unlimited.
    pub(crate) slots: u32,
    used: u32,
    waiting: BinaryHeap<Job>,
}

impl PoolSlots {
    pub(crate) fn new(name: Arc<str>, slots: u32) -> Self {
        Self {
            name,
            slots,
            used: 0,
            waiting: BinaryHeap::new(),
        }
    }
}

/// Tries of one task (of one DAG) in flight across runs, and those waiting for a turn.
#[derive(Default)]
struct TaskSlots {
    active: u32,
    waiting: BinaryHeap<Job>,
}

/// Runs of one DAG in flight, and those waiting to start.
#[derive(Default)]
struct DagRuns {
    active: u32,
    waiting: VecDeque<Arc<RunState>>,
}

/// Why a ready task may not start yet.
enum Blocker {
    Run,
    Task((usize, u32)),
    Pool(usize),
}

/// Ready tasks of one run that counts nothing, queued together.
struct FreeBatch {
    run: Arc<RunState>,
    nodes: VecDeque<u32>,
}

/// The ready queue and the limits of one executor.
pub(crate) struct Scheduler {
    ready: BinaryHeap<Job>,
    /// Ready tasks of runs that count nothing against limits (on the default executor, runs
    /// of DAGs without limits of their own): every one of them may start, so they take no
    /// part in the priority order and wait first come, first served.
    free: VecDeque<FreeBatch>,
    /// Tasks in `free`.
    free_len: usize,
    seq: u64,
    /// Tries in flight of runs that count them.
    running: usize,
    parallelism: usize,
    pub(crate) pools: Vec<PoolSlots>,
    run_waiting: HashMap<u64, BinaryHeap<Job>>,
    tasks: HashMap<(usize, u32), TaskSlots>,
    dag_runs: HashMap<Arc<str>, DagRuns>,
    /// Runs admitted or waiting to start, not yet ended.
    runs: usize,
    /// Ready tasks that wait for `parallelism` (tries in flight) to fall.
    held: BinaryHeap<Job>,
    /// Ready tasks waiting for a limit: for each, its run's clock no longer counts it as
    /// busy, so that virtual time may skip ahead; see [`Scheduler::take_rechecks`].
    blocked: usize,
    /// Clocks whose busy count fell while the lock was held: to look at again (and skip
    /// ahead if idle) once it is released.
    rechecks: Vec<Arc<Clock>>,
}

impl Scheduler {
    /// A scheduler with this parallelism (`usize::MAX`: none) and pools (the first one is the
    /// default pool).
    pub(crate) fn new(parallelism: usize, pools: Vec<PoolSlots>) -> Self {
        Self {
            ready: BinaryHeap::new(),
            free: VecDeque::new(),
            free_len: 0,
            seq: 0,
            running: 0,
            parallelism,
            pools,
            run_waiting: HashMap::new(),
            tasks: HashMap::new(),
            dag_runs: HashMap::new(),
            runs: 0,
            held: BinaryHeap::new(),
            blocked: 0,
            rechecks: Vec::new(),
        }
    }

    /// Sets `job` aside for a limit: its run's clock counts it as idle until it is ready
    /// again, in one count (the clock reads nothing else to know it is idle).
    fn block(&mut self, job: &Job) {
        self.blocked += 1;
        let clock = &job.run.clock;
        if clock.set_aside() && !self.rechecks.iter().any(|known| Arc::ptr_eq(known, clock)) {
            self.rechecks.push(Arc::clone(clock));
        }
    }

    /// Moves the best of `waiting` (set aside by [`Scheduler::block`]) back to the ready
    /// heap.
    fn unblock_best(
        ready: &mut BinaryHeap<Job>,
        blocked: &mut usize,
        waiting: &mut BinaryHeap<Job>,
    ) {
        if let Some(job) = waiting.pop() {
            *blocked -= 1;
            job.run.clock.work_added(1);
            ready.push(job);
        }
    }

    /// The clocks to look at again now that the lock is released: tasks set aside for
    /// limits may have left them nothing to wait for.
    pub(crate) fn take_rechecks(&mut self) -> Vec<Arc<Clock>> {
        std::mem::take(&mut self.rechecks)
    }

    /// Ready tasks waiting for a worker.
    pub(crate) fn len(&self) -> usize {
        self.ready.len() + self.held.len() + self.free_len
    }

    /// Adds a ready task.
    pub(crate) fn push(&mut self, run: &Arc<RunState>, node: u32) {
        if !run.sched.accounted {
            self.free_len += 1;
            match self.free.back_mut() {
                Some(batch) if Arc::ptr_eq(&batch.run, run) => batch.nodes.push_back(node),
                _ => self.free.push_back(FreeBatch {
                    run: Arc::clone(run),
                    nodes: VecDeque::from([node]),
                }),
            }
            return;
        }
        self.seq += 1;
        let job = Job {
            priority: run.dag.plan.priorities()[node as usize],
            date: run.sched.date,
            seq: self.seq,
            run: Arc::clone(run),
            node,
        };
        if self.running >= self.parallelism {
            self.block(&job);
            self.held.push(job);
        } else {
            self.ready.push(job);
        }
    }

    /// The next task allowed to start, with its slots taken (if its run counts them);
    /// `None` if no ready task may start now.
    pub(crate) fn pop(&mut self) -> Option<(Arc<RunState>, u32)> {
        self.pop_chunk(1, &mut Vec::new())
    }

    /// Like [`Scheduler::pop`]; when the task comes from a run that counts nothing, up to
    /// `max - 1` more of that run's ready tasks go to `more`.
    pub(crate) fn pop_chunk(
        &mut self,
        max: usize,
        more: &mut Vec<u32>,
    ) -> Option<(Arc<RunState>, u32)> {
        loop {
            if self.running >= self.parallelism {
                // Everything ready waits for a try to end.
                while let Some(job) = self.ready.pop() {
                    self.block(&job);
                    self.held.push(job);
                }
            }
            let job = match self.next_ready() {
                Some(job) => job,
                None => return self.pop_free(max, more),
            };
            let blocker = self.blocker(&job);
            if blocker.is_some() {
                self.block(&job);
            }
            match blocker {
                None => {
                    self.acquire(&job);
                    return Some((job.run, job.node));
                }
                Some(Blocker::Run) => self
                    .run_waiting
                    .entry(job.run.sched.key)
                    .or_default()
                    .push(job),
                Some(Blocker::Task(key)) => self.tasks.entry(key).or_default().waiting.push(job),
                Some(Blocker::Pool(pool)) => self.pools[pool].waiting.push(job),
            }
        }
    }

    /// The best ready task, from the heap or from those held for `parallelism` (which may
    /// start again once fewer tries are in flight); `None` if neither has one that may.
    fn next_ready(&mut self) -> Option<Job> {
        if self.running >= self.parallelism {
            return None;
        }
        let from_held = match (self.ready.peek(), self.held.peek()) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(ready), Some(held)) => held > ready,
        };
        if !from_held {
            return self.ready.pop();
        }
        let job = self.held.pop()?;
        self.blocked -= 1;
        job.run.clock.work_added(1);
        Some(job)
    }

    fn pop_free(&mut self, max: usize, more: &mut Vec<u32>) -> Option<(Arc<RunState>, u32)> {
        let batch = self.free.front_mut()?;
        let first = batch.nodes.pop_front()?;
        let extra = batch.nodes.len().min(max.saturating_sub(1));
        more.extend(batch.nodes.drain(..extra));
        self.free_len -= 1 + extra;
        let run = if batch.nodes.is_empty() {
            self.free.pop_front()?.run
        } else {
            Arc::clone(&batch.run)
        };
        Some((run, first))
    }

    fn blocker(&self, job: &Job) -> Option<Blocker> {
        let sched = &job.run.sched;
        if sched.active.load(Atomic::Relaxed) >= sched.max_active_tasks {
            return Some(Blocker::Run);
        }
        let demands = &job.run.dag.plan.demands;
        let limit = demands.max_tis_of(job.node);
        if limit > 0 {
            let key = task_key(&job.run, job.node);
            if self
                .tasks
                .get(&key)
                .is_some_and(|task| task.active >= limit)
            {
                return Some(Blocker::Task(key));
            }
        }
        let pool = sched.pool_of(job.run.dag.plan.demands.pool_of(job.node));
        let slots = &self.pools[pool];
        let head_first = slots.waiting.peek().is_some_and(|head| head > job);
        let need = demands.slots_of(job.node);
        if head_first || slots.slots.saturating_sub(slots.used) < need {
            return Some(Blocker::Pool(pool));
        }
        None
    }

    fn acquire(&mut self, job: &Job) {
        self.running += 1;
        let (run, node) = (&job.run, job.node);
        run.sched.active.fetch_add(1, Atomic::Relaxed);
        let demands = &run.dag.plan.demands;
        if demands.max_tis_of(node) > 0 {
            self.tasks.entry(task_key(run, node)).or_default().active += 1;
        }
        let pool = run.sched.pool_of(demands.pool_of(node));
        self.pools[pool].used += demands.slots_of(node);
    }

    /// Gives back what a try of `node` took when it started; returns how many waiting tasks
    /// went back to the ready heap.
    pub(crate) fn release(&mut self, run: &Arc<RunState>, node: u32) -> usize {
        let before = self.ready.len();
        self.running -= 1;
        run.sched.active.fetch_sub(1, Atomic::Relaxed);
        // The freed slot of parallelism goes back to the best held task now, counted busy on
        // its clock again, so that virtual time cannot skip past a task that may start.
        Self::unblock_best(&mut self.ready, &mut self.blocked, &mut self.held);
        if let Some(waiting) = self.run_waiting.get_mut(&run.sched.key) {
            Self::unblock_best(&mut self.ready, &mut self.blocked, waiting);
            if waiting.is_empty() {
                self.run_waiting.remove(&run.sched.key);
            }
        }
        let demands = &run.dag.plan.demands;
        if demands.max_tis_of(node) > 0 {
            let key = task_key(run, node);
            if let Some(task) = self.tasks.get_mut(&key) {
                task.active -= 1;
                Self::unblock_best(&mut self.ready, &mut self.blocked, &mut task.waiting);
                if task.active == 0 && task.waiting.is_empty() {
                    self.tasks.remove(&key);
                }
            }
        }
        let pool = &mut self.pools[run.sched.pool_of(demands.pool_of(node))];
        pool.used -= demands.slots_of(node);
        let mut free = pool.slots.saturating_sub(pool.used);
        while let Some(head) = pool.waiting.peek() {
            let need = head.run.dag.plan.demands.slots_of(head.node);
            if need > free {
                break;
            }
            free -= need;
            Self::unblock_best(&mut self.ready, &mut self.blocked, &mut pool.waiting);
        }
        self.ready.len() - before
    }

    /// After a try of `run`: gives back the slots of `released` (if it took any) and queues
    /// the tasks it made ready, so that a freed slot goes to the best task, these included.
    pub(crate) fn finish(
        &mut self,
        run: &Arc<RunState>,
        released: Option<u32>,
        ready: impl IntoIterator<Item = u32>,
    ) {
        if let Some(node) = released.filter(|_| run.sched.accounted) {
            self.release(run, node);
        }
        for node in ready {
            self.push(run, node);
        }
    }

    /// Counts a run of its DAG as started, unless the DAG is at its `max_active_runs`: then
    /// the run waits, and `false` is returned.
    pub(crate) fn admit_run(&mut self, run: &Arc<RunState>) -> bool {
        self.runs += 1;
        let runs = self
            .dag_runs
            .entry(Arc::clone(&run.dag.dag_id))
            .or_default();
        if runs.active < run.sched.max_active_runs {
            runs.active += 1;
            true
        } else {
            runs.waiting.push_back(Arc::clone(run));
            false
        }
    }

    /// Counts a run as ended; returns the next waiting run of its DAG to start, if any.
    pub(crate) fn run_ended(&mut self, run: &RunState) -> Option<Arc<RunState>> {
        self.runs -= 1;
        let dag_id = &run.dag.dag_id;
        let runs = self.dag_runs.get_mut(dag_id)?;
        match runs.waiting.pop_front() {
            Some(next) => Some(next),
            None => {
                runs.active -= 1;
                if runs.active == 0 {
                    self.dag_runs.remove(dag_id);
                }
                None
            }
        }
    }

    /// Whether no run is in flight or waiting, and no task is ready.
    pub(crate) fn is_idle(&self) -> bool {
        self.runs == 0 && self.len() == 0
    }

    /// Whether a ready task could start if a worker were free.
    pub(crate) fn has_startable(&self) -> bool {
        self.free_len > 0
            || ((!self.ready.is_empty() || !self.held.is_empty())
                && self.running < self.parallelism)
    }

    /// The index of the pool called `name`, if the executor has it.
    pub(crate) fn pool_index(&self, name: &str) -> Option<usize> {
        self.pools.iter().position(|pool| *pool.name == *name)
    }
}

/// The key of a task across the runs of its DAG.
fn task_key(run: &RunState, node: u32) -> (usize, u32) {
    run.limit_key(node)
}
