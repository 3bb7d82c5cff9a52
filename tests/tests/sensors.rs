//! `#[sensor]`: checks until done, in poke or reschedule mode, with Airflow's timeout,
//! soft_fail and backoff, on virtual time.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use taskflow::chrono;
use taskflow::prelude::*;
use taskflow::{Executor, RunReport};

const MINUTE: Duration = Duration::from_secs(60);

fn duration(report: &RunReport, task_id: &str) -> Duration {
    report.task(task_id).unwrap().duration.unwrap()
}

#[test]
fn a_sensor_with_a_one_hour_timeout_checks_61_times_in_virtual_time() {
    static CHECKS: AtomicU32 = AtomicU32::new(0);
    #[sensor(poke_interval = "60s", timeout = "1h", retries = 2)]
    fn never() -> bool {
        CHECKS.fetch_add(1, Ordering::SeqCst);
        false
    }
    #[task]
    fn after() {}
    let started = std::time::Instant::now();
    let report = Dag::build("never_true", || {
        never() >> after();
    })
    .unwrap()
    .test()
    .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "virtual time, not real time"
    );
    // Checks at 0, 1, ..., 60 minutes; the one at 60 finds the hour gone.
    assert_eq!(CHECKS.load(Ordering::SeqCst), 61);
    assert_eq!(report.state("never"), TaskState::Failed);
    assert_eq!(
        report.try_number("never"),
        1,
        "a sensor timeout is never retried"
    );
    assert!(
        report.error("never").unwrap().contains("sensor timed out"),
        "{:?}",
        report.error("never")
    );
    assert_eq!(report.state("after"), TaskState::UpstreamFailed);
    let waited = duration(&report, "never");
    assert!(waited >= 60 * MINUTE && waited < 61 * MINUTE, "{waited:?}");
}

#[test]
fn soft_fail_turns_a_timeout_into_a_skip() {
    #[sensor(poke_interval = "10m", timeout = "30m", soft_fail)]
    fn never() -> bool {
        false
    }
    #[task]
    fn after() {}
    let report = Dag::build("soft", || {
        never() >> after();
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.state("never"), TaskState::Skipped);
    assert_eq!(report.state("after"), TaskState::Skipped);
    assert!(report.succeeded());
}

#[test]
fn the_value_of_the_done_check_flows_downstream() {
    static CHECKS: AtomicU32 = AtomicU32::new(0);
    #[sensor(poke_interval = "5m")]
    fn partition(day: &'static str) -> Poke<String> {
        match CHECKS.fetch_add(1, Ordering::SeqCst) {
            0 | 1 => Poke::NotYet,
            _ => Poke::Done(format!("s3://bucket/{day}/part-0")),
        }
    }
    #[task]
    fn load(path: String) -> usize {
        path.len()
    }
    let report = Dag::build("value", || {
        load(partition("2026-01-01"));
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(
        report.xcom::<String>("partition").unwrap(),
        "s3://bucket/2026-01-01/part-0"
    );
    assert_eq!(report.xcom::<usize>("load").unwrap(), 29);
    assert_eq!(
        duration(&report, "partition").as_secs() / 60,
        10,
        "two waits of 5 minutes"
    );
}

#[test]
fn an_error_in_a_check_follows_the_retries() {
    static CHECKS: AtomicU32 = AtomicU32::new(0);
    #[sensor(poke_interval = "1m", retries = 1, retry_delay = "10m")]
    fn flaky() -> Result<bool, TaskError> {
        match CHECKS.fetch_add(1, Ordering::SeqCst) {
            0 => Ok(false),
            1 => Err(TaskError::msg("the source is down")),
            _ => Ok(true),
        }
    }
    let report = Dag::build("flaky_sensor", || {
        flaky();
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.state("flaky"), TaskState::Success);
    assert_eq!(report.try_number("flaky"), 2);
    let starts = report.task("flaky").unwrap().try_start_dates;
    assert!(
        starts[1] - starts[0] >= chrono::Duration::minutes(11),
        "{starts:?}"
    );
}

#[test]
fn exponential_backoff_grows_the_wait_and_max_wait_caps_it() {
    static PLAIN: AtomicU32 = AtomicU32::new(0);
    static BACKOFF: AtomicU32 = AtomicU32::new(0);
    static CAPPED: AtomicU32 = AtomicU32::new(0);
    fn done_on_sixth(checks: &AtomicU32) -> bool {
        checks.fetch_add(1, Ordering::SeqCst) == 5
    }
    #[sensor(poke_interval = "1m")]
    fn plain() -> bool {
        done_on_sixth(&PLAIN)
    }
    #[sensor(poke_interval = "1m", exponential_backoff)]
    fn backoff() -> bool {
        done_on_sixth(&BACKOFF)
    }
    #[sensor(poke_interval = "1m", exponential_backoff, max_wait = "90s")]
    fn capped() -> bool {
        done_on_sixth(&CAPPED)
    }
    let report = Dag::build("backoff", || {
        plain();
        backoff();
        capped();
    })
    .unwrap()
    .test()
    .unwrap();
    // Five waits: 1 minute each; with backoff 30 s, 1, 2, 4, 8 minutes (each up to twice
    // that with jitter); capped at 90 s.
    assert_eq!(duration(&report, "plain").as_secs() / 60, 5);
    let backoff = duration(&report, "backoff").as_secs();
    assert!((930..1860).contains(&backoff), "{backoff} s");
    let capped = duration(&report, "capped").as_secs();
    assert!(
        (30 + 60 + 3 * 90..=5 * 90 + 1).contains(&capped),
        "{capped} s"
    );
}

/// A pool of one slot shared by a sensor and another task: in reschedule mode the other task
/// runs between two checks; in poke mode the sensor keeps the slot until it is done.
fn one_slot(mode_reschedule: bool) -> (RunReport, RunReport) {
    static POKE: AtomicU32 = AtomicU32::new(0);
    static RESCHEDULE: AtomicU32 = AtomicU32::new(0);
    #[sensor(pool = "one", priority_weight = 10, poke_interval = "1m")]
    fn poking() -> bool {
        POKE.fetch_add(1, Ordering::SeqCst) == 3
    }
    #[sensor(
        pool = "one",
        priority_weight = 10,
        poke_interval = "1m",
        mode = "reschedule"
    )]
    fn rescheduling() -> bool {
        RESCHEDULE.fetch_add(1, Ordering::SeqCst) == 3
    }
    #[task(pool = "one")]
    fn other() {}
    let executor = Executor::builder()
        .pool("one", 1)
        .virtual_time(true)
        .build()
        .unwrap();
    let sensor = Dag::build("sensor", || {
        if mode_reschedule {
            rescheduling();
        } else {
            poking();
        }
    })
    .unwrap();
    let other_dag = Dag::build("other", || {
        other();
    })
    .unwrap();
    // Virtual time stands still until both runs are in: else the sensor's waits could pass
    // before the other run is even submitted.
    let hold = executor.hold_time();
    let sensor_run = executor.submit(&sensor, RunOptions::new()).unwrap();
    let other_run = executor.submit(&other_dag, RunOptions::new()).unwrap();
    drop(hold);
    (sensor_run.wait().unwrap(), other_run.wait().unwrap())
}

#[test]
fn in_reschedule_mode_another_task_takes_the_slot_between_checks() {
    let (sensor, other) = one_slot(true);
    let sensor = sensor.task("rescheduling").unwrap();
    assert_eq!(sensor.state, TaskState::Success);
    assert_eq!(sensor.tries, 1, "rescheduling is not a new try");
    let other_start = other.task("other").unwrap().start_date.unwrap();
    assert!(
        other_start < sensor.end_date.unwrap(),
        "the other task ran between checks"
    );
}

#[test]
fn in_poke_mode_the_sensor_keeps_its_slot_until_done() {
    let (sensor, other) = one_slot(false);
    let sensor = sensor.task("poking").unwrap();
    assert_eq!(sensor.state, TaskState::Success);
    let other_start = other.task("other").unwrap().start_date.unwrap();
    assert!(
        other_start >= sensor.end_date.unwrap(),
        "the other task waited for the slot"
    );
    assert!(sensor.duration.unwrap() >= 3 * MINUTE);
}

#[test]
fn a_sensor_takes_a_non_clone_value_only_by_reference() {
    struct Handle;
    #[task]
    fn open() -> Handle {
        Handle
    }
    #[sensor(poke_interval = "1m")]
    fn ready(_handle: Handle) -> bool {
        true
    }
    let error = Dag::build("sensor_not_clone", || {
        ready(open());
    })
    .unwrap_err();
    assert!(
        matches!(error, taskflow::Error::NotCloneForSensor { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("every check reads it again"));
}

#[test]
fn a_sensor_reads_its_input_again_at_each_check() {
    static CHECKS: AtomicU32 = AtomicU32::new(0);
    #[task]
    fn path() -> String {
        "orders.csv".to_owned()
    }
    #[sensor(poke_interval = "1m")]
    fn landed(name: String) -> Poke<String> {
        if CHECKS.fetch_add(1, Ordering::SeqCst) < 2 {
            Poke::NotYet
        } else {
            Poke::Done(name)
        }
    }
    let options = RunOptions::new().keep_xcoms(false).virtual_time(true);
    let report = Dag::build("sensor_input", || {
        landed(path());
    })
    .unwrap()
    .test_with(options)
    .unwrap();
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(CHECKS.load(Ordering::SeqCst), 3);
    assert_eq!(report.xcom::<String>("landed").unwrap(), "orders.csv");
}
