//! Backfills, as Airflow 3 makes them: the runs of a date range, created at once and queued,
//! run by the scheduler within the backfill's own `max_active_runs`.

use chrono::{DateTime, Utc};

use crate::schedule::{DagRunInfo, TimeRestriction};
use crate::store::{BackfillRecord, Clear, DagRunRecord, Store};
use crate::{Dag, DagRunState, Error, Params, Result};

/// Airflow's default `max_active_runs` of a backfill.
pub const DEFAULT_BACKFILL_MAX_ACTIVE_RUNS: u32 = 10;

/// The most runs one backfill makes: a larger range is an error, not a store filled by
/// mistake (a per-minute schedule over years).
pub const MAX_BACKFILL_RUNS: usize = 100_000;

/// What a backfill does with a date that has a run already (Airflow's
/// `reprocess_behavior`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Reprocess {
    /// Leaves it (the default).
    #[default]
    None,
    /// Runs it again if it failed.
    Failed,
    /// Runs it again if it ended, failed or not.
    Completed,
}

impl Reprocess {
    /// Airflow's name: `none`, `failed` or `completed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Failed => "failed",
            Self::Completed => "completed",
        }
    }

    /// The behaviour called `name` (Airflow's names).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "none" => Some(Self::None),
            "failed" => Some(Self::Failed),
            "completed" => Some(Self::Completed),
            _ => None,
        }
    }

    fn reruns(self, state: DagRunState) -> bool {
        match self {
            Self::None => false,
            Self::Failed => state == DagRunState::Failed,
            Self::Completed => matches!(state, DagRunState::Failed | DagRunState::Success),
        }
    }
}

/// The runs of DAG `dag_id` whose logical dates fall from `from_date` to `to_date` (both
/// inclusive), for [`Scheduler::backfill`](super::Scheduler::backfill).
///
/// ```
/// use taskflow::scheduler::{Backfill, Reprocess};
///
/// let backfill = Backfill::new("daily", "2026-01-01T00:00:00Z".parse()?, "2026-01-31T00:00:00Z".parse()?)
///     .reprocess_behavior(Reprocess::Failed)
///     .max_active_runs(2)
///     .run_backwards(true);
/// assert_eq!(backfill.dag_id(), "daily");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Backfill {
    pub(super) dag_id: String,
    from_date: DateTime<Utc>,
    to_date: DateTime<Utc>,
    reprocess: Reprocess,
    max_active_runs: u32,
    run_backwards: bool,
    params: Params,
}

/// What a backfill made: its id, the runs it queued in the order they run, and the dates
/// it left, with why.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BackfillMade {
    /// The backfill's id in the store.
    pub id: i64,
    /// The ids of the runs it queued (new, or existing ones it reprocesses), in order.
    pub run_ids: Vec<String>,
    /// The logical dates it left alone, with the reason (`already exists`, `in flight`).
    pub skipped: Vec<(DateTime<Utc>, String)>,
}

/// What a backfill does with one date of its range (see [`Backfill::plan`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlannedRun {
    /// The schedule's run at that date.
    pub(crate) info: DagRunInfo,
    /// The run's id: the new run's, or the existing one's.
    pub(crate) run_id: String,
    pub(crate) action: Planned,
}

/// What happens to one date of a backfill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Planned {
    /// A new run is made.
    Create,
    /// The existing run is cleared and queued again.
    Reprocess,
    /// The date is left, for this reason (`already exists`, `in flight`).
    Skip(&'static str),
}

impl Backfill {
    /// A backfill of `dag_id` from `from_date` to `to_date`, oldest first, leaving dates
    /// that have a run, at most [`DEFAULT_BACKFILL_MAX_ACTIVE_RUNS`] runs at once.
    pub fn new(
        dag_id: impl Into<String>,
        from_date: DateTime<Utc>,
        to_date: DateTime<Utc>,
    ) -> Self {
        Self {
            dag_id: dag_id.into(),
            from_date,
            to_date,
            reprocess: Reprocess::None,
            max_active_runs: DEFAULT_BACKFILL_MAX_ACTIVE_RUNS,
            run_backwards: false,
            params: Params::default(),
        }
    }

    /// The DAG.
    pub fn dag_id(&self) -> &str {
        &self.dag_id
    }

    /// What to do with dates that have a run already.
    pub fn reprocess_behavior(mut self, reprocess: Reprocess) -> Self {
        self.reprocess = reprocess;
        self
    }

    /// How many of its runs may be active at once.
    pub fn max_active_runs(mut self, limit: u32) -> Self {
        self.max_active_runs = limit;
        self
    }

    /// Whether to run the newest date first.
    pub fn run_backwards(mut self, backwards: bool) -> Self {
        self.run_backwards = backwards;
        self
    }

    /// The params of its runs (Airflow's `dag_run_conf`).
    pub fn params(mut self, params: Params) -> Self {
        self.params = params;
        self
    }

    fn fail(&self, reason: impl Into<String>) -> Error {
        Error::InvalidBackfill {
            dag_id: self.dag_id.clone(),
            reason: reason.into(),
        }
    }

    /// The schedule's runs in the range that are due by `now`, oldest first.
    fn infos(&self, dag: &Dag, now: DateTime<Utc>) -> Result<Vec<DagRunInfo>> {
        let Some(timetable) = dag.timetable().filter(|t| t.is_periodic()) else {
            return Err(self.fail("it has no periodic schedule to backfill"));
        };
        let restriction = TimeRestriction::new(Some(self.from_date), Some(self.to_date), true);
        let mut infos: Vec<DagRunInfo> = Vec::new();
        while let Some(info) =
            timetable.next_dagrun_info(infos.last().map(|i| &i.data_interval), &restriction, now)
        {
            if info.run_after > now {
                break;
            }
            if infos.len() == MAX_BACKFILL_RUNS {
                return Err(self.fail(format!(
                    "the range holds more than {MAX_BACKFILL_RUNS} runs; backfill it in parts"
                )));
            }
            infos.push(info);
        }
        Ok(infos)
    }

    /// What the backfill would do in `store` as of `now`, date by date in the order its
    /// runs would run, without writing anything (Airflow's `--dry-run`); an error where
    /// making it would fail.
    pub(crate) fn plan(
        &self,
        dag: &Dag,
        store: &dyn Store,
        now: DateTime<Utc>,
    ) -> Result<Vec<PlannedRun>> {
        if self.from_date > self.to_date {
            return Err(self.fail(format!(
                "its from date {} is after its to date {}",
                self.from_date, self.to_date
            )));
        }
        if self.max_active_runs == 0 {
            return Err(self.fail("`max_active_runs` must be at least 1"));
        }
        if let Some(open) = store
            .backfills(&self.dag_id)?
            .into_iter()
            .find(|backfill| backfill.completed_at.is_none())
        {
            return Err(self.fail(format!("backfill {} of it has not completed yet", open.id)));
        }
        let mut infos = self.infos(dag, now)?;
        if self.run_backwards {
            infos.reverse();
        }
        let existing: std::collections::HashMap<DateTime<Utc>, DagRunRecord> = store
            .dag_runs(&self.dag_id, usize::MAX, 0)?
            .into_iter()
            .map(|run| (run.logical_date, run))
            .collect();
        let planned = infos.into_iter().map(|info| {
            let (run_id, action) = match existing.get(&info.logical_date()) {
                None => {
                    let run_id = format!(
                        "backfill__{}",
                        info.run_after
                            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
                    );
                    (run_id, Planned::Create)
                }
                Some(run) if matches!(run.state, DagRunState::Queued | DagRunState::Running) => {
                    (run.run_id.clone(), Planned::Skip("in flight"))
                }
                Some(run) if self.reprocess.reruns(run.state) => {
                    (run.run_id.clone(), Planned::Reprocess)
                }
                Some(run) => (run.run_id.clone(), Planned::Skip("already exists")),
            };
            PlannedRun {
                info,
                run_id,
                action,
            }
        });
        Ok(planned.collect())
    }

    /// Makes the backfill's runs in `store`, as of `now`.
    pub(super) fn create(
        &self,
        dag: &Dag,
        store: &dyn Store,
        now: DateTime<Utc>,
    ) -> Result<BackfillMade> {
        self.create_planned(dag, store, now).map(|(made, _)| made)
    }

    /// Makes the backfill's runs in `store`, as of `now`: what it made, and what it did
    /// with each date.
    pub(crate) fn create_planned(
        &self,
        dag: &Dag,
        store: &dyn Store,
        now: DateTime<Utc>,
    ) -> Result<(BackfillMade, Vec<PlannedRun>)> {
        let planned = self.plan(dag, store, now)?;
        let (mut runs, mut requeued, mut run_ids, mut skipped) = (vec![], vec![], vec![], vec![]);
        for PlannedRun {
            info,
            run_id,
            action,
        } in planned.iter().cloned()
        {
            match action {
                Planned::Create => {
                    let interval = (info.data_interval.start, info.data_interval.end);
                    let mut run = DagRunRecord::queued(
                        &self.dag_id,
                        run_id.clone(),
                        "backfill",
                        interval,
                        info.run_after,
                        self.params.clone(),
                    );
                    run.backfill_id = None;
                    runs.push(run);
                    run_ids.push(run_id);
                }
                Planned::Skip(reason) => skipped.push((info.logical_date(), reason.to_owned())),
                Planned::Reprocess => {
                    dag.clear(store, &Clear::run(run_id.clone()))?;
                    requeued.push(run_id.clone());
                    run_ids.push(run_id);
                }
            }
        }
        let record = BackfillRecord {
            id: 0,
            dag_id: self.dag_id.clone(),
            from_date: self.from_date,
            to_date: self.to_date,
            run_backwards: self.run_backwards,
            reprocess_behavior: self.reprocess.as_str().to_owned(),
            max_active_runs: self.max_active_runs,
            params: self.params.clone(),
            created_at: now,
            completed_at: None,
        };
        let id = store.create_backfill(&record, &runs, &requeued)?;
        if run_ids.is_empty() {
            store.complete_backfill(id, now)?;
        }
        let made = BackfillMade {
            id,
            run_ids,
            skipped,
        };
        Ok((made, planned))
    }
}
