//! [`TaskOptions`]: per-task settings, given on `#[task(...)]` or per call.

use std::borrow::Cow;
use std::time::Duration;

use crate::TriggerRule;

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
#[derive(Debug, Clone, Default, PartialEq)]
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
