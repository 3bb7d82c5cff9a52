//! Every trigger rule against every measured mix of upstream states, replayed end to end
//! through `dag.test()` and compared with what Apache Airflow 3.3.2 itself did in the same
//! situation (`tests/data/airflow_trigger_rules.json`; how it was measured is in
//! `tests/data/AIRFLOW_NOTES.md`). Cases whose outcome in Airflow depends on which upstream
//! finishes first are checked to land on one of Airflow's possible outcomes.

use serde::Deserialize;
use taskflow::prelude::*;

#[derive(Deserialize)]
struct Data {
    trigger_rules: Vec<Case>,
    teardown_cases: Vec<TeardownCase>,
}

#[derive(Deserialize)]
struct Case {
    rule: String,
    upstream_kinds: Vec<String>,
    state: TaskState,
    downstream_all_success_state: TaskState,
    #[serde(default)]
    possible_states: Vec<TaskState>,
    task_id: String,
}

#[derive(Deserialize)]
struct TeardownCase {
    setups: Vec<TaskState>,
    work: TaskState,
    extra_direct_upstreams: Vec<String>,
    state: TaskState,
    task_id: String,
}

fn data() -> Data {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/airflow_trigger_rules.json"
    );
    let text = std::fs::read_to_string(path).expect("the Airflow data file is in the repository");
    serde_json::from_str(&text).expect("the Airflow data file parses")
}

/// Ends with the given outcome: success, failed or skipped.
#[task]
fn outcome(kind: &'static str) -> Result<(), TaskError> {
    match kind {
        "failed" => Err(TaskError::msg("failed on purpose")),
        "skipped" => Err(TaskError::skip("skipped on purpose")),
        _ => Ok(()),
    }
}

#[task]
fn marker() {}

/// A task that ends in the state `kind` names, as the Airflow DAGs made them.
fn upstream_of_kind(kind: &str) -> TaskRef {
    match kind {
        "success" | "failed" | "skipped" => {
            let kind: &'static str = match kind {
                "success" => "success",
                "failed" => "failed",
                _ => "skipped",
            };
            outcome(kind).task()
        }
        // an all_success child of a failing / skipping task
        "upstream_failed" | "skipped_propagated" => {
            let child = marker().task();
            outcome(if kind == "upstream_failed" {
                "failed"
            } else {
                "skipped"
            }) >> child;
            child
        }
        other => panic!("unknown upstream kind {other}"),
    }
}

fn kind_of(state: TaskState) -> &'static str {
    match state {
        TaskState::Success => "success",
        TaskState::Failed => "failed",
        TaskState::Skipped => "skipped",
        TaskState::UpstreamFailed => "upstream_failed",
        other => panic!("no upstream of state {other}"),
    }
}

#[test]
fn every_trigger_rule_matches_airflow() {
    let cases = data().trigger_rules;
    assert!(cases.len() > 700, "the data covers every rule and mix");
    let mut mismatches = Vec::new();
    for case in &cases {
        let rule: TriggerRule = case.rule.parse().unwrap();
        let report = Dag::build("case", || {
            let upstream: Vec<TaskRef> = case
                .upstream_kinds
                .iter()
                .map(|kind| upstream_of_kind(kind))
                .collect();
            let d = marker::with(TaskOptions::new().task_id("d").trigger_rule(rule)).add();
            upstream >> d;
            d >> marker::with("after").add();
        })
        .unwrap()
        .test()
        .unwrap();
        let (d, after) = (report.state("d"), report.state("after"));
        let ok = if case.possible_states.is_empty() {
            d == case.state && after == case.downstream_all_success_state
        } else {
            case.possible_states.contains(&d)
        };
        if !ok {
            mismatches.push(format!(
                "{}: {d} then {after}, Airflow {} then {}",
                case.task_id, case.state, case.downstream_all_success_state
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} cases differ:\n{}",
        mismatches.len(),
        cases.len(),
        mismatches.join("\n")
    );
}

#[test]
fn teardowns_match_airflow() {
    let cases = data().teardown_cases;
    assert!(!cases.is_empty());
    let mut mismatches = Vec::new();
    for case in &cases {
        let report = Dag::build("teardown_case", || {
            let setups: Vec<TaskRef> = case
                .setups
                .iter()
                .enumerate()
                .map(|(i, &state)| {
                    outcome::with(TaskOptions::new().task_id(format!("setup_{i}")).setup())
                        .add(kind_of(state))
                        .task()
                })
                .collect();
            let work = outcome::with("work").add(kind_of(case.work));
            let teardown = marker::with(TaskOptions::new().task_id("teardown").teardown()).add();
            setups.clone() >> work;
            work >> teardown;
            setups >> teardown;
            for kind in &case.extra_direct_upstreams {
                upstream_of_kind(kind) >> teardown;
            }
        })
        .unwrap()
        .test()
        .unwrap();
        if report.state("teardown") != case.state {
            mismatches.push(format!(
                "{}: {}, Airflow {}",
                case.task_id,
                report.state("teardown"),
                case.state
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "teardown cases differ:\n{}",
        mismatches.join("\n")
    );
}
