//! Ready-made sensors, called in a DAG like any task. Each checks once per poke; set its
//! interval, timeout and mode per call with [`TaskOptions::sensor`](crate::TaskOptions::sensor):
//!
//! ```
//! use std::time::Duration;
//! use taskflow::prelude::*;
//! use taskflow::sensors::file_sensor;
//! use taskflow::{SensorMode, SensorSettings};
//!
//! #[task]
//! fn count(paths: Vec<std::path::PathBuf>) -> usize {
//!     paths.len()
//! }
//!
//! let dir = std::env::temp_dir().join(format!("taskflow_doc_{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! std::fs::write(dir.join("orders.csv"), "id\n1\n")?;
//! let pattern = format!("{}/*.csv", dir.display());
//! let settings = SensorSettings::DEFAULT
//!     .with_poke_interval(Duration::from_secs(30))
//!     .with_timeout(Duration::from_secs(3600))
//!     .with_mode(SensorMode::Reschedule);
//! let report = Dag::build("landing", || {
//!     let files = file_sensor::with(TaskOptions::new().sensor(settings)).add(pattern.as_str(), true);
//!     count(files);
//! })?
//! .test()?;
//! assert_eq!(report.xcom::<usize>("count")?, 1);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::{Context, Poke, TaskError};

/// Waits until a path or glob pattern (`data/*.csv`, `logs/**/done`) matches at least one
/// file or directory, and, with `non_empty`, until every match is a non-empty file (like
/// Airflow's `FileSensor`). Its value is the matching paths, sorted.
///
/// A malformed pattern fails the sensor at once with the reason.
#[crate::sensor(crate = "crate")]
pub fn file_sensor(pattern: &str, non_empty: bool) -> Result<Poke<Vec<PathBuf>>, TaskError> {
    let matches = glob::glob(pattern).map_err(|error| {
        TaskError::fail_now(format!("file sensor: invalid pattern {pattern:?}: {error}"))
    })?;
    let mut paths = Vec::new();
    for entry in matches {
        // An entry that cannot be read (permissions, say) is not there yet.
        let Ok(path) = entry else { continue };
        if non_empty && std::fs::metadata(&path).map_or(true, |meta| meta.len() == 0) {
            return Ok(Poke::NotYet);
        }
        paths.push(path);
    }
    paths.sort();
    Ok(if paths.is_empty() {
        Poke::NotYet
    } else {
        Poke::Done(paths)
    })
}

/// Waits until a date and time (Airflow's `DateTimeSensor`); its value is the date the
/// check found it passed. In a virtual-time run, the virtual date counts.
#[crate::sensor(crate = "crate")]
pub fn date_time_sensor(ctx: &Context, target: DateTime<Utc>) -> Poke<DateTime<Utc>> {
    let now = ctx.now();
    if now >= target {
        Poke::Done(now)
    } else {
        Poke::NotYet
    }
}

/// Waits until `delta` after the run's logical date (Airflow's `TimeDeltaSensor`).
#[crate::sensor(crate = "crate")]
pub fn time_delta_sensor(ctx: &Context, delta: Duration) -> Result<Poke<DateTime<Utc>>, TaskError> {
    let delta = chrono::Duration::from_std(delta)
        .map_err(|_| TaskError::fail_now(format!("time delta sensor: {delta:?} is too long")))?;
    let target = ctx
        .logical_date()
        .checked_add_signed(delta)
        .ok_or_else(|| TaskError::fail_now("time delta sensor: the target date is out of range"))?;
    let now = ctx.now();
    Ok(if now >= target {
        Poke::Done(now)
    } else {
        Poke::NotYet
    })
}

/// Waits until task `external_task_id` of the run of DAG `external_dag_id` with the same
/// logical date, on the same executor, reaches one of `allowed_states` (Airflow's
/// `ExternalTaskSensor`); its value is that state. Reaching one of `failed_states` fails the
/// sensor at once. A run that has not started yet is waited for; a DAG run that has no such
/// task fails the sensor with the reason.
///
/// ```
/// use taskflow::prelude::*;
/// use taskflow::sensors::external_task_sensor;
/// use taskflow::{Executor, TaskState};
///
/// #[task]
/// fn publish() -> u32 {
///     7
/// }
///
/// #[task]
/// fn consume(state: TaskState) -> String {
///     format!("upstream ended {state}")
/// }
///
/// let producer = Dag::build("producer", || {
///     publish();
/// })?;
/// let consumer = Dag::build("consumer", || {
///     let done = external_task_sensor(
///         "producer",
///         "publish",
///         vec![TaskState::Success],
///         vec![TaskState::Failed, TaskState::UpstreamFailed],
///     );
///     consume(done);
/// })?;
/// let executor = Executor::new();
/// let date = taskflow::chrono::Utc::now();
/// executor.submit(&producer, RunOptions::new().logical_date(date)).wait()?;
/// let report = executor.submit(&consumer, RunOptions::new().logical_date(date)).wait()?;
/// assert_eq!(report.xcom::<String>("consume")?, "upstream ended success");
/// # Ok::<(), taskflow::Error>(())
/// ```
#[crate::sensor(crate = "crate", poke_interval = "5s")]
pub fn external_task_sensor(
    ctx: &Context,
    external_dag_id: &str,
    external_task_id: &str,
    allowed_states: Vec<crate::TaskState>,
    failed_states: Vec<crate::TaskState>,
) -> Result<Poke<crate::TaskState>, TaskError> {
    use crate::executor::Found;
    match ctx.external_task_state(external_dag_id, ctx.logical_date(), external_task_id) {
        Found::NoRun => Ok(Poke::NotYet),
        Found::NoTask => Err(TaskError::fail_now(format!(
            "external task sensor: dag `{external_dag_id}` has no task `{external_task_id}`"
        ))),
        Found::State(state) if allowed_states.contains(&state) => Ok(Poke::Done(state)),
        Found::State(state) if failed_states.contains(&state) => Err(TaskError::fail_now(format!(
            "external task sensor: task `{external_task_id}` of dag `{external_dag_id}` ended {state}"
        ))),
        Found::State(_) => Ok(Poke::NotYet),
    }
}
