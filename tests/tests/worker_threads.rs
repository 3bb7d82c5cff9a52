//! Worker threads for blocking task bodies: the default executor grows past any fixed
//! number of them, and an executor at its `max_worker_threads` says so instead of hanging
//! silently.

use std::io::Write;
use std::sync::mpsc::{Sender, channel};
use std::sync::{Condvar, LazyLock, Mutex};
use std::time::Duration;

use taskflow::prelude::*;
use taskflow::{Executor, TaskError};
use taskflow_tests::bounded::within;
use taskflow_tests::gate::Gate;

/// Tasks that each wait until `n` of them are inside their bodies at once.
struct Rendezvous {
    arrived: Mutex<usize>,
    all_here: Condvar,
}

impl Rendezvous {
    const fn new() -> Self {
        Self {
            arrived: Mutex::new(0),
            all_here: Condvar::new(),
        }
    }

    fn meet(&self, n: usize) -> Result<(), TaskError> {
        let mut arrived = self.arrived.lock().unwrap();
        *arrived += 1;
        self.all_here.notify_all();
        let (arrived, waited) = self
            .all_here
            .wait_timeout_while(arrived, Duration::from_secs(60), |arrived| *arrived < n)
            .unwrap();
        if waited.timed_out() {
            return Err(TaskError::msg(format!("only {} of {n} met", *arrived)));
        }
        Ok(())
    }
}

static SEVENTY: Rendezvous = Rendezvous::new();

#[task]
fn meets_seventy_others() -> Result<(), TaskError> {
    SEVENTY.meet(70)
}

#[test]
fn seventy_sync_tasks_that_wait_for_each_other_do_not_deadlock_the_default_executor() {
    let report = within(Duration::from_secs(90), "70 tasks meeting", || {
        Dag::build("rendezvous", || {
            for _ in 0..70 {
                meets_seventy_others();
            }
        })
        .unwrap()
        .test()
        .unwrap()
    });
    assert!(
        report.succeeded(),
        "{:?}",
        report.task_ids_in(TaskState::Failed)
    );
}

static GATE: LazyLock<Gate> = LazyLock::new(Gate::new);

#[task]
fn waits_at_the_gate() -> Result<(), TaskError> {
    GATE.pass()
}

/// Sends each line the subscriber writes to the test.
struct Lines(Sender<String>);

impl Write for Lines {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let _ = self.0.send(String::from_utf8_lossy(bytes).into_owned());
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn an_executor_at_max_worker_threads_warns_naming_the_running_tasks() {
    let (lines, written) = channel();
    let lines = Mutex::new(lines);
    tracing_subscriber::fmt()
        .with_writer(move || Lines(lines.lock().unwrap().clone()))
        .with_ansi(false)
        .init();
    let executor = Executor::builder()
        .parallelism(8)
        .max_worker_threads(2)
        .build()
        .unwrap();
    let dag = Dag::build("gated", || {
        for _ in 0..3 {
            waits_at_the_gate();
        }
    })
    .unwrap();
    let handle = executor
        .submit(&dag, RunOptions::new().run_id("gated_run"))
        .unwrap();
    // Two tasks hold both workers at the gate; the third waits for one.
    let warning = loop {
        let line = written
            .recv_timeout(Duration::from_secs(30))
            .expect("no warning within 30 s of every worker being blocked");
        if line.contains("worker threads") {
            break line;
        }
    };
    assert!(warning.contains("WARN"), "{warning}");
    assert!(warning.contains("all 2 worker threads"), "{warning}");
    assert!(warning.contains("gated.waits_at_the_gate"), "{warning}");
    assert!(warning.contains("(gated_run)"), "{warning}");
    GATE.open(3);
    let report = within(Duration::from_secs(60), "the gated run", move || {
        handle.wait()
    });
    assert!(report.unwrap().succeeded());
}
