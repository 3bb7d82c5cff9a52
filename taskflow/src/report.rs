//! [`RunReport`]: what a run returns: per-task states, tries, times, errors and values.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::executor::{RunState, SlotValue};
use crate::xcom::Value;
use crate::{Error, Result, TaskState};

mod summary;
mod values;

pub use summary::{RunSummary, TaskSummary};

/// The state of a whole run, with Airflow's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DagRunState {
    /// Created and waiting to start (a scheduled run behind its DAG's `max_active_runs`, a
    /// triggered or backfill run not yet picked up, a cleared run to run again).
    Queued,
    /// Its tasks are running (a [`DagRunEvent`](crate::events::DagRunEvent) of a run that
    /// started; a report is never in this state).
    Running,
    /// No task failed.
    Success,
    /// At least one task failed or ended upstream_failed.
    Failed,
}

impl DagRunState {
    /// Airflow's name of the state.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Success => "success",
            Self::Failed => "failed",
        }
    }
}

impl std::fmt::Display for DagRunState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// What one task did in a run.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TaskReport {
    /// The task id.
    pub task_id: String,
    /// Its final state.
    pub state: TaskState,
    /// How many tries ran (0 if it never ran).
    pub tries: u32,
    /// When its first try started.
    pub start_date: Option<DateTime<Utc>>,
    /// When it ended.
    pub end_date: Option<DateTime<Utc>>,
    /// `end_date - start_date`, over all tries and the waits between them.
    pub duration: Option<Duration>,
    /// When each try started, in order (virtual times in a `test()` run): the first try,
    /// then the latest 1,024 retries at most (`tries` counts them all).
    pub try_start_dates: Vec<DateTime<Utc>>,
    /// The error of its last try, with its sources (`"reading: disk gone"`).
    pub error: Option<String>,
    /// Its effective priority weight (see [`Dag::priority_weight`](crate::Dag::priority_weight)).
    pub priority_weight: i32,
    /// The map index of an instance of a mapped task ([`RunReport::instances`]); `None` for
    /// a task that is not mapped, and for a mapped task as a whole (Airflow's `-1`).
    pub map_index: Option<u32>,
    /// For a mapped task or group as a whole: how many map indexes it expanded to (0 if it
    /// did not expand); `None` for a task that is not mapped.
    pub mapped: Option<u32>,
    /// The map indexes of an instance, outermost first: one for a mapped task, one per
    /// level for a task mapped inside mapped groups; empty for a task that is not mapped.
    pub map_path: Vec<u32>,
    /// Each try in order, as Airflow's Gantt view shows them: a retried try ends
    /// `up_for_retry`, each check of a sensor in reschedule mode but the last ends
    /// `up_for_reschedule`, and the last one ends in the task's state. Empty for a task that
    /// never ran; the latest 1,024 waits at most.
    pub history: Vec<TryReport>,
    /// Whether it kept the outcome its store held, in a resumed run
    /// ([`RunOptions::resume`](crate::RunOptions::resume)): it did not run again.
    pub restored: bool,
}

/// One try of a task, or one check of a sensor in reschedule mode.
///
/// ```
/// use taskflow::prelude::*;
///
/// #[task(retries = 1, retry_delay = "1m")]
/// fn flaky(ctx: &Context) -> Result<u32, TaskError> {
///     if ctx.try_number() == 1 { Err(TaskError::msg("not yet")) } else { Ok(1) }
/// }
///
/// let report = Dag::build("gantt", || {
///     flaky();
/// })?
/// .test_with(RunOptions::new().log(false))?;
/// let tries = report.task("flaky").unwrap().history;
/// assert_eq!(tries.len(), 2);
/// assert_eq!((tries[0].try_number, tries[0].state), (1, TaskState::UpForRetry));
/// assert_eq!((tries[1].try_number, tries[1].state), (2, TaskState::Success));
/// assert!(tries[1].start_date - tries[0].end_date.unwrap() >= chrono::Duration::minutes(1));
/// # Ok::<(), taskflow::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct TryReport {
    /// The try's number, from 1.
    pub try_number: u32,
    /// When it (or this check) started.
    pub start_date: DateTime<Utc>,
    /// When it ended; `None` while it runs.
    pub end_date: Option<DateTime<Utc>>,
    /// How it ended: `up_for_retry`, `up_for_reschedule`, or the task's final state.
    pub state: TaskState,
}

/// The outcome of one DAG run.
///
/// The per-task accessors take a task id. Those that answer with a plain value
/// ([`state`](Self::state), [`try_number`](Self::try_number),
/// [`priority_weight`](Self::priority_weight), [`error`](Self::error)) panic on an id the
/// DAG does not have, naming its tasks, so that a typo fails a test instead of passing it;
/// [`task`](Self::task) returns `None` for one, and the value readers ([`xcom`](Self::xcom),
/// [`xcom_at`](Self::xcom_at), [`with_value`](Self::with_value)) return
/// [`Error::UnknownTask`].
///
/// ```
/// use taskflow::prelude::*;
///
/// #[task]
/// fn fails() -> Result<u32, TaskError> {
///     Err(TaskError::msg("source is down"))
/// }
///
/// #[task]
/// fn after(value: u32) -> u32 {
///     value + 1
/// }
///
/// #[task]
/// fn independent() -> &'static str {
///     "still ran"
/// }
///
/// let report = Dag::build("partial", || {
///     after(fails());
///     independent();
/// })
/// .test()?;
/// assert!(!report.succeeded());
/// assert_eq!(report.state("fails"), TaskState::Failed);
/// assert_eq!(report.state("after"), TaskState::UpstreamFailed);
/// assert_eq!(report.xcom::<&str>("independent")?, "still ran");
/// assert_eq!(report.task("fails").unwrap().error.as_deref(), Some("source is down"));
/// # Ok::<(), taskflow::Error>(())
/// ```
pub struct RunReport {
    run: Arc<RunState>,
    end: Duration,
}

impl RunReport {
    pub(crate) fn new(run: Arc<RunState>) -> Self {
        let end = run.end_time().unwrap_or_else(|| run.now());
        Self { run, end }
    }

    /// The DAG's id.
    pub fn dag_id(&self) -> &str {
        &self.run.dag.dag_id
    }

    /// The run's id.
    pub fn run_id(&self) -> &str {
        &self.run.info.run_id
    }

    /// The run's logical date.
    pub fn logical_date(&self) -> DateTime<Utc> {
        self.run.info.logical_date
    }

    /// When the run started.
    pub fn start_date(&self) -> DateTime<Utc> {
        self.run.start_date
    }

    /// When the run ended.
    pub fn end_date(&self) -> DateTime<Utc> {
        self.date(self.end)
    }

    /// How long the run took.
    pub fn duration(&self) -> Duration {
        self.end
    }

    /// How many events of the run its listeners did not hear because their queue was
    /// full (see [`crate::events`]).
    pub fn dropped_events(&self) -> u64 {
        self.run.dropped_events()
    }

    /// Whether no task failed (Airflow's run state `success`).
    pub fn succeeded(&self) -> bool {
        self.state_of_run() == DagRunState::Success
    }

    /// Why the run's store ([`RunOptions::store`](crate::RunOptions::store)) could not keep
    /// the run, if a write failed: the run is then failed.
    pub fn store_error(&self) -> Option<String> {
        self.run.store_error()
    }

    /// For a resumed run ([`RunOptions::resume`](crate::RunOptions::resume)): what resuming
    /// decided that is worth saying (a finished task run again for want of its stored value,
    /// a DAG changed since the run was stored); empty otherwise.
    pub fn resume_notes(&self) -> Vec<String> {
        self.run.resume_notes()
    }

    /// The state of the run: failed if a task failed or ended upstream_failed (teardown
    /// tasks aside), or its store could not keep it.
    pub fn state_of_run(&self) -> DagRunState {
        if self.run.has_failures() || self.run.store_error().is_some() {
            DagRunState::Failed
        } else {
            DagRunState::Success
        }
    }

    /// The final state of a task.
    ///
    /// # Panics
    /// If the DAG has no task `task_id`, with a message that lists its tasks: a typo must
    /// not read as a state. [`RunReport::task`] looks an id up without panicking.
    #[track_caller]
    pub fn state(&self, task_id: &str) -> TaskState {
        self.run.records.state(self.known(task_id))
    }

    /// How many tries of a task ran (Airflow's `try_number` after the run); 0 if it never
    /// ran.
    ///
    /// # Panics
    /// If the DAG has no task `task_id`, like [`RunReport::state`].
    #[track_caller]
    pub fn try_number(&self, task_id: &str) -> u32 {
        self.run.records.tries(self.known(task_id))
    }

    /// A task's effective priority weight.
    ///
    /// # Panics
    /// If the DAG has no task `task_id`, like [`RunReport::state`].
    #[track_caller]
    pub fn priority_weight(&self, task_id: &str) -> i32 {
        self.run.dag.plan.priorities()[self.known(task_id) as usize]
    }

    /// The error message of a task's last try, if it failed or was skipped with a reason.
    ///
    /// # Panics
    /// If the DAG has no task `task_id`, like [`RunReport::state`].
    #[track_caller]
    pub fn error(&self, task_id: &str) -> Option<String> {
        let node = self.known(task_id);
        self.run
            .records
            .read_extra(node, |extra| extra.and_then(|e| e.error.clone()))
    }

    /// What one task did, or `None` if the DAG has no such task: the lookup for ids that
    /// may be absent (the other per-task accessors panic on them).
    pub fn task(&self, task_id: &str) -> Option<TaskReport> {
        self.node(task_id).ok().map(|node| self.task_report(node))
    }

    /// What every task did, in the order the tasks were added.
    pub fn tasks(&self) -> impl Iterator<Item = TaskReport> + '_ {
        (0..self.len()).map(|node| self.task_report(node))
    }

    /// What each instance of mapped task `task_id` did, in map-index order; empty for a task
    /// that is not mapped, and for a mapped task that did not expand (it had no element to
    /// map over, or an upstream task failed). The task's own report
    /// ([`task`](Self::task), [`state`](Self::state)) is the sum of its instances: failed if
    /// one failed, else upstream_failed if one was, else skipped if one was, else success.
    ///
    /// ```
    /// use taskflow::prelude::*;
    ///
    /// #[task]
    /// fn double(x: u64) -> u64 {
    ///     x * 2
    /// }
    ///
    /// let report = Dag::build("doubled", || {
    ///     double::expand(each(vec![1u64, 2, 3]));
    /// })?
    /// .test()?;
    /// let instances = report.instances("double");
    /// assert_eq!(instances.len(), 3);
    /// assert_eq!(instances[2].map_index, Some(2));
    /// assert_eq!(report.instance_xcom::<u64>("double", 2)?, 6);
    /// assert_eq!(report.xcom::<Vec<u64>>("double")?, [2, 4, 6]);
    /// # Ok::<(), taskflow::Error>(())
    /// ```
    pub fn instances(&self, task_id: &str) -> Vec<TaskReport> {
        self.instance_nodes(task_id)
            .into_iter()
            .map(|(run, node)| RunReport::new(run).task_report(node))
            .collect()
    }

    /// The value instance `map_index` of mapped task `task_id` returned, as a `T`.
    pub fn instance_xcom<T: Clone + 'static>(&self, task_id: &str, map_index: u32) -> Result<T> {
        self.instance_xcom_at(task_id, &[map_index])
    }

    /// The value of the instance of `task_id` at `map_path` (its map indexes, outermost
    /// first, when it is mapped inside mapped groups), as a `T`.
    pub fn instance_xcom_at<T: Clone + 'static>(
        &self,
        task_id: &str,
        map_path: &[u32],
    ) -> Result<T> {
        let found = self
            .instance_nodes(task_id)
            .into_iter()
            .find(|(run, node)| run.map_path(*node) == map_path);
        let Some((run, node)) = found else {
            return Err(Error::XcomMissing {
                task_id: task_id.to_owned(),
                reason: format!("it has no mapped instance at map index {map_path:?}"),
            });
        };
        RunReport::new(run).read_node(task_id, node, None, T::clone)
    }

    /// Every instance of `task_id` in the runs of mapped tasks and groups under this run,
    /// in map-path order.
    fn instance_nodes(&self, task_id: &str) -> Vec<(Arc<RunState>, u32)> {
        let expansions = |run: &RunState| -> Vec<Arc<RunState>> {
            run.expansions
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .iter()
                .map(|(_, instances)| Arc::clone(instances))
                .collect()
        };
        let mut found = Vec::new();
        let mut pending = expansions(&self.run);
        while let Some(run) = pending.pop() {
            for node in 0..run.dag.nodes.len() as u32 {
                if run.dag.mapping(node).is_none() && run.dag.task_id(node) == task_id {
                    found.push((Arc::clone(&run), node));
                }
            }
            pending.extend(expansions(&run));
        }
        found.sort_by_cached_key(|(run, node)| run.map_path(*node));
        found
    }

    /// The ids of the tasks that ended in `state`.
    pub fn task_ids_in(&self, state: TaskState) -> Vec<String> {
        (0..self.len())
            .filter(|&node| self.run.records.state(node) == state)
            .map(|node| self.run.dag.task_id(node).into_owned())
            .collect()
    }

    /// The value a task returned, as a `T`.
    ///
    /// An error, never a panic, if there is no such task, it returned no value (it did not
    /// succeed), its value was moved into its downstream task (in [`Dag::run`] without
    /// `keep_xcoms`), or it is not a `T`.
    ///
    /// [`Dag::run`]: crate::Dag::run
    pub fn xcom<T: Clone + 'static>(&self, task_id: &str) -> Result<T> {
        self.with_value(task_id, |value: &T| value.clone())
    }

    /// Part `index` of the tuple value of a `multiple_outputs` task, as a `T`.
    pub fn xcom_at<T: Clone + 'static>(&self, task_id: &str, index: u32) -> Result<T> {
        self.read_slot(task_id, Some(index), |value: &T| value.clone())
    }

    /// Like [`RunReport::xcom`], handing a reference to `read` instead of a clone.
    pub fn with_value<T: 'static, R>(
        &self,
        task_id: &str,
        read: impl FnOnce(&T) -> R,
    ) -> Result<R> {
        self.read_slot(task_id, None, read)
    }

    fn read_slot<T: 'static, R>(
        &self,
        task_id: &str,
        part: Option<u32>,
        read: impl FnOnce(&T) -> R,
    ) -> Result<R> {
        self.read_node(task_id, self.node(task_id)?, part, read)
    }

    /// [`RunReport::read_slot`] for task `node`, whose id is `task_id`.
    fn read_node<T: 'static, R>(
        &self,
        task_id: &str,
        node: u32,
        part: Option<u32>,
        read: impl FnOnce(&T) -> R,
    ) -> Result<R> {
        let (node, value) = self.value_of_node(task_id, node, part)?;
        let typed = value.downcast_ref::<T>().ok_or_else(|| {
            let whole = self.run.dag.output_type(node);
            Error::XcomType {
                task_id: task_id.to_owned(),
                requested: std::any::type_name::<T>().to_owned(),
                actual: part.map_or_else(|| whole.to_owned(), |index| part_type(whole, index)),
            }
        })?;
        Ok(read(typed))
    }

    /// The node of task `task_id` and its value (part `part` of a `multiple_outputs` one),
    /// or why there is none.
    pub(crate) fn value_of(&self, task_id: &str, part: Option<u32>) -> Result<(u32, Value)> {
        self.value_of_node(task_id, self.node(task_id)?, part)
    }

    /// [`RunReport::value_of`] for task `node`, whose id is `task_id`.
    fn value_of_node(&self, task_id: &str, node: u32, part: Option<u32>) -> Result<(u32, Value)> {
        let missing = |reason: String| Error::XcomMissing {
            task_id: task_id.to_owned(),
            reason,
        };
        let parts = self.run.dag.nodes[node as usize].body.output_parts();
        let slot = match part {
            None if parts > 0 => {
                return Err(missing(format!(
                    "it has {parts} outputs (multiple_outputs): read one with xcom_at(\"{task_id}\", index)"
                )));
            }
            Some(index) if index >= parts.max(1) || parts == 0 => {
                return Err(missing(format!("it has no output number {index}")));
            }
            part => self
                .run
                .dag
                .plan
                .slot(node, part.map_or(0, |index| index + 1)),
        };
        // Clone the handle and let go of the lock before the caller reads it.
        match &*self.run.slots[slot].lock() {
            SlotValue::Ready(value) => Ok((node, value.clone())),
            SlotValue::Released if self.run.keep_values => Err(missing(
                "its type is not Clone, so it was moved into the task that read it".into(),
            )),
            // A value handed straight to its one reader never entered the slot.
            slot @ (SlotValue::Released | SlotValue::Empty)
                if matches!(slot, SlotValue::Released)
                    || self.run.records.state(node) == TaskState::Success =>
            {
                Err(missing(
                    "its value was moved into its downstream tasks; run with \
                     RunOptions::new().keep_xcoms(true) (the default of dag.test()) to keep it"
                        .into(),
                ))
            }
            SlotValue::Empty | SlotValue::Released => Err(missing(format!(
                "it ended {}",
                self.run.records.state(node)
            ))),
        }
    }

    /// The DAG the run ran.
    pub(crate) fn dag_inner(&self) -> &crate::dag::DagInner {
        &self.run.dag
    }

    /// The state of task `node`.
    pub(crate) fn state_of(&self, node: u32) -> TaskState {
        self.run.records.state(node)
    }

    fn len(&self) -> u32 {
        self.run.dag.nodes.len() as u32
    }

    fn node(&self, task_id: &str) -> Result<u32> {
        self.run.dag.node(task_id)
    }

    /// The node of a task the caller names as known; a panic naming the DAG's tasks if the
    /// DAG has none by that id.
    #[track_caller]
    fn known(&self, task_id: &str) -> u32 {
        match self.node(task_id) {
            Ok(node) => node,
            Err(error) => panic!("{error}; its tasks are {}", self.id_list()),
        }
    }

    /// The DAG's task ids for a message: all of them, or the first ones and a count.
    fn id_list(&self) -> String {
        const SHOWN: u32 = 20;
        let mut list = (0..self.len().min(SHOWN))
            .map(|node| format!("`{}`", self.run.dag.task_id(node)))
            .collect::<Vec<_>>()
            .join(", ");
        if self.len() > SHOWN {
            list.push_str(&format!(" and {} more", self.len() - SHOWN));
        }
        if list.is_empty() {
            list.push_str("none");
        }
        list
    }

    fn date(&self, offset: Duration) -> DateTime<Utc> {
        self.run.date_at(offset)
    }

    fn task_report(&self, node: u32) -> TaskReport {
        let records = &self.run.records;
        let (start, end) = (records.start_time(node), records.end_time(node));
        let (retry_starts, error, past, resumed_at) = records.read_extra(node, |extra| {
            extra.map_or_else(Default::default, |extra| {
                (
                    extra.retry_starts.clone(),
                    extra.error.clone(),
                    extra.past.clone(),
                    extra.resumed_at,
                )
            })
        });
        let state = records.state(node);
        let mut history: Vec<TryReport> = past
            .iter()
            .map(|past| TryReport {
                try_number: past.try_number,
                start_date: self.date(past.start),
                end_date: Some(self.date(past.end)),
                state: past.state,
            })
            .collect();
        let current = resumed_at
            .or_else(|| retry_starts.back().copied())
            .or(start);
        let waiting = matches!(
            state,
            TaskState::UpForRetry | TaskState::UpForReschedule | TaskState::Queued
        ) && records.tries(node) > 0;
        if let Some(current) = current.filter(|_| !waiting) {
            history.push(TryReport {
                try_number: records.tries(node),
                start_date: self.date(current),
                end_date: end.filter(|&end| end >= current).map(|end| self.date(end)),
                state,
            });
        }
        TaskReport {
            task_id: self.run.dag.task_id(node).into_owned(),
            state,
            tries: records.tries(node),
            start_date: start.map(|at| self.date(at)),
            end_date: end.map(|at| self.date(at)),
            duration: start.zip(end).map(|(start, end)| end.saturating_sub(start)),
            try_start_dates: start
                .iter()
                .chain(&retry_starts)
                .map(|&at| self.date(at))
                .collect(),
            error,
            priority_weight: self.run.dag.plan.priorities()[node as usize],
            mapped: self.run.dag.mapping(node).map(|_| self.run.map_count(node)),
            map_index: self.run.map_index(node),
            map_path: self.run.map_path(node),
            history,
            restored: self.run.features(node).has(crate::dag::Features::RESTORED),
        }
    }
}

/// The type of part `index` of the tuple type named `tuple` (as `std::any::type_name`
/// writes it), for messages; if the name cannot be split, what it is a part of.
fn part_type(tuple: &str, index: u32) -> String {
    let inner = tuple
        .strip_prefix('(')
        .and_then(|rest| rest.strip_suffix(')'));
    let mut parts = Vec::new();
    if let Some(inner) = inner {
        let (mut depth, mut start, mut previous) = (0usize, 0, ' ');
        for (at, c) in inner.char_indices() {
            match c {
                '(' | '<' | '[' => depth += 1,
                '>' if previous == '-' => {} // `fn(A) -> B`
                ')' | '>' | ']' => depth = depth.saturating_sub(1),
                ',' if depth == 0 => {
                    parts.push(inner[start..at].trim());
                    start = at + 1;
                }
                _ => {}
            }
            previous = c;
        }
        parts.push(inner[start..].trim());
    }
    match parts.get(index as usize) {
        Some(part) if !part.is_empty() => (*part).to_owned(),
        _ => format!("part {index} of `{tuple}`"),
    }
}

impl std::fmt::Debug for RunReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut list = f.debug_map();
        for node in 0..self.len() {
            list.entry(&self.run.dag.task_id(node), &self.run.records.state(node));
        }
        list.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::part_type;

    #[test]
    fn part_type_splits_a_tuple_name_at_its_top_level_commas() {
        let name = "(u32, alloc::vec::Vec<(u8, i8)>, [core::option::Option<u8>; 3], &str)";
        assert_eq!(part_type(name, 0), "u32");
        assert_eq!(part_type(name, 1), "alloc::vec::Vec<(u8, i8)>");
        assert_eq!(part_type(name, 2), "[core::option::Option<u8>; 3]");
        assert_eq!(part_type(name, 3), "&str");
        assert_eq!(part_type("(fn(u8) -> u8, i64)", 1), "i64");
        assert_eq!(part_type(name, 4), format!("part 4 of `{name}`"));
        assert_eq!(part_type("u32", 0), "part 0 of `u32`");
    }
}
