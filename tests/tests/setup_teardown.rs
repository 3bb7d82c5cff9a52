//! Setup and teardown tasks.

use taskflow::prelude::*;

#[task(setup)]
fn create_cluster(outcome: &'static str) -> Result<String, TaskError> {
    match outcome {
        "skip" => Err(TaskError::skip("no cluster needed")),
        "fail" => Err(TaskError::msg("quota exceeded")),
        _ => Ok("cluster-1".to_string()),
    }
}

#[task]
fn query(fail: bool) -> Result<u32, TaskError> {
    if fail {
        Err(TaskError::msg("query failed"))
    } else {
        Ok(42)
    }
}

#[task(teardown)]
fn delete_cluster(fail: bool) -> Result<(), TaskError> {
    if fail {
        Err(TaskError::msg("delete failed"))
    } else {
        Ok(())
    }
}

fn run(setup: &'static str, work_fails: bool, teardown_fails: bool) -> RunReport {
    Dag::build("resources", || {
        let cluster = create_cluster(setup);
        let work = query(work_fails);
        let teardown = delete_cluster(teardown_fails);
        cluster >> work >> teardown;
        cluster >> teardown;
    })
    .unwrap()
    .test()
    .unwrap()
}

#[test]
fn teardown_defaults_to_all_done_setup_success() {
    let dag = Dag::build("rule", || {
        delete_cluster(false);
    })
    .unwrap();
    assert_eq!(
        dag.trigger_rule("delete_cluster").unwrap(),
        TriggerRule::AllDoneSetupSuccess
    );
}

#[test]
fn teardown_runs_after_failed_work_and_the_run_still_fails() {
    let report = run("ok", true, false);
    assert_eq!(report.state("query"), TaskState::Failed);
    assert_eq!(report.state("delete_cluster"), TaskState::Success);
    assert!(!report.succeeded(), "the failed work fails the run");
}

#[test]
fn teardown_is_skipped_when_its_setup_is_skipped() {
    let report = run("skip", false, false);
    assert_eq!(report.state("create_cluster"), TaskState::Skipped);
    assert_eq!(report.state("query"), TaskState::Skipped);
    assert_eq!(report.state("delete_cluster"), TaskState::Skipped);
    assert!(report.succeeded());
}

#[test]
fn teardown_does_not_run_when_its_setup_failed() {
    let report = run("fail", false, false);
    assert_eq!(report.state("query"), TaskState::UpstreamFailed);
    assert_eq!(report.state("delete_cluster"), TaskState::UpstreamFailed);
    assert!(!report.succeeded());
}

#[test]
fn a_failing_teardown_does_not_decide_the_run() {
    let report = run("ok", false, true);
    assert_eq!(report.state("delete_cluster"), TaskState::Failed);
    assert!(report.succeeded());
    assert_eq!(report.state_of_run(), DagRunState::Success);
}
