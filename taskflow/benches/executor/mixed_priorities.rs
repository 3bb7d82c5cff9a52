//! The priority row of the benchmark: a fan of N no-op tasks with mixed priority weights,
//! split over two pools, run on an `Executor` that counts every try against its limits, next
//! to the same fan without weights or pools on the default executor.

use std::time::{Duration, Instant};

use taskflow::prelude::*;
use taskflow::{Executor, WeightRule};

use super::{START, inc, median, ms, sink, source};

/// Builds `source -> N x inc -> sink`; with `mixed`, the middles have absolute weights 1 to 5
/// and alternate between pools `left` and `right`.
fn fan(n: usize, mixed: bool) -> Dag {
    Dag::build("bench_mixed", || {
        let start = source();
        let middles: Vec<TaskRef> = (0..n)
            .map(|i| {
                if !mixed {
                    return inc(start).task();
                }
                let options = TaskOptions::new()
                    .priority_weight(1 + (i % 5) as i32)
                    .weight_rule(WeightRule::Absolute)
                    .pool(if i % 2 == 0 { "left" } else { "right" });
                inc::with(options).add(start).task()
            })
            .collect();
        middles >> sink();
    })
    .unwrap_or_else(|error| panic!("mixed N={n}: Dag::build failed: {error}"))
}

/// Every middle task holds `START + 1`.
fn check(report: &RunReport, n: usize) {
    assert!(report.succeeded(), "mixed N={n}: the run failed");
    let sum: u64 = report
        .tasks()
        .filter(|task| task.task_id.starts_with("inc"))
        .map(|task| {
            report
                .xcom::<u64>(&task.task_id)
                .expect("a middle task's value")
        })
        .sum();
    assert_eq!(
        sum,
        n as u64 * (START + 1),
        "mixed N={n}: wrong sum of the middles"
    );
}

/// Build and run ns/task of one rep, on `executor` (or the default one).
fn sample(n: usize, mixed: bool, executor: Option<&Executor>) -> (f64, f64) {
    let started = Instant::now();
    let dag = fan(n, mixed);
    let build = started.elapsed();
    let started = Instant::now();
    let report = match executor {
        Some(executor) => executor
            .submit(&dag, RunOptions::new().keep_xcoms(false))
            .unwrap()
            .wait(),
        None => dag.test_with(RunOptions::new().keep_xcoms(false).virtual_time(false)),
    }
    .unwrap_or_else(|error| panic!("mixed N={n}: the run failed to start: {error}"));
    let run = started.elapsed();
    check(&report, n);
    let per_task = |d: Duration| d.as_nanos() as f64 / (n + 2) as f64;
    (per_task(build), per_task(run))
}

/// Runs the rows and prints them.
pub(crate) fn run(n: usize, reps: usize) {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let executor = Executor::builder()
        .parallelism(cores)
        .pool("left", 64)
        .pool("right", 64)
        .max_active_tasks(u32::MAX)
        .build()
        .expect("the benchmark's executor starts");
    let started = Instant::now();
    let rows = [
        ("fan, weights 1-5, 2 pools, Executor", true, Some(&executor)),
        (
            "fan, default weights, no pools, default executor",
            false,
            None,
        ),
    ];
    println!("priority bookkeeping, N = {n} (medians of {reps}):");
    for (name, mixed, on) in rows {
        let samples: Vec<(f64, f64)> = (0..reps).map(|_| sample(n, mixed, on)).collect();
        let build = median(samples.iter().map(|s| s.0 as u64).collect());
        let run = median(samples.iter().map(|s| s.1 as u64).collect());
        println!("  {name:<50} build {build:>5} ns/task  run {run:>5} ns/task");
    }
    eprintln!("  mixed priorities: {} in all", ms(started.elapsed()));
}
