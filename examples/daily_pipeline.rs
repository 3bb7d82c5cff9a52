//! A scheduler running pipelines for a few days on the virtual clock: a daily sales pipeline
//! at 03:00 in Zurich (across the spring change of clocks), an hourly metrics job, a
//! backfill of the week before, and a run triggered by hand, all kept in a SQLite store.
//!
//! ```text
//! cargo run --example daily_pipeline
//! ```
//!
//! Five virtual days take well under a second. To copy it: keep [`daily_sales`] (its
//! schedule is three builder lines) and [`schedule`]; on a real clock, build the executor
//! with `Executor::new()` and call `scheduler.run_until(..)` (or `run_for`) from `main`.

use std::sync::Arc;

use taskflow::Executor;
use taskflow::chrono::{DateTime, Utc};
use taskflow::prelude::*;
use taskflow::scheduler::{Backfill, Scheduler};
use taskflow::store::{DagRunRecord, SqliteStore, Store};

#[task]
fn extract(ctx: &Context) -> Vec<f64> {
    // The day's orders: what a query for the data interval would return.
    let day = ctx.data_interval_start().timestamp() / 86_400;
    (0..24)
        .map(|hour| ((day * 7 + hour) % 50) as f64 + 0.5)
        .collect()
}

#[task]
fn total(orders: Vec<f64>) -> f64 {
    orders.iter().sum()
}

#[task]
fn publish(ctx: &Context, total: f64) -> String {
    format!("{}: {total:.1}", ctx.logical_date().format("%Y-%m-%d"))
}

/// The daily pipeline: at 03:00 in Zurich, every day since 2026-03-20, missed days caught
/// up.
pub fn daily_sales() -> taskflow::Result<Dag> {
    Dag::builder("daily_sales")
        .schedule("0 3 * * *")
        .timezone("Europe/Zurich")
        .start_date(utc("2026-03-20T00:00:00Z"))
        .catchup(true)
        .max_active_runs(2)
        .build(|| {
            publish(total(extract()));
        })
}

#[task]
fn sample(ctx: &Context) -> i64 {
    ctx.logical_date().timestamp() % 1000
}

/// Hourly metrics, without catchup: only the latest missed hour runs.
pub fn hourly_metrics() -> taskflow::Result<Dag> {
    Dag::builder("hourly_metrics")
        .schedule("@hourly")
        .start_date(utc("2026-01-01T00:00:00Z"))
        .build(|| {
            sample();
        })
}

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().expect("a valid date")
}

/// Runs the scheduler from 2026-03-27 to 2026-03-31 on the virtual clock, with a backfill
/// of the week before and a triggered run; the store keeps every run.
pub fn schedule(store: Arc<SqliteStore>) -> taskflow::Result<()> {
    let executor = Executor::builder()
        .virtual_start(utc("2026-03-27T00:00:00Z"))
        .build()?;
    let scheduler = Scheduler::builder(executor, store)
        .dag(daily_sales()?)
        .dag(hourly_metrics()?)
        .build()?;
    scheduler.backfill(&Backfill::new(
        "hourly_metrics",
        utc("2026-03-26T00:00:00Z"),
        utc("2026-03-26T23:00:00Z"),
    ))?;
    let mut params = Params::new();
    params.insert("reason", "a late correction");
    scheduler.trigger("daily_sales", params)?;
    scheduler.run_until(utc("2026-03-31T12:00:00Z"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("taskflow-daily-pipeline-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store = Arc::new(SqliteStore::open(dir.join("runs.db"))?);
    let started = std::time::Instant::now();
    schedule(Arc::clone(&store))?;
    let runs = store.dag_runs("daily_sales", 100, 0)?;
    println!("daily_sales: {} runs", runs.len());
    println!(
        "{:<42} {:<10} {:<10} {:<33} published",
        "run id", "type", "state", "local time"
    );
    for run in runs.iter().rev() {
        let published: Option<String> = store.xcom("daily_sales", &run.run_id, "publish", None)?;
        println!(
            "{:<42} {:<10} {:<10} {:<33} {}",
            run.run_id,
            run.run_type,
            run.state.as_str(),
            zurich(run),
            published.unwrap_or_default()
        );
    }
    let hourly = store.dag_runs("hourly_metrics", usize::MAX, 0)?;
    let backfilled = hourly
        .iter()
        .filter(|run| run.run_type == "backfill")
        .count();
    println!(
        "hourly_metrics: {} runs ({backfilled} of them the backfill of 2026-03-26)",
        hourly.len()
    );
    println!("five virtual days in {:.2?}", started.elapsed());
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// When the run's logical date is on the clock in Zurich.
fn zurich(run: &DagRunRecord) -> String {
    let zurich: taskflow::chrono::FixedOffset = if run.logical_date < utc("2026-03-29T01:00:00Z") {
        taskflow::chrono::FixedOffset::east_opt(3600).expect("an offset")
    } else {
        taskflow::chrono::FixedOffset::east_opt(7200).expect("an offset")
    };
    run.logical_date.with_timezone(&zurich).to_rfc3339()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pipeline_runs_at_three_in_zurich_before_and_after_the_change_of_clocks() {
        let dir = std::env::temp_dir().join(format!(
            "taskflow-daily-pipeline-test-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let store = Arc::new(SqliteStore::open(dir.join("runs.db")).unwrap());
        // Bounded: a scheduler that hangs fails the test.
        let (done, finished) = std::sync::mpsc::channel();
        let scheduled = Arc::clone(&store);
        std::thread::spawn(move || {
            let _ = done.send(schedule(scheduled));
        });
        finished
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("five virtual days within a minute")
            .unwrap();
        let mut runs = store.dag_runs("daily_sales", 100, 0).unwrap();
        runs.reverse();
        let scheduled: Vec<String> = runs
            .iter()
            .filter(|run| run.run_type == "scheduled")
            .map(|run| run.run_id.clone())
            .collect();
        // 03:00 is 02:00 UTC until the 29th, 01:00 UTC from then on; every day since the
        // start date, caught up.
        assert_eq!(scheduled.len(), 12);
        assert_eq!(scheduled[0], "scheduled__2026-03-20T02:00:00+00:00");
        assert_eq!(scheduled[8], "scheduled__2026-03-28T02:00:00+00:00");
        assert_eq!(scheduled[9], "scheduled__2026-03-29T01:00:00+00:00");
        assert_eq!(scheduled[11], "scheduled__2026-03-31T01:00:00+00:00");
        assert!(
            runs.iter()
                .all(|run| run.state == taskflow::DagRunState::Success)
        );
        let manual = runs.iter().find(|run| run.run_type == "manual").unwrap();
        assert_eq!(
            manual.params.get::<String>("reason").unwrap(),
            "a late correction"
        );
        let hourly = store.dag_runs("hourly_metrics", usize::MAX, 0).unwrap();
        assert_eq!(
            hourly
                .iter()
                .filter(|run| run.run_type == "backfill")
                .count(),
            24
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
