//! [`SqliteStore`]: runs kept in one SQLite file, with a versioned schema, in WAL mode.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::large::{DEFAULT_LARGE_VALUE, Place, value_key};
use super::{
    Change, DagRunRecord, Store, StoredInstance, StoredRun, TaskInstanceRecord, TryRecord,
};
use crate::events::TaskInstanceEvent;
use crate::{DagRunState, Error, Result, TaskState};

/// The mark in a store's file header that tells it from other SQLite databases
/// (`PRAGMA application_id`: "tflw").
const APPLICATION_ID: i32 = 0x7466_6c77;

/// The schema this version writes; older ones are migrated, newer ones refused.
const SCHEMA_VERSION: i32 = 2;

/// Each migration, from the schema before it: `MIGRATIONS[0]` makes version 1.
const MIGRATIONS: &[&str] = &[SCHEMA_1, SCHEMA_2];

/// The first schema: runs, task instances, tries and values.
const SCHEMA_1: &str = "
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
";

/// The second: instances keyed by their map path (mapped groups nest), the run's type,
/// params and DAG fingerprint, interrupted tries, the tries a clear leaves uncounted, and
/// the type of each value.
const SCHEMA_2: &str = "
    ALTER TABLE dag_run ADD COLUMN run_type TEXT NOT NULL DEFAULT 'manual';
    ALTER TABLE dag_run ADD COLUMN params TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE dag_run ADD COLUMN fingerprint TEXT;
    CREATE TABLE dag (
        dag_id TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE task_instance_2 (
        run INTEGER NOT NULL REFERENCES dag_run (id),
        task_id TEXT NOT NULL,
        map_path TEXT NOT NULL,
        map_index INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        state TEXT NOT NULL,
        try_number INTEGER NOT NULL,
        start_date INTEGER,
        end_date INTEGER,
        error TEXT,
        pool TEXT NOT NULL,
        priority_weight INTEGER NOT NULL,
        clear_base INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (run, task_id, map_path)
    ) WITHOUT ROWID;
    INSERT INTO task_instance_2 (run, task_id, map_path, map_index, seq, state, try_number,
            start_date, end_date, error, pool, priority_weight)
        SELECT run, task_id, CASE WHEN map_index < 0 THEN '' ELSE map_index END, map_index,
            seq, state, try_number, start_date, end_date, error, pool, priority_weight
        FROM task_instance;
    DROP TABLE task_instance;
    ALTER TABLE task_instance_2 RENAME TO task_instance;
    CREATE TABLE task_try_2 (
        run INTEGER NOT NULL REFERENCES dag_run (id),
        task_id TEXT NOT NULL,
        map_path TEXT NOT NULL,
        try_number INTEGER NOT NULL,
        state TEXT NOT NULL,
        start_date INTEGER,
        end_date INTEGER,
        error TEXT,
        interrupted INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (run, task_id, map_path, try_number)
    ) WITHOUT ROWID;
    INSERT INTO task_try_2 (run, task_id, map_path, try_number, state, start_date, end_date,
            error)
        SELECT run, task_id, CASE WHEN map_index < 0 THEN '' ELSE map_index END, try_number,
            state, start_date, end_date, error
        FROM task_try;
    DROP TABLE task_try;
    ALTER TABLE task_try_2 RENAME TO task_try;
    CREATE TABLE xcom_2 (
        run INTEGER NOT NULL REFERENCES dag_run (id),
        task_id TEXT NOT NULL,
        map_path TEXT NOT NULL,
        key TEXT NOT NULL,
        type_name TEXT NOT NULL,
        value TEXT NOT NULL,
        location TEXT,
        PRIMARY KEY (run, task_id, map_path, key)
    ) WITHOUT ROWID;
    INSERT INTO xcom_2 (run, task_id, map_path, key, type_name, value)
        SELECT run, task_id, CASE WHEN map_index < 0 THEN '' ELSE map_index END, key, '', value
        FROM xcom;
    DROP TABLE xcom;
    ALTER TABLE xcom_2 RENAME TO xcom;
";

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
    large: Large,
}

/// Where values above a size are kept, instead of in the database.
#[derive(Debug, Clone)]
struct Large {
    /// Bytes of JSON above which a value is kept at `place`.
    threshold: u64,
    place: Place,
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
        let mut folder = path.clone().into_os_string();
        folder.push(".values");
        let store = Self {
            inner: Mutex::new(Inner {
                connection,
                runs: HashMap::new(),
                seq: 0,
            }),
            path,
            large: Large {
                threshold: DEFAULT_LARGE_VALUE,
                place: Place::Folder(folder.into()),
            },
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

/// What an interrupted try's row says.
const INTERRUPTED: &str = "interrupted: the process running the try ended while it ran";

impl SqliteStore {
    /// The row of run `run_id` of `dag_id`, with its record.
    fn run_record(
        &self,
        connection: &Connection,
        dag_id: &str,
        run_id: &str,
    ) -> Result<Option<(i64, DagRunRecord, Option<String>)>> {
        connection
            .query_row(
                "SELECT id, logical_date, state, start_date, end_date, run_type, params, fingerprint
                 FROM dag_run WHERE dag_id = ?1 AND run_id = ?2",
                params![dag_id, run_id],
                |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        run_record(dag_id, run_id.to_owned(), row, 1)?,
                        row.get::<_, Option<String>>(7)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.error(e))
    }
}

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
    })
}

impl Store for SqliteStore {
    fn write(&self, changes: &[Change]) -> Result<()> {
        let mut inner = self.lock();
        let written = write_batch(&mut inner, &self.large, changes);
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
                "SELECT run_id, logical_date, state, start_date, end_date, run_type, params
                 FROM dag_run
                 WHERE dag_id = ?1 ORDER BY logical_date DESC, run_id DESC LIMIT ?2 OFFSET ?3",
            )
            .map_err(|e| self.error(e))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let rows = query
            .query_map(params![dag_id, limit, offset], |row| {
                run_record(dag_id, row.get(0)?, row, 1)
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.error(e))
    }

    fn task_instances(&self, dag_id: &str, run_id: &str) -> Result<Vec<TaskInstanceRecord>> {
        let inner = self.lock();
        let mut query = inner
            .connection
            .prepare(
                "SELECT task_id, map_path, ti.state, try_number, ti.start_date, ti.end_date,
                     error, pool, priority_weight
                 FROM task_instance AS ti JOIN dag_run ON dag_run.id = ti.run
                 WHERE dag_id = ?1 AND run_id = ?2 ORDER BY seq",
            )
            .map_err(|e| self.error(e))?;
        let rows = query
            .query_map(params![dag_id, run_id], |row| {
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
                "SELECT try_number, tt.state, tt.start_date, tt.end_date, error, interrupted
                 FROM task_try AS tt JOIN dag_run ON dag_run.id = tt.run
                 WHERE dag_id = ?1 AND run_id = ?2 AND task_id = ?3 AND map_path = ?4
                 ORDER BY try_number",
            )
            .map_err(|e| self.error(e))?;
        let rows = query
            .query_map(
                params![dag_id, run_id, task_id, path_of_index(map_index)],
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
        let text: Option<(String, Option<String>)> = inner
            .connection
            .query_row(
                "SELECT value, location FROM xcom JOIN dag_run ON dag_run.id = xcom.run
                 WHERE dag_id = ?1 AND run_id = ?2 AND task_id = ?3 AND map_path = ?4
                     AND key = 'return_value'",
                params![dag_id, run_id, task_id, path_of_index(map_index)],
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
        let Some((row, run, fingerprint)) = self.run_record(connection, dag_id, run_id)? else {
            return Ok(None);
        };
        let mut instances: Vec<StoredInstance> = Vec::new();
        let mut at: HashMap<(String, String), usize> = HashMap::new();
        {
            let mut query = connection
                .prepare_cached(
                    "SELECT task_id, map_path, state, try_number, error, clear_base
                     FROM task_instance WHERE run = ?1 ORDER BY seq",
                )
                .map_err(|e| self.error(e))?;
            let mut rows = query.query([row]).map_err(|e| self.error(e))?;
            while let Some(row) = rows.next().map_err(|e| self.error(e))? {
                let (task_id, path): (String, String) = (
                    row.get(0).map_err(|e| self.error(e))?,
                    row.get(1).map_err(|e| self.error(e))?,
                );
                let state: String = row.get(2).map_err(|e| self.error(e))?;
                let clear_base: u32 = row.get(5).map_err(|e| self.error(e))?;
                at.insert((task_id.clone(), path.clone()), instances.len());
                instances.push(StoredInstance {
                    task_id,
                    map_path: path_of(&path),
                    state: task_state(&state),
                    try_number: row.get(3).map_err(|e| self.error(e))?,
                    uncounted_tries: clear_base,
                    interrupted: 0,
                    running_try: None,
                    error: row.get(4).map_err(|e| self.error(e))?,
                    xcoms: Vec::new(),
                });
            }
        }
        {
            let mut query = connection
                .prepare_cached(
                    "SELECT tt.task_id, tt.map_path, tt.try_number, tt.state, tt.interrupted
                     FROM task_try AS tt JOIN task_instance AS ti
                         ON ti.run = tt.run AND ti.task_id = tt.task_id AND ti.map_path = tt.map_path
                     WHERE tt.run = ?1 AND tt.try_number > ti.clear_base
                         AND (tt.interrupted OR tt.state IN ('running', 'queued'))",
                )
                .map_err(|e| self.error(e))?;
            let mut rows = query.query([row]).map_err(|e| self.error(e))?;
            while let Some(row) = rows.next().map_err(|e| self.error(e))? {
                let key: (String, String) = (
                    row.get(0).map_err(|e| self.error(e))?,
                    row.get(1).map_err(|e| self.error(e))?,
                );
                let try_number: u32 = row.get(2).map_err(|e| self.error(e))?;
                let interrupted: bool = row.get(4).map_err(|e| self.error(e))?;
                if let Some(&index) = at.get(&key) {
                    let instance = &mut instances[index];
                    if interrupted {
                        instance.interrupted += 1;
                    } else {
                        instance.running_try = Some(try_number);
                    }
                }
            }
        }
        {
            let mut query = connection
                .prepare_cached(
                    "SELECT task_id, map_path, key, type_name, value, location FROM xcom
                     WHERE run = ?1",
                )
                .map_err(|e| self.error(e))?;
            let mut rows = query.query([row]).map_err(|e| self.error(e))?;
            while let Some(row) = rows.next().map_err(|e| self.error(e))? {
                let key: (String, String) = (
                    row.get(0).map_err(|e| self.error(e))?,
                    row.get(1).map_err(|e| self.error(e))?,
                );
                let text: String = row.get(4).map_err(|e| self.error(e))?;
                let location: Option<String> = row.get(5).map_err(|e| self.error(e))?;
                let value = self.json(&key.0, text, location)?;
                let xcom = (
                    row.get(2).map_err(|e| self.error(e))?,
                    row.get(3).map_err(|e| self.error(e))?,
                    value,
                );
                let index = match at.get(&key) {
                    Some(&index) => index,
                    // A value whose instance row is not there (a store written by hand).
                    None => continue,
                };
                instances[index].xcoms.push(xcom);
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

impl SqliteStore {
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
        serde_json::from_str(&text).map_err(|error| Error::Store {
            path: self.path.display().to_string(),
            reason: format!("the stored value of task `{task_id}` is not JSON: {error}"),
        })
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

/// A task instance of a batch: DAG, run, task, map path.
type InstanceKey<'a> = (&'a str, &'a str, &'a str, &'a [u32]);

/// A map with a fast hasher, for the keys of one batch (hashed once per change).
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The statements a batch writes with, prepared (from the connection's cache) once per
/// batch rather than once per row.
struct Statements<'t> {
    run: rusqlite::CachedStatement<'t>,
    instance: rusqlite::CachedStatement<'t>,
    attempt: rusqlite::CachedStatement<'t>,
    xcom: rusqlite::CachedStatement<'t>,
}

impl<'t> Statements<'t> {
    fn prepare(transaction: &'t rusqlite::Transaction<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            run: transaction.prepare_cached(
                "INSERT INTO dag_run (dag_id, run_id, logical_date, state, start_date, end_date)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (dag_id, run_id) DO UPDATE SET
                     state = excluded.state, end_date = excluded.end_date
                 RETURNING id",
            )?,
            instance: transaction.prepare_cached(
                "INSERT INTO task_instance (run, task_id, map_path, map_index, seq,
                     state, try_number, start_date, end_date, error, pool,
                     priority_weight)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                 ON CONFLICT (run, task_id, map_path) DO UPDATE SET
                     state = excluded.state, try_number = excluded.try_number,
                     start_date = coalesce(excluded.start_date, start_date),
                     end_date = excluded.end_date, error = excluded.error",
            )?,
            attempt: transaction.prepare_cached(
                "INSERT INTO task_try (run, task_id, map_path, try_number, state,
                     start_date, end_date, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (run, task_id, map_path, try_number) DO UPDATE SET
                     state = excluded.state,
                     start_date = coalesce(start_date, excluded.start_date),
                     end_date = excluded.end_date, error = excluded.error",
            )?,
            xcom: transaction.prepare_cached(
                "INSERT INTO xcom (run, task_id, map_path, key, type_name, value, location)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (run, task_id, map_path, key) DO UPDATE SET
                     type_name = excluded.type_name, value = excluded.value,
                     location = excluded.location",
            )?,
        })
    }
}

/// Writes `changes` in one transaction. Of the changes of one task instance in the batch,
/// only its last state is written to its row, and for each try only the last change that
/// ends it (a try's row has its start and end from that change): a batch of a busy run
/// writes each instance about once.
fn write_batch(inner: &mut Inner, large: &Large, changes: &[Change]) -> rusqlite::Result<()> {
    let hasher = foldhash::fast::RandomState::default();
    let mut last_state: FastMap<InstanceKey<'_>, usize> =
        HashMap::with_capacity_and_hasher(changes.len(), hasher.clone());
    let mut last_try: FastMap<(InstanceKey<'_>, u32), usize> =
        HashMap::with_capacity_and_hasher(changes.len(), hasher);
    for (at, change) in changes.iter().enumerate() {
        if let Change::TaskInstance(ti) = change {
            let key = (&*ti.dag_id, &*ti.run_id, &*ti.task_id, &*ti.map_path);
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
    let mut statements = Statements::prepare(&transaction)?;
    // The run of the last change, which the next one is most likely of too.
    let mut last_run: Option<(&str, &str, i64)> = None;
    let mut run_of = |dag_id, run_id, runs: &mut HashMap<_, _>| -> rusqlite::Result<i64> {
        if let Some((dag, run, id)) = last_run
            && dag == dag_id
            && run == run_id
        {
            return Ok(id);
        }
        let id = run_row(&transaction, runs, dag_id, run_id)?;
        last_run = Some((dag_id, run_id, id));
        Ok(id)
    };
    for (at, change) in changes.iter().enumerate() {
        match change {
            Change::DagRun(run) => {
                let id: i64 = statements.run.query_row(
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
                let key = (&*ti.dag_id, &*ti.run_id, &*ti.task_id, &*ti.map_path);
                let writes_try = last_try.get(&(key, ti.try_number)) == Some(&at);
                let writes_state = last_state.get(&key) == Some(&at);
                if !writes_try && !writes_state {
                    continue;
                }
                let run = run_of(&ti.dag_id, &ti.run_id, runs)?;
                let map_path = path_column(&ti.map_path);
                if writes_try {
                    statements.attempt.execute(params![
                        run,
                        &*ti.task_id,
                        &map_path,
                        ti.try_number,
                        ti.state.as_str(),
                        date_column(ti.start_date),
                        date_column(ti.end_date),
                        ti.error.as_deref(),
                    ])?;
                }
                if writes_state {
                    *seq += 1;
                    statements.instance.execute(params![
                        run,
                        &*ti.task_id,
                        &map_path,
                        map_index_column(&ti.map_path),
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
                map_path,
                key,
                type_name,
                value,
            } => {
                let run = run_of(dag_id, run_id, runs)?;
                let map_path = path_column(map_path);
                let mut text = value.to_string();
                let mut location = None;
                if text.len() as u64 > large.threshold {
                    // Written before the row that points at it is committed.
                    let at = value_key(dag_id, run_id, task_id, &map_path, key);
                    large
                        .place
                        .put(&at, std::mem::take(&mut text))
                        .map_err(|error| {
                            rusqlite::Error::ToSqlConversionFailure(
                                format!("keeping a large value at {:?}: {error}", large.place)
                                    .into(),
                            )
                        })?;
                    location = Some(at);
                }
                statements.xcom.execute(params![
                    run, task_id, map_path, key, type_name, text, location
                ])?;
            }
            other => write_other(&transaction, runs, seq, other)?,
        }
    }
    drop(statements);
    transaction.commit()
}

/// Writes a change that comes once per run or from outside runs (few: prepared each time).
fn write_other(
    transaction: &rusqlite::Transaction<'_>,
    runs: &mut HashMap<String, HashMap<String, i64>>,
    seq: &mut i64,
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
            let run = run_row(transaction, runs, dag_id, run_id)?;
            let params = serde_json::to_string(params).unwrap_or_else(|_| "{}".into());
            transaction
                .prepare_cached(
                    "UPDATE dag_run SET run_type = ?2, params = ?3, fingerprint = ?4
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
            dag_id,
            run_id,
            task_id,
            map_path,
            try_number,
        } => {
            let run = run_row(transaction, runs, dag_id, run_id)?;
            transaction
                .prepare_cached(
                    "UPDATE task_try SET state = 'failed', error = ?5, interrupted = 1
                     WHERE run = ?1 AND task_id = ?2 AND map_path = ?3 AND try_number = ?4",
                )?
                .execute(params![
                    run,
                    task_id,
                    path_column(map_path),
                    try_number,
                    INTERRUPTED
                ])?;
        }
        Change::SetState {
            dag_id,
            run_id,
            task_id,
            map_path,
            state,
            note,
        } => {
            let run = run_row(transaction, runs, dag_id, run_id)?;
            *seq += 1;
            // A cleared instance's tries so far no longer count against its retries.
            transaction
                .prepare_cached(
                    "INSERT INTO task_instance (run, task_id, map_path, map_index, seq,
                         state, try_number, error, pool, priority_weight)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, 'default_pool', 1)
                     ON CONFLICT (run, task_id, map_path) DO UPDATE SET
                         state = excluded.state, error = excluded.error,
                         end_date = CASE WHEN excluded.state = 'none' THEN NULL
                             ELSE end_date END,
                         clear_base = CASE WHEN excluded.state = 'none' THEN try_number
                             ELSE clear_base END",
                )?
                .execute(params![
                    run,
                    task_id,
                    path_column(map_path),
                    map_index_column(map_path),
                    *seq,
                    state.as_str(),
                    note.as_deref(),
                ])?;
            if *state == TaskState::None {
                transaction
                    .prepare_cached(
                        "UPDATE dag_run SET state = 'queued', end_date = NULL WHERE id = ?1",
                    )?
                    .execute([run])?;
                // Its values go with it, as Airflow's clear deletes the XComs.
                transaction
                    .prepare_cached(
                        "DELETE FROM xcom WHERE run = ?1 AND task_id = ?2 AND map_path = ?3",
                    )?
                    .execute(params![run, task_id, path_column(map_path)])?;
            }
        }
        // Written by `write_batch` itself.
        Change::DagRun(_) | Change::TaskInstance(_) | Change::XcomValue { .. } => {}
    }
    Ok(())
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
