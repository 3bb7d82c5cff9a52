//! Pictures of a run that does not go straight through: a nightly warehouse load whose
//! sensor waits for an export in reschedule mode, whose load fails its first try and is
//! retried five minutes later, whose e-mail fails (so its archive ends upstream_failed) and
//! whose gap check skips itself. The tasks sleep on the run's clock, so `dag.test()` runs
//! the night's hour in milliseconds of virtual time.
//!
//! It logs the run, prints the report's table and writes two pictures of the run:
//! - `target/nightly_load.html`, one self-contained page (open it in any browser, no
//!   network needed): the Gantt chart of every try, the graph coloured by state, the table;
//! - `target/nightly_load.dot`, the graph coloured by state for Graphviz
//!   (`dot -Tsvg target/nightly_load.dot -o nightly_load.svg`).
//!
//! Run it with `cargo run --example run_pictures`, or `cargo run --example run_pictures --
//! DIR` to write the pictures into `DIR`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use taskflow::RunReport;
use taskflow::prelude::*;

const MINUTE: Duration = Duration::from_secs(60);

/// Waits for the night's export, checking every five minutes and freeing its slot between
/// checks (reschedule mode); the export lands twelve minutes into the run.
#[sensor(poke_interval = "5m", mode = "reschedule")]
fn wait_for_export(ctx: &Context) -> bool {
    ctx.now() - ctx.logical_date() >= taskflow::chrono::Duration::minutes(12)
}

#[task]
async fn extract_orders(ctx: &Context) -> u32 {
    ctx.sleep(6 * MINUTE).await;
    1_250
}

#[task]
async fn extract_customers(ctx: &Context) -> u32 {
    ctx.sleep(4 * MINUTE).await;
    310
}

/// Loads the rows; its first try hits a deadlock and is retried five minutes later.
#[task(retries = 2, retry_delay = "5m")]
async fn load_warehouse(ctx: &Context, orders: u32, customers: u32) -> Result<u32, TaskError> {
    ctx.sleep(3 * MINUTE).await;
    if ctx.try_number() == 1 {
        return Err(TaskError::msg("deadlock detected; transaction rolled back"));
    }
    ctx.sleep(5 * MINUTE).await;
    Ok(orders + customers)
}

#[task]
async fn refresh_dashboard(ctx: &Context, rows: u32) -> u32 {
    ctx.sleep(3 * MINUTE).await;
    rows
}

#[task]
async fn email_report(ctx: &Context, rows: u32) -> Result<(), TaskError> {
    ctx.sleep(MINUTE).await;
    Err(TaskError::msg(format!(
        "smtp.example:587: connection refused (report of {rows} rows)"
    )))
}

#[task]
fn archive_report() {}

#[task]
async fn backfill_gaps(ctx: &Context) -> Result<(), TaskError> {
    ctx.sleep(2 * MINUTE).await;
    Err(TaskError::skip("no gaps since yesterday"))
}

#[dag]
fn nightly_load() {
    let rows = load_warehouse(extract_orders(), extract_customers());
    wait_for_export() >> rows;
    refresh_dashboard(rows);
    email_report(rows) >> archive_report();
    backfill_gaps();
}

/// Writes the page and the DOT of `report` into `dir`; their paths.
fn write_pictures(report: &RunReport, dir: &Path) -> std::io::Result<[PathBuf; 2]> {
    let (page, dot) = (dir.join("nightly_load.html"), dir.join("nightly_load.dot"));
    report.write_html(&page)?;
    std::fs::write(&dot, report.to_dot())?;
    Ok([page, dot])
}

#[cfg_attr(test, allow(dead_code))]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("target"), PathBuf::from);
    // dag.test() logs each state change on its virtual clock, then the report's table.
    let report = nightly_load().test()?;
    let [page, dot] = write_pictures(&report, &dir)?;
    println!("\nwrote {} and {}", page.display(), dot.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_night_retries_fails_skips_and_the_pictures_show_it() {
        let report = nightly_load()
            .unwrap()
            .test_with(RunOptions::new().log(false))
            .unwrap();
        assert_eq!(report.try_number("load_warehouse"), 2);
        assert_eq!(report.state("load_warehouse"), TaskState::Success);
        assert_eq!(report.state("email_report"), TaskState::Failed);
        assert_eq!(report.state("archive_report"), TaskState::UpstreamFailed);
        assert_eq!(report.state("backfill_gaps"), TaskState::Skipped);
        // The export lands at 12 minutes; the sensor sees it at its check at 15.
        let waited = report.task("wait_for_export").unwrap().duration.unwrap();
        assert!(waited >= 15 * MINUTE && waited < 16 * MINUTE, "{waited:?}");

        let dir = std::env::temp_dir().join(format!("taskflow-pictures-{}", std::process::id()));
        let [page, dot] = write_pictures(&report, &dir).unwrap();
        let page = std::fs::read_to_string(page).unwrap();
        assert!(
            page.contains("data-task=\"load_warehouse\" data-try=\"2\" data-state=\"success\"")
        );
        assert!(
            std::fs::read_to_string(dot)
                .unwrap()
                .contains("\"email_report\" [fillcolor=\"#ff0000\"")
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
