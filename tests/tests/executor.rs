//! One `Executor` shared by many runs: priority order across runs, pools that hold slots for
//! the task at the head of their line, and Airflow's limits.
//!
//! The scenarios start with "gate" tasks (of the highest priority, so that they start first)
//! that hold the executor's capacity until the test releases them, so that everything submitted meanwhile is waiting in the ready queue when
//! the gate opens; what starts first after that is decided by the queue alone.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use taskflow::chrono::{self, TimeZone, Utc};
use taskflow::prelude::*;
use taskflow::{Executor, RunHandle};
use taskflow_tests::gate::Gate;

/// Task starts in order, as "dag_id/run_id/task_id".
#[derive(Default)]
struct Starts(Mutex<Vec<String>>);

impl Starts {
    fn record(&self, ctx: &Context) {
        let entry = format!("{}/{}/{}", ctx.dag_id(), ctx.run_id(), ctx.task_id());
        self.0.lock().unwrap().push(entry);
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

/// `runs` runs of `dag` with logical dates one day apart, oldest first.
fn backfill(executor: &Executor, dag: &Dag, runs: u32) -> Vec<RunHandle> {
    (1..=runs)
        .map(|day| {
            let date = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
                + chrono::Duration::days(i64::from(day));
            executor
                .submit(
                    dag,
                    RunOptions::new()
                        .logical_date(date)
                        .run_id(format!("day_{day:02}")),
                )
                .unwrap()
        })
        .collect()
}

fn succeeded(handles: Vec<RunHandle>) {
    for handle in handles {
        let report = handle.wait().unwrap();
        assert!(
            report.succeeded(),
            "{:?}",
            report.task_ids_in(TaskState::Failed)
        );
    }
}

/// One slot (`parallelism = 1`): tasks start strictly in the order the ready queue gives,
/// whatever the OS does with the threads, so the whole order can be checked.
#[test]
fn a_high_priority_run_goes_ahead_of_a_backfill_that_was_waiting() {
    static STARTS: LazyLock<Starts> = LazyLock::new(Starts::default);
    static GATE: LazyLock<Gate> = LazyLock::new(Gate::new);
    // The gate goes first, whatever is submitted right after it.
    #[task(priority_weight = 1000)]
    fn hold() -> Result<(), TaskError> {
        GATE.pass()
    }
    #[task]
    fn low(ctx: &Context) {
        STARTS.record(ctx);
    }
    #[task(priority_weight = 10)]
    fn high(ctx: &Context) {
        STARTS.record(ctx);
    }
    let executor = Executor::builder()
        .parallelism(1)
        .max_active_runs(64)
        .build()
        .unwrap();
    let gate = Dag::build("gate", || {
        hold();
    })
    .unwrap();
    let low_dag = Dag::build("low", || {
        low() >> low() >> low();
    })
    .unwrap();
    let high_dag = Dag::build("high", || {
        high() >> high() >> high();
    })
    .unwrap();
    assert_eq!(high_dag.priority_weight("high").unwrap(), 30);
    assert_eq!(low_dag.priority_weight("low").unwrap(), 3);

    let gate_run = executor.submit(&gate, RunOptions::new()).unwrap();
    let lows = backfill(&executor, &low_dag, 30);
    let high_run = executor
        .submit(&high_dag, RunOptions::new().run_id("urgent"))
        .unwrap();
    GATE.open(1);
    assert!(gate_run.wait().unwrap().succeeded());
    assert!(high_run.wait().unwrap().succeeded());
    succeeded(lows);

    let starts = STARTS.take();
    assert_eq!(starts.len(), 3 + 30 * 3);
    // The 30 first tasks of the backfill were waiting before the urgent run came; its tasks,
    // of higher priority, start first, each as soon as it is ready.
    assert_eq!(
        starts[..3],
        [
            "high/urgent/high",
            "high/urgent/high__1",
            "high/urgent/high__2"
        ],
        "{starts:?}"
    );
    // Then by priority (the downstream rule puts first tasks, weight 3, before second ones,
    // weight 2, ...), and among equal priorities by logical date, oldest first.
    let mut expected = Vec::new();
    for task in ["low", "low__1", "low__2"] {
        for day in 1..=30 {
            expected.push(format!("low/day_{day:02}/{task}"));
        }
    }
    assert_eq!(starts[3..], expected[..]);
}

/// Two slots: the same scenario finishes, with every run's tasks in dependency order; what
/// starts first between two threads is the OS's choice, so only the queue's part is checked.
#[test]
fn a_backfill_and_an_urgent_run_share_two_slots() {
    static STARTS: LazyLock<Starts> = LazyLock::new(Starts::default);
    #[task]
    fn low(ctx: &Context) {
        STARTS.record(ctx);
    }
    #[task(priority_weight = 10)]
    fn high(ctx: &Context) {
        STARTS.record(ctx);
    }
    let executor = Executor::builder()
        .parallelism(2)
        .max_active_runs(64)
        .build()
        .unwrap();
    let low_dag = Dag::build("low", || {
        low() >> low() >> low();
    })
    .unwrap();
    let high_dag = Dag::build("high", || {
        high() >> high() >> high();
    })
    .unwrap();
    let lows = backfill(&executor, &low_dag, 30);
    let high_run = executor
        .submit(&high_dag, RunOptions::new().run_id("urgent"))
        .unwrap();
    let report = high_run.wait().unwrap();
    assert!(report.succeeded());
    succeeded(lows);
    let starts = STARTS.take();
    assert_eq!(starts.len(), 93);
    for day in (1..=30)
        .map(|day| format!("low/day_{day:02}/"))
        .chain(["high/urgent/".to_owned()])
    {
        let positions: Vec<usize> = (0..starts.len())
            .filter(|&i| starts[i].starts_with(&day))
            .collect();
        assert_eq!(positions.len(), 3, "{day}");
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "{day} out of order: {starts:?}"
        );
    }
}

#[test]
fn a_task_needing_every_slot_of_a_pool_is_not_starved_by_small_ones() {
    static STARTS: LazyLock<Starts> = LazyLock::new(Starts::default);
    static FIRST: LazyLock<Gate> = LazyLock::new(Gate::new);
    static SECOND: LazyLock<Gate> = LazyLock::new(Gate::new);
    #[task(pool = "warehouse", priority_weight = 1000)]
    fn hold_first() -> Result<(), TaskError> {
        FIRST.pass()
    }
    #[task(pool = "warehouse", priority_weight = 1000)]
    fn hold_second() -> Result<(), TaskError> {
        SECOND.pass()
    }
    #[task(pool = "warehouse", priority_weight = 1, weight_rule = "absolute")]
    fn small(ctx: &Context) {
        STARTS.record(ctx);
    }
    #[task(
        pool = "warehouse",
        pool_slots = 2,
        priority_weight = 1,
        weight_rule = "absolute"
    )]
    fn big(ctx: &Context) {
        STARTS.record(ctx);
    }
    let executor = Executor::builder()
        .parallelism(8)
        .pool("warehouse", 2)
        .build()
        .unwrap();
    let dag = |id: &str, body: fn()| Dag::build(id, body).unwrap();
    let first = executor
        .submit(
            dag("first", || {
                hold_first();
            }),
            RunOptions::new(),
        )
        .unwrap();
    let second = executor
        .submit(
            dag("second", || {
                hold_second();
            }),
            RunOptions::new(),
        )
        .unwrap();
    // Both slots are taken; the big task waits for them, at the head of the pool's line.
    let date = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let big_run = executor
        .submit(
            dag("big", || {
                big();
            }),
            RunOptions::new().logical_date(date),
        )
        .unwrap();
    // One slot frees. Small tasks of the same priority arrive; each would fit in it, but the
    // slot is held for the big task.
    FIRST.open(1);
    assert!(first.wait().unwrap().succeeded());
    let small_dag = dag("small", || {
        small();
    });
    let smalls: Vec<RunHandle> = (0..20)
        .map(|i| {
            let options = RunOptions::new()
                .logical_date(date)
                .run_id(format!("small_{i}"));
            executor.submit(&small_dag, options).unwrap()
        })
        .collect();
    SECOND.open(1);
    assert!(second.wait().unwrap().succeeded());
    assert!(big_run.wait().unwrap().succeeded());
    succeeded(smalls);
    let starts = STARTS.take();
    assert_eq!(starts.len(), 21);
    assert!(starts[0].starts_with("big/"), "{starts:?}");
}

/// Counts tasks running at once and keeps the highest count seen.
#[derive(Default)]
struct Concurrency {
    now: AtomicUsize,
    most: AtomicUsize,
}

impl Concurrency {
    fn enter(&self) {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        // Give other workers a chance to start alongside, without sleeping.
        for _ in 0..50 {
            std::thread::yield_now();
        }
        self.now.fetch_sub(1, Ordering::SeqCst);
    }

    fn most(&self) -> usize {
        self.most.load(Ordering::SeqCst)
    }
}

#[test]
fn parallelism_bounds_tries_in_flight_across_runs() {
    static SEEN: LazyLock<Concurrency> = LazyLock::new(Concurrency::default);
    #[task]
    fn busy() {
        SEEN.enter();
    }
    let executor = Executor::builder().parallelism(3).build().unwrap();
    let dag = Dag::build("wide", || {
        for _ in 0..8 {
            busy();
        }
    })
    .unwrap();
    succeeded(backfill(&executor, &dag, 6));
    assert!(SEEN.most() <= 3, "{} at once", SEEN.most());
}

#[test]
fn max_active_tasks_bounds_one_run_and_max_active_runs_queues_runs() {
    static TASKS: LazyLock<Concurrency> = LazyLock::new(Concurrency::default);
    static RUNS: LazyLock<Concurrency> = LazyLock::new(Concurrency::default);
    #[task]
    fn busy() {
        TASKS.enter();
    }
    #[task]
    fn whole_run() {
        RUNS.enter();
    }
    #[dag(max_active_tasks = 2)]
    fn narrow() {
        for _ in 0..8 {
            busy();
        }
    }
    #[dag(max_active_runs = 1)]
    fn one_at_a_time() {
        whole_run();
    }
    let executor = Executor::new();
    let narrow = narrow().unwrap();
    let report = executor
        .submit(&narrow, RunOptions::new())
        .unwrap()
        .wait()
        .unwrap();
    assert!(report.succeeded());
    assert!(TASKS.most() <= 2, "{} at once", TASKS.most());
    succeeded(backfill(&executor, &one_at_a_time().unwrap(), 6));
    assert_eq!(RUNS.most(), 1);
}

#[test]
fn max_active_tis_per_dag_bounds_a_task_across_runs() {
    static SEEN: LazyLock<Concurrency> = LazyLock::new(Concurrency::default);
    #[task(max_active_tis_per_dag = 1)]
    fn exclusive() {
        SEEN.enter();
    }
    #[task]
    fn free() {}
    let executor = Executor::builder().parallelism(8).build().unwrap();
    let dag = Dag::build("exclusive_access", || {
        free() >> exclusive() >> free();
    })
    .unwrap();
    succeeded(backfill(&executor, &dag, 10));
    assert_eq!(SEEN.most(), 1);
}

#[test]
fn dag_limits_hold_without_an_explicit_executor_too() {
    static SEEN: LazyLock<Concurrency> = LazyLock::new(Concurrency::default);
    #[task]
    fn busy() {
        SEEN.enter();
    }
    let dag = Dag::builder("limited")
        .max_active_tasks(1)
        .build(|| {
            for _ in 0..6 {
                busy();
            }
        })
        .unwrap();
    assert!(dag.test().unwrap().succeeded());
    assert_eq!(SEEN.most(), 1);
}

#[test]
fn bad_pools_and_limits_are_clear_errors() {
    #[task(pool = "gpu")]
    fn train() {}
    #[task(pool = "gpu", pool_slots = 4)]
    fn train_big() {}
    let executor = Executor::builder().pool("gpu", 2).build().unwrap();
    let no_pool = Executor::new();
    let dag = Dag::build("training", || {
        train();
    })
    .unwrap();
    // A run that cannot start is refused by `submit` itself, not at `wait`.
    let error = no_pool.submit(&dag, RunOptions::new()).unwrap_err();
    assert!(
        matches!(error, taskflow::Error::UnknownPool { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("pool(\"gpu\", slots)"),
        "{error}"
    );
    assert!(
        executor
            .submit(&dag, RunOptions::new())
            .unwrap()
            .wait()
            .unwrap()
            .succeeded()
    );

    let too_big = Dag::build("training_big", || {
        train_big();
    })
    .unwrap();
    let error = executor.submit(&too_big, RunOptions::new()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "dag `training_big`: task `train_big` needs 4 slots of pool `gpu`, which has only 2"
    );
    let error = Executor::builder().parallelism(0).build().unwrap_err();
    assert!(error.to_string().contains("parallelism"), "{error}");
    // The default executor checks the pools a run declares.
    assert!(matches!(
        dag.test().unwrap_err(),
        taskflow::Error::UndeclaredPool { .. }
    ));
    let declared = RunOptions::new().pool("gpu", 2);
    assert!(dag.test_with(declared).unwrap().succeeded());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_handle_is_awaited_in_async_code() {
    #[task]
    async fn fetch() -> u32 {
        7
    }
    let executor = Executor::new();
    let dag = Dag::build("async_handle", || {
        fetch();
    })
    .unwrap();
    let report = executor
        .submit(&dag, RunOptions::new())
        .unwrap()
        .await
        .unwrap();
    assert_eq!(report.xcom::<u32>("fetch").unwrap(), 7);
    drop(executor); // dropping it in async code is fine
}

#[test]
fn a_high_priority_task_needing_a_whole_pool_goes_ahead_of_a_backfill() {
    static STARTS: LazyLock<Starts> = LazyLock::new(Starts::default);
    static GATE: LazyLock<Gate> = LazyLock::new(Gate::new);
    #[task(pool = "warehouse", priority_weight = 1000)]
    fn hold() -> Result<(), TaskError> {
        GATE.pass()
    }
    #[task(pool = "warehouse")]
    fn small_load(ctx: &Context) {
        STARTS.record(ctx);
    }
    #[task(pool = "warehouse", pool_slots = 2, priority_weight = 10)]
    fn big_load(ctx: &Context) {
        STARTS.record(ctx);
    }
    let executor = Executor::builder()
        .parallelism(2)
        .pool("warehouse", 2)
        .max_active_runs(64)
        .build()
        .unwrap();
    let gate = Dag::build("gate", || {
        hold();
        hold();
    })
    .unwrap();
    let small = Dag::build("small", || {
        small_load();
    })
    .unwrap();
    let big = Dag::build("big", || {
        big_load();
    })
    .unwrap();
    let gate_run = executor.submit(&gate, RunOptions::new()).unwrap();
    let smalls = backfill(&executor, &small, 30);
    let big_run = executor
        .submit(&big, RunOptions::new().run_id("urgent"))
        .unwrap();
    GATE.open(2);
    assert!(gate_run.wait().unwrap().succeeded());
    assert!(big_run.wait().unwrap().succeeded());
    succeeded(smalls);
    let starts = STARTS.take();
    assert_eq!(starts.len(), 31);
    // The big task holds both slots while it runs, so nothing of the pool runs beside it:
    // the order is the pool's. The first freed slot was held for it, not given to a small.
    assert_eq!(starts[0], "big/urgent/big_load", "{starts:?}");
}

#[test]
fn a_virtual_time_executor_skips_retry_waits_and_takes_dags_by_value() {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    #[task(retries = 2, retry_delay = "1h")]
    fn flaky() -> Result<usize, TaskError> {
        match CALLS.fetch_add(1, Ordering::SeqCst) {
            0 | 1 => Err(TaskError::msg("not yet")),
            n => Ok(n),
        }
    }
    let executor = Executor::builder().virtual_time(true).build().unwrap();
    let dag = std::sync::Arc::new(
        Dag::build("virtual_retries", || {
            flaky();
        })
        .unwrap(),
    );
    let report = executor
        .submit(std::sync::Arc::clone(&dag), RunOptions::new())
        .unwrap()
        .wait()
        .unwrap();
    assert_eq!(report.state("flaky"), TaskState::Success);
    let starts = report.task("flaky").unwrap().try_start_dates;
    assert_eq!(starts.len(), 3);
    assert!(
        starts[2] - starts[0] >= chrono::Duration::hours(2),
        "{starts:?}"
    );
    let again = executor
        .submit(Dag::clone(&dag), RunOptions::new().virtual_time(false))
        .unwrap();
    drop(again); // a handle dropped unawaited: the run goes on; the executor outlives it
}

/// The scenario on a shared virtual clock, with two slots: each task takes a minute
/// of virtual time (`ctx.sleep`), and the clock moves on only when no task of any run can,
/// so the times at which tasks start are the same on every run of the test.
#[test]
fn on_a_virtual_clock_with_two_slots_the_urgent_run_overtakes_the_backfill() {
    static GATE: LazyLock<Gate> = LazyLock::new(Gate::new);
    // Holds both slots, in real time, while the runs are submitted.
    #[task(priority_weight = 1000)]
    fn hold() -> Result<(), TaskError> {
        GATE.pass()
    }
    #[task]
    async fn low(ctx: &Context) {
        ctx.sleep(Duration::from_secs(60)).await;
    }
    #[task(priority_weight = 10)]
    async fn high(ctx: &Context) {
        ctx.sleep(Duration::from_secs(60)).await;
    }
    let executor = Executor::builder()
        .parallelism(2)
        .max_active_runs(64)
        .virtual_time(true)
        .build()
        .unwrap();
    let gate = Dag::build("gate", || {
        hold();
        hold();
    })
    .unwrap();
    let low_dag = Dag::build("low", || {
        low() >> low() >> low();
    })
    .unwrap();
    let high_dag = Dag::build("high", || {
        high() >> high() >> high();
    })
    .unwrap();
    let gate_run = executor.submit(&gate, RunOptions::new()).unwrap();
    let lows = backfill(&executor, &low_dag, 30);
    let high_run = executor
        .submit(&high_dag, RunOptions::new().run_id("urgent"))
        .unwrap();
    GATE.open(2);
    let opened = gate_run
        .wait()
        .unwrap()
        .task("hold")
        .unwrap()
        .end_date
        .unwrap();
    let high = high_run.wait().unwrap();
    let lows: Vec<RunReport> = lows.into_iter().map(|run| run.wait().unwrap()).collect();

    // Minutes after the gate opened, to the nearest one (real time adds microseconds).
    let minute = |date: chrono::DateTime<Utc>| {
        ((date - opened).num_milliseconds() as f64 / 60_000.0).round() as i64
    };
    let starts =
        |report: &RunReport, id: &str| minute(report.task(id).unwrap().start_date.unwrap());
    // The urgent run goes first in every free slot: it starts at 0, 1 and 2 minutes and is
    // done at 3, while the backfill needs 45 minutes of both slots.
    let high_starts: Vec<i64> = ["high", "high__1", "high__2"]
        .iter()
        .map(|id| starts(&high, id))
        .collect();
    assert_eq!(high_starts, [0, 1, 2]);
    assert_eq!(minute(high.task("high__2").unwrap().end_date.unwrap()), 3);
    // Beside it, in the other slot, the backfill's first tasks, one day after another.
    let first_starts: Vec<i64> = lows.iter().map(|report| starts(report, "low")).collect();
    assert_eq!(first_starts[..4], [0, 1, 2, 3]);
    assert!(
        first_starts.windows(2).all(|w| w[0] <= w[1]),
        "{first_starts:?}"
    );
    // Tasks started before the urgent run's last task: bounded by the slots, not the backfill.
    let before = lows
        .iter()
        .flat_map(|report| ["low", "low__1", "low__2"].map(|id| starts(report, id)))
        .filter(|&start| start < high_starts[2])
        .count();
    assert_eq!(before, 2);
    let end = lows
        .iter()
        .map(|report| minute(report.task("low__2").unwrap().end_date.unwrap()))
        .max()
        .unwrap();
    assert_eq!(end, 47, "93 task-minutes on two slots");
}

#[test]
fn limits_of_zero_are_build_errors_not_hangs() {
    #[task]
    fn step() {}
    let error = Dag::build("zero_slots", || {
        step::with(TaskOptions::new().pool_slots(0)).add();
    })
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "dag `zero_slots`: `pool_slots` of task `step` is not valid: it must be at least 1, or \
         the task could never run"
    );
    let error = Dag::build("zero_tis", || {
        step::with(TaskOptions::new().max_active_tis_per_dag(0)).add();
    })
    .unwrap_err();
    assert!(
        error.to_string().contains("max_active_tis_per_dag"),
        "{error}"
    );
    let error = Dag::builder("zero_runs").max_active_runs(0).build(|| {
        step();
    });
    assert!(matches!(error, Err(taskflow::Error::InvalidOption { .. })));
}

#[test]
fn a_waiting_retry_holds_no_slot_and_a_timed_out_try_gives_its_slot_back() {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    #[task(retries = 1, retry_delay = "1h", pool = "one")]
    fn flaky() -> Result<(), TaskError> {
        match CALLS.fetch_add(1, Ordering::SeqCst) {
            0 => Err(TaskError::msg("first try fails")),
            _ => Ok(()),
        }
    }
    #[task(execution_timeout = "10m", pool = "one")]
    async fn stuck(ctx: &Context) {
        ctx.sleep(Duration::from_secs(24 * 3600)).await;
    }
    #[task(pool = "one")]
    fn other() {}
    let executor = Executor::builder()
        .pool("one", 1)
        .virtual_time(true)
        .build()
        .unwrap();
    let date = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let dag = |id: &str, body: fn()| Dag::build(id, body).unwrap();
    // All three runs start at the same virtual time.
    let hold = executor.hold_time();
    let retrying = executor
        .submit(
            dag("retrying", || {
                flaky();
            }),
            RunOptions::new().logical_date(date),
        )
        .unwrap();
    let timing_out = executor
        .submit(
            dag("timing_out", || {
                stuck();
            }),
            RunOptions::new().logical_date(date + chrono::Duration::days(1)),
        )
        .unwrap();
    let others = executor
        .submit(
            dag("others", || {
                other();
            }),
            RunOptions::new().logical_date(date + chrono::Duration::days(2)),
        )
        .unwrap();
    drop(hold);
    let (retrying, timing_out, others) = (
        retrying.wait().unwrap(),
        timing_out.wait().unwrap(),
        others.wait().unwrap(),
    );
    let flaky = retrying.task("flaky").unwrap();
    assert_eq!((flaky.state, flaky.tries), (TaskState::Success, 2));
    let stuck = timing_out.task("stuck").unwrap();
    assert_eq!(stuck.state, TaskState::Failed);
    assert!(stuck.error.unwrap().contains("execution timeout"));
    // The one slot went to the first try of `flaky`, then to `stuck` and `other` in turn
    // (never both at once: `stuck` gave it back when it timed out after 10 minutes), all
    // while `flaky` waited an hour to retry.
    let other = others.task("other").unwrap();
    let other_start = other.start_date.unwrap();
    let (stuck_start, stuck_end) = (stuck.start_date.unwrap(), stuck.end_date.unwrap());
    assert!(
        other_start >= stuck_end || other.end_date.unwrap() <= stuck_start,
        "other {other_start}, stuck {stuck_start} to {stuck_end}"
    );
    assert!(stuck_end - stuck_start >= chrono::Duration::minutes(10));
    assert!(
        other_start < flaky.try_start_dates[1],
        "{other_start} vs {:?}",
        flaky.try_start_dates
    );
}

/// A task held back while `parallelism` tries were in flight starts as soon as a slot of
/// parallelism frees up, even when the task chosen ahead of it then waits for its pool.
#[test]
fn a_task_held_for_parallelism_is_not_stranded_behind_one_waiting_for_its_pool() {
    static A1_STARTED: LazyLock<Gate> = LazyLock::new(Gate::new);
    static B1_STARTED: LazyLock<Gate> = LazyLock::new(Gate::new);
    static SUBMITTED: LazyLock<Gate> = LazyLock::new(Gate::new);
    static B2_STARTED: LazyLock<Gate> = LazyLock::new(Gate::new);
    #[task(pool = "p", priority_weight = 100)]
    fn holds_the_pool() -> Result<(), TaskError> {
        A1_STARTED.open(1);
        B2_STARTED.pass() // fails after a minute if `late` never starts
    }
    #[task(priority_weight = 50)]
    fn fills_parallelism() -> Result<(), TaskError> {
        B1_STARTED.open(1);
        SUBMITTED.pass()
    }
    #[task(priority_weight = 1)]
    fn late() {
        B2_STARTED.open(1);
    }
    #[task(pool = "p", priority_weight = 100)]
    fn waits_for_the_pool() {}
    let executor = Executor::builder()
        .parallelism(2)
        .pool("p", 1)
        .build()
        .unwrap();
    let submit = |id: &str, body: fn()| {
        executor
            .submit(Dag::build(id, body).unwrap(), RunOptions::new())
            .unwrap()
    };
    let first = submit("first", || {
        holds_the_pool();
    });
    A1_STARTED.pass().unwrap();
    let second = submit("second", || {
        fills_parallelism();
    });
    B1_STARTED.pass().unwrap();
    // Both slots of parallelism are taken: these two are held.
    let low = submit("low", || {
        late();
    });
    let high = submit("high", || {
        waits_for_the_pool();
    });
    SUBMITTED.open(1);
    // `waits_for_the_pool` goes first and waits for pool `p`; `late` takes the free slot.
    let first = first.wait().unwrap();
    assert_eq!(
        first.state("holds_the_pool"),
        TaskState::Success,
        "{:?}",
        first.error("holds_the_pool")
    );
    for handle in [second, low, high] {
        assert!(handle.wait().unwrap().succeeded());
    }
}
