//! The change log seen through the store: what a write leaves in it, how readers, the
//! writer's idle time and the bound on it fold it, and a damaged entry.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{MAX_UNFOLDED, SqliteStore};
use crate::events::{DagRunEvent, TaskInstanceEvent};
use crate::store::{Change, Store};
use crate::{DagRunState, TaskState};

/// A folder of its own for a test's store, removed after.
struct Folder(PathBuf);

impl Folder {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("taskflow-log-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    fn store(&self) -> SqliteStore {
        SqliteStore::open(self.0.join("runs.db")).unwrap()
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn at(second: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + second, 0).unwrap()
}

fn run_change(run_id: &str, state: DagRunState) -> Change {
    Change::DagRun(DagRunEvent {
        dag_id: "logged".into(),
        run_id: run_id.into(),
        logical_date: at(0),
        state,
        timestamp: at(0),
        start_date: at(0),
        end_date: (state != DagRunState::Running).then(|| at(9)),
        tasks: 2,
    })
}

fn task_change(run_id: &str, task_id: &str, try_number: u32, state: TaskState) -> Change {
    Change::TaskInstance(TaskInstanceEvent {
        dag_id: "logged".into(),
        run_id: run_id.into(),
        logical_date: at(0),
        task_id: task_id.into(),
        map_index: None,
        map_path: Vec::new(),
        try_number,
        state,
        timestamp: at(i64::from(try_number)),
        start_date: Some(at(i64::from(try_number))),
        end_date: (state != TaskState::Running).then(|| at(i64::from(try_number) + 1)),
        priority_weight: 1,
        pool: "default_pool".into(),
        error: (state == TaskState::UpForRetry).then(|| "not yet".to_owned()),
    })
}

fn value_change(run_id: &str, task_id: &str, key: &str, value: serde_json::Value) -> Change {
    Change::XcomValue {
        dag_id: "logged".into(),
        run_id: run_id.into(),
        task_id: task_id.into(),
        map_path: Vec::new(),
        key: Arc::from(key),
        type_name: "u32",
        value,
    }
}

/// Entries in the store's change log.
fn logged(store: &SqliteStore) -> i64 {
    store
        .lock()
        .connection
        .query_row("SELECT count(*) FROM change_log", [], |row| row.get(0))
        .unwrap()
}

/// A run of two tasks: `first` retried once and returned 7 with a push, `second` running.
fn write_a_run(store: &SqliteStore, run_id: &str) {
    store
        .write(&[
            run_change(run_id, DagRunState::Running),
            task_change(run_id, "first", 1, TaskState::Running),
            task_change(run_id, "first", 1, TaskState::UpForRetry),
        ])
        .unwrap();
    store
        .write(&[
            task_change(run_id, "first", 2, TaskState::Running),
            value_change(run_id, "first", "rows", serde_json::json!(3)),
        ])
        .unwrap();
    // A value in a batch of its own, with the success in the next.
    store
        .write(&[value_change(
            run_id,
            "first",
            "return_value",
            serde_json::json!(7),
        )])
        .unwrap();
    store
        .write(&[
            task_change(run_id, "first", 2, TaskState::Success),
            task_change(run_id, "second", 1, TaskState::Running),
        ])
        .unwrap();
}

#[test]
fn a_run_whose_rows_are_still_in_the_change_log_is_read_whole() {
    let folder = Folder::new("read");
    let store = folder.store();
    write_a_run(&store, "r");
    assert_eq!(logged(&store), 4, "one entry per write");

    let instances = store.task_instances("logged", "r").unwrap();
    assert_eq!(logged(&store), 0, "the read folded the run's entries");
    let states: Vec<_> = instances
        .iter()
        .map(|ti| (ti.task_id.as_str(), ti.state, ti.try_number))
        .collect();
    assert_eq!(
        states,
        [
            ("first", TaskState::Success, 2),
            ("second", TaskState::Running, 1)
        ]
    );
    assert_eq!(
        instances[0].start_date,
        Some(at(2)),
        "the latest try's start"
    );
    let tries: Vec<_> = store
        .tries("logged", "r", "first", None)
        .unwrap()
        .into_iter()
        .map(|t| (t.try_number, t.state, t.error))
        .collect();
    assert_eq!(
        tries,
        [
            (1, TaskState::UpForRetry, Some("not yet".to_owned())),
            (2, TaskState::Success, None)
        ]
    );
    assert_eq!(
        store.xcom::<u32>("logged", "r", "first", None).unwrap(),
        Some(7)
    );
    let stored = store.load_run("logged", "r").unwrap().unwrap();
    let first = stored
        .instances
        .iter()
        .find(|i| i.task_id == "first")
        .unwrap();
    assert_eq!(first.pushes.len(), 1);
    assert_eq!(first.pushes[0].0, "rows");
    assert_eq!(first.pushes[0].2, serde_json::json!(3));
    store.integrity_check().unwrap();
}

#[test]
fn each_reader_folds_the_run_it_reads_and_only_that_one() {
    for read in ["tries", "xcom", "load"] {
        let folder = Folder::new(read);
        let store = folder.store();
        write_a_run(&store, "a");
        write_a_run(&store, "b");
        match read {
            "tries" => drop(store.tries("logged", "a", "first", None).unwrap()),
            "xcom" => drop(store.xcom_json("logged", "a", "first", None).unwrap()),
            _ => drop(store.load_run("logged", "a").unwrap()),
        }
        assert_eq!(logged(&store), 4, "{read}: run b's entries are left");
    }
}

#[test]
fn catch_up_folds_the_oldest_entries_a_part_at_a_time_until_none_are_left() {
    let folder = Folder::new("catch-up");
    let store = folder.store();
    let runs = 100;
    for run in 0..runs {
        write_a_run(&store, &format!("r{run}"));
    }
    assert_eq!(logged(&store), 4 * runs);
    let mut calls = 0;
    while store.catch_up().unwrap() {
        calls += 1;
        assert!(calls < 4 * runs, "catch_up never ends");
    }
    assert!(
        calls >= 5,
        "{calls} calls folded 400 entries: not a part at a time"
    );
    assert_eq!(logged(&store), 0);
    assert!(!store.catch_up().unwrap(), "nothing is left");
    let instances = store.task_instances("logged", "r57").unwrap();
    assert_eq!(instances[0].state, TaskState::Success);
}

#[test]
fn a_write_past_the_bound_on_unfolded_entries_folds_the_oldest_itself() {
    let folder = Folder::new("bound");
    let store = folder.store();
    write_a_run(&store, "old");
    store.lock().unfolded = MAX_UNFOLDED + 1;
    store
        .write(&[task_change("old", "second", 1, TaskState::Success)])
        .unwrap();
    assert_eq!(
        logged(&store),
        0,
        "the write folded everything to get under the bound"
    );
    assert_eq!(store.lock().unfolded, 0);
    write_a_run(&store, "new");
    assert_eq!(
        logged(&store),
        4,
        "under the bound, the writes leave their entries"
    );
}

#[test]
fn fold_change_log_leaves_the_tables_whole_for_other_readers_of_the_file() {
    let folder = Folder::new("fold-all");
    let store = folder.store();
    write_a_run(&store, "r");
    store.fold_change_log().unwrap();
    assert_eq!(logged(&store), 0);
    let raw = rusqlite::Connection::open(folder.0.join("runs.db")).unwrap();
    let value: String = raw
        .query_row(
            "SELECT value FROM task_instance JOIN dag_task USING (task) WHERE task_id = 'first'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(value, "7");
}

#[test]
fn a_damaged_entry_fails_the_read_with_a_clear_error_and_stays_in_the_log() {
    let folder = Folder::new("damaged");
    let store = folder.store();
    write_a_run(&store, "r");
    store
        .lock()
        .connection
        .execute(
            "UPDATE change_log SET entry = x'0104' WHERE id = (SELECT max(id) FROM change_log)",
            [],
        )
        .unwrap();
    let error = store.task_instances("logged", "r").unwrap_err().to_string();
    assert!(
        error.contains("change log holds an entry cut short"),
        "{error}"
    );
    assert_eq!(logged(&store), 4, "the failed fold was rolled back");
    assert!(store.catch_up().is_err());
    assert_eq!(logged(&store), 4);
}

/// The frames in the store's write-ahead log (checkpointing what it can, which a test does
/// last).
fn wal_frames(store: &SqliteStore) -> i64 {
    store
        .lock()
        .connection
        .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get(1))
        .unwrap()
}

#[test]
fn the_write_ahead_log_is_checkpointed_when_the_store_is_idle_not_between_a_runs_writes() {
    let folder = Folder::new("checkpoint");
    let store = folder.store();
    store
        .write(&[run_change("big", DagRunState::Running)])
        .unwrap();
    // 8 MiB of writes: SQLite on its own checkpoints every 1,000 pages (4 MiB), in a write.
    let text = serde_json::Value::String("x".repeat(40 * 1024));
    for push in 0..200 {
        store
            .write(&[value_change(
                "big",
                "first",
                &format!("part_{push}"),
                text.clone(),
            )])
            .unwrap();
    }
    let wal = std::fs::metadata(folder.0.join("runs.db-wal"))
        .unwrap()
        .len();
    assert!(
        wal > 6 << 20,
        "the log was checkpointed meanwhile: {wal} bytes"
    );
    while store.catch_up().unwrap() {}
    // Checkpointed whole: the next write starts the log over.
    store
        .write(&[task_change("big", "first", 1, TaskState::Running)])
        .unwrap();
    let frames = wal_frames(&store);
    assert!(frames < 100, "the log holds {frames} frames");
}
