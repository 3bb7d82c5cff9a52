//! The history of tries in a report: every try and every sensor check, with its times and
//! how it ended, as Airflow's Gantt view shows them.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use taskflow::TryReport;
use taskflow::prelude::*;

fn gap(earlier: &TryReport, later: &TryReport) -> Duration {
    (later.start_date - earlier.end_date.unwrap())
        .to_std()
        .unwrap()
}

#[test]
fn each_try_of_a_retried_task_has_its_times_and_outcome() {
    #[task(retries = 2, retry_delay = "5m")]
    fn flaky(ctx: &Context) -> Result<u32, TaskError> {
        match ctx.try_number() {
            1 | 2 => Err(TaskError::msg("not yet")),
            _ => Ok(3),
        }
    }
    #[task]
    fn plain(n: u32) -> u32 {
        n
    }
    let report = Dag::build("tries", || {
        plain(flaky());
    })
    .unwrap()
    .test_with(RunOptions::new().log(false))
    .unwrap();
    let tries = report.task("flaky").unwrap().history;
    let outcome: Vec<(u32, TaskState)> = tries.iter().map(|t| (t.try_number, t.state)).collect();
    assert_eq!(
        outcome,
        [
            (1, TaskState::UpForRetry),
            (2, TaskState::UpForRetry),
            (3, TaskState::Success)
        ]
    );
    for pair in tries.windows(2) {
        assert!(gap(&pair[0], &pair[1]) >= Duration::from_secs(300));
    }
    let starts = report.task("flaky").unwrap().try_start_dates;
    assert_eq!(
        tries.iter().map(|t| t.start_date).collect::<Vec<_>>(),
        starts
    );
    assert_eq!(tries[2].end_date, report.task("flaky").unwrap().end_date);
    let plain = report.task("plain").unwrap().history;
    assert_eq!(plain.len(), 1);
    assert_eq!(plain[0].state, TaskState::Success);
    assert_eq!(
        Some(plain[0].start_date),
        report.task("plain").unwrap().start_date
    );
}

#[test]
fn each_check_of_a_rescheduled_sensor_is_its_own_bar_in_one_try() {
    static CHECKS: AtomicU32 = AtomicU32::new(0);
    #[sensor(poke_interval = "10m", timeout = "2h", mode = "reschedule")]
    fn third_time() -> bool {
        CHECKS.fetch_add(1, Ordering::SeqCst) >= 2
    }
    #[task]
    fn never_ran() {}
    #[task]
    fn fails() -> Result<(), TaskError> {
        Err(TaskError::msg("no"))
    }
    let report = Dag::build("checks", || {
        third_time();
        fails() >> never_ran();
    })
    .unwrap()
    .test_with(RunOptions::new().log(false))
    .unwrap();
    let checks = report.task("third_time").unwrap().history;
    let outcome: Vec<(u32, TaskState)> = checks.iter().map(|t| (t.try_number, t.state)).collect();
    assert_eq!(
        outcome,
        [
            (1, TaskState::UpForReschedule),
            (1, TaskState::UpForReschedule),
            (1, TaskState::Success)
        ]
    );
    for pair in checks.windows(2) {
        let waited = gap(&pair[0], &pair[1]);
        assert!(waited >= Duration::from_secs(600), "{waited:?}");
    }
    assert!(report.task("never_ran").unwrap().history.is_empty());
    let failed = report.task("fails").unwrap().history;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].state, TaskState::Failed);
}
