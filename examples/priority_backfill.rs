//! A backfill of 30 daily runs fills one executor; then an urgent run arrives. Its tasks have
//! a higher priority weight, so they start ahead of the backfill's waiting tasks instead of
//! queueing behind all of them, as happens in Airflow when priorities are left alone.
//!
//! The executor runs 2 tasks at once (`parallelism`) and has a `warehouse` pool of 2
//! slots. Every load takes a slot; the urgent load takes both (`pool_slots = 2`), and while
//! it waits for them, the pool holds freed slots for it rather than handing them to the next
//! small load.
//!
//! Run it with `cargo run --example priority_backfill`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use taskflow::chrono::{Duration, TimeZone, Utc};
use taskflow::prelude::*;
use taskflow::{Executor, RunHandle};

/// Task starts, in order: (start number, "dag/run/task").
static STARTS: Mutex<Vec<(usize, String)>> = Mutex::new(Vec::new());
static STARTED: AtomicUsize = AtomicUsize::new(0);

/// Notes that a task started.
fn started(ctx: &Context) -> usize {
    let number = STARTED.fetch_add(1, Ordering::SeqCst);
    let entry = format!("{}/{}/{}", ctx.dag_id(), ctx.run_id(), ctx.task_id());
    STARTS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((number, entry));
    number
}

/// Some real work, so that the backfill keeps the executor busy.
fn crunch(seed: u64) -> u64 {
    (0..200_000u64).fold(seed, |acc, x| acc.wrapping_mul(31).wrapping_add(x))
}

#[task]
fn extract(ctx: &Context) -> u64 {
    started(ctx);
    crunch(ctx.logical_date().timestamp() as u64)
}

#[task]
fn transform(ctx: &Context, raw: u64) -> u64 {
    started(ctx);
    crunch(raw)
}

#[task(pool = "warehouse")]
fn load(ctx: &Context, rows: u64) -> u64 {
    started(ctx);
    rows % 1000
}

#[task(priority_weight = 100)]
fn urgent_extract(ctx: &Context) -> usize {
    started(ctx)
}

#[task(priority_weight = 100)]
fn urgent_transform(ctx: &Context, _: usize) -> usize {
    started(ctx)
}

#[task(priority_weight = 100, pool = "warehouse", pool_slots = 2)]
fn urgent_load(ctx: &Context, _: usize) -> usize {
    started(ctx)
}

#[dag]
fn daily_sales() {
    load(transform(extract()));
}

#[dag]
fn urgent_report() {
    urgent_load(urgent_transform(urgent_extract()));
}

/// What happened: the start numbers of the urgent tasks, counted from the urgent run's
/// submission, and how many backfill tasks started in all.
struct Outcome {
    urgent_starts: Vec<usize>,
    backfill_tasks: usize,
}

fn run_scenario(parallelism: usize, print: bool) -> taskflow::Result<Outcome> {
    let executor = Executor::builder()
        .parallelism(parallelism)
        .pool("warehouse", 2)
        .max_active_runs(30)
        .build()?;
    let backfill = daily_sales()?;
    let urgent = urgent_report()?;
    let first_day = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let days: Vec<RunHandle> = (0..30)
        .map(|day| {
            let date = first_day + Duration::days(day);
            executor.submit(&backfill, RunOptions::new().logical_date(date))
        })
        .collect::<taskflow::Result<_>>()?;
    let submitted_at = STARTED.load(Ordering::SeqCst);
    let report = executor.submit(&urgent, RunOptions::new())?.wait()?;
    let mut backfill_tasks = 0;
    for day in days {
        let day = day.wait()?;
        assert!(day.succeeded(), "{:?}", day.task_ids_in(TaskState::Failed));
        backfill_tasks += day.tasks().count();
    }
    let urgent_starts = ["urgent_extract", "urgent_transform", "urgent_load"]
        .iter()
        .map(|id| report.xcom::<usize>(id).map(|start| start - submitted_at))
        .collect::<taskflow::Result<Vec<_>>>()?;
    if print {
        print!("{report}");
        println!(
            "priority weights: urgent_extract {}, extract {}",
            urgent.priority_weight("urgent_extract")?,
            backfill.priority_weight("extract")?
        );
        println!("task starts (the urgent run was submitted after start #{submitted_at}):");
        for (number, task) in STARTS.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let mark = if task.starts_with("urgent") {
                "  <== urgent"
            } else {
                ""
            };
            if *number < submitted_at + 12 || !mark.is_empty() {
                println!("  #{number:>3} {task}{mark}");
            }
        }
    }
    Ok(Outcome {
        urgent_starts,
        backfill_tasks,
    })
}

fn main() -> taskflow::Result<()> {
    let outcome = run_scenario(2, true)?;
    println!("  ... {} backfill tasks in all", outcome.backfill_tasks);
    println!(
        "the urgent tasks started {:?} starts after the urgent run was submitted",
        outcome.urgent_starts
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_urgent_run_starts_ahead_of_the_waiting_backfill() {
        // One slot, so that the order is the queue's alone, not the OS's choice of threads.
        let outcome = run_scenario(1, false).unwrap();
        assert_eq!(outcome.backfill_tasks, 90);
        // At most one backfill task was in flight when the urgent run arrived; then its
        // tasks start one after another. Without priorities they would wait behind every
        // backfill task already queued.
        let last = *outcome.urgent_starts.last().unwrap();
        assert!(last <= 3, "urgent starts: {:?}", outcome.urgent_starts);
    }
}
