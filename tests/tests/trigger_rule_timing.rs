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

#[test]
fn one_success_fires_while_other_upstreams_still_run() {
    static SIGNAL: LazyLock<Signal> = LazyLock::new(Signal::new);
    #[task]
    fn quick() -> u8 {
        1
    }
    #[task]
    fn held() -> Result<u8, TaskError> {
        SIGNAL.wait()?;
        Ok(2)
    }
    #[task(trigger_rule = "one_success")]
    fn first_result() {
        SIGNAL.raise();
    }
    let report = Dag::build("one_success_early", || {
        [quick().task(), held().task()] >> first_result();
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.state("first_result"), TaskState::Success);
    assert_eq!(
        report.state("held"),
        TaskState::Success,
        "{:?}",
        report.error("held")
    );
}

#[test]
fn one_failed_fires_while_other_upstreams_still_run() {
    static SIGNAL: LazyLock<Signal> = LazyLock::new(Signal::new);
    #[task]
    fn broken() -> Result<u8, TaskError> {
        Err(TaskError::msg("broken"))
    }
    #[task]
    fn held() -> Result<u8, TaskError> {
        SIGNAL.wait()?;
        Ok(2)
    }
    #[task(trigger_rule = "one_failed")]
    fn alert() {
        SIGNAL.raise();
    }
    let report = Dag::build("one_failed_early", || {
        [broken().task(), held().task()] >> alert();
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.state("alert"), TaskState::Success);
    assert_eq!(
        report.state("held"),
        TaskState::Success,
        "{:?}",
        report.error("held")
    );
}

#[test]
fn one_done_fires_while_other_upstreams_still_run() {
    static SIGNAL: LazyLock<Signal> = LazyLock::new(Signal::new);
    #[task]
    fn broken() -> Result<u8, TaskError> {
        Err(TaskError::msg("broken"))
    }
    #[task]
    fn held() -> Result<u8, TaskError> {
        SIGNAL.wait()?;
        Ok(2)
    }
    #[task(trigger_rule = "one_done")]
    fn either() {
        SIGNAL.raise();
    }
    let report = Dag::build("one_done_early", || {
        [broken().task(), held().task()] >> either();
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.state("either"), TaskState::Success);
    assert_eq!(
        report.state("held"),
        TaskState::Success,
        "{:?}",
        report.error("held")
    );
}
