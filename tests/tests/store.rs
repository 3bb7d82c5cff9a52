//! The durable store: what a run keeps in a `SqliteStore`, the history read back from it,
//! and files it refuses to open.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use taskflow::DagRunState;
use taskflow::prelude::*;
use taskflow::store::{SqliteStore, Store};
use taskflow_tests::bounded::within;

/// The longest a run of these tests may take before it counts as hung.
const LIMIT: Duration = Duration::from_secs(60);

/// A fresh folder for one test's store, removed when dropped.
struct Folder(PathBuf);

impl Folder {
    fn new(test: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("taskflow-store-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[task]
fn numbers() -> Vec<u32> {
    vec![1, 2, 3]
}

#[task(retries = 1, retry_delay = "1m")]
fn flaky(ctx: &Context, values: Vec<u32>) -> Result<u32, TaskError> {
    if ctx.try_number() == 1 {
        return Err(TaskError::msg("not yet"));
    }
    Ok(values.iter().sum())
}

#[task]
fn broken(_total: u32) -> Result<String, TaskError> {
    Err(TaskError::msg("no luck"))
}

#[task]
fn after(text: String) -> String {
    text
}

#[task]
fn double(x: u32) -> u32 {
    x * 2
}

fn pipeline() -> Dag {
    Dag::build("stored", || {
        let values = numbers();
        let total = flaky(values);
        after(broken(total));
        double::expand(each(values));
    })
    .unwrap()
}

fn run(dag: &Dag, store: &Arc<SqliteStore>, run_id: &str) -> RunReport {
    let options = RunOptions::new()
        .log(false)
        .run_id(run_id)
        .store(store.clone());
    let dag = dag.clone();
    within(LIMIT, "the run", move || dag.test_with(options).unwrap())
}

#[test]
fn a_run_is_kept_with_its_task_instances_tries_and_values() {
    let folder = Folder::new("kept");
    let store = Arc::new(SqliteStore::open(folder.file("runs.db")).unwrap());
    let report = run(&pipeline(), &store, "first");
    assert!(!report.succeeded());
    assert_eq!(report.store_error(), None);

    let runs = store.dag_runs("stored", 10, 0).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].run_id.as_str(), runs[0].state),
        ("first", DagRunState::Failed)
    );
    assert!(runs[0].end_date.is_some());

    let instances = store.task_instances("stored", "first").unwrap();
    let find = |task: &str, map_index: Option<u32>| {
        instances
            .iter()
            .find(|ti| ti.task_id == task && ti.map_index == map_index)
            .unwrap_or_else(|| panic!("no {task} {map_index:?} in {instances:?}"))
    };
    assert_eq!(find("numbers", None).state, TaskState::Success);
    assert_eq!(find("flaky", None).try_number, 2);
    assert_eq!(find("broken", None).error.as_deref(), Some("no luck"));
    assert_eq!(find("after", None).state, TaskState::UpstreamFailed);
    assert_eq!(find("double", None).state, TaskState::Success);
    for index in 0..3 {
        assert_eq!(find("double", Some(index)).state, TaskState::Success);
    }

    let tries = store.tries("stored", "first", "flaky", None).unwrap();
    let states: Vec<_> = tries.iter().map(|t| (t.try_number, t.state)).collect();
    assert_eq!(
        states,
        [(1, TaskState::UpForRetry), (2, TaskState::Success)]
    );
    assert_eq!(tries[0].error.as_deref(), Some("not yet"));
    assert!(tries[1].start_date.unwrap() - tries[0].end_date.unwrap() >= chrono_minutes(1));

    assert_eq!(
        store.xcom_json("stored", "first", "numbers", None).unwrap(),
        Some(serde_json::json!([1, 2, 3]))
    );
    assert_eq!(
        store.xcom::<u32>("stored", "first", "flaky", None).unwrap(),
        Some(6)
    );
    assert_eq!(
        store
            .xcom::<u32>("stored", "first", "double", Some(2))
            .unwrap(),
        Some(6)
    );
    assert_eq!(
        store
            .xcom::<Vec<u32>>("stored", "first", "double", None)
            .unwrap(),
        Some(vec![2, 4, 6])
    );
    assert_eq!(
        store
            .xcom::<String>("stored", "first", "broken", None)
            .unwrap(),
        None
    );
    store.integrity_check().unwrap();
}

fn chrono_minutes(minutes: i64) -> taskflow::chrono::Duration {
    taskflow::chrono::Duration::minutes(minutes)
}

#[test]
fn history_lists_a_dags_runs_newest_first_a_page_at_a_time() {
    let folder = Folder::new("history");
    let store = Arc::new(SqliteStore::open(folder.file("runs.db")).unwrap());
    let dag = Dag::build("daily", || {
        numbers();
    })
    .unwrap();
    for day in 1..=3 {
        let date = format!("2026-01-0{day}T00:00:00Z").parse().unwrap();
        dag.test_with(
            RunOptions::new()
                .log(false)
                .run_id(format!("day{day}"))
                .logical_date(date)
                .store(store.clone()),
        )
        .unwrap();
    }
    let ids = |runs: Vec<taskflow::store::DagRunRecord>| -> Vec<String> {
        runs.into_iter().map(|run| run.run_id).collect()
    };
    assert_eq!(
        ids(store.dag_runs("daily", 2, 0).unwrap()),
        ["day3", "day2"]
    );
    assert_eq!(ids(store.dag_runs("daily", 2, 2).unwrap()), ["day1"]);
    assert!(store.dag_runs("other", 10, 0).unwrap().is_empty());
    // Read back by another opening of the same file, as another process would.
    let again = SqliteStore::open(folder.file("runs.db")).unwrap();
    assert_eq!(again.dag_runs("daily", 10, 0).unwrap().len(), 3);
}

#[test]
fn a_file_that_is_not_a_database_is_refused_and_left_as_it_was() {
    let folder = Folder::new("garbage");
    let path = folder.file("runs.db");
    let garbage = "this is not a database, it is a note\n".repeat(200);
    std::fs::write(&path, &garbage).unwrap();
    let error = SqliteStore::open(&path).unwrap_err().to_string();
    assert!(error.contains("not a SQLite database"), "{error}");
    assert!(error.contains("runs.db"), "{error}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), garbage);
}

#[test]
fn a_database_of_another_application_is_refused_and_left_as_it_was() {
    let folder = Folder::new("foreign");
    let path = folder.file("other.db");
    let other = rusqlite::Connection::open(&path).unwrap();
    other
        .execute_batch("CREATE TABLE invoices (id INTEGER); INSERT INTO invoices VALUES (7);")
        .unwrap();
    drop(other);
    let error = SqliteStore::open(&path).unwrap_err().to_string();
    assert!(error.contains("another application"), "{error}");
    let other = rusqlite::Connection::open(&path).unwrap();
    let id: i64 = other
        .query_row("SELECT id FROM invoices", [], |row| row.get(0))
        .unwrap();
    assert_eq!(id, 7);
}

#[test]
fn a_store_written_by_a_newer_version_is_refused() {
    let folder = Folder::new("newer");
    let path = folder.file("runs.db");
    drop(SqliteStore::open(&path).unwrap());
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.pragma_update(None, "user_version", 99).unwrap();
    drop(raw);
    let error = SqliteStore::open(&path).unwrap_err().to_string();
    assert!(
        error.contains("newer version") && error.contains("99"),
        "{error}"
    );
}

#[task]
fn big(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("row {i} of a value too large for the store"))
        .collect()
}

#[test]
fn a_full_store_fails_the_run_loudly_and_stays_consistent() {
    let folder = Folder::new("full");
    let store = Arc::new(SqliteStore::open(folder.file("runs.db")).unwrap());
    store.limit_size(64 * 1024).unwrap();
    let dag = Dag::build("too_big", || {
        big(50_000);
    })
    .unwrap();
    let report = run(&dag, &store, "full");
    assert_eq!(report.state("big"), TaskState::Success);
    assert_eq!(report.state_of_run(), DagRunState::Failed);
    let error = report.store_error().expect("the store's error");
    assert!(error.contains("full"), "{error}");
    store.integrity_check().unwrap();
    // A prefix of the run's changes is kept: the failed batch and all after it are not,
    // so the run's end (sent last) never is.
    let runs = store.dag_runs("too_big", 10, 0).unwrap();
    assert!(
        runs.iter().all(|run| run.state == DagRunState::Running),
        "{runs:?}"
    );
    let value = store.xcom_json("too_big", "full", "big", None).unwrap();
    assert_eq!(value, None);
}

#[test]
fn two_openers_of_one_store_write_in_turn_and_lose_nothing() {
    // Each opening has its own connection to the file, as another process would: WAL lets
    // them read while one writes, and their writes take turns.
    let folder = Folder::new("two");
    let path = folder.file("runs.db");
    let first = Arc::new(SqliteStore::open(&path).unwrap());
    let second = Arc::new(SqliteStore::open(&path).unwrap());
    let dag = Dag::build("shared", || {
        for _ in 0..50 {
            numbers();
        }
    })
    .unwrap();
    let runs: Vec<_> = [(first.clone(), "a"), (second.clone(), "b")]
        .into_iter()
        .flat_map(|(store, name)| {
            let dag = dag.clone();
            (0..5).map(move |i| {
                let (dag, store) = (dag.clone(), store.clone());
                std::thread::spawn(move || {
                    within(LIMIT, "a run", move || {
                        run(&dag, &store, &format!("{name}{i}"))
                    })
                })
            })
        })
        .collect();
    for handle in runs {
        let report = handle.join().unwrap();
        assert!(report.succeeded(), "{:?}", report.store_error());
    }
    let kept = first.dag_runs("shared", 100, 0).unwrap();
    assert_eq!(kept.len(), 10);
    for run in kept {
        assert_eq!(run.state, DagRunState::Success);
        assert_eq!(
            second.task_instances("shared", &run.run_id).unwrap().len(),
            50
        );
    }
    first.integrity_check().unwrap();
}
