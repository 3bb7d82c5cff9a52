//! `#[dag]`'s schedule options make the same DAG as `DagBuilder`'s schedule methods: the
//! same timetable, dates, time zone, timeout and runs.

use std::time::Duration;

use taskflow::chrono::{DateTime, Utc};
use taskflow::prelude::*;
use taskflow::schedule::DataInterval;

#[task]
fn report() -> u32 {
    1
}

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// The runs `dag` asks for one after another as of `now`, at most `most`.
fn runs(dag: &Dag, now: &str, most: usize) -> Vec<DataInterval> {
    let mut last: Option<DataInterval> = None;
    let mut runs = Vec::new();
    while runs.len() < most {
        let Some(info) = dag.next_dagrun_info(last.as_ref(), utc(now)) else {
            break;
        };
        runs.push(info.data_interval);
        last = Some(info.data_interval);
    }
    runs
}

/// Asserts that `made` and `built` have the same schedule and ask for the same runs.
fn assert_same_schedule(made: &Dag, built: &Dag, now: &str) {
    assert_eq!(
        format!("{:?}", made.timetable()),
        format!("{:?}", built.timetable())
    );
    assert_eq!(made.time_restriction(), built.time_restriction());
    assert_eq!(made.timezone(), built.timezone());
    assert_eq!(made.dagrun_timeout(), built.dagrun_timeout());
    assert_eq!(runs(made, now, 50), runs(built, now, 50));
}

#[dag(
    schedule = "30 2 * * *",
    timezone = "Europe/Zurich",
    start_date = "2026-01-01",
    catchup = true,
    dagrun_timeout = "1h",
    max_active_runs = 2
)]
fn nightly() {
    report();
}

#[test]
fn a_dag_with_schedule_options_has_the_schedule_of_the_builder_made_one() {
    let made = nightly().unwrap();
    let built = Dag::builder("nightly")
        .schedule("30 2 * * *")
        .timezone("Europe/Zurich")
        .start_date(utc("2026-01-01T00:00:00Z"))
        .catchup(true)
        .dagrun_timeout(Duration::from_secs(3600))
        .max_active_runs(2)
        .build(|| {
            report();
        })
        .unwrap();
    assert_same_schedule(&made, &built, "2026-02-15T12:00:00Z");
    assert_eq!(made.dag_id(), "nightly");
    assert!(made.time_restriction().catchup);
    assert_eq!(made.timezone(), "Europe/Zurich");
    assert_eq!(made.dagrun_timeout(), Some(Duration::from_secs(3600)));
    let first = made
        .next_dagrun_info(None, utc("2026-01-03T00:00:00Z"))
        .unwrap();
    assert_eq!(first.logical_date(), utc("2026-01-01T01:30:00Z")); // 02:30 CET
    let due = runs(&made, "2026-02-15T12:00:00Z", 100)
        .into_iter()
        .filter(|run| run.end <= utc("2026-02-15T12:00:00Z"))
        .count();
    assert_eq!(
        due,
        31 + 15,
        "every night of January and of February to the 15th"
    );
}

#[dag(
    schedule = "30m",
    start_date = "2026-01-01T06:00:00+09:00",
    end_date = "2025-12-31T23:00:00Z"
)]
fn half_hourly() {
    report();
}

#[test]
fn rfc_3339_dates_keep_their_offset_and_an_interval_is_a_delta_timetable() {
    let made = half_hourly().unwrap();
    let built = Dag::builder("half_hourly")
        .schedule("30m")
        .start_date(utc("2025-12-31T21:00:00Z"))
        .end_date(utc("2025-12-31T23:00:00Z"))
        .build(|| {
            report();
        })
        .unwrap();
    assert_same_schedule(&made, &built, "2025-12-31T21:10:00Z");
    let restriction = made.time_restriction();
    assert_eq!(restriction.earliest, Some(utc("2025-12-31T21:00:00Z")));
    assert_eq!(restriction.latest, Some(utc("2025-12-31T23:00:00Z")));
    assert!(
        !restriction.catchup,
        "catchup is off by default, as in Airflow 3"
    );
    assert_eq!(made.timezone(), "UTC");
    assert_eq!(made.dagrun_timeout(), None);
}

#[dag(schedule = "@once", start_date = "2026-03-01")]
fn once() {
    report();
}

#[dag(schedule = "@weekly", catchup = false)]
fn weekly() {
    report();
}

#[test]
fn presets_become_the_timetables_the_builder_makes_of_them() {
    let made = once().unwrap();
    let built = Dag::builder("once")
        .schedule("@once")
        .start_date(utc("2026-03-01T00:00:00Z"))
        .build(|| {
            report();
        })
        .unwrap();
    assert_same_schedule(&made, &built, "2026-02-01T00:00:00Z");
    assert_eq!(runs(&made, "2026-02-01T00:00:00Z", 5).len(), 1);

    let made = weekly().unwrap();
    let built = Dag::builder("weekly")
        .schedule("@weekly")
        .catchup(false)
        .build(|| {
            report();
        })
        .unwrap();
    assert_same_schedule(&made, &built, "2026-02-04T00:00:00Z");
    let first = made
        .next_dagrun_info(None, utc("2026-02-04T00:00:00Z"))
        .unwrap();
    assert_eq!(first.logical_date(), utc("2026-02-08T00:00:00Z")); // the next Sunday
}

/// Declares a DAG with every schedule option given through `$x:literal` fragments.
// rustfmt indents an attribute inside a macro further on every run: left as written.
#[rustfmt::skip]
macro_rules! scheduled_dag {
    ($name:ident, $schedule:literal, $timezone:literal, $start:literal, $end:literal,
     $catchup:literal, $timeout:literal) => {
        #[dag(
            schedule = $schedule,
            timezone = $timezone,
            start_date = $start,
            end_date = $end,
            catchup = $catchup,
            dagrun_timeout = $timeout
        )]
        fn $name() {
            report();
        }
    };
}

scheduled_dag!(
    forwarded,
    "@hourly",
    "Asia/Seoul",
    "2026-01-01T09:00:00+09:00",
    "2026-01-01",
    true,
    "90m"
);

#[test]
fn schedule_options_forwarded_through_macro_rules_read_like_written_ones() {
    let made = forwarded().unwrap();
    let built = Dag::builder("forwarded")
        .schedule("@hourly")
        .timezone("Asia/Seoul")
        .start_date(utc("2026-01-01T00:00:00Z"))
        .end_date(utc("2026-01-01T00:00:00Z"))
        .catchup(true)
        .dagrun_timeout(Duration::from_secs(90 * 60))
        .build(|| {
            report();
        })
        .unwrap();
    assert_same_schedule(&made, &built, "2026-01-02T00:00:00Z");
    assert_eq!(
        runs(&made, "2026-01-02T00:00:00Z", 5)
            .iter()
            .map(|run| run.start)
            .collect::<Vec<_>>(),
        [utc("2026-01-01T00:00:00Z")],
        "one run: start and end date are the same instant, and both are inclusive"
    );
}
