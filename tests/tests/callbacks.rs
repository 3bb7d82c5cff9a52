//! Task and DAG run callbacks.

use std::sync::Mutex;

use taskflow::prelude::*;

static EVENTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn log(event: &str, ctx: &Context, error: Option<&TaskError>) {
    let error = error.map(|e| format!(" ({e})")).unwrap_or_default();
    EVENTS.lock().unwrap().push(format!(
        "{event} {} try {}{error}",
        ctx.task_id(),
        ctx.try_number()
    ));
}

fn on_execute(ctx: &Context, error: Option<&TaskError>) {
    log("execute", ctx, error);
}
fn on_success(ctx: &Context, error: Option<&TaskError>) {
    log("success", ctx, error);
}
fn on_failure(ctx: &Context, error: Option<&TaskError>) {
    log("failure", ctx, error);
}
fn on_retry(ctx: &Context, error: Option<&TaskError>) {
    log("retry", ctx, error);
}
fn on_skipped(ctx: &Context, error: Option<&TaskError>) {
    log("skipped", ctx, error);
}
fn exploding(_: &Context, _: Option<&TaskError>) {
    panic!("callback bug");
}

static RUNS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn run_succeeded(report: &RunReport) {
    RUNS.lock()
        .unwrap()
        .push(format!("{} succeeded", report.dag_id()));
}
fn run_failed(report: &RunReport) {
    RUNS.lock().unwrap().push(format!(
        "{} failed: {:?}",
        report.dag_id(),
        report.task_ids_in(TaskState::Failed)
    ));
}

#[test]
fn task_callbacks_fire_on_each_event_with_context_and_error() {
    static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    #[task(
        retries = 1,
        retry_delay = "1m",
        on_execute_callback = on_execute,
        on_retry_callback = on_retry,
        on_success_callback = on_success
    )]
    fn flaky() -> Result<u8, TaskError> {
        if CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            Err(TaskError::msg("blip"))
        } else {
            Ok(1)
        }
    }
    #[task(on_failure_callback = on_failure)]
    fn broken(_x: u8) -> Result<u8, TaskError> {
        Err(TaskError::msg("boom"))
    }
    #[task(on_skipped_callback = on_skipped, on_success_callback = exploding)]
    fn skipper() -> Result<(), TaskError> {
        Err(TaskError::skip("nothing new"))
    }
    #[task(on_success_callback = exploding)]
    fn survives_a_bad_callback() -> u8 {
        3
    }
    let report = Dag::build("callbacks", || {
        let f = flaky();
        broken(f);
        skipper();
        survives_a_bad_callback();
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.state("survives_a_bad_callback"), TaskState::Success);
    let events = EVENTS.lock().unwrap();
    for expected in [
        "execute flaky try 1",
        "retry flaky try 1 (blip)",
        "execute flaky try 2",
        "success flaky try 2",
        "failure broken try 1 (boom)",
        "skipped skipper try 1 (nothing new)",
    ] {
        assert!(
            events.iter().any(|e| e == expected),
            "missing `{expected}` in {events:?}"
        );
    }
    let flaky: Vec<_> = events.iter().filter(|e| e.contains("flaky")).collect();
    assert_eq!(
        flaky,
        [
            "execute flaky try 1",
            "retry flaky try 1 (blip)",
            "execute flaky try 2",
            "success flaky try 2"
        ]
    );
}

#[test]
fn default_args_carry_callbacks_and_dag_run_callbacks_get_the_report() {
    #[task]
    fn ok() -> u8 {
        1
    }
    #[task]
    fn bad() -> Result<u8, TaskError> {
        Err(TaskError::msg("no"))
    }
    #[dag(default_args(on_failure_callback = on_failure), on_failure_callback = run_failed)]
    fn failing_dag() {
        ok();
        bad();
    }
    #[dag(on_success_callback = run_succeeded, on_failure_callback = run_failed)]
    fn passing_dag() {
        ok();
    }
    failing_dag().test().unwrap();
    passing_dag().test().unwrap();
    assert!(
        EVENTS
            .lock()
            .unwrap()
            .iter()
            .any(|e| e == "failure bad try 1 (no)")
    );
    let runs = RUNS.lock().unwrap();
    assert!(
        runs.contains(&r#"failing_dag failed: ["bad"]"#.to_string()),
        "{runs:?}"
    );
    assert!(
        runs.contains(&"passing_dag succeeded".to_string()),
        "{runs:?}"
    );
}
