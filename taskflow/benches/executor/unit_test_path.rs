//! The unit-test row of the benchmark: what `dag.test()` (virtual clock, its own runtime)
//! costs a test suite, as set-up (a one-task DAG) and per task (a 1,000-task DAG), next to
//! reference figures for other Python orchestrators' in-process test runs.

use std::time::{Duration, Instant};

use taskflow::events::RunLog;
use taskflow::prelude::*;

use super::{inc, median, source};

/// A chain of `n` tasks.
fn chain(n: usize) -> Dag {
    Dag::build("unit_test_path", || {
        let mut x = source();
        for _ in 1..n {
            x = inc(x);
        }
    })
    .unwrap_or_else(|error| panic!("unit-test path N={n}: Dag::build failed: {error}"))
}

/// The median time of `dag.test()` over `reps` runs of one built DAG: quiet, or with its
/// log of state changes (written to a sink here, so that the bench's output stays readable).
fn test_time(dag: &Dag, reps: usize, logged: bool) -> Duration {
    let times = (0..reps)
        .map(|_| {
            let options = if logged {
                RunOptions::new()
                    .log(false)
                    .listener(RunLog::to_writer(std::io::sink()))
            } else {
                RunOptions::new().log(false)
            };
            let started = Instant::now();
            let report = dag.test_with(options).expect("dag.test() runs");
            let took = started.elapsed();
            assert!(report.succeeded(), "unit-test path: the run failed");
            took
        })
        .collect();
    median(times)
}

/// Runs the row and prints it.
pub(crate) fn run(reps: usize) {
    let reps = reps.max(5);
    println!("dag.test(), virtual clock and its own runtime (median of {reps}):");
    for (logged, what) in [(false, "quiet"), (true, "with its log")] {
        let one = test_time(&chain(1), reps, logged);
        let thousand = test_time(&chain(1000), reps, logged);
        let per_task = thousand.saturating_sub(one) / 999;
        println!(
            "  {what:<12} set-up {one:.1?} (a 1-task DAG), {per_task:.1?} per task (a 1,000-task chain: {thousand:.1?} in all)"
        );
    }
    println!(
        "  for scale, in-process test runs of Python orchestrators as measured on this machine \
         class (not by this benchmark): Dagster materialize 0.85 s + ~12 ms/task, Prefect 6.7 s + \
         2-5 ms/task, Airflow dag.test() 4.6 s + 50-800 ms/task"
    );
}
