//! The command line of `taskflow::cli`, through a real binary (`src/bin/pipelines.rs`, with
//! the DAGs `sales`, `intervals`, `adhoc` and `hourly`): each command's output in each
//! format, its exit code, where the store is, and what a mistake in the arguments gets. Each
//! test keeps its store in a folder of its own; the `scheduler` runs on real time for 3
//! seconds at most.

use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use taskflow::prelude::*;
use taskflow::store::{SqliteStore, Store};
use taskflow_tests::folder::Folder;

/// The longest one command may take before it counts as hung.
const LIMIT: Duration = Duration::from_secs(60);

/// The `pipelines` binary with no store place of its own: no `TASKFLOW_HOME`, and a home
/// folder in `folder`, whatever the environment of the tests says.
fn bare(folder: &Folder) -> assert_cmd::Command {
    let mut command = assert_cmd::Command::new(env!("CARGO_BIN_EXE_pipelines"));
    command
        .env_remove("TASKFLOW_HOME")
        .env_remove("PIPELINES_BROKEN")
        .env_remove("PIPELINES_NO_POOLS")
        .env("HOME", folder.path())
        .timeout(LIMIT);
    command
}

/// What a command did: its exit code, stdout and stderr.
struct Ran {
    code: i32,
    out: String,
    err: String,
}

fn ran(output: Output) -> Ran {
    let ran = Ran {
        code: output
            .status
            .code()
            .expect("the command exited, not killed"),
        out: String::from_utf8(output.stdout).expect("utf-8 output"),
        err: String::from_utf8(output.stderr).expect("utf-8 messages"),
    };
    assert!(!ran.err.contains("panicked"), "a panic: {}", ran.err);
    ran
}

/// Runs `pipelines --store <folder>/runs.db ARGS...`.
fn run(folder: &Folder, args: &[&str]) -> Ran {
    let store = folder.file("runs.db");
    let output = bare(folder)
        .arg("--store")
        .arg(&store)
        .args(args)
        .output()
        .expect("the binary runs");
    ran(output)
}

/// Like [`run`], expecting exit code 0.
fn ok(folder: &Folder, args: &[&str]) -> String {
    let ran = run(folder, args);
    assert_eq!(ran.code, 0, "{args:?} failed: {}{}", ran.out, ran.err);
    ran.out
}

/// `dags test sales DAY` with a conf that makes its run fail (exit code 1).
fn fail_a_test_run(folder: &Folder, day: &str) {
    let ran = run(
        folder,
        &["dags", "test", "sales", day, "-c", r#"{"fail": true}"#],
    );
    assert_eq!(ran.code, 1, "{}{}", ran.out, ran.err);
}

/// Like [`ok`], parsing the JSON it prints.
fn json_of(folder: &Folder, args: &[&str]) -> Value {
    let out = ok(folder, args);
    serde_json::from_str(&out).unwrap_or_else(|error| panic!("{args:?}: {error}: {out}"))
}

/// The column `key` of each row of a JSON listing.
fn column(rows: &Value, key: &str) -> Vec<Value> {
    rows.as_array()
        .expect("a JSON list")
        .iter()
        .map(|row| row[key].clone())
        .collect()
}

#[task]
fn kept() {}

/// Keeps a run of `dag_id` with id `run_id` in the store at `path`, as another process
/// would (a scheduler, a backfill): a one-task DAG under that id.
fn keep_run(path: &Path, dag_id: &str, run_id: &str, logical_date: &str) {
    let store = Arc::new(SqliteStore::open(path).expect("the store opens"));
    let dag = Dag::build(dag_id, || {
        kept();
    })
    .expect("the DAG builds");
    let report = dag
        .test_with(
            RunOptions::new()
                .log(false)
                .run_id(run_id)
                .logical_date(logical_date.parse().expect("a date"))
                .store(store),
        )
        .expect("the run runs");
    assert!(report.succeeded());
}

#[test]
fn dags_list_shows_every_dag_by_id_in_each_format() {
    let folder = Folder::new("cli", "dags-list");
    let table = ok(&folder, &["dags", "list"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0],
        "dag_id    | is_paused | schedule                   | tasks | timezone | start_date                | end_date | catchup"
    );
    assert!(lines[1].starts_with("==========+===========+"), "{table}");
    assert!(
        lines[2].starts_with(
            "adhoc     | false     | None                       | 2     | UTC      | None"
        ),
        "{table}"
    );
    assert!(
        lines[3].starts_with("hourly    | false     | @hourly                    | 1"),
        "{table}"
    );
    assert!(
        lines[4].starts_with("intervals | false     | 0 0 * * * (data intervals) | 1"),
        "{table}"
    );
    assert!(lines[5].starts_with(
        "sales     | false     | @daily                     | 3     | UTC      | 2026-01-01T00:00:00+00:00"
    ));
    assert_eq!(lines.len(), 6);

    let rows = json_of(&folder, &["dags", "list", "-o", "json"]);
    assert_eq!(
        column(&rows, "dag_id"),
        ["adhoc", "hourly", "intervals", "sales"]
    );
    assert_eq!(
        rows[3],
        json!({"dag_id": "sales", "is_paused": false, "schedule": "@daily", "tasks": 3,
               "timezone": "UTC", "start_date": "2026-01-01T00:00:00+00:00", "end_date": null,
               "catchup": true})
    );

    let yaml = ok(&folder, &["dags", "list", "--output", "yaml"]);
    assert!(
        yaml.starts_with("- dag_id: adhoc\n  is_paused: false\n  schedule: None\n  tasks: 2\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("- dag_id: sales\n  is_paused: false\n  schedule: '@daily'\n  tasks: 3\n"),
        "{yaml}"
    );

    let plain = ok(&folder, &["dags", "list", "-o", "plain"]);
    assert!(
        plain.starts_with("dag_id     is_paused  schedule"),
        "{plain}"
    );
    assert!(!plain.contains('|') && !plain.contains("=="), "{plain}");
    assert!(
        !folder.file("runs.db").exists(),
        "listing DAGs makes no store"
    );
}

#[test]
fn dags_show_prints_dot_by_default_and_mermaid_on_request() {
    let folder = Folder::new("cli", "dags-show");
    let dot = ok(&folder, &["dags", "show", "sales"]);
    assert!(dot.starts_with("digraph \"sales\" {"), "{dot}");
    assert!(dot.contains("\"extract\" -> \"transform\";"));
    assert!(dot.contains("\"transform\" -> \"load\";"));
    let mermaid = ok(&folder, &["dags", "show", "sales", "--mermaid"]);
    assert_eq!(
        mermaid,
        "flowchart LR\n  t0[\"extract\"]\n  t1[\"transform\"]\n  t2[\"load\"]\n  t0 --> t1\n  t1 --> t2\n"
    );
}

#[test]
fn dags_test_keeps_the_run_in_the_store_and_list_runs_shows_it_newest_first() {
    let folder = Folder::new("cli", "dags-test");
    let out = ok(&folder, &["dags", "test", "sales", "2026-01-03"]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("dag sales run manual__2026-01-03T00:00:00+00:00: success in "),
        "{out}"
    );
    for task in ["extract", "transform", "load"] {
        assert!(
            lines
                .iter()
                .any(|line| line.starts_with(task) && line.contains("success")),
            "{task} in {out}"
        );
    }
    ok(&folder, &["dags", "test", "sales", "2026-01-05T06:00:00"]);

    let runs = json_of(&folder, &["dags", "list-runs", "sales", "-o", "json"]);
    assert_eq!(
        column(&runs, "run_id"),
        [
            "manual__2026-01-05T06:00:00+00:00",
            "manual__2026-01-03T00:00:00+00:00"
        ]
    );
    assert_eq!(column(&runs, "state"), ["success", "success"]);
    assert_eq!(column(&runs, "run_type"), ["manual", "manual"]);
    assert_eq!(runs[1]["logical_date"], "2026-01-03T00:00:00+00:00");
    assert!(runs[1]["start_date"].is_string() && runs[1]["end_date"].is_string());

    let table = ok(&folder, &["dags", "list-runs", "sales"]);
    let header = table.lines().next().unwrap();
    assert_eq!(
        header.split(" | ").map(str::trim).collect::<Vec<_>>(),
        [
            "dag_id",
            "run_id",
            "state",
            "run_type",
            "logical_date",
            "start_date",
            "end_date"
        ]
    );
    assert_eq!(table.lines().count(), 4, "{table}");
    let yaml = ok(&folder, &["dags", "list-runs", "sales", "-o", "yaml"]);
    assert!(yaml.starts_with("- dag_id: sales\n  run_id: manual__2026-01-05T06:00:00+00:00\n"));
    let plain = ok(&folder, &["dags", "list-runs", "sales", "-o", "plain"]);
    assert_eq!(plain.lines().count(), 3, "{plain}");
    // Other DAGs' runs are their own.
    assert_eq!(
        ok(&folder, &["dags", "list-runs", "adhoc"]),
        "No data found\n"
    );
    assert_eq!(
        json_of(&folder, &["dags", "list-runs", "adhoc", "-o", "json"]),
        json!([])
    );
}

#[test]
fn dags_test_of_a_run_that_fails_exits_1_with_the_error_in_its_table() {
    let folder = Folder::new("cli", "dags-test-fails");
    let ran = run(
        &folder,
        &[
            "dags",
            "test",
            "sales",
            "2026-01-04",
            "-c",
            r#"{"fail": true}"#,
        ],
    );
    assert_eq!(ran.code, 1, "{}{}", ran.out, ran.err);
    assert!(ran.out.contains(": failed in "), "{}", ran.out);
    let load = ran
        .out
        .lines()
        .find(|line| line.starts_with("load"))
        .unwrap();
    assert!(load.contains("failed") && load.contains("the warehouse is read-only"));
    let runs = json_of(&folder, &["dags", "list-runs", "sales", "-o", "json"]);
    assert_eq!(column(&runs, "state"), ["failed"]);
    // The conf reached the run: without it the same DAG succeeds.
    ok(
        &folder,
        &[
            "dags",
            "test",
            "sales",
            "2026-01-05",
            "--conf",
            r#"{"fail": false}"#,
        ],
    );
}

#[test]
fn a_task_printing_to_stdout_during_dags_test_does_not_hang_the_run() {
    let folder = Folder::new("cli", "task-prints");
    let out = ok(&folder, &["dags", "test", "intervals", "2026-01-01"]);
    assert!(out.starts_with("report: written\n"), "{out}");
    assert!(out.contains("dag intervals run manual__2026-01-01T00:00:00+00:00: success"));
}

#[test]
fn dags_test_runs_tasks_in_the_pools_the_program_declares() {
    let folder = Folder::new("cli", "pools");
    let out = ok(&folder, &["dags", "test", "sales", "2026-01-01"]);
    assert!(
        out.lines()
            .any(|line| line.starts_with("load") && line.contains("success"))
    );
    let undeclared = ran(bare(&folder)
        .env("PIPELINES_NO_POOLS", "1")
        .arg("--store")
        .arg(folder.file("runs.db"))
        .args(["dags", "test", "sales", "2026-01-02"])
        .output()
        .unwrap());
    assert_eq!(undeclared.code, 1);
    assert!(undeclared.err.contains("warehouse"), "{}", undeclared.err);
}

#[test]
fn dags_test_twice_at_one_logical_date_is_refused_and_keeps_the_first_run() {
    let folder = Folder::new("cli", "dags-test-twice");
    ok(&folder, &["dags", "test", "sales", "2026-01-03"]);
    let again = run(&folder, &["dags", "test", "sales", "2026-01-03T00:00:00Z"]);
    assert_eq!(again.code, 1);
    assert!(
        again
            .err
            .contains("dag `sales` already has run `manual__2026-01-03T00:00:00+00:00`"),
        "{}",
        again.err
    );
    assert_eq!(
        json_of(&folder, &["dags", "list-runs", "sales", "-o", "json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn dags_test_draws_a_progress_bar_on_stderr_only_when_asked_off_a_terminal() {
    let folder = Folder::new("cli", "progress");
    let quiet = run(&folder, &["dags", "test", "adhoc", "2026-01-01"]);
    assert_eq!(quiet.code, 0);
    assert_eq!(quiet.err, "", "no terminal, no bar");
    let drawn = run(
        &folder,
        &["dags", "test", "adhoc", "2026-01-02", "--progress"],
    );
    assert_eq!(drawn.code, 0, "{}", drawn.err);
    // The last frame: every task ended (the mapped task, its two instances, their sum).
    let last = drawn.err.rsplit(" tasks").nth(1).expect("a frame");
    let counts = last.rsplit(' ').next().unwrap();
    let (ended, of) = counts.split_once('/').expect("ended/of");
    assert_eq!(ended, of, "{:?}", drawn.err);
    assert!(ended.parse::<u32>().unwrap() >= 3, "{:?}", drawn.err);
    assert!(
        drawn
            .err
            .contains("adhoc manual__2026-01-02T00:00:00+00:00")
    );
    assert!(!drawn.out.contains("tasks ("), "the bar stays off stdout");
    let both = run(
        &folder,
        &["dags", "test", "adhoc", "--progress", "--no-progress"],
    );
    assert_eq!(both.code, 2, "{}", both.err);
}

#[test]
fn dags_test_show_dagrun_prints_the_run_graph_coloured_by_state() {
    let folder = Folder::new("cli", "show-dagrun");
    let ran = run(
        &folder,
        &[
            "dags",
            "test",
            "sales",
            "2026-01-03",
            "--show-dagrun",
            "-c",
            r#"{"fail": true}"#,
        ],
    );
    assert_eq!(ran.code, 1);
    assert!(ran.out.contains("digraph \"sales\" {"), "{}", ran.out);
    assert!(
        ran.out
            .contains("\"load\" [fillcolor=\"#ff0000\", tooltip=\"failed\"];")
    );
    assert!(
        ran.out
            .contains("\"extract\" [fillcolor=\"#008000\", tooltip=\"success\"];")
    );
}

#[test]
fn list_runs_filters_by_state_dates_and_backfill() {
    let folder = Folder::new("cli", "list-runs-filters");
    ok(&folder, &["dags", "test", "sales", "2026-01-01"]);
    fail_a_test_run(&folder, "2026-01-02");
    ok(&folder, &["dags", "test", "sales", "2026-01-03"]);
    keep_run(
        &folder.file("runs.db"),
        "sales",
        "backfill__2026-01-04T00:00:00+00:00",
        "2026-01-04T00:00:00Z",
    );
    let ids = |args: &[&str]| {
        let mut all = vec!["dags", "list-runs", "sales", "-o", "json"];
        all.extend(args);
        column(&json_of(&folder, &all), "logical_date")
            .into_iter()
            .map(|date| date.as_str().unwrap()[..10].to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(&[]),
        ["2026-01-04", "2026-01-03", "2026-01-02", "2026-01-01"]
    );
    assert_eq!(ids(&["--state", "failed"]), ["2026-01-02"]);
    assert_eq!(
        ids(&["--state", "success", "--no-backfill"]),
        ["2026-01-03", "2026-01-01"]
    );
    assert_eq!(
        ids(&["-s", "2026-01-02", "-e", "2026-01-03"]),
        ["2026-01-03", "2026-01-02"]
    );
    assert_eq!(
        ids(&["--start-date", "2026-01-03"]),
        ["2026-01-04", "2026-01-03"]
    );
    assert_eq!(
        ids(&["--end-date", "2026-01-01T00:00:00+00:00"]),
        ["2026-01-01"]
    );
    let backfill = json_of(
        &folder,
        &[
            "dags",
            "list-runs",
            "sales",
            "-o",
            "json",
            "-s",
            "2026-01-04",
        ],
    );
    assert_eq!(backfill[0]["run_type"], "backfill");
    let bad_state = run(
        &folder,
        &["dags", "list-runs", "sales", "--state", "sleepy"],
    );
    assert_eq!(bad_state.code, 2);
    assert!(
        bad_state.err.contains("invalid value 'sleepy'"),
        "{}",
        bad_state.err
    );
}

#[test]
fn next_execution_follows_the_latest_scheduled_run_in_the_store() {
    let folder = Folder::new("cli", "next-execution");
    // No automated run yet: catchup from the start date.
    assert_eq!(
        ok(&folder, &["dags", "next-execution", "sales"]),
        "2026-01-01T00:00:00+00:00\n"
    );
    assert_eq!(
        ok(&folder, &["dags", "next-execution", "sales", "-n", "3"]),
        "2026-01-01T00:00:00+00:00\n2026-01-02T00:00:00+00:00\n2026-01-03T00:00:00+00:00\n"
    );
    // Manual runs do not count; the latest scheduled one does, wherever it is in the list.
    ok(&folder, &["dags", "test", "sales", "2026-03-01"]);
    let store = folder.file("runs.db");
    keep_run(
        &store,
        "sales",
        "scheduled__2026-01-09T00:00:00+00:00",
        "2026-01-09T00:00:00Z",
    );
    keep_run(
        &store,
        "sales",
        "scheduled__2026-01-10T00:00:00+00:00",
        "2026-01-10T00:00:00Z",
    );
    assert_eq!(
        ok(
            &folder,
            &["dags", "next-execution", "sales", "--num-executions", "2"]
        ),
        "2026-01-11T00:00:00+00:00\n2026-01-12T00:00:00+00:00\n"
    );
}

#[test]
fn next_execution_of_a_data_interval_timetable_starts_where_the_last_interval_ends() {
    let folder = Folder::new("cli", "next-execution-intervals");
    let store = folder.file("runs.db");
    keep_run(
        &store,
        "intervals",
        "scheduled__2026-01-09T00:00:00+00:00",
        "2026-01-09T00:00:00Z",
    );
    // The run of 9 January covered that day; the next one covers the 10th.
    assert_eq!(
        ok(&folder, &["dags", "next-execution", "intervals", "-n", "2"]),
        "2026-01-10T00:00:00+00:00\n2026-01-11T00:00:00+00:00\n"
    );
}

#[test]
fn next_execution_of_a_dag_without_schedule_is_none_with_a_warning() {
    let folder = Folder::new("cli", "next-execution-none");
    let ran = run(&folder, &["dags", "next-execution", "adhoc", "-n", "3"]);
    assert_eq!(ran.code, 0);
    assert_eq!(ran.out, "None\n");
    assert!(
        ran.err.contains("dag `adhoc` has no schedule"),
        "{}",
        ran.err
    );
    let zero = run(&folder, &["dags", "next-execution", "sales", "-n", "0"]);
    assert_eq!(zero.code, 2, "{}", zero.err);
}

#[test]
fn tasks_list_prints_the_task_ids_sorted() {
    let folder = Folder::new("cli", "tasks-list");
    assert_eq!(
        ok(&folder, &["tasks", "list", "sales"]),
        "extract\nload\ntransform\n"
    );
    assert_eq!(ok(&folder, &["tasks", "list", "adhoc"]), "double\nsum\n");
}

#[test]
fn states_for_dag_run_lists_each_instance_by_run_id_or_logical_date() {
    let folder = Folder::new("cli", "states");
    ok(&folder, &["dags", "test", "adhoc", "2026-01-02"]);
    let rows = json_of(
        &folder,
        &[
            "tasks",
            "states-for-dag-run",
            "adhoc",
            "manual__2026-01-02T00:00:00+00:00",
            "-o",
            "json",
        ],
    );
    let instances: Vec<(Value, Value, Value)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["task_id"].clone(),
                row["map_index"].clone(),
                row["state"].clone(),
            )
        })
        .collect();
    assert_eq!(
        instances,
        [
            (json!("double"), json!(0), json!("success")),
            (json!("double"), json!(1), json!("success")),
            (json!("sum"), json!(-1), json!("success")),
        ]
    );
    assert_eq!(rows[0]["dag_id"], "adhoc");
    assert_eq!(rows[0]["logical_date"], "2026-01-02T00:00:00+00:00");
    assert_eq!(rows[0]["try_number"], 1);
    assert!(rows[0]["start_date"].is_string());

    let by_date = ok(
        &folder,
        &["tasks", "states-for-dag-run", "adhoc", "2026-01-02"],
    );
    let header = by_date.lines().next().unwrap();
    assert_eq!(
        header.split(" | ").map(str::trim).collect::<Vec<_>>(),
        [
            "dag_id",
            "logical_date",
            "task_id",
            "map_index",
            "state",
            "try_number",
            "start_date",
            "end_date"
        ]
    );
    assert_eq!(by_date.lines().count(), 5, "{by_date}");
    let yaml = ok(
        &folder,
        &[
            "tasks",
            "states-for-dag-run",
            "adhoc",
            "2026-01-02",
            "-o",
            "yaml",
        ],
    );
    assert!(
        yaml.contains("  task_id: sum\n  map_index: -1\n  state: success\n"),
        "{yaml}"
    );
    let plain = ok(
        &folder,
        &[
            "tasks",
            "states-for-dag-run",
            "adhoc",
            "2026-01-02",
            "-o",
            "plain",
        ],
    );
    assert!(
        plain
            .lines()
            .nth(3)
            .unwrap()
            .starts_with("adhoc   2026-01-02T00:00:00+00:00  sum"),
        "{plain}"
    );

    let missing = run(
        &folder,
        &["tasks", "states-for-dag-run", "adhoc", "manual__never"],
    );
    assert_eq!(missing.code, 1);
    assert!(
        missing
            .err
            .contains("dag `adhoc` has no run `manual__never`"),
        "{}",
        missing.err
    );
}

/// The state of each task of `sales` in its run of `day` (`2026-01-0N`).
fn sales_states(folder: &Folder, day: &str) -> Vec<(String, String)> {
    let rows = json_of(
        folder,
        &["tasks", "states-for-dag-run", "sales", day, "-o", "json"],
    );
    rows.as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let text = |key: &str| row[key].as_str().unwrap().to_owned();
            (text("task_id"), text("state"))
        })
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(task, state)| ((*task).to_owned(), (*state).to_owned()))
        .collect()
}

#[test]
fn tasks_clear_refuses_without_a_terminal_or_yes_and_clears_nothing() {
    let folder = Folder::new("cli", "clear-refused");
    ok(&folder, &["dags", "test", "sales", "2026-01-01"]);
    let ran = run(&folder, &["tasks", "clear", "sales"]);
    assert_eq!(ran.code, 1);
    assert!(ran.err.contains("pass -y/--yes"), "{}", ran.err);
    assert_eq!(
        sales_states(&folder, "2026-01-01"),
        pairs(&[
            ("extract", "success"),
            ("transform", "success"),
            ("load", "success")
        ])
    );
}

#[test]
fn tasks_clear_only_failed_clears_the_failed_instances_of_the_dates_given() {
    let folder = Folder::new("cli", "clear-failed");
    for day in ["2026-01-01", "2026-01-02"] {
        fail_a_test_run(&folder, day);
    }
    let out = ok(
        &folder,
        &[
            "tasks",
            "clear",
            "sales",
            "-f",
            "-s",
            "2026-01-02",
            "-e",
            "2026-01-02",
            "-y",
        ],
    );
    assert_eq!(out, "cleared 1 task instance of dag `sales`\n");
    assert_eq!(
        sales_states(&folder, "2026-01-02"),
        pairs(&[
            ("extract", "success"),
            ("transform", "success"),
            ("load", "none")
        ])
    );
    assert_eq!(
        sales_states(&folder, "2026-01-01"),
        pairs(&[
            ("extract", "success"),
            ("transform", "success"),
            ("load", "failed")
        ])
    );
}

#[test]
fn tasks_clear_task_regex_with_downstream_clears_those_tasks_in_every_run() {
    let folder = Folder::new("cli", "clear-regex");
    ok(&folder, &["dags", "test", "sales", "2026-01-01"]);
    ok(&folder, &["dags", "test", "sales", "2026-01-02"]);
    let out = ok(
        &folder,
        &["tasks", "clear", "sales", "-t", "^trans", "-d", "--yes"],
    );
    assert_eq!(out, "cleared 4 task instances of dag `sales`\n");
    for day in ["2026-01-01", "2026-01-02"] {
        assert_eq!(
            sales_states(&folder, day),
            pairs(&[
                ("extract", "success"),
                ("transform", "none"),
                ("load", "none")
            ])
        );
    }
    ok(&folder, &["dags", "test", "sales", "2026-01-03"]);
    let upstream = ok(
        &folder,
        &[
            "tasks",
            "clear",
            "sales",
            "--task-regex",
            "load",
            "--upstream",
            "-s",
            "2026-01-03",
            "-y",
        ],
    );
    assert_eq!(upstream, "cleared 3 task instances of dag `sales`\n");
    let none = ok(
        &folder,
        &["tasks", "clear", "sales", "-s", "2027-01-01", "-y"],
    );
    assert_eq!(none, "No task instances to clear\n");
}

#[test]
fn tasks_clear_with_a_regex_that_matches_nothing_or_is_bad_is_an_error() {
    let folder = Folder::new("cli", "clear-bad-regex");
    ok(&folder, &["dags", "test", "sales", "2026-01-01"]);
    let nothing = run(&folder, &["tasks", "clear", "sales", "-t", "^nope$", "-y"]);
    assert_eq!(nothing.code, 1);
    assert!(
        nothing
            .err
            .contains("no task of dag `sales` matches `^nope$`"),
        "{}",
        nothing.err
    );
    let bad = run(&folder, &["tasks", "clear", "sales", "-t", "(", "-y"]);
    assert_eq!(bad.code, 1);
    assert!(bad.err.contains("bad --task-regex `(`"), "{}", bad.err);
}

#[test]
fn taskflow_home_places_the_store_and_the_store_flag_wins_over_it() {
    let folder = Folder::new("cli", "home");
    let home = folder.file("home");
    let test = |command: &mut assert_cmd::Command, day: &str| {
        let ran = ran(command
            .args(["dags", "test", "sales", day])
            .output()
            .unwrap());
        assert_eq!(ran.code, 0, "{}", ran.err);
    };
    test(bare(&folder).env("TASKFLOW_HOME", &home), "2026-01-01");
    assert!(
        home.join("taskflow.db").exists(),
        "the store is made in TASKFLOW_HOME"
    );

    let flag = folder.file("flag.db");
    test(
        bare(&folder)
            .env("TASKFLOW_HOME", &home)
            .arg("--store")
            .arg(&flag),
        "2026-01-02",
    );
    let listed = |command: &mut assert_cmd::Command| {
        let out = ran(command
            .args(["dags", "list-runs", "sales", "-o", "json"])
            .output()
            .unwrap())
        .out;
        let rows: Value = serde_json::from_str(&out).unwrap();
        column(&rows, "run_id")
    };
    assert_eq!(
        listed(bare(&folder).env("TASKFLOW_HOME", &home)),
        ["manual__2026-01-01T00:00:00+00:00"]
    );
    // The flag comes after the command too.
    let mut after = bare(&folder);
    after
        .args(["dags", "list-runs", "sales", "-o", "json", "--store"])
        .arg(&flag);
    let rows: Value = serde_json::from_str(&ran(after.output().unwrap()).out).unwrap();
    assert_eq!(
        column(&rows, "run_id"),
        ["manual__2026-01-02T00:00:00+00:00"]
    );

    // Neither: ~/taskflow/taskflow.db.
    test(&mut bare(&folder), "2026-01-03");
    assert!(folder.file("taskflow").join("taskflow.db").exists());
}

#[test]
fn reading_commands_make_no_store_where_there_is_none() {
    let folder = Folder::new("cli", "no-store");
    assert_eq!(
        ok(&folder, &["dags", "list-runs", "sales"]),
        "No data found\n"
    );
    assert_eq!(
        ok(&folder, &["tasks", "clear", "sales", "-y"]),
        "No task instances to clear\n"
    );
    let missing = run(
        &folder,
        &["tasks", "states-for-dag-run", "sales", "2026-01-01"],
    );
    assert_eq!(missing.code, 1);
    assert!(!folder.file("runs.db").exists());
}

#[test]
fn an_unknown_dag_is_a_short_message_and_exit_code_1_for_every_command() {
    let folder = Folder::new("cli", "unknown-dag");
    let commands: [&[&str]; 13] = [
        &["dags", "show", "nope"],
        &["dags", "trigger", "nope"],
        &["dags", "pause", "nope"],
        &["dags", "unpause", "nope"],
        &[
            "backfill",
            "create",
            "--dag-id",
            "nope",
            "--from-date",
            "2026-01-01",
            "--to-date",
            "2026-01-02",
        ],
        &[
            "backfill",
            "create",
            "--dag-id",
            "nope",
            "--from-date",
            "2026-01-01",
            "--to-date",
            "2026-01-02",
            "--dry-run",
        ],
        &["dags", "test", "nope"],
        &["dags", "list-runs", "nope"],
        &["dags", "next-execution", "nope"],
        &["tasks", "list", "nope"],
        &["tasks", "states-for-dag-run", "nope", "run"],
        &["tasks", "clear", "nope", "-y"],
        &["tasks", "clear", "nope"],
    ];
    for args in commands {
        let ran = run(&folder, args);
        assert_eq!(ran.code, 1, "{args:?}");
        assert_eq!(
            ran.err,
            "error: unknown dag `nope` (this program has: sales, intervals, adhoc, hourly)\n",
            "{args:?}"
        );
        assert_eq!(ran.out, "");
    }
}

#[test]
fn bad_arguments_are_clap_errors_with_exit_code_2() {
    let folder = Folder::new("cli", "bad-arguments");
    let backfill = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut args = vec![
            "backfill",
            "create",
            "--dag-id",
            "sales",
            "--from-date",
            "2026-01-01",
        ];
        args.extend(extra);
        args
    };
    let missing_to = backfill(&[]);
    let bad_reprocess = backfill(&["--to-date", "2026-01-02", "--reprocess-behavior", "all"]);
    let zero_runs = backfill(&["--to-date", "2026-01-02", "--max-active-runs", "0"]);
    let bad_conf = backfill(&["--to-date", "2026-01-02", "--dag-run-conf", "[1]"]);
    let cases: [(&[&str], &str); 14] = [
        (&missing_to, "--to-date <TO_DATE>"),
        (&bad_reprocess, "invalid value 'all'"),
        (&zero_runs, "0 is not in 1.."),
        (&bad_conf, "the conf must be a JSON object"),
        (
            &["scheduler", "--run-for", "soon"],
            "`soon` is not a duration",
        ),
        (&["scheduler", "--run-for", "0s"], "must be positive"),
        (&["dags", "trigger", "sales", "-r", ""], "must not be empty"),
        (
            &["dags", "test", "sales", "yesterday"],
            "`yesterday` is not a date",
        ),
        (
            &["dags", "test", "sales", "-c", "{oops"],
            "the conf is not JSON",
        ),
        (
            &["dags", "test", "sales", "-c", "[1, 2]"],
            "the conf must be a JSON object",
        ),
        (
            &["dags", "list-runs", "sales", "-s", "2026-13-01"],
            "`2026-13-01` is not a date",
        ),
        (&["dags", "list", "-o", "xml"], "invalid value 'xml'"),
        (
            &["dags", "frobnicate"],
            "unrecognized subcommand 'frobnicate'",
        ),
        (
            &["tasks", "states-for-dag-run", "sales"],
            "required arguments were not provided",
        ),
    ];
    for (args, message) in cases {
        let ran = run(&folder, args);
        assert_eq!(ran.code, 2, "{args:?}: {}", ran.err);
        assert!(ran.err.contains(message), "{args:?}: {}", ran.err);
        assert_eq!(ran.out, "", "{args:?}");
    }
    assert!(!folder.file("runs.db").exists());
    let nothing = ran(bare(&folder).output().unwrap());
    assert_eq!(nothing.code, 2);
    assert!(nothing.err.contains("Usage:"), "{}", nothing.err);
}

#[test]
fn help_lists_the_commands_on_stdout_with_exit_code_0() {
    let folder = Folder::new("cli", "help");
    let help = ok(&folder, &["dags", "--help"]);
    for command in [
        "list",
        "show",
        "test",
        "list-runs",
        "next-execution",
        "trigger",
        "pause",
        "unpause",
    ] {
        assert!(help.contains(command), "{command} in {help}");
    }
    let backfill = ok(&folder, &["backfill", "create", "--help"]);
    for flag in [
        "--dag-id",
        "--from-date",
        "--to-date",
        "--reprocess-behavior",
        "--max-active-runs",
        "--run-backwards",
        "--dag-run-conf",
        "--dry-run",
    ] {
        assert!(backfill.contains(flag), "{flag} in {backfill}");
    }
    let scheduler = ok(&folder, &["scheduler", "--help"]);
    assert!(scheduler.contains("--run-for <DURATION>"), "{scheduler}");
    assert!(scheduler.contains("-n, --num-runs"), "{scheduler}");
    let clear = ok(&folder, &["tasks", "clear", "--help"]);
    for flag in [
        "-t, --task-regex",
        "-s, --start-date",
        "-e, --end-date",
        "-f, --only-failed",
        "-u, --upstream",
        "-d, --downstream",
        "-y, --yes",
    ] {
        assert!(clear.contains(flag), "{flag} in {clear}");
    }
    let top = ok(&folder, &["--help"]);
    for group in ["dags", "tasks", "backfill", "scheduler"] {
        assert!(top.contains(group), "{group} in {top}");
    }
    assert!(top.contains("TASKFLOW_HOME"), "{top}");
    assert!(top.contains("Exit codes:"), "{top}");
}

#[test]
fn a_dag_that_fails_to_build_fails_every_command_with_its_error() {
    let folder = Folder::new("cli", "broken");
    let ran = ran(bare(&folder)
        .env("PIPELINES_BROKEN", "1")
        .args(["dags", "list"])
        .output()
        .unwrap());
    assert_eq!(ran.code, 1);
    assert_eq!(
        ran.err,
        "error: dag `broken`: building the DAG failed: no config file\n"
    );
    assert_eq!(ran.out, "");
}

/// Runs `pipelines scheduler --run-for 3s` on the folder's store: it exits 0 once the runs
/// it started have ended.
fn run_scheduler(folder: &Folder) -> Ran {
    let ran = run(folder, &["scheduler", "--run-for", "3s"]);
    assert_eq!(ran.code, 0, "the scheduler failed: {}{}", ran.out, ran.err);
    assert!(ran.err.contains("it stops after 3s"), "{}", ran.err);
    ran
}

/// Pauses the DAGs that catch up from 2026-01-01, so that a scheduler does not run a year
/// of their runs.
fn pause_catchup_dags(folder: &Folder) {
    for dag in ["sales", "intervals"] {
        ok(folder, &["dags", "pause", dag]);
    }
}

#[test]
fn dags_trigger_queues_a_manual_run_with_its_conf_and_prints_it() {
    let folder = Folder::new("cli", "dags-trigger");
    let before = taskflow::chrono::Utc::now();
    let rows = json_of(
        &folder,
        &[
            "dags",
            "trigger",
            "adhoc",
            "-c",
            r#"{"day": 3}"#,
            "-o",
            "json",
        ],
    );
    assert_eq!(rows.as_array().unwrap().len(), 1);
    let created = &rows[0];
    assert_eq!(created["dag_id"], "adhoc");
    assert_eq!(created["state"], "queued");
    assert_eq!(created["run_type"], "manual");
    assert_eq!(created["conf"], json!({"day": 3}));
    assert_eq!(created["start_date"], Value::Null);
    let logical: taskflow::chrono::DateTime<taskflow::chrono::Utc> =
        created["logical_date"].as_str().unwrap().parse().unwrap();
    assert!(logical >= before - taskflow::chrono::Duration::seconds(1));
    assert_eq!(
        created["dag_run_id"].as_str().unwrap(),
        format!("manual__{}", created["logical_date"].as_str().unwrap())
    );
    assert_eq!(created["data_interval_start"], created["logical_date"]);

    let table = ok(
        &folder,
        &[
            "dags",
            "trigger",
            "sales",
            "--run-id",
            "rerun_of_monday",
            "--logical-date",
            "2026-01-05",
        ],
    );
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("conf | dag_id | dag_run_id      | data_interval_start"));
    assert!(
        lines[2].starts_with("{}   | sales  | rerun_of_monday | 2026-01-05T00:00:00+00:00"),
        "{table}"
    );
    assert!(
        lines[2].ends_with("| manual   | None       | queued"),
        "{table}"
    );

    let again = run(
        &folder,
        &["dags", "trigger", "sales", "-r", "rerun_of_monday"],
    );
    assert_eq!(again.code, 1);
    assert_eq!(
        again.err,
        "error: dag `sales`: a run `rerun_of_monday` exists already\n"
    );

    let queued = json_of(
        &folder,
        &[
            "dags",
            "list-runs",
            "sales",
            "--state",
            "queued",
            "-o",
            "json",
        ],
    );
    assert_eq!(column(&queued, "run_id"), ["rerun_of_monday"]);
    assert_eq!(column(&queued, "state"), ["queued"]);
    assert_eq!(queued[0]["logical_date"], "2026-01-05T00:00:00+00:00");
    let running = json_of(
        &folder,
        &[
            "dags",
            "list-runs",
            "sales",
            "--state",
            "running",
            "-o",
            "json",
        ],
    );
    assert_eq!(running, json!([]));
    let store = SqliteStore::open(folder.file("runs.db")).unwrap();
    let adhoc = store.dag_runs("adhoc", 10, 0).unwrap();
    assert_eq!(adhoc.len(), 1);
    assert_eq!(adhoc[0].params.get::<u32>("day").unwrap(), 3);
}

#[test]
fn dags_pause_and_unpause_are_kept_in_the_store_and_shown_by_dags_list() {
    let folder = Folder::new("cli", "dags-pause");
    assert_eq!(
        ok(&folder, &["dags", "pause", "sales"]),
        "dag_id | is_paused\n=======+==========\nsales  | true\n"
    );
    let paused = |folder: &Folder| {
        column(
            &json_of(folder, &["dags", "list", "-o", "json"]),
            "is_paused",
        )
    };
    // adhoc, hourly, intervals, sales
    assert_eq!(paused(&folder), [false, false, false, true]);
    let store = SqliteStore::open(folder.file("runs.db")).unwrap();
    assert!(store.is_paused("sales").unwrap());
    assert_eq!(
        json_of(&folder, &["dags", "unpause", "sales", "-o", "json"]),
        json!([{"dag_id": "sales", "is_paused": false}])
    );
    assert_eq!(paused(&folder), [false, false, false, false]);
    assert!(!store.is_paused("sales").unwrap());
}

#[test]
fn a_triggered_run_runs_when_the_scheduler_runs_and_a_paused_dag_run_waits() {
    let folder = Folder::new("cli", "scheduler-trigger");
    pause_catchup_dags(&folder);
    let triggered = json_of(
        &folder,
        &["dags", "trigger", "adhoc", "-r", "now_please", "-o", "json"],
    );
    assert_eq!(triggered[0]["state"], "queued");
    ok(&folder, &["dags", "trigger", "sales", "-r", "while_paused"]);

    run_scheduler(&folder);

    let runs = json_of(&folder, &["dags", "list-runs", "adhoc", "-o", "json"]);
    assert_eq!(column(&runs, "run_id"), ["now_please"]);
    assert_eq!(column(&runs, "state"), ["success"]);
    assert!(runs[0]["start_date"].is_string() && runs[0]["end_date"].is_string());
    let states = json_of(
        &folder,
        &[
            "tasks",
            "states-for-dag-run",
            "adhoc",
            "now_please",
            "-o",
            "json",
        ],
    );
    assert!(
        column(&states, "state")
            .iter()
            .all(|state| state == "success"),
        "{states}"
    );
    // A paused DAG's triggered run stays queued, and it made no scheduled run.
    let sales = json_of(&folder, &["dags", "list-runs", "sales", "-o", "json"]);
    assert_eq!(column(&sales, "run_id"), ["while_paused"]);
    assert_eq!(column(&sales, "state"), ["queued"]);
}

/// The hourly ticks a scheduler started between `before` and `after` may take as its first.
fn hours_between(
    before: taskflow::chrono::DateTime<taskflow::chrono::Utc>,
    after: taskflow::chrono::DateTime<taskflow::chrono::Utc>,
) -> Vec<String> {
    use taskflow::chrono::{DurationRound, TimeDelta};
    let hour = |at: taskflow::chrono::DateTime<taskflow::chrono::Utc>| {
        at.duration_trunc(TimeDelta::hours(1))
            .unwrap()
            .to_rfc3339_opts(taskflow::chrono::SecondsFormat::Secs, false)
    };
    vec![hour(before), hour(after)]
}

#[test]
fn the_scheduler_gives_a_dag_without_catchup_only_its_latest_run_and_runs_a_backfill() {
    let folder = Folder::new("cli", "scheduler-latest");
    pause_catchup_dags(&folder);
    let made = run(
        &folder,
        &[
            "backfill",
            "create",
            "--dag-id",
            "hourly",
            "--from-date",
            "2026-01-01T00:00:00",
            "--to-date",
            "2026-01-01T02:00:00",
            "--max-active-runs",
            "2",
        ],
    );
    assert_eq!(made.code, 0, "{}", made.err);
    let before = taskflow::chrono::Utc::now();
    run_scheduler(&folder);
    let after = taskflow::chrono::Utc::now();

    let runs = json_of(&folder, &["dags", "list-runs", "hourly", "-o", "json"]);
    let scheduled: Vec<&Value> = runs
        .as_array()
        .unwrap()
        .iter()
        .filter(|run| run["run_type"] == "scheduled")
        .collect();
    // Started since 2020 without catchup: the latest tick only (two if an hour struck
    // while it ran), not six years of them.
    assert!(
        (1..=2).contains(&scheduled.len()),
        "{}",
        serde_json::to_string_pretty(&runs).unwrap()
    );
    let first = scheduled.last().unwrap();
    let hours = hours_between(before, after);
    let logical = first["logical_date"].as_str().unwrap();
    assert!(
        hours.iter().any(|hour| hour == logical),
        "{logical} not in {hours:?}"
    );
    assert_eq!(first["run_id"], format!("scheduled__{logical}"));
    assert!(scheduled.iter().all(|run| run["state"] == "success"));

    let backfill = json_of(
        &folder,
        &[
            "dags",
            "list-runs",
            "hourly",
            "-e",
            "2026-06-01",
            "-o",
            "json",
        ],
    );
    assert_eq!(
        column(&backfill, "run_id"),
        [
            "backfill__2026-01-01T02:00:00+00:00",
            "backfill__2026-01-01T01:00:00+00:00",
            "backfill__2026-01-01T00:00:00+00:00",
        ]
    );
    assert_eq!(column(&backfill, "state"), ["success"; 3]);
    assert_eq!(column(&backfill, "run_type"), ["backfill"; 3]);
    // The paused DAGs got nothing.
    assert_eq!(
        ok(&folder, &["dags", "list-runs", "sales"]),
        "No data found\n"
    );
}

#[test]
fn the_scheduler_with_num_runs_stops_after_that_many_passes() {
    let folder = Folder::new("cli", "scheduler-num-runs");
    pause_catchup_dags(&folder);
    ok(&folder, &["dags", "trigger", "adhoc", "-r", "one_pass"]);
    let ran = run(&folder, &["scheduler", "--num-runs", "1"]);
    assert_eq!(ran.code, 0, "{}", ran.err);
    assert!(ran.err.contains("it stops after 1 passes"), "{}", ran.err);
    let runs = json_of(&folder, &["dags", "list-runs", "adhoc", "-o", "json"]);
    assert_eq!(column(&runs, "state"), ["success"]);
}

#[test]
fn backfill_create_dry_run_lists_what_it_would_make_and_writes_nothing() {
    let folder = Folder::new("cli", "backfill-dry-run");
    let args = [
        "backfill",
        "create",
        "--dag-id",
        "sales",
        "--from-date",
        "2026-01-01",
        "--to-date",
        "2026-01-03",
        "--dry-run",
    ];
    let ran = run(&folder, &args);
    assert_eq!(ran.code, 0, "{}", ran.err);
    assert_eq!(
        ran.out,
        "logical_date              | run_id                              | action | reason\n\
         ==========================+=====================================+========+=======\n\
         2026-01-01T00:00:00+00:00 | backfill__2026-01-01T00:00:00+00:00 | create | None\n\
         2026-01-02T00:00:00+00:00 | backfill__2026-01-02T00:00:00+00:00 | create | None\n\
         2026-01-03T00:00:00+00:00 | backfill__2026-01-03T00:00:00+00:00 | create | None\n"
    );
    assert!(ran.err.contains("nothing is written"), "{}", ran.err);
    assert!(!folder.file("runs.db").exists(), "a dry run makes no store");

    // With a run on 2 January: it would be left, or with `completed` reprocessed.
    ok(&folder, &["dags", "test", "sales", "2026-01-02"]);
    let mut backwards = args.to_vec();
    backwards.extend(["--run-backwards", "-o", "json"]);
    let rows = json_of(&folder, &backwards);
    assert_eq!(
        column(&rows, "logical_date"),
        [
            "2026-01-03T00:00:00+00:00",
            "2026-01-02T00:00:00+00:00",
            "2026-01-01T00:00:00+00:00"
        ]
    );
    assert_eq!(column(&rows, "action"), ["create", "skip", "create"]);
    assert_eq!(rows[1]["run_id"], "manual__2026-01-02T00:00:00+00:00");
    assert_eq!(rows[1]["reason"], "already exists");
    let mut completed = args.to_vec();
    completed.extend(["--reprocess-behavior", "completed", "-o", "json"]);
    let rows = json_of(&folder, &completed);
    assert_eq!(column(&rows, "action"), ["create", "reprocess", "create"]);
    // Nothing was written: only the tested run is there, and it is not cleared.
    let runs = json_of(&folder, &["dags", "list-runs", "sales", "-o", "json"]);
    assert_eq!(column(&runs, "state"), ["success"]);
    let store = SqliteStore::open(folder.file("runs.db")).unwrap();
    assert!(store.backfills("sales").unwrap().is_empty());
}

#[test]
fn backfill_create_queues_its_runs_reprocesses_failed_ones_and_refuses_a_second_open_one() {
    let folder = Folder::new("cli", "backfill-create");
    fail_a_test_run(&folder, "2026-01-02");
    ok(&folder, &["dags", "test", "sales", "2026-01-03"]);
    let create = |extra: &[&str]| {
        let mut args = vec![
            "backfill",
            "create",
            "--dag-id",
            "sales",
            "--from-date",
            "2026-01-01",
            "--to-date",
            "2026-01-04",
        ];
        args.extend(extra);
        run(&folder, &args)
    };
    let made = create(&[
        "--reprocess-behavior",
        "failed",
        "--max-active-runs",
        "3",
        "--dag-run-conf",
        r#"{"region": "north"}"#,
        "-o",
        "json",
    ]);
    assert_eq!(made.code, 0, "{}", made.err);
    let rows: Value = serde_json::from_str(&made.out).unwrap();
    assert_eq!(
        column(&rows, "action"),
        ["create", "reprocess", "skip", "create"]
    );
    assert_eq!(
        column(&rows, "run_id"),
        [
            "backfill__2026-01-01T00:00:00+00:00",
            "manual__2026-01-02T00:00:00+00:00",
            "manual__2026-01-03T00:00:00+00:00",
            "backfill__2026-01-04T00:00:00+00:00",
        ]
    );
    assert!(
        made.err.starts_with("Created backfill 1 of dag `sales`: 2 new runs are queued, 1 run reprocessed, 1 date skipped"),
        "{}",
        made.err
    );

    let queued = json_of(
        &folder,
        &[
            "dags",
            "list-runs",
            "sales",
            "--state",
            "queued",
            "-o",
            "json",
        ],
    );
    assert_eq!(
        column(&queued, "run_id"),
        [
            "backfill__2026-01-04T00:00:00+00:00",
            "manual__2026-01-02T00:00:00+00:00",
            "backfill__2026-01-01T00:00:00+00:00",
        ]
    );
    let no_backfill = json_of(
        &folder,
        &["dags", "list-runs", "sales", "--no-backfill", "-o", "json"],
    );
    // The reprocessed run keeps its id and becomes the backfill's, as in Airflow.
    assert_eq!(
        column(&no_backfill, "run_id"),
        ["manual__2026-01-03T00:00:00+00:00"]
    );
    assert_eq!(column(&queued, "run_type"), ["backfill"; 3]);
    let store = SqliteStore::open(folder.file("runs.db")).unwrap();
    let backfills = store.backfills("sales").unwrap();
    assert_eq!(backfills.len(), 1);
    assert_eq!(backfills[0].max_active_runs, 3);
    assert_eq!(backfills[0].reprocess_behavior, "failed");
    let first = store
        .dag_run("sales", "backfill__2026-01-01T00:00:00+00:00")
        .unwrap()
        .unwrap();
    assert_eq!(first.params.get::<String>("region").unwrap(), "north");
    assert_eq!(first.backfill_id, Some(backfills[0].id));

    let second = create(&[]);
    assert_eq!(second.code, 1);
    assert_eq!(
        second.err,
        "error: dag `sales`: cannot backfill: backfill 1 of it has not completed yet\n"
    );
    let unscheduled = run(
        &folder,
        &[
            "backfill",
            "create",
            "--dag-id",
            "adhoc",
            "--from-date",
            "2026-01-01",
            "--to-date",
            "2026-01-04",
        ],
    );
    assert_eq!(unscheduled.code, 1);
    assert!(
        unscheduled
            .err
            .contains("it has no periodic schedule to backfill"),
        "{}",
        unscheduled.err
    );
}

#[test]
fn tasks_test_runs_one_task_alone_and_records_nothing() {
    let folder = Folder::new("cli", "tasks_test");
    // Without a stored run: its upstream task runs first, nothing is kept.
    let alone = ok(&folder, &["tasks", "test", "sales", "transform"]);
    assert_eq!(alone, "transform: success\nreturned: 12\n");
    assert!(!folder.file("runs.db").exists(), "a test wrote a store");
    // On a stored run: it reads the run's upstream values, and the run stays as it was.
    ok(&folder, &["dags", "test", "sales", "2026-01-05"]);
    let before = ok(
        &folder,
        &["tasks", "states-for-dag-run", "sales", "2026-01-05"],
    );
    let on_run = ok(
        &folder,
        &["tasks", "test", "sales", "transform", "2026-01-05"],
    );
    assert_eq!(on_run, "transform: success\nreturned: 12\n");
    let after = ok(
        &folder,
        &["tasks", "states-for-dag-run", "sales", "2026-01-05"],
    );
    assert_eq!(before, after);
    // Mistakes: an unknown task, an unknown run.
    let unknown = run(&folder, &["tasks", "test", "sales", "transfrom"]);
    assert_eq!(unknown.code, 1);
    assert!(unknown.err.contains("transfrom"), "{}", unknown.err);
    let no_run = run(
        &folder,
        &["tasks", "test", "sales", "transform", "2020-01-01"],
    );
    assert_eq!(no_run.code, 1);
    assert!(no_run.err.contains("no run"), "{}", no_run.err);
}
