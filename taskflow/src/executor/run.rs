//! One DAG run in flight: join counters, values, records, and the step that runs a task and
//! releases its downstream tasks.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::runtime::Handle;
use tokio::sync::oneshot;

use super::args::Args;
use super::pool::Pool;
use super::slot::Slot;
use super::unwind::{CatchUnwind, panic_error, poll_caught};
use crate::dag::DagInner;
use crate::policy::trigger_rule::{Decision, Tally};
use crate::task::body::{BoxFuture, Invocation, Outcome};
use crate::task::context::RunInfo;
use crate::{TaskErrorKind, TaskState};

/// The state of one DAG run, shared by the workers running its tasks.
pub(crate) struct RunState {
    pub(crate) dag: Arc<DagInner>,
    pub(crate) info: Arc<RunInfo>,
    pub(crate) keep_values: bool,
    pub(crate) slots: Box<[Slot]>,
    joins: Box<[Join]>,
    records: Box<[Mutex<Record>]>,
    unfinished: AtomicUsize,
    pub(crate) started: Instant,
    pub(crate) start_date: DateTime<Utc>,
    handle: Handle,
    pool: Pool,
    done: Mutex<Option<oneshot::Sender<()>>>,
}

/// What one task did in a run.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub(crate) state: TaskState,
    pub(crate) tries: u32,
    pub(crate) start: Option<Duration>,
    pub(crate) end: Option<Duration>,
    pub(crate) error: Option<String>,
}

/// How the direct upstream tasks of one task have ended so far.
struct Join {
    remaining: AtomicU32,
    success: AtomicU32,
    failed: AtomicU32,
    upstream_failed: AtomicU32,
    skipped: AtomicU32,
    decided: AtomicBool,
}

impl RunState {
    pub(crate) fn new(
        dag: Arc<DagInner>,
        info: RunInfo,
        keep_values: bool,
        handle: Handle,
        pool: Pool,
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
                decided: AtomicBool::new(false),
            })
            .collect();
        let slots = plan
            .readers
            .iter()
            .map(|&readers| Slot::new(readers))
            .collect();
        let records = (0..dag.nodes.len())
            .map(|_| {
                Mutex::new(Record {
                    state: TaskState::None,
                    tries: 0,
                    start: None,
                    end: None,
                    error: None,
                })
            })
            .collect();
        Self {
            unfinished: AtomicUsize::new(dag.nodes.len()),
            dag,
            info: Arc::new(info),
            keep_values,
            slots,
            joins,
            records,
            started: Instant::now(),
            start_date: Utc::now(),
            handle,
            pool,
            done: Mutex::new(Some(done)),
        }
    }

    /// Queues the tasks without upstream tasks, or ends an empty run at once.
    pub(crate) fn start(self: &Arc<Self>) {
        if self.dag.nodes.is_empty() {
            self.signal_done();
            return;
        }
        for &root in &self.dag.plan.roots {
            self.record(root).state = TaskState::Queued;
        }
        self.pool.push(self, self.dag.plan.roots.iter().copied());
    }

    pub(crate) fn record(&self, node: u32) -> MutexGuard<'_, Record> {
        self.records[node as usize]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn now(&self) -> Duration {
        self.started.elapsed()
    }

    /// Runs one try of `node` and pushes the tasks it makes ready onto `ready`.
    pub(crate) fn execute(self: &Arc<Self>, node: u32, ready: &mut Vec<u32>) {
        let try_number = {
            let mut record = self.record(node);
            record.state = TaskState::Running;
            record.tries += 1;
            record.start = Some(self.now());
            record.tries
        };
        let body = self.dag.nodes[node as usize].body;
        let mut args = Args::new(self, node, try_number);
        let invocation = catch_unwind(AssertUnwindSafe(|| body.invoke(&mut args)))
            .unwrap_or_else(|payload| Invocation::Ready(Err(panic_error(payload))));
        match invocation {
            Invocation::Ready(outcome) => self.finish(node, outcome, ready),
            Invocation::Pending(future) => self.drive(node, future, ready),
        }
    }

    /// Polls an async body once in place; if it is not done, hands it to the tokio runtime.
    fn drive(self: &Arc<Self>, node: u32, mut future: BoxFuture, ready: &mut Vec<u32>) {
        let polled = {
            let _runtime = self.handle.enter();
            poll_caught(
                &mut future,
                &mut std::task::Context::from_waker(Waker::noop()),
            )
        };
        match polled {
            Poll::Ready(outcome) => self.finish(node, outcome, ready),
            Poll::Pending => {
                let run = Arc::clone(self);
                self.handle.spawn(async move {
                    let outcome = CatchUnwind(future).await;
                    let mut ready = Vec::new();
                    run.finish(node, outcome, &mut ready);
                    run.pool.push(&run, ready);
                });
            }
        }
    }

    fn finish(&self, node: u32, outcome: Outcome, ready: &mut Vec<u32>) {
        let state = match outcome {
            Ok(value) => {
                self.slots[node as usize].put(value);
                TaskState::Success
            }
            Err(error) => {
                let state = match error.kind() {
                    TaskErrorKind::Skip => TaskState::Skipped,
                    _ => TaskState::Failed,
                };
                self.record(node).error = Some(format!("{error:#}"));
                state
            }
        };
        {
            let mut record = self.record(node);
            record.state = state;
            record.end = Some(self.now());
        }
        self.settle(node, state, ready);
    }

    /// Tells the downstream tasks of `node` that it ended in `state`, and ends (without
    /// running) those whose trigger rule says skip or upstream_failed.
    fn settle(&self, node: u32, state: TaskState, ready: &mut Vec<u32>) {
        // Only skips and upstream failures cascade, so this stays unallocated on the hot path.
        let mut ended = Vec::new();
        let mut next = Some((node, state));
        while let Some((node, state)) = next.take().or_else(|| ended.pop()) {
            for &down in self.dag.plan.downstream(node) {
                match self.arrive(down, state) {
                    Decision::Wait => {}
                    Decision::Run => {
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

    fn end_without_running(&self, node: u32, state: TaskState) -> TaskState {
        let mut record = self.record(node);
        record.state = state;
        record.end = Some(self.now());
        state
    }

    /// Counts one upstream task of `node` as ended in `state`; returns the decision if this
    /// arrival is the one that decides.
    fn arrive(&self, node: u32, state: TaskState) -> Decision {
        let join = &self.joins[node as usize];
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
            ..Tally::default()
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
