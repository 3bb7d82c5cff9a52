//! What a run tells while it happens: an [`Event`] for every state change of a task instance
//! or a DAG run, handed to [`Listener`]s in Airflow's terms.
//!
//! Register a listener on an [`Executor`](crate::Executor) for all its runs
//! ([`ExecutorBuilder::listener`](crate::ExecutorBuilder::listener)) or on one run
//! ([`RunOptions::listener`](crate::RunOptions::listener)). A closure taking `&Event` is a
//! listener.
//!
//! # Delivery
//! Listeners run on a thread of their own, in the order the events happened, never on the
//! threads that run tasks: a slow listener does not slow the run down, and a panicking one
//! is caught (a `tracing` warning says so) and called again for the next event. Events wait
//! for a slow listener in a queue of 10,000 events (see
//! [`ExecutorBuilder::event_queue_capacity`](crate::ExecutorBuilder::event_queue_capacity));
//! when it is full, new events are dropped and counted
//! ([`RunReport::dropped_events`](crate::RunReport::dropped_events)). A run is reported done
//! once its listeners have had all its events, or after 5 seconds of waiting for them (a
//! warning then says so), whichever comes first.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use taskflow::prelude::*;
//! use taskflow::events::Event;
//!
//! #[task]
//! fn extract() -> u32 { 7 }
//!
//! let seen = Arc::new(Mutex::new(Vec::new()));
//! let log = Arc::clone(&seen);
//! let options = RunOptions::new().listener(move |event: &Event| {
//!     if let Event::TaskInstance(ti) = event {
//!         log.lock().unwrap().push(format!("{} {}", ti.task_id, ti.state));
//!     }
//! });
//! Dag::build("events", || {
//!     extract();
//! })?
//! .test_with(options)?;
//! assert_eq!(*seen.lock().unwrap(), ["extract queued", "extract running", "extract success"]);
//! # Ok::<(), taskflow::Error>(())
//! ```

mod delivery;
mod log;
#[cfg(feature = "progress")]
mod progress;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::{DagRunState, TaskState};

pub(crate) use delivery::{Delivery, Listeners};
pub use log::RunLog;
#[cfg(feature = "progress")]
pub use progress::ProgressBar;

/// How many events wait for slow listeners before new ones are dropped, by default.
pub(crate) const EVENT_QUEUE_CAPACITY: usize = 10_000;

/// A state change of a task instance or of a DAG run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// A task instance changed state.
    TaskInstance(TaskInstanceEvent),
    /// A DAG run started or ended.
    DagRun(DagRunEvent),
    /// Something a person should know that is not a state change (a large value).
    Warning(WarningEvent),
}

/// A warning about a task of a run, such as a value above
/// [`RunOptions::xcom_size_warning`](crate::RunOptions::xcom_size_warning); `tracing`
/// subscribers get it as a WARN event.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct WarningEvent {
    /// The DAG's id.
    pub dag_id: Arc<str>,
    /// The run's id.
    pub run_id: Arc<str>,
    /// The task the warning is about.
    pub task_id: Arc<str>,
    /// When it was raised.
    pub timestamp: DateTime<Utc>,
    /// What is wrong.
    pub message: String,
}

/// A task instance entered `state`.
///
/// ```
/// # use taskflow::events::TaskInstanceEvent;
/// fn on_failure(ti: &TaskInstanceEvent) -> String {
///     format!("{}.{} try {} failed: {}", ti.dag_id, ti.task_id, ti.try_number,
///             ti.error.as_deref().unwrap_or("?"))
/// }
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct TaskInstanceEvent {
    /// The DAG's id.
    pub dag_id: Arc<str>,
    /// The run's id.
    pub run_id: Arc<str>,
    /// The run's logical date.
    pub logical_date: DateTime<Utc>,
    /// The task's id.
    pub task_id: Arc<str>,
    /// The index of a mapped task instance; `None` for a task that is not mapped (Airflow's
    /// `-1`).
    pub map_index: Option<u32>,
    /// The map indexes of an instance mapped inside mapped task groups, outermost first
    /// (`[file, line]`); the same as `map_index` alone otherwise, and empty when not mapped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub map_path: Vec<u32>,
    /// The try this change belongs to: 0 before the first try, then 1, 2, ...
    pub try_number: u32,
    /// The state entered.
    pub state: TaskState,
    /// When the state was entered (virtual time in a `test()` run).
    pub timestamp: DateTime<Utc>,
    /// When the current try started (virtual time in a `test()` run).
    pub start_date: Option<DateTime<Utc>>,
    /// When the try or the task ended, for an ending state.
    pub end_date: Option<DateTime<Utc>>,
    /// The effective priority weight.
    pub priority_weight: i32,
    /// The pool the task runs in.
    pub pool: Arc<str>,
    /// The error of a failed, retried or skipped try, with its sources.
    pub error: Option<String>,
}

impl TaskInstanceEvent {
    /// `end_date - start_date`, for an ending state.
    pub fn duration(&self) -> Option<Duration> {
        let (start, end) = (self.start_date?, self.end_date?);
        (end - start).to_std().ok()
    }
}

/// A DAG run started (`state` running) or ended.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct DagRunEvent {
    /// The DAG's id.
    pub dag_id: Arc<str>,
    /// The run's id.
    pub run_id: Arc<str>,
    /// The run's logical date.
    pub logical_date: DateTime<Utc>,
    /// [`DagRunState::Running`], [`DagRunState::Success`] or [`DagRunState::Failed`].
    pub state: DagRunState,
    /// When the state was entered.
    pub timestamp: DateTime<Utc>,
    /// When the run started.
    pub start_date: DateTime<Utc>,
    /// When it ended, for an ending state.
    pub end_date: Option<DateTime<Utc>>,
    /// How many tasks the DAG has.
    pub tasks: usize,
}

/// Hears the state changes of runs, with the hooks of Airflow's listeners.
///
/// Every hook has an empty default: implement those you need. The executor calls
/// [`Listener::on_event`], whose default calls the hook for the event; override it to see
/// every event, `queued` and `upstream_failed` included (a closure `Fn(&Event)` does).
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use taskflow::events::{Listener, TaskInstanceEvent};
///
/// #[derive(Default)]
/// struct CountFailures(AtomicU32);
///
/// impl Listener for CountFailures {
///     fn on_task_instance_failed(&self, _ti: &TaskInstanceEvent) {
///         self.0.fetch_add(1, Ordering::Relaxed);
///     }
/// }
/// let options = taskflow::RunOptions::new().listener(CountFailures::default());
/// ```
#[allow(unused_variables)]
pub trait Listener: Send + Sync + 'static {
    /// A try started (or a rescheduled sensor's try went on).
    fn on_task_instance_running(&self, ti: &TaskInstanceEvent) {}
    /// A task succeeded.
    fn on_task_instance_success(&self, ti: &TaskInstanceEvent) {}
    /// A task failed, its last try done; `ti.error` says why.
    fn on_task_instance_failed(&self, ti: &TaskInstanceEvent) {}
    /// A try failed and another one is scheduled.
    fn on_task_instance_up_for_retry(&self, ti: &TaskInstanceEvent) {}
    /// A task was skipped, by itself or by its upstream tasks.
    fn on_task_instance_skipped(&self, ti: &TaskInstanceEvent) {}
    /// A sensor in reschedule mode gave back its slots until its next check.
    fn on_task_instance_rescheduled(&self, ti: &TaskInstanceEvent) {}
    /// A DAG run started.
    fn on_dag_run_running(&self, run: &DagRunEvent) {}
    /// A DAG run ended with no failed task.
    fn on_dag_run_success(&self, run: &DagRunEvent) {}
    /// A DAG run ended with a failed task.
    fn on_dag_run_failed(&self, run: &DagRunEvent) {}

    /// Every event; by default, calls the hook above for it (none for `queued` and
    /// `upstream_failed`).
    fn on_event(&self, event: &Event) {
        match event {
            Event::TaskInstance(ti) => match ti.state {
                TaskState::Running => self.on_task_instance_running(ti),
                TaskState::Success => self.on_task_instance_success(ti),
                TaskState::Failed => self.on_task_instance_failed(ti),
                TaskState::UpForRetry => self.on_task_instance_up_for_retry(ti),
                TaskState::Skipped => self.on_task_instance_skipped(ti),
                TaskState::UpForReschedule => self.on_task_instance_rescheduled(ti),
                _ => {}
            },
            Event::DagRun(run) => match run.state {
                DagRunState::Running => self.on_dag_run_running(run),
                DagRunState::Success => self.on_dag_run_success(run),
                DagRunState::Failed => self.on_dag_run_failed(run),
                DagRunState::Queued => {}
            },
            Event::Warning(_) => {}
        }
    }
}

/// A closure is a listener of every event.
impl<F: Fn(&Event) + Send + Sync + 'static> Listener for F {
    fn on_event(&self, event: &Event) {
        self(event)
    }
}
