//! What a store writes ([`Change`]) and what it gives back of a run's history.

use chrono::{DateTime, Utc};

use crate::events::{DagRunEvent, TaskInstanceEvent};
use crate::{DagRunState, TaskState};

/// One change a run asks its store to keep, in the order the changes happened.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Change {
    /// A DAG run started or ended.
    DagRun(DagRunEvent),
    /// A task instance entered a state (its try number and times with it).
    TaskInstance(TaskInstanceEvent),
    /// A task instance's value, encoded as JSON, under `key` (`"return_value"` for what the
    /// task returned, as in Airflow).
    XcomValue {
        /// The DAG.
        dag_id: String,
        /// The run.
        run_id: String,
        /// The task.
        task_id: String,
        /// The instance's map index (`None`: not mapped).
        map_index: Option<u32>,
        /// The XCom key.
        key: String,
        /// The value.
        value: serde_json::Value,
    },
}

/// A DAG run as a store keeps it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct DagRunRecord {
    /// The DAG.
    pub dag_id: String,
    /// The run's id.
    pub run_id: String,
    /// Its logical date.
    pub logical_date: DateTime<Utc>,
    /// `running` until it ended, then `success` or `failed`.
    pub state: DagRunState,
    /// When it started.
    pub start_date: Option<DateTime<Utc>>,
    /// When it ended.
    pub end_date: Option<DateTime<Utc>>,
}

/// A task instance as a store keeps it: its latest state.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct TaskInstanceRecord {
    /// The task.
    pub task_id: String,
    /// The instance's map index (`None`: not mapped).
    pub map_index: Option<u32>,
    /// Its latest state.
    pub state: TaskState,
    /// Its latest try (0 before the first).
    pub try_number: u32,
    /// When its latest try started.
    pub start_date: Option<DateTime<Utc>>,
    /// When it ended.
    pub end_date: Option<DateTime<Utc>>,
    /// The error of its latest try.
    pub error: Option<String>,
    /// Its pool.
    pub pool: String,
    /// Its effective priority weight.
    pub priority_weight: i32,
}

/// One try of a task instance, as a store keeps it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct TryRecord {
    /// The try's number, from 1.
    pub try_number: u32,
    /// How it ended (`running` while it runs).
    pub state: TaskState,
    /// When it started.
    pub start_date: Option<DateTime<Utc>>,
    /// When it ended.
    pub end_date: Option<DateTime<Utc>>,
    /// Its error.
    pub error: Option<String>,
}
