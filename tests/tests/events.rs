//! Listeners: every state change of a run reaches them, in order, with Airflow's fields; a
//! panicking, slow or stuck listener never breaks or stalls the run.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use taskflow::events::{DagRunEvent, Event, Listener, TaskInstanceEvent};
use taskflow::prelude::*;
use taskflow::{DagRunState, Executor};
use taskflow_tests::bounded::within;
use taskflow_tests::gate::Gate;

const LIMIT: Duration = Duration::from_secs(60);

/// Every event a listener heard.
#[derive(Clone, Default)]
struct Heard(Arc<Mutex<Vec<Event>>>);

impl Heard {
    fn listener(&self) -> impl Fn(&Event) + Send + Sync + 'static {
        let heard = Arc::clone(&self.0);
        move |event: &Event| heard.lock().unwrap().push(event.clone())
    }

    fn events(&self) -> Vec<Event> {
        self.0.lock().unwrap().clone()
    }

    fn task(&self, task_id: &str) -> Vec<TaskInstanceEvent> {
        self.events()
            .into_iter()
            .filter_map(|event| match event {
                Event::TaskInstance(ti) if &*ti.task_id == task_id => Some(ti),
                _ => None,
            })
            .collect()
    }

    fn states(&self, task_id: &str) -> Vec<(TaskState, u32)> {
        self.task(task_id)
            .iter()
            .map(|ti| (ti.state, ti.try_number))
            .collect()
    }

    fn runs(&self) -> Vec<DagRunEvent> {
        self.events()
            .into_iter()
            .filter_map(|event| match event {
                Event::DagRun(run) => Some(run),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn a_listener_hears_every_state_change_of_a_run_in_order() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    #[task(
        retries = 1,
        retry_delay = "10m",
        pool = "warehouse",
        priority_weight = 5
    )]
    fn flaky() -> Result<u32, TaskError> {
        match CALLS.fetch_add(1, Ordering::SeqCst) {
            0 => Err(TaskError::msg("source not ready")),
            _ => Ok(1),
        }
    }
    #[task]
    fn broken(_n: u32) -> Result<u32, TaskError> {
        Err(TaskError::msg("bad row 7"))
    }
    #[task]
    fn after_broken(n: u32) -> u32 {
        n
    }
    #[task]
    fn skips() -> Result<(), TaskError> {
        Err(TaskError::skip("nothing to do today"))
    }
    let heard = Heard::default();
    let dag = Dag::build("heard", || {
        after_broken(broken(flaky()));
        skips();
    })
    .unwrap();
    let options = RunOptions::new()
        .run_id("run_1")
        .pool("warehouse", 4)
        .log(false)
        .listener(heard.listener());
    let report = within(LIMIT, "the run", move || dag.test_with(options).unwrap());

    use TaskState::*;
    assert_eq!(
        heard.states("flaky"),
        [
            (Queued, 0),
            (Running, 1),
            (UpForRetry, 1),
            (Queued, 1),
            (Running, 2),
            (Success, 2)
        ]
    );
    assert_eq!(
        heard.states("broken"),
        [(Queued, 0), (Running, 1), (Failed, 1)]
    );
    assert_eq!(heard.states("after_broken"), [(UpstreamFailed, 0)]);
    assert_eq!(
        heard.states("skips"),
        [(Queued, 0), (Running, 1), (Skipped, 1)]
    );

    let retry = &heard.task("flaky")[2];
    assert_eq!(&*retry.dag_id, "heard");
    assert_eq!(&*retry.run_id, "run_1");
    assert_eq!(retry.logical_date, report.logical_date());
    assert_eq!(retry.map_index, Option::<u32>::None);
    assert_eq!(&*retry.pool, "warehouse");
    assert_eq!(retry.priority_weight, report.priority_weight("flaky"));
    assert_eq!(retry.error.as_deref(), Some("source not ready"));
    let try_starts = report.task("flaky").unwrap().try_start_dates;
    assert_eq!(retry.start_date, Some(try_starts[0]));
    assert!(retry.end_date.is_some());
    // The second try starts after the retry delay, in virtual time.
    let second = &heard.task("flaky")[4];
    assert_eq!(second.start_date, Some(try_starts[1]));
    let waited = (second.start_date.unwrap() - retry.end_date.unwrap())
        .to_std()
        .unwrap();
    assert!(waited >= Duration::from_secs(600), "{waited:?}");
    let failed = heard.task("broken").pop().unwrap();
    assert_eq!(failed.error.as_deref(), Some("bad row 7"));
    assert_eq!(&*failed.pool, "default_pool");
    assert!(failed.duration().is_some());

    let runs = heard.runs();
    assert_eq!(
        runs.iter().map(|run| run.state).collect::<Vec<_>>(),
        [DagRunState::Running, DagRunState::Failed]
    );
    assert_eq!(runs[0].tasks, 4);
    assert_eq!(runs[1].end_date, Some(report.end_date()));
    // The run's start comes first and its end last.
    let events = heard.events();
    assert!(matches!(events.first(), Some(Event::DagRun(_))));
    assert!(matches!(events.last(), Some(Event::DagRun(_))));
    assert_eq!(report.dropped_events(), 0);
}

#[test]
fn the_named_hooks_hear_the_changes_airflow_listeners_hear() {
    #[derive(Default)]
    struct Hooks(Mutex<Vec<String>>);
    impl Hooks {
        fn note(&self, what: &str, who: &str) {
            self.0.lock().unwrap().push(format!("{what} {who}"));
        }
    }
    impl Listener for Hooks {
        fn on_task_instance_running(&self, ti: &TaskInstanceEvent) {
            self.note("running", &ti.task_id);
        }
        fn on_task_instance_success(&self, ti: &TaskInstanceEvent) {
            self.note("success", &ti.task_id);
        }
        fn on_task_instance_failed(&self, ti: &TaskInstanceEvent) {
            self.note("failed", &ti.task_id);
        }
        fn on_dag_run_running(&self, run: &DagRunEvent) {
            self.note("dag running", &run.dag_id);
        }
        fn on_dag_run_failed(&self, run: &DagRunEvent) {
            self.note("dag failed", &run.dag_id);
        }
    }
    #[task]
    fn ok() -> u32 {
        1
    }
    #[task]
    fn fails(_n: u32) -> Result<(), TaskError> {
        Err(TaskError::msg("no"))
    }
    struct Shared(Arc<Hooks>);
    impl Listener for Shared {
        fn on_event(&self, event: &Event) {
            self.0.on_event(event)
        }
    }
    let hooks = Arc::new(Hooks::default());
    let dag = Dag::build("hooks", || {
        fails(ok());
    })
    .unwrap();
    let options = RunOptions::new()
        .log(false)
        .listener(Shared(Arc::clone(&hooks)));
    within(LIMIT, "the run", move || dag.test_with(options).unwrap());
    assert_eq!(
        *hooks.0.lock().unwrap(),
        [
            "dag running hooks",
            "running ok",
            "success ok",
            "running fails",
            "failed fails",
            "dag failed hooks"
        ]
    );
}

#[test]
fn executor_listeners_hear_every_run_and_run_listeners_only_theirs() {
    #[task]
    fn one() -> u32 {
        1
    }
    let everything = Heard::default();
    let first_only = Heard::default();
    let executor = Executor::builder()
        .listener(everything.listener())
        .build()
        .unwrap();
    let dag = Dag::build("twice", || {
        one();
    })
    .unwrap();
    let first = executor
        .submit(
            &dag,
            RunOptions::new()
                .run_id("a")
                .listener(first_only.listener()),
        )
        .unwrap();
    let second = executor
        .submit(&dag, RunOptions::new().run_id("b"))
        .unwrap();
    within(LIMIT, "both runs", move || {
        first.wait().unwrap();
        second.wait().unwrap();
    });
    let run_ids = |heard: &Heard| {
        let mut ids: Vec<String> = heard.runs().iter().map(|r| r.run_id.to_string()).collect();
        ids.sort();
        ids
    };
    assert_eq!(run_ids(&everything), ["a", "a", "b", "b"]);
    assert_eq!(run_ids(&first_only), ["a", "a"]);
    assert_eq!(
        first_only.states("one"),
        [
            (TaskState::Queued, 0),
            (TaskState::Running, 1),
            (TaskState::Success, 1)
        ]
    );
}

#[test]
fn a_panicking_listener_breaks_neither_the_run_nor_other_listeners() {
    #[task]
    fn extract() -> u32 {
        2
    }
    #[task]
    fn load(n: u32) -> u32 {
        n * 2
    }
    let heard = Heard::default();
    let dag = Dag::build("panicky", || {
        load(extract());
    })
    .unwrap();
    let options = RunOptions::new()
        .log(false)
        .listener(|_: &Event| panic!("listener bug"))
        .listener(heard.listener());
    let report = within(LIMIT, "the run", move || dag.test_with(options).unwrap());
    assert!(report.succeeded());
    assert_eq!(report.xcom::<u32>("load").unwrap(), 4);
    assert_eq!(heard.events().len(), 8);
}

/// A listener that waits at `gate` on the first event it hears, and counts what it heard.
fn stuck_listener(gate: Arc<Gate>, heard: Arc<AtomicU32>) -> impl Fn(&Event) + Send + Sync {
    move |_: &Event| {
        if heard.fetch_add(1, Ordering::SeqCst) == 0 {
            let _ = gate.pass();
        }
    }
}

#[test]
fn a_slow_listener_does_not_stall_the_tasks_and_a_full_queue_drops_and_counts() {
    static LAST_RAN: Mutex<Option<Sender<()>>> = Mutex::new(None);
    let (last_ran, tasks_done) = channel();
    *LAST_RAN.lock().unwrap() = Some(last_ran);
    #[task]
    fn step(n: u32) -> u32 {
        n + 1
    }
    #[task]
    fn last(n: u32) -> u32 {
        if let Some(done) = LAST_RAN.lock().unwrap().take() {
            let _ = done.send(());
        }
        n
    }
    let gate = Arc::new(Gate::new());
    let heard = Arc::new(AtomicU32::new(0));
    let executor = Executor::builder()
        .event_queue_capacity(5)
        .listener(stuck_listener(Arc::clone(&gate), Arc::clone(&heard)))
        .build()
        .unwrap();
    let dag = Dag::build("slow_listener", || {
        let mut value = step(0);
        for _ in 0..19 {
            value = step(value);
        }
        last(value);
    })
    .unwrap();
    let run = executor.submit(&dag, RunOptions::new()).unwrap();
    // Every task ran while the listener was stuck on the run's first event.
    tasks_done
        .recv_timeout(LIMIT)
        .expect("the tasks did not run while the listener was stuck");
    // The listener has not got past the first event (it may not have taken it yet).
    assert!(heard.load(Ordering::SeqCst) <= 1);
    gate.open(1);
    let report = within(LIMIT, "the run", move || run.wait().unwrap());
    assert!(report.succeeded());
    // The run was reported done after its listener heard what the queue kept.
    let total = 2 + 21 * 3;
    let dropped = report.dropped_events();
    assert!(dropped > 0 && dropped < total, "{dropped} dropped");
    assert_eq!(u64::from(heard.load(Ordering::SeqCst)) + dropped, total);
}

#[test]
fn a_stuck_listener_delays_the_end_of_a_run_by_five_seconds_at_most() {
    #[task]
    fn one() -> u32 {
        1
    }
    let gate = Arc::new(Gate::new());
    let heard = Arc::new(AtomicU32::new(0));
    let dag = Dag::build("stuck_listener", || {
        one();
    })
    .unwrap();
    let options = RunOptions::new()
        .log(false)
        .listener(stuck_listener(Arc::clone(&gate), Arc::clone(&heard)));
    let started = std::time::Instant::now();
    let report = within(LIMIT, "the run", move || dag.test_with(options).unwrap());
    let waited = started.elapsed();
    assert!(report.succeeded());
    assert!(waited >= Duration::from_secs(5), "{waited:?}");
    assert!(waited < Duration::from_secs(30), "{waited:?}");
    // Still stuck on the first event when the run was reported done.
    assert_eq!(heard.load(Ordering::SeqCst), 1);
    gate.open(1);
}

/// A progress bar the test keeps a handle to while the run has it as a listener.
struct SharedBar(Arc<taskflow::events::ProgressBar>);

impl Listener for SharedBar {
    fn on_event(&self, event: &Event) {
        self.0.on_event(event)
    }
}

#[test]
fn a_progress_bar_counts_every_task_that_ended() {
    #[task]
    fn step(i: u32) -> u32 {
        i
    }
    #[task]
    fn fails(_i: u32) -> Result<u32, TaskError> {
        Err(TaskError::msg("no"))
    }
    let bar = Arc::new(taskflow::events::ProgressBar::with_target(
        taskflow::indicatif::ProgressDrawTarget::hidden(),
    ));
    let dag = Dag::build("progress", || {
        for i in 0..2_000 {
            step(i);
        }
        step(fails(1));
    })
    .unwrap();
    let options = RunOptions::new()
        .log(false)
        .listener(SharedBar(Arc::clone(&bar)));
    let report = within(LIMIT, "the run", move || dag.test_with(options).unwrap());
    assert_eq!(report.dropped_events(), 0);
    assert_eq!(bar.position(), (2_002, Some(2_002)));
}

#[test]
fn a_progress_bar_counts_mapped_instances_and_their_mapped_task_once_each() {
    #[task(retries = 1, retry_delay = "1m")]
    fn flaky(ctx: &Context, i: u32) -> Result<u32, TaskError> {
        if i == 1 && ctx.try_number() == 1 {
            return Err(TaskError::msg("not yet"));
        }
        Ok(i)
    }
    #[task]
    fn numbers() -> Vec<u32> {
        (0..5).collect()
    }
    let bar = Arc::new(taskflow::events::ProgressBar::with_target(
        taskflow::indicatif::ProgressDrawTarget::hidden(),
    ));
    let dag = Dag::build("mapped_progress", || {
        flaky::expand(each(numbers()));
    })
    .unwrap();
    let options = RunOptions::new()
        .log(false)
        .listener(SharedBar(Arc::clone(&bar)));
    let report = within(LIMIT, "the run", move || dag.test_with(options).unwrap());
    assert!(report.succeeded());
    // `numbers`, `flaky` as a whole, and its 5 instances (one retried).
    assert_eq!(bar.position(), (7, Some(7)));
}

#[test]
fn a_value_above_the_size_threshold_is_a_warning_in_the_log_of_a_run_without_a_subscriber() {
    #[task]
    fn big() -> Vec<u32> {
        vec![7; 1000]
    }
    #[task]
    fn small() -> u32 {
        1
    }
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().write(bytes)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let heard = Heard::default();
    let buffer = Buffer::default();
    let dag = Dag::build("big_values", || {
        big();
        small();
    })
    .unwrap();
    let options = RunOptions::new()
        .log(false)
        .xcom_size_warning(100)
        .listener(heard.listener())
        .listener(taskflow::events::RunLog::to_writer(buffer.clone()));
    within(LIMIT, "the run", move || dag.test_with(options).unwrap());
    let warnings: Vec<_> = heard
        .events()
        .into_iter()
        .filter_map(|event| match event {
            Event::Warning(warning) => Some(warning),
            _ => None,
        })
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(&*warnings[0].task_id, "big");
    assert!(
        warnings[0]
            .message
            .contains("above the warning threshold of 100 bytes")
    );
    let log = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    let line = log.lines().find(|line| line.contains("warning")).unwrap();
    assert!(
        line.contains(
            "] big: warning: its value (type `alloc::vec::Vec<u32>`) is more than 100 bytes"
        ),
        "{line}"
    );
}
