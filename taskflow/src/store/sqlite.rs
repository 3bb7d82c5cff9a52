//! [`SqliteStore`]: runs kept in one SQLite file, with a versioned schema, in WAL mode.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{Change, DagRunRecord, Store, TaskInstanceRecord, TryRecord};
use crate::events::TaskInstanceEvent;
use crate::{DagRunState, Error, Result, TaskState};

/// The mark in a store's file header that tells it from other SQLite databases
/// (`PRAGMA application_id`: "tflw").
const APPLICATION_ID: i32 = 0x7466_6c77;

/// The schema this version writes; older ones are migrated, newer ones refused.
const SCHEMA_VERSION: i32 = 1;

/// Each migration, from the schema before it: `MIGRATIONS[0]` makes version 1.
const MIGRATIONS: &[&str] = &["
    CREATE TABLE dag_run (
        id INTEGER PRIMARY KEY,
        dag_id TEXT NOT NULL,
        run_id TEXT NOT NULL,
        logical_date INTEGER NOT NULL,
        state TEXT NOT NULL,
        start_date INTEGER,
        end_date INTEGER,
        UNIQUE (dag_id, run_id)
    );
    CREATE INDEX dag_run_by_date ON dag_run (dag_id, logical_date);
    CREATE TABLE task_instance (
        run INTEGER NOT NULL REFERENCES dag_run (id),
        task_id TEXT NOT NULL,
        map_index INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        state TEXT NOT NULL,
        try_number INTEGER NOT NULL,
        start_date INTEGER,
        end_date INTEGER,
        error TEXT,
        pool TEXT NOT NULL,
        priority_weight INTEGER NOT NULL,
        PRIMARY KEY (run, task_id, map_index)
    ) WITHOUT ROWID;
    CREATE TABLE task_try (
        run INTEGER NOT NULL REFERENCES dag_run (id),
        task_id TEXT NOT NULL,
        map_index INTEGER NOT NULL,
        try_number INTEGER NOT NULL,
        state TEXT NOT NULL,
        start_date INTEGER,
        end_date INTEGER,
        error TEXT,
        PRIMARY KEY (run, task_id, map_index, try_number)
    ) WITHOUT ROWID;
    CREATE TABLE xcom (
        run INTEGER NOT NULL REFERENCES dag_run (id),
        task_id TEXT NOT NULL,
        map_index INTEGER NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (run, task_id, map_index, key)
    ) WITHOUT ROWID;
"];

/// Runs kept in one SQLite file (SQLite is bundled: nothing to install).
///
/// [`SqliteStore::open`] creates the file, or opens one written before (migrating an older
/// schema). A file that is not a SQLite database, a database of another application, or one
/// written by a newer version is an error that says so; nothing is reset. The file is in
/// WAL mode: several processes may open one store; writes take turns.
///
/// See [`crate::store`] for an example.
pub struct SqliteStore {
    inner: Mutex<Inner>,
    path: PathBuf,
}

/// The connection, and what writing through it keeps at hand.
struct Inner {
    connection: Connection,
    /// The row of each DAG run written or read, by DAG id, then run id.
    runs: HashMap<String, HashMap<String, i64>>,
    /// The order of the last task instance first written.
    seq: i64,
}

impl SqliteStore {
    /// Opens the store in the file at `path`, creating it if it does not exist.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let shown = path.display().to_string();
        let fail = |reason: String| Error::Store {
            path: shown.clone(),
            reason,
        };
        let connection = Connection::open(&path).map_err(|error| fail(error.to_string()))?;
        let store = Self {
            inner: Mutex::new(Inner {
                connection,
                runs: HashMap::new(),
                seq: 0,
            }),
            path,
        };
        store.prepare().map_err(fail)?;
        let mut inner = store.lock();
        inner.seq = inner
            .connection
            .query_row(
                "SELECT coalesce(max(seq), 0) FROM task_instance",
                [],
                |row| row.get(0),
            )
            .map_err(|error| fail(error.to_string()))?;
        drop(inner);
        Ok(store)
    }

    /// Where the store is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Keeps the file at most about `bytes` long (SQLite's `max_page_count`, for this
    /// connection): a write that would grow it further fails, as on a full disk, and the
    /// runs writing then fail with the store's error.
    pub fn limit_size(&self, bytes: u64) -> Result<()> {
        let inner = self.lock();
        let connection = &inner.connection;
        let page: i64 = connection
            .pragma_query_value(None, "page_size", |row| row.get(0))
            .map_err(|e| self.error(e))?;
        let page = u64::try_from(page).unwrap_or(4096).max(1);
        let pages = i64::try_from((bytes / page).max(1)).unwrap_or(i64::MAX);
        connection
            .pragma_update(None, "max_page_count", pages)
            .map_err(|e| self.error(e))
    }

    /// SQLite's check of the file (`PRAGMA integrity_check`): `Ok` if it is sound, else the
    /// problems it found.
    pub fn integrity_check(&self) -> Result<()> {
        let inner = self.lock();
        let connection = &inner.connection;
        let mut query = connection
            .prepare("PRAGMA integrity_check")
            .map_err(|e| self.error(e))?;
        let lines: Vec<String> = query
            .query_map([], |row| row.get(0))
            .map_err(|e| self.error(e))?
            .collect::<rusqlite::Result<_>>()
            .map_err(|e| self.error(e))?;
        if lines == ["ok"] {
            Ok(())
        } else {
            Err(Error::Store {
                path: self.path.display().to_string(),
                reason: format!("integrity check failed: {}", lines.join("; ")),
            })
        }
    }

    /// Checks the file is a store this version reads, and brings its schema up to date.
    fn prepare(&self) -> std::result::Result<(), String> {
        let inner = self.lock();
        let connection = &inner.connection;
        let not_a_store = |error: rusqlite::Error| match error.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => {
                "the file is not a SQLite database (or it is corrupt)".to_owned()
            }
            _ => error.to_string(),
        };
        let pragma = |name: &str| -> std::result::Result<i32, String> {
            connection
                .pragma_query_value(None, name, |row| row.get(0))
                .map_err(not_a_store)
        };
        let application = pragma("application_id")?;
        let version = pragma("user_version")?;
        let tables: i64 = connection
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |row| row.get(0),
            )
            .map_err(not_a_store)?;
        if application != APPLICATION_ID && (application != 0 || tables > 0) {
            return Err(
                "the file is a SQLite database of another application, not a taskflow store"
                    .to_owned(),
            );
        }
        if version > SCHEMA_VERSION {
            return Err(format!(
                "the store was written by a newer version of taskflow (schema {version}; this \
                 version reads schemas up to {SCHEMA_VERSION})"
            ));
        }
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(not_a_store)?;
        connection
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(not_a_store)?;
        connection
            .busy_timeout(std::time::Duration::from_secs(10))
            .map_err(|error| error.to_string())?;
        for (at, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let next = at as i32 + 1;
            let migrate = format!(
                "BEGIN IMMEDIATE; {migration} PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {next}; COMMIT;"
            );
            connection.execute_batch(&migrate).map_err(|error| {
                format!("could not bring the schema to version {next}: {error}")
            })?;
        }
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn error(&self, error: rusqlite::Error) -> Error {
        Error::Store {
            path: self.path.display().to_string(),
            reason: error.to_string(),
        }
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

/// A map index as the store keeps it: `-1` for none, as in Airflow.
fn map_index_column(map_index: Option<u32>) -> i64 {
    map_index.map_or(-1, i64::from)
}

fn map_index_of(column: i64) -> Option<u32> {
    u32::try_from(column).ok()
}

/// A date as the store keeps it: microseconds since 1970 (UTC).
fn date_column(date: Option<DateTime<Utc>>) -> Option<i64> {
    date.map(|date| date.timestamp_micros())
}

fn date_of(column: Option<i64>) -> Option<DateTime<Utc>> {
    column.and_then(DateTime::from_timestamp_micros)
}

/// Whether a task instance in `state` ends a try (so the try's row gets its end).
fn ends_try(event: &TaskInstanceEvent) -> bool {
    event.try_number > 0
        && matches!(
            event.state,
            TaskState::Running
                | TaskState::Success
                | TaskState::Failed
                | TaskState::UpForRetry
                | TaskState::UpForReschedule
                | TaskState::Skipped
        )
}

impl Store for SqliteStore {
    fn write(&self, changes: &[Change]) -> Result<()> {
        let mut inner = self.lock();
        let written = write_batch(&mut inner, changes);
        if written.is_err() {
            // Rows of the rolled-back transaction may be cached.
            inner.runs.clear();
        }
        written.map_err(|e| self.error(e))
    }

    fn dag_runs(&self, dag_id: &str, limit: usize, offset: usize) -> Result<Vec<DagRunRecord>> {
        let inner = self.lock();
        let mut query = inner
            .connection
            .prepare(
                "SELECT run_id, logical_date, state, start_date, end_date FROM dag_run
                 WHERE dag_id = ?1 ORDER BY logical_date DESC, run_id DESC LIMIT ?2 OFFSET ?3",
            )
            .map_err(|e| self.error(e))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let rows = query
            .query_map(params![dag_id, limit, offset], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, Option<i64>>(3)?,
                    row.get::<_, Option<i64>>(4)?,
                ))
            })
            .map_err(|e| self.error(e))?;
        let mut runs = Vec::new();
        for row in rows {
            let (run_id, logical_date, state, start, end) = row.map_err(|e| self.error(e))?;
            runs.push(DagRunRecord {
                dag_id: dag_id.to_owned(),
                run_id,
                logical_date: date_of(Some(logical_date)).unwrap_or_default(),
                state: run_state(&state),
                start_date: date_of(start),
                end_date: date_of(end),
            });
        }
        Ok(runs)
    }

    fn task_instances(&self, dag_id: &str, run_id: &str) -> Result<Vec<TaskInstanceRecord>> {
        let inner = self.lock();
        let mut query = inner
            .connection
            .prepare(
                "SELECT task_id, map_index, ti.state, try_number, ti.start_date, ti.end_date, error,
                     pool, priority_weight
                 FROM task_instance AS ti JOIN dag_run ON dag_run.id = ti.run
                 WHERE dag_id = ?1 AND run_id = ?2 ORDER BY seq",
            )
            .map_err(|e| self.error(e))?;
        let rows = query
            .query_map(params![dag_id, run_id], |row| {
                Ok(TaskInstanceRecord {
                    task_id: row.get(0)?,
                    map_index: map_index_of(row.get(1)?),
                    state: task_state(&row.get::<_, String>(2)?),
                    try_number: row.get(3)?,
                    start_date: date_of(row.get(4)?),
                    end_date: date_of(row.get(5)?),
                    error: row.get(6)?,
                    pool: row.get(7)?,
                    priority_weight: row.get(8)?,
                })
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.error(e))
    }

    fn tries(
        &self,
        dag_id: &str,
        run_id: &str,
        task_id: &str,
        map_index: Option<u32>,
    ) -> Result<Vec<TryRecord>> {
        let inner = self.lock();
        let mut query = inner
            .connection
            .prepare(
                "SELECT try_number, tt.state, tt.start_date, tt.end_date, error
                 FROM task_try AS tt JOIN dag_run ON dag_run.id = tt.run
                 WHERE dag_id = ?1 AND run_id = ?2 AND task_id = ?3 AND map_index = ?4
                 ORDER BY try_number",
            )
            .map_err(|e| self.error(e))?;
        let rows = query
            .query_map(
                params![dag_id, run_id, task_id, map_index_column(map_index)],
                |row| {
                    Ok(TryRecord {
                        try_number: row.get(0)?,
                        state: task_state(&row.get::<_, String>(1)?),
                        start_date: date_of(row.get(2)?),
                        end_date: date_of(row.get(3)?),
                        error: row.get(4)?,
                    })
                },
            )
            .map_err(|e| self.error(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.error(e))
    }

    fn xcom_json(
        &self,
        dag_id: &str,
        run_id: &str,
        task_id: &str,
        map_index: Option<u32>,
    ) -> Result<Option<serde_json::Value>> {
        let inner = self.lock();
        let text: Option<String> = inner
            .connection
            .query_row(
                "SELECT value FROM xcom JOIN dag_run ON dag_run.id = xcom.run
                 WHERE dag_id = ?1 AND run_id = ?2 AND task_id = ?3 AND map_index = ?4
                     AND key = 'return_value'",
                params![dag_id, run_id, task_id, map_index_column(map_index)],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.error(e))?;
        text.map(|text| {
            serde_json::from_str(&text).map_err(|error| Error::Store {
                path: self.path.display().to_string(),
                reason: format!("the stored value of task `{task_id}` is not JSON: {error}"),
            })
        })
        .transpose()
    }
}

fn run_state(text: &str) -> DagRunState {
    match text {
        "success" => DagRunState::Success,
        "failed" => DagRunState::Failed,
        _ => DagRunState::Running,
    }
}

fn task_state(text: &str) -> TaskState {
    TaskState::from_name(text).unwrap_or(TaskState::None)
}

/// A task instance of a batch: DAG, run, task, map index.
type InstanceKey<'a> = (&'a str, &'a str, &'a str, Option<u32>);

/// Writes `changes` in one transaction. Of the changes of one task instance in the batch,
/// only its last state is written to its row, and for each try only the last change that
/// ends it (a try's row has its start and end from that change): a batch of a busy run
/// writes each instance about once.
fn write_batch(inner: &mut Inner, changes: &[Change]) -> rusqlite::Result<()> {
    let mut last_state: HashMap<InstanceKey<'_>, usize> = HashMap::new();
    let mut last_try: HashMap<(InstanceKey<'_>, u32), usize> = HashMap::new();
    for (at, change) in changes.iter().enumerate() {
        if let Change::TaskInstance(ti) = change {
            let key = (&*ti.dag_id, &*ti.run_id, &*ti.task_id, ti.map_index);
            last_state.insert(key, at);
            if ends_try(ti) {
                last_try.insert((key, ti.try_number), at);
            }
        }
    }
    let Inner {
        connection,
        runs,
        seq,
    } = inner;
    let transaction = connection.transaction()?;
    for (at, change) in changes.iter().enumerate() {
        match change {
            Change::DagRun(run) => {
                let id: i64 = transaction
                    .prepare_cached(
                        "INSERT INTO dag_run (dag_id, run_id, logical_date, state, start_date, end_date)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                         ON CONFLICT (dag_id, run_id) DO UPDATE SET
                             state = excluded.state, end_date = excluded.end_date
                         RETURNING id",
                    )?
                    .query_row(
                        params![
                            &*run.dag_id,
                            &*run.run_id,
                            run.logical_date.timestamp_micros(),
                            run.state.as_str(),
                            run.start_date.timestamp_micros(),
                            date_column(run.end_date),
                        ],
                        |row| row.get(0),
                    )?;
                runs.entry(run.dag_id.to_string())
                    .or_default()
                    .insert(run.run_id.to_string(), id);
            }
            Change::TaskInstance(ti) => {
                let key = (&*ti.dag_id, &*ti.run_id, &*ti.task_id, ti.map_index);
                let writes_try = last_try.get(&(key, ti.try_number)) == Some(&at);
                let writes_state = last_state.get(&key) == Some(&at);
                if !writes_try && !writes_state {
                    continue;
                }
                let run = run_row(&transaction, runs, &ti.dag_id, &ti.run_id)?;
                let map_index = map_index_column(ti.map_index);
                if writes_try {
                    transaction
                        .prepare_cached(
                            "INSERT INTO task_try (run, task_id, map_index, try_number, state,
                                 start_date, end_date, error)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                             ON CONFLICT (run, task_id, map_index, try_number) DO UPDATE SET
                                 state = excluded.state,
                                 start_date = coalesce(start_date, excluded.start_date),
                                 end_date = excluded.end_date, error = excluded.error",
                        )?
                        .execute(params![
                            run,
                            &*ti.task_id,
                            map_index,
                            ti.try_number,
                            ti.state.as_str(),
                            date_column(ti.start_date),
                            date_column(ti.end_date),
                            ti.error.as_deref(),
                        ])?;
                }
                if writes_state {
                    *seq += 1;
                    transaction
                        .prepare_cached(
                            "INSERT INTO task_instance (run, task_id, map_index, seq, state,
                                 try_number, start_date, end_date, error, pool, priority_weight)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                             ON CONFLICT (run, task_id, map_index) DO UPDATE SET
                                 state = excluded.state, try_number = excluded.try_number,
                                 start_date = coalesce(excluded.start_date, start_date),
                                 end_date = excluded.end_date, error = excluded.error",
                        )?
                        .execute(params![
                            run,
                            &*ti.task_id,
                            map_index,
                            *seq,
                            ti.state.as_str(),
                            ti.try_number,
                            date_column(ti.start_date),
                            date_column(ti.end_date),
                            ti.error.as_deref(),
                            &*ti.pool,
                            ti.priority_weight,
                        ])?;
                }
            }
            Change::XcomValue {
                dag_id,
                run_id,
                task_id,
                map_index,
                key,
                value,
            } => {
                let run = run_row(&transaction, runs, dag_id, run_id)?;
                transaction
                    .prepare_cached(
                        "INSERT INTO xcom (run, task_id, map_index, key, value)
                         VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (run, task_id, map_index, key) DO UPDATE SET
                             value = excluded.value",
                    )?
                    .execute(params![
                        run,
                        task_id,
                        map_index_column(*map_index),
                        key,
                        value.to_string(),
                    ])?;
            }
        }
    }
    transaction.commit()
}

/// The row of DAG run `run_id` of `dag_id`: cached, or read (it was written before any of
/// its task instances).
fn run_row(
    transaction: &rusqlite::Transaction<'_>,
    runs: &mut HashMap<String, HashMap<String, i64>>,
    dag_id: &str,
    run_id: &str,
) -> rusqlite::Result<i64> {
    if let Some(&id) = runs.get(dag_id).and_then(|of_dag| of_dag.get(run_id)) {
        return Ok(id);
    }
    let id = transaction
        .prepare_cached("SELECT id FROM dag_run WHERE dag_id = ?1 AND run_id = ?2")?
        .query_row(params![dag_id, run_id], |row| row.get(0))?;
    runs.entry(dag_id.to_owned())
        .or_default()
        .insert(run_id.to_owned(), id);
    Ok(id)
}
