//! What a scheduler's loop keeps in memory: per DAG, where its schedule stands and its
//! queued and active runs; per backfill, its queue.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::executor::PreparedRun;
use crate::schedule::{DagRunInfo, DataInterval};
use crate::store::{DagRunRecord, Store};
use crate::{Dag, Result};

/// One DAG's schedule and runs.
pub(super) struct DagState {
    pub(super) dag: Arc<Dag>,
    /// The data interval of its latest automated run.
    pub(super) last: Option<DataInterval>,
    /// Its next automated run, if one is to come.
    pub(super) next: Option<DagRunInfo>,
    /// Whether `next` waits for a run to end because the DAG was at its `max_active_runs`
    /// (it is worked out again then, as Airflow does).
    pub(super) stale: bool,
    pub(super) paused: bool,
    pub(super) max_active_runs: u32,
    /// Its runs other than backfills': started and not ended.
    pub(super) active: u32,
    /// And waiting to start, the earliest due first.
    pub(super) queued: VecDeque<Queued>,
}

/// A run waiting to start.
pub(super) struct Queued {
    pub(super) run: DagRunRecord,
    /// Whether this scheduler created it just now, so that it has nothing stored to resume
    /// (a run read from the store may have been cleared, or left running by a process).
    pub(super) fresh: bool,
}

impl DagState {
    pub(super) fn new(dag: &Arc<Dag>, last: Option<DataInterval>) -> Self {
        Self {
            dag: Arc::clone(dag),
            last,
            next: None,
            stale: false,
            paused: false,
            max_active_runs: dag
                .max_active_runs_limit()
                .unwrap_or(super::DEFAULT_MAX_ACTIVE_RUNS),
            active: 0,
            queued: VecDeque::new(),
        }
    }
}

/// A backfill's runs still to start, and how many of its runs are active.
struct BackfillQueue {
    dag: usize,
    run_backwards: bool,
    max_active_runs: u32,
    active: u32,
    queued: VecDeque<Queued>,
}

/// A scheduled run made ready just before it is due, let go at its due time: counted as
/// started from when it was made.
pub(super) struct Held {
    pub(super) dag: usize,
    pub(super) run: DagRunRecord,
    pub(super) prepared: PreparedRun,
}

impl Held {
    fn due(&self) -> chrono::DateTime<chrono::Utc> {
        self.run.run_after.unwrap_or(self.run.logical_date)
    }
}

/// A run a scheduler started: its DAG, and its backfill.
pub(super) struct Active {
    pub(super) dag: usize,
    pub(super) backfill: Option<i64>,
}

/// Everything the loop keeps.
pub(super) struct State {
    pub(super) dags: Vec<DagState>,
    by_id: HashMap<String, usize>,
    backfills: HashMap<i64, BackfillQueue>,
    /// The runs started and not ended, by DAG and run id.
    active: HashMap<(usize, String), Active>,
    /// The runs made ready ahead of their due time, in the order they were made.
    held: Vec<Held>,
}

impl State {
    pub(super) fn new(dags: Vec<DagState>) -> Self {
        let by_id = dags
            .iter()
            .enumerate()
            .map(|(index, dag)| (dag.dag.dag_id().to_owned(), index))
            .collect();
        Self {
            dags,
            by_id,
            backfills: HashMap::new(),
            active: HashMap::new(),
            held: Vec::new(),
        }
    }

    /// Queues stored run `run` to start, unless it is not of these DAGs, or already
    /// queued or active.
    pub(super) fn enqueue(&mut self, run: DagRunRecord, store: &dyn Store) -> Result<()> {
        let Some(&dag) = self.by_id.get(&run.dag_id) else {
            return Ok(());
        };
        if self.active.contains_key(&(dag, run.run_id.clone())) {
            return Ok(());
        }
        let mut newest_first = false;
        let queue = match run.backfill_id {
            None => &mut self.dags[dag].queued,
            Some(id) => {
                if let std::collections::hash_map::Entry::Vacant(slot) = self.backfills.entry(id) {
                    let record = store
                        .backfills(&run.dag_id)?
                        .into_iter()
                        .find(|backfill| backfill.id == id);
                    let max_active_runs = record
                        .as_ref()
                        .map_or(super::DEFAULT_BACKFILL_MAX_ACTIVE_RUNS, |b| {
                            b.max_active_runs
                        });
                    slot.insert(BackfillQueue {
                        dag,
                        run_backwards: record.is_some_and(|b| b.run_backwards),
                        max_active_runs,
                        active: 0,
                        queued: VecDeque::new(),
                    });
                }
                match self.backfills.get_mut(&id) {
                    Some(backfill) => {
                        newest_first = backfill.run_backwards;
                        &mut backfill.queued
                    }
                    None => return Ok(()),
                }
            }
        };
        if queue.iter().any(|queued| queued.run.run_id == run.run_id) {
            return Ok(());
        }
        let run = Queued { run, fresh: false };
        // Stored runs come the earliest due first.
        if newest_first {
            queue.push_front(run);
        } else {
            queue.push_back(run);
        }
        Ok(())
    }

    /// The next queued run of DAG `dag` (not a backfill's) its limit lets start.
    pub(super) fn startable(&mut self, dag: usize) -> Option<Queued> {
        let state = &mut self.dags[dag];
        if state.paused || state.active >= state.max_active_runs {
            return None;
        }
        state.queued.pop_front()
    }

    /// The backfills that may start a run, with their DAG.
    pub(super) fn backfills_with_room(&self) -> Vec<(i64, usize)> {
        let mut ids: Vec<(i64, usize)> = self
            .backfills
            .iter()
            .filter(|(_, b)| !b.queued.is_empty() && b.active < b.max_active_runs)
            .map(|(&id, b)| (id, b.dag))
            .collect();
        ids.sort_unstable();
        ids
    }

    /// The next run of backfill `id` its limit lets start.
    pub(super) fn startable_backfill(&mut self, id: i64) -> Option<Queued> {
        let backfill = self.backfills.get_mut(&id)?;
        if self.dags[backfill.dag].paused || backfill.active >= backfill.max_active_runs {
            return None;
        }
        backfill.queued.pop_front()
    }

    /// Counts `run` of DAG `dag` as started.
    pub(super) fn started(&mut self, dag: usize, run: &DagRunRecord) {
        match run.backfill_id.and_then(|id| self.backfills.get_mut(&id)) {
            Some(backfill) => backfill.active += 1,
            None => self.dags[dag].active += 1,
        }
        let active = Active {
            dag,
            backfill: run.backfill_id,
        };
        self.active.insert((dag, run.run_id.clone()), active);
    }

    /// Counts run `run_id` of DAG `dag` as ended; what it was, if this scheduler started
    /// it.
    pub(super) fn ended(&mut self, dag: usize, run_id: &str) -> Option<Active> {
        let ended = self.active.remove(&(dag, run_id.to_owned()))?;
        match ended.backfill.and_then(|id| self.backfills.get_mut(&id)) {
            Some(backfill) => backfill.active -= 1,
            None => self.dags[dag].active -= 1,
        }
        Some(ended)
    }

    /// Whether backfill `id` has no run queued or active any more; forgets it then.
    pub(super) fn backfill_done(&mut self, id: i64) -> bool {
        let done = self
            .backfills
            .get(&id)
            .is_none_or(|b| b.active == 0 && b.queued.is_empty());
        if done {
            self.backfills.remove(&id);
        }
        done
    }

    /// Keeps run `run` of DAG `dag`, made ready ahead of its due time, to let go then; it
    /// counts as started.
    pub(super) fn hold(&mut self, dag: usize, run: DagRunRecord, prepared: PreparedRun) {
        self.started(dag, &run);
        self.held.push(Held { dag, run, prepared });
    }

    /// The held runs due by `now`, in the order they were made.
    pub(super) fn take_due_held(&mut self, now: chrono::DateTime<chrono::Utc>) -> Vec<Held> {
        if self.held.iter().all(|held| held.due() <= now) {
            return std::mem::take(&mut self.held); // the common case: made for one due time
        }
        let (due, later) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|held| held.due() <= now);
        self.held = later;
        due
    }

    /// Takes back held run `run` of DAG `dag` as not started: it waits in its DAG's queue,
    /// first (its DAG was paused before it was due).
    pub(super) fn unhold(&mut self, dag: usize, run: DagRunRecord) {
        self.ended(dag, &run.run_id);
        self.dags[dag]
            .queued
            .push_front(Queued { run, fresh: true });
    }

    /// When the next held run is due.
    pub(super) fn next_held(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.held.iter().map(Held::due).min()
    }

    /// The runs started and not ended.
    pub(super) fn active_runs(&self) -> usize {
        self.active.len()
    }

    /// When the next automated run of an unpaused DAG is due.
    pub(super) fn next_due(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.dags
            .iter()
            .filter(|dag| !dag.paused && !dag.stale)
            .filter_map(|dag| dag.next.map(|info| info.run_after))
            .min()
    }
}
