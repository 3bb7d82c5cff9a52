//! Resuming stored runs: cleared tasks run again while finished ones give their stored
//! values, tries go on, marked states hold, a changed DAG resumes, and what cannot resume
//! says why.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use taskflow::prelude::*;
use taskflow::store::{Clear, SqliteStore, Store, set_state};
use taskflow_tests::bounded::within;
use taskflow_tests::folder::Folder;

/// The longest a run of these tests may take before it counts as hung.
const LIMIT: Duration = Duration::from_secs(60);

/// The store of one test, in its folder.
fn open_store(folder: &Folder) -> Arc<SqliteStore> {
    Arc::new(SqliteStore::open(folder.file("runs.db")).unwrap())
}

fn options(store: &Arc<SqliteStore>) -> RunOptions {
    RunOptions::new().log(false).store(store.clone())
}

fn test(dag: &Dag, options: RunOptions) -> RunReport {
    let dag = dag.clone();
    within(LIMIT, "the run", move || dag.test_with(options).unwrap())
}

/// Which task bodies ran, by name, across every run of one test.
#[derive(Default)]
struct Bodies(Mutex<Vec<String>>);

impl Bodies {
    fn ran(&self, name: impl Into<String>) {
        self.0.lock().unwrap().push(name.into());
    }

    fn count(&self, name: &str) -> usize {
        self.0.lock().unwrap().iter().filter(|n| *n == name).count()
    }
}

static CLEARED: Bodies = Bodies(Mutex::new(Vec::new()));

#[task]
fn source() -> u32 {
    CLEARED.ran("source");
    20
}

#[task]
fn plus_one(rows: u32) -> u32 {
    CLEARED.ran("plus_one");
    rows + 1
}

#[task]
fn twice(rows: u32) -> u32 {
    CLEARED.ran("twice");
    rows * 2
}

#[test]
fn a_cleared_task_runs_again_and_its_upstream_gives_its_stored_value() {
    let folder = Folder::new("resume", "cleared");
    let store = open_store(&folder);
    let dag = Dag::build("cleared", || {
        twice(plus_one(source()));
    })
    .unwrap();
    test(&dag, options(&store).run_id("r1"));
    assert_eq!(CLEARED.count("source"), 1);

    let cleared = dag
        .clear(&*store, &Clear::run("r1").task("plus_one").downstream())
        .unwrap();
    assert_eq!(cleared, 2);
    let states = |store: &SqliteStore| -> Vec<(String, TaskState)> {
        let mut states: Vec<_> = store
            .task_instances("cleared", "r1")
            .unwrap()
            .into_iter()
            .map(|ti| (ti.task_id, ti.state))
            .collect();
        states.sort();
        states
    };
    assert_eq!(
        states(&store),
        [
            ("plus_one".to_owned(), TaskState::None),
            ("source".to_owned(), TaskState::Success),
            ("twice".to_owned(), TaskState::None),
        ]
    );
    assert_eq!(
        store.xcom_json("cleared", "r1", "plus_one", None).unwrap(),
        None
    );

    let report = test(&dag, options(&store).resume("r1"));
    assert!(report.succeeded());
    assert_eq!(report.xcom::<u32>("twice").unwrap(), 42);
    assert_eq!(report.state("source"), TaskState::Success);
    assert_eq!(CLEARED.count("source"), 1, "a stored success ran again");
    assert_eq!(CLEARED.count("plus_one"), 2);
    assert_eq!(CLEARED.count("twice"), 2);
    // The cleared tasks' second tries are stored, after the first.
    let tries = store.tries("cleared", "r1", "twice", None).unwrap();
    assert_eq!(
        tries.iter().map(|t| t.try_number).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(
        store.xcom::<u32>("cleared", "r1", "twice", None).unwrap(),
        Some(42)
    );
    let runs = store.dag_runs("cleared", 10, 0).unwrap();
    assert_eq!(runs.len(), 1, "resuming made a second run: {runs:?}");
    assert_eq!(runs[0].state, DagRunState::Success);
}

static FLAKY_OK: AtomicU32 = AtomicU32::new(0);

#[task(retries = 1, retry_delay = "1m")]
fn fragile() -> Result<u32, TaskError> {
    if FLAKY_OK.load(Ordering::SeqCst) == 0 {
        return Err(TaskError::msg("the source is late"));
    }
    Ok(5)
}

#[task]
fn report_rows(rows: u32) -> u32 {
    rows
}

#[task]
fn independent() -> u32 {
    CLEARED.ran("independent");
    1
}

#[test]
fn only_failed_clears_the_failed_tasks_and_downstream_with_retries_anew() {
    let folder = Folder::new("resume", "only-failed");
    let store = open_store(&folder);
    let dag = Dag::build("only_failed", || {
        report_rows(fragile());
        independent();
    })
    .unwrap();
    let first = test(&dag, options(&store).run_id("r"));
    assert_eq!(first.state("fragile"), TaskState::Failed);
    assert_eq!(first.state("report_rows"), TaskState::UpstreamFailed);
    assert_eq!(first.try_number("fragile"), 2);

    let cleared = dag
        .clear(&*store, &Clear::run("r").only_failed().downstream())
        .unwrap();
    assert_eq!(cleared, 2, "fragile and report_rows, not independent");
    FLAKY_OK.store(1, Ordering::SeqCst);
    let resumed = test(&dag, options(&store).resume("r"));
    assert!(resumed.succeeded());
    assert_eq!(resumed.xcom::<u32>("report_rows").unwrap(), 5);
    assert_eq!(CLEARED.count("independent"), 1);
    // Its try count goes on: try 3 is its first after the clear.
    let tries = store.tries("only_failed", "r", "fragile", None).unwrap();
    let states: Vec<_> = tries.iter().map(|t| (t.try_number, t.state)).collect();
    assert_eq!(
        states,
        [
            (1, TaskState::UpForRetry),
            (2, TaskState::Failed),
            (3, TaskState::Success)
        ]
    );
}

static RETRIED: AtomicU32 = AtomicU32::new(0);

#[task(retries = 1, retry_delay = "1m")]
fn always_fails() -> Result<u32, TaskError> {
    RETRIED.fetch_add(1, Ordering::SeqCst);
    Err(TaskError::msg("still broken"))
}

#[test]
fn a_cleared_instance_has_its_retries_anew() {
    let folder = Folder::new("resume", "retries-anew");
    let store = open_store(&folder);
    let dag = Dag::build("retries_anew", || {
        always_fails();
    })
    .unwrap();
    test(&dag, options(&store).run_id("r"));
    assert_eq!(RETRIED.load(Ordering::SeqCst), 2);
    dag.clear(&*store, &Clear::run("r")).unwrap();
    let report = test(&dag, options(&store).resume("r"));
    assert_eq!(report.state("always_fails"), TaskState::Failed);
    assert_eq!(
        RETRIED.load(Ordering::SeqCst),
        4,
        "one try and its retry again"
    );
    assert_eq!(report.try_number("always_fails"), 4);
}

static MARKED: Bodies = Bodies(Mutex::new(Vec::new()));

#[task]
fn check_source() -> Result<(), TaskError> {
    MARKED.ran("check_source");
    Err(TaskError::msg("the source is late"))
}

#[task]
fn publish() -> u32 {
    MARKED.ran("publish");
    7
}

#[test]
fn a_task_marked_success_by_hand_lets_its_downstream_tasks_run_on_resume() {
    let folder = Folder::new("resume", "marked");
    let store = open_store(&folder);
    let dag = Dag::build("marked", || {
        let checked = check_source();
        let published = publish();
        checked >> published;
    })
    .unwrap();
    let first = test(&dag, options(&store).run_id("r"));
    assert_eq!(first.state("publish"), TaskState::UpstreamFailed);

    set_state(
        &*store,
        "marked",
        "r",
        "check_source",
        None,
        TaskState::Success,
    )
    .unwrap();
    dag.clear(&*store, &Clear::run("r").task("publish"))
        .unwrap();
    let resumed = test(&dag, options(&store).resume("r"));
    assert!(
        resumed.succeeded(),
        "{}",
        resumed.task_ids_in(TaskState::Failed).join(",")
    );
    assert_eq!(resumed.state("check_source"), TaskState::Success);
    assert_eq!(resumed.xcom::<u32>("publish").unwrap(), 7);
    assert_eq!(MARKED.count("check_source"), 1, "a marked task ran again");

    // Marked failed, it fails the resumed run without running.
    set_state(&*store, "marked", "r", "publish", None, TaskState::Failed).unwrap();
    let again = test(&dag, options(&store).resume("r"));
    assert_eq!(again.state("publish"), TaskState::Failed);
    assert!(!again.succeeded());
    assert_eq!(MARKED.count("publish"), 1);
}

static CHANGED: Bodies = Bodies(Mutex::new(Vec::new()));

#[task]
fn kept() -> u32 {
    CHANGED.ran("kept");
    3
}

#[task]
fn dropped(rows: u32) -> u32 {
    rows
}

#[task]
fn added(rows: u32) -> u32 {
    CHANGED.ran("added");
    rows + 100
}

#[test]
fn a_changed_dag_runs_its_new_tasks_and_marks_the_missing_ones_removed() {
    let folder = Folder::new("resume", "changed");
    let store = open_store(&folder);
    let before = Dag::build("changed", || {
        dropped(kept());
    })
    .unwrap();
    test(&before, options(&store).run_id("r"));
    let after = Dag::build("changed", || {
        added(kept());
    })
    .unwrap();
    assert_ne!(before.fingerprint(), after.fingerprint());

    let report = test(&after, options(&store).resume("r"));
    assert!(report.succeeded());
    assert_eq!(report.xcom::<u32>("added").unwrap(), 103);
    assert_eq!(CHANGED.count("kept"), 1);
    assert_eq!(CHANGED.count("added"), 1);
    let notes = report.resume_notes();
    assert!(
        notes.iter().any(|note| note.contains("the DAG changed")),
        "{notes:?}"
    );
    let instances = store.task_instances("changed", "r").unwrap();
    let dropped = instances.iter().find(|ti| ti.task_id == "dropped").unwrap();
    assert_eq!(dropped.state, TaskState::Removed);
}

#[task]
fn count_rows() -> u32 {
    12
}

#[task]
fn label_rows() -> String {
    "twelve".to_owned()
}

#[task]
fn show(_value: String) {}

#[test]
fn a_stored_value_that_no_longer_decodes_is_an_error_naming_the_task_and_both_types() {
    let folder = Folder::new("resume", "retyped");
    let store = open_store(&folder);
    let before = Dag::build("retyped", || {
        count_rows::with(TaskOptions::new().task_id("rows")).add();
    })
    .unwrap();
    test(&before, options(&store).run_id("r"));
    let after = Dag::build("retyped", || {
        let rows = label_rows::with(TaskOptions::new().task_id("rows")).add();
        show(rows);
    })
    .unwrap();
    let error = after
        .test_with(options(&store).resume("r"))
        .unwrap_err()
        .to_string();
    assert!(error.contains("task `rows`"), "{error}");
    assert!(error.contains("u32"), "{error}");
    assert!(error.contains("String"), "{error}");
}

/// A value that does not encode as JSON.
struct Connection(u32);

static OPAQUE: Bodies = Bodies(Mutex::new(Vec::new()));

#[task]
fn connect() -> Connection {
    OPAQUE.ran("connect");
    Connection(9)
}

#[task]
fn query(connection: Connection) -> u32 {
    OPAQUE.ran("query");
    connection.0 * 2
}

#[test]
fn a_success_whose_value_was_not_stored_runs_again_when_a_task_that_runs_needs_it() {
    let folder = Folder::new("resume", "opaque");
    let store = open_store(&folder);
    let dag = Dag::build("opaque", || {
        query(connect());
    })
    .unwrap();
    test(&dag, options(&store).run_id("r"));
    dag.clear(&*store, &Clear::run("r").task("query")).unwrap();
    let report = test(&dag, options(&store).resume("r"));
    assert!(report.succeeded());
    assert_eq!(report.xcom::<u32>("query").unwrap(), 18);
    assert_eq!(OPAQUE.count("connect"), 2);
    let notes = report.resume_notes();
    assert!(
        notes
            .iter()
            .any(|note| note.contains("`connect` runs again") && note.contains("`query` needs it")),
        "{notes:?}"
    );
}

#[test]
fn resuming_a_run_the_store_does_not_have_is_an_error() {
    let folder = Folder::new("resume", "missing");
    let store = open_store(&folder);
    let dag = Dag::build("missing", || {
        count_rows();
    })
    .unwrap();
    let error = dag
        .test_with(options(&store).resume("never"))
        .unwrap_err()
        .to_string();
    assert!(error.contains("no run `never`"), "{error}");
    let error = dag
        .test_with(RunOptions::new().resume("never"))
        .unwrap_err()
        .to_string();
    assert!(error.contains("needs a store"), "{error}");
}

static MAPPED: Bodies = Bodies(Mutex::new(Vec::new()));

#[task]
fn triple(x: u32) -> u32 {
    MAPPED.ran(format!("triple {x}"));
    x * 3
}

#[task]
fn total(values: Vec<u32>) -> u32 {
    values.iter().sum()
}

#[test]
fn a_cleared_instance_of_a_mapped_task_runs_alone_on_resume() {
    let folder = Folder::new("resume", "mapped");
    let store = open_store(&folder);
    let dag = Dag::build("mapped", || {
        total(triple::expand(each(vec![1u32, 2, 3])));
    })
    .unwrap();
    test(&dag, options(&store).run_id("r"));
    // The instance at map index 1, and the tasks that depend on it.
    for (task, map_index) in [("triple", Some(1)), ("triple", None), ("total", None)] {
        set_state(&*store, "mapped", "r", task, map_index, TaskState::None).unwrap();
    }
    let report = test(&dag, options(&store).resume("r"));
    assert!(
        report.succeeded(),
        "{}",
        report.task_ids_in(TaskState::Failed).join(",")
    );
    assert_eq!(report.xcom::<u32>("total").unwrap(), 18);
    assert_eq!(MAPPED.count("triple 1"), 1);
    assert_eq!(
        MAPPED.count("triple 2"),
        2,
        "only the cleared instance runs again"
    );
    assert_eq!(MAPPED.count("triple 3"), 1);
    assert_eq!(
        store
            .xcom::<Vec<u32>>("mapped", "r", "triple", None)
            .unwrap(),
        Some(vec![3, 6, 9])
    );
}

#[test]
fn clear_over_a_range_of_dates_clears_the_runs_in_it_only() {
    let folder = Folder::new("resume", "range");
    let store = open_store(&folder);
    let dag = Dag::build("range", || {
        count_rows();
    })
    .unwrap();
    for day in 1..=4 {
        let date = format!("2026-01-0{day}T00:00:00Z").parse().unwrap();
        test(
            &dag,
            options(&store)
                .run_id(format!("day{day}"))
                .logical_date(date),
        );
    }
    let start = "2026-01-02T00:00:00Z".parse().unwrap();
    let end = "2026-01-03T00:00:00Z".parse().unwrap();
    let cleared = dag.clear(&*store, &Clear::dates(start, end)).unwrap();
    assert_eq!(cleared, 2);
    for (run, state) in [
        ("day1", TaskState::Success),
        ("day2", TaskState::None),
        ("day3", TaskState::None),
        ("day4", TaskState::Success),
    ] {
        let instances = store.task_instances("range", run).unwrap();
        assert_eq!(instances[0].state, state, "{run}");
    }
    // A resumed run keeps its logical date.
    let report = test(&dag, options(&store).resume("day2"));
    assert!(report.succeeded());
    let runs = store.dag_runs("range", 10, 0).unwrap();
    let day2 = runs.iter().find(|run| run.run_id == "day2").unwrap();
    assert_eq!(day2.logical_date, start);
    assert_eq!(day2.state, DagRunState::Success);
    assert_eq!(runs.len(), 4);
}

#[test]
fn clearing_an_unknown_task_or_marking_an_unknown_run_is_an_error() {
    let folder = Folder::new("resume", "unknown");
    let store = open_store(&folder);
    let dag = Dag::build("unknown", || {
        count_rows();
    })
    .unwrap();
    let error = dag
        .clear(&*store, &Clear::run("r").task("nope"))
        .unwrap_err()
        .to_string();
    assert!(error.contains("nope"), "{error}");
    let error = set_state(
        &*store,
        "unknown",
        "never",
        "count_rows",
        None,
        TaskState::Success,
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("no run `never` of dag `unknown`"), "{error}");
}

static PUSHED: Bodies = Bodies(Mutex::new(Vec::new()));

#[task]
fn measure(ctx: &Context) -> u32 {
    PUSHED.ran("measure");
    ctx.xcom_push("label", format!("rows in {}", ctx.run_id()));
    ctx.xcom_push("rows", 42u64);
    1
}

#[task]
fn label(ctx: &Context, _done: u32) -> String {
    let rows: u64 = ctx.xcom_pull("measure", "rows").unwrap();
    let label: String = ctx.xcom_pull("measure", "label").unwrap();
    format!("{label}: {rows}")
}

#[task]
fn per_word(ctx: &Context, word: String) -> usize {
    ctx.xcom_push("upper", word.to_uppercase());
    word.len()
}

#[task]
fn uppers(ctx: &Context, _lengths: Vec<usize>) -> Vec<String> {
    ctx.xcom_pull_mapped("per_word", "upper").unwrap()
}

#[test]
fn keyed_pushes_are_stored_and_a_resumed_run_pulls_them_back() {
    let folder = Folder::new("resume", "pushes");
    let store = open_store(&folder);
    let dag = Dag::build("pushes", || {
        label(measure());
        uppers(per_word::expand(each(vec![
            "a".to_owned(),
            "bc".to_owned(),
        ])));
    })
    .unwrap();
    test(&dag, options(&store).run_id("r"));
    let stored = store.load_run("pushes", "r").unwrap().unwrap();
    let measure = stored
        .instances
        .iter()
        .find(|instance| instance.task_id == "measure")
        .unwrap();
    assert_eq!(measure.xcom("rows"), Some(("u64", &serde_json::json!(42))));
    dag.clear(&*store, &Clear::run("r").tasks(["label", "uppers"]))
        .unwrap();
    let report = test(&dag, options(&store).resume("r"));
    assert!(report.succeeded());
    assert_eq!(PUSHED.count("measure"), 1);
    assert_eq!(report.xcom::<String>("label").unwrap(), "rows in r: 42");
    assert_eq!(report.xcom::<Vec<String>>("uppers").unwrap(), ["A", "BC"]);
}

static ON_EXECUTOR: Bodies = Bodies(Mutex::new(Vec::new()));

#[task]
fn nightly_extract() -> u32 {
    ON_EXECUTOR.ran("nightly_extract");
    4
}

#[task]
fn nightly_load(rows: u32) -> u32 {
    ON_EXECUTOR.ran("nightly_load");
    rows * 10
}

#[test]
fn an_executor_resumes_a_stored_run_by_its_id() {
    let folder = Folder::new("resume", "executor");
    let store = open_store(&folder);
    let dag = Dag::build("on_executor", || {
        nightly_load(nightly_extract());
    })
    .unwrap();
    let executor = Executor::builder().virtual_time(true).build().unwrap();
    let first = executor
        .submit(&dag, options(&store).run_id("nightly"))
        .unwrap();
    assert!(within(LIMIT, "the first run", move || first.wait().unwrap()).succeeded());
    dag.clear(&*store, &Clear::run("nightly").task("nightly_load"))
        .unwrap();
    let resumed = executor
        .submit(&dag, options(&store).resume("nightly"))
        .unwrap();
    let report = within(LIMIT, "the resumed run", move || resumed.wait().unwrap());
    assert!(report.succeeded());
    assert_eq!(report.xcom::<u32>("nightly_load").unwrap(), 40);
    assert!(report.task("nightly_extract").unwrap().restored);
    assert!(!report.task("nightly_load").unwrap().restored);
    assert_eq!(ON_EXECUTOR.count("nightly_extract"), 1);
    assert_eq!(ON_EXECUTOR.count("nightly_load"), 2);
}

#[task]
fn observed_start(ctx: &Context) -> u32 {
    // By the time the body runs, its try's start is in the store (per-task durability).
    let path = ctx.param::<String>("store").unwrap();
    let store = SqliteStore::open(path).unwrap();
    let tries = store
        .tries("per_task", ctx.run_id(), "observed_start", None)
        .unwrap();
    tries.len() as u32 * 100 + u32::from(tries[0].state == TaskState::Running)
}

#[task]
fn observed_end(ctx: &Context, _start: u32) -> String {
    // Its upstream task's success is in the store before this task starts.
    let path = ctx.param::<String>("store").unwrap();
    let store = SqliteStore::open(path).unwrap();
    let instances = store.task_instances("per_task", ctx.run_id()).unwrap();
    let upstream = instances
        .iter()
        .find(|ti| ti.task_id == "observed_start")
        .unwrap();
    upstream.state.to_string()
}

#[test]
fn per_task_durability_writes_a_start_before_the_body_and_an_end_before_the_downstream_tasks() {
    let folder = Folder::new("resume", "per-task");
    let store = open_store(&folder);
    let dag = Dag::build("per_task", || {
        observed_end(observed_start());
    })
    .unwrap();
    let path = folder.file("runs.db").display().to_string();
    let report = test(
        &dag,
        options(&store)
            .run_id("r")
            .param("store", path)
            .durability(taskflow::store::Durability::PerTask),
    );
    assert!(report.succeeded(), "{:?}", report.error("observed_start"));
    assert_eq!(report.xcom::<u32>("observed_start").unwrap(), 101);
    assert_eq!(report.xcom::<String>("observed_end").unwrap(), "success");
}
