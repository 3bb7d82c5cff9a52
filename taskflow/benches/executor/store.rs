//! The store rows of the benchmark (feature `sqlite`): a chain and a fan run with a
//! `SqliteStore` in group-commit mode, next to the same runs without one (the run time a
//! store adds per task), with the time to fold each run's change log into the tables after
//! it (not part of the run; each run starts with the log folded); the same in per-task mode,
//! at a tenth of the size; and resuming a stored run of the chain (loading its state and
//! restoring every task).

use std::sync::Arc;
use std::time::{Duration, Instant};

use taskflow::prelude::*;
use taskflow::store::{Durability, SqliteStore};
use tokio::runtime::Runtime;

use super::{Shape, build_dag, check_report, median};

/// Runs the rows at `n` tasks, `reps` runs each, and prints them.
pub(crate) fn run(runtime: &Runtime, n: usize, reps: usize) {
    let folder = std::env::temp_dir().join(format!("taskflow-bench-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).expect("a folder for the bench's store");
    let store = Arc::new(SqliteStore::open(folder.join("runs.db")).expect("the store opens"));
    println!("a SqliteStore (WAL), medians of {reps} (spread: min..max); run time per task:");
    for (durability, n) in [
        (Durability::GroupCommit, n),
        (Durability::PerTask, (n / 10).max(1)),
    ] {
        for shape in [Shape::Chain, Shape::Fan] {
            let dag = build_dag(shape, n);
            // The time to fold each stored run's change log into the tables, after the run.
            let mut folds: Vec<Duration> = Vec::new();
            let mut time = |stored: bool, rep: usize| -> Duration {
                let options = if stored {
                    RunOptions::new()
                        .run_id(format!("{}_{n}_{durability:?}_{rep}", shape.name()))
                        .store(store.clone())
                        .durability(durability)
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
                if stored {
                    // Each run is measured on its own: the fold of the one before is done.
                    let folding = Instant::now();
                    store.fold_change_log().expect("the store folds its log");
                    folds.push(folding.elapsed());
                }
                took
            };
            let plain: Vec<Duration> = (0..reps).map(|rep| time(false, rep)).collect();
            let stored: Vec<Duration> = (0..reps).map(|rep| time(true, rep)).collect();
            let tasks = shape.tasks(n) as f64;
            let per_task = |time: Duration| time.as_nanos() as f64 / tasks;
            let (low, high) = spread(&stored);
            let (fold_low, fold_high) = spread(&folds);
            let target = match durability {
                Durability::PerTask => "measured",
                _ => "target <= 3000",
            };
            println!(
                "  {:<5} N = {n:>6} {durability:?}: without a store {:>7.1} ns, with one {:>9.1} ns \
                 ({:.1}..{:.1}): {:>8.1} ns added ({target})",
                shape.name(),
                per_task(median(plain.clone())),
                per_task(median(stored.clone())),
                per_task(low),
                per_task(high),
                per_task(median(stored)) - per_task(median(plain)),
            );
            println!(
                "        folding the run's change log into the tables after it: {:>7.1} ns \
                 ({:.1}..{:.1})",
                per_task(median(folds.clone())),
                per_task(fold_low),
                per_task(fold_high),
            );
        }
    }
    // Resuming: the stored chain run of the first rep, all of it finished, restored whole.
    let dag = build_dag(Shape::Chain, n);
    let resume_times: Vec<Duration> = (0..reps)
        .map(|_| {
            let options = RunOptions::new()
                .store(store.clone())
                .resume(format!("chain_{n}_GroupCommit_0"));
            let started = Instant::now();
            let report = runtime
                .block_on(dag.run_with(options))
                .expect("the resumed run runs");
            let took = started.elapsed();
            check_report(&report, Shape::Chain, n);
            took
        })
        .collect();
    let (low, high) = spread(&resume_times);
    println!(
        "  resuming a stored {n}-task chain (loading its state, restoring each task): {:.3} s \
         ({:.3}..{:.3}; target <= 0.5 s)",
        median(resume_times).as_secs_f64(),
        low.as_secs_f64(),
        high.as_secs_f64(),
    );
    drop(store);
    let _ = std::fs::remove_dir_all(&folder);
}

/// The least and the most of `times`.
fn spread(times: &[Duration]) -> (Duration, Duration) {
    let low = times.iter().min().copied().unwrap_or_default();
    let high = times.iter().max().copied().unwrap_or_default();
    (low, high)
}
