//! `Dag::test_task`: one task run alone, as Airflow's `tasks test`, with its upstream tasks
//! run first or read from a stored run, and nothing written.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use taskflow::prelude::*;
use taskflow::store::{SqliteStore, Store};
use taskflow_tests::bounded::within;
use taskflow_tests::folder::Folder;

/// The longest a test of one task may take before it counts as hung.
const LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

static EXTRACTED: AtomicU32 = AtomicU32::new(0);

#[task]
fn extract() -> u32 {
    EXTRACTED.fetch_add(1, Ordering::SeqCst);
    20
}

#[task]
fn double(n: u32) -> u32 {
    n * 2
}

#[task]
fn publish(n: u32) -> u32 {
    n + 1
}

#[task]
fn unrelated() -> u32 {
    7
}

fn numbers() -> Dag {
    Dag::build("numbers", || {
        publish(double(extract()));
        unrelated();
    })
    .unwrap()
}

#[test]
fn a_task_test_runs_the_task_after_its_upstream_tasks_and_skips_the_others() {
    let report = within(LIMIT, "a task test", || {
        numbers().test_task("double", RunOptions::new().log(false))
    })
    .unwrap();
    assert_eq!(report.xcom::<u32>("double").unwrap(), 40);
    assert_eq!(report.state("extract"), TaskState::Success);
    assert_eq!(report.state("publish"), TaskState::Skipped);
    assert_eq!(report.state("unrelated"), TaskState::Skipped);
}

#[test]
fn a_task_test_on_a_stored_run_reads_its_upstream_values_and_writes_nothing() {
    let folder = Folder::new("task_test", "stored");
    let store = Arc::new(SqliteStore::open(folder.file("runs.db")).unwrap());
    let dag = numbers();
    dag.test_with(
        RunOptions::new()
            .log(false)
            .run_id("night")
            .store(store.clone()),
    )
    .unwrap();
    let before = store.task_instances("numbers", "night").unwrap();
    let extracted = EXTRACTED.load(Ordering::SeqCst);
    let report = dag
        .test_task(
            "publish",
            RunOptions::new()
                .log(false)
                .store(store.clone())
                .resume("night"),
        )
        .unwrap();
    assert_eq!(report.xcom::<u32>("publish").unwrap(), 41);
    // Its upstream tasks gave their stored values without running.
    assert!(report.task("double").unwrap().restored);
    assert_eq!(EXTRACTED.load(Ordering::SeqCst), extracted);
    // The store's run is as it was: the test wrote nothing.
    assert_eq!(store.task_instances("numbers", "night").unwrap(), before);
    assert_eq!(store.dag_runs("numbers", 10, 0).unwrap().len(), 1);
}

#[test]
fn a_task_test_of_an_unknown_task_is_an_error_naming_it() {
    let error = within(LIMIT, "a task test", || {
        numbers().test_task("dubble", RunOptions::new().log(false))
    })
    .unwrap_err();
    assert!(error.to_string().contains("dubble"), "{error}");
}
