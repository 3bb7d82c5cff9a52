//! [`RunSummary`]: an owned snapshot of a [`RunReport`] that serializes to JSON and reads
//! back; a report serializes as its summary.

use chrono::{DateTime, Utc};

use crate::{DagRunState, RunReport, TaskState, TryReport, ValueSize};

/// What a run did, as plain data: the report's run fields and one [`TaskSummary`] per task,
/// with every value that encodes to JSON. A [`RunReport`] serializes (with serde) to exactly
/// this JSON shape; the summary reads it back, for a file, a test fixture or an API.
///
/// Times are RFC 3339 dates; durations are in seconds, as Airflow's REST API gives them.
///
/// ```
/// use taskflow::prelude::*;
/// use taskflow::{DagRunState, RunSummary};
///
/// #[task]
/// fn count() -> u32 {
///     3
/// }
///
/// let report = Dag::build("summary", || {
///     count();
/// })
/// .test()?;
/// let json = serde_json::to_string(&report).expect("a report always serializes");
/// let summary: RunSummary = serde_json::from_str(&json).expect("and reads back");
/// assert_eq!(summary, report.summary());
/// assert_eq!(summary.state, DagRunState::Success);
/// assert_eq!(summary.tasks[0].value, Some(serde_json::json!(3)));
/// # Ok::<(), taskflow::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct RunSummary {
    /// The DAG's id.
    pub dag_id: String,
    /// The run's id.
    pub run_id: String,
    /// The run's logical date.
    pub logical_date: DateTime<Utc>,
    /// When the run started.
    pub start_date: DateTime<Utc>,
    /// When the run ended.
    pub end_date: DateTime<Utc>,
    /// How long the run took, in seconds.
    pub duration: f64,
    /// The state of the run.
    pub state: DagRunState,
    /// Every task, in the order the tasks were added.
    pub tasks: Vec<TaskSummary>,
}

/// What one task did, as plain data: the fields of a [`TaskReport`](crate::TaskReport) and
/// its value.
///
/// ```
/// use taskflow::prelude::*;
/// use taskflow::SizeKind;
///
/// struct Handle;
///
/// #[task]
/// fn open() -> Handle {
///     Handle
/// }
///
/// let report = Dag::build("opaque", || {
///     open();
/// })
/// .test()?;
/// let task = &report.summary().tasks[0];
/// assert_eq!(task.state, TaskState::Success);
/// assert_eq!(task.value, None); // `Handle` does not implement `Serialize`
/// assert!(task.value_type.ends_with("Handle"));
/// assert_eq!(task.value_size.map(|size| size.kind), Some(SizeKind::Shallow));
/// # Ok::<(), taskflow::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct TaskSummary {
    /// The task id.
    pub task_id: String,
    /// Its final state.
    pub state: TaskState,
    /// How many tries ran (0 if it never ran).
    pub tries: u32,
    /// When its first try started.
    pub start_date: Option<DateTime<Utc>>,
    /// When it ended.
    pub end_date: Option<DateTime<Utc>>,
    /// `end_date - start_date` in seconds, over all tries and the waits between them.
    pub duration: Option<f64>,
    /// When each try started, as in [`TaskReport::try_start_dates`](crate::TaskReport::try_start_dates).
    pub try_start_dates: Vec<DateTime<Utc>>,
    /// The error of its last try.
    pub error: Option<String>,
    /// Its effective priority weight.
    pub priority_weight: i32,
    /// Each try in order, as in [`TaskReport::history`](crate::TaskReport::history).
    pub history: Vec<TryReport>,
    /// The Rust type of the value it returns (for a value that does not encode, all there
    /// is to show).
    pub value_type: String,
    /// Its value as JSON, if it has one to read and that encodes; left out of the JSON
    /// otherwise (`null` is the encoding of a value such as `()` or `None`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub value: Option<serde_json::Value>,
    /// The size of its value, if it has one to read (see [`RunReport::xcom_size`]).
    pub value_size: Option<ValueSize>,
}

/// A field that is present, `null` included, as `Some`: only a missing field is `None`.
fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<serde_json::Value>, D::Error> {
    serde::Deserialize::deserialize(deserializer).map(Some)
}

impl RunReport {
    /// The report as plain data, with every value that encodes: what the report
    /// serializes to. Values are encoded now, so this costs what encoding them costs.
    ///
    /// ```
    /// use taskflow::prelude::*;
    ///
    /// #[task]
    /// fn fails() -> Result<u32, TaskError> {
    ///     Err(TaskError::msg("source is down"))
    /// }
    ///
    /// let summary = Dag::build("failing", || {
    ///     fails();
    /// })
    /// .test()?
    /// .summary();
    /// assert_eq!(summary.tasks[0].state, TaskState::Failed);
    /// assert_eq!(summary.tasks[0].error.as_deref(), Some("source is down"));
    /// assert_eq!(summary.tasks[0].value_size, None);
    /// # Ok::<(), taskflow::Error>(())
    /// ```
    pub fn summary(&self) -> RunSummary {
        RunSummary {
            dag_id: self.dag_id().to_owned(),
            run_id: self.run_id().to_owned(),
            logical_date: self.logical_date(),
            start_date: self.start_date(),
            end_date: self.end_date(),
            duration: self.duration().as_secs_f64(),
            state: self.state_of_run(),
            tasks: (0..self.len())
                .map(|node| self.task_summary(node))
                .collect(),
        }
    }

    fn task_summary(&self, node: u32) -> TaskSummary {
        let task = self.task_report(node);
        let value_type = self.run.dag.output_type(node);
        TaskSummary {
            value: self.xcom_json(&task.task_id).ok(),
            value_size: self.xcom_size(&task.task_id).ok(),
            value_type: value_type.to_owned(),
            duration: task.duration.map(|duration| duration.as_secs_f64()),
            task_id: task.task_id,
            state: task.state,
            tries: task.tries,
            start_date: task.start_date,
            end_date: task.end_date,
            try_start_dates: task.try_start_dates,
            error: task.error,
            priority_weight: task.priority_weight,
            history: task.history,
        }
    }
}

/// A report serializes as its [`RunSummary`].
impl serde::Serialize for RunReport {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.summary().serialize(serializer)
    }
}
