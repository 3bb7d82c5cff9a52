//! [`TaskState`]: Airflow's task instance states.

use std::fmt;

/// The state of a task instance, with Airflow's names.
///
/// In one process a task goes `None -> Scheduled -> Queued -> Running` and ends in `Success`,
/// `Failed`, `Skipped` or `UpstreamFailed`. `UpForRetry` and `UpForReschedule` are the waits
/// between tries and sensor checks. `Deferred`, `Removed` and `Restarting` exist so that states
/// read from Airflow map one to one; this executor never enters them.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TaskState {
    /// Not scheduled yet: its upstream tasks have not all finished.
    #[default]
    None,
    /// Its dependencies are met and it waits for a worker.
    Scheduled,
    /// Handed to a worker.
    Queued,
    /// Its body is running.
    Running,
    /// Finished without error.
    Success,
    /// Its last try failed.
    Failed,
    /// Skipped: by `TaskError::skip`, a branch, or a skipped upstream under its trigger rule.
    Skipped,
    /// Not run because an upstream task failed (under its trigger rule).
    UpstreamFailed,
    /// A try failed and another one is scheduled.
    UpForRetry,
    /// A sensor in reschedule mode waits for its next check.
    UpForReschedule,
    /// Airflow's deferral to a triggerer; not entered in process.
    Deferred,
    /// Airflow's state for a task that left the DAG; not entered in process.
    Removed,
    /// Airflow's state for a task cleared while running; not entered in process.
    Restarting,
}

impl TaskState {
    /// Every state, in declaration order: `ALL[state.index()] == state`.
    const ALL: [Self; 13] = [
        Self::None,
        Self::Scheduled,
        Self::Queued,
        Self::Running,
        Self::Success,
        Self::Failed,
        Self::Skipped,
        Self::UpstreamFailed,
        Self::UpForRetry,
        Self::UpForReschedule,
        Self::Deferred,
        Self::Removed,
        Self::Restarting,
    ];

    /// A small number for the state, to keep it in an atomic.
    pub(crate) fn index(self) -> u8 {
        self as u8
    }

    /// The state of [`TaskState::index`]; `None` for a number no state has.
    pub(crate) fn from_index(index: u8) -> Self {
        Self::ALL.get(index as usize).copied().unwrap_or_default()
    }

    /// Whether the task has ended and will not change state again in this run.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            Self::Success | Self::Failed | Self::Skipped | Self::UpstreamFailed | Self::Removed
        )
    }

    /// The state with Airflow's name `name` (`"up_for_retry"`), if there is one.
    ///
    /// ```
    /// use taskflow::TaskState;
    ///
    /// assert_eq!(TaskState::from_name("up_for_retry"), Some(TaskState::UpForRetry));
    /// assert_eq!(TaskState::from_name("done"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == name)
    }

    /// Airflow's name of the state (`"upstream_failed"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Scheduled => "scheduled",
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Success => "success",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::UpstreamFailed => "upstream_failed",
            Self::UpForRetry => "up_for_retry",
            Self::UpForReschedule => "up_for_reschedule",
            Self::Deferred => "deferred",
            Self::Removed => "removed",
            Self::Restarting => "restarting",
        }
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::TaskState;

    #[test]
    fn every_state_survives_its_index() {
        for state in TaskState::ALL {
            assert_eq!(TaskState::from_index(state.index()), state);
        }
    }
}
