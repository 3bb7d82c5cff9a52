//! [`TaskOptions`]: per-task settings, given on `#[task(...)]` or per call.

use std::borrow::Cow;

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
}

impl TaskOptions {
    /// No option set.
    pub const EMPTY: TaskOptions = TaskOptions {
        task_id: None,
        trigger_rule: None,
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

    /// Sets the trigger rule in a `const` context (used by `#[task(trigger_rule = ...)]`).
    #[doc(hidden)]
    pub const fn with_const_trigger_rule(mut self, rule: TriggerRule) -> Self {
        self.trigger_rule = Some(rule);
        self
    }

    /// These options, with the fields unset here taken from `fallback`.
    pub fn or(&self, fallback: &TaskOptions) -> TaskOptions {
        TaskOptions {
            task_id: self.task_id.clone().or_else(|| fallback.task_id.clone()),
            trigger_rule: self.trigger_rule.or(fallback.trigger_rule),
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
