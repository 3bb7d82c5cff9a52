//! The store rows of the benchmark (feature `sqlite`): a chain and a fan run with a
//! `SqliteStore` in group-commit mode, next to the same runs without one: the run time a
//! store adds per task.

use std::sync::Arc;
use std::time::{Duration, Instant};

use taskflow::prelude::*;
use taskflow::store::SqliteStore;
use tokio::runtime::Runtime;

use super::{Shape, build_dag, check_report, median};

/// Runs the rows at `n` tasks, `reps` runs each, and prints them.
pub(crate) fn run(runtime: &Runtime, n: usize, reps: usize) {
    let folder = std::env::temp_dir().join(format!("taskflow-bench-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).expect("a folder for the bench's store");
    let store = Arc::new(SqliteStore::open(folder.join("runs.db")).expect("the store opens"));
    println!(
        "a SqliteStore in group-commit mode (WAL), N = {n} (medians of {reps}; run time per task):"
    );
    for shape in [Shape::Chain, Shape::Fan] {
        let dag = build_dag(shape, n);
        let time = |stored: bool, rep: usize| -> Duration {
            let options = if stored {
                RunOptions::new()
                    .run_id(format!("{}_{rep}", shape.name()))
                    .store(store.clone())
            } else {
                RunOptions::new()
            };
            let started = Instant::now();
            let report = runtime
                .block_on(dag.run_with(options))
                .expect("the run runs");
            let took = started.elapsed();
            assert_eq!(report.store_error(), None, "the store kept the run");
            check_report(&report, shape, n);
            took
        };
        let plain = median((0..reps).map(|rep| time(false, rep)).collect());
        let stored = median((0..reps).map(|rep| time(true, rep)).collect());
        let tasks = shape.tasks(n) as f64;
        let per_task = |time: Duration| time.as_nanos() as f64 / tasks;
        println!(
            "  {:<5}  without a store {:>8.1} ns/task, with one {:>9.1} ns/task: {:>8.1} ns added (target <= 3000)",
            shape.name(),
            per_task(plain),
            per_task(stored),
            per_task(stored) - per_task(plain),
        );
    }
    drop(store);
    let _ = std::fs::remove_dir_all(&folder);
}
