//! The `scheduler` command: a [`Scheduler`] of the program's DAGs on real time, on the
//! store, until Ctrl-C (the store keeps what it did: a scheduler started again goes on from
//! there) or the bound given.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::args::RunScheduler;
use super::home::open_store;
use super::{Failure, Session};
use crate::Executor;
use crate::scheduler::{DEFAULT_POLL_INTERVAL, Scheduler};
use crate::store::Store;

/// `scheduler`: runs the DAGs' schedules, and the runs queued in the store (triggered,
/// backfills), for `--run-for` or `--num-runs` passes of a second, else until stopped.
pub(crate) fn run(session: &mut Session<'_>, args: RunScheduler) -> Result<u8, Failure> {
    let store = open_store(&session.store, true)?
        .ok_or_else(|| Failure(format!("no store at {}", session.store.display())))?;
    let mut executor = Executor::builder();
    for (pool, slots) in session.pools {
        executor = executor.pool(pool, *slots);
    }
    let scheduler = Scheduler::builder(executor.build()?, store as Arc<dyn Store>)
        .dags(session.dags.iter().cloned())
        .build()?;
    let ids: Vec<&str> = session.dags.iter().map(|dag| dag.dag_id()).collect();
    writeln!(
        session.err,
        "Starting the scheduler of dags {} on the store {}{}",
        if ids.is_empty() {
            "(none)".to_owned()
        } else {
            ids.join(", ")
        },
        session.store.display(),
        match (args.run_for, args.num_runs) {
            (None, None) => "; Ctrl-C stops it".to_owned(),
            (Some(bound), _) => format!("; it stops after {}", humantime::format_duration(bound)),
            (None, Some(passes)) => format!("; it stops after {passes} passes"),
        }
    )?;
    let started = Instant::now();
    match args.num_runs {
        None => match args.run_for {
            Some(bound) => scheduler.run_for(bound)?,
            None => scheduler.run_until(chrono::DateTime::<chrono::Utc>::MAX_UTC)?,
        },
        Some(passes) => {
            let bound = args.run_for.unwrap_or(Duration::MAX);
            for _ in 0..passes {
                let left = bound.saturating_sub(started.elapsed());
                if left.is_zero() {
                    break;
                }
                scheduler.run_for(left.min(DEFAULT_POLL_INTERVAL))?;
            }
        }
    }
    writeln!(
        session.err,
        "The scheduler stopped after {}",
        humantime::format_duration(Duration::from_millis(
            u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
        ))
    )?;
    Ok(0)
}
