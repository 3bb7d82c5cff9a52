//! What a store writes ([`Change`]) and what it gives back of a run's history.

use std::sync::{Arc, LazyLock};

use chrono::{DateTime, Utc};

use crate::events::{DagRunEvent, TaskInstanceEvent};
use crate::{DagRunState, Params, TaskState};

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
        dag_id: Arc<str>,
        /// The run.
        run_id: Arc<str>,
        /// The task.
        task_id: Arc<str>,
        /// The instance's map indexes, outermost first (empty: not mapped).
        map_path: Vec<u32>,
        /// The XCom key.
        key: Arc<str>,
        /// The Rust type of the value, to name it when it no longer decodes.
        type_name: &'static str,
        /// The value.
        value: serde_json::Value,
    },
    /// What a run was started with, sent once as it starts (after its first
    /// [`Change::DagRun`]).
    DagRunConf {
        /// The DAG.
        dag_id: String,
        /// The run.
        run_id: String,
        /// Airflow's run type: `manual`, `scheduled` or `backfill`.
        run_type: String,
        /// The run's params.
        params: Params,
        /// The fingerprint of the DAG's structure (see [`Dag::fingerprint`](crate::Dag::fingerprint)).
        fingerprint: String,
    },
    /// Runs a scheduler made (those due at one time together), to be written (queued)
    /// before anything of the runs themselves; nothing for a run whose id the store has
    /// already.
    QueueDagRuns(Vec<DagRunRecord>),
    /// A try that was running when the process running it ended: it is kept as
    /// interrupted, and does not use up a retry.
    TryInterrupted {
        /// The task instance.
        instance: InstanceId,
        /// The try.
        try_number: u32,
    },
    /// A task instance's state set from outside a run: cleared (`TaskState::None`, to run
    /// again on resume), marked `success` or `failed` by hand, or `removed` from its DAG.
    SetState {
        /// The task instance.
        instance: InstanceId,
        /// Its new state.
        state: TaskState,
        /// Why, kept as the instance's error (`None` clears it).
        note: Option<String>,
    },
}

/// The XCom key of the value a task returned, shared by every change that carries one.
pub(crate) static RETURN_VALUE: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from("return_value"));

/// Which task instance a change is about: its DAG, run, task and map path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct InstanceId {
    /// The DAG.
    pub dag_id: String,
    /// The run.
    pub run_id: String,
    /// The task.
    pub task_id: String,
    /// The instance's map indexes, outermost first (empty: not mapped).
    pub map_path: Vec<u32>,
}

impl InstanceId {
    /// The instance at `map_path` of task `task_id` in run `run_id` of DAG `dag_id`.
    pub fn new(
        dag_id: impl Into<String>,
        run_id: impl Into<String>,
        task_id: impl Into<String>,
        map_path: Vec<u32>,
    ) -> Self {
        Self {
            dag_id: dag_id.into(),
            run_id: run_id.into(),
            task_id: task_id.into(),
            map_path,
        }
    }
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
    /// Airflow's run type: `manual`, `scheduled` or `backfill`.
    pub run_type: String,
    /// The params it was started with.
    pub params: Params,
    /// The start of the data interval it covers (Airflow's `data_interval_start`); `None`
    /// for a run made before the store kept it.
    pub data_interval_start: Option<DateTime<Utc>>,
    /// The end of its data interval.
    pub data_interval_end: Option<DateTime<Utc>>,
    /// When it was due to run (Airflow's `run_after`).
    pub run_after: Option<DateTime<Utc>>,
    /// The backfill that made it (see [`BackfillRecord`]).
    pub backfill_id: Option<i64>,
}

impl DagRunRecord {
    /// A run to be started by a scheduler: queued, with its data interval.
    #[cfg(feature = "schedule")]
    pub(crate) fn queued(
        dag_id: &str,
        run_id: String,
        run_type: &str,
        (start, end): (DateTime<Utc>, DateTime<Utc>),
        run_after: DateTime<Utc>,
        params: Params,
    ) -> Self {
        Self {
            dag_id: dag_id.to_owned(),
            run_id,
            logical_date: start,
            state: DagRunState::Queued,
            start_date: None,
            end_date: None,
            run_type: run_type.to_owned(),
            params,
            data_interval_start: Some(start),
            data_interval_end: Some(end),
            run_after: Some(run_after),
            backfill_id: None,
        }
    }
}

/// A backfill as a store keeps it: the runs of a date range, made at once (Airflow 3's
/// backfill).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct BackfillRecord {
    /// Its id, given by the store.
    pub id: i64,
    /// The DAG.
    pub dag_id: String,
    /// The first logical date it covers, inclusive.
    pub from_date: DateTime<Utc>,
    /// The last, inclusive.
    pub to_date: DateTime<Utc>,
    /// Whether its runs go newest first.
    pub run_backwards: bool,
    /// What it does with runs that exist already: `none`, `failed` or `completed`.
    pub reprocess_behavior: String,
    /// How many of its runs may be active at once.
    pub max_active_runs: u32,
    /// The params its runs get.
    pub params: Params,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When its last run ended; `None` while some are queued or running.
    pub completed_at: Option<DateTime<Utc>>,
}

/// A task instance as a store keeps it: its latest state.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct TaskInstanceRecord {
    /// The task.
    pub task_id: String,
    /// The instance's map index (`None`: not mapped); the innermost one inside mapped
    /// groups.
    pub map_index: Option<u32>,
    /// Its map indexes, outermost first (empty: not mapped).
    pub map_path: Vec<u32>,
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
    /// Whether the process running it ended while it ran (its state is then `failed`); an
    /// interrupted try does not use up a retry.
    pub interrupted: bool,
}

/// Everything a store keeps of one run, as resuming it needs it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct StoredRun {
    /// The run.
    pub run: DagRunRecord,
    /// The fingerprint of the DAG's structure when the run was started.
    pub fingerprint: Option<String>,
    /// Its task instances, task by task in the order the tasks were first written.
    pub instances: Vec<StoredInstance>,
}

/// A task instance as resuming its run needs it: its state, tries and values.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct StoredInstance {
    /// The task.
    pub task_id: String,
    /// Its map indexes, outermost first (empty: not mapped).
    pub map_path: Vec<u32>,
    /// Its latest state.
    pub state: TaskState,
    /// Its latest try (0 before the first).
    pub try_number: u32,
    /// The tries before it that do not count against its retries (all tries before it was
    /// last cleared, and interrupted tries).
    pub uncounted_tries: u32,
    /// Its interrupted tries since it was last cleared.
    pub interrupted: u32,
    /// The try that was running when the run's process ended, if one was.
    pub running_try: Option<u32>,
    /// The error of its latest try.
    pub error: Option<String>,
    /// The value it returned: its Rust type's name, and the value as JSON.
    pub value: Option<(String, serde_json::Value)>,
    /// The side values it pushed: key, Rust type name, value.
    pub pushes: Vec<(String, String, serde_json::Value)>,
}

impl StoredInstance {
    /// Its XCom under `key` (`"return_value"`: what the task returned): the Rust type's
    /// name and the value.
    pub fn xcom(&self, key: &str) -> Option<(&str, &serde_json::Value)> {
        if key == "return_value" {
            return self
                .value
                .as_ref()
                .map(|(type_name, value)| (type_name.as_str(), value));
        }
        self.pushes
            .iter()
            .find(|(at, _, _)| at == key)
            .map(|(_, type_name, value)| (type_name.as_str(), value))
    }
}
