//! One try of a task: running its body (in place, on tokio, or on its own thread when it
//! has a timeout), timing it out, and deciding what its outcome means: success, failure,
//! skip, or a retry after a delay.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use super::args::Args;
use super::run::{Carried, RunState, Step};
use super::unwind::{CatchUnwind, panic_error};
use crate::dag::{Features, Role};
use crate::policy::retry::{retry_delay, retry_seed};
use crate::policy::sensor::{SensorMode, SensorSettings};
use crate::task::body::{BoxFuture, Invocation, Outcome, Parts, TaskKind};
use crate::task::branch::BranchTarget;
use crate::task::sensor::Poked;
use crate::xcom::Value;
use crate::{TaskError, TaskErrorKind, TaskOptions, TaskState, TriggerRule};

/// Airflow's default wait before a retry.
use crate::policy::retry::DEFAULT_RETRY_DELAY;

impl RunState {
    /// Starts a try of `node`, at `started` if the caller knows the time, with the value
    /// the try before left in `step.carried` for it (see [`RunState::carry_on`]). When it
    /// ends at once, `step` gets what it made ready, whether its slots are the caller's to
    /// give back, when it ended, and its value if it is for the successor.
    pub(crate) fn execute(self: &Arc<Self>, node: u32, started: Option<u64>, step: &mut Step) {
        step.current = node;
        let now = started.unwrap_or_else(|| self.now_nanos());
        let features = self.features(node);
        if !features.has_any(Features::TRY_EXTRAS) {
            return self.execute_plainly(node, now, features, step);
        }
        if features.has(Features::RESTORED) {
            return self.restore_task(node, now, step);
        }
        if features.has(Features::TIMEOUT) && self.timed_out() {
            // Past the run's `dagrun_timeout`: nothing more runs.
            let try_number = self.start_try(node, now);
            let outcome = Err(TaskError::skip(RUN_TIMED_OUT));
            return self.complete(node, try_number, outcome, step);
        }
        if features.has(Features::MAPPED) {
            return self.expand_mapped(node, now, step);
        }
        let try_number = if features.has(Features::SENSOR) {
            self.begin_sensor_try(node, now)
        } else {
            self.start_try(node, now)
        };
        self.callback(node, try_number, Features::ON_EXECUTE, None);
        let timeout = if features.has(Features::TIMEOUT) {
            self.dag.option(node, |o| o.execution_timeout)
        } else {
            None
        };
        match timeout {
            None => {
                let invocation = self.invoke_with(node, try_number, &mut step.carried);
                self.follow(node, try_number, invocation, step);
            }
            Some(timeout) => self.execute_with_timeout(node, try_number, timeout),
        }
    }

    /// [`RunState::execute`] for a task without an execute callback, timeout or sensing: a
    /// plain success is finished here, in one go, and when it releases just its sole heir,
    /// a plain task too, that task runs next right here (a chain runs as a loop); anything
    /// else takes the general path.
    #[inline]
    fn execute_plainly(
        self: &Arc<Self>,
        mut node: u32,
        mut now: u64,
        mut features: Features,
        step: &mut Step,
    ) {
        loop {
            match self.try_plainly(node, now, features, step) {
                Some(next) => {
                    // The heir's queueing and this try's end cancel out for a virtual clock;
                    // the heir's try is taken (and counted out) on its own.
                    step.taken = false;
                    step.ended += 1;
                    (node, features) = (next, self.features(next));
                    now = step.ended_at.unwrap_or(now);
                    step.current = node;
                }
                None => return,
            }
        }
    }

    /// One plain try of `node`; its sole heir if that is to run next in place (this try
    /// succeeded and is not settled yet: the heir stands for its only downstream effect).
    #[inline]
    fn try_plainly(
        self: &Arc<Self>,
        node: u32,
        now: u64,
        features: Features,
        step: &mut Step,
    ) -> Option<u32> {
        let try_number = self.start_try(node, now);
        // The worker catches a panic of the body (see `Step::in_body`), so the outcome goes
        // straight from the body to here.
        let body = self.dag.nodes[node as usize].body;
        step.in_body = true;
        let invocation = self.in_try_span(node, || {
            body.invoke(&mut Args::new(self, node, try_number, &mut step.carried))
        });
        step.in_body = false;
        // A value the body did not read (it failed first) waits in its slot for the report.
        self.carry_on(&mut step.carried, None);
        match invocation {
            Invocation::Ready(Ok(value)) if !features.has_any(Features::SUCCESS_EXTRAS) => {
                // Nobody else can end this try (no timeout, so nothing to claim), and it left
                // nothing in flight. The heir, if any, may take the value in place.
                step.taken = true;
                let heir = self.dag.plan.sole_heir(node).filter(|_| step.may_carry);
                self.keep_value(node, value, heir, step);
                self.finish_try(node, TaskState::Success, None, step);
                if let Some(heir) = heir.filter(|&heir| self.prepare_heir_in_place(heir, step)) {
                    self.mark_queued_in_place(heir);
                    return Some(heir);
                }
                self.settle(node, TaskState::Success, step);
            }
            invocation => self.follow(node, try_number, invocation, step),
        }
        None
    }

    /// Whether the sole heir of a task that just succeeded plainly may run at once in place,
    /// without settling that task through the general path: all_success lets it run (its
    /// only upstream task succeeded), nothing can skip it from elsewhere, and it is a plain
    /// task itself. A carried value the heir may not take as it is (it may be retried) goes
    /// to its slot.
    #[inline]
    fn prepare_heir_in_place(&self, heir: u32, step: &mut Step) -> bool {
        let plan = &self.dag.plan;
        let runs = !plan.has_steering
            && !self.features(heir).has_any(Features::TRY_EXTRAS)
            && plan.trigger_rules[heir as usize] == TriggerRule::AllSuccess;
        if runs {
            self.carry_on(&mut step.carried, Some(heir));
        }
        runs
    }

    /// A sensor's try goes on across reschedules: a rescheduled sensor's next check keeps
    /// its try number; a new try starts counting checks and time anew.
    fn begin_sensor_try(&self, node: u32, now: u64) -> u32 {
        let rescheduled = self
            .records
            .with_extra(node, |extra| std::mem::take(&mut extra.rescheduled));
        if rescheduled {
            return self.resume_try(node, now);
        }
        let try_number = self.start_try(node, now);
        self.records.with_extra(node, |extra| {
            extra.sensor_started = Some(Duration::from_nanos(now));
            extra.pokes = 0;
        });
        try_number
    }

    fn invoke(self: &Arc<Self>, node: u32, try_number: u32) -> Invocation {
        self.invoke_with(node, try_number, &mut None)
    }

    /// Runs the body (or makes its future) with the value `handed` to it, if any.
    #[inline]
    fn invoke_with(
        self: &Arc<Self>,
        node: u32,
        try_number: u32,
        handed: &mut Option<Carried>,
    ) -> Invocation {
        let body = self.dag.nodes[node as usize].body;
        let mut args = Args::new(self, node, try_number, handed);
        let invocation = catch_unwind(AssertUnwindSafe(|| {
            self.in_try_span(node, || body.invoke(&mut args))
        }))
        .unwrap_or_else(|payload| Invocation::Ready(Err(panic_error(payload))));
        // A value the body did not read (it failed first) waits in its slot for the report.
        self.carry_on(handed, None);
        invocation
    }

    /// Finishes a try that ended at once, or drives its future.
    fn follow(
        self: &Arc<Self>,
        node: u32,
        try_number: u32,
        invocation: Invocation,
        step: &mut Step,
    ) {
        match invocation {
            Invocation::Ready(outcome) => self.complete(node, try_number, outcome, step),
            Invocation::Pending(future) => self.drive(node, try_number, future),
        }
    }

    /// Runs an async body as a tokio task, so that it runs in a tokio task context and never
    /// holds a worker.
    fn drive(self: &Arc<Self>, node: u32, try_number: u32, future: BoxFuture) {
        let run = Arc::clone(self);
        let future = self.future_in_try_span(node, future);
        let task = self.handle.spawn(async move {
            let outcome = CatchUnwind(future).await;
            run.complete_and_push(node, try_number, outcome);
        });
        if !self.features(node).has(Features::TIMEOUT) {
            return; // nothing ends the try from outside
        }
        self.records
            .with_extra(node, |extra| extra.abort = Some(task.abort_handle()));
        if self.records.settled(node) >= try_number {
            // Timed out before the handle was stored: nobody else will cancel it.
            task.abort();
        }
    }

    /// A try with a deadline: a sync body runs on its own thread, so that a timeout can leave
    /// it to finish without holding up a worker; an async body is cancelled at the deadline.
    fn execute_with_timeout(self: &Arc<Self>, node: u32, try_number: u32, timeout: Duration) {
        let run = Arc::clone(self);
        let timer = self.schedule_after(timeout, Box::new(move || run.time_out(node, try_number)));
        self.records
            .with_extra(node, |extra| extra.timeout = Some(timer));
        if self.dag.nodes[node as usize].body.is_async() {
            // Building the future runs no task code; the tokio task is cancelled at the deadline.
            let invocation = self.invoke(node, try_number);
            self.follow_and_push(node, try_number, invocation);
            return;
        }
        let run = Arc::clone(self);
        let started = std::thread::Builder::new()
            .name("taskflow-timed-task".into())
            .spawn(move || {
                let invocation = run.invoke(node, try_number);
                run.follow_and_push(node, try_number, invocation);
            });
        if let Err(error) = started {
            let outcome = Err(TaskError::msg(format!(
                "could not start a thread for the task: {error}"
            )));
            self.complete_and_push(node, try_number, outcome);
        }
    }

    /// Fails the try in flight of `node` after its body panicked on a worker.
    pub(crate) fn body_panicked(
        self: &Arc<Self>,
        node: u32,
        payload: Box<dyn std::any::Any + Send>,
        step: &mut Step,
    ) {
        let try_number = self.records.tries(node).max(1);
        let error = panic_error(payload);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            self.complete(node, try_number, Err(error), step)
        }));
        if let Err(payload) = outcome {
            self.executor_panicked(node, &*payload, step);
        }
    }

    /// Reports a panic inside the executor's own code after the try of `node` had ended;
    /// the task keeps the outcome it had.
    pub(crate) fn executor_panicked_after_end(
        &self,
        node: u32,
        payload: &(dyn std::any::Any + Send),
    ) {
        tracing::error!(
            "internal error after task `{}` ended: {}; its downstream tasks may not run",
            self.dag.task_id(node),
            super::unwind::panic_message(payload)
        );
    }

    /// Fails the try in flight of `node` after a panic inside the executor's own code.
    pub(crate) fn executor_panicked(
        self: &Arc<Self>,
        node: u32,
        payload: &(dyn std::any::Any + Send),
        step: &mut Step,
    ) {
        let message = super::unwind::panic_message(payload);
        tracing::error!(
            "internal error while running task `{}`: {message}",
            self.dag.task_id(node)
        );
        let try_number = self.records.tries(node).max(1);
        let error = TaskError::fail_now(format!("internal error of the executor: {message}"));
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            self.complete(node, try_number, Err(error), step)
        }));
        if outcome.is_err() {
            tracing::error!(
                "could not fail task `{}` cleanly; its run may not finish",
                self.dag.task_id(node)
            );
        }
    }

    /// Ends try `try_number` of `node`, in flight when the run reached its
    /// `dagrun_timeout`, as skipped (unless it ended first); an async body is cancelled.
    pub(crate) fn end_timed_out_try(self: &Arc<Self>, node: u32, try_number: u32) {
        let outcome = Err(TaskError::skip(RUN_TIMED_OUT));
        self.complete_and_push(node, try_number, outcome);
    }

    fn time_out(self: &Arc<Self>, node: u32, try_number: u32) {
        let timeout = self
            .dag
            .option(node, |o| o.execution_timeout)
            .unwrap_or_default();
        let outcome = Err(TaskError::msg(format!(
            "execution timeout: the try ran longer than {timeout:?}"
        )));
        self.complete_and_push(node, try_number, outcome);
    }

    /// Finishes a try that ended at once off the workers, or drives its future.
    fn follow_and_push(self: &Arc<Self>, node: u32, try_number: u32, invocation: Invocation) {
        match invocation {
            Invocation::Ready(outcome) => self.complete_and_push(node, try_number, outcome),
            Invocation::Pending(future) => self.drive(node, try_number, future),
        }
    }

    /// Takes the outcome of a try that ended off the workers: gives back its slots, queues
    /// what it made ready, and only then counts it as ended, so that a virtual clock sees the
    /// queued tasks before it may skip ahead.
    fn complete_and_push(self: &Arc<Self>, node: u32, try_number: u32, outcome: Outcome) {
        let mut step = Step::default();
        self.complete(node, try_number, outcome, &mut step);
        if step.taken {
            self.pool
                .release_and_push(self, node, std::mem::take(&mut step.ready));
            self.count_ended(&mut step);
            self.try_ended();
        }
    }

    /// Takes the outcome of a try, unless another outcome of it was taken first; sets
    /// `step.taken` if it did. The caller then gives back the try's slots, queues `ready` and
    /// counts the try as ended, in that order, so that a virtual clock never sees a task
    /// waiting for those slots as stuck.
    fn complete(self: &Arc<Self>, node: u32, try_number: u32, outcome: Outcome, step: &mut Step) {
        if !self.claim(node, try_number) {
            return; // a timed-out try that finished after all: its result is dropped
        }
        step.taken = true;
        if let Some(in_flight) = self.records.take_in_flight(node) {
            // A try ended from outside while it slept: its sleeps end now, before the try
            // is counted out.
            if let Some(sleeps) = in_flight.sleeps {
                sleeps.cancel_all(&self.clock);
            }
            if let Some(timer) = in_flight.timeout {
                self.clock.cancel(timer);
            }
            if let Some(task) = in_flight.abort {
                task.abort();
            }
        }
        let features = self.features(node);
        let outcome = if features.has(Features::MAP_SOURCE) {
            self.check_map_lengths(node, outcome)
        } else {
            outcome
        };
        let outcome = if features.has(Features::SENSOR) {
            match self.sensor_outcome(node, try_number, outcome, step) {
                Some(outcome) => outcome,
                None => return, // the try goes on with a later check
            }
        } else {
            outcome
        };
        match outcome {
            Ok(value) if !features.has_any(Features::SUCCESS_EXTRAS) => {
                // A plain success: no callback, no steering, one value.
                self.store(node, value, features, step);
                self.finish_try(node, TaskState::Success, None, step);
                self.settle(node, TaskState::Success, step);
            }
            Ok(value) => self.succeed(node, try_number, value, step),
            Err(error) => {
                let retries = if features.has(Features::RETRIES) {
                    self.dag.option(node, |o| o.retries).unwrap_or(0)
                } else {
                    0
                };
                match error.kind() {
                    TaskErrorKind::Skip => {
                        self.finish_try(node, TaskState::Skipped, Some(&error), step);
                        self.callback(node, try_number, Features::ON_SKIPPED, Some(&error));
                        self.settle(node, TaskState::Skipped, step);
                    }
                    TaskErrorKind::Fail if try_number <= retries + self.uncounted_tries(node) => {
                        self.finish_try(node, TaskState::UpForRetry, Some(&error), step);
                        self.callback(node, try_number, Features::ON_RETRY, Some(&error));
                        self.schedule_retry(node, try_number);
                    }
                    _ => self.fail(node, try_number, &error, step),
                }
            }
        }
    }

    /// [`RunState::sensor_check`] with the sensor's settings: its call's, else its own.
    fn sensor_outcome(
        self: &Arc<Self>,
        node: u32,
        try_number: u32,
        outcome: Outcome,
        step: &mut Step,
    ) -> Option<Outcome> {
        let TaskKind::Sensor(settings) = self.dag.nodes[node as usize].body.kind() else {
            return Some(outcome);
        };
        let settings = self.dag.option(node, |o| o.sensor).unwrap_or(settings);
        self.sensor_check(node, try_number, settings, outcome, &mut step.taken)
    }

    /// Takes the result of a sensor's check: the outcome to finish the try with (the value
    /// of a done check, an error, or a timeout), or `None` when the try goes on with a later
    /// check. In poke mode the try keeps its slots meanwhile (`taken` is cleared, so the
    /// caller gives back nothing); in reschedule mode it gives them back and waits as
    /// `up_for_reschedule`.
    fn sensor_check(
        self: &Arc<Self>,
        node: u32,
        try_number: u32,
        settings: SensorSettings,
        outcome: Outcome,
        taken: &mut bool,
    ) -> Option<Outcome> {
        let value = match outcome {
            Ok(value) => value,
            Err(error) => return Some(Err(error)),
        };
        let poked = match value.downcast::<Poked>() {
            Ok(poked) => poked,
            Err(value) => return Some(Ok(value)),
        };
        if let Poked::Done(value) = &*poked {
            return Some(Ok(value.clone()));
        }
        let now = self.now();
        let (elapsed, pokes) = self.records.with_extra(node, |extra| {
            extra.pokes += 1;
            (
                now.saturating_sub(extra.sensor_started.unwrap_or(now)),
                extra.pokes,
            )
        });
        if elapsed >= settings.timeout {
            let message = format!(
                "sensor timed out: the condition did not hold within {:?} ({pokes} checks)",
                settings.timeout
            );
            return Some(Err(if settings.soft_fail {
                TaskError::skip(message)
            } else {
                TaskError::fail_now(message)
            }));
        }
        let seed = retry_seed(&self.dag.dag_id, &self.dag.task_id(node), &self.info.run_id);
        let wait = settings.next_wait(pokes, elapsed, seed);
        self.records.unclaim(node, try_number);
        let run = Arc::clone(self);
        match settings.mode {
            SensorMode::Reschedule => {
                self.records
                    .with_extra(node, |extra| extra.rescheduled = true);
                self.reschedule_try(node);
                self.schedule_after(wait, Box::new(move || run.requeue(node)));
            }
            _ => {
                *taken = false;
                let clock = Arc::clone(&self.clock);
                self.schedule_after(
                    wait,
                    Box::new(move || {
                        clock.work_added(1);
                        run.check_again(node, try_number);
                    }),
                );
                // Waiting for the next check keeps the slots but not the clock.
                self.clock.work_done();
            }
        }
        None
    }

    /// The next check of a sensor in poke mode, which still holds its slots: off the
    /// workers, as the clock's timer fired it.
    fn check_again(self: &Arc<Self>, node: u32, try_number: u32) {
        if self.dag.nodes[node as usize].body.is_async() {
            let invocation = self.invoke(node, try_number);
            self.follow_and_push(node, try_number, invocation);
            return;
        }
        let run = Arc::clone(self);
        self.handle.spawn_blocking(move || {
            let invocation = run.invoke(node, try_number);
            run.follow_and_push(node, try_number, invocation);
        });
    }

    /// Stores the value and releases the downstream tasks, as the task's kind directs.
    fn succeed(self: &Arc<Self>, node: u32, try_number: u32, value: Value, step: &mut Step) {
        match self.skipped_by(node, &value) {
            Ok(skipped) => {
                self.store(node, value, self.features(node), step);
                self.finish_try(node, TaskState::Success, None, step);
                self.callback(node, try_number, Features::ON_SUCCESS, None);
                self.settle_skipping(node, &skipped, step);
            }
            Err(error) => self.fail(node, try_number, &error, step),
        }
    }

    /// The tasks a success of `node` with `value` skips: those a branch does not follow,
    /// or those a short-circuit that does not proceed skips (never teardown tasks).
    pub(crate) fn skipped_by(&self, node: u32, value: &Value) -> Result<Vec<u32>, TaskError> {
        let kind = if self.features(node).has(Features::STEERS) {
            self.dag.nodes[node as usize].body.kind()
        } else {
            TaskKind::Plain
        };
        let skipped = match kind {
            TaskKind::Plain | TaskKind::Sensor(_) => Ok(Vec::new()),
            TaskKind::Branch(targets) => match catch_unwind(AssertUnwindSafe(|| targets(value))) {
                Ok(targets) => self.not_followed(node, &targets),
                Err(payload) => Err(panic_error(payload)),
            },
            TaskKind::ShortCircuit { proceed, .. } if proceed(value) => Ok(Vec::new()),
            TaskKind::ShortCircuit {
                ignore_downstream_trigger_rules: true,
                ..
            } => Ok(self.descendants(node)),
            TaskKind::ShortCircuit { .. } => Ok(self.dag.plan.downstream(node).to_vec()),
        };
        // A short-circuit never skips teardown tasks: they follow their own trigger rules.
        skipped.map(|mut tasks| {
            let roles = &self.dag.plan.roles;
            tasks.retain(|&task| roles[task as usize] != Role::Teardown);
            tasks
        })
    }

    /// Keeps a task's value in its slot, or each part in its own for `multiple_outputs`.
    /// A value with one reader is carried to it when the caller may run it in place and
    /// only this task can make the reader ready (so that the reader cannot start elsewhere
    /// before the value is in its slot).
    #[inline]
    fn store(&self, node: u32, value: Value, features: Features, step: &mut Step) {
        let plan = &self.dag.plan;
        if !features.has(Features::PARTS) {
            let heir = plan.sole_heir(node).filter(|_| step.may_carry);
            self.keep_value(node, value, heir, step);
            return;
        }
        if let Some(limit) = self.size_warning {
            crate::size::warn_if_large(self, node, &value, limit);
        }
        if let Ok(parts) = value.downcast::<Parts>() {
            let parts =
                Arc::try_unwrap(parts).map_or_else(|shared| shared.0.clone(), |parts| parts.0);
            for (index, part) in parts.into_iter().enumerate() {
                self.slots[plan.slot(node, index as u32 + 1)].put(part);
            }
        }
    }

    /// Keeps the single value of `node`: carried in `step` to `heir` (a sole heir the caller
    /// may run in place) when that is its only reader and values are not kept for the
    /// report; else in its slot.
    #[inline(always)]
    fn keep_value(&self, node: u32, value: Value, heir: Option<u32>, step: &mut Step) {
        if let Some(limit) = self.size_warning {
            crate::size::warn_if_large(self, node, &value, limit);
        }
        let plan = &self.dag.plan;
        let slot = plan.slot(node, 0);
        match heir.filter(|_| !self.keep_values && plan.readers[slot] == 1) {
            Some(reader) => {
                step.carried = Some(Carried {
                    slot: slot as u32,
                    reader,
                    value,
                });
            }
            None => self.slots[slot].put(value),
        }
    }

    fn fail(&self, node: u32, try_number: u32, error: &TaskError, step: &mut Step) {
        self.finish_try(node, TaskState::Failed, Some(error), step);
        self.callback(node, try_number, Features::ON_FAILURE, Some(error));
        self.settle(node, TaskState::Failed, step);
    }

    /// Calls a task callback if one is set; a panic in it is reported and otherwise ignored.
    #[inline]
    fn callback(&self, node: u32, try_number: u32, which: Features, error: Option<&TaskError>) {
        if self.features(node).has(which) {
            self.call_back(node, try_number, which, error);
        }
    }

    #[cold]
    fn call_back(&self, node: u32, try_number: u32, which: Features, error: Option<&TaskError>) {
        let pick = |o: &TaskOptions| match which {
            Features::ON_EXECUTE => o.on_execute_callback.clone(),
            Features::ON_SUCCESS => o.on_success_callback.clone(),
            Features::ON_FAILURE => o.on_failure_callback.clone(),
            Features::ON_RETRY => o.on_retry_callback.clone(),
            _ => o.on_skipped_callback.clone(),
        };
        let Some(callback) = self.dag.option(node, pick) else {
            return;
        };
        let context = self.context(node, try_number);
        if let Err(message) = crate::quiet::catch(|| callback(&context, error)) {
            tracing::warn!(
                "a callback of task `{}` panicked: {message}",
                context.task_id(),
            );
        }
    }

    /// The direct downstream tasks a branch does not follow, or the error if it names a task
    /// that is not one of them.
    fn not_followed(&self, node: u32, targets: &[BranchTarget]) -> Result<Vec<u32>, TaskError> {
        let downstream = self.dag.plan.downstream(node);
        let mut followed = Vec::with_capacity(targets.len());
        for target in targets {
            let found = match target {
                // Among the direct downstream tasks: a copy of a mapped group has no id index.
                BranchTarget::Id(id) => downstream
                    .iter()
                    .copied()
                    .find(|&down| self.dag.task_id(down) == id.as_str()),
                BranchTarget::Task(task) if task.dag == self.dag.key => Some(task.node),
                // A handle from a mapped group's body: the task of this copy it stands for.
                BranchTarget::Task(task) => self
                    .mapped
                    .as_ref()
                    .and_then(|mapped| mapped.in_copy(node, *task)),
            };
            match found.filter(|found| downstream.contains(found)) {
                Some(found) => followed.push(found),
                None => {
                    let named = match target {
                        BranchTarget::Id(id) => format!("`{id}`"),
                        BranchTarget::Task(_) => "a task handle".to_owned(),
                    };
                    let direct: Vec<_> = downstream
                        .iter()
                        .map(|&d| self.dag.task_id(d).into_owned())
                        .collect();
                    return Err(TaskError::fail_now(format!(
                        "branch returned {named}, which is not a direct downstream task of `{}` (those are: {})",
                        self.dag.task_id(node),
                        direct.join(", ")
                    )));
                }
            }
        }
        let mut skipped: Vec<u32> = downstream
            .iter()
            .copied()
            .filter(|d| !followed.contains(d))
            .collect();
        if !skipped.is_empty() {
            // As Airflow's `skip_all_except`: a direct downstream task that is also downstream
            // of a followed one (the join of `branch >> [a, join]; a >> join`) is not skipped.
            let reached: std::collections::HashSet<u32> =
                self.descendants_of(&followed).into_iter().collect();
            skipped.retain(|task| !reached.contains(task));
        }
        Ok(skipped)
    }

    /// Every task downstream of `node`, each once, in the order found.
    fn descendants(&self, node: u32) -> Vec<u32> {
        self.descendants_of(&[node])
    }

    /// Every task downstream of any of `starts`, each once, in the order found.
    fn descendants_of(&self, starts: &[u32]) -> Vec<u32> {
        let mut seen = std::collections::HashSet::new();
        let mut stack = starts.to_vec();
        let mut found = Vec::new();
        while let Some(next) = stack.pop() {
            for &down in self.dag.plan.downstream(next) {
                if seen.insert(down) {
                    found.push(down);
                    stack.push(down);
                }
            }
        }
        found
    }

    /// Queues the next try after the retry delay; the wait holds no worker.
    fn schedule_retry(self: &Arc<Self>, node: u32, failed_try: u32) {
        let delay = self
            .dag
            .option(node, |o| o.retry_delay)
            .unwrap_or(DEFAULT_RETRY_DELAY);
        let backoff = self
            .dag
            .option(node, |o| o.retry_exponential_backoff)
            .unwrap_or(false);
        let max = self.dag.option(node, |o| o.max_retry_delay);
        let seed = retry_seed(&self.dag.dag_id, &self.dag.task_id(node), &self.info.run_id);
        let wait = retry_delay(delay, backoff, max, failed_try, seed);
        let run = Arc::clone(self);
        self.schedule_after(wait, Box::new(move || run.requeue(node)));
    }
}

/// Why the tasks of a run that reached its `dagrun_timeout` were skipped.
const RUN_TIMED_OUT: &str = "the dag run timed out (dagrun_timeout)";
