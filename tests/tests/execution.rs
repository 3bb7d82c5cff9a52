//! Execution: parallelism, dependency order, failures and panics, skips, and the run modes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::time::Duration;

use taskflow::Error;
use taskflow::prelude::*;

/// How long a test waits for a signal before declaring a hang (never reached when it passes).
const HANG: Duration = Duration::from_secs(30);

#[test]
fn independent_sync_tasks_run_in_parallel() {
    // Four blocking tasks that can only finish if all four run at the same time.
    static BARRIER: Barrier = Barrier::new(4);
    #[task]
    fn meet(n: u32) -> u32 {
        BARRIER.wait();
        n
    }
    let report = Dag::build("parallel", || {
        for n in 0..4 {
            meet(n);
        }
    })
    .unwrap()
    .test()
    .unwrap();
    assert!(report.succeeded());
    assert_eq!(report.xcom::<u32>("meet__3").unwrap(), 3);
}

#[test]
fn independent_async_tasks_run_concurrently() {
    static BARRIER: std::sync::LazyLock<tokio::sync::Barrier> =
        std::sync::LazyLock::new(|| tokio::sync::Barrier::new(3));
    #[task]
    async fn meet() {
        BARRIER.wait().await;
    }
    let report = Dag::build("concurrent", || {
        meet();
        meet();
        meet();
    })
    .unwrap()
    .test()
    .unwrap();
    assert!(report.succeeded());
}

#[test]
fn a_task_starts_as_soon_as_its_own_upstream_is_done() {
    // `slow` only finishes after `after_fast` ran: if `after_fast` waited for anything but
    // `fast`, this would hang.
    static SIGNAL: Mutex<Option<mpsc::Sender<()>>> = Mutex::new(None);
    static WAIT: Mutex<Option<mpsc::Receiver<()>>> = Mutex::new(None);
    let (tx, rx) = mpsc::channel();
    *SIGNAL.lock().unwrap() = Some(tx);
    *WAIT.lock().unwrap() = Some(rx);
    #[task]
    fn slow() -> &'static str {
        let rx = WAIT.lock().unwrap().take().unwrap();
        rx.recv_timeout(HANG).expect("after_fast never ran");
        "slow"
    }
    #[task]
    fn fast() -> u32 {
        1
    }
    #[task]
    fn after_fast(x: u32) -> u32 {
        SIGNAL.lock().unwrap().take().unwrap().send(()).unwrap();
        x + 1
    }
    #[task]
    fn join(a: &'static str, b: u32) -> String {
        format!("{a}{b}")
    }
    let report = Dag::build("eager", || {
        let s = slow();
        let f = after_fast(fast());
        join(s, f);
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.xcom::<String>("join").unwrap(), "slow2");
}

#[test]
fn a_failure_fails_downstream_while_independent_branches_finish() {
    #[task]
    fn broken() -> Result<u32, TaskError> {
        Err(TaskError::msg("warehouse unreachable"))
    }
    #[task]
    fn after(x: u32) -> u32 {
        x
    }
    #[task]
    fn fine() -> u32 {
        5
    }
    let report = Dag::build("partial", || {
        let b = broken();
        let a = after(b);
        after(a);
        after(fine());
    })
    .unwrap()
    .test()
    .unwrap();
    assert!(!report.succeeded());
    assert_eq!(report.state_of_run(), DagRunState::Failed);
    assert_eq!(report.state("broken"), TaskState::Failed);
    assert_eq!(report.state("after"), TaskState::UpstreamFailed);
    assert_eq!(report.state("after__1"), TaskState::UpstreamFailed);
    assert_eq!(report.state("after__2"), TaskState::Success);
    assert_eq!(report.xcom::<u32>("after__2").unwrap(), 5);
    let broken = report.task("broken").unwrap();
    assert_eq!(broken.error.as_deref(), Some("warehouse unreachable"));
    assert_eq!(broken.tries, 1);
    assert_eq!(report.task("after").unwrap().tries, 0);
}

#[test]
fn std_errors_convert_with_the_question_mark_and_keep_their_message() {
    #[task]
    fn parse(text: String) -> Result<u64, TaskError> {
        Ok(text.parse::<u64>()?)
    }
    let report = Dag::build("parse", || {
        parse("12".to_string());
        parse("twelve".to_string());
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.xcom::<u64>("parse").unwrap(), 12);
    assert_eq!(report.state("parse__1"), TaskState::Failed);
    assert_eq!(
        report.task("parse__1").unwrap().error.as_deref(),
        Some("invalid digit found in string")
    );
}

#[test]
fn a_task_returning_its_own_error_type_fails_with_its_message() {
    #[derive(Debug)]
    struct QuotaExceeded(u32);
    impl std::fmt::Display for QuotaExceeded {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "quota of {} rows exceeded", self.0)
        }
    }
    impl std::error::Error for QuotaExceeded {}
    #[task]
    fn fetch() -> Result<u32, QuotaExceeded> {
        Err(QuotaExceeded(100))
    }
    let report = Dag::build("quota", || {
        fetch();
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(
        report.task("fetch").unwrap().error.as_deref(),
        Some("quota of 100 rows exceeded")
    );
}

#[test]
fn a_panic_fails_the_task_with_its_message_and_nothing_else() {
    #[task]
    fn explode(x: u32) -> u32 {
        if x > 0 {
            panic!("index {x} out of range");
        }
        x
    }
    #[task]
    async fn explode_async() -> u32 {
        tokio::task::yield_now().await;
        panic!("async boom")
    }
    let report = Dag::build("panics", || {
        explode(1);
        explode(0);
        explode_async();
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.state("explode"), TaskState::Failed);
    assert_eq!(
        report.task("explode").unwrap().error.as_deref(),
        Some("task panicked: index 1 out of range")
    );
    assert_eq!(report.state("explode__1"), TaskState::Success);
    assert_eq!(report.state("explode_async"), TaskState::Failed);
    assert_eq!(
        report.task("explode_async").unwrap().error.as_deref(),
        Some("task panicked: async boom")
    );
}

#[test]
fn skip_ends_a_task_skipped_and_skips_its_downstream() {
    #[task]
    fn nothing_new() -> Result<u32, TaskError> {
        Err(TaskError::skip("no new files"))
    }
    #[task]
    fn process(x: u32) -> u32 {
        x
    }
    let report = Dag::build("skips", || {
        process(nothing_new());
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.state("nothing_new"), TaskState::Skipped);
    assert_eq!(report.state("process"), TaskState::Skipped);
    assert!(report.succeeded());
}

#[test]
fn fail_now_fails_the_task() {
    #[task]
    fn strict() -> Result<(), TaskError> {
        Err(TaskError::fail_now("schema changed"))
    }
    let report = Dag::build("strict", || {
        strict();
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.state("strict"), TaskState::Failed);
    assert_eq!(
        report.task("strict").unwrap().error.as_deref(),
        Some("schema changed")
    );
}

/// Counts clones, to see values move rather than copy.
#[derive(Debug)]
struct Tracked(Vec<u8>);

static CLONES: AtomicUsize = AtomicUsize::new(0);

impl Clone for Tracked {
    fn clone(&self) -> Self {
        CLONES.fetch_add(1, Ordering::SeqCst);
        Tracked(self.0.clone())
    }
}

#[test]
fn a_single_reader_gets_the_value_by_move_in_run() {
    struct NotClone(Vec<u8>);
    #[task]
    fn make() -> NotClone {
        NotClone(vec![7; 1024])
    }
    #[task]
    fn size(data: NotClone) -> usize {
        data.0.len()
    }
    #[task]
    fn make_tracked() -> Tracked {
        Tracked(vec![1; 16])
    }
    #[task]
    fn length(data: Tracked) -> usize {
        data.0.len()
    }
    let dag = Dag::build("moves", || {
        size(make());
        length(make_tracked());
    })
    .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let before = CLONES.load(Ordering::SeqCst);
    let report = runtime.block_on(dag.run()).unwrap();
    assert_eq!(
        CLONES.load(Ordering::SeqCst),
        before,
        "a single reader must get the value without a clone"
    );
    assert_eq!(report.xcom::<usize>("size").unwrap(), 1024);
    assert_eq!(report.xcom::<usize>("length").unwrap(), 16);
    // The moved value is gone from the report, and says so.
    let error = report.xcom::<Tracked>("make_tracked").unwrap_err();
    assert!(
        error.to_string().contains("moved into its downstream"),
        "{error}"
    );
}

#[test]
fn several_readers_by_reference_share_one_value() {
    static SEEN: Mutex<Vec<usize>> = Mutex::new(Vec::new());
    #[task]
    fn big() -> Vec<u64> {
        (0..10_000).collect()
    }
    #[task]
    fn address(data: &[u64]) -> u64 {
        SEEN.lock().unwrap().push(data.as_ptr() as usize);
        data.iter().sum()
    }
    let report = Dag::build("shared", || {
        let data = big();
        address(data);
        address(data);
        address(data);
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.xcom::<u64>("address__2").unwrap(), 49_995_000);
    let seen = SEEN.lock().unwrap();
    assert_eq!(seen.len(), 3);
    assert!(
        seen.iter().all(|&p| p == seen[0]),
        "every reader must see the same buffer"
    );
    let kept = report
        .with_value("big", |v: &Vec<u64>| v.as_ptr() as usize)
        .unwrap();
    assert_eq!(kept, seen[0], "the report keeps the very same buffer");
}

#[test]
fn test_keeps_every_value_for_assertions() {
    #[task]
    fn make() -> Tracked {
        Tracked(vec![3; 4])
    }
    #[task]
    fn length(data: Tracked) -> usize {
        data.0.len()
    }
    let report = Dag::build("kept", || {
        length(make());
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.xcom::<Tracked>("make").unwrap().0, vec![3; 4]);
}

#[test]
fn values_need_no_serde() {
    struct Opaque(std::sync::mpsc::Sender<u8>);
    #[task]
    fn open() -> Opaque {
        Opaque(mpsc::channel().0)
    }
    #[task]
    fn use_it(o: Opaque) -> bool {
        o.0.send(1).is_err()
    }
    let report = Dag::build("no_serde", || {
        use_it(open());
    })
    .unwrap()
    .test()
    .unwrap();
    assert!(report.xcom::<bool>("use_it").unwrap());
}

#[test]
fn xcom_read_back_errors_instead_of_panicking() {
    #[task]
    fn number() -> u32 {
        1
    }
    #[task]
    fn fails() -> Result<u32, TaskError> {
        Err(TaskError::msg("no"))
    }
    let report = Dag::build("reads", || {
        number();
        fails();
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(
        report.xcom::<String>("number").unwrap_err(),
        Error::XcomType {
            task_id: "number".into(),
            requested: "alloc::string::String".into(),
            actual: "u32".into()
        }
    );
    assert!(matches!(
        report.xcom::<u32>("fails"),
        Err(Error::XcomMissing { .. })
    ));
    assert!(
        report
            .xcom::<u32>("fails")
            .unwrap_err()
            .to_string()
            .contains("it ended failed")
    );
    assert!(matches!(
        report.xcom::<u32>("absent"),
        Err(Error::UnknownTask { .. })
    ));
    assert!(report.task("absent").is_none());
}

#[test]
fn the_report_has_times_tries_and_durations() {
    #[task]
    fn first() -> u32 {
        1
    }
    #[task]
    fn second(x: u32) -> u32 {
        x
    }
    let report = Dag::build("times", || {
        second(first());
    })
    .unwrap()
    .test()
    .unwrap();
    let first = report.task("first").unwrap();
    let second = report.task("second").unwrap();
    assert_eq!((first.state, first.tries), (TaskState::Success, 1));
    assert!(first.start_date.unwrap() <= first.end_date.unwrap());
    assert!(
        first.end_date.unwrap() <= second.start_date.unwrap(),
        "second starts after first ends"
    );
    assert_eq!(
        second.duration.unwrap(),
        (second.end_date.unwrap() - second.start_date.unwrap())
            .to_std()
            .unwrap()
    );
    assert!(report.start_date() <= first.start_date.unwrap());
    assert!(second.end_date.unwrap() <= report.end_date());
    assert_eq!(
        report.tasks().map(|t| t.task_id).collect::<Vec<_>>(),
        ["first", "second"]
    );
}

#[test]
fn context_gives_run_facts_params_and_side_values() {
    #[task]
    fn producer(ctx: &Context) -> String {
        ctx.xcom_push("rows", 42u64);
        format!(
            "{}|{}|{}|{}",
            ctx.dag_id(),
            ctx.run_id(),
            ctx.task_id(),
            ctx.try_number()
        )
    }
    #[task]
    fn consumer(ctx: &Context, _after: String) -> Result<u64, TaskError> {
        let rows: u64 = ctx.xcom_pull("producer", "rows")?;
        let factor: u64 = ctx.param("factor")?;
        Ok(rows * factor)
    }
    let date = taskflow::chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
        .unwrap()
        .to_utc();
    let dag = Dag::build("ctx", || {
        consumer(producer());
    })
    .unwrap();
    let options = RunOptions::new().logical_date(date).param("factor", 2);
    let report = dag.test_with(options).unwrap();
    assert_eq!(
        report.xcom::<String>("producer").unwrap(),
        "ctx|manual__2026-01-02T03:04:05+00:00|producer|1"
    );
    assert_eq!(report.xcom::<u64>("consumer").unwrap(), 84);
    assert_eq!(report.logical_date(), date);
    // A missing param is a clear task failure, not a crash.
    let report = dag.test().unwrap();
    assert_eq!(report.state("consumer"), TaskState::Failed);
    assert_eq!(
        report.task("consumer").unwrap().error.as_deref(),
        Some("param `factor`: not set")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_inside_tokio_and_run_the_same_dag_twice() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    #[task]
    async fn fetch(x: u64) -> Result<u64, TaskError> {
        tokio::time::sleep(Duration::from_millis(1)).await;
        RUNS.fetch_add(1, Ordering::SeqCst);
        Ok(x * 2)
    }
    #[task]
    fn sum(a: u64, b: u64) -> u64 {
        a + b
    }
    #[dag]
    fn twice() {
        sum(fetch(1), fetch(2));
    }
    let dag = twice().unwrap();
    let first = dag.run().await.unwrap();
    let second = dag
        .run_with(RunOptions::new().run_id("second"))
        .await
        .unwrap();
    assert_eq!(first.xcom::<u64>("sum").unwrap(), 6);
    assert_eq!(second.xcom::<u64>("sum").unwrap(), 6);
    assert_eq!(second.run_id(), "second");
    assert_eq!(RUNS.load(Ordering::SeqCst), 4);
    // `test()` works from async code as well.
    assert!(dag.test().unwrap().succeeded());
}

#[test]
fn run_outside_a_runtime_is_an_error() {
    let dag = Dag::build("no_rt", || {}).unwrap();
    let mut future = std::pin::pin!(dag.run());
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(Err(Error::NoRuntime { dag_id })) => assert_eq!(dag_id, "no_rt"),
        other => panic!("expected NoRuntime, got {:?}", other.map(|r| r.map(|_| ()))),
    }
}

#[test]
fn literal_arguments_are_reused_across_runs() {
    #[task]
    fn total(values: Vec<u64>) -> u64 {
        values.iter().sum()
    }
    let dag = Dag::build("literals", || {
        total(vec![1, 2, 3]);
    })
    .unwrap();
    for _ in 0..3 {
        assert_eq!(dag.test().unwrap().xcom::<u64>("total").unwrap(), 6);
    }
}

#[test]
fn many_runs_in_parallel_share_the_executor() {
    #[task]
    fn id(n: u64) -> u64 {
        n
    }
    let dag = Arc::new(
        Dag::build("shared_executor", || {
            let mut last = id(0);
            for _ in 0..50 {
                last = id(last);
            }
        })
        .unwrap(),
    );
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let dag = Arc::clone(&dag);
            std::thread::spawn(move || dag.test().unwrap().succeeded())
        })
        .collect();
    assert!(handles.into_iter().all(|h| h.join().unwrap()));
}

#[test]
fn context_on_errors_keeps_the_cause() {
    #[task]
    fn read_config() -> Result<String, TaskError> {
        std::fs::read_to_string("/definitely/not/here.toml").context("cannot read the config")
    }
    let report = Dag::build("ctx_errors", || {
        read_config();
    })
    .unwrap()
    .test()
    .unwrap();
    let error = report.task("read_config").unwrap().error.unwrap();
    assert!(
        error.starts_with("cannot read the config: No such file or directory"),
        "{error}"
    );
}

#[test]
fn default_run_ids_follow_airflow() {
    let dag = Dag::build("ids", || {}).unwrap();
    let whole = taskflow::chrono::DateTime::parse_from_rfc3339("2026-03-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let fraction = taskflow::chrono::DateTime::parse_from_rfc3339("2026-03-01T00:00:00.123456789Z")
        .unwrap()
        .to_utc();
    assert_eq!(
        dag.test_with(RunOptions::new().logical_date(whole))
            .unwrap()
            .run_id(),
        "manual__2026-03-01T00:00:00+00:00"
    );
    assert_eq!(
        dag.test_with(RunOptions::new().logical_date(fraction))
            .unwrap()
            .run_id(),
        "manual__2026-03-01T00:00:00.123456+00:00"
    );
}

#[test]
fn states_print_with_airflow_names_and_padding() {
    assert_eq!(
        format!("[{:<17}]", TaskState::UpstreamFailed),
        "[upstream_failed  ]"
    );
    assert_eq!(format!("{:>8}", DagRunState::Failed), "  failed");
    assert_eq!(
        TriggerRule::NoneFailedMinOneSuccess.to_string(),
        "none_failed_min_one_success"
    );
}

#[tokio::test]
async fn runs_can_be_spawned_on_tokio() {
    #[task]
    fn one() -> u8 {
        1
    }
    let dag = Dag::build("spawned", || {
        one();
    })
    .unwrap();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let dag = dag.clone();
            tokio::spawn(async move { dag.run().await })
        })
        .collect();
    for handle in handles {
        let report = handle.await.unwrap().unwrap();
        assert_eq!(report.xcom::<u8>("one").unwrap(), 1);
        assert_eq!(report.try_number("one"), 1);
        assert_eq!(report.error("one"), None);
    }
}

#[test]
fn blocking_tasks_of_one_fan_out_all_run_at_once_when_workers_sleep() {
    // First some blocking roots make the pool grow; its extra workers then sleep.
    static GROW: Barrier = Barrier::new(4);
    #[task]
    fn grow() {
        GROW.wait();
    }
    // Then one task fans out to three that can only finish together: the worker that ran
    // the first keeps the other two in its own queue, and sleeping workers must take them.
    static MEET: Barrier = Barrier::new(3);
    #[task]
    fn start() -> u32 {
        1
    }
    #[task]
    fn meet(x: u32) -> u32 {
        MEET.wait();
        x
    }
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let grown = Dag::build("grow", || {
            for _ in 0..4 {
                grow();
            }
        })
        .unwrap()
        .test()
        .unwrap();
        let fanned = Dag::build("fan_of_blocking", || {
            let x = start();
            for _ in 0..3 {
                meet(x);
            }
        })
        .unwrap()
        .test()
        .unwrap();
        let _ = done.send(grown.succeeded() && fanned.succeeded());
    });
    // A watchdog, not a wait for something to happen: a stalled fan-out never finishes.
    let succeeded = finished
        .recv_timeout(Duration::from_secs(5))
        .expect("the fan-out stalled: two of its tasks waited in a busy worker's queue");
    assert!(succeeded);
}

#[test]
fn a_chain_can_continue_into_an_async_task_that_waits() {
    #[task]
    fn first() -> u32 {
        1
    }
    #[task]
    async fn second(x: u32, ctx: &Context) -> u32 {
        ctx.sleep(Duration::from_secs(60)).await;
        x + 1
    }
    #[task]
    fn third(x: u32) -> u32 {
        x + 1
    }
    let report = Dag::build("chain_into_async", || {
        third(second(first()));
    })
    .unwrap()
    .test()
    .unwrap();
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(report.xcom::<u32>("third").unwrap(), 3);
    assert!(report.task("second").unwrap().duration.unwrap() >= Duration::from_secs(60));
}
