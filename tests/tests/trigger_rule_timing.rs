//! The `one_*` trigger rules fire as soon as one upstream task reaches the state they wait
//! for, without waiting for the others, as in Airflow. Each test holds one upstream task
//! until the downstream task has run and signalled it: the run only succeeds if the
//! downstream task started while that upstream was still running.

use std::sync::LazyLock;

use taskflow::prelude::*;
use taskflow_tests::gate::Gate;

/// Opened by the downstream task for the held upstream task.
static SIGNAL: LazyLock<Gate> = LazyLock::new(Gate::new);

#[task]
fn quick(fail: bool) -> Result<u8, TaskError> {
    if fail {
        return Err(TaskError::msg("quick failure"));
    }
    Ok(1)
}

#[task]
fn held() -> Result<u8, TaskError> {
    SIGNAL.pass()?;
    Ok(2)
}

#[task]
fn follower() {
    SIGNAL.open(1);
}

/// `quick` ends (failing or not) while `held` waits for `follower`, which has `rule`.
fn fires_early(rule: TriggerRule, quick_fails: bool) {
    let report = Dag::build("early", || {
        let follow = follower::with(TaskOptions::new().trigger_rule(rule)).add();
        [quick(quick_fails).task(), held().task()] >> follow;
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.state("follower"), TaskState::Success, "{rule}");
    assert_eq!(
        report.state("held"),
        TaskState::Success,
        "{rule}: {:?}",
        report.error("held")
    );
}

#[test]
fn one_success_one_failed_and_one_done_fire_while_other_upstreams_still_run() {
    // One after another: they share the signal.
    fires_early(TriggerRule::OneSuccess, false);
    fires_early(TriggerRule::OneFailed, true);
    fires_early(TriggerRule::OneDone, true);
    fires_early(TriggerRule::OneDone, false);
}
