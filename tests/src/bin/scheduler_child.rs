//! A scheduler killed mid-run, for `tests/tests/scheduler.rs`: it runs a daily DAG with
//! catchup from 2026-01-01 in a store, on the virtual clock, and kills its own process
//! with SIGKILL inside the run of 2026-01-04, the first time it gets there (a marker file
//! beside the store says it did).
//!
//! Usage: `scheduler_child <store file>`.

use std::path::PathBuf;
use std::sync::Arc;

use taskflow::Executor;
use taskflow::prelude::*;
use taskflow::scheduler::Scheduler;
use taskflow::store::{Durability, SqliteStore};

/// The marker file beside the store, set by [`MARKER`] before the process dies.
static MARKER: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

#[task]
fn work(ctx: &Context) -> String {
    let marker = MARKER.get().expect("set in main");
    if ctx.logical_date().to_rfc3339() == "2026-01-04T00:00:00+00:00" && !marker.exists() {
        std::fs::write(marker, "killed").expect("the marker is written");
        // SAFETY: sending a signal to our own process has no memory-safety preconditions.
        #[allow(unsafe_code)]
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
    ctx.run_id().to_owned()
}

fn main() {
    let store_path = PathBuf::from(std::env::args().nth(1).expect("a store file"));
    let _ = MARKER.set(store_path.with_extension("killed"));
    let store = Arc::new(SqliteStore::open(&store_path).expect("the store opens"));
    let dag = Dag::builder("daily")
        .schedule("@daily")
        .start_date("2026-01-01T00:00:00Z".parse().expect("a date"))
        .catchup(true)
        .build(|| {
            work();
        })
        .expect("the DAG builds");
    let executor = Executor::builder()
        .virtual_start("2026-01-01T00:00:00Z".parse().expect("a date"))
        .build()
        .expect("the executor starts");
    // Each try's start is written before its body runs: the kill leaves it interrupted.
    let scheduler = Scheduler::builder(executor, store)
        .durability(Durability::PerTask)
        .dag(dag)
        .build()
        .expect("the scheduler builds");
    scheduler
        .run_until("2026-01-10T00:00:00Z".parse().expect("a date"))
        .expect("the scheduler runs");
}
