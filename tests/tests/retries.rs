//! Retries, backoff, execution timeouts and virtual time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use taskflow::prelude::*;

const HOUR: Duration = Duration::from_secs(3600);

/// Fails until `counter` reaches `succeed_on`, recording the try numbers it saw.
fn flaky(counter: &AtomicU32, succeed_on: u32) -> Result<u32, TaskError> {
    let seen = counter.fetch_add(1, Ordering::SeqCst) + 1;
    if seen < succeed_on {
        Err(TaskError::msg(format!("try {seen} failed")))
    } else {
        Ok(seen)
    }
}

fn gaps(task: &taskflow::TaskReport) -> Vec<Duration> {
    task.try_start_dates
        .windows(2)
        .map(|w| (w[1] - w[0]).to_std().unwrap())
        .collect()
}

#[test]
fn retries_wait_in_virtual_time_and_show_each_try() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    static TRIES_SEEN: Mutex<Vec<u32>> = Mutex::new(Vec::new());
    #[task(retries = 3, retry_delay = "1h")]
    fn fetch(ctx: &Context) -> Result<u32, TaskError> {
        TRIES_SEEN.lock().unwrap().push(ctx.try_number());
        flaky(&CALLS, 4)
    }
    #[task]
    fn after(n: u32) -> u32 {
        n * 10
    }
    let report = Dag::build("retry", || {
        after(fetch());
    })
    .unwrap()
    .test()
    .unwrap();
    let fetch = report.task("fetch").unwrap();
    assert_eq!((fetch.state, fetch.tries), (TaskState::Success, 4));
    assert_eq!(*TRIES_SEEN.lock().unwrap(), [1, 2, 3, 4]);
    assert_eq!(report.xcom::<u32>("after").unwrap(), 40);
    // Three waits of an hour each, in virtual time: the report shows when each try started.
    let waits = gaps(&fetch);
    assert_eq!(waits.len(), 3);
    for wait in waits {
        assert!(
            wait >= HOUR && wait < HOUR + Duration::from_secs(60),
            "{wait:?}"
        );
    }
    assert!(report.duration() >= 3 * HOUR);
    assert!(report.task("after").unwrap().start_date.unwrap() >= fetch.end_date.unwrap());
    assert_eq!(
        report.error("fetch"),
        None,
        "the successful last try clears the error"
    );
}

#[test]
fn exhausted_retries_fail_the_task_with_the_last_error() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    #[task(retries = 2, retry_delay = "10m")]
    fn always_down() -> Result<u32, TaskError> {
        flaky(&CALLS, u32::MAX)
    }
    #[task]
    fn after(n: u32) -> u32 {
        n
    }
    let report = Dag::build("exhausted", || {
        after(always_down());
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.state("always_down"), TaskState::Failed);
    assert_eq!(report.try_number("always_down"), 3);
    assert_eq!(report.error("always_down").as_deref(), Some("try 3 failed"));
    assert_eq!(report.state("after"), TaskState::UpstreamFailed);
}

#[test]
fn fail_now_and_skip_are_never_retried() {
    #[task(retries = 5)]
    fn strict() -> Result<(), TaskError> {
        Err(TaskError::fail_now("bad credentials"))
    }
    #[task(retries = 5)]
    fn nothing() -> Result<(), TaskError> {
        Err(TaskError::skip("no data today"))
    }
    let report = Dag::build("no_retry", || {
        strict();
        nothing();
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(
        (report.state("strict"), report.try_number("strict")),
        (TaskState::Failed, 1)
    );
    assert_eq!(
        (report.state("nothing"), report.try_number("nothing")),
        (TaskState::Skipped, 1)
    );
}

#[test]
fn exponential_backoff_doubles_with_jitter_and_respects_the_cap() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    static CAPPED: AtomicU32 = AtomicU32::new(0);
    #[task(retries = 4, retry_delay = "1m", retry_exponential_backoff)]
    fn backing_off() -> Result<u32, TaskError> {
        flaky(&CALLS, 5)
    }
    #[task(
        retries = 4,
        retry_delay = "1m",
        retry_exponential_backoff = true,
        max_retry_delay = "3m"
    )]
    fn capped() -> Result<u32, TaskError> {
        flaky(&CAPPED, 5)
    }
    let report = Dag::build("backoff", || {
        backing_off();
        capped();
    })
    .unwrap()
    .test()
    .unwrap();
    let minute = Duration::from_secs(60);
    let slack = Duration::from_secs(1);
    for (i, wait) in gaps(&report.task("backing_off").unwrap())
        .into_iter()
        .enumerate()
    {
        let base = minute * 2u32.pow(i as u32);
        assert!(
            wait >= base && wait < 2 * base + slack,
            "wait {i}: {wait:?}, base {base:?}"
        );
    }
    for wait in gaps(&report.task("capped").unwrap()) {
        assert!(wait <= 3 * minute + slack, "{wait:?}");
    }
}

#[test]
fn an_async_try_past_its_timeout_is_cancelled_and_retried() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    #[task(execution_timeout = "50ms", retries = 1, retry_delay = "1s")]
    async fn slow_then_fast() -> Result<u32, TaskError> {
        if CALLS.fetch_add(1, Ordering::SeqCst) == 0 {
            std::future::pending::<()>().await; // never finishes: only the timeout ends it
        }
        Ok(7)
    }
    let report = Dag::build("async_timeout", || {
        slow_then_fast();
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.state("slow_then_fast"), TaskState::Success);
    assert_eq!(report.try_number("slow_then_fast"), 2);
    assert_eq!(report.xcom::<u32>("slow_then_fast").unwrap(), 7);
}

#[test]
fn a_blocking_try_past_its_timeout_fails_without_holding_up_the_run() {
    static RELEASE: Mutex<Option<std::sync::mpsc::Receiver<()>>> = Mutex::new(None);
    let (release, wait) = std::sync::mpsc::channel();
    *RELEASE.lock().unwrap() = Some(wait);
    #[task(execution_timeout = "50ms")]
    fn stuck() -> u32 {
        let wait = RELEASE.lock().unwrap().take().unwrap();
        let _ = wait.recv(); // blocks until the test releases it, after the run
        1
    }
    #[task(trigger_rule = "all_done")]
    fn cleanup() -> &'static str {
        "cleaned"
    }
    let report = Dag::build("blocking_timeout", || {
        let s = stuck();
        s >> cleanup()
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.state("stuck"), TaskState::Failed);
    let error = report.error("stuck").unwrap();
    assert!(error.starts_with("execution timeout"), "{error}");
    assert_eq!(report.xcom::<&str>("cleanup").unwrap(), "cleaned");
    release.send(()).unwrap(); // the abandoned thread finishes now; its result is dropped
}

#[test]
fn waiting_retries_hold_no_worker() {
    // Far more retrying tasks than worker threads, each waiting an hour (virtual) between
    // tries, while a long chain of other work goes on: the chain never waits for them.
    static CALLS: Mutex<Option<HashMap<u32, u32>>> = Mutex::new(None);
    #[task(retries = 1, retry_delay = "1h")]
    fn fails_once(id: u32) -> Result<u32, TaskError> {
        let mut calls = CALLS.lock().unwrap();
        let seen = calls
            .get_or_insert_with(HashMap::new)
            .entry(id)
            .or_insert(0);
        *seen += 1;
        if *seen == 1 {
            Err(TaskError::msg("first try fails"))
        } else {
            Ok(id)
        }
    }
    #[task]
    fn step(n: u32) -> u32 {
        n + 1
    }
    let report = Dag::build("no_worker_held", || {
        for id in 0..100 {
            fails_once(id);
        }
        let mut last = step(0);
        for _ in 0..50 {
            last = step(last);
        }
    })
    .unwrap()
    .test()
    .unwrap();
    assert!(report.succeeded());
    assert_eq!(report.xcom::<u32>("step__50").unwrap(), 51);
    let chain_end = report.task("step__50").unwrap().end_date.unwrap();
    let first_retry = report.task("fails_once").unwrap().try_start_dates[1];
    assert!(
        chain_end < first_retry,
        "the chain finished before any retry was due"
    );
}

#[test]
fn dag_default_args_apply_unless_the_task_overrides_them() {
    static A: AtomicU32 = AtomicU32::new(0);
    static B: AtomicU32 = AtomicU32::new(0);
    #[task]
    fn uses_defaults() -> Result<u32, TaskError> {
        flaky(&A, u32::MAX)
    }
    #[task(retries = 0)]
    fn no_retries() -> Result<u32, TaskError> {
        flaky(&B, u32::MAX)
    }
    #[dag(default_args(retries = 2, retry_delay = "5m"))]
    fn with_defaults() {
        uses_defaults();
        no_retries();
    }
    let dag = with_defaults().unwrap();
    assert_eq!(dag.task_options("uses_defaults").unwrap().retries, Some(2));
    assert_eq!(
        dag.task_options("uses_defaults").unwrap().retry_delay,
        Some(Duration::from_secs(300))
    );
    let report = dag.test().unwrap();
    assert_eq!(report.try_number("uses_defaults"), 3);
    assert_eq!(report.try_number("no_retries"), 1);
}

#[test]
fn options_set_from_code_behave_like_macro_options() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    #[task]
    fn fetch() -> Result<u32, TaskError> {
        flaky(&CALLS, 2)
    }
    let report = Dag::build("from_code", || {
        fetch::with(TaskOptions::new().retries(1).retry_delay(HOUR)).add();
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.try_number("fetch"), 2);
    assert!(gaps(&report.task("fetch").unwrap())[0] >= HOUR);
}

#[tokio::test]
async fn run_uses_real_time() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    #[task(retries = 1, retry_delay = "20ms")]
    fn fetch() -> Result<u32, TaskError> {
        flaky(&CALLS, 2)
    }
    let report = Dag::build("real_time", || {
        fetch();
    })
    .unwrap()
    .run()
    .await
    .unwrap();
    let wait = gaps(&report.task("fetch").unwrap())[0];
    assert!(wait >= Duration::from_millis(20) && wait < HOUR, "{wait:?}");
}

#[tokio::test]
async fn a_retried_reader_still_gets_its_moved_input() {
    // In `run()` a single reader gets the value by move; a reader that may be retried must
    // get it again on its next try.
    static CALLS: AtomicU32 = AtomicU32::new(0);
    #[task]
    fn produce() -> Vec<u32> {
        vec![1, 2, 3]
    }
    #[task(retries = 2, retry_delay = "1ms")]
    fn consume(values: Vec<u32>) -> Result<u32, TaskError> {
        flaky(&CALLS, 3)?;
        Ok(values.iter().sum())
    }
    let report = Dag::build("retried_reader", || {
        consume(produce());
    })
    .unwrap()
    .run()
    .await
    .unwrap();
    assert_eq!(
        report.state("consume"),
        TaskState::Success,
        "{:?}",
        report.error("consume")
    );
    assert_eq!(report.try_number("consume"), 3);
    assert_eq!(report.xcom::<u32>("consume").unwrap(), 6);
}

#[test]
fn a_non_clone_input_of_a_task_with_retries_is_a_build_error() {
    struct Handle;
    #[task]
    fn open() -> Handle {
        Handle
    }
    #[task(retries = 1)]
    fn use_it(_h: Handle) {}
    let error = Dag::build("no_clone_retry", || {
        use_it(open());
    })
    .unwrap_err();
    assert!(
        matches!(error, taskflow::Error::NotCloneWithRetries { .. }),
        "{error}"
    );
}

#[test]
fn huge_durations_saturate_instead_of_crashing() {
    #[task]
    fn quick() -> u8 {
        1
    }
    #[task]
    fn fails() -> Result<u8, TaskError> {
        Err(TaskError::msg("always"))
    }
    // A timeout that never comes is fine; a wait longer than a run's clock spans is refused
    // (it would be cut short), naming the task.
    let report = Dag::build("huge", || {
        quick::with(TaskOptions::new().execution_timeout(Duration::MAX)).add();
        fails::with(TaskOptions::new().retries(1)).add();
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.state("quick"), TaskState::Success);
    assert_eq!(report.state("fails"), TaskState::Failed);
    assert_eq!(report.try_number("fails"), 2);
    let error = Dag::build("huge_wait", || {
        fails::with(TaskOptions::new().retries(1).retry_delay(Duration::MAX)).add();
    })
    .unwrap_err();
    assert!(
        error.to_string().contains("`retry_delay` of task `fails`"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_tasks_run_inside_a_tokio_task() {
    #[task]
    async fn which_task() -> Result<String, TaskError> {
        Ok(format!("{:?}", tokio::task::id()))
    }
    let report = Dag::build("tokio_task", || {
        which_task();
    })
    .unwrap()
    .run()
    .await
    .unwrap();
    assert_eq!(
        report.state("which_task"),
        TaskState::Success,
        "{:?}",
        report.error("which_task")
    );
}

#[test]
fn a_retried_task_in_a_chain_reads_its_input_again_on_each_try() {
    static TRIES: AtomicU32 = AtomicU32::new(0);
    #[task]
    fn start() -> u64 {
        40
    }
    #[task(retries = 2, retry_delay = "1s")]
    fn flaky(x: u64) -> Result<u64, TaskError> {
        if TRIES.fetch_add(1, Ordering::SeqCst) < 2 {
            return Err(TaskError::msg("not yet"));
        }
        Ok(x + 1)
    }
    #[task]
    fn finish(x: u64) -> u64 {
        x + 1
    }
    for keep in [false, true] {
        TRIES.store(0, Ordering::SeqCst);
        let dag = Dag::build("chain_with_retries", || {
            finish(flaky(start()));
        })
        .unwrap();
        let options = RunOptions::new().keep_xcoms(keep).virtual_time(true);
        let report = dag.test_with(options).unwrap();
        assert!(report.succeeded(), "keep_xcoms({keep}): {report:?}");
        assert_eq!(report.try_number("flaky"), 3);
        assert_eq!(report.xcom::<u64>("finish").unwrap(), 42);
    }
}

#[test]
fn a_chain_run_in_place_keeps_each_task_s_state_times_and_value() {
    #[task]
    fn one() -> u64 {
        1
    }
    #[task]
    fn double(x: u64) -> u64 {
        x * 2
    }
    let dag = Dag::build("chain_in_place", || {
        let mut x = one();
        for _ in 0..20 {
            x = double(x);
        }
    })
    .unwrap();
    let run = |keep| {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime
            .block_on(dag.run_with(RunOptions::new().keep_xcoms(keep)))
            .unwrap()
    };
    let kept = run(true);
    assert_eq!(kept.xcom::<u64>("double__19").unwrap(), 1 << 20);
    assert_eq!(kept.xcom::<u64>("double__3").unwrap(), 1 << 4);
    let moved = run(false);
    assert_eq!(moved.xcom::<u64>("double__19").unwrap(), 1 << 20);
    assert!(
        moved.xcom::<u64>("double__3").is_err(),
        "moved on to its reader"
    );
    let mut previous_end = None;
    for task in moved.tasks() {
        assert_eq!(task.state, TaskState::Success, "{}", task.task_id);
        assert_eq!(task.tries, 1);
        let (start, end) = (task.start_date.unwrap(), task.end_date.unwrap());
        assert!(start <= end);
        if let Some(previous_end) = previous_end {
            assert!(
                previous_end <= start,
                "{} started before its upstream ended",
                task.task_id
            );
        }
        previous_end = Some(end);
    }
}
