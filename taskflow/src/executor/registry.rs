//! The runs an executor has seen, by DAG id and logical date, so that a task of one run can
//! look at a task of another (the external task sensor).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use super::run::RunState;
use crate::TaskState;
use crate::dag::DagInner;

/// How much an executor keeps of ended runs (for tasks of later runs that look at them):
/// beyond either bound, the oldest ended runs are forgotten, so that a long-lived process
/// does not grow with every run.
#[derive(Debug, Clone, Copy)]
struct Caps {
    /// Ended runs.
    runs: usize,
    /// Bytes of their entries: their task states, and [`ENTRY_BYTES`] each.
    bytes: usize,
}

/// 10,000 ended runs or 4 MiB, whichever comes first.
const KEPT: Caps = Caps {
    runs: 10_000,
    bytes: 4 << 20,
};

/// What an ended run's entry takes besides its states: its key, its place in the map and in
/// the list of ended runs, and the handle of its DAG.
const ENTRY_BYTES: usize = 96;

/// A run's DAG id and logical date (in microseconds).
type Key = (Arc<str>, i64);

/// Runs by DAG id and logical date.
#[derive(Default)]
pub(crate) struct Runs {
    runs: Mutex<Known>,
}

#[derive(Default)]
struct Known {
    runs: HashMap<Key, Entry>,
    /// Ended runs, oldest first, with the number each `Entry::Ended` carries.
    ended: std::collections::VecDeque<(Key, u64)>,
    /// Bytes of the ended runs kept in `runs`, how many they are, and the number of the
    /// next ended run.
    kept: usize,
    kept_runs: usize,
    next: u64,
}

enum Entry {
    /// Started (in flight or ended, while its state lives): its states are read from the
    /// run itself.
    Running(Weak<RunState>),
    /// Ended (the `n`th run to end): its final states, by task (while its DAG lives).
    Ended(Weak<DagInner>, Box<[TaskState]>, u64),
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

impl Known {
    /// Keeps the final states of an ended run, then forgets the oldest ended runs while
    /// more than `cap` allows are kept.
    fn keep_ended(&mut self, key: Key, dag: Weak<DagInner>, states: Box<[TaskState]>, cap: Caps) {
        let number = self.next;
        self.next += 1;
        self.kept += entry_bytes(&states);
        self.kept_runs += 1;
        self.ended.push_back((key.clone(), number));
        let replaced = self.runs.insert(key, Entry::Ended(dag, states, number));
        self.forget(replaced);
        if self.ended.len() > 2 * self.runs.len() + 64 {
            // Runs ended again under the same key left stale entries behind.
            let runs = &self.runs;
            self.ended
                .retain(|(key, n)| matches!(runs.get(key), Some(Entry::Ended(.., m)) if m == n));
        }
        while self.kept > cap.bytes || self.kept_runs > cap.runs {
            let Some((oldest, number)) = self.ended.pop_front() else {
                break;
            };
            let current =
                matches!(self.runs.get(&oldest), Some(Entry::Ended(.., n)) if *n == number);
            if current {
                let removed = self.runs.remove(&oldest);
                self.forget(removed);
            }
        }
    }

    /// Stops counting the states of an entry that left the map.
    fn forget(&mut self, entry: Option<Entry>) {
        if let Some(Entry::Ended(_, states, _)) = entry {
            self.kept -= entry_bytes(&states);
            self.kept_runs -= 1;
        }
    }
}

/// The bytes an ended run's entry is counted for.
fn entry_bytes(states: &[TaskState]) -> usize {
    ENTRY_BYTES + std::mem::size_of_val(states)
}

impl Runs {
    fn lock(&self) -> std::sync::MutexGuard<'_, Known> {
        self.runs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Notes a run that starts (the latest run of a DAG and date wins).
    pub(crate) fn started(&self, run: &Arc<RunState>) {
        let key = (Arc::clone(&run.dag.dag_id), run.sched.date);
        let mut known = self.lock();
        let replaced = known.runs.insert(key, Entry::Running(Arc::downgrade(run)));
        known.forget(replaced);
    }

    /// Keeps the final states of a run whose state is being dropped (until then they are
    /// read from the run itself), if it is still the run known under its key.
    pub(crate) fn dropped(&self, run: &RunState) {
        let key = (Arc::clone(&run.dag.dag_id), run.sched.date);
        let mut known = self.lock();
        let known_here = matches!(
            known.runs.get(&key),
            Some(Entry::Running(weak)) if std::ptr::eq(weak.as_ptr(), run)
        );
        if known_here {
            let states = (0..run.dag.nodes.len() as u32)
                .map(|node| run.records.state(node))
                .collect();
            known.keep_ended(key, Arc::downgrade(&run.dag), states, KEPT);
        }
    }

    /// Up to `limit` tasks running now, as `dag.task (run id)`.
    pub(crate) fn running_tasks(&self, limit: usize) -> Vec<String> {
        let runs: Vec<Arc<RunState>> = {
            let known = self.lock();
            known
                .runs
                .values()
                .filter_map(|entry| match entry {
                    Entry::Running(run) => run.upgrade(),
                    Entry::Ended(..) => None,
                })
                .collect()
        };
        // Read with the lock let go: dropping the last handle of a run takes it.
        let mut running = Vec::new();
        for run in &runs {
            let nodes = 0..run.dag.nodes.len() as u32;
            for node in nodes.filter(|&node| run.records.state(node) == TaskState::Running) {
                if running.len() == limit {
                    return running;
                }
                running.push(format!(
                    "{}.{} ({})",
                    run.dag.dag_id,
                    run.dag.task_id(node),
                    run.info.run_id
                ));
            }
        }
        running
    }

    /// The state of `task_id` in the run of `dag_id` at `date` (microseconds).
    pub(crate) fn task_state(&self, dag_id: &str, date: i64, task_id: &str) -> Found {
        // The run is read after the lock is let go: dropping the last handle of a run takes
        // the lock (see `Runs::dropped`).
        let running = {
            let known = self.lock();
            match known.runs.get(&(Arc::from(dag_id), date)) {
                None => return Found::NoRun,
                Some(Entry::Running(run)) => run.upgrade(),
                Some(Entry::Ended(dag, states, _)) => {
                    return match dag.upgrade().map(|dag| dag.node(task_id)) {
                        Some(Ok(node)) => Found::State(states[node as usize]),
                        Some(Err(_)) => Found::NoTask,
                        None => Found::NoRun,
                    };
                }
            }
        };
        match running {
            Some(run) => match run.dag.node(task_id) {
                Ok(node) => Found::State(run.records.state(node)),
                Err(_) => Found::NoTask,
            },
            None => Found::NoRun,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn states(n: usize) -> Box<[TaskState]> {
        vec![TaskState::Success; n].into_boxed_slice()
    }

    fn bytes(runs: usize, states: usize) -> usize {
        runs * (ENTRY_BYTES + states * std::mem::size_of::<TaskState>())
    }

    #[test]
    fn the_oldest_ended_runs_are_forgotten_beyond_the_bytes_cap() {
        let mut known = Known::default();
        let key = |date| (Arc::<str>::from("etl"), date);
        let cap = Caps {
            runs: 100,
            bytes: bytes(3, 10),
        };
        for date in 0..5 {
            known.keep_ended(key(date), Weak::new(), states(10), cap);
        }
        assert_eq!(known.kept, bytes(3, 10));
        let mut dates: Vec<i64> = known.runs.keys().map(|(_, date)| *date).collect();
        dates.sort_unstable();
        assert_eq!(dates, [2, 3, 4]);
    }

    #[test]
    fn runs_of_empty_dags_are_forgotten_beyond_the_runs_cap() {
        let mut known = Known::default();
        let cap = Caps {
            runs: 50,
            bytes: usize::MAX,
        };
        for date in 0..1_000 {
            known.keep_ended((Arc::from("empty"), date), Weak::new(), states(0), cap);
        }
        assert_eq!(known.runs.len(), 50);
        assert_eq!(known.kept_runs, 50);
        assert_eq!(known.kept, bytes(50, 0));
        assert!(known.ended.len() <= 2 * 50 + 64);
    }

    #[test]
    fn a_run_ended_again_under_the_same_key_is_counted_once() {
        let mut known = Known::default();
        let key = (Arc::<str>::from("etl"), 7);
        let cap = Caps {
            runs: 10,
            bytes: bytes(1, 10) + 5,
        };
        known.keep_ended(key.clone(), Weak::new(), states(10), cap);
        known.keep_ended(key.clone(), Weak::new(), states(10), cap);
        assert_eq!(known.kept, bytes(1, 10));
        assert_eq!(known.kept_runs, 1);
        assert!(known.runs.contains_key(&key));
    }
}
