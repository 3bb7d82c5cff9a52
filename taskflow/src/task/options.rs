//! [`TaskOptions`]: per-task settings, given on `#[task(...)]` or per call.

use std::borrow::Cow;
use std::time::Duration;

use crate::{Context, TaskError, TriggerRule, WeightRule};

/// A task callback: called with the context of the try and, for failures, retries and
/// skips, the error. A cheap-to-clone handle to a function or closure.
///
/// Callbacks run on the worker right after the event; a panic in one is caught and written
/// to standard error, and never changes the task's state.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use taskflow::prelude::*;
///
/// #[task]
/// fn fails() -> Result<(), TaskError> {
///     Err(TaskError::msg("no data"))
/// }
///
/// let failures = Arc::new(AtomicUsize::new(0));
/// let counter = Arc::clone(&failures);
/// let options = TaskOptions::new().on_failure_callback(move |_ctx, _error| {
///     counter.fetch_add(1, Ordering::SeqCst);
/// });
/// Dag::build("counted", || {
///     fails::with(options).add();
/// })?
/// .test()?;
/// assert_eq!(failures.load(Ordering::SeqCst), 1);
/// # Ok::<(), taskflow::Error>(())
/// ```
#[derive(Clone)]
pub struct TaskCallback(Callback<TaskFn>);

/// The function behind a [`TaskCallback`].
type TaskFn = dyn Fn(&Context, Option<&TaskError>) + Send + Sync;

impl TaskCallback {
    /// A callback that runs `callback`, which may capture state.
    pub fn new(callback: impl Fn(&Context, Option<&TaskError>) + Send + Sync + 'static) -> Self {
        Self(Callback::Shared(std::sync::Arc::new(callback)))
    }

    /// A callback that runs a plain function; usable in `const` and `static` items.
    pub const fn from_fn(callback: fn(&Context, Option<&TaskError>)) -> Self {
        Self(Callback::Plain(callback))
    }
}

impl std::ops::Deref for TaskCallback {
    type Target = TaskFn;

    fn deref(&self) -> &Self::Target {
        match &self.0 {
            Callback::Plain(callback) => callback,
            Callback::Shared(callback) => &**callback,
        }
    }
}

impl From<fn(&Context, Option<&TaskError>)> for TaskCallback {
    fn from(callback: fn(&Context, Option<&TaskError>)) -> Self {
        Self::from_fn(callback)
    }
}

impl std::fmt::Debug for TaskCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt("TaskCallback", f)
    }
}

/// A callback's function: a plain `fn` (which `const` items can hold) or a shared closure.
pub(crate) enum Callback<F: ?Sized, P = fn(&Context, Option<&TaskError>)> {
    Plain(P),
    Shared(std::sync::Arc<F>),
}

impl<F: ?Sized, P: Copy> Clone for Callback<F, P> {
    fn clone(&self) -> Self {
        match self {
            Self::Plain(callback) => Self::Plain(*callback),
            Self::Shared(callback) => Self::Shared(std::sync::Arc::clone(callback)),
        }
    }
}

impl<F: ?Sized, P> Callback<F, P> {
    /// Writes `Name(fn)` or `Name(closure)`.
    pub(crate) fn fmt(&self, name: &str, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self {
            Self::Plain(_) => "fn",
            Self::Shared(_) => "closure",
        };
        write!(f, "{name}({what})")
    }
}

/// Options of one task. Every field is optional: an unset field falls back to the task's
/// `#[task(...)]` options, then to the DAG's defaults, then to Airflow's default.
///
/// Per-call overrides (like Airflow's `.override(...)`) go through the generated `with`
/// function of a task:
///
/// ```
/// use taskflow::prelude::*;
///
/// #[task]
/// fn total(values: Vec<u64>) -> u64 {
///     values.iter().sum()
/// }
///
/// let dag = Dag::build("totals", || {
///     total(vec![1, 2]);                                    // id "total"
///     total::with("second_total").add(vec![3, 4]);          // explicit id
///     total::with(TaskOptions::new().task_id("third")).add(vec![5]);
/// })
/// .unwrap();
/// assert_eq!(dag.task_ids(), ["total", "second_total", "third"]);
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct TaskOptions {
    /// The task id. Unset: the function's name, suffixed `__1`, `__2`, ... on repeated calls.
    pub task_id: Option<Cow<'static, str>>,
    /// When the task runs, judged from its direct upstream tasks. Unset: `all_success`.
    pub trigger_rule: Option<TriggerRule>,
    /// How many times a failed try is retried. Unset: 0.
    pub retries: Option<u32>,
    /// The wait before a retry. Unset: 5 minutes (Airflow's default).
    pub retry_delay: Option<Duration>,
    /// Whether the wait doubles per try (with jitter). Unset: no.
    pub retry_exponential_backoff: Option<bool>,
    /// The longest wait between tries when backing off. Unset: no limit but 24 hours.
    pub max_retry_delay: Option<Duration>,
    /// The longest a try may run; a try that runs longer fails (and may be retried). Unset:
    /// no limit.
    pub execution_timeout: Option<Duration>,
    /// Whether the task is a setup task (creates a resource that teardown tasks release).
    pub is_setup: Option<bool>,
    /// Whether the task is a teardown task: it runs when its setup tasks succeeded even if
    /// the work between them failed, and its own failure does not fail the run. Its trigger
    /// rule defaults to `all_done_setup_success`.
    pub is_teardown: Option<bool>,
    /// Called before each try runs.
    pub on_execute_callback: Option<TaskCallback>,
    /// Called when the task succeeds.
    pub on_success_callback: Option<TaskCallback>,
    /// Called when the task fails for good (after its last try), with the error.
    pub on_failure_callback: Option<TaskCallback>,
    /// Called when a try fails and another is scheduled, with the error.
    pub on_retry_callback: Option<TaskCallback>,
    /// Called when the task skips itself (`TaskError::skip`), with the reason.
    pub on_skipped_callback: Option<TaskCallback>,
    /// The task's own priority in the ready queue. Unset: 1.
    pub priority_weight: Option<i32>,
    /// How the effective priority is computed from the weights. Unset: `downstream`.
    pub weight_rule: Option<WeightRule>,
    /// The executor pool whose slots the task takes while it runs. Unset: `default_pool`.
    pub pool: Option<Cow<'static, str>>,
    /// How many slots of its pool the task takes. Unset: 1.
    pub pool_slots: Option<u32>,
    /// At most this many tries of the task run at once across all runs of its DAG on one
    /// executor. Unset: no limit.
    pub max_active_tis_per_dag: Option<u32>,
    /// For a sensor: its settings, replacing those of `#[sensor(...)]`.
    pub sensor: Option<crate::SensorSettings>,
}

impl TaskOptions {
    /// No option set.
    pub const EMPTY: TaskOptions = TaskOptions {
        task_id: None,
        trigger_rule: None,
        retries: None,
        retry_delay: None,
        retry_exponential_backoff: None,
        max_retry_delay: None,
        execution_timeout: None,
        is_setup: None,
        is_teardown: None,
        on_execute_callback: None,
        on_success_callback: None,
        on_failure_callback: None,
        on_retry_callback: None,
        on_skipped_callback: None,
        priority_weight: None,
        weight_rule: None,
        pool: None,
        pool_slots: None,
        max_active_tis_per_dag: None,
        sensor: None,
    };

    /// No option set (the same as [`TaskOptions::EMPTY`]).
    pub fn new() -> Self {
        Self::EMPTY
    }

    /// Sets the task id.
    pub fn task_id(mut self, task_id: impl Into<Cow<'static, str>>) -> Self {
        self.task_id = Some(task_id.into());
        self
    }

    /// Sets the trigger rule.
    pub fn trigger_rule(mut self, rule: TriggerRule) -> Self {
        self.trigger_rule = Some(rule);
        self
    }

    /// Sets the number of retries.
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = Some(retries);
        self
    }

    /// Sets the wait before a retry.
    pub fn retry_delay(mut self, delay: Duration) -> Self {
        self.retry_delay = Some(delay);
        self
    }

    /// Sets whether the wait before a retry doubles per try.
    pub fn retry_exponential_backoff(mut self, backoff: bool) -> Self {
        self.retry_exponential_backoff = Some(backoff);
        self
    }

    /// Sets the longest wait between tries when backing off.
    pub fn max_retry_delay(mut self, max: Duration) -> Self {
        self.max_retry_delay = Some(max);
        self
    }

    /// Sets the longest a try may run.
    pub fn execution_timeout(mut self, timeout: Duration) -> Self {
        self.execution_timeout = Some(timeout);
        self
    }

    /// Makes the task a setup task.
    pub const fn setup(mut self) -> Self {
        self.is_setup = Some(true);
        self
    }

    /// Makes the task a teardown task.
    pub const fn teardown(mut self) -> Self {
        self.is_teardown = Some(true);
        self
    }

    /// Sets the callback called before each try: a function or a closure, which may capture state.
    pub fn on_execute_callback(
        mut self,
        callback: impl Fn(&Context, Option<&TaskError>) + Send + Sync + 'static,
    ) -> Self {
        self.on_execute_callback = Some(TaskCallback::new(callback));
        self
    }

    /// Sets the callback called before each try to a plain function, in a `const` context (used by
    /// `#[task(on_execute_callback = path)]`).
    #[doc(hidden)]
    pub const fn with_const_on_execute_callback(
        mut self,
        callback: fn(&Context, Option<&TaskError>),
    ) -> Self {
        // An unset one: nothing is dropped.
        std::mem::forget(
            self.on_execute_callback
                .replace(TaskCallback::from_fn(callback)),
        );
        self
    }

    /// Sets the callback called on success: a function or a closure, which may capture state.
    pub fn on_success_callback(
        mut self,
        callback: impl Fn(&Context, Option<&TaskError>) + Send + Sync + 'static,
    ) -> Self {
        self.on_success_callback = Some(TaskCallback::new(callback));
        self
    }

    /// Sets the callback called on success to a plain function, in a `const` context (used by
    /// `#[task(on_success_callback = path)]`).
    #[doc(hidden)]
    pub const fn with_const_on_success_callback(
        mut self,
        callback: fn(&Context, Option<&TaskError>),
    ) -> Self {
        // An unset one: nothing is dropped.
        std::mem::forget(
            self.on_success_callback
                .replace(TaskCallback::from_fn(callback)),
        );
        self
    }

    /// Sets the callback called on the final failure: a function or a closure, which may capture state.
    pub fn on_failure_callback(
        mut self,
        callback: impl Fn(&Context, Option<&TaskError>) + Send + Sync + 'static,
    ) -> Self {
        self.on_failure_callback = Some(TaskCallback::new(callback));
        self
    }

    /// Sets the callback called on the final failure to a plain function, in a `const` context (used by
    /// `#[task(on_failure_callback = path)]`).
    #[doc(hidden)]
    pub const fn with_const_on_failure_callback(
        mut self,
        callback: fn(&Context, Option<&TaskError>),
    ) -> Self {
        // An unset one: nothing is dropped.
        std::mem::forget(
            self.on_failure_callback
                .replace(TaskCallback::from_fn(callback)),
        );
        self
    }

    /// Sets the callback called when a retry is scheduled: a function or a closure, which may capture state.
    pub fn on_retry_callback(
        mut self,
        callback: impl Fn(&Context, Option<&TaskError>) + Send + Sync + 'static,
    ) -> Self {
        self.on_retry_callback = Some(TaskCallback::new(callback));
        self
    }

    /// Sets the callback called when a retry is scheduled to a plain function, in a `const` context (used by
    /// `#[task(on_retry_callback = path)]`).
    #[doc(hidden)]
    pub const fn with_const_on_retry_callback(
        mut self,
        callback: fn(&Context, Option<&TaskError>),
    ) -> Self {
        // An unset one: nothing is dropped.
        std::mem::forget(
            self.on_retry_callback
                .replace(TaskCallback::from_fn(callback)),
        );
        self
    }

    /// Sets the callback called when the task skips itself: a function or a closure, which may capture state.
    pub fn on_skipped_callback(
        mut self,
        callback: impl Fn(&Context, Option<&TaskError>) + Send + Sync + 'static,
    ) -> Self {
        self.on_skipped_callback = Some(TaskCallback::new(callback));
        self
    }

    /// Sets the callback called when the task skips itself to a plain function, in a `const` context (used by
    /// `#[task(on_skipped_callback = path)]`).
    #[doc(hidden)]
    pub const fn with_const_on_skipped_callback(
        mut self,
        callback: fn(&Context, Option<&TaskError>),
    ) -> Self {
        // An unset one: nothing is dropped.
        std::mem::forget(
            self.on_skipped_callback
                .replace(TaskCallback::from_fn(callback)),
        );
        self
    }

    /// Sets the task's own priority weight.
    pub const fn priority_weight(mut self, weight: i32) -> Self {
        self.priority_weight = Some(weight);
        self
    }

    /// Sets how the effective priority weight is computed.
    pub fn weight_rule(mut self, rule: WeightRule) -> Self {
        self.weight_rule = Some(rule);
        self
    }

    /// Sets the pool the task takes slots of.
    pub fn pool(mut self, pool: impl Into<Cow<'static, str>>) -> Self {
        self.pool = Some(pool.into());
        self
    }

    /// Sets how many pool slots the task takes.
    pub const fn pool_slots(mut self, slots: u32) -> Self {
        self.pool_slots = Some(slots);
        self
    }

    /// Sets how many tries of the task may run at once across runs of its DAG.
    pub const fn max_active_tis_per_dag(mut self, limit: u32) -> Self {
        self.max_active_tis_per_dag = Some(limit);
        self
    }

    /// Sets a sensor's settings (poke interval, timeout, mode, ...) for this call.
    pub const fn sensor(mut self, settings: crate::SensorSettings) -> Self {
        self.sensor = Some(settings);
        self
    }

    /// Sets the weight rule in a `const` context (an unset one: nothing is dropped).
    #[doc(hidden)]
    pub const fn with_const_weight_rule(self, rule: WeightRule) -> Self {
        let mut options = self;
        std::mem::forget(options.weight_rule.replace(rule));
        options
    }

    /// Sets the pool in a `const` context (an unset one: nothing is dropped).
    #[doc(hidden)]
    pub const fn with_const_pool(self, pool: &'static str) -> Self {
        let mut options = self;
        std::mem::forget(options.pool.replace(Cow::Borrowed(pool)));
        options
    }

    /// Sets the trigger rule in a `const` context (used by `#[task(trigger_rule = ...)]`).
    #[doc(hidden)]
    pub const fn with_const_trigger_rule(mut self, rule: TriggerRule) -> Self {
        self.trigger_rule = Some(rule);
        self
    }

    /// Sets the retries in a `const` context (used by `#[task(retries = ...)]`).
    #[doc(hidden)]
    pub const fn with_const_retries(mut self, retries: u32) -> Self {
        self.retries = Some(retries);
        self
    }

    /// Sets the retry delay in a `const` context.
    #[doc(hidden)]
    pub const fn with_const_retry_delay(mut self, delay: Duration) -> Self {
        self.retry_delay = Some(delay);
        self
    }

    /// Sets the backoff in a `const` context.
    #[doc(hidden)]
    pub const fn with_const_retry_exponential_backoff(mut self, backoff: bool) -> Self {
        self.retry_exponential_backoff = Some(backoff);
        self
    }

    /// Sets the longest retry delay in a `const` context.
    #[doc(hidden)]
    pub const fn with_const_max_retry_delay(mut self, max: Duration) -> Self {
        self.max_retry_delay = Some(max);
        self
    }

    /// Sets the execution timeout in a `const` context.
    #[doc(hidden)]
    pub const fn with_const_execution_timeout(mut self, timeout: Duration) -> Self {
        self.execution_timeout = Some(timeout);
        self
    }

    /// Whether no option is set.
    pub fn is_empty(&self) -> bool {
        let TaskOptions {
            task_id,
            trigger_rule,
            retries,
            retry_delay,
            retry_exponential_backoff,
            max_retry_delay,
            execution_timeout,
            is_setup,
            is_teardown,
            on_execute_callback,
            on_success_callback,
            on_failure_callback,
            on_retry_callback,
            on_skipped_callback,
            priority_weight,
            weight_rule,
            pool,
            pool_slots,
            max_active_tis_per_dag,
            sensor,
        } = self;
        task_id.is_none()
            && trigger_rule.is_none()
            && retries.is_none()
            && retry_delay.is_none()
            && retry_exponential_backoff.is_none()
            && max_retry_delay.is_none()
            && execution_timeout.is_none()
            && is_setup.is_none()
            && is_teardown.is_none()
            && on_execute_callback.is_none()
            && on_success_callback.is_none()
            && on_failure_callback.is_none()
            && on_retry_callback.is_none()
            && on_skipped_callback.is_none()
            && priority_weight.is_none()
            && weight_rule.is_none()
            && pool.is_none()
            && pool_slots.is_none()
            && max_active_tis_per_dag.is_none()
            && sensor.is_none()
    }

    /// These options, with the fields unset here taken from `fallback`.
    pub fn or(&self, fallback: &TaskOptions) -> TaskOptions {
        TaskOptions {
            task_id: self.task_id.clone().or_else(|| fallback.task_id.clone()),
            trigger_rule: self.trigger_rule.or(fallback.trigger_rule),
            retries: self.retries.or(fallback.retries),
            retry_delay: self.retry_delay.or(fallback.retry_delay),
            retry_exponential_backoff: self
                .retry_exponential_backoff
                .or(fallback.retry_exponential_backoff),
            max_retry_delay: self.max_retry_delay.or(fallback.max_retry_delay),
            execution_timeout: self.execution_timeout.or(fallback.execution_timeout),
            is_setup: self.is_setup.or(fallback.is_setup),
            is_teardown: self.is_teardown.or(fallback.is_teardown),
            on_execute_callback: self
                .on_execute_callback
                .clone()
                .or_else(|| fallback.on_execute_callback.clone()),
            on_success_callback: self
                .on_success_callback
                .clone()
                .or_else(|| fallback.on_success_callback.clone()),
            on_failure_callback: self
                .on_failure_callback
                .clone()
                .or_else(|| fallback.on_failure_callback.clone()),
            on_retry_callback: self
                .on_retry_callback
                .clone()
                .or_else(|| fallback.on_retry_callback.clone()),
            on_skipped_callback: self
                .on_skipped_callback
                .clone()
                .or_else(|| fallback.on_skipped_callback.clone()),
            priority_weight: self.priority_weight.or(fallback.priority_weight),
            weight_rule: self
                .weight_rule
                .clone()
                .or_else(|| fallback.weight_rule.clone()),
            pool: self.pool.clone().or_else(|| fallback.pool.clone()),
            pool_slots: self.pool_slots.or(fallback.pool_slots),
            max_active_tis_per_dag: self
                .max_active_tis_per_dag
                .or(fallback.max_active_tis_per_dag),
            sensor: self.sensor.or(fallback.sensor),
        }
    }
}

impl From<&'static str> for TaskOptions {
    /// Options that set only the task id.
    fn from(task_id: &'static str) -> Self {
        Self::new().task_id(task_id)
    }
}

impl From<String> for TaskOptions {
    /// Options that set only the task id.
    fn from(task_id: String) -> Self {
        Self::new().task_id(task_id)
    }
}
