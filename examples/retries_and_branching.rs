//! A daily exchange-rate load that shows what happens when a run does not go straight
//! through. `fetch_rates` calls a rates API that is down for its first two tries: it retries
//! (`retries = 3`, `retry_delay = "30s"`, exponential backoff) and an `on_retry_callback`
//! reports each failed try. `choose_load` is a branch: a `full_reload` when the set of
//! currencies changed, else an `incremental` load of the changed rates; the other path is
//! skipped, and `read_staged` joins them with `trigger_rule = "none_failed_min_one_success"`.
//! `anything_new` is a short-circuit that skips `publish` (which has an `execution_timeout`)
//! when nothing changed. The branches write into a temporary working directory made by a
//! setup task and removed by a teardown task, which runs whatever happens in between.
//!
//! `main` runs two days with `dag.test()`, which uses virtual time: the retry waits (30 s,
//! then at least 60 s) are skipped over instead of slept, so the run takes milliseconds while
//! the report shows the minutes that passed in the run.
//!
//! Run it with `cargo run --example retries_and_branching`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use taskflow::chrono::{TimeZone, Utc};
use taskflow::prelude::*;

/// Rates against the euro: currency -> units of it per euro.
type Rates = BTreeMap<String, f64>;

/// The API the rates come from (simulated: no request leaves the process).
const RATES_URL: &str = "https://rates.example/v1/latest?base=EUR";

/// How many tries the simulated API answers `503 Service Unavailable` to, in every run.
const OUTAGE_TRIES: u32 = 2;

/// What the `on_retry_callback` reported, as a pager would receive it.
static ALERTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The `on_retry_callback` of `fetch_rates`: called after each failed try that will be
/// retried, with the try's context and error.
fn announce_retry(ctx: &Context, error: Option<&TaskError>) {
    let error = error.map_or_else(String::new, ToString::to_string);
    let alert = format!("{} try {} failed: {error}", ctx.task_id(), ctx.try_number());
    println!("  on_retry_callback: {alert}; retrying after the retry delay");
    ALERTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .push(alert);
}

/// Makes the working directory of this run (a setup task: `remove_workdir` releases it).
#[task(setup)]
fn create_workdir() -> Result<PathBuf, TaskError> {
    static RUNS: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "taskflow-rates-{}-{}",
        std::process::id(),
        RUNS.fetch_add(1, Ordering::Relaxed)
    ));
    fs::create_dir_all(&dir)
        .map_err(|e| TaskError::msg(format!("cannot create {}: {e}", dir.display())))?;
    println!("  create_workdir: {}", dir.display());
    Ok(dir)
}

/// Fetches today's rates. The API is simulated: it serves `served`, after failing the first
/// [`OUTAGE_TRIES`] tries of every run. A failed try is retried after 30 s, then 60 s or
/// more (backoff doubles the delay and adds up to as much again as jitter).
#[task(
    retries = 3,
    retry_delay = "30s",
    retry_exponential_backoff,
    on_retry_callback = announce_retry
)]
fn fetch_rates(ctx: &Context, served: Rates) -> Result<Rates, TaskError> {
    if ctx.try_number() <= OUTAGE_TRIES {
        return Err(TaskError::msg(format!(
            "GET {RATES_URL}: 503 Service Unavailable"
        )));
    }
    println!(
        "  fetch_rates: try {} got {} rates",
        ctx.try_number(),
        served.len()
    );
    Ok(served)
}

/// The branch: a full reload when currencies were added or removed (or nothing is loaded
/// yet), else an incremental load. It returns the id of the task to follow.
#[task(branch)]
fn choose_load(fetched: &Rates, warehouse: &Rates) -> &'static str {
    let choice = if fetched.keys().eq(warehouse.keys()) {
        "incremental"
    } else {
        "full_reload"
    };
    println!("  choose_load: {choice}");
    choice
}

/// The file both load paths stage their rows in.
fn staged_csv(workdir: &Path) -> PathBuf {
    workdir.join("staged.csv")
}

fn write_staged<'a>(
    workdir: &Path,
    rows: impl Iterator<Item = (&'a String, &'a f64)>,
) -> Result<usize, TaskError> {
    let mut text = String::from("currency,per_euro\n");
    let mut count = 0;
    for (currency, rate) in rows {
        text.push_str(&format!("{currency},{rate}\n"));
        count += 1;
    }
    let path = staged_csv(workdir);
    fs::write(&path, text)
        .map_err(|e| TaskError::msg(format!("cannot write {}: {e}", path.display())))?;
    Ok(count)
}

/// Stages every fetched rate.
#[task]
fn full_reload(workdir: &Path, fetched: &Rates) -> Result<usize, TaskError> {
    let count = write_staged(workdir, fetched.iter())?;
    println!("  full_reload: staged all {count} rates");
    Ok(count)
}

/// Stages only the rates that differ from the warehouse.
#[task]
fn incremental(workdir: &Path, fetched: &Rates, warehouse: &Rates) -> Result<usize, TaskError> {
    let changed = fetched
        .iter()
        .filter(|&(currency, rate)| warehouse.get(currency) != Some(rate));
    let count = write_staged(workdir, changed)?;
    println!("  incremental: staged {count} changed rates");
    Ok(count)
}

/// Joins the two paths: one of them is skipped by the branch, so the default `all_success`
/// would skip this task too; `none_failed_min_one_success` runs it after the path taken.
#[task(trigger_rule = "none_failed_min_one_success")]
fn read_staged(workdir: &Path) -> Result<Rates, TaskError> {
    let path = staged_csv(workdir);
    let text = fs::read_to_string(&path)
        .map_err(|e| TaskError::msg(format!("cannot read {}: {e}", path.display())))?;
    let mut staged = Rates::new();
    for line in text.lines().skip(1) {
        let (currency, rate) = line
            .split_once(',')
            .ok_or_else(|| TaskError::msg(format!("bad staged row `{line}`")))?;
        let rate = rate
            .parse()
            .map_err(|e| TaskError::msg(format!("bad rate in `{line}`: {e}")))?;
        staged.insert(currency.to_owned(), rate);
    }
    Ok(staged)
}

/// The short-circuit: `false` skips everything downstream (`publish`), except teardown
/// tasks, which keep their own rule: the working directory is still removed.
#[task(short_circuit)]
fn anything_new(staged: &Rates) -> bool {
    println!("  anything_new: {} staged rates", staged.len());
    !staged.is_empty()
}

/// Publishes the staged rates over the warehouse's and returns the new warehouse. A try
/// that takes more than a minute (a hung upload) fails instead of blocking the run.
#[task(execution_timeout = "1m")]
fn publish(staged: Rates, warehouse: Rates) -> Rates {
    let mut published = warehouse;
    println!(
        "  publish: {}",
        staged
            .iter()
            .map(|(currency, rate)| format!("{currency} {rate}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    published.extend(staged);
    published
}

/// Removes the working directory (a teardown task: it runs once its setup succeeded, even
/// when tasks in between failed or were skipped).
#[task(teardown)]
fn remove_workdir(workdir: &Path) -> Result<(), TaskError> {
    fs::remove_dir_all(workdir)
        .map_err(|e| TaskError::msg(format!("cannot remove {}: {e}", workdir.display())))?;
    println!("  remove_workdir: removed {}", workdir.display());
    Ok(())
}

/// The DAG: `served` is what the simulated API serves today, `warehouse` the rates already
/// published.
#[dag]
fn exchange_rates(served: Rates, warehouse: Rates) {
    let workdir = create_workdir();
    let fetched = fetch_rates(served);
    let choice = choose_load(fetched, warehouse.clone());
    let full = full_reload(workdir, fetched);
    let incr = incremental(workdir, fetched, warehouse.clone());
    choice >> [full, incr];
    let staged = read_staged(workdir);
    [full, incr] >> staged;
    let go = anything_new(staged);
    let published = publish(staged, warehouse);
    go >> published;
    let cleanup = remove_workdir(workdir);
    workdir >> published >> cleanup; // setup >> work >> teardown
    workdir >> cleanup; // setup >> teardown
}

/// Rates from `(currency, per_euro)` pairs.
fn rates(pairs: &[(&str, f64)]) -> Rates {
    pairs.iter().map(|&(c, r)| (c.to_owned(), r)).collect()
}

/// The rates the API serves on both days of `main`.
fn served_rates() -> Rates {
    rates(&[
        ("CHF", 0.9418),
        ("GBP", 0.8571),
        ("JPY", 163.12),
        ("USD", 1.0842),
    ])
}

#[cfg_attr(test, allow(dead_code))]
fn main() -> taskflow::Result<()> {
    println!(
        "dag.test() runs in virtual time: the retry waits of fetch_rates (30 s, then 60 s or \
         more) are skipped over, not slept.\n"
    );
    let mut warehouse = Rates::new();
    for (day, title) in [(2, "nothing loaded yet"), (3, "the same rates again")] {
        let logical_date = Utc.with_ymd_and_hms(2026, 3, day, 16, 0, 0).unwrap();
        println!("{} ({title}):", logical_date.date_naive());
        let wall = Instant::now();
        // dag.test() logs each state change on its virtual clock, then the report's table.
        let report = exchange_rates(served_rates(), warehouse.clone())?
            .test_with(RunOptions::new().logical_date(logical_date))?;
        println!(
            "  run: {} in {:.1?} of run time, {:.1?} of wall time\n",
            report.state_of_run(),
            report.duration(),
            wall.elapsed()
        );
        if report.state("publish") == TaskState::Success {
            warehouse = report.xcom("publish")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use taskflow::RunReport;

    /// The waits between the tries of a task, in run time.
    fn waits(report: &RunReport, task_id: &str) -> Vec<Duration> {
        report
            .task(task_id)
            .unwrap()
            .try_start_dates
            .windows(2)
            .map(|pair| (pair[1] - pair[0]).to_std().unwrap())
            .collect()
    }

    fn states(report: &RunReport, task_ids: &[&str]) -> Vec<TaskState> {
        task_ids.iter().map(|id| report.state(id)).collect()
    }

    /// Checks the retries of `fetch_rates` and the teardown, common to every run.
    fn check_fetch_and_cleanup(report: &RunReport) {
        let fetch = report.task("fetch_rates").unwrap();
        assert_eq!((fetch.state, fetch.tries), (TaskState::Success, 3));
        assert_eq!(fetch.error, None);
        let waits = waits(report, "fetch_rates");
        assert_eq!(waits.len(), 2, "{waits:?}");
        let second = Duration::from_secs(1);
        // Backoff: 30 s doubled per failed try, plus jitter below the base.
        assert!(
            waits[0] >= 30 * second && waits[0] < 60 * second,
            "{waits:?}"
        );
        assert!(
            waits[1] >= 60 * second && waits[1] < 120 * second,
            "{waits:?}"
        );
        assert!(report.duration() >= 90 * second);
        let alerts = ALERTS.lock().unwrap();
        for try_number in 1..=OUTAGE_TRIES {
            let alert = format!(
                "fetch_rates try {try_number} failed: GET {RATES_URL}: 503 Service Unavailable"
            );
            assert!(alerts.contains(&alert), "missing `{alert}` in {alerts:?}");
        }
        drop(alerts);

        assert_eq!(report.state("create_workdir"), TaskState::Success);
        assert_eq!(report.state("remove_workdir"), TaskState::Success);
        let workdir: PathBuf = report.xcom("create_workdir").unwrap();
        assert!(!workdir.exists(), "{} is left behind", workdir.display());
    }

    #[test]
    fn a_first_load_takes_the_full_reload_path_and_publishes() {
        let started = Instant::now();
        let report = exchange_rates(served_rates(), Rates::new()).test().unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "virtual time: the retry waits are not slept"
        );
        assert!(report.succeeded());
        check_fetch_and_cleanup(&report);
        assert_eq!(report.xcom::<&str>("choose_load").unwrap(), "full_reload");
        assert_eq!(
            states(&report, &["full_reload", "incremental", "read_staged"]),
            [TaskState::Success, TaskState::Skipped, TaskState::Success]
        );
        assert_eq!(report.xcom::<usize>("full_reload").unwrap(), 4);
        assert_eq!(
            states(&report, &["anything_new", "publish"]),
            [TaskState::Success, TaskState::Success]
        );
        assert!(report.xcom::<bool>("anything_new").unwrap());
        assert_eq!(report.xcom::<Rates>("publish").unwrap(), served_rates());
    }

    #[test]
    fn changed_rates_are_loaded_incrementally() {
        let mut warehouse = served_rates();
        warehouse.insert("USD".to_owned(), 1.0791);
        let report = exchange_rates(served_rates(), warehouse).test().unwrap();
        assert!(report.succeeded());
        check_fetch_and_cleanup(&report);
        assert_eq!(report.xcom::<&str>("choose_load").unwrap(), "incremental");
        assert_eq!(
            states(&report, &["full_reload", "incremental", "read_staged"]),
            [TaskState::Skipped, TaskState::Success, TaskState::Success]
        );
        assert_eq!(
            report.xcom::<Rates>("read_staged").unwrap(),
            rates(&[("USD", 1.0842)])
        );
        assert_eq!(report.state("publish"), TaskState::Success);
        assert_eq!(report.xcom::<Rates>("publish").unwrap(), served_rates());
    }

    #[test]
    fn nothing_new_short_circuits_publish_but_not_the_teardown() {
        let report = exchange_rates(served_rates(), served_rates())
            .test()
            .unwrap();
        assert!(report.succeeded());
        check_fetch_and_cleanup(&report);
        assert_eq!(
            states(&report, &["full_reload", "incremental", "read_staged"]),
            [TaskState::Skipped, TaskState::Success, TaskState::Success]
        );
        assert_eq!(report.xcom::<usize>("incremental").unwrap(), 0);
        assert_eq!(report.state("anything_new"), TaskState::Success);
        assert!(!report.xcom::<bool>("anything_new").unwrap());
        assert_eq!(report.state("publish"), TaskState::Skipped);
    }

    #[test]
    fn a_fetch_that_never_recovers_fails_the_run_and_still_cleans_up() {
        // Only the task functions are reused: a DAG whose API is down for good.
        #[task(retries = 1, retry_delay = "30s")]
        fn fetch_down() -> Result<Rates, TaskError> {
            Err(TaskError::msg("503 Service Unavailable"))
        }
        let report = Dag::build("rates_down", || {
            let workdir = create_workdir();
            let fetched = fetch_down();
            let full = full_reload(workdir, fetched);
            let cleanup = remove_workdir(workdir);
            workdir >> full >> cleanup;
        })
        .unwrap()
        .test()
        .unwrap();
        assert!(!report.succeeded());
        assert_eq!(report.state("fetch_down"), TaskState::Failed);
        assert_eq!(report.try_number("fetch_down"), 2);
        assert_eq!(report.state("full_reload"), TaskState::UpstreamFailed);
        assert_eq!(report.state("remove_workdir"), TaskState::Success);
        let workdir: PathBuf = report.xcom("create_workdir").unwrap();
        assert!(!workdir.exists());
    }
}
