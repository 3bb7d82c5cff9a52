//! The re-run row of the benchmark: a DAG is built once and run several times; every run
//! after the first costs run time only (nothing is rebuilt), and its values are checked.

use std::time::{Duration, Instant};

use tokio::runtime::Runtime;

use super::{Shape, build_dag, check_report, median};

/// Runs the row for each shape at `n` tasks and prints it.
pub(crate) fn run(runtime: &Runtime, n: usize, reps: usize) {
    let reps = reps.max(3);
    println!(
        "re-running a built DAG, N = {n} ({reps} runs of one build, medians of the later runs):"
    );
    for shape in Shape::ALL {
        let started = Instant::now();
        let dag = build_dag(shape, n);
        let build = started.elapsed();
        let runs: Vec<Duration> = (0..reps)
            .map(|_| {
                let started = Instant::now();
                let report = runtime.block_on(dag.run()).unwrap_or_else(|error| {
                    panic!("re-run {} N={n}: dag.run() failed: {error}", shape.name())
                });
                let took = started.elapsed();
                check_report(&report, shape, n);
                took
            })
            .collect();
        let tasks = shape.tasks(n) as f64;
        let per_task = |time: Duration| time.as_nanos() as f64 / tasks;
        println!(
            "  {:<5}  build once {:>6.1} ns/task, first run {:>6.1} ns/task, later runs {:>6.1} ns/task",
            shape.name(),
            per_task(build),
            per_task(runs[0]),
            per_task(median(runs[1..].to_vec())),
        );
    }
}
