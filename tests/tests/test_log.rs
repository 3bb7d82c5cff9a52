//! The log `dag.test()` prints: a line per state change, on virtual time, and the report's
//! table; quiet when asked or when a `tracing` subscriber is in place. Each case runs in a
//! child process of this test binary, so that its standard error can be read whole.

use std::process::Command;
use std::time::Duration;

use taskflow::prelude::*;
use taskflow_tests::bounded::within;

/// Which case a child process runs (unset in the parent).
const CASE: &str = "TASKFLOW_TEST_LOG_CASE";

#[task(retries = 1, retry_delay = "1h")]
fn flaky(ctx: &Context) -> Result<u32, TaskError> {
    if ctx.try_number() == 1 {
        Err(TaskError::msg("source not ready"))
    } else {
        Ok(1)
    }
}

#[task]
fn load(n: u32) -> Result<u32, TaskError> {
    Err(TaskError::msg(format!("bad row {n}")))
}

/// The run each child makes, in the way its case says.
#[test]
fn child_run() {
    let Ok(case) = std::env::var(CASE) else {
        return; // only in a child process
    };
    let dag = Dag::build("logged", || {
        load(flaky());
    })
    .unwrap();
    let options = RunOptions::new().run_id("logged_run");
    let report = match case.as_str() {
        "default" => dag.test_with(options),
        "quiet" => dag.test_with(options.log(false)),
        "subscriber" => {
            let subscriber = tracing_subscriber::fmt()
                .with_writer(std::io::sink)
                .finish();
            tracing::subscriber::with_default(subscriber, || dag.test_with(options))
        }
        other => panic!("unknown case {other}"),
    };
    assert!(!report.unwrap().succeeded());
}

/// The standard error of a child running `case`.
fn stderr_of(case: &'static str) -> String {
    within(Duration::from_secs(120), "the child process", move || {
        let output = Command::new(std::env::current_exe().unwrap())
            .args(["child_run", "--exact", "--nocapture", "--test-threads=1"])
            .env(CASE, case)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stderr).unwrap()
    })
}

/// The time at the start of a log line, `[HH:MM:SS.mmm]`, as seconds of the day.
fn seconds_of(line: &str) -> f64 {
    let time = &line[1..13];
    let parts: Vec<f64> = time.split(':').map(|p| p.parse().unwrap()).collect();
    parts[0] * 3600.0 + parts[1] * 60.0 + parts[2]
}

/// Seconds from the time of one log line to a later one's, across midnight too: the lines show
/// the time of day only.
fn seconds_between(earlier: &str, later: &str) -> f64 {
    (seconds_of(later) - seconds_of(earlier)).rem_euclid(24.0 * 3600.0)
}

#[test]
fn dag_test_prints_a_line_per_state_change_on_virtual_time_and_the_table() {
    let log = stderr_of("default");
    let lines: Vec<&str> = log.lines().filter(|line| line.starts_with('[')).collect();
    let find = |text: &str| {
        *lines
            .iter()
            .find(|line| line.contains(text))
            .unwrap_or_else(|| panic!("no line with {text:?} in:\n{log}"))
    };
    assert!(find("dag logged run logged_run: running (2 tasks)").len() > 14);
    let first = find("flaky: running (try 1)");
    let retry = find("flaky: up_for_retry (try 1");
    assert!(retry.ends_with(": source not ready"), "{retry}");
    let second = find("flaky: running (try 2)");
    find("flaky: success (try 2");
    assert!(find("load: failed (try 1").ends_with(": bad row 1"));
    find("dag logged run logged_run: failed in");
    // The hour of the retry delay passed on virtual time (the clock may pass midnight).
    let waited = seconds_between(retry, second);
    assert!(
        (3599.99..3660.0).contains(&waited), // the times are read back with float rounding
        "{waited} s between\n{retry}\n{second}"
    );
    assert!(seconds_between(first, retry) < 60.0, "{first}\n{retry}");
    // No queued lines, and the lines come in the order of the changes.
    assert!(!log.contains("queued"));
    let at = |line: &str| log.find(line).unwrap();
    assert!(at(first) < at(retry) && at(retry) < at(second));
    // Then the report's table.
    let table = log.find("task   state").expect("the table's header");
    assert!(table > at(find("failed in")), "{log}");
    assert!(log[table..].contains("flaky  success"), "{log}");
}

#[test]
fn dag_test_is_quiet_when_asked_or_under_a_subscriber_of_the_users() {
    for case in ["quiet", "subscriber"] {
        let log = stderr_of(case);
        assert!(!log.contains("flaky: running"), "{case}: {log}");
        assert!(!log.contains("task   state"), "{case}: {log}");
    }
}
