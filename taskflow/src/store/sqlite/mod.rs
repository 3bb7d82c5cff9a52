//! [`SqliteStore`]: runs kept in one SQLite file, with a versioned schema, in WAL mode.

mod log;
mod schedule;
mod schema;
mod write;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::large::{DEFAULT_LARGE_VALUE, Place};
use super::{
    BackfillRecord, Change, DagRunRecord, Store, StoredInstance, StoredRun, TaskInstanceRecord,
    TryRecord,
};
use crate::{DagRunState, Error, Result, TaskState};
use schema::{MIGRATIONS, SCHEMA_VERSION};

/// A map with a fast hasher, for the many rows of a stored run.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The mark in a store's file header that tells it from other SQLite databases
/// (`PRAGMA application_id`: "tflw").
const APPLICATION_ID: i32 = 0x7466_6c77;

/// What an interrupted try's row says.
const INTERRUPTED: &str = "interrupted: the process running the try ended while it ran";

/// Runs kept in one SQLite file (SQLite is bundled: nothing to install).
///
/// [`SqliteStore::open`] creates the file, or opens one written before (migrating an older
/// schema). A file that is not a SQLite database, a database of another application, or one
/// written by a newer version is an error that says so; nothing is reset. The file is in
/// WAL mode: several processes may open one store; writes take turns.
///
/// A write keeps each run's changes as one entry of a change log, folded into the tables of
/// task instances, tries and values afterwards: while its writer has nothing else to do, and
/// by any read of a run before it reads. [`SqliteStore::fold_change_log`] folds the rest, for
/// reading the file with other tools.
///
/// See [`crate::store`] for an example.
pub struct SqliteStore {
    inner: Mutex<Inner>,
    path: PathBuf,
    large: Large,
}

/// Where values above a size are kept, instead of in the database.
#[derive(Debug, Clone)]
pub(super) struct Large {
    /// Bytes of JSON above which a value is kept at `place`.
    pub(super) threshold: u64,
    pub(super) place: Place,
}

/// The connection, and what writing through it keeps at hand.
struct Inner {
    connection: Connection,
    /// The row of each DAG run written or read, by DAG id and run id.
    runs: HashMap<(String, String), i64>,
    /// The numbers of each DAG's tasks written or read.
    tasks: HashMap<String, write::DagTasks>,
    /// The numbers of tasks by where the ids of their runs' changes are.
    shared_tasks: write::SharedTasks,
    /// About how many bytes this connection's writes left in the change log, unfolded.
    unfolded: usize,
}

/// Bytes of change log entries a store lets wait to be folded: past them, a write folds the
/// oldest entries itself, so that a writer that is never idle does not grow the log without
/// end.
const MAX_UNFOLDED: usize = 64 * 1024 * 1024;

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
        let mut folder = path.clone().into_os_string();
        folder.push(".values");
        let store = Self {
            inner: Mutex::new(Inner {
                connection,
                runs: HashMap::new(),
                tasks: HashMap::new(),
                shared_tasks: write::SharedTasks::default(),
                unfolded: 0,
            }),
            path,
            large: Large {
                threshold: DEFAULT_LARGE_VALUE,
                place: Place::Folder(folder.into()),
            },
        };
        store.prepare().map_err(fail)?;
        Ok(store)
    }

    /// Where the store is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Keeps values whose JSON is longer than `bytes` out of the database, as objects of
    /// their own (default: [`DEFAULT_LARGE_VALUE`], 1 MiB; `u64::MAX` keeps every value in
    /// the database). Reading one back is the same as reading any other.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")] {
    /// use std::sync::Arc;
    /// use taskflow::prelude::*;
    /// use taskflow::store::{SqliteStore, Store};
    ///
    /// #[task]
    /// fn rows() -> Vec<u32> {
    ///     (0..1000).collect()
    /// }
    ///
    /// let dir = std::env::temp_dir().join(format!("taskflow-large-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let store = SqliteStore::open(dir.join("runs.db"))?
    ///     .large_value_threshold(1024)
    ///     .large_values_in(dir.join("values"));
    /// let store = Arc::new(store);
    /// let dag = Dag::build("large", || {
    ///     rows();
    /// })?;
    /// dag.test_with(RunOptions::new().log(false).run_id("r").store(store.clone()))?;
    /// let rows: Vec<u32> = store.xcom("large", "r", "rows", None)?.unwrap();
    /// assert_eq!(rows.len(), 1000);
    /// assert!(dir.join("values/large/r/rows/-/return_value.json").exists());
    /// # std::fs::remove_dir_all(&dir)?;
    /// # }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn large_value_threshold(mut self, bytes: u64) -> Self {
        self.large.threshold = bytes;
        self
    }

    /// Keeps large values as files in `folder` (default: the store's file name with
    /// `.values` added, beside it).
    pub fn large_values_in(mut self, folder: impl Into<PathBuf>) -> Self {
        self.large.place = Place::Folder(folder.into());
        self
    }

    /// Keeps large values as objects of `store` under `prefix` (S3 and friends: build the
    /// store with the `object_store` crate, re-exported as `taskflow::object_store`).
    #[cfg(feature = "object-store")]
    #[cfg_attr(docsrs, doc(cfg(feature = "object-store")))]
    pub fn large_values_in_objects(
        mut self,
        store: std::sync::Arc<dyn object_store::ObjectStore>,
        prefix: impl Into<String>,
    ) -> Self {
        self.large.place = Place::Objects {
            store,
            prefix: prefix.into(),
        };
        self
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
        // The pages of the runs being written stay in memory (64 MiB at most).
        connection
            .pragma_update(None, "cache_size", -65536)
            .map_err(not_a_store)?;
        // Checkpoints (copying the write-ahead log into the file, with two syncs) happen
        // when the store is idle (`catch_up`) or folded, not in the middle of a run's
        // writes, unless the log grows past this many pages.
        connection
            .pragma_update(None, "wal_autocheckpoint", WAL_CHECKPOINT_PAGES)
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

    /// Folds the whole change log into the tables now. A store's own readers fold what they
    /// read as they read it, and its writer folds the rest while it has nothing else to do;
    /// call this before reading the file with other tools.
    ///
    /// ```
    /// # use taskflow::store::SqliteStore;
    /// # let folder = std::env::temp_dir().join(format!("fold-{}", std::process::id()));
    /// # std::fs::create_dir_all(&folder).unwrap();
    /// let store = SqliteStore::open(folder.join("runs.db"))?;
    /// store.fold_change_log()?;
    /// # std::fs::remove_dir_all(&folder).unwrap();
    /// # Ok::<(), taskflow::Error>(())
    /// ```
    pub fn fold_change_log(&self) -> Result<()> {
        let mut inner = self.lock();
        while self.fold_oldest(&mut inner).map_err(|e| self.error(e))? {}
        checkpoint(&inner.connection).map_err(|e| self.error(e))
    }

    /// Folds the change log's entries of run `run_id` of `dag_id` into the tables, so that
    /// what reads the run next reads all of it.
    fn fold_run(&self, connection: &Connection, dag_id: &str, run_id: &str) -> Result<()> {
        let fold = || -> rusqlite::Result<()> {
            let pending: Option<i64> = connection
                .prepare_cached(
                    "SELECT run FROM change_log
                     WHERE run = (SELECT id FROM dag_run WHERE dag_id = ?1 AND run_id = ?2)
                     LIMIT 1",
                )?
                .query_row(params![dag_id, run_id], |row| row.get(0))
                .optional()?;
            let Some(run) = pending else {
                return Ok(());
            };
            let transaction =
                Transaction::new_unchecked(connection, TransactionBehavior::Immediate)?;
            log::fold_run(&transaction, run)?;
            transaction.commit()
        };
        fold().map_err(|e| self.error(e))
    }

    /// Folds the oldest change log entries into the tables; whether more are left.
    fn fold_oldest(&self, inner: &mut Inner) -> rusqlite::Result<bool> {
        let transaction =
            Transaction::new_unchecked(&inner.connection, TransactionBehavior::Immediate)?;
        let (folded, more) = log::fold_oldest(&transaction)?;
        transaction.commit()?;
        inner.unfolded = if more {
            inner.unfolded.saturating_sub(folded)
        } else {
            0
        };
        Ok(more)
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

/// The pages the write-ahead log grows to before a write checkpoints it (64 MiB of 4 KiB
/// pages); below that, checkpoints wait for the store to be idle.
const WAL_CHECKPOINT_PAGES: i64 = 16384;

/// Copies what the write-ahead log holds into the database file, as far as readers allow
/// (SQLite's passive checkpoint).
fn checkpoint(connection: &Connection) -> rusqlite::Result<()> {
    connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

/// A map path as the store keeps it: its indexes joined by `.`, empty for none.
fn path_column(path: &[u32]) -> String {
    let mut text = String::new();
    for (at, index) in path.iter().enumerate() {
        if at > 0 {
            text.push('.');
        }
        text.push_str(&index.to_string());
    }
    text
}

fn path_of(column: &str) -> Vec<u32> {
    column
        .split('.')
        .filter(|part| !part.is_empty())
        .filter_map(|part| part.parse().ok())
        .collect()
}

/// A map index as the store keeps it: `-1` for none, as in Airflow.
fn map_index_column(path: &[u32]) -> i64 {
    path.last().map_or(-1, |&index| i64::from(index))
}

/// The map path the readers by map index look for.
fn path_of_index(map_index: Option<u32>) -> String {
    map_index.map_or_else(String::new, |index| index.to_string())
}

fn date_of(column: Option<i64>) -> Option<DateTime<Utc>> {
    column.and_then(DateTime::from_timestamp_micros)
}

fn run_state(text: &str) -> DagRunState {
    match text {
        "success" => DagRunState::Success,
        "failed" => DagRunState::Failed,
        "queued" => DagRunState::Queued,
        _ => DagRunState::Running,
    }
}

fn task_state(text: &str) -> TaskState {
    TaskState::from_name(text).unwrap_or(TaskState::None)
}

/// The columns [`run_record`] reads, in its order.
const RUN_COLUMNS: &str = "logical_date, state, start_date, end_date, run_type, params,
    data_interval_start, data_interval_end, run_after, backfill_id";

/// A [`DagRunRecord`] from the columns of `row` from `first` on: logical date, state, start,
/// end, run type, params.
fn run_record(
    dag_id: &str,
    run_id: String,
    row: &rusqlite::Row<'_>,
    first: usize,
) -> rusqlite::Result<DagRunRecord> {
    let params: String = row.get(first + 5)?;
    Ok(DagRunRecord {
        dag_id: dag_id.to_owned(),
        run_id,
        logical_date: date_of(Some(row.get(first)?)).unwrap_or_default(),
        state: run_state(&row.get::<_, String>(first + 1)?),
        start_date: date_of(row.get(first + 2)?),
        end_date: date_of(row.get(first + 3)?),
        run_type: row.get(first + 4)?,
        params: serde_json::from_str(&params).unwrap_or_default(),
        data_interval_start: date_of(row.get(first + 6)?),
        data_interval_end: date_of(row.get(first + 7)?),
        run_after: date_of(row.get(first + 8)?),
        backfill_id: row.get(first + 9)?,
    })
}

impl SqliteStore {
    /// The row of run `run_id` of `dag_id`, with its record and the DAG's fingerprint then.
    fn run_record(
        &self,
        connection: &Connection,
        dag_id: &str,
        run_id: &str,
    ) -> Result<Option<(i64, DagRunRecord, Option<String>)>> {
        connection
            .query_row(
                &format!(
                    "SELECT id, fingerprint, {RUN_COLUMNS}
                     FROM dag_run WHERE dag_id = ?1 AND run_id = ?2"
                ),
                params![dag_id, run_id],
                |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        run_record(dag_id, run_id.to_owned(), row, 2)?,
                        row.get::<_, Option<String>>(1)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.error(e))
    }

    /// The row of run `run_id` of `dag_id` and the number of task `task_id`, if both are
    /// there.
    fn instance_ids(
        &self,
        connection: &Connection,
        (dag_id, run_id, task_id): (&str, &str, &str),
    ) -> Result<Option<(i64, i64)>> {
        connection
            .query_row(
                "SELECT dag_run.id, dag_task.task FROM dag_run
                 JOIN dag_task ON dag_task.dag_id = dag_run.dag_id AND dag_task.task_id = ?3
                 WHERE dag_run.dag_id = ?1 AND dag_run.run_id = ?2",
                params![dag_id, run_id, task_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(|e| self.error(e))
    }

    /// The stored JSON `text` of a value of `task_id`, or the large value at `location`.
    fn json(
        &self,
        task_id: &str,
        text: String,
        location: Option<String>,
    ) -> Result<serde_json::Value> {
        let text = match location {
            None => text,
            Some(location) => self
                .large
                .place
                .get(&location)
                .map_err(|error| Error::Store {
                    path: self.path.display().to_string(),
                    reason: format!(
                        "the large value of task `{task_id}` kept at {:?} cannot be read: {error}",
                        self.large.place
                    ),
                })?,
        };
        serde_json::from_str(&text).map_err(|error| self.not_json(task_id, &error))
    }

    /// The error of a stored value of `task_id` that is not JSON.
    fn not_json(&self, task_id: &str, error: &serde_json::Error) -> Error {
        Error::Store {
            path: self.path.display().to_string(),
            reason: format!("the stored value of task `{task_id}` is not JSON: {error}"),
        }
    }
}

/// Collects the rows of `query` with `read`, the errors as the store's.
fn collect<T>(
    store: &SqliteStore,
    query: &mut rusqlite::Statement<'_>,
    params: impl rusqlite::Params,
    read: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    query
        .query_map(params, read)
        .map_err(|e| store.error(e))?
        .collect::<rusqlite::Result<_>>()
        .map_err(|e| store.error(e))
}

impl Store for SqliteStore {
    fn write(&self, changes: &[Change]) -> Result<()> {
        let mut inner = self.lock();
        let written = write::write_batch(&mut inner, &self.large, changes);
        let logged = match written {
            Ok(logged) => logged,
            Err(error) => {
                // Rows of the rolled-back transaction may be cached.
                inner.runs.clear();
                inner.tasks.clear();
                inner.shared_tasks.clear();
                return Err(self.error(error));
            }
        };
        inner.unfolded += logged;
        while inner.unfolded > MAX_UNFOLDED {
            if !self.fold_oldest(&mut inner).map_err(|e| self.error(e))? {
                break;
            }
        }
        Ok(())
    }

    fn catch_up(&self) -> Result<bool> {
        let mut inner = self.lock();
        let more = self.fold_oldest(&mut inner).map_err(|e| self.error(e))?;
        if !more {
            checkpoint(&inner.connection).map_err(|e| self.error(e))?;
        }
        Ok(more)
    }

    fn dag_run(&self, dag_id: &str, run_id: &str) -> Result<Option<DagRunRecord>> {
        let inner = self.lock();
        Ok(self
            .run_record(&inner.connection, dag_id, run_id)?
            .map(|(_, run, _)| run))
    }

    fn create_dag_run(&self, run: &DagRunRecord) -> Result<bool> {
        self.create_run(run)
    }

    fn dag_runs_in_state(&self, state: DagRunState) -> Result<Vec<DagRunRecord>> {
        self.runs_in_state(state)
    }

    fn last_automated_run(&self, dag_id: &str) -> Result<Option<DagRunRecord>> {
        self.last_automated(dag_id)
    }

    fn set_paused(&self, dag_id: &str, paused: bool) -> Result<()> {
        self.pause(dag_id, paused)
    }

    fn is_paused(&self, dag_id: &str) -> Result<bool> {
        self.paused(dag_id)
    }

    fn create_backfill(
        &self,
        backfill: &BackfillRecord,
        runs: &[DagRunRecord],
        requeued: &[String],
    ) -> Result<i64> {
        self.add_backfill(backfill, runs, requeued)
    }

    fn backfills(&self, dag_id: &str) -> Result<Vec<BackfillRecord>> {
        self.backfills_of(dag_id)
    }

    fn complete_backfill(&self, id: i64, at: DateTime<Utc>) -> Result<()> {
        self.backfill_completed(id, at)
    }

    fn dag_runs(&self, dag_id: &str, limit: usize, offset: usize) -> Result<Vec<DagRunRecord>> {
        let inner = self.lock();
        let mut query = inner
            .connection
            .prepare_cached(&format!(
                "SELECT run_id, {RUN_COLUMNS}
                 FROM dag_run
                 WHERE dag_id = ?1 ORDER BY logical_date DESC, run_id DESC LIMIT ?2 OFFSET ?3"
            ))
            .map_err(|e| self.error(e))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        collect(self, &mut query, params![dag_id, limit, offset], |row| {
            run_record(dag_id, row.get(0)?, row, 1)
        })
    }

    fn task_instances(&self, dag_id: &str, run_id: &str) -> Result<Vec<TaskInstanceRecord>> {
        let inner = self.lock();
        self.fold_run(&inner.connection, dag_id, run_id)?;
        let mut query = inner
            .connection
            .prepare_cached(
                "SELECT dt.task_id, ti.map_path, ti.state, ti.try_number, ti.start_date,
                     ti.end_date, ti.error, ti.pool, ti.priority_weight
                 FROM task_instance AS ti
                 JOIN dag_run ON dag_run.id = ti.run
                 JOIN dag_task AS dt ON dt.dag_id = dag_run.dag_id AND dt.task = ti.task
                 WHERE dag_run.dag_id = ?1 AND dag_run.run_id = ?2
                 ORDER BY ti.task, ti.map_index, ti.map_path",
            )
            .map_err(|e| self.error(e))?;
        collect(self, &mut query, params![dag_id, run_id], |row| {
            let map_path = path_of(&row.get::<_, String>(1)?);
            Ok(TaskInstanceRecord {
                task_id: row.get(0)?,
                map_index: map_path.last().copied(),
                map_path,
                state: task_state(&row.get::<_, String>(2)?),
                try_number: row.get(3)?,
                start_date: date_of(row.get(4)?),
                end_date: date_of(row.get(5)?),
                error: row.get(6)?,
                pool: row.get(7)?,
                priority_weight: row.get(8)?,
            })
        })
    }

    fn tries(
        &self,
        dag_id: &str,
        run_id: &str,
        task_id: &str,
        map_index: Option<u32>,
    ) -> Result<Vec<TryRecord>> {
        let inner = self.lock();
        let connection = &inner.connection;
        self.fold_run(connection, dag_id, run_id)?;
        let Some((run, task)) = self.instance_ids(connection, (dag_id, run_id, task_id))? else {
            return Ok(Vec::new());
        };
        // The tries kept on their own, and the instance's latest one if it is not among them.
        let mut query = connection
            .prepare_cached(
                "SELECT try_number, state, start_date, end_date, error, interrupted
                 FROM task_try WHERE run = ?1 AND task = ?2 AND map_path = ?3
                 UNION ALL
                 SELECT try_number, state, start_date, end_date, error, 0
                 FROM task_instance AS ti
                 WHERE run = ?1 AND task = ?2 AND map_path = ?3 AND try_number > 0
                     AND NOT EXISTS (SELECT 1 FROM task_try AS tt WHERE tt.run = ti.run
                         AND tt.task = ti.task AND tt.map_path = ti.map_path
                         AND tt.try_number = ti.try_number)
                 ORDER BY 1",
            )
            .map_err(|e| self.error(e))?;
        collect(
            self,
            &mut query,
            params![run, task, path_of_index(map_index)],
            |row| {
                Ok(TryRecord {
                    try_number: row.get(0)?,
                    state: task_state(&row.get::<_, String>(1)?),
                    start_date: date_of(row.get(2)?),
                    end_date: date_of(row.get(3)?),
                    error: row.get(4)?,
                    interrupted: row.get(5)?,
                })
            },
        )
    }

    fn xcom_json(
        &self,
        dag_id: &str,
        run_id: &str,
        task_id: &str,
        map_index: Option<u32>,
    ) -> Result<Option<serde_json::Value>> {
        let inner = self.lock();
        let connection = &inner.connection;
        self.fold_run(connection, dag_id, run_id)?;
        let Some((run, task)) = self.instance_ids(connection, (dag_id, run_id, task_id))? else {
            return Ok(None);
        };
        let text: Option<(String, Option<String>)> = connection
            .query_row(
                "SELECT value, value_location FROM task_instance
                 WHERE run = ?1 AND task = ?2 AND map_path = ?3 AND value IS NOT NULL",
                params![run, task, path_of_index(map_index)],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(|e| self.error(e))?;
        text.map(|(text, location)| self.json(task_id, text, location))
            .transpose()
    }

    fn load_run(&self, dag_id: &str, run_id: &str) -> Result<Option<StoredRun>> {
        let inner = self.lock();
        let connection = &inner.connection;
        self.fold_run(connection, dag_id, run_id)?;
        let Some((run_row, run, fingerprint)) = self.run_record(connection, dag_id, run_id)? else {
            return Ok(None);
        };
        // The DAG's task ids by number, read once rather than joined to every row.
        let mut names: FastMap<i64, String> = FastMap::default();
        {
            let mut query = connection
                .prepare_cached("SELECT task, task_id FROM dag_task WHERE dag_id = ?1")
                .map_err(|e| self.error(e))?;
            let mut rows = query.query([dag_id]).map_err(|e| self.error(e))?;
            while let Some(row) = rows.next().map_err(|e| self.error(e))? {
                let get = |error| self.error(error);
                names.insert(row.get(0).map_err(get)?, row.get(1).map_err(get)?);
            }
        }
        // About one instance per task.
        let mut instances: Vec<StoredInstance> = Vec::with_capacity(names.len());
        // The task number of each instance.
        let mut numbers: Vec<i64> = Vec::with_capacity(names.len());
        {
            // In key order: tasks are numbered as they are first written.
            let mut query = connection
                .prepare_cached(
                    "SELECT task, map_path, state, try_number, error, clear_base, value,
                         value_type, value_location
                     FROM task_instance WHERE run = ?1",
                )
                .map_err(|e| self.error(e))?;
            let mut rows = query.query(params![run_row]).map_err(|e| self.error(e))?;
            while let Some(row) = rows.next().map_err(|e| self.error(e))? {
                let get = |error| self.error(error);
                let number: i64 = row.get(0).map_err(get)?;
                let Some(task_id) = names.get(&number).cloned() else {
                    continue; // a row whose task is not numbered (a store written by hand)
                };
                // Text columns are read in place, without a copy, where they may be.
                let text = |at: usize| match row.get_ref(at) {
                    Ok(rusqlite::types::ValueRef::Text(text)) => Some(text),
                    _ => None,
                };
                let map_path = text(1).map_or_else(Vec::new, |path| {
                    path_of(std::str::from_utf8(path).unwrap_or_default())
                });
                let state = text(2).map_or(TaskState::None, |state| {
                    task_state(std::str::from_utf8(state).unwrap_or_default())
                });
                let try_number: u32 = row.get(3).map_err(get)?;
                let value = match text(6) {
                    Some(json) => {
                        let value = match text(8) {
                            None => serde_json::from_slice(json)
                                .map_err(|error| self.not_json(&task_id, &error))?,
                            Some(location) => {
                                let location = String::from_utf8_lossy(location).into_owned();
                                self.json(&task_id, String::new(), Some(location))?
                            }
                        };
                        let type_name = text(7).map(String::from_utf8_lossy).unwrap_or_default();
                        Some((type_name.into_owned(), value))
                    }
                    None => None,
                };
                numbers.push(number);
                instances.push(StoredInstance {
                    task_id,
                    map_path,
                    state,
                    try_number,
                    uncounted_tries: row.get(5).map_err(get)?,
                    interrupted: 0,
                    running_try: (state == TaskState::Running && try_number > 0)
                        .then_some(try_number),
                    error: text(4).map(|error| String::from_utf8_lossy(error).into_owned()),
                    value,
                    pushes: Vec::new(),
                });
            }
        }
        // Where each instance is in `instances`, by task number and map path: made only if
        // some try was interrupted or some value pushed.
        let mut at: Option<FastMap<(i64, String), usize>> = None;
        let mut index = |key: &(i64, String), instances: &[StoredInstance]| {
            at.get_or_insert_with(|| {
                instances
                    .iter()
                    .zip(&numbers)
                    .enumerate()
                    .map(|(index, (instance, &number))| {
                        ((number, path_column(&instance.map_path)), index)
                    })
                    .collect()
            })
            .get(key)
            .copied()
        };
        {
            // Interrupted tries since each instance was last cleared; one that is its latest
            // try was counted before (the run resumed, and ended again before it ran).
            let mut query = connection
                .prepare_cached(
                    "SELECT tt.task, tt.map_path, tt.try_number FROM task_try AS tt
                     JOIN task_instance AS ti
                         ON ti.run = tt.run AND ti.task = tt.task AND ti.map_path = tt.map_path
                     WHERE tt.run = ?1 AND tt.interrupted AND tt.try_number > ti.clear_base",
                )
                .map_err(|e| self.error(e))?;
            let mut rows = query.query([run_row]).map_err(|e| self.error(e))?;
            while let Some(row) = rows.next().map_err(|e| self.error(e))? {
                let get = |error| self.error(error);
                let key: (i64, String) = (row.get(0).map_err(get)?, row.get(1).map_err(get)?);
                let try_number: u32 = row.get(2).map_err(get)?;
                if let Some(at) = index(&key, &instances) {
                    let instance = &mut instances[at];
                    instance.interrupted += 1;
                    if instance.running_try == Some(try_number) {
                        instance.running_try = None;
                    }
                }
            }
        }
        {
            let mut query = connection
                .prepare_cached(
                    "SELECT task, map_path, key, type_name, value, location FROM xcom
                     WHERE run = ?1",
                )
                .map_err(|e| self.error(e))?;
            let mut rows = query.query([run_row]).map_err(|e| self.error(e))?;
            while let Some(row) = rows.next().map_err(|e| self.error(e))? {
                let get = |error| self.error(error);
                let key: (i64, String) = (row.get(0).map_err(get)?, row.get(1).map_err(get)?);
                // A value whose instance row is not there (a store written by hand).
                let Some(at) = index(&key, &instances) else {
                    continue;
                };
                let text: String = row.get(4).map_err(get)?;
                let location: Option<String> = row.get(5).map_err(get)?;
                let value = self.json(&instances[at].task_id, text, location)?;
                let push = (row.get(2).map_err(get)?, row.get(3).map_err(get)?, value);
                instances[at].pushes.push(push);
            }
        }
        for instance in &mut instances {
            instance.uncounted_tries += instance.interrupted;
        }
        Ok(Some(StoredRun {
            run,
            fingerprint,
            instances,
        }))
    }
}

#[cfg(test)]
mod tests;
