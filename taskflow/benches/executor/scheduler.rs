//! The scheduler rows of the benchmark (features `sqlite` and `schedule`):
//! - scheduling delay on real time: DAGs due every second, each run's first task's start
//!   against its due time (`run_after`), p50 and p99;
//! - scheduler overhead on the virtual clock: DAGs with per-minute schedules over a simulated
//!   span, wall time and memory.
//!
//! `TASKFLOW_BENCH_ONLY=scheduler` runs these rows alone; `TASKFLOW_BENCH_SCHEDULER_DAGS`
//! and `TASKFLOW_BENCH_SCHEDULER_HOURS` size the virtual row (default 1,000 DAGs, 24 hours),
//! `TASKFLOW_BENCH_SCHEDULER_SECONDS` the real-time one (default 60; 0 leaves it out).

use std::sync::Arc;
use std::time::{Duration, Instant};

use taskflow::Executor;
use taskflow::chrono::{DateTime, Duration as Span, DurationRound, Utc};
use taskflow::prelude::*;
use taskflow::schedule::Timetable;
use taskflow::scheduler::Scheduler;
use taskflow::store::{SqliteStore, Store};

#[task]
fn tick() -> u32 {
    1
}

fn folder(name: &str) -> std::path::PathBuf {
    let folder = std::env::temp_dir().join(format!("taskflow-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).expect("a folder for the bench's store");
    folder
}

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|text| text.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// `dags` one-task DAGs on `timetable`, from `start` to `end` with catchup.
fn dags(
    prefix: &str,
    dags: usize,
    timetable: &Timetable,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<Dag> {
    (0..dags)
        .map(|i| {
            Dag::builder(format!("{prefix}_{i}"))
                .timetable(timetable.clone())
                .start_date(start)
                .end_date(end)
                .catchup(true)
                .build(|| {
                    tick();
                })
                .expect("the DAG builds")
        })
        .collect()
}

/// The value at fraction `q` of sorted `values`.
fn quantile(values: &[Duration], q: f64) -> Duration {
    let at = ((values.len() as f64 - 1.0) * q).round() as usize;
    values[at.min(values.len() - 1)]
}

/// The scheduling delay: `dags` DAGs due every second for `seconds`, on real time.
fn delay(dags_count: usize, seconds: i64) {
    let dir = folder("scheduler-delay");
    let store = Arc::new(SqliteStore::open(dir.join("runs.db")).expect("the store opens"));
    let now = Utc::now();
    let start = now
        .duration_trunc(Span::seconds(1))
        .expect("a whole second")
        + Span::seconds(2);
    let end = start + Span::seconds(seconds - 1);
    let every_second = Timetable::delta_trigger(Duration::from_secs(1)).expect("a timetable");
    let scheduler = Scheduler::builder(Executor::new(), store.clone())
        .dags(dags("every_second", dags_count, &every_second, start, end))
        .build()
        .expect("the scheduler builds");
    scheduler
        .run_until(end + Span::seconds(1))
        .expect("the scheduler runs");
    let mut delays = Vec::new();
    for i in 0..dags_count {
        let dag_id = format!("every_second_{i}");
        for run in store.dag_runs(&dag_id, usize::MAX, 0).expect("the runs") {
            let due = run.run_after.expect("a scheduled run is due at a time");
            let instances = store
                .task_instances(&dag_id, &run.run_id)
                .expect("its tasks");
            let started = instances[0].start_date.expect("the task started");
            delays.push((started - due).to_std().unwrap_or_default());
        }
    }
    assert_eq!(
        delays.len(),
        dags_count * seconds as usize,
        "every run was made"
    );
    delays.sort_unstable();
    println!(
        "  scheduling delay, real time, {dags_count} DAGs due every second for {seconds} s \
         ({} runs): p50 {:.2} ms, p99 {:.2} ms (target <= 5 ms), max {:.2} ms",
        delays.len(),
        quantile(&delays, 0.5).as_secs_f64() * 1e3,
        quantile(&delays, 0.99).as_secs_f64() * 1e3,
        delays.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The peak resident set of the process so far, from `/proc/self/status`.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The scheduler's overhead on the virtual clock: `dags_count` per-minute DAGs for `hours`.
fn virtual_span(dags_count: usize, hours: i64) {
    let dir = folder("scheduler-virtual");
    let store = Arc::new(SqliteStore::open(dir.join("runs.db")).expect("the store opens"));
    let start: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().expect("a date");
    let end = start + Span::hours(hours) - Span::minutes(1);
    let every_minute = Timetable::cron_trigger("* * * * *", "UTC").expect("a timetable");
    let executor = Executor::builder()
        .virtual_start(start)
        .build()
        .expect("the executor starts");
    let base = super::counting::start();
    let began = Instant::now();
    let scheduler = Scheduler::builder(executor, store.clone())
        .dags(dags("every_minute", dags_count, &every_minute, start, end))
        .build()
        .expect("the scheduler builds");
    scheduler
        .run_until(end + Span::minutes(1))
        .expect("the scheduler runs");
    let took = began.elapsed();
    let peak = super::counting::peak_above(base);
    let runs = dags_count * hours as usize * 60;
    let last = store
        .dag_runs(&format!("every_minute_{}", dags_count - 1), 1, 0)
        .expect("the runs");
    assert_eq!(
        last[0].logical_date, end,
        "the last DAG ran to its end date"
    );
    assert_eq!(
        store
            .dag_runs("every_minute_0", usize::MAX, 0)
            .expect("the runs")
            .len(),
        hours as usize * 60,
        "every minute ran once"
    );
    println!(
        "  virtual clock, {dags_count} DAGs every minute for {hours} h ({runs} one-task runs, \
         stored): {:.1} s wall, {:.1} us per run, heap peak {:.1} MiB, resident peak {} MiB",
        took.as_secs_f64(),
        took.as_secs_f64() * 1e6 / runs as f64,
        peak as f64 / (1 << 20) as f64,
        peak_rss_mib().map_or_else(|| "-".to_owned(), |mib| format!("{mib:.0}")),
    );
    drop(scheduler);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs the rows: full size with `full`, else a smoke run of a few seconds.
pub(crate) fn run(full: bool) {
    println!("the scheduler, one SqliteStore (WAL), group commit:");
    if full {
        let seconds = env_count("TASKFLOW_BENCH_SCHEDULER_SECONDS", 60) as i64;
        if seconds > 0 {
            delay(100, seconds);
        }
        virtual_span(
            env_count("TASKFLOW_BENCH_SCHEDULER_DAGS", 1_000),
            env_count("TASKFLOW_BENCH_SCHEDULER_HOURS", 24) as i64,
        );
    } else {
        delay(10, 2);
        virtual_span(10, 1);
    }
}
