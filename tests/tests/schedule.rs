//! A DAG's schedule from code: its timetable, time zone, dates and catchup, and the runs they
//! ask for, as Airflow 3 computes them.

use taskflow::chrono::{DateTime, Utc};
use taskflow::prelude::*;
use taskflow::schedule::{DataInterval, Timetable};

#[task]
fn report() -> u32 {
    1
}

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// The logical dates of the runs `dag` asks for one after another as of `now`.
fn logical_dates(dag: &Dag, now: &str, most: usize) -> Vec<DateTime<Utc>> {
    let mut last: Option<DataInterval> = None;
    let mut dates = Vec::new();
    while dates.len() < most {
        let Some(info) = dag.next_dagrun_info(last.as_ref(), utc(now)) else {
            break;
        };
        dates.push(info.logical_date());
        last = Some(info.data_interval);
    }
    dates
}

#[test]
fn a_month_of_a_daily_schedule_with_catchup_asks_for_every_day_of_it() {
    let dag = Dag::builder("daily_report")
        .schedule("@daily")
        .start_date(utc("2026-01-01T00:00:00Z"))
        .end_date(utc("2026-01-31T00:00:00Z"))
        .catchup(true)
        .build(|| {
            report();
        })
        .unwrap();
    let dates = logical_dates(&dag, "2026-03-01T00:00:00Z", 100);
    assert_eq!(dates.len(), 31);
    for (day, date) in dates.iter().enumerate() {
        assert_eq!(*date, utc(&format!("2026-01-{:02}T00:00:00Z", day + 1)));
    }
    assert!(dag.time_restriction().catchup);
    assert_eq!(dag.timezone(), "UTC");
}

#[test]
fn without_catchup_a_dag_that_was_down_gets_only_its_latest_run() {
    let dag = Dag::builder("hourly")
        .schedule("@hourly")
        .start_date(utc("2026-01-01T00:00:00Z"))
        .build(|| {
            report();
        })
        .unwrap();
    let first = dag
        .next_dagrun_info(None, utc("2026-01-20T10:42:00Z"))
        .unwrap();
    assert_eq!(first.logical_date(), utc("2026-01-20T10:00:00Z"));
    assert_eq!(
        Timetable::run_id(&first),
        "scheduled__2026-01-20T10:00:00+00:00"
    );
}

#[test]
fn a_cron_schedule_is_read_in_the_dags_time_zone() {
    let dag = Dag::builder("seoul")
        .schedule("0 3 * * *")
        .timezone("Asia/Seoul")
        .start_date(utc("2026-01-01T00:00:00Z"))
        .catchup(true)
        .build(|| {
            report();
        })
        .unwrap();
    assert_eq!(
        logical_dates(&dag, "2026-01-03T00:00:00Z", 2),
        [utc("2026-01-01T18:00:00Z"), utc("2026-01-02T18:00:00Z")]
    );
}

#[test]
fn a_dag_without_a_schedule_asks_for_no_run() {
    let dag = Dag::build("manual_only", || {
        report();
    })
    .unwrap();
    assert!(dag.timetable().is_none());
    assert!(
        dag.next_dagrun_info(None, utc("2026-01-01T00:00:00Z"))
            .is_none()
    );
}

#[test]
fn bad_schedules_are_errors_when_the_dag_is_built() {
    let build = |builder: taskflow::DagBuilder| {
        builder
            .build(|| {
                report();
            })
            .unwrap_err()
            .to_string()
    };
    let error = build(Dag::builder("bad_cron").schedule("0 25 * * *"));
    assert!(error.contains("0 25 * * *"), "{error}");
    let error = build(
        Dag::builder("bad_zone")
            .schedule("@daily")
            .timezone("Nowhere/City"),
    );
    assert!(
        error.contains("unknown time zone `Nowhere/City`"),
        "{error}"
    );
    let error = build(Dag::builder("no_start").schedule("@daily").catchup(true));
    assert!(
        error.contains("catchup") && error.contains("start_date"),
        "{error}"
    );
    let error = build(
        Dag::builder("backwards")
            .schedule("@daily")
            .start_date(utc("2026-02-01T00:00:00Z"))
            .end_date(utc("2026-01-01T00:00:00Z")),
    );
    assert!(error.contains("end_date"), "{error}");
    let error = build(
        Dag::builder("instant_timeout")
            .schedule("@daily")
            .dagrun_timeout(std::time::Duration::ZERO),
    );
    assert!(error.contains("dagrun_timeout"), "{error}");
}
