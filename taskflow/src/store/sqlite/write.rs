//! Writing a batch of changes in one transaction, coalesced: of the changes of one task
//! instance in a batch, only its last state is kept, in one row with the value it returned.
//! A run's rows, tries and values go to the change log as one entry (see [`super::log`]);
//! runs and what comes from outside runs go to their tables at once.

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::{Transaction, params};

use super::log::{CHUNK, Entry, InstanceRow, Item, PushRow, TryRow, Value, ValueRow};
use super::{INTERRUPTED, Inner, Large, map_index_column, path_column};
use crate::TaskState;
use crate::store::Change;
use crate::store::large::value_key;

/// A map with a fast hasher, for the keys of one batch (hashed once or twice per change).
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// A task instance of a batch, by where its shared ids are (DAG, run, task) and its map
/// path: a run's changes share their ids, so this finds an instance's changes without
/// hashing its ids. Changes of one instance that do not share them are only coalesced less.
type InstanceKey<'a> = (usize, usize, usize, &'a [u32]);

/// The key of an instance of a batch (whose changes keep the ids alive, so that an address
/// is not reused for another id while the batch is written).
fn instance_key<'a>(
    dag_id: &Arc<str>,
    run_id: &Arc<str>,
    task_id: &Arc<str>,
    map_path: &'a [u32],
) -> InstanceKey<'a> {
    (address(dag_id), address(run_id), address(task_id), map_path)
}

fn address(id: &Arc<str>) -> usize {
    Arc::as_ptr(id).cast::<u8>() as usize
}

/// The key of a return value among the XComs.
const RETURN_VALUE: &str = "return_value";

/// A value as an entry keeps it: its JSON (empty when kept elsewhere), type and location.
struct Stored<'a> {
    text: String,
    type_name: &'a str,
    location: Option<String>,
}

impl Stored<'_> {
    fn value(&self) -> Value<'_> {
        Value {
            text: &self.text,
            type_name: self.type_name,
            location: self.location.as_deref(),
        }
    }
}

/// The entries of a batch, one per run, in the order of their runs' first changes.
#[derive(Default)]
struct Entries {
    entries: Vec<Entry>,
}

impl Entries {
    fn of(&mut self, run: i64) -> &mut Entry {
        // Most batches are of one run, or a few.
        match self.entries.iter().rposition(|entry| entry.run == run) {
            Some(at) => &mut self.entries[at],
            None => {
                self.entries.push(Entry::new(run));
                self.entries.last_mut().expect("just pushed")
            }
        }
    }

    /// Appends the entries to the log, and starts again; the bytes appended.
    fn append(&mut self, transaction: &Transaction<'_>) -> rusqlite::Result<usize> {
        let mut bytes = 0;
        for entry in self.entries.drain(..) {
            if !entry.is_empty() {
                bytes += entry.append(transaction)?;
            }
        }
        Ok(bytes)
    }
}

/// Writes `changes` in one transaction; the bytes it added to the change log.
pub(super) fn write_batch(
    inner: &mut Inner,
    large: &Large,
    changes: &[Change],
) -> rusqlite::Result<usize> {
    let hasher = foldhash::fast::RandomState::default();
    let mut last_state: FastMap<InstanceKey<'_>, usize> =
        HashMap::with_capacity_and_hasher(changes.len(), hasher.clone());
    let mut values: FastMap<InstanceKey<'_>, usize> =
        HashMap::with_capacity_and_hasher(changes.len(), hasher);
    for (at, change) in changes.iter().enumerate() {
        match change {
            Change::TaskInstance(ti) => {
                last_state.insert(
                    instance_key(&ti.dag_id, &ti.run_id, &ti.task_id, &ti.map_path),
                    at,
                );
            }
            Change::XcomValue {
                dag_id,
                run_id,
                task_id,
                map_path,
                key,
                ..
            } if &**key == RETURN_VALUE => {
                values.insert(instance_key(dag_id, run_id, task_id, map_path), at);
            }
            _ => {}
        }
    }
    // The write lock from the start: a transaction that read first could not take it later
    // if another process wrote meanwhile (it waits for it instead, up to the busy timeout).
    let transaction = inner
        .connection
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut ids = Ids {
        transaction: &transaction,
        runs: &mut inner.runs,
        tasks: &mut inner.tasks,
        shared_tasks: &mut inner.shared_tasks,
        last_run: None,
        new_tasks: Vec::new(),
        refreshed: std::collections::HashSet::new(),
    };
    let mut entries = Entries::default();
    let mut logged = 0;
    for (at, change) in changes.iter().enumerate() {
        match change {
            Change::DagRun(run) => {
                let id: i64 = transaction
                    .prepare_cached(
                        "INSERT INTO dag_run (dag_id, run_id, logical_date, state, start_date,
                             end_date)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                         ON CONFLICT (dag_id, run_id) DO UPDATE SET
                             state = excluded.state, end_date = excluded.end_date,
                             start_date = coalesce(dag_run.start_date, excluded.start_date)
                         RETURNING id",
                    )?
                    .query_row(
                        params![
                            &*run.dag_id,
                            &*run.run_id,
                            run.logical_date.timestamp_micros(),
                            run.state.as_str(),
                            run.start_date.timestamp_micros(),
                            run.end_date.map(|date| date.timestamp_micros()),
                        ],
                        |row| row.get(0),
                    )?;
                ids.runs
                    .insert((run.dag_id.to_string(), run.run_id.to_string()), id);
            }
            Change::TaskInstance(ti) => {
                let key = instance_key(&ti.dag_id, &ti.run_id, &ti.task_id, &ti.map_path);
                let last = last_state.get(&key) == Some(&at);
                if !last && ti.state != TaskState::UpForRetry {
                    continue;
                }
                let run = ids.run(&ti.dag_id, &ti.run_id)?;
                let task = ids.shared_task(&ti.dag_id, &ti.task_id)?;
                let map_path = path_column(&ti.map_path);
                let start_date = ti.start_date.map(|date| date.timestamp_micros());
                let end_date = ti.end_date.map(|date| date.timestamp_micros());
                if ti.state == TaskState::UpForRetry {
                    // A try that ended with another to come: kept in the tries' history.
                    entries.of(run).add(&Item::Try(TryRow {
                        task,
                        map_path: &map_path,
                        try_number: ti.try_number,
                        state: ti.state.as_str(),
                        start_date,
                        end_date,
                        error: ti.error.as_deref(),
                    }));
                }
                if !last {
                    continue;
                }
                let value = match values.remove(&key) {
                    Some(value) => stored_value(&changes[value], large)?,
                    None => None,
                };
                entries.of(run).add(&Item::Instance(InstanceRow {
                    task,
                    map_path: &map_path,
                    map_index: map_index_column(&ti.map_path),
                    state: ti.state.as_str(),
                    try_number: ti.try_number,
                    start_date,
                    end_date,
                    error: ti.error.as_deref(),
                    pool: &ti.pool,
                    priority_weight: ti.priority_weight,
                    value: value.as_ref().map(Stored::value),
                }));
            }
            Change::XcomValue {
                dag_id,
                run_id,
                task_id,
                map_path,
                key,
                ..
            } => {
                let instance = instance_key(dag_id, run_id, task_id, map_path);
                if &**key == RETURN_VALUE
                    && (last_state.contains_key(&instance) || values.get(&instance) != Some(&at))
                {
                    // Its instance's last state in this batch takes it along.
                    continue;
                }
                let run = ids.run(dag_id, run_id)?;
                let task = ids.shared_task(dag_id, task_id)?;
                let Some(stored) = stored_value(change, large)? else {
                    continue;
                };
                let path = path_column(map_path);
                let item = if &**key == RETURN_VALUE {
                    // It goes to the instance's row on its own.
                    values.remove(&instance);
                    Item::Value(ValueRow {
                        task,
                        map_path: &path,
                        map_index: map_index_column(map_path),
                        value: stored.value(),
                    })
                } else {
                    Item::Push(PushRow {
                        task,
                        map_path: &path,
                        key,
                        value: stored.value(),
                    })
                };
                entries.of(run).add(&item);
            }
            other => {
                // What comes from outside runs goes after the changes it follows, and what
                // changes an instance goes on its run's tables with the log folded in.
                ids.write_new_tasks()?;
                logged += entries.append(&transaction)?;
                write_other(&transaction, &mut ids, other)?;
            }
        }
    }
    ids.write_new_tasks()?;
    logged += entries.append(&transaction)?;
    drop(ids);
    transaction.commit()?;
    // An ended run's row is looked up again if anything else of it comes (a clear, a
    // resume): a long-lived writer (a scheduler's) keeps only the runs in flight.
    for change in changes {
        if let Change::DagRun(run) = change
            && run.state != crate::DagRunState::Running
        {
            inner
                .runs
                .remove(&(run.dag_id.to_string(), run.run_id.to_string()));
        }
    }
    Ok(logged)
}

/// The value of an [`Change::XcomValue`] as a row keeps it: large values are written at
/// their place first (before the row that points at them is committed).
fn stored_value<'a>(change: &'a Change, large: &Large) -> rusqlite::Result<Option<Stored<'a>>> {
    let Change::XcomValue {
        dag_id,
        run_id,
        task_id,
        map_path,
        key,
        type_name,
        value,
    } = change
    else {
        return Ok(None);
    };
    let mut text = value.to_string();
    let mut location = None;
    if text.len() as u64 > large.threshold {
        let at = value_key(dag_id, run_id, task_id, &path_column(map_path), key);
        large
            .place
            .put(&at, std::mem::take(&mut text))
            .map_err(|error| {
                rusqlite::Error::ToSqlConversionFailure(
                    format!("keeping a large value at {:?}: {error}", large.place).into(),
                )
            })?;
        location = Some(at);
    }
    Ok(Some(Stored {
        text,
        type_name,
        location,
    }))
}

/// The row ids of runs and the numbers of tasks, from the connection's caches or the
/// database (a DAG's new task gets the next number).
struct Ids<'t, 'c> {
    transaction: &'t Transaction<'c>,
    runs: &'t mut HashMap<(String, String), i64>,
    tasks: &'t mut HashMap<String, DagTasks>,
    shared_tasks: &'t mut SharedTasks,
    /// The run of the last change, which the next one is most likely of too.
    last_run: Option<(String, String, i64)>,
    /// Tasks numbered in this batch, to write before the rows that use their numbers:
    /// DAG, number, task id.
    new_tasks: Vec<(String, i64, String)>,
    /// The DAGs whose numbers were read again in this transaction.
    refreshed: std::collections::HashSet<String>,
}

/// The numbers of tasks by where their shared ids are (DAG, task): the ids of the
/// changes of a DAG's runs, found without hashing them. The ids are kept, so that their
/// addresses are not reused for others.
#[derive(Default)]
pub(super) struct SharedTasks {
    /// In address order: a DAG's task ids are made one after the other, so a run's tasks,
    /// looked up in turn, are found near each other (a hash map of 100k tasks misses the
    /// cache on every one).
    numbers: std::collections::BTreeMap<(usize, usize), i64>,
    kept: Vec<(Arc<str>, Arc<str>)>,
}

impl SharedTasks {
    pub(super) fn clear(&mut self) {
        self.numbers.clear();
        self.kept.clear();
    }
}

/// The most tasks [`SharedTasks`] keeps (a program that builds its DAGs again for each run
/// gives them new ids each time): past it, it starts again.
const MAX_SHARED_TASKS: usize = 1 << 20;

/// The numbers of one DAG's tasks.
#[derive(Default)]
pub(super) struct DagTasks {
    numbers: FastMap<String, i64>,
    next: i64,
}

impl Ids<'_, '_> {
    fn run(&mut self, dag_id: &str, run_id: &str) -> rusqlite::Result<i64> {
        if let Some((dag, run, id)) = &self.last_run
            && dag == dag_id
            && run == run_id
        {
            return Ok(*id);
        }
        let key = (dag_id.to_owned(), run_id.to_owned());
        let id = match self.runs.get(&key) {
            Some(&id) => id,
            None => {
                let id = self
                    .transaction
                    .prepare_cached("SELECT id FROM dag_run WHERE dag_id = ?1 AND run_id = ?2")?
                    .query_row(params![dag_id, run_id], |row| row.get(0))
                    .map_err(|error| match error {
                        rusqlite::Error::QueryReturnedNoRows => {
                            rusqlite::Error::ToSqlConversionFailure(
                                format!("the store has no run `{run_id}` of dag `{dag_id}`").into(),
                            )
                        }
                        error => error,
                    })?;
                self.runs.insert(key, id);
                id
            }
        };
        self.last_run = Some((dag_id.to_owned(), run_id.to_owned(), id));
        Ok(id)
    }

    /// The number of task `task_id` of DAG `dag_id`, found by where the ids are first.
    fn shared_task(&mut self, dag_id: &Arc<str>, task_id: &Arc<str>) -> rusqlite::Result<i64> {
        let key = (address(dag_id), address(task_id));
        if let Some(&number) = self.shared_tasks.numbers.get(&key) {
            return Ok(number);
        }
        let number = self.task(dag_id, task_id)?;
        if self.shared_tasks.kept.len() >= MAX_SHARED_TASKS {
            self.shared_tasks.clear();
        }
        self.shared_tasks.numbers.insert(key, number);
        let kept = (Arc::clone(dag_id), Arc::clone(task_id));
        self.shared_tasks.kept.push(kept);
        Ok(number)
    }

    /// The run row and task number of `instance`.
    fn instance(&mut self, instance: &crate::store::InstanceId) -> rusqlite::Result<(i64, i64)> {
        let run = self.run(&instance.dag_id, &instance.run_id)?;
        let task = self.task(&instance.dag_id, &instance.task_id)?;
        Ok((run, task))
    }

    fn task(&mut self, dag_id: &str, task_id: &str) -> rusqlite::Result<i64> {
        if let Some(&number) = self
            .tasks
            .get(dag_id)
            .and_then(|known| known.numbers.get(task_id))
        {
            return Ok(number);
        }
        // Not known here: read the numbers given since, once per transaction (another
        // process may have numbered tasks; this transaction holds the write lock, so what it
        // reads now stays true until it commits). Numbers are given in order, each the next
        // above all there are, so the new ones are those from the next this one knows.
        if !self.refreshed.contains(dag_id) {
            self.refreshed.insert(dag_id.to_owned());
            let known = self.tasks.entry(dag_id.to_owned()).or_default();
            let mut query = self.transaction.prepare_cached(
                "SELECT task, task_id FROM dag_task WHERE dag_id = ?1 AND task >= ?2",
            )?;
            let mut rows = query.query(params![dag_id, known.next])?;
            while let Some(row) = rows.next()? {
                let number: i64 = row.get(0)?;
                known.numbers.insert(row.get(1)?, number);
                known.next = known.next.max(number + 1);
            }
        }
        let known = match self.tasks.get_mut(dag_id) {
            Some(known) => known,
            None => self.tasks.entry(dag_id.to_owned()).or_default(),
        };
        if let Some(&number) = known.numbers.get(task_id) {
            return Ok(number);
        }
        let number = known.next;
        known.numbers.insert(task_id.to_owned(), number);
        known.next += 1;
        self.new_tasks
            .push((dag_id.to_owned(), number, task_id.to_owned()));
        Ok(number)
    }

    /// Writes the tasks numbered since the last call, [`CHUNK`] to a statement.
    fn write_new_tasks(&mut self) -> rusqlite::Result<()> {
        let insert = |rows: usize| {
            format!(
                "INSERT INTO dag_task (dag_id, task, task_id) VALUES {}",
                vec!["(?, ?, ?)"; rows].join(", ")
            )
        };
        if self.new_tasks.is_empty() {
            return Ok(()); // most batches: the DAGs' tasks are numbered already
        }
        let tasks = std::mem::take(&mut self.new_tasks);
        let mut chunks = tasks.chunks_exact(CHUNK);
        if tasks.len() >= CHUNK {
            let mut statement = self.transaction.prepare_cached(&insert(CHUNK))?;
            for chunk in &mut chunks {
                for (at, (dag_id, number, task_id)) in chunk.iter().enumerate() {
                    statement.raw_bind_parameter(1 + at * 3, dag_id)?;
                    statement.raw_bind_parameter(2 + at * 3, number)?;
                    statement.raw_bind_parameter(3 + at * 3, task_id)?;
                }
                statement.raw_execute()?;
            }
        }
        let mut statement = self.transaction.prepare_cached(&insert(1))?;
        for (dag_id, number, task_id) in chunks.remainder() {
            statement.execute(params![dag_id, number, task_id])?;
        }
        Ok(())
    }
}

/// Writes a change that comes once per run or from outside runs.
fn write_other(
    transaction: &Transaction<'_>,
    ids: &mut Ids<'_, '_>,
    change: &Change,
) -> rusqlite::Result<()> {
    match change {
        Change::DagRunConf {
            dag_id,
            run_id,
            run_type,
            params,
            fingerprint,
        } => {
            let run = ids.run(dag_id, run_id)?;
            let params = serde_json::to_string(params).unwrap_or_else(|_| "{}".into());
            transaction
                .prepare_cached(
                    "UPDATE dag_run SET params = ?3, fingerprint = ?4,
                         run_type = CASE WHEN backfill_id IS NULL THEN ?2 ELSE 'backfill' END
                     WHERE id = ?1",
                )?
                .execute(params![run, run_type, params, fingerprint])?;
            transaction
                .prepare_cached(
                    "INSERT INTO dag (dag_id, fingerprint) VALUES (?1, ?2)
                     ON CONFLICT (dag_id) DO UPDATE SET fingerprint = excluded.fingerprint",
                )?
                .execute(params![dag_id, fingerprint])?;
        }
        Change::TryInterrupted {
            instance,
            try_number,
        } => {
            let (run, task) = ids.instance(instance)?;
            super::log::fold_run(transaction, run)?;
            let map_path = &instance.map_path;
            transaction
                .prepare_cached(
                    "INSERT INTO task_try (run, task, map_path, try_number, state, start_date,
                         end_date, error, interrupted)
                     SELECT run, task, map_path, ?4, 'failed', start_date, NULL, ?5, 1
                     FROM task_instance WHERE run = ?1 AND task = ?2 AND map_path = ?3
                     ON CONFLICT (run, task, map_path, try_number) DO UPDATE SET
                         state = 'failed', error = excluded.error, interrupted = 1",
                )?
                .execute(params![
                    run,
                    task,
                    path_column(map_path),
                    try_number,
                    INTERRUPTED
                ])?;
        }
        Change::SetState {
            instance,
            state,
            note,
        } => {
            let (run, task) = ids.instance(instance)?;
            super::log::fold_run(transaction, run)?;
            let map_path = &instance.map_path;
            let path = path_column(map_path);
            // The latest try keeps its outcome in the tries' history.
            transaction
                .prepare_cached(
                    "INSERT OR IGNORE INTO task_try (run, task, map_path, try_number, state,
                         start_date, end_date, error)
                     SELECT run, task, map_path, try_number, state, start_date, end_date, error
                     FROM task_instance
                     WHERE run = ?1 AND task = ?2 AND map_path = ?3 AND try_number > 0",
                )?
                .execute(params![run, task, &path])?;
            let cleared = *state == TaskState::None;
            // A cleared instance's tries so far no longer count against its retries, and its
            // value goes, as Airflow's clear deletes the XComs.
            transaction
                .prepare_cached(
                    "INSERT INTO task_instance (run, task, map_path, map_index, state,
                         try_number, error, pool, priority_weight)
                     VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, 'default_pool', 1)
                     ON CONFLICT (run, task, map_path) DO UPDATE SET
                         state = excluded.state, error = excluded.error,
                         end_date = CASE WHEN ?7 THEN NULL ELSE end_date END,
                         clear_base = CASE WHEN ?7 THEN try_number ELSE clear_base END,
                         value = CASE WHEN ?7 THEN NULL ELSE value END,
                         value_type = CASE WHEN ?7 THEN NULL ELSE value_type END,
                         value_location = CASE WHEN ?7 THEN NULL ELSE value_location END",
                )?
                .execute(params![
                    run,
                    task,
                    &path,
                    map_index_column(map_path),
                    state.as_str(),
                    note.as_deref(),
                    cleared,
                ])?;
            if cleared {
                transaction
                    .prepare_cached(
                        "UPDATE dag_run SET state = 'queued', end_date = NULL WHERE id = ?1",
                    )?
                    .execute([run])?;
                transaction
                    .prepare_cached(
                        "DELETE FROM xcom WHERE run = ?1 AND task = ?2 AND map_path = ?3",
                    )?
                    .execute(params![run, task, &path])?;
            }
        }
        Change::QueueDagRuns(runs) => {
            for run in runs {
                super::schedule::insert_run(transaction, run)?;
            }
        }
        // Written by `write_batch` itself.
        Change::DagRun(_) | Change::TaskInstance(_) | Change::XcomValue { .. } => {}
    }
    Ok(())
}
