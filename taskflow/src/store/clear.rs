//! Clearing task instances so that they run again when their run resumes, as `airflow
//! tasks clear` does, and setting an instance's state by hand.

use chrono::{DateTime, Utc};

use super::{Change, InstanceId, Store};
use crate::{Dag, Result, TaskState};

/// Which task instances [`Dag::clear`] clears: of which runs, which tasks, and how far
/// along their dependencies, with Airflow's options of `airflow tasks clear`.
///
/// ```
/// use taskflow::store::Clear;
///
/// // The failed instances of `load` and its downstream tasks, in runs of January.
/// let start = "2026-01-01T00:00:00Z".parse()?;
/// let end = "2026-01-31T00:00:00Z".parse()?;
/// let clear = Clear::dates(start, end).task("load").downstream().only_failed();
/// # let _ = clear;
/// # Ok::<(), chrono::ParseError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Clear {
    run_id: Option<String>,
    dates: Option<(DateTime<Utc>, DateTime<Utc>)>,
    tasks: Vec<String>,
    downstream: bool,
    upstream: bool,
    only_failed: bool,
}

impl Clear {
    /// The instances of one run.
    pub fn run(run_id: impl Into<String>) -> Self {
        Self {
            run_id: Some(run_id.into()),
            ..Self::default()
        }
    }

    /// The instances of the runs whose logical dates are from `start` to `end`, both
    /// included (Airflow's `--start-date` and `--end-date`).
    pub fn dates(start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        Self {
            dates: Some((start, end)),
            ..Self::default()
        }
    }

    /// Clears task `task_id` (with the instances of a mapped task); without any task, every
    /// task of the DAG.
    pub fn task(mut self, task_id: impl Into<String>) -> Self {
        self.tasks.push(task_id.into());
        self
    }

    /// Clears these tasks.
    pub fn tasks<S: Into<String>>(mut self, task_ids: impl IntoIterator<Item = S>) -> Self {
        self.tasks.extend(task_ids.into_iter().map(Into::into));
        self
    }

    /// Also clears the tasks downstream of those chosen (Airflow's `--downstream`).
    pub fn downstream(mut self) -> Self {
        self.downstream = true;
        self
    }

    /// Also clears the tasks upstream of those chosen (Airflow's `--upstream`).
    pub fn upstream(mut self) -> Self {
        self.upstream = true;
        self
    }

    /// Clears only instances that failed or ended upstream_failed (Airflow's
    /// `--only-failed`).
    pub fn only_failed(mut self) -> Self {
        self.only_failed = true;
        self
    }
}

/// The most runs one clear looks at in one read of the store.
const PAGE: usize = 1000;

impl Dag {
    /// Clears the task instances `clear` chooses in `store`: they lose their state and value
    /// and run again when their run resumes ([`RunOptions::resume`](crate::RunOptions::resume)),
    /// their try numbers going on (a cleared instance has its retries anew). Returns how many
    /// instances were cleared. Their runs are `queued` again until resumed.
    ///
    /// See [`RunOptions::resume`](crate::RunOptions::resume) for an example.
    pub fn clear(&self, store: &dyn Store, clear: &Clear) -> Result<usize> {
        let tasks = self.chosen_tasks(clear)?;
        let mut changes = Vec::new();
        for run_id in self.chosen_runs(store, clear)? {
            for instance in store.task_instances(self.dag_id(), &run_id)? {
                let chosen = tasks.iter().any(|task| {
                    instance.task_id == *task
                        || instance
                            .task_id
                            .strip_prefix(task.as_str())
                            .is_some_and(|rest| rest.starts_with('.'))
                });
                let failed = matches!(
                    instance.state,
                    TaskState::Failed | TaskState::UpstreamFailed
                );
                if chosen && (!clear.only_failed || failed) && instance.state != TaskState::None {
                    changes.push(Change::SetState {
                        instance: InstanceId::new(
                            self.dag_id(),
                            &run_id,
                            instance.task_id,
                            instance.map_path,
                        ),
                        state: TaskState::None,
                        note: None,
                    });
                }
            }
        }
        if !changes.is_empty() {
            store.write(&changes)?;
        }
        Ok(changes.len())
    }

    /// The ids of the tasks `clear` chooses, with their upstream or downstream tasks.
    fn chosen_tasks(&self, clear: &Clear) -> Result<Vec<String>> {
        let mut chosen: Vec<String> = if clear.tasks.is_empty() {
            self.task_ids()
        } else {
            for task in &clear.tasks {
                self.upstream_task_ids(task)?; // an unknown task is an error
            }
            clear.tasks.clone()
        };
        let mut at = 0;
        while at < chosen.len() {
            let task = chosen[at].clone();
            at += 1;
            let mut next = Vec::new();
            if clear.downstream {
                next.extend(self.downstream_task_ids(&task)?);
            }
            if clear.upstream {
                next.extend(self.upstream_task_ids(&task)?);
            }
            for task in next {
                if !chosen.contains(&task) {
                    chosen.push(task);
                }
            }
        }
        Ok(chosen)
    }

    /// The runs `clear` chooses: its run, or those of its dates.
    fn chosen_runs(&self, store: &dyn Store, clear: &Clear) -> Result<Vec<String>> {
        if let Some(run_id) = &clear.run_id {
            return Ok(vec![run_id.clone()]);
        }
        let Some((start, end)) = clear.dates else {
            return Ok(Vec::new());
        };
        let mut runs = Vec::new();
        let mut offset = 0;
        loop {
            let page = store.dag_runs(self.dag_id(), PAGE, offset)?;
            let len = page.len();
            runs.extend(
                page.into_iter()
                    .filter(|run| run.logical_date >= start && run.logical_date <= end)
                    .map(|run| run.run_id),
            );
            if len < PAGE {
                return Ok(runs);
            }
            offset += len;
        }
    }
}

/// Sets the state of one task instance by hand, as marking it success or failed does in
/// Airflow: `Success` or `Failed` (a resumed run keeps it and goes on from it), or
/// `TaskState::None` to clear it.
///
/// ```
/// # #[cfg(feature = "sqlite")] {
/// use std::sync::Arc;
/// use taskflow::prelude::*;
/// use taskflow::store::{SqliteStore, Store, set_state};
///
/// #[task]
/// fn check() -> Result<u32, TaskError> {
///     Err(TaskError::msg("the source is late"))
/// }
///
/// let dir = std::env::temp_dir().join(format!("taskflow-mark-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let store = Arc::new(SqliteStore::open(dir.join("runs.db"))?);
/// let dag = Dag::build("marked", || {
///     check();
/// })?;
/// dag.test_with(RunOptions::new().log(false).run_id("r").store(store.clone()))?;
/// set_state(&*store, "marked", "r", "check", None, TaskState::Success)?;
/// let instances = store.task_instances("marked", "r")?;
/// assert_eq!(instances[0].state, TaskState::Success);
/// # std::fs::remove_dir_all(&dir)?;
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn set_state(
    store: &dyn Store,
    dag_id: &str,
    run_id: &str,
    task_id: &str,
    map_index: Option<u32>,
    state: TaskState,
) -> Result<()> {
    let note = match state {
        TaskState::Failed => Some("marked failed by hand".to_owned()),
        _ => None,
    };
    store.write(&[Change::SetState {
        instance: InstanceId::new(dag_id, run_id, task_id, map_index.into_iter().collect()),
        state,
        note,
    }])
}
