//! The `one_*` trigger rules fire as soon as one upstream task reaches the state they wait
//! for, without waiting for the others, as in Airflow. Each test holds one upstream task
//! until the downstream task has run and signalled it: the run only succeeds if the
//! downstream task started while that upstream was still running.
#![allow(unused_must_use)] // `a >> b;` statements in Dag::build closures

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use taskflow::prelude::*;

/// A signal from the downstream task to the held upstream task, one per test.
struct Signal {
    send: Mutex<Sender<()>>,
    receive: Mutex<Receiver<()>>,
}

impl Signal {
    fn new() -> Self {
        let (send, receive) = channel();
        Self {
            send: Mutex::new(send),
            receive: Mutex::new(receive),
        }
    }

    fn raise(&self) {
        self.send.lock().unwrap().send(()).unwrap();
    }

    /// Waits for the signal; a generous bound only turns a broken executor into a failure
    /// instead of a hang.
    fn wait(&self) -> Result<(), TaskError> {
        self.receive
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(60))
            .map_err(|_| {
                TaskError::msg("the downstream task did not run while this one was running")
            })
    }
}

static SIGNAL: LazyLock<Signal> = LazyLock::new(Signal::new);

#[task]
fn quick(fail: bool) -> Result<u8, TaskError> {
    if fail {
        return Err(TaskError::msg("quick failure"));
    }
    Ok(1)
}

#[task]
fn held() -> Result<u8, TaskError> {
    SIGNAL.wait()?;
    Ok(2)
}

#[task]
fn follower() {
    SIGNAL.raise();
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
