//! Executor benchmark: builds and runs no-op DAGs passing a `u64` in three shapes (a chain,
//! a fan 1 -> N -> 1 and a binary reduction tree), next to a plain tokio baseline (one spawned
//! task per node, one `oneshot` per edge) and a sequential loop doing the same sums (the floor).
//!
//! - `cargo bench -p taskflow --bench executor`: the full set, N = 10k, 100k and 1M, median of
//!   7 / 7 / 3 repetitions.
//! - Without `--bench` (as `cargo test --all-targets` runs it): a smoke run, N = 1000, one
//!   repetition. Every computed value is checked in both modes; a wrong one panics.
//! - A subset, for profiling: the environment variables `TASKFLOW_BENCH_N=100000` (a comma
//!   list; `_`, `k` and `m` allowed: `10k,1m`), `TASKFLOW_BENCH_SHAPE=chain,fan,tree`,
//!   `TASKFLOW_BENCH_IMPL=taskflow,tokio,sequential` and `TASKFLOW_BENCH_REPS=3`, or the same
//!   as arguments after `--`: `cargo bench -p taskflow --bench executor -- --n=1m --shape=fan`.
//!   `TASKFLOW_BENCH_WEIGHTS=1` (`--weights=1`) adds the priority-weight rows to a subset.
//! - The store rows alone (feature `sqlite`): `TASKFLOW_BENCH_ONLY=store`.
//! - The scheduler rows alone (features `sqlite` and `schedule`):
//!   `TASKFLOW_BENCH_ONLY=scheduler`.
//! - `--features sqlite` adds the rows of runs kept in a `SqliteStore`.
//!
//! Columns, per task (a node of the graph: chain N, fan N + 2, tree 2N - 1):
//! - build ns: `Dag::build`; for tokio, creating the oneshot channels (the wiring).
//! - run ns: `dag.run().await` on a multi-thread runtime; for tokio, spawning every task and
//!   awaiting the result; for sequential, the loop.
//! - build/run B: the peak of bytes allocated during the phase, above what was allocated when
//!   it started (so what the phase keeps, such as the `Dag` or the report, counts too).

// Counting allocations needs an `unsafe impl GlobalAlloc` (the trait is unsafe); it only
// forwards to `System`. The workspace lint `unsafe_code` is `deny`, not `forbid`, so that this
// file can allow it (a `forbid` cannot be overridden).
#![allow(unsafe_code)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use taskflow::prelude::*;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

/// The allocator wrapper: the system allocator, counting the bytes currently allocated and
/// their peak.
mod counting {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering::Relaxed};

    pub(super) struct Counting;

    /// Bytes allocated while counting, less bytes freed while counting (so it may dip below
    /// a phase's start when older memory is freed), and its peak.
    static CURRENT: AtomicIsize = AtomicIsize::new(0);
    static PEAK: AtomicIsize = AtomicIsize::new(0);
    /// Whether allocations are counted: only in the memory pass, because the shared
    /// counters would slow the timed repetitions down (every allocation of every thread
    /// would update one cache line).
    static COUNTING: AtomicBool = AtomicBool::new(true);

    /// Turns counting on or off.
    pub(super) fn count(on: bool) {
        COUNTING.store(on, Relaxed);
    }

    fn grew(by: usize) {
        if !COUNTING.load(Relaxed) {
            return;
        }
        let by = by as isize;
        let now = CURRENT.fetch_add(by, Relaxed) + by;
        // A plain load first: most allocations do not set a new peak, and a load does not
        // take the cache line away from the other threads.
        if now > PEAK.load(Relaxed) {
            PEAK.fetch_max(now, Relaxed);
        }
    }

    fn shrank(by: usize) {
        if COUNTING.load(Relaxed) {
            CURRENT.fetch_sub(by as isize, Relaxed);
        }
    }

    // SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
    // `System`'s guarantees hold; the counting only reads `layout` and `new_size`.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which is `System`'s.
            let ptr = unsafe { System.alloc(layout) };
            if !ptr.is_null() {
                grew(layout.size());
            }
            ptr
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            // SAFETY: as in `alloc`.
            let ptr = unsafe { System.alloc_zeroed(layout) };
            if !ptr.is_null() {
                grew(layout.size());
            }
            ptr
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: `ptr` was allocated by this allocator, that is by `System`, with `layout`.
            unsafe { System.dealloc(ptr, layout) };
            shrank(layout.size());
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: `ptr` was allocated by `System` with `layout`; the caller upholds the
            // rest of `realloc`'s contract.
            let new = unsafe { System.realloc(ptr, layout, new_size) };
            if !new.is_null() {
                if new_size >= layout.size() {
                    grew(new_size - layout.size());
                } else {
                    shrank(layout.size() - new_size);
                }
            }
            new
        }
    }

    /// The bytes counted as allocated now.
    pub(crate) fn current() -> isize {
        CURRENT.load(Relaxed)
    }

    /// Starts a phase: resets the peak to the current level and returns that level.
    pub(super) fn start() -> isize {
        let now = CURRENT.load(Relaxed);
        PEAK.store(now, Relaxed);
        now
    }

    /// The peak since `start` returned `base`, above `base`.
    pub(super) fn peak_above(base: isize) -> usize {
        usize::try_from(PEAK.load(Relaxed) - base).unwrap_or(0)
    }
}

#[path = "executor/mapping.rs"]
mod mapping;
#[path = "executor/mixed_priorities.rs"]
mod mixed_priorities;
#[path = "executor/rerun.rs"]
mod rerun;
#[cfg(all(feature = "sqlite", feature = "schedule"))]
#[path = "executor/scheduler.rs"]
mod scheduler;
#[cfg(feature = "sqlite")]
#[path = "executor/store.rs"]
mod store;
#[path = "executor/unit_test_path.rs"]
mod unit_test_path;
#[path = "executor/waiting_sensors.rs"]
mod waiting_sensors;
#[path = "executor/weight_shapes.rs"]
mod weight_shapes;

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

/// The value the chain and the fan start from.
const START: u64 = 7;

#[task]
fn source() -> u64 {
    START
}

#[task]
fn inc(x: u64) -> u64 {
    x + 1
}

/// The fan's sink. A task takes a fixed number of parameters, so it cannot take all N values:
/// it is ordered after every middle task (`Vec<TaskRef> >> sink()`) and takes none. The
/// middle tasks' values then have no reader, so `dag.run()` keeps them in the report, and the
/// check reads them all from there. (The tokio baseline's sink does receive and sum them.)
#[task]
fn sink() {}

#[task]
fn leaf(i: u64) -> u64 {
    i
}

#[task]
fn add(a: u64, b: u64) -> u64 {
    a + b
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Shape {
    /// `source -> inc -> inc -> ...`: N tasks, the end holds `START + N - 1`.
    Chain,
    /// `source -> N x inc -> sink`: N + 2 tasks, each middle holds `START + 1`.
    Fan,
    /// N `leaf(i)` tasks summed pairwise by N - 1 `add` tasks, level by level (an odd one
    /// out moves up a level); the root holds `N (N - 1) / 2`.
    Tree,
}

impl Shape {
    const ALL: [Shape; 3] = [Shape::Chain, Shape::Fan, Shape::Tree];

    fn name(self) -> &'static str {
        match self {
            Shape::Chain => "chain",
            Shape::Fan => "fan",
            Shape::Tree => "tree",
        }
    }

    /// The targets at N = 100k: run and build nanoseconds per task.
    fn targets(self) -> (f64, f64) {
        match self {
            Shape::Chain => (50.0, 150.0),
            Shape::Fan => (200.0, 150.0),
            Shape::Tree => (150.0, 150.0),
        }
    }

    fn tasks(self, n: usize) -> usize {
        match self {
            Shape::Chain => n,
            Shape::Fan => n + 2,
            Shape::Tree => 2 * n - 1,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Impl {
    Taskflow,
    Tokio,
    Sequential,
}

impl Impl {
    const ALL: [Impl; 3] = [Impl::Taskflow, Impl::Tokio, Impl::Sequential];

    fn name(self) -> &'static str {
        match self {
            Impl::Taskflow => "taskflow",
            Impl::Tokio => "tokio",
            Impl::Sequential => "sequential",
        }
    }
}

/// The sum of `0..n`: the tree's root.
fn tree_sum(n: usize) -> u64 {
    let n = n as u64;
    n * (n - 1) / 2
}

/// The id `Dag::build` gives the `k`-th call (from 0) of a task named `base`.
fn auto_id(base: &str, k: usize) -> String {
    if k == 0 {
        base.to_owned()
    } else {
        format!("{base}__{k}")
    }
}

/// Pairs up `level` into the next level of a binary reduction: `join(a, b)` for each pair,
/// an odd last element moved up as it is.
fn reduce_level<T: Copy>(level: &[T], mut join: impl FnMut(T, T) -> T) -> Vec<T> {
    level
        .chunks(2)
        .map(|pair| match *pair {
            [a, b] => join(a, b),
            [a] => a,
            _ => unreachable!("chunks(2) yields one or two elements"),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// taskflow

fn build_dag(shape: Shape, n: usize) -> Dag {
    let built = match shape {
        Shape::Chain => Dag::build("bench_chain", || {
            let mut x = source();
            for _ in 1..n {
                x = inc(x);
            }
        }),
        Shape::Fan => Dag::build("bench_fan", || {
            let start = source();
            let middles: Vec<TaskRef> = (0..n).map(|_| inc(start).task()).collect();
            middles >> sink();
        }),
        Shape::Tree => Dag::build("bench_tree", || {
            let mut level: Vec<Xcom<u64>> = (0..n as u64).map(leaf).collect();
            while level.len() > 1 {
                level = reduce_level(&level, add);
            }
        }),
    };
    built.unwrap_or_else(|error| panic!("{} N={n}: Dag::build failed: {error}", shape.name()))
}

fn xcom(report: &RunReport, shape: Shape, n: usize, task_id: &str) -> u64 {
    report.xcom::<u64>(task_id).unwrap_or_else(|error| {
        panic!(
            "{} N={n}: cannot read the value of task `{task_id}`: {error}",
            shape.name()
        )
    })
}

/// Checks the run's values; panics with what is wrong.
fn check_report(report: &RunReport, shape: Shape, n: usize) {
    let name = shape.name();
    if !report.succeeded() {
        let failed = report.task_ids_in(TaskState::Failed);
        let upstream_failed = report.task_ids_in(TaskState::UpstreamFailed).len();
        let errors: Vec<_> = failed.iter().map(|id| report.error(id)).collect();
        panic!(
            "{name} N={n}: the run failed: failed tasks {failed:?} ({errors:?}), \
             {upstream_failed} upstream_failed"
        );
    }
    match shape {
        Shape::Chain => {
            let end = if n == 1 {
                "source".to_owned()
            } else {
                auto_id("inc", n - 2)
            };
            let got = xcom(report, shape, n, &end);
            let want = START + n as u64 - 1;
            assert_eq!(
                got, want,
                "chain N={n}: the end task `{end}` holds {got}, expected START + N - 1 = {want}"
            );
        }
        Shape::Fan => {
            let mut sum = 0;
            for i in 0..n {
                let id = auto_id("inc", i);
                let got = xcom(report, shape, n, &id);
                assert_eq!(
                    got,
                    START + 1,
                    "fan N={n}: middle task `{id}` holds {got}, expected START + 1 = {}",
                    START + 1
                );
                sum += got;
            }
            assert_eq!(
                sum,
                n as u64 * (START + 1),
                "fan N={n}: wrong sum of the middles"
            );
            let state = report.state("sink");
            assert_eq!(
                state,
                TaskState::Success,
                "fan N={n}: the sink ended {state}"
            );
        }
        Shape::Tree => {
            let root = if n == 1 {
                "leaf".to_owned()
            } else {
                auto_id("add", n - 2)
            };
            let got = xcom(report, shape, n, &root);
            let want = tree_sum(n);
            assert_eq!(
                got, want,
                "tree N={n}: the root `{root}` holds {got}, expected the sum of the leaves {want}"
            );
        }
    }
}

fn taskflow_sample(runtime: &Runtime, shape: Shape, n: usize) -> Sample {
    settle();
    let base = counting::start();
    let started = Instant::now();
    let dag = build_dag(shape, n);
    let build = started.elapsed();
    let build_bytes = counting::peak_above(base);
    assert_eq!(
        dag.len(),
        shape.tasks(n),
        "{} N={n}: the DAG has the wrong number of tasks",
        shape.name()
    );

    let base = counting::start();
    let started = Instant::now();
    let report = runtime
        .block_on(dag.run())
        .unwrap_or_else(|error| panic!("{} N={n}: dag.run() failed: {error}", shape.name()));
    let run = started.elapsed();
    let run_bytes = counting::peak_above(base);

    let started = Instant::now();
    check_report(&report, shape, n);
    let check = started.elapsed();
    let started = Instant::now();
    drop(report);
    drop(dag);
    let teardown = started.elapsed();
    eprintln!(
        "    {} N={n} taskflow: build {}, run {}, check {}, drop {}",
        shape.name(),
        ms(build),
        ms(run),
        ms(check),
        ms(teardown)
    );
    Sample {
        build: Some((build, build_bytes)),
        run: (run, run_bytes),
    }
}

// ---------------------------------------------------------------------------------------
// tokio: one spawned task per node, one oneshot channel per edge (and one more to hand the
// result to the driver). "Build" creates the channels; "run" spawns the tasks and awaits the
// result. The driver itself runs in a spawned task, so its spawns go to a worker's queue.

fn recv_failed(shape: Shape, n: usize) -> String {
    format!(
        "{} N={n} tokio: an upstream task dropped its sender without sending",
        shape.name()
    )
}

fn channels(count: usize) -> (Vec<oneshot::Sender<u64>>, Vec<oneshot::Receiver<u64>>) {
    (0..count).map(|_| oneshot::channel()).unzip()
}

async fn tokio_sample(shape: Shape, n: usize) -> Sample {
    let failed = recv_failed(shape, n);
    let base = counting::start();
    let started = Instant::now();
    let wiring = match shape {
        // Channel i carries node i's value; the last one goes to the driver.
        Shape::Chain => Wiring::Chain(channels(n)),
        // The source's N outputs, the middles' N outputs, the sink's output.
        Shape::Fan => Wiring::Fan(channels(n), channels(n), oneshot::channel()),
        // Channel i carries node i's value: leaves first, then inner nodes in creation order.
        Shape::Tree => {
            let mut children = Vec::with_capacity(n - 1);
            let mut level: Vec<u32> = (0..n as u32).collect();
            let mut next = n as u32;
            while level.len() > 1 {
                level = reduce_level(&level, |a, b| {
                    children.push((a, b));
                    next += 1;
                    next - 1
                });
            }
            let (senders, receivers) = channels(2 * n - 1);
            Wiring::Tree {
                children,
                root: level[0],
                senders: senders.into_iter().map(Some).collect(),
                receivers: receivers.into_iter().map(Some).collect(),
            }
        }
    };
    let build = started.elapsed();
    let build_bytes = counting::peak_above(base);

    let base = counting::start();
    let started = Instant::now();
    let result = match wiring {
        Wiring::Chain((senders, receivers)) => {
            let mut senders = senders.into_iter();
            let mut receivers = receivers.into_iter();
            let first = senders.next().expect("a chain has a first node");
            tokio::spawn(async move {
                let _ = first.send(START);
            });
            for sender in senders {
                let receiver = receivers.next().expect("one receiver per sender");
                let failed = failed.clone();
                tokio::spawn(async move {
                    let x = receiver.await.expect(&failed);
                    let _ = sender.send(x + 1);
                });
            }
            receivers.next().expect("the last channel").await
        }
        Wiring::Fan((to_middles, from_source), (to_sink, from_middles), (to_driver, result)) => {
            tokio::spawn(async move {
                for sender in to_middles {
                    let _ = sender.send(START);
                }
            });
            for (receiver, sender) in from_source.into_iter().zip(to_sink) {
                let failed = failed.clone();
                tokio::spawn(async move {
                    let x = receiver.await.expect(&failed);
                    let _ = sender.send(x + 1);
                });
            }
            let sink_failed = failed.clone();
            tokio::spawn(async move {
                let mut sum = 0;
                for receiver in from_middles {
                    let x = receiver.await.expect(&sink_failed);
                    assert_eq!(x, START + 1, "fan N={n} tokio: a middle sent {x}");
                    sum += x;
                }
                let _ = to_driver.send(sum);
            });
            result.await
        }
        Wiring::Tree {
            children,
            root,
            mut senders,
            mut receivers,
        } => {
            for (i, sender) in senders[..n].iter_mut().enumerate() {
                let sender = sender.take().expect("each sender is taken once");
                tokio::spawn(async move {
                    let _ = sender.send(i as u64);
                });
            }
            for (j, &(a, b)) in children.iter().enumerate() {
                let left = receivers[a as usize]
                    .take()
                    .expect("each child has one parent");
                let right = receivers[b as usize]
                    .take()
                    .expect("each child has one parent");
                let sender = senders[n + j].take().expect("each sender is taken once");
                let failed = failed.clone();
                tokio::spawn(async move {
                    let a = left.await.expect(&failed);
                    let b = right.await.expect(&failed);
                    let _ = sender.send(a + b);
                });
            }
            receivers[root as usize]
                .take()
                .expect("the root's value goes to the driver")
                .await
        }
    };
    let run = started.elapsed();
    let run_bytes = counting::peak_above(base);

    let got = result.expect(&failed);
    let (want, what) = match shape {
        Shape::Chain => (START + n as u64 - 1, "the end of the chain"),
        Shape::Fan => (n as u64 * (START + 1), "the sink's sum"),
        Shape::Tree => (tree_sum(n), "the root"),
    };
    assert_eq!(
        got,
        want,
        "{} N={n} tokio: {what} is {got}, expected {want}",
        shape.name()
    );
    eprintln!(
        "    {} N={n} tokio: build {}, run {}",
        shape.name(),
        ms(build),
        ms(run)
    );
    Sample {
        build: Some((build, build_bytes)),
        run: (run, run_bytes),
    }
}

type Channels = (Vec<oneshot::Sender<u64>>, Vec<oneshot::Receiver<u64>>);

enum Wiring {
    Chain(Channels),
    Fan(
        Channels,
        Channels,
        (oneshot::Sender<u64>, oneshot::Receiver<u64>),
    ),
    Tree {
        /// The children of inner node `n + j`.
        children: Vec<(u32, u32)>,
        root: u32,
        senders: Vec<Option<oneshot::Sender<u64>>>,
        receivers: Vec<Option<oneshot::Receiver<u64>>>,
    },
}

fn tokio_on(runtime: &Runtime, shape: Shape, n: usize) -> Sample {
    settle();
    runtime
        .block_on(runtime.spawn(tokio_sample(shape, n)))
        .unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()))
}

// ---------------------------------------------------------------------------------------
// sequential: the same sums in a loop on one thread; `black_box` keeps each step a step.

fn sequential_sample(shape: Shape, n: usize) -> Sample {
    settle();
    let base = counting::start();
    let started = Instant::now();
    let (got, middles) = match shape {
        Shape::Chain => {
            let mut x = black_box(START);
            for _ in 1..n {
                x = black_box(x + 1);
            }
            (x, Vec::new())
        }
        Shape::Fan => {
            // The middles' values are kept, as the DAG run keeps them.
            let start = black_box(START);
            let middles: Vec<u64> = (0..n).map(|_| black_box(start) + 1).collect();
            (black_box(0), middles)
        }
        Shape::Tree => {
            let mut level: Vec<u64> = (0..n as u64).map(black_box).collect();
            while level.len() > 1 {
                level = reduce_level(&level, |a, b| black_box(a + b));
            }
            (level[0], Vec::new())
        }
    };
    let run = started.elapsed();
    let run_bytes = counting::peak_above(base);

    let name = shape.name();
    match shape {
        Shape::Chain => {
            let want = START + n as u64 - 1;
            assert_eq!(
                got, want,
                "chain N={n} sequential: end {got}, expected {want}"
            );
        }
        Shape::Fan => {
            assert_eq!(
                middles.len(),
                n,
                "fan N={n} sequential: wrong number of middles"
            );
            for (i, &x) in middles.iter().enumerate() {
                assert_eq!(x, START + 1, "fan N={n} sequential: middle {i} is {x}");
            }
        }
        Shape::Tree => {
            let want = tree_sum(n);
            assert_eq!(
                got, want,
                "{name} N={n} sequential: root {got}, expected {want}"
            );
        }
    }
    Sample {
        build: None,
        run: (run, run_bytes),
    }
}

// ---------------------------------------------------------------------------------------
// measuring and reporting

/// One repetition: (time, peak bytes) of the build phase (if any) and of the run.
#[derive(Clone, Copy)]
struct Sample {
    build: Option<(Duration, usize)>,
    run: (Duration, usize),
}

/// The medians of some repetitions, per task.
struct Row {
    shape: Shape,
    n: usize,
    what: Impl,
    reps: usize,
    build_ns: Option<f64>,
    build_bytes: Option<f64>,
    run_ns: f64,
    run_ms: f64,
    run_bytes: f64,
}

fn median<T: Copy + Ord>(mut values: Vec<T>) -> T {
    values.sort_unstable();
    values[values.len() / 2]
}

impl Row {
    /// The medians of the timed `samples`; the bytes of the `memory` pass.
    fn new(shape: Shape, n: usize, what: Impl, samples: &[Sample], memory: &Sample) -> Row {
        let tasks = shape.tasks(n) as f64;
        let builds: Option<Vec<Duration>> = samples.iter().map(|s| s.build.map(|b| b.0)).collect();
        let run = median(samples.iter().map(|s| s.run.0).collect());
        Row {
            shape,
            n,
            what,
            reps: samples.len(),
            build_ns: builds.map(|b| median(b).as_nanos() as f64 / tasks),
            build_bytes: memory.build.map(|b| b.1 as f64 / tasks),
            run_ns: run.as_nanos() as f64 / tasks,
            run_ms: run.as_secs_f64() * 1e3,
            run_bytes: memory.run.1 as f64 / tasks,
        }
    }
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1e3)
}

fn or_dash(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"))
}

const HEADER: [&str; 11] = [
    "shape",
    "N",
    "impl",
    "tasks",
    "reps",
    "build ns/task",
    "run ns/task",
    "run ms",
    "build B/task",
    "run B/task",
    "run vs tokio",
];
const WIDTHS: [usize; 11] = [5, 9, 10, 9, 4, 13, 11, 9, 12, 10, 12];

fn print_line(cells: [String; 11]) {
    let mut line = String::new();
    for (i, (cell, width)) in cells.iter().zip(WIDTHS).enumerate() {
        if i > 0 {
            line.push_str("  ");
        }
        if i == 0 || i == 2 {
            line.push_str(&format!("{cell:<width$}"));
        } else {
            line.push_str(&format!("{cell:>width$}"));
        }
    }
    println!("{}", line.trim_end());
}

fn print_row(row: &Row, tokio_run_ns: Option<f64>) {
    print_line([
        row.shape.name().to_owned(),
        row.n.to_string(),
        row.what.name().to_owned(),
        row.shape.tasks(row.n).to_string(),
        row.reps.to_string(),
        or_dash(row.build_ns),
        format!("{:.1}", row.run_ns),
        format!("{:.1}", row.run_ms),
        or_dash(row.build_bytes),
        format!("{:.1}", row.run_bytes),
        tokio_run_ns.map_or_else(|| "-".to_owned(), |t| format!("{:.2}x", row.run_ns / t)),
    ]);
}

/// Peak bytes per task (build or run) the executor should stay under.
const TARGET_BYTES: f64 = 300.0;
/// How much faster than the tokio baseline a run should be.
const TARGET_SPEEDUP: f64 = 5.0;
/// How much more a task may cost at 1M than at 100k.
const TARGET_SCALING: f64 = 1.5;

/// The targets next to the figures at N = 100k (and the 1M / 100k ratio when both ran).
fn print_targets(table: &[Vec<Row>]) {
    let find = |shape: Shape, n: usize, what: Impl| {
        table
            .iter()
            .flatten()
            .find(|row| row.shape == shape && row.n == n && row.what == what)
    };
    let verdict = |ok: bool| if ok { "met" } else { "NOT MET" };
    let mut printed = false;
    for shape in Shape::ALL {
        let Some(row) = find(shape, 100_000, Impl::Taskflow) else {
            continue;
        };
        if !printed {
            println!("targets at N = 100k (taskflow, per task):");
            printed = true;
        }
        let (run_target, build_target) = shape.targets();
        let build = row.build_ns.unwrap_or(f64::NAN);
        let bytes = row.build_bytes.unwrap_or(0.0).max(row.run_bytes);
        let mut line = format!(
            "  {:<5}  run {:>6.1} ns (<= {run_target}: {})  build {:>6.1} ns (<= {build_target}: {})  peak {:>5.1} B (<= {TARGET_BYTES}: {})",
            shape.name(),
            row.run_ns,
            verdict(row.run_ns <= run_target),
            build,
            verdict(build <= build_target),
            bytes,
            verdict(bytes <= TARGET_BYTES),
        );
        if let Some(tokio) = find(shape, 100_000, Impl::Tokio) {
            let speedup = tokio.run_ns / row.run_ns;
            line += &format!(
                "  vs tokio {speedup:.1}x faster (>= {TARGET_SPEEDUP}x: {})",
                verdict(speedup >= TARGET_SPEEDUP)
            );
        }
        if let Some(sequential) = find(shape, 100_000, Impl::Sequential) {
            line += &format!("  sequential floor {:.1} ns", sequential.run_ns);
        }
        if let Some(big) = find(shape, 1_000_000, Impl::Taskflow) {
            let scaling = big.run_ns / row.run_ns;
            line += &format!(
                "  1M/100k run {scaling:.2}x (<= {TARGET_SCALING}x: {})",
                verdict(scaling <= TARGET_SCALING)
            );
        }
        println!("{line}");
    }
}

/// Keeps the previous phase's frees out of the next phase's numbers: waits until memory
/// freed in the background (a run's state, dropped by the worker that ran its last task) is
/// freed, then makes one large allocation. With glibc's malloc, the first large request after
/// millions of small frees merges all of them (`malloc_consolidate`), which took ~300 ms after
/// the 1M cases and landed in whatever phase allocated next (a sequential loop, say).
fn settle() {
    let mut last = counting::current();
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(1));
        let now = counting::current();
        if now == last {
            break;
        }
        last = now;
    }
    drop(black_box(Vec::<u8>::with_capacity(1 << 20)));
}

// ---------------------------------------------------------------------------------------
// configuration

struct Config {
    full: bool,
    ns: Vec<usize>,
    shapes: Vec<Shape>,
    impls: Vec<Impl>,
    reps: Option<usize>,
    weights: bool,
}

/// A setting from `--key=value` among the arguments, else from the environment variable.
fn setting(args: &[String], key: &str, var: &str) -> Option<String> {
    let flag = format!("--{key}=");
    args.iter()
        .rev()
        .find_map(|arg| arg.strip_prefix(&flag).map(str::to_owned))
        .or_else(|| std::env::var(var).ok())
        .filter(|value| !value.trim().is_empty())
}

fn parse_count(text: &str) -> usize {
    let clean = text.trim().replace('_', "").to_ascii_lowercase();
    let (digits, scale) = match clean.strip_suffix('k') {
        Some(d) => (d, 1_000),
        None => match clean.strip_suffix('m') {
            Some(d) => (d, 1_000_000),
            None => (clean.as_str(), 1),
        },
    };
    match digits.parse::<usize>() {
        Ok(n) if n * scale >= 1 => n * scale,
        _ => panic!("not a task count: {text:?} (try 1000, 100_000, 10k or 1m)"),
    }
}

fn pick<T: Copy>(list: &str, all: &[T], name: impl Fn(T) -> &'static str, what: &str) -> Vec<T> {
    list.split(',')
        .map(|word| {
            let word = word.trim();
            all.iter()
                .copied()
                .find(|&item| name(item).eq_ignore_ascii_case(word))
                .unwrap_or_else(|| {
                    let known: Vec<_> = all.iter().map(|&item| name(item)).collect();
                    panic!("unknown {what} {word:?}; known: {}", known.join(", "))
                })
        })
        .collect()
}

impl Config {
    fn read() -> Config {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let full = args.iter().any(|arg| arg == "--bench");
        let ns = match setting(&args, "n", "TASKFLOW_BENCH_N") {
            Some(list) => list.split(',').map(parse_count).collect(),
            None if full => vec![10_000, 100_000, 1_000_000],
            None => vec![1_000],
        };
        let shapes = setting(&args, "shape", "TASKFLOW_BENCH_SHAPE")
            .map_or(Shape::ALL.to_vec(), |list| {
                pick(&list, &Shape::ALL, Shape::name, "shape")
            });
        let impls = setting(&args, "impl", "TASKFLOW_BENCH_IMPL")
            .map_or(Impl::ALL.to_vec(), |list| {
                pick(&list, &Impl::ALL, Impl::name, "impl")
            });
        let reps = setting(&args, "reps", "TASKFLOW_BENCH_REPS").map(|r| parse_count(&r));
        let weights = setting(&args, "weights", "TASKFLOW_BENCH_WEIGHTS").is_some_and(|w| w == "1");
        Config {
            full,
            ns,
            shapes,
            impls,
            reps,
            weights,
        }
    }

    fn reps(&self, n: usize) -> usize {
        match self.reps {
            Some(reps) => reps,
            None if !self.full => 1,
            None if n <= 100_000 => 7,
            None => 3,
        }
    }
}

fn main() {
    let config = Config::read();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a multi-thread tokio runtime builds");

    // Start taskflow's worker pool and tokio's workers before anything is measured.
    for shape in Shape::ALL {
        taskflow_sample(&runtime, shape, 16);
        tokio_on(&runtime, shape, 16);
    }

    // `TASKFLOW_BENCH_ONLY=store` (feature `sqlite`): the store rows alone, at 100k.
    #[cfg(feature = "sqlite")]
    if std::env::var("TASKFLOW_BENCH_ONLY").is_ok_and(|only| only == "store") {
        store::run(&runtime, 100_000, 3);
        return;
    }
    // `TASKFLOW_BENCH_ONLY=scheduler` (features `sqlite` and `schedule`): the scheduler rows.
    #[cfg(all(feature = "sqlite", feature = "schedule"))]
    if std::env::var("TASKFLOW_BENCH_ONLY").is_ok_and(|only| only == "scheduler") {
        scheduler::run(config.full);
        return;
    }
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "taskflow executor benchmark ({} mode, {cores} cores): medians; per task = per graph node",
        if config.full { "full" } else { "smoke" }
    );
    let total = Instant::now();
    let mut table = Vec::new();
    for &shape in &config.shapes {
        for &n in &config.ns {
            let reps = config.reps(n);
            let mut rows = Vec::new();
            for &what in &config.impls {
                let case = Instant::now();
                eprintln!("  {} N={n} {} x{reps}", shape.name(), what.name());
                let sample = || match what {
                    Impl::Taskflow => taskflow_sample(&runtime, shape, n),
                    Impl::Tokio => tokio_on(&runtime, shape, n),
                    Impl::Sequential => sequential_sample(shape, n),
                };
                // One pass counts the bytes, then the timed repetitions run without counting.
                counting::count(true);
                let memory = sample();
                counting::count(false);
                let samples: Vec<Sample> = (0..reps).map(|_| sample()).collect();
                counting::count(true);
                rows.push(Row::new(shape, n, what, &samples, &memory));
                eprintln!(
                    "  {} N={n} {}: {} in all",
                    shape.name(),
                    what.name(),
                    ms(case.elapsed())
                );
            }
            table.push(rows);
        }
    }
    // The table goes to stdout at the end, apart from the progress lines on stderr.
    print_line(HEADER.map(str::to_owned));
    for rows in &table {
        let tokio_run = rows
            .iter()
            .find(|row| row.what == Impl::Tokio)
            .map(|row| row.run_ns);
        for row in rows {
            print_row(row, tokio_run);
        }
    }
    print_targets(&table);
    // The extra rows run with the whole set, not when a shape is picked out.
    if config.shapes.len() == Shape::ALL.len() {
        let n = if config.full { 100_000 } else { 1_000 };
        rerun::run(&runtime, n, config.reps(n));
        unit_test_path::run(config.reps(1_000));
        waiting_sensors::run(if config.full { 10_000 } else { 100 });
        mixed_priorities::run(n, config.reps(n));
        mapping::run(&runtime, n, config.reps(n));
        #[cfg(feature = "sqlite")]
        store::run(&runtime, n, config.reps(n).min(3));
        #[cfg(all(feature = "sqlite", feature = "schedule"))]
        scheduler::run(config.full);
    }
    if config.shapes.len() == Shape::ALL.len() || config.weights {
        weight_shapes::run(config.full, if config.full { 3 } else { 1 });
    }
    println!("all values checked; {} in all", ms(total.elapsed()));
}
