//! The sensor row of the benchmark: N sensors in reschedule mode waiting at once on one
//! executor with two slots. Waiting costs memory and a timer each, not a thread or a slot:
//! the row gives the memory per waiting sensor, the threads of the process while they wait,
//! and the delay from the condition becoming true to the downstream tasks starting.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use taskflow::prelude::*;
use taskflow::{Executor, SensorMode, SensorSettings};

use super::{counting, ms};

static CONDITION: AtomicBool = AtomicBool::new(false);
static CHECKS: AtomicUsize = AtomicUsize::new(0);
/// When the condition became true, and when each downstream task started, as nanoseconds
/// after `EPOCH`.
static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);
static RELEASED_AT: AtomicU64 = AtomicU64::new(0);
static STARTS: Mutex<Vec<u64>> = Mutex::new(Vec::new());

#[sensor(mode = "reschedule", poke_interval = "50ms", timeout = "10m")]
fn condition() -> bool {
    CHECKS.fetch_add(1, Ordering::Relaxed);
    CONDITION.load(Ordering::Acquire)
}

#[task]
fn downstream(_: ()) {
    let at = EPOCH.elapsed().as_nanos() as u64;
    STARTS.lock().unwrap_or_else(|p| p.into_inner()).push(at);
}

/// The threads of this process, from `/proc` (0 where there is none).
fn threads() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Threads:"))
                .and_then(|count| count.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Runs the row and prints it.
pub(crate) fn run(n: usize) {
    let started = Instant::now();
    LazyLock::force(&EPOCH);
    CONDITION.store(false, Ordering::Release);
    CHECKS.store(0, Ordering::Relaxed);
    STARTS.lock().unwrap_or_else(|p| p.into_inner()).clear();
    let settings = SensorSettings::DEFAULT
        .with_poke_interval(Duration::from_millis(50))
        .with_timeout(Duration::from_secs(600))
        .with_mode(SensorMode::Reschedule);
    // Executors of earlier rows free their memory in the background: let them finish.
    std::thread::sleep(Duration::from_millis(300));
    let base = counting::current();
    let dag = Dag::build("waiting_sensors", || {
        for _ in 0..n {
            downstream(condition::with(TaskOptions::new().sensor(settings)).add());
        }
    })
    .expect("the sensor DAG builds");
    let executor = Executor::builder()
        .parallelism(2)
        .max_active_tasks(u32::MAX)
        .build()
        .expect("the executor starts");
    let threads_before = threads();
    let handle = executor
        .submit(&dag, RunOptions::new().keep_xcoms(false))
        .unwrap();
    // Every sensor has checked once and waits: then measure.
    while CHECKS.load(Ordering::Relaxed) < n {
        std::thread::sleep(Duration::from_millis(1));
    }
    let waiting_bytes = usize::try_from(counting::current() - base).unwrap_or(0);
    let threads_waiting = threads();
    RELEASED_AT.store(EPOCH.elapsed().as_nanos() as u64, Ordering::Release);
    CONDITION.store(true, Ordering::Release);
    let report = handle.wait().expect("the run starts");
    assert!(report.succeeded(), "sensors N={n}: the run failed");
    let released = RELEASED_AT.load(Ordering::Acquire);
    let mut delays: Vec<u64> = STARTS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .map(|&at| at.saturating_sub(released))
        .collect();
    assert_eq!(delays.len(), n, "sensors N={n}: every downstream task ran");
    delays.sort_unstable();
    let at = |q: usize| Duration::from_nanos(delays[(delays.len() - 1) * q / 100]);
    println!("waiting sensors, N = {n} in reschedule mode (poke every 50 ms) on 2 slots:");
    println!(
        "  memory {} B per waiting sensor and its downstream task (graph and run), threads {} -> {} while waiting",
        waiting_bytes / n,
        threads_before,
        threads_waiting
    );
    println!(
        "  condition true -> downstream start: first {:.1?}, median {:.1?}, last {:.1?}",
        at(0),
        at(50),
        at(100)
    );
    eprintln!("  waiting sensors: {} in all", ms(started.elapsed()));
}
