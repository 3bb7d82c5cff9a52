//! A user's binary speaking Airflow's command line through `taskflow::cli`, run by
//! `tests/tests/cli.rs`. Its DAGs:
//! - `sales`: `extract >> transform >> load`, daily from 2026-01-01 with catchup; `load`
//!   runs in the pool `warehouse`, which the program declares, and fails when the run's
//!   conf has `"fail": true`;
//! - `intervals`: one task that prints a line, on Airflow 2's daily data intervals from
//!   2026-01-01;
//! - `adhoc`: no schedule; a task mapped over two values, then their sum;
//! - `hourly`: one task, hourly from 2020-01-01 without catchup, so that a scheduler
//!   started now makes only its latest run.
//!
//! With `PIPELINES_BROKEN=1` in the environment it also gets a DAG whose body fails to
//! build, as a user's DAG function might; with `PIPELINES_NO_POOLS=1` it declares no pool.

use taskflow::prelude::*;
use taskflow::schedule::Timetable;

#[task]
fn extract() -> Vec<u32> {
    vec![3, 4, 5]
}

#[task]
fn transform(rows: Vec<u32>) -> u32 {
    rows.iter().sum()
}

#[task(pool = "warehouse")]
fn load(ctx: &Context, total: u32) -> Result<u32, TaskError> {
    if ctx.params().get::<bool>("fail").unwrap_or(false) {
        return Err(TaskError::msg("the warehouse is read-only"));
    }
    Ok(total)
}

#[task]
fn report() -> &'static str {
    println!("report: written");
    "done"
}

#[task]
fn double(value: u32) -> u32 {
    value * 2
}

#[task]
fn sum(values: Vec<u32>) -> u32 {
    values.iter().sum()
}

fn start() -> taskflow::chrono::DateTime<taskflow::chrono::Utc> {
    "2026-01-01T00:00:00Z".parse().expect("a date")
}

fn sales() -> taskflow::Result<Dag> {
    Dag::builder("sales")
        .schedule("@daily")
        .start_date(start())
        .catchup(true)
        .build(|| {
            load(transform(extract()));
        })
}

fn intervals() -> taskflow::Result<Dag> {
    Dag::builder("intervals")
        .timetable(Timetable::cron_data_intervals("0 0 * * *", "UTC")?)
        .start_date(start())
        .catchup(true)
        .build(|| {
            report();
        })
}

fn adhoc() -> taskflow::Result<Dag> {
    Dag::build("adhoc", || {
        sum(double::expand(each(vec![1_u32, 2])));
    })
}

#[task]
fn tick(ctx: &Context) -> String {
    ctx.logical_date().to_rfc3339()
}

fn hourly() -> taskflow::Result<Dag> {
    Dag::builder("hourly")
        .schedule("@hourly")
        .start_date("2020-01-01T00:00:00Z".parse().expect("a date"))
        .build(|| {
            tick();
        })
}

fn broken() -> taskflow::Result<Dag> {
    Dag::build("broken", || -> Result<(), String> {
        report();
        Err("no config file".to_owned())
    })
}

fn main() -> std::process::ExitCode {
    let mut cli = taskflow::cli::Cli::new()
        .dag(sales())
        .dag(intervals())
        .dag(adhoc())
        .dag(hourly());
    if std::env::var_os("PIPELINES_NO_POOLS").is_none() {
        cli = cli.pool("warehouse", 2);
    }
    if std::env::var_os("PIPELINES_BROKEN").is_some() {
        cli = cli.dag(broken());
    }
    cli.run()
}
