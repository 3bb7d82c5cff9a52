//! The runs an executor has seen, by DAG id and logical date, so that a task of one run can
//! look at a task of another (the external task sensor).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use super::run::RunState;
use crate::TaskState;
use crate::dag::DagInner;

/// Runs by DAG id and logical date (in microseconds).
#[derive(Default)]
pub(crate) struct Runs {
    runs: Mutex<HashMap<(Arc<str>, i64), Entry>>,
}

enum Entry {
    /// In flight: its states are read from the run itself.
    Running(Weak<RunState>),
    /// Ended: its final states, by task (while its DAG lives).
    Ended(Weak<DagInner>, Box<[TaskState]>),
}

/// What an executor knows of a task of another run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Found {
    /// No run of that DAG with that logical date (yet).
    NoRun,
    /// The run has no such task.
    NoTask,
    State(TaskState),
}

impl Runs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(Arc<str>, i64), Entry>> {
        self.runs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Notes a run that starts (the latest run of a DAG and date wins).
    pub(crate) fn started(&self, run: &Arc<RunState>) {
        let key = (Arc::clone(&run.dag.dag_id), run.sched.date);
        self.lock().insert(key, Entry::Running(Arc::downgrade(run)));
    }

    /// Keeps the final states of a run that ended.
    pub(crate) fn ended(&self, run: &RunState) {
        let states = (0..run.dag.nodes.len() as u32)
            .map(|node| run.records.state(node))
            .collect();
        let key = (Arc::clone(&run.dag.dag_id), run.sched.date);
        self.lock()
            .insert(key, Entry::Ended(Arc::downgrade(&run.dag), states));
    }

    /// The state of `task_id` in the run of `dag_id` at `date` (microseconds).
    pub(crate) fn task_state(&self, dag_id: &str, date: i64, task_id: &str) -> Found {
        let runs = self.lock();
        let Some(entry) = runs.get(&(Arc::from(dag_id), date)) else {
            return Found::NoRun;
        };
        match entry {
            Entry::Running(run) => match run.upgrade() {
                Some(run) => match run.dag.node(task_id) {
                    Ok(node) => Found::State(run.records.state(node)),
                    Err(_) => Found::NoTask,
                },
                None => Found::NoRun,
            },
            Entry::Ended(dag, states) => match dag.upgrade().map(|dag| dag.node(task_id)) {
                Some(Ok(node)) => Found::State(states[node as usize]),
                Some(Err(_)) => Found::NoTask,
                None => Found::NoRun,
            },
        }
    }
}
