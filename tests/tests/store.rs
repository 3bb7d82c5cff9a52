//! The durable store: what a run keeps in a `SqliteStore`, the history read back from it,
//! and files it refuses to open.

use std::sync::Arc;
use std::time::Duration;

use taskflow::DagRunState;
use taskflow::prelude::*;
use taskflow::store::{SqliteStore, Store};
use taskflow_tests::bounded::within;
use taskflow_tests::folder::Folder;

/// The longest a run of these tests may take before it counts as hung.
const LIMIT: Duration = Duration::from_secs(60);

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
    let folder = Folder::new("store", "kept");
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
    let folder = Folder::new("store", "history");
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
    let folder = Folder::new("store", "garbage");
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
    let folder = Folder::new("store", "foreign");
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
    let folder = Folder::new("store", "newer");
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
    let folder = Folder::new("store", "full");
    // Every value in the database, so that the large one fills it.
    let store = SqliteStore::open(folder.file("runs.db"))
        .unwrap()
        .large_value_threshold(u64::MAX);
    let store = Arc::new(store);
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
    let folder = Folder::new("store", "two");
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

/// The first schema, as version 1 wrote it: a store written then must open and read.
const SCHEMA_1: &str = "
    CREATE TABLE dag_run (id INTEGER PRIMARY KEY, dag_id TEXT NOT NULL, run_id TEXT NOT NULL,
        logical_date INTEGER NOT NULL, state TEXT NOT NULL, start_date INTEGER,
        end_date INTEGER, UNIQUE (dag_id, run_id));
    CREATE INDEX dag_run_by_date ON dag_run (dag_id, logical_date);
    CREATE TABLE task_instance (run INTEGER NOT NULL REFERENCES dag_run (id),
        task_id TEXT NOT NULL, map_index INTEGER NOT NULL, seq INTEGER NOT NULL,
        state TEXT NOT NULL, try_number INTEGER NOT NULL, start_date INTEGER,
        end_date INTEGER, error TEXT, pool TEXT NOT NULL, priority_weight INTEGER NOT NULL,
        PRIMARY KEY (run, task_id, map_index)) WITHOUT ROWID;
    CREATE TABLE task_try (run INTEGER NOT NULL REFERENCES dag_run (id),
        task_id TEXT NOT NULL, map_index INTEGER NOT NULL, try_number INTEGER NOT NULL,
        state TEXT NOT NULL, start_date INTEGER, end_date INTEGER, error TEXT,
        PRIMARY KEY (run, task_id, map_index, try_number)) WITHOUT ROWID;
    CREATE TABLE xcom (run INTEGER NOT NULL REFERENCES dag_run (id), task_id TEXT NOT NULL,
        map_index INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
        PRIMARY KEY (run, task_id, map_index, key)) WITHOUT ROWID;
    PRAGMA application_id = 1952869495;
    PRAGMA user_version = 1;
    INSERT INTO dag_run VALUES (1, 'old', 'r', 1767225600000000, 'success',
        1767225600000000, 1767225660000000);
    INSERT INTO task_instance VALUES (1, 'extract', -1, 1, 'success', 1, 1767225600000000,
        1767225610000000, NULL, 'default_pool', 1);
    INSERT INTO task_instance VALUES (1, 'parse', 2, 2, 'failed', 2, NULL, NULL, 'bad row',
        'default_pool', 1);
    INSERT INTO task_try VALUES (1, 'parse', 2, 1, 'up_for_retry', NULL, NULL, 'bad row');
    INSERT INTO xcom VALUES (1, 'extract', -1, 'return_value', '[1,2,3]');
";

#[test]
fn a_store_of_the_first_schema_is_migrated_and_keeps_its_history() {
    let folder = Folder::new("store", "migrated");
    let path = folder.file("runs.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(SCHEMA_1)
        .unwrap();
    let store = SqliteStore::open(&path).unwrap();
    let runs = store.dag_runs("old", 10, 0).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].run_id.as_str(), runs[0].run_type.as_str()),
        ("r", "manual")
    );
    let instances = store.task_instances("old", "r").unwrap();
    let parse = instances.iter().find(|ti| ti.task_id == "parse").unwrap();
    assert_eq!(
        (parse.map_index, parse.map_path.as_slice()),
        (Some(2), &[2][..])
    );
    assert_eq!(parse.error.as_deref(), Some("bad row"));
    let tries = store.tries("old", "r", "parse", Some(2)).unwrap();
    assert_eq!(tries[0].state, TaskState::UpForRetry);
    assert_eq!(
        store.xcom::<Vec<u32>>("old", "r", "extract", None).unwrap(),
        Some(vec![1, 2, 3])
    );
    let version: i32 = rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, 4);
    store.integrity_check().unwrap();
    // Opening it again migrates nothing more.
    drop(store);
    assert_eq!(
        SqliteStore::open(&path)
            .unwrap()
            .dag_runs("old", 10, 0)
            .unwrap()
            .len(),
        1
    );
}

#[task]
fn report_text(rows: usize) -> String {
    "x".repeat(rows)
}

#[task]
fn text_length(text: String) -> usize {
    text.len()
}

/// A DAG whose first value is large, and a run of it kept in `store`, then resumed after
/// its second task is cleared (so that the large value is read back into the run).
fn run_and_resume_with_a_large_value(store: &Arc<SqliteStore>, dag_id: &str) -> RunReport {
    let dag = Dag::build(dag_id, || {
        text_length(report_text(5000));
    })
    .unwrap();
    let report = run(&dag, store, "r");
    assert!(report.succeeded());
    dag.clear(
        &**store,
        &taskflow::store::Clear::run("r").task("text_length"),
    )
    .unwrap();
    let options = RunOptions::new()
        .log(false)
        .resume("r")
        .store(store.clone());
    within(LIMIT, "the resumed run", move || {
        dag.test_with(options).unwrap()
    })
}

#[test]
fn a_large_value_is_kept_as_a_file_and_read_back_as_any_other() {
    let folder = Folder::new("store", "large");
    let store = SqliteStore::open(folder.file("runs.db"))
        .unwrap()
        .large_value_threshold(1000);
    let store = Arc::new(store);
    let resumed = run_and_resume_with_a_large_value(&store, "large");
    assert_eq!(resumed.xcom::<usize>("text_length").unwrap(), 5000);
    // The default folder, beside the store's file.
    let kept = folder.file("runs.db.values/large/r/report_text/-/return_value.json");
    let text = std::fs::read_to_string(&kept).unwrap();
    assert_eq!(text.len(), 5002, "the JSON string");
    // The resumed run's rows may still be in the change log.
    store.fold_change_log().unwrap();
    let raw = rusqlite::Connection::open(folder.file("runs.db")).unwrap();
    let (value, location): (String, Option<String>) = raw
        .query_row(
            "SELECT value, value_location FROM task_instance
             JOIN dag_task USING (task) WHERE task_id = 'report_text'",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!(value, "", "the database keeps only the key");
    assert_eq!(
        location.as_deref(),
        Some("large/r/report_text/-/return_value.json")
    );
    let small: (String, Option<String>) = raw
        .query_row(
            "SELECT value, value_location FROM task_instance
             JOIN dag_task USING (task) WHERE task_id = 'text_length'",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!(small, ("5000".to_owned(), None));
    assert_eq!(
        store
            .xcom::<String>("large", "r", "report_text", None)
            .unwrap()
            .map(|text| text.len()),
        Some(5000)
    );
    // A value whose file went missing is an error that says where it was looked for.
    std::fs::remove_file(&kept).unwrap();
    let error = store
        .xcom_json("large", "r", "report_text", None)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("report_text") && error.contains("cannot be read"),
        "{error}"
    );
}

#[test]
fn large_values_go_to_an_s3_compatible_server() {
    use taskflow::object_store::ObjectStore;
    use taskflow::object_store::aws::AmazonS3Builder;
    let moto = taskflow_tests::moto::Moto::start();
    moto.create_bucket("xcoms");
    let s3: Arc<dyn ObjectStore> = Arc::new(
        AmazonS3Builder::new()
            .with_endpoint(&moto.endpoint)
            .with_allow_http(true)
            .with_region("us-east-1")
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .with_bucket_name("xcoms")
            .build()
            .unwrap(),
    );
    let folder = Folder::new("store", "large-s3");
    let store = SqliteStore::open(folder.file("runs.db"))
        .unwrap()
        .large_value_threshold(1000)
        .large_values_in_objects(s3.clone(), "taskflow/values");
    let store = Arc::new(store);
    let resumed = run_and_resume_with_a_large_value(&store, "large_s3");
    assert_eq!(resumed.xcom::<usize>("text_length").unwrap(), 5000);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let object = runtime
        .block_on(async {
            s3.get(&"taskflow/values/large_s3/r/report_text/-/return_value.json".into())
                .await?
                .bytes()
                .await
        })
        .unwrap();
    assert_eq!(object.len(), 5002);
    assert!(!folder.file("runs.db.values").exists());
}

#[test]
fn a_task_numbered_by_another_opener_of_the_store_is_found_not_numbered_again() {
    let folder = Folder::new("store", "numbered");
    let path = folder.file("runs.db");
    let first = Arc::new(SqliteStore::open(&path).unwrap());
    let second = Arc::new(SqliteStore::open(&path).unwrap());
    let small = Dag::build("grows", || {
        numbers();
    })
    .unwrap();
    let grown = Dag::build("grows", || {
        double::expand(each(numbers()));
    })
    .unwrap();
    // The first opener knows the small DAG's task; the second numbers the grown DAG's new one.
    assert!(run(&small, &first, "one").succeeded());
    assert!(run(&grown, &second, "two").succeeded());
    // The first opener meets that task for the first time: it must use the second's number.
    let third = run(&grown, &first, "three");
    assert_eq!(third.store_error(), None);
    assert!(third.succeeded());
    for run_id in ["two", "three"] {
        let instances = second.task_instances("grows", run_id).unwrap();
        assert!(
            instances.iter().any(|ti| ti.task_id == "double"),
            "{run_id}"
        );
    }
    first.integrity_check().unwrap();
}
