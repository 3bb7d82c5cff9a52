//! Durable runs: a [`Store`] keeps what runs did (DAG runs, task instances and each of
//! their tries, and the values tasks returned, encoded as JSON), so that it outlives the
//! process, as Airflow's metadata database does. [`SqliteStore`] keeps it in one SQLite file
//! (feature `sqlite`, SQLite bundled: nothing to install).
//!
//! A run records into a store given with [`RunOptions::store`](crate::RunOptions::store):
//! every state change goes to the store from the run's one funnel of state changes, written
//! in order by a writer of its own in batches (group commit), and the run is reported done
//! once all of it is written. Without a store, a run costs what it costs without one.
//!
//! ```
//! # #[cfg(feature = "sqlite")] {
//! use std::sync::Arc;
//! use taskflow::prelude::*;
//! use taskflow::store::{SqliteStore, Store};
//!
//! #[task]
//! fn answer() -> u32 {
//!     42
//! }
//!
//! let dir = std::env::temp_dir().join(format!("taskflow-store-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let store = Arc::new(SqliteStore::open(dir.join("runs.db"))?);
//! let dag = Dag::build("stored", || {
//!     answer();
//! })?;
//! dag.test_with(RunOptions::new().log(false).run_id("first").store(store.clone()))?;
//! let runs = store.dag_runs("stored", 10, 0)?;
//! assert_eq!(runs[0].run_id, "first");
//! assert_eq!(store.xcom_json("stored", "first", "answer", None)?, Some(42.into()));
//! # std::fs::remove_dir_all(&dir)?;
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod clear;
#[cfg(feature = "sqlite")]
mod large;
mod records;
mod sink;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use clear::{Clear, set_state};
#[cfg(feature = "sqlite")]
pub use large::DEFAULT_LARGE_VALUE;
pub(crate) use records::RETURN_VALUE;
pub use records::{
    BackfillRecord, Change, DagRunRecord, InstanceId, StoredInstance, StoredRun,
    TaskInstanceRecord, TryRecord,
};
pub(crate) use sink::{StoreSink, Writer};
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlite::SqliteStore;

use crate::Result;

/// When a run's changes are written to its store ([`RunOptions::durability`](crate::RunOptions::durability)).
///
/// Either way the store always holds a consistent prefix of the run after a crash: the
/// changes are written in the order they happened, in transactions, and a task's success
/// is written after its value and after everything it read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Durability {
    /// The writer writes whatever has come in since its last write in one transaction
    /// (group commit, SQLite's WAL): tasks never wait for the store, and a crash loses the
    /// changes of the last few milliseconds (their tasks run again on resume). A try that
    /// the crash interrupted before its start was written is not known as interrupted.
    #[default]
    GroupCommit,
    /// Each try's start is written before its body runs and its end before its downstream
    /// tasks start: a crash loses nothing that happened, and every interrupted try is
    /// known, at the cost of a commit per start and per end.
    PerTask,
}

/// Where runs are kept: written by the runs given it, read for their history.
///
/// Implement it to keep runs elsewhere; [`SqliteStore`] is the embedded one. Writes come
/// from one thread per run, in the order the changes happened.
pub trait Store: Send + Sync + std::fmt::Debug + 'static {
    /// Writes `changes` in one transaction: all of them, or none and an error.
    fn write(&self, changes: &[Change]) -> Result<()>;

    /// Does a part of what the store leaves for later (a [`SqliteStore`] folds its change
    /// log into its tables); whether more is left. A run's writer calls it while no changes
    /// come, and after its run, until nothing is left. The default does nothing.
    fn catch_up(&self) -> Result<bool> {
        Ok(false)
    }

    /// The runs of DAG `dag_id`, newest logical date first: `limit` of them from `offset`.
    fn dag_runs(&self, dag_id: &str, limit: usize, offset: usize) -> Result<Vec<DagRunRecord>>;

    /// The task instances of run `run_id` of DAG `dag_id`: task by task, in the order the
    /// tasks were first written (as they started, or ended without running), and a mapped
    /// task's instances by map index.
    fn task_instances(&self, dag_id: &str, run_id: &str) -> Result<Vec<TaskInstanceRecord>>;

    /// The tries of one task instance, in order.
    fn tries(
        &self,
        dag_id: &str,
        run_id: &str,
        task_id: &str,
        map_index: Option<u32>,
    ) -> Result<Vec<TryRecord>>;

    /// The value a task instance returned, as JSON; `None` if it returned none that
    /// encodes.
    fn xcom_json(
        &self,
        dag_id: &str,
        run_id: &str,
        task_id: &str,
        map_index: Option<u32>,
    ) -> Result<Option<serde_json::Value>>;

    /// Everything kept of run `run_id` of DAG `dag_id`, as resuming it needs it; `None` if
    /// the store has no such run.
    fn load_run(&self, dag_id: &str, run_id: &str) -> Result<Option<StoredRun>>;

    /// The run `run_id` of DAG `dag_id`, if the store has it.
    fn dag_run(&self, dag_id: &str, run_id: &str) -> Result<Option<DagRunRecord>>;

    /// Adds `run` (a run a scheduler is to start) unless its DAG has a run of that id
    /// already; whether it did. With `run.backfill_id`, it belongs to that backfill.
    fn create_dag_run(&self, run: &DagRunRecord) -> Result<bool>;

    /// The runs of every DAG in `state`, the earliest due (`run_after`, else logical date)
    /// first: what a scheduler picks up as it starts (`queued`, and `running` ones that a
    /// process ended).
    fn dag_runs_in_state(&self, state: crate::DagRunState) -> Result<Vec<DagRunRecord>>;

    /// The scheduled or backfill run of DAG `dag_id` with the latest logical date: where
    /// its schedule goes on from (Airflow's last automated data interval).
    fn last_automated_run(&self, dag_id: &str) -> Result<Option<DagRunRecord>>;

    /// Pauses DAG `dag_id` (no new runs are scheduled) or unpauses it.
    fn set_paused(&self, dag_id: &str, paused: bool) -> Result<()>;

    /// Whether DAG `dag_id` is paused; `false` for a DAG the store does not know.
    fn is_paused(&self, dag_id: &str) -> Result<bool>;

    /// Adds `backfill` and, in the same transaction, its new `runs` (queued) and the
    /// existing runs it reprocesses (`requeued`: queued again, as its runs); its id.
    fn create_backfill(
        &self,
        backfill: &BackfillRecord,
        runs: &[DagRunRecord],
        requeued: &[String],
    ) -> Result<i64>;

    /// The backfills of DAG `dag_id`, newest first.
    fn backfills(&self, dag_id: &str) -> Result<Vec<BackfillRecord>>;

    /// Marks backfill `id` complete (its runs all ended) at `at`.
    fn complete_backfill(&self, id: i64, at: chrono::DateTime<chrono::Utc>) -> Result<()>;

    /// The value a task instance returned, as a `T`; `None` if there is none.
    fn xcom<T: serde::de::DeserializeOwned>(
        &self,
        dag_id: &str,
        run_id: &str,
        task_id: &str,
        map_index: Option<u32>,
    ) -> Result<Option<T>>
    where
        Self: Sized,
    {
        let Some(json) = self.xcom_json(dag_id, run_id, task_id, map_index)? else {
            return Ok(None);
        };
        serde_json::from_value(json)
            .map(Some)
            .map_err(|error| crate::Error::XcomNotDecodable {
                task_id: task_id.to_owned(),
                type_name: std::any::type_name::<T>().to_owned(),
                reason: error.to_string(),
            })
    }
}
