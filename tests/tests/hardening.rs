//! Regression tests of defects found by trying to break the executor: hangs, aborts and
//! wrong answers under limits, clocks, drops and edge values.

use std::time::Duration;

use taskflow::prelude::*;
use taskflow::{Executor, RunHandle};
use taskflow_tests::bounded::within;

const BOUND: Duration = Duration::from_secs(60);

#[task]
async fn nap_an_hour(ctx: &Context) -> u32 {
    ctx.sleep(Duration::from_secs(3600)).await;
    1
}

#[sensor(poke_interval = "10m", timeout = "1d")]
fn third_check() -> Poke<u32> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static CHECKS: AtomicU32 = AtomicU32::new(0);
    match CHECKS.fetch_add(1, Ordering::SeqCst) % 3 {
        2 => Poke::Done(3),
        _ => Poke::NotYet,
    }
}

#[test]
fn virtual_time_moves_on_in_dag_test_under_max_active_tasks() {
    let report = within(BOUND, "dag.test() under max_active_tasks = 1", || {
        Dag::builder("limited_naps")
            .max_active_tasks(1)
            .build(|| {
                nap_an_hour();
                nap_an_hour();
                third_check();
            })
            .unwrap()
            .test()
            .unwrap()
    });
    assert!(report.succeeded(), "{report:?}");
    // One at a time: two hours of naps and twenty minutes of checks, in virtual time.
    assert!(report.duration() >= Duration::from_secs(2 * 3600 + 1200));
}

#[task(retries = 2, retry_delay = "1h")]
fn fails_twice(ctx: &Context) -> Result<u32, TaskError> {
    if ctx.try_number() < 3 {
        return Err(TaskError::msg("not yet"));
    }
    Ok(ctx.try_number())
}

#[test]
fn virtual_time_moves_on_in_dag_test_while_a_retry_waits_under_a_limit() {
    let report = within(
        BOUND,
        "dag.test() with a retry under max_active_tasks = 1",
        || {
            Dag::builder("limited_retries")
                .max_active_tasks(1)
                .build(|| {
                    fails_twice();
                    nap_an_hour();
                })
                .unwrap()
                .test()
                .unwrap()
        },
    );
    assert_eq!(report.xcom::<u32>("fails_twice").unwrap(), 3);
    assert!(report.succeeded(), "{report:?}");
    assert!(report.duration() >= Duration::from_secs(2 * 3600));
}

/// Submits three runs under one hold; they must all start at the same virtual time.
fn held_runs_start_together(executor: &Executor, dag: &Dag) {
    let hold = executor.hold_time();
    let handles: Vec<RunHandle> = (0..3)
        .map(|run| {
            executor
                .submit(dag, RunOptions::new().run_id(format!("held_{run}")))
                .unwrap()
        })
        .collect();
    drop(hold);
    let starts: Vec<_> = handles
        .into_iter()
        .map(|handle| {
            let report = handle.wait().unwrap();
            report.start_date()
        })
        .collect();
    let spread = *starts.iter().max().unwrap() - *starts.iter().min().unwrap();
    assert!(
        spread < taskflow::chrono::Duration::minutes(30),
        "runs submitted under one hold started {spread} apart"
    );
}

#[test]
fn hold_time_holds_while_runs_are_submitted_under_a_limit() {
    // Each repetition races submissions against workers that set tasks aside for the
    // limit; the clock used to read its busy and blocked counts apart and skip between them.
    let repetitions: usize = std::env::var("TASKFLOW_HOLD_REPETITIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    within(BOUND * 5, "hold_time stress", move || {
        // The second nap of a run waits for the first (max_active_tasks = 1).
        let dag = Dag::builder("held")
            .max_active_tasks(1)
            .build(|| {
                nap_an_hour();
                nap_an_hour();
            })
            .unwrap();
        for _ in 0..repetitions {
            let executor = Executor::builder().virtual_time(true).build().unwrap();
            held_runs_start_together(&executor, &dag);
        }
    });
}

#[task]
async fn fetch_later(ctx: &Context) -> u32 {
    ctx.sleep(Duration::from_secs(60)).await;
    7
}

#[task(retries = 1, retry_delay = "1h")]
fn fails_once(ctx: &Context) -> Result<u32, TaskError> {
    match ctx.try_number() {
        1 => Err(TaskError::msg("first try fails")),
        n => Ok(n),
    }
}

#[test]
fn a_run_in_flight_outlives_its_dropped_executor() {
    let report = within(BOUND, "waiting for a run of a dropped executor", || {
        let dag = Dag::build("outlives", || {
            fetch_later();
            fails_once();
        })
        .unwrap();
        let executor = Executor::builder().virtual_time(true).build().unwrap();
        let handle = executor.submit(&dag, RunOptions::new()).unwrap();
        drop(executor); // its async task sleeps and its retry waits meanwhile
        handle.wait().unwrap()
    });
    assert_eq!(report.xcom::<u32>("fetch_later").unwrap(), 7);
    assert_eq!(report.xcom::<u32>("fails_once").unwrap(), 2);
}

#[test]
fn a_run_in_flight_outlives_its_executor_dropped_in_real_time() {
    let report = within(BOUND, "waiting for a run of a dropped executor", || {
        let dag = Dag::build("outlives_real_time", || {
            fails_once::with(TaskOptions::new().retry_delay(Duration::from_millis(1))).add();
        })
        .unwrap();
        let executor = Executor::new();
        let handle = executor.submit(&dag, RunOptions::new()).unwrap();
        drop(executor);
        handle.wait().unwrap()
    });
    assert_eq!(report.state("fails_once"), TaskState::Success);
}

#[task(execution_timeout = "1s")]
async fn blocks_its_thread() -> u32 {
    // Blocking inside async code (a mistake, but one users make) holds a runtime thread.
    std::thread::sleep(Duration::from_secs(20));
    1
}

#[task(trigger_rule = "all_done")]
async fn after_the_timeout() -> u32 {
    2
}

#[test]
fn a_blocking_async_body_still_times_out_in_dag_test() {
    let report = within(
        Duration::from_secs(15),
        "dag.test() of a blocking async body",
        || {
            Dag::build("blocking_async", || {
                blocks_its_thread() >> after_the_timeout();
            })
            .unwrap()
            .test()
            .unwrap()
        },
    );
    let task = report.task("blocks_its_thread").unwrap();
    assert_eq!(task.state, TaskState::Failed);
    assert!(task.error.unwrap().contains("execution timeout"));
    assert_eq!(report.xcom::<u32>("after_the_timeout").unwrap(), 2);
}

/// A value whose `Drop` panics: user code the executor must survive.
#[derive(Debug, Clone)]
struct PanicsWhenDropped(u32);

impl Drop for PanicsWhenDropped {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("PanicsWhenDropped({}) was dropped", self.0);
        }
    }
}

#[task]
fn makes_a_value_that_panics_when_dropped() -> PanicsWhenDropped {
    PanicsWhenDropped(1)
}

#[task]
fn panics_with_a_payload_that_panics_when_dropped() {
    std::panic::panic_any(PanicsWhenDropped(2));
}

#[test]
fn values_that_panic_when_dropped_do_not_kill_worker_threads() {
    let dag = Dag::build("drops_panic", || {
        makes_a_value_that_panics_when_dropped();
    })
    .unwrap();
    within(
        BOUND,
        "runs after values that panic when dropped",
        move || {
            let executor = Executor::builder().parallelism(2).build().unwrap();
            // Fire and forget: the last handle of each run, and of its value, goes on a worker.
            for run in 0..200 {
                let options = RunOptions::new()
                    .run_id(format!("run_{run}"))
                    .keep_xcoms(false);
                drop(executor.submit(&dag, options).unwrap());
            }
            let report = executor
                .submit(&dag, RunOptions::new().run_id("last"))
                .unwrap()
                .wait()
                .unwrap();
            assert!(report.succeeded());
            drop(report); // the report's own copy of the value, on this thread
            // The process-wide default executor too.
            for _ in 0..100 {
                assert!(dag.test().unwrap().succeeded());
            }
        },
    );
}

#[task]
fn reads_the_value_that_panics_when_dropped(value: &PanicsWhenDropped) -> u32 {
    value.0
}

#[test]
fn a_reader_holding_the_last_handle_of_a_value_that_panics_when_dropped_succeeds() {
    let dag = Dag::build("last_reader", || {
        let value = makes_a_value_that_panics_when_dropped();
        reads_the_value_that_panics_when_dropped(value);
        reads_the_value_that_panics_when_dropped(value);
    })
    .unwrap();
    let report = within(BOUND, "a run whose readers drop a bad value", move || {
        // Values are not kept for the report: the last reader holds the last handle.
        dag.test_with(RunOptions::new().keep_xcoms(false)).unwrap()
    });
    assert!(
        report.succeeded(),
        "{:?}",
        report.error("reads_the_value_that_panics_when_dropped")
    );
    assert_eq!(
        report
            .xcom::<u32>("reads_the_value_that_panics_when_dropped__1")
            .unwrap(),
        1
    );
}

#[test]
fn a_panic_payload_that_panics_when_dropped_fails_only_its_task() {
    let report = within(BOUND, "dag.test() of a panic with a bad payload", || {
        Dag::build("bad_payload", || {
            panics_with_a_payload_that_panics_when_dropped();
            makes_a_value_that_panics_when_dropped();
        })
        .unwrap()
        .test()
        .unwrap()
    });
    let task = report
        .task("panics_with_a_payload_that_panics_when_dropped")
        .unwrap();
    assert_eq!(task.state, TaskState::Failed);
    assert!(task.error.unwrap().contains("task panicked"));
    assert_eq!(
        report.state("makes_a_value_that_panics_when_dropped"),
        TaskState::Success
    );
}

#[task]
fn plain_step() -> u32 {
    1
}

/// The error of building a one-task DAG whose task takes `options`.
fn option_error(options: TaskOptions) -> String {
    match Dag::build("edge_values", move || {
        plain_step::with(options).add();
    }) {
        Ok(_) => panic!("a DAG with a task taking these options built"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn a_zero_execution_timeout_from_code_is_an_error_not_ignored() {
    let error = option_error(TaskOptions::new().execution_timeout(Duration::ZERO));
    assert_eq!(
        error,
        "dag `edge_values`: `execution_timeout` of task `plain_step` is not valid: it must be \
         longer than zero, or every try would time out at once"
    );
}

#[test]
fn a_retry_delay_too_long_for_the_clock_is_an_error_not_lost() {
    let error = option_error(TaskOptions::new().retries(2).retry_delay(Duration::MAX));
    assert!(
        error.starts_with("dag `edge_values`: `retry_delay` of task `plain_step` is not valid"),
        "{error}"
    );
    assert!(error.contains("longer than 36500 days"), "{error}");
    // Each wait fits, but not all of them together.
    let year = Duration::from_secs(365 * 24 * 3600);
    let error = option_error(TaskOptions::new().retries(3).retry_delay(40 * year));
    assert!(error.contains("`retries` of task `plain_step`"), "{error}");
    // A long but representable delay is kept for every retry.
    let ok = Dag::build("long_delays", move || {
        fails_twice::with(TaskOptions::new().retry_delay(10 * year)).add();
    })
    .unwrap()
    .test()
    .unwrap();
    let starts = ok.task("fails_twice").unwrap().try_start_dates;
    assert_eq!(starts.len(), 3);
    for pair in starts.windows(2) {
        assert!((pair[1] - pair[0]).num_days() >= 3650, "{starts:?}");
    }
}

#[test]
fn a_zero_poke_interval_from_code_is_an_error_not_a_spin() {
    let settings = taskflow::SensorSettings::DEFAULT.with_poke_interval(Duration::ZERO);
    let error = match Dag::build("spinning", move || {
        third_check::with(TaskOptions::new().sensor(settings)).add();
    }) {
        Ok(_) => panic!("a sensor with a zero poke interval built"),
        Err(error) => error.to_string(),
    };
    assert_eq!(
        error,
        "dag `spinning`: `poke_interval` of task `third_check` is not valid: it must be longer \
         than zero, or the sensor would check without a pause"
    );
}

#[task(pool = "warehouse", pool_slots = 2)]
fn loads_the_warehouse() -> u32 {
    2
}

#[test]
fn dag_test_checks_pool_names_and_sizes_like_an_executor() {
    let dag = Dag::build("pooled", || {
        loads_the_warehouse();
    })
    .unwrap();
    let error = dag.test().unwrap_err().to_string();
    assert_eq!(
        error,
        "dag `pooled`: task `loads_the_warehouse` uses pool `warehouse`, which this run does not \
         declare; declare it with `RunOptions::new().pool(\"warehouse\", slots)`, or run on an \
         `Executor` that has it"
    );
    let typo = dag
        .test_with(RunOptions::new().pool("warehous", 2))
        .unwrap_err();
    assert!(
        matches!(typo, taskflow::Error::UndeclaredPool { .. }),
        "{typo}"
    );
    let small = dag
        .test_with(RunOptions::new().pool("warehouse", 1))
        .unwrap_err();
    assert_eq!(
        small.to_string(),
        "dag `pooled`: task `loads_the_warehouse` needs 2 slots of pool `warehouse`, which has only 1"
    );
    let report = dag
        .test_with(RunOptions::new().pool("warehouse", 2))
        .unwrap();
    assert_eq!(report.xcom::<u32>("loads_the_warehouse").unwrap(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dag_run_checks_pools_too() {
    let dag = Dag::build("pooled_run", || {
        loads_the_warehouse();
    })
    .unwrap();
    assert!(matches!(
        dag.run().await.unwrap_err(),
        taskflow::Error::UndeclaredPool { .. }
    ));
    let report = dag
        .run_with(RunOptions::new().pool("warehouse", 4))
        .await
        .unwrap();
    assert!(report.succeeded());
}

#[task]
fn always_fails() -> Result<(), TaskError> {
    Err(TaskError::msg("broken"))
}

static FAILED_RUNS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
static RUN_FAILED: std::sync::Condvar = std::sync::Condvar::new();

fn note_failed_run(report: &RunReport) {
    FAILED_RUNS.lock().unwrap().push(report.run_id().to_owned());
    RUN_FAILED.notify_all();
}

#[test]
fn a_dag_run_callback_fires_for_a_run_nobody_waits_for() {
    let dag = Dag::builder("fire_and_forget")
        .on_failure_callback(note_failed_run)
        .build(|| {
            always_fails();
        })
        .unwrap();
    let executor = Executor::new();
    drop(
        executor
            .submit(&dag, RunOptions::new().run_id("unwatched"))
            .unwrap(),
    );
    let runs = FAILED_RUNS.lock().unwrap();
    let (runs, waited) = RUN_FAILED
        .wait_timeout_while(runs, Duration::from_secs(30), |runs| runs.is_empty())
        .unwrap();
    assert!(!waited.timed_out(), "on_failure_callback was never called");
    assert_eq!(*runs, ["unwatched"]);
}

#[task]
fn cleans_up() -> u32 {
    1
}

#[test]
fn a_run_callback_may_wait_for_a_run_of_its_own_executor() {
    let report = within(BOUND, "a callback waiting for a clean-up run", || {
        // One worker at most: the callback must not hold it while it waits.
        let executor = Executor::builder().parallelism(1).build().unwrap();
        let cleanup = Dag::build("cleanup", || {
            cleans_up();
        })
        .unwrap();
        let on_failure = executor.clone();
        let (cleaned, cleaned_up) = std::sync::mpsc::channel();
        let cleaned = std::sync::Mutex::new(cleaned);
        let dag = Dag::builder("needs_cleanup")
            .on_failure_callback(move |_report| {
                let report = on_failure
                    .submit(&cleanup, RunOptions::new())
                    .and_then(RunHandle::wait);
                let _ = cleaned.lock().unwrap().send(report.map(|r| r.succeeded()));
            })
            .build(|| {
                always_fails();
            })
            .unwrap();
        let report = executor
            .submit(&dag, RunOptions::new())
            .unwrap()
            .wait()
            .unwrap();
        let cleaned = cleaned_up.recv_timeout(BOUND).unwrap().unwrap();
        (report.succeeded(), cleaned)
    });
    assert_eq!(report, (false, true));
}

#[test]
fn a_run_callback_may_rerun_its_dag_under_max_active_runs_of_one() {
    let rerun = within(BOUND, "a callback rerunning its DAG", || {
        let executor = Executor::new();
        let dag: std::sync::Arc<std::sync::OnceLock<Dag>> = Default::default();
        let (on_failure, later) = (executor.clone(), std::sync::Arc::clone(&dag));
        let (reran, rerun) = std::sync::mpsc::channel();
        let reran = std::sync::Mutex::new(reran);
        let built = Dag::builder("reruns_itself")
            .max_active_runs(1)
            .on_failure_callback(move |report| {
                if report.run_id() == "rerun" {
                    return;
                }
                let again = on_failure
                    .submit(later.get().unwrap(), RunOptions::new().run_id("rerun"))
                    .and_then(RunHandle::wait)
                    .map(|report| report.run_id().to_owned());
                let _ = reran.lock().unwrap().send(again);
            })
            .build(|| {
                always_fails();
            })
            .unwrap();
        let dag = dag.get_or_init(|| built);
        executor
            .submit(dag, RunOptions::new())
            .unwrap()
            .wait()
            .unwrap();
        rerun.recv_timeout(BOUND).unwrap().unwrap()
    });
    assert_eq!(rerun, "rerun");
}
