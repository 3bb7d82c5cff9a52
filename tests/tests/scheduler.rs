//! The embedded scheduler on the virtual clock: runs created when due, with Airflow 3's run
//! ids, logical dates and data intervals; catchup; `max_active_runs`; restarts without a
//! duplicate or a missing run; pausing; triggered runs; backfills.

use std::sync::Arc;
use std::time::Duration;

use taskflow::chrono::{DateTime, Utc};
use taskflow::prelude::*;
use taskflow::scheduler::{Backfill, Reprocess, Scheduler};
use taskflow::store::{DagRunRecord, SqliteStore, Store};
use taskflow::{DagRunState, Executor};
use taskflow_tests::bounded::within;
use taskflow_tests::folder::Folder;
use wait_timeout::ChildExt;

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// What a task saw of its run: the logical date and the data interval, as RFC 3339.
#[task]
fn seen(ctx: &Context) -> (String, String, String) {
    (
        ctx.logical_date().to_rfc3339(),
        ctx.data_interval_start().to_rfc3339(),
        ctx.data_interval_end().to_rfc3339(),
    )
}

/// Takes `hours` of virtual time.
#[task]
async fn busy(ctx: &Context, hours: u64) {
    ctx.sleep(Duration::from_secs(hours * 3600)).await;
}

#[task]
fn fails_before_march(ctx: &Context) -> Result<(), TaskError> {
    if ctx.params().get::<bool>("fixed").unwrap_or(false) {
        return Ok(());
    }
    Err(TaskError::msg("the source was not there yet"))
}

fn store(test: &str) -> (Folder, Arc<SqliteStore>) {
    let folder = Folder::new("scheduler", test);
    let store = Arc::new(SqliteStore::open(folder.file("runs.db")).unwrap());
    (folder, store)
}

/// Runs a scheduler of `dags` on a virtual clock from `start` until `until`, bounded.
fn run_scheduler(store: &Arc<SqliteStore>, start: &str, dags: Vec<Dag>, until: &str) {
    let scheduler = Scheduler::builder(executor(start), store.clone())
        .dags(dags)
        .build()
        .unwrap();
    let until = utc(until);
    within(Duration::from_secs(120), "the scheduler", move || {
        scheduler.run_until(until).unwrap()
    });
}

fn executor(start: &str) -> Executor {
    Executor::builder()
        .virtual_start(utc(start))
        .build()
        .unwrap()
}

/// Every run of `dag_id` in the store, oldest logical date first.
fn runs(store: &SqliteStore, dag_id: &str) -> Vec<DagRunRecord> {
    let mut runs = store.dag_runs(dag_id, usize::MAX, 0).unwrap();
    runs.reverse();
    runs
}

fn ids(runs: &[DagRunRecord]) -> Vec<&str> {
    runs.iter().map(|run| run.run_id.as_str()).collect()
}

fn daily(dag_id: &str, catchup: bool) -> Dag {
    Dag::builder(dag_id)
        .schedule("@daily")
        .start_date(utc("2026-01-01T00:00:00Z"))
        .catchup(catchup)
        .build(|| {
            seen();
        })
        .unwrap()
}

#[test]
fn a_month_of_daily_and_hourly_schedules_runs_each_run_when_due_with_its_interval() {
    let (_folder, store) = store("month");
    let hourly = Dag::builder("hourly")
        .schedule("0 * * * *")
        .start_date(utc("2026-01-01T00:00:00Z"))
        .end_date(utc("2026-01-31T00:00:00Z"))
        .catchup(true)
        .build(|| {
            seen();
        })
        .unwrap();
    let nightly = Dag::builder("nightly")
        .schedule("30 2 * * *")
        .timezone("Europe/Zurich")
        .start_date(utc("2026-01-01T00:00:00Z"))
        .build(|| {
            seen();
        })
        .unwrap();
    let intervals = Dag::builder("intervals")
        .timetable(taskflow::schedule::Timetable::cron_data_intervals("@daily", "UTC").unwrap())
        .start_date(utc("2026-01-01T00:00:00Z"))
        .build(|| {
            seen();
        })
        .unwrap();
    run_scheduler(
        &store,
        "2026-01-01T00:00:00Z",
        vec![daily("daily", false), hourly, nightly, intervals],
        "2026-02-01T00:00:00Z",
    );

    let daily = runs(&store, "daily");
    assert_eq!(daily.len(), 32, "{:?}", ids(&daily)); // Jan 1 to Feb 1, both included
    for (day, run) in daily.iter().enumerate() {
        let date = utc("2026-01-01T00:00:00Z") + taskflow::chrono::Duration::days(day as i64);
        let iso = date.to_rfc3339();
        assert_eq!(run.run_id, format!("scheduled__{iso}"));
        assert_eq!(run.run_type, "scheduled");
        assert_eq!(run.state, DagRunState::Success);
        assert_eq!(run.logical_date, date);
        assert_eq!(
            (run.data_interval_start, run.data_interval_end),
            (Some(date), Some(date))
        );
        // It started when due: at its logical date, on the virtual clock.
        let started = run.start_date.unwrap();
        assert!(
            started >= date && (started - date).num_seconds() < 5,
            "{run:?}"
        );
        let value: (String, String, String) = store
            .xcom("daily", &run.run_id, "seen", None)
            .unwrap()
            .unwrap();
        assert_eq!(value, (iso.clone(), iso.clone(), iso));
    }

    let hourly = runs(&store, "hourly");
    // 30 days of 24 runs and the end date's own run (the end date is inclusive).
    assert_eq!(hourly.len(), 30 * 24 + 1);
    assert_eq!(
        hourly.last().unwrap().logical_date,
        utc("2026-01-31T00:00:00Z")
    );
    for pair in hourly.windows(2) {
        assert_eq!(
            (pair[1].logical_date - pair[0].logical_date).num_minutes(),
            60
        );
    }

    // 02:30 in Zurich is 01:30 UTC in winter.
    let nightly = runs(&store, "nightly");
    assert_eq!(nightly.len(), 31);
    assert_eq!(nightly[0].logical_date, utc("2026-01-01T01:30:00Z"));
    assert_eq!(nightly[30].logical_date, utc("2026-01-31T01:30:00Z"));

    // A data-interval timetable runs a day's interval once the day is over.
    let intervals = runs(&store, "intervals");
    assert_eq!(intervals.len(), 31);
    let first = &intervals[0];
    assert_eq!(first.logical_date, utc("2026-01-01T00:00:00Z"));
    assert_eq!(first.data_interval_end, Some(utc("2026-01-02T00:00:00Z")));
    let started = first.start_date.unwrap();
    assert!(started >= utc("2026-01-02T00:00:00Z"), "{first:?}");
    let value: (String, String, String) = store
        .xcom("intervals", &first.run_id, "seen", None)
        .unwrap()
        .unwrap();
    assert_eq!(value.1, "2026-01-01T00:00:00+00:00");
    assert_eq!(value.2, "2026-01-02T00:00:00+00:00");
}

#[test]
fn without_catchup_a_dag_started_late_gets_only_its_latest_run() {
    let (_folder, store) = store("no_catchup");
    // The clock starts on the 10th at noon; the schedule started on the 1st.
    run_scheduler(
        &store,
        "2026-01-10T12:00:00Z",
        vec![daily("late", false)],
        "2026-01-12T06:00:00Z",
    );
    let late = runs(&store, "late");
    assert_eq!(
        ids(&late),
        [
            "scheduled__2026-01-10T00:00:00+00:00",
            "scheduled__2026-01-11T00:00:00+00:00",
            "scheduled__2026-01-12T00:00:00+00:00",
        ]
    );
    // The missed run of the 10th started at once, not at its logical date.
    assert!(late[0].start_date.unwrap() >= utc("2026-01-10T12:00:00Z"));
}

#[test]
fn with_catchup_a_dag_started_late_runs_every_missed_interval() {
    let (_folder, store) = store("catchup");
    run_scheduler(
        &store,
        "2026-01-10T12:00:00Z",
        vec![daily("late", true)],
        "2026-01-12T06:00:00Z",
    );
    let late = runs(&store, "late");
    assert_eq!(late.len(), 12); // the 1st to the 12th
    assert_eq!(late[0].run_id, "scheduled__2026-01-01T00:00:00+00:00");
    assert!(late.iter().all(|run| run.state == DagRunState::Success));
}

#[test]
fn a_restarted_scheduler_goes_on_without_a_duplicate_or_a_missing_run() {
    let (_folder, store) = store("restart");
    for (start, until) in [
        ("2026-01-01T00:00:00Z", "2026-01-05T12:00:00Z"),
        // The second scheduler starts where the first stopped.
        ("2026-01-05T12:00:00Z", "2026-01-10T12:00:00Z"),
    ] {
        let scheduler = Scheduler::builder(executor(start), store.clone())
            .dag(daily("daily", true))
            .build()
            .unwrap();
        within(Duration::from_secs(60), "the scheduler", move || {
            scheduler.run_until(utc(until)).unwrap()
        });
    }
    let daily = runs(&store, "daily");
    let expected: Vec<String> = (1..=10)
        .map(|day| format!("scheduled__2026-01-{day:02}T00:00:00+00:00"))
        .collect();
    assert_eq!(ids(&daily), expected);
}

#[test]
fn a_scheduler_killed_mid_run_resumes_that_run_and_goes_on_without_a_duplicate() {
    let (folder, store) = store("killed");
    let path = folder.file("runs.db");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_scheduler_child"))
        .arg(&path)
        .spawn()
        .unwrap();
    // Bounded, and killed if it overruns: a hung child must not outlive the test.
    let status = match child.wait_timeout(Duration::from_secs(60)).unwrap() {
        Some(status) => status,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the child scheduler was still running after 60 s");
        }
    };
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.signal(),
        Some(9),
        "the child was to kill itself: {status:?}"
    );
    let before = runs(&store, "daily");
    // It died inside the run of the 4th: the store has it running, and the three before.
    assert_eq!(before.len(), 4, "{:?}", ids(&before));
    assert_eq!(before[3].state, DagRunState::Running);

    #[task]
    fn work(ctx: &Context) -> String {
        ctx.run_id().to_owned()
    }
    let dag = Dag::builder("daily")
        .schedule("@daily")
        .start_date(utc("2026-01-01T00:00:00Z"))
        .catchup(true)
        .build(|| {
            work();
        })
        .unwrap();
    run_scheduler(
        &store,
        "2026-01-04T00:00:10Z",
        vec![dag],
        "2026-01-06T12:00:00Z",
    );
    let after = runs(&store, "daily");
    let expected: Vec<String> = (1..=6)
        .map(|day| format!("scheduled__2026-01-{day:02}T00:00:00+00:00"))
        .collect();
    assert_eq!(ids(&after), expected);
    assert!(
        after.iter().all(|run| run.state == DagRunState::Success),
        "{after:?}"
    );
    // The run of the 4th kept its id, and its task's try that the kill cut short is kept
    // as interrupted.
    let tries = store.tries("daily", &expected[3], "work", None).unwrap();
    assert_eq!(tries.len(), 2, "{tries:?}");
    assert!(tries[0].interrupted);
}

#[test]
fn max_active_runs_keeps_runs_of_a_slow_dag_from_overlapping() {
    let (_folder, store) = store("max_active_runs");
    // Hourly runs of three hours each, at most two at once.
    let slow = Dag::builder("slow")
        .schedule("@hourly")
        .start_date(utc("2026-01-01T00:00:00Z"))
        .catchup(true)
        .max_active_runs(2)
        .build(|| {
            busy(3);
        })
        .unwrap();
    run_scheduler(
        &store,
        "2026-01-01T00:00:00Z",
        vec![slow],
        "2026-01-02T00:00:00Z",
    );
    let slow = runs(&store, "slow");
    assert!(slow.len() >= 10, "{}", slow.len());
    // At no instant were more than two runs running.
    for run in &slow {
        let at = run.start_date.unwrap();
        let overlapping = slow
            .iter()
            .filter(|other| other.start_date.unwrap() <= at && other.end_date.unwrap() > at)
            .count();
        assert!(overlapping <= 2, "{overlapping} runs at {at}");
    }
    // With catchup, no hour was left out: each run is the hour after the one before.
    for pair in slow.windows(2) {
        assert_eq!(
            (pair[1].logical_date - pair[0].logical_date).num_minutes(),
            60
        );
    }
}

#[test]
fn a_paused_dag_gets_no_runs_and_once_unpaused_only_its_latest_missed_one() {
    let (_folder, store) = store("pause");
    store.set_paused("daily", true).unwrap();
    let scheduler = Scheduler::builder(executor("2026-01-01T00:00:00Z"), store.clone())
        .dag(daily("daily", false))
        .build()
        .unwrap();
    let scheduler = Arc::new(scheduler);
    let looping = Arc::clone(&scheduler);
    within(Duration::from_secs(60), "the scheduler", move || {
        looping.run_until(utc("2026-01-05T12:00:00Z")).unwrap()
    });
    assert!(runs(&store, "daily").is_empty());
    scheduler.unpause("daily").unwrap();
    let looping = Arc::clone(&scheduler);
    within(Duration::from_secs(60), "the scheduler", move || {
        looping.run_until(utc("2026-01-06T12:00:00Z")).unwrap()
    });
    assert_eq!(
        ids(&runs(&store, "daily")),
        [
            "scheduled__2026-01-05T00:00:00+00:00",
            "scheduled__2026-01-06T00:00:00+00:00",
        ]
    );
}

#[test]
fn a_triggered_run_gets_its_params_and_a_manual_run_id() {
    let (_folder, store) = store("trigger");
    let manual = Dag::build("manual", || {
        fails_before_march();
    })
    .unwrap();
    let scheduler = Scheduler::builder(executor("2026-03-01T08:00:00Z"), store.clone())
        .dag(manual)
        .build()
        .unwrap();
    let mut params = Params::new();
    params.insert("fixed", true);
    let run_id = scheduler.trigger("manual", params).unwrap();
    // Airflow's manual run id: the trigger time, to the microsecond.
    assert!(
        run_id.starts_with("manual__2026-03-01T08:00:00"),
        "{run_id}"
    );
    let unknown = scheduler.trigger("nope", Params::new()).unwrap_err();
    assert_eq!(unknown.to_string(), "no dag `nope` here");
    within(Duration::from_secs(60), "the scheduler", move || {
        scheduler.run_for(Duration::from_secs(60)).unwrap()
    });
    let run = store.dag_run("manual", &run_id).unwrap().unwrap();
    assert_eq!(run.state, DagRunState::Success);
    assert_eq!(run.run_type, "manual");
    assert!(run.params.get::<bool>("fixed").unwrap());
}

#[test]
fn a_backfill_runs_its_range_oldest_first_within_its_own_max_active_runs() {
    let (_folder, store) = store("backfill");
    let dag = Dag::builder("daily")
        .schedule("@daily")
        .start_date(utc("2026-01-01T00:00:00Z"))
        .build(|| {
            busy(1);
        })
        .unwrap();
    let scheduler = Scheduler::builder(executor("2026-02-01T00:30:00Z"), store.clone())
        .dag(dag)
        .build()
        .unwrap();
    scheduler.pause("daily").unwrap(); // only the backfill's runs
    let backfill = Backfill::new(
        "daily",
        utc("2026-01-01T00:00:00Z"),
        utc("2026-01-10T00:00:00Z"),
    )
    .max_active_runs(2);
    let made = scheduler.backfill(&backfill).unwrap();
    assert_eq!(made.run_ids.len(), 10);
    assert_eq!(made.run_ids[0], "backfill__2026-01-01T00:00:00+00:00");
    // Paused, nothing starts; unpaused, the backfill runs.
    scheduler.unpause("daily").unwrap();
    within(Duration::from_secs(60), "the scheduler", move || {
        scheduler.run_for(Duration::from_secs(24 * 3600)).unwrap()
    });
    let backfilled: Vec<DagRunRecord> = runs(&store, "daily")
        .into_iter()
        .filter(|run| run.run_type == "backfill")
        .collect();
    assert_eq!(backfilled.len(), 10);
    assert!(
        backfilled
            .iter()
            .all(|run| run.backfill_id == Some(made.id))
    );
    for run in &backfilled {
        let at = run.start_date.unwrap();
        let overlapping = backfilled
            .iter()
            .filter(|other| other.start_date.unwrap() <= at && other.end_date.unwrap() > at)
            .count();
        assert!(overlapping <= 2, "{overlapping} backfill runs at {at}");
    }
    // Oldest first: start dates follow logical dates.
    for pair in backfilled.windows(2) {
        assert!(pair[0].start_date <= pair[1].start_date);
    }
    let record = &store.backfills("daily").unwrap()[0];
    assert!(record.completed_at.is_some());
}

#[test]
fn a_backfill_run_backwards_starts_with_the_newest_date() {
    let (_folder, store) = store("backwards");
    let dag = daily("daily", false);
    let scheduler = Scheduler::builder(executor("2026-02-01T00:30:00Z"), store.clone())
        .dag(dag)
        .build()
        .unwrap();
    let backfill = Backfill::new(
        "daily",
        utc("2026-01-01T00:00:00Z"),
        utc("2026-01-05T00:00:00Z"),
    )
    .max_active_runs(1)
    .run_backwards(true);
    let made = scheduler.backfill(&backfill).unwrap();
    assert_eq!(made.run_ids[0], "backfill__2026-01-05T00:00:00+00:00");
    within(Duration::from_secs(60), "the scheduler", move || {
        scheduler.run_for(Duration::from_secs(3600)).unwrap()
    });
    let mut backfilled: Vec<DagRunRecord> = runs(&store, "daily")
        .into_iter()
        .filter(|run| run.run_type == "backfill")
        .collect();
    backfilled.sort_by_key(|run| run.start_date);
    let order: Vec<_> = backfilled.iter().map(|run| run.logical_date).collect();
    let mut newest_first = order.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(order, newest_first);
}

#[test]
fn a_backfill_reprocesses_failed_runs_only_when_told_and_keeps_their_ids() {
    let (_folder, store) = store("reprocess");
    let dag = Dag::builder("flaky")
        .schedule("@daily")
        .start_date(utc("2026-01-01T00:00:00Z"))
        .end_date(utc("2026-01-03T00:00:00Z"))
        .catchup(true)
        .build(|| {
            fails_before_march();
        })
        .unwrap();
    let scheduler = Scheduler::builder(executor("2026-01-01T00:00:00Z"), store.clone())
        .dag(dag)
        .build()
        .unwrap();
    let scheduler = Arc::new(scheduler);
    let looping = Arc::clone(&scheduler);
    within(Duration::from_secs(60), "the scheduler", move || {
        looping.run_until(utc("2026-01-03T12:00:00Z")).unwrap()
    });
    let flaky = runs(&store, "flaky");
    assert!(
        flaky.iter().all(|run| run.state == DagRunState::Failed),
        "{flaky:?}"
    );
    let range = (utc("2026-01-01T00:00:00Z"), utc("2026-01-03T00:00:00Z"));
    let mut fixed = Params::new();
    fixed.insert("fixed", true);
    // `none` leaves the existing runs.
    let none = Backfill::new("flaky", range.0, range.1).params(fixed.clone());
    let made = scheduler.backfill(&none).unwrap();
    assert!(made.run_ids.is_empty());
    assert_eq!(made.skipped.len(), 3);
    assert_eq!(made.skipped[0].1, "already exists");
    // `failed` runs them again, under their own ids.
    let failed = none.clone().reprocess_behavior(Reprocess::Failed);
    let made = scheduler.backfill(&failed).unwrap();
    assert_eq!(made.run_ids[0], "scheduled__2026-01-01T00:00:00+00:00");
    let looping = Arc::clone(&scheduler);
    within(Duration::from_secs(60), "the scheduler", move || {
        looping.run_for(Duration::from_secs(3600)).unwrap()
    });
    let flaky = runs(&store, "flaky");
    assert_eq!(flaky.len(), 3, "{:?}", ids(&flaky));
    assert!(
        flaky.iter().all(|run| run.state == DagRunState::Success),
        "{flaky:?}"
    );
    assert!(flaky.iter().all(|run| run.run_type == "backfill"));
}

#[task]
fn after() -> u32 {
    1
}

#[test]
fn a_run_past_its_dagrun_timeout_fails_and_its_unfinished_tasks_are_skipped() {
    let (_folder, store) = store("dagrun_timeout");
    // Runs of one hour at most; the first task takes three.
    let slow = Dag::builder("slow")
        .schedule("@daily")
        .start_date(utc("2026-01-01T00:00:00Z"))
        .dagrun_timeout(Duration::from_secs(3600))
        .build(|| {
            busy(3) >> after();
        })
        .unwrap();
    run_scheduler(
        &store,
        "2026-01-01T00:00:00Z",
        vec![slow],
        "2026-01-02T06:00:00Z",
    );
    let slow = runs(&store, "slow");
    assert_eq!(slow.len(), 2);
    for run in &slow {
        assert_eq!(run.state, DagRunState::Failed, "{run:?}");
        let took = run.end_date.unwrap() - run.start_date.unwrap();
        assert_eq!(took.num_minutes(), 60, "{run:?}");
        let states: Vec<_> = store
            .task_instances("slow", &run.run_id)
            .unwrap()
            .into_iter()
            .map(|ti| (ti.task_id, ti.state))
            .collect();
        assert_eq!(
            states,
            [
                ("busy".to_owned(), TaskState::Skipped),
                ("after".to_owned(), TaskState::Skipped)
            ]
        );
    }
}

/// Loads one day of history for an hour.
#[task(priority_weight = 1)]
async fn load_day(ctx: &Context) {
    ctx.sleep(Duration::from_secs(3600)).await;
}

/// The morning report: urgent.
#[task(priority_weight = 1000)]
fn morning_report(ctx: &Context) -> String {
    ctx.run_id().to_owned()
}

#[test]
fn a_long_backfill_does_not_hold_back_a_high_priority_daily_run() {
    let (_folder, store) = store("backfill_vs_live");
    let history = Dag::builder("history")
        .schedule("@daily")
        .start_date(utc("2025-01-01T00:00:00Z"))
        .build(|| {
            load_day();
        })
        .unwrap();
    let report = Dag::builder("report")
        .schedule("0 6 * * *")
        .start_date(utc("2026-01-01T00:00:00Z"))
        .build(|| {
            morning_report();
        })
        .unwrap();
    // Two tries at once on this executor; the backfill alone keeps both busy for 90 hours.
    let executor = Executor::builder()
        .virtual_start(utc("2026-01-01T05:00:00Z"))
        .parallelism(2)
        .build()
        .unwrap();
    let scheduler = Scheduler::builder(executor, store.clone())
        .dag(history)
        .dag(report)
        .build()
        .unwrap();
    let backfill = Backfill::new(
        "history",
        utc("2025-06-01T00:00:00Z"),
        utc("2025-08-30T00:00:00Z"),
    )
    .max_active_runs(10);
    assert_eq!(scheduler.backfill(&backfill).unwrap().run_ids.len(), 91);
    within(Duration::from_secs(120), "the scheduler", move || {
        scheduler.run_until(utc("2026-01-03T07:00:00Z")).unwrap()
    });
    // The report ran every morning within the hour its slot took to free, ahead of every
    // backfill task that was waiting.
    let loads: Vec<DateTime<Utc>> = runs(&store, "history")
        .iter()
        .filter(|run| run.run_type == "backfill")
        .flat_map(|run| store.task_instances("history", &run.run_id).unwrap())
        .filter_map(|ti| ti.start_date)
        .collect();
    for report in runs(&store, "report") {
        let due = report.logical_date;
        let started = store.task_instances("report", &report.run_id).unwrap()[0]
            .start_date
            .unwrap();
        assert!(
            started - due <= taskflow::chrono::Duration::hours(1),
            "{started} for {due}"
        );
        let overtaken = loads
            .iter()
            .filter(|&&load| load > due && load < started)
            .count();
        assert_eq!(
            overtaken, 0,
            "backfill tasks started between {due} and {started}"
        );
    }
    assert_eq!(runs(&store, "report").len(), 3); // the 1st, 2nd and 3rd
}

#[test]
fn a_run_that_ends_in_time_is_not_failed_by_its_dagrun_timeout_timer() {
    let (_folder, store) = store("timeout_in_time");
    let quick = Dag::builder("quick")
        .schedule("@daily")
        .start_date(utc("2026-01-01T00:00:00Z"))
        .catchup(true)
        .dagrun_timeout(Duration::from_secs(12 * 3600))
        .build(|| {
            seen();
        })
        .unwrap();
    run_scheduler(
        &store,
        "2026-01-01T00:00:00Z",
        vec![quick],
        "2026-01-20T06:00:00Z",
    );
    let quick = runs(&store, "quick");
    assert_eq!(quick.len(), 20);
    for run in &quick {
        // It ended when its task did, not at a later timer (its timeout, the next day).
        assert_eq!(run.state, DagRunState::Success, "{run:?}");
        let took = run.end_date.unwrap() - run.start_date.unwrap();
        assert!(took.num_seconds() < 5, "{run:?}");
        // And the limit's timer did not move the clock: each run started when due.
        assert!(
            (run.start_date.unwrap() - run.logical_date).num_seconds() < 5,
            "{run:?}"
        );
    }
}

/// The scheduler of `a_dag_paused_just_before_its_due_run_does_not_start_it`, for its task.
static PAUSING: std::sync::OnceLock<Arc<Scheduler>> = std::sync::OnceLock::new();

#[task]
fn pause_daily() {
    PAUSING
        .get()
        .expect("the scheduler")
        .pause("daily")
        .unwrap();
}

#[test]
fn a_dag_paused_just_before_its_due_run_does_not_start_it() {
    // The scheduler makes a run ready a moment before it is due; a pause within that moment
    // keeps it from starting: it waits, queued, until the DAG is unpaused.
    let (_folder, store) = store("pause_just_before");
    let daily = Dag::builder("daily")
        .schedule("@daily")
        .start_date(utc("2026-01-02T00:00:00Z"))
        .build(|| {
            seen();
        })
        .unwrap();
    let pauser = Dag::builder("pauser")
        .schedule("@once")
        .start_date(utc("2026-01-01T23:59:59.995Z"))
        .build(|| {
            pause_daily();
        })
        .unwrap();
    let scheduler = Scheduler::builder(executor("2026-01-01T00:00:00Z"), store.clone())
        .dags([daily, pauser])
        .build()
        .unwrap();
    let scheduler = PAUSING.get_or_init(|| Arc::new(scheduler));
    let looping = Arc::clone(scheduler);
    within(Duration::from_secs(60), "the scheduler", move || {
        looping.run_until(utc("2026-01-02T12:00:00Z")).unwrap()
    });
    assert_eq!(runs(&store, "pauser")[0].state, DagRunState::Success);
    let waiting = runs(&store, "daily");
    assert_eq!(ids(&waiting), ["scheduled__2026-01-02T00:00:00+00:00"]);
    assert_eq!(waiting[0].state, DagRunState::Queued);
    assert_eq!(waiting[0].start_date, None);
    scheduler.unpause("daily").unwrap();
    let looping = Arc::clone(scheduler);
    within(Duration::from_secs(60), "the scheduler", move || {
        looping.run_until(utc("2026-01-02T13:00:00Z")).unwrap()
    });
    let ran = runs(&store, "daily");
    assert_eq!(ids(&ran), ["scheduled__2026-01-02T00:00:00+00:00"]);
    assert_eq!(ran[0].state, DagRunState::Success);
    // Started once unpaused.
    let started = ran[0].start_date.expect("it started");
    let unpaused = utc("2026-01-02T12:00:00Z");
    assert!(started >= unpaused && started - unpaused < taskflow::chrono::Duration::seconds(1));
}

#[test]
fn a_run_made_ready_ahead_starts_at_its_due_time_not_when_it_was_made() {
    let (_folder, store) = store("made_ahead");
    run_scheduler(
        &store,
        "2026-01-01T00:00:00Z",
        vec![daily("daily", false)],
        "2026-01-03T12:00:00Z",
    );
    for run in runs(&store, "daily") {
        // Made 20 ms before it was due, on the virtual clock: started when due, within the
        // real time the scheduler takes.
        let due = run.run_after.expect("a scheduled run has a due time");
        let task = &store.task_instances("daily", &run.run_id).unwrap()[0];
        for started in [run.start_date, task.start_date] {
            let started = started.expect("it started");
            assert!(
                started >= due && started - due < taskflow::chrono::Duration::seconds(1),
                "{} started at {started}",
                run.run_id
            );
        }
    }
}
