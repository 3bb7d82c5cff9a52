//! When a DAG runs on its own: Airflow 3's timetables (feature `schedule`).
//!
//! A cron string or preset becomes a [`Timetable::cron_trigger`] (the run's logical date is
//! its tick, its data interval empty), an interval a [`Timetable::delta_trigger`], as in
//! Airflow 3; Airflow 2's data-interval variants are [`Timetable::cron_data_intervals`] and
//! [`Timetable::delta_data_intervals`]. [`Timetable::next_dagrun_info`] is Airflow's
//! `next_dagrun_info`: the next run after the last automated one, within a
//! [`TimeRestriction`] (start and end dates, both inclusive, and `catchup`).
//!
//! ```
//! use taskflow::schedule::{TimeRestriction, Timetable};
//!
//! let daily = Timetable::parse("@daily", "Asia/Seoul")?;
//! let start = "2026-01-01T00:00:00+09:00".parse()?;
//! let restriction = TimeRestriction::new(Some(start), None, true);
//! let now = "2026-01-03T12:00:00+09:00".parse()?;
//! let first = daily.next_dagrun_info(None, &restriction, now).unwrap();
//! assert_eq!(first.logical_date(), start);
//! let second = daily.next_dagrun_info(Some(&first.data_interval), &restriction, now).unwrap();
//! assert_eq!(Timetable::run_id(&second), "scheduled__2026-01-01T15:00:00+00:00");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cron;

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::{Error, Result};
use cron::CronSchedule;

/// A run's data interval: from `start` to `end` (equal for a trigger timetable's runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataInterval {
    /// Where it starts: the run's logical date.
    pub start: DateTime<Utc>,
    /// Where it ends.
    pub end: DateTime<Utc>,
}

/// The next run a timetable asks for: when it may start, and its data interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DagRunInfo {
    /// The run may start from this instant on.
    pub run_after: DateTime<Utc>,
    /// Its data interval.
    pub data_interval: DataInterval,
}

impl DagRunInfo {
    /// The run's logical date: the start of its data interval, as in Airflow.
    pub fn logical_date(&self) -> DateTime<Utc> {
        self.data_interval.start
    }
}

/// The bounds of a DAG's automated runs: its start and end dates (both inclusive) and
/// whether missed runs are caught up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeRestriction {
    /// The DAG's `start_date`.
    pub earliest: Option<DateTime<Utc>>,
    /// The DAG's `end_date`.
    pub latest: Option<DateTime<Utc>>,
    /// Airflow's `catchup` (off by default in Airflow 3).
    pub catchup: bool,
}

impl TimeRestriction {
    /// The restriction of a DAG with these dates and `catchup`.
    pub fn new(
        earliest: Option<DateTime<Utc>>,
        latest: Option<DateTime<Utc>>,
        catchup: bool,
    ) -> Self {
        Self {
            earliest,
            latest,
            catchup,
        }
    }
}

/// When a DAG's automated runs are due.
#[derive(Debug, Clone)]
pub struct Timetable {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    /// No automated run (`schedule=None`).
    Never,
    /// One run, at the start date (`@once`).
    Once,
    /// A run at each tick (`CronTriggerTimetable`), with the expression as given.
    CronTrigger(CronSchedule, Box<str>),
    /// A run every interval (`DeltaTriggerTimetable`).
    DeltaTrigger(Duration),
    /// A run per interval between ticks, after it ends (`CronDataIntervalTimetable`), with
    /// the expression as given.
    CronIntervals(CronSchedule, Box<str>),
    /// A run per interval, after it ends (`DeltaDataIntervalTimetable`).
    DeltaIntervals(Duration),
}

/// Airflow's cron presets.
const PRESETS: &[(&str, &str)] = &[
    ("@hourly", "0 * * * *"),
    ("@daily", "0 0 * * *"),
    ("@weekly", "0 0 * * 0"),
    ("@monthly", "0 0 1 * *"),
    ("@quarterly", "0 0 1 */3 *"),
    ("@yearly", "0 0 1 1 *"),
];

impl Timetable {
    /// The timetable of a `schedule` as Airflow 3 reads it, cron times in `timezone` (an
    /// IANA name such as `"Asia/Seoul"`): `"@once"`; a preset (`"@hourly"`, `"@daily"`,
    /// `"@weekly"`, `"@monthly"`, `"@quarterly"`, `"@yearly"`) or a cron string, as a
    /// [`Timetable::cron_trigger`]; an interval (`"30m"`, `"1h 30m"`, `"1d"`), as a
    /// [`Timetable::delta_trigger`]. A bad schedule or time zone is an error that says why.
    pub fn parse(schedule: &str, timezone: &str) -> Result<Self> {
        let schedule = schedule.trim();
        if schedule == "@once" {
            return Ok(Self::once());
        }
        if let Some(duration) = interval(schedule) {
            return Self::delta_trigger(duration);
        }
        Self::cron_trigger(schedule, timezone)
    }

    /// No automated run: the DAG runs when it is triggered (Airflow's `schedule=None`).
    pub fn never() -> Self {
        Self { kind: Kind::Never }
    }

    /// One automated run, at the start date (or at once without one): `@once`.
    pub fn once() -> Self {
        Self { kind: Kind::Once }
    }

    /// A run at each tick of `expression` (a cron string or a preset) in `timezone`; its
    /// logical date is the tick, its data interval empty (Airflow 3's default for cron).
    pub fn cron_trigger(expression: &str, timezone: &str) -> Result<Self> {
        Ok(Self {
            kind: Kind::CronTrigger(cron_schedule(expression, timezone)?, expression.into()),
        })
    }

    /// A run every `interval`, from the start date (Airflow 3's default for an interval).
    pub fn delta_trigger(interval: Duration) -> Result<Self> {
        Ok(Self {
            kind: Kind::DeltaTrigger(positive(interval)?),
        })
    }

    /// A run per interval between two ticks of `expression` in `timezone`, started once the
    /// interval ends; its logical date is the interval's start (Airflow 2's cron schedules).
    pub fn cron_data_intervals(expression: &str, timezone: &str) -> Result<Self> {
        Ok(Self {
            kind: Kind::CronIntervals(cron_schedule(expression, timezone)?, expression.into()),
        })
    }

    /// A run per `interval`, started once it ends (Airflow 2's interval schedules).
    pub fn delta_data_intervals(interval: Duration) -> Result<Self> {
        Ok(Self {
            kind: Kind::DeltaIntervals(positive(interval)?),
        })
    }

    /// Whether it makes a run per period (cron and interval timetables), so that a range of
    /// dates can be backfilled; not `Never` or `@once`.
    pub fn is_periodic(&self) -> bool {
        !matches!(self.kind, Kind::Never | Kind::Once)
    }

    /// Airflow's run id of a scheduled run: `scheduled__<logical date, ISO 8601>`.
    pub fn run_id(info: &DagRunInfo) -> String {
        format!(
            "scheduled__{}",
            info.logical_date()
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
        )
    }

    /// The next automated run after the one whose data interval was `last` (`None`: no
    /// automated run yet), within `restriction`, as of `now`; `None` when no run is due any
    /// more (past the end date, or `@once` done).
    pub fn next_dagrun_info(
        &self,
        last: Option<&DataInterval>,
        restriction: &TimeRestriction,
        now: DateTime<Utc>,
    ) -> Option<DagRunInfo> {
        match &self.kind {
            Kind::Never => None,
            Kind::Once => {
                if last.is_some() {
                    return None;
                }
                let at = restriction.earliest.unwrap_or(now);
                let within = restriction.latest.is_none_or(|latest| at <= latest);
                within.then_some(exact(at))
            }
            Kind::CronTrigger(cron, _) => trigger(&Ticks::Cron(cron), last, restriction, now),
            Kind::DeltaTrigger(delta) => trigger(&Ticks::Delta(*delta), last, restriction, now),
            Kind::CronIntervals(cron, _) => intervals(&Ticks::Cron(cron), last, restriction, now),
            Kind::DeltaIntervals(delta) => intervals(&Ticks::Delta(*delta), last, restriction, now),
        }
    }
}

/// The schedule as a DAG gives it: the cron expression or preset as given, `@once`,
/// `None` (no schedule) or the interval (`30m`, `1h 30m`); Airflow 2's data-interval
/// variants end in ` (data intervals)`.
///
/// ```
/// use taskflow::schedule::Timetable;
///
/// assert_eq!(Timetable::parse("@daily", "UTC")?.to_string(), "@daily");
/// assert_eq!(Timetable::parse("90m", "UTC")?.to_string(), "1h 30m");
/// assert_eq!(Timetable::never().to_string(), "None");
/// let intervals = Timetable::cron_data_intervals("0 3 * * *", "UTC")?;
/// assert_eq!(intervals.to_string(), "0 3 * * * (data intervals)");
/// # Ok::<(), taskflow::Error>(())
/// ```
impl std::fmt::Display for Timetable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            Kind::Never => f.write_str("None"),
            Kind::Once => f.write_str("@once"),
            Kind::CronTrigger(_, expression) => f.write_str(expression),
            Kind::DeltaTrigger(delta) => write!(f, "{}", humantime::format_duration(*delta)),
            Kind::CronIntervals(_, expression) => write!(f, "{expression} (data intervals)"),
            Kind::DeltaIntervals(delta) => {
                write!(f, "{} (data intervals)", humantime::format_duration(*delta))
            }
        }
    }
}

/// A run at `at` with an empty data interval there.
fn exact(at: DateTime<Utc>) -> DagRunInfo {
    DagRunInfo {
        run_after: at,
        data_interval: DataInterval { start: at, end: at },
    }
}

/// An interval schedule (`"30m"`, `"1h 30m"`), if `schedule` is one.
fn interval(schedule: &str) -> Option<Duration> {
    let starts_with_digit = schedule.starts_with(|c: char| c.is_ascii_digit());
    let is_cron = schedule.split_whitespace().count() == 5;
    if !starts_with_digit || is_cron {
        return None;
    }
    humantime::parse_duration(schedule).ok()
}

fn positive(interval: Duration) -> Result<Duration> {
    if interval.is_zero() || chrono::Duration::from_std(interval).is_err() {
        return Err(Error::Schedule {
            schedule: format!("{interval:?}"),
            reason: "an interval schedule must be positive and at most about 290,000 years"
                .to_owned(),
        });
    }
    Ok(interval)
}

fn cron_schedule(expression: &str, timezone: &str) -> Result<CronSchedule> {
    let fail = |reason: String| Error::Schedule {
        schedule: expression.to_owned(),
        reason,
    };
    let zone: chrono_tz::Tz = timezone.parse().map_err(|_| {
        fail(format!(
            "unknown time zone `{timezone}` (an IANA name such as `Asia/Seoul`)"
        ))
    })?;
    let expression = PRESETS
        .iter()
        .find(|(preset, _)| *preset == expression)
        .map_or(expression, |(_, cron)| cron);
    CronSchedule::new(expression, zone).map_err(fail)
}

/// The ticks of a schedule: a cron expression's, or every `delta` from wherever it starts.
enum Ticks<'a> {
    Cron(&'a CronSchedule),
    Delta(Duration),
}

impl Ticks<'_> {
    fn next(&self, current: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Ticks::Cron(cron) => cron.next_after(current).unwrap_or(DateTime::<Utc>::MAX_UTC),
            Ticks::Delta(delta) => add(current, *delta),
        }
    }

    fn prev(&self, current: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Ticks::Cron(cron) => cron
                .prev_before(current)
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
            Ticks::Delta(delta) => sub(current, *delta),
        }
    }

    fn align_to_next(&self, current: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Ticks::Cron(cron) => cron
                .align_to_next(current)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
            Ticks::Delta(_) => current,
        }
    }

    fn align_to_prev(&self, current: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Ticks::Cron(cron) => cron
                .align_to_prev(current)
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
            Ticks::Delta(_) => current,
        }
    }

    /// The first run of a DAG without a start date: the latest tick if it is recent enough
    /// (within a tenth of the gap to the next, at least 5 minutes), else the next one.
    fn first_run(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Ticks::Delta(_) => now,
            Ticks::Cron(_) => {
                let past = self.align_to_prev(now);
                let next = self.align_to_next(now);
                let gap = next - past;
                let buffer = (gap / 10).max(chrono::Duration::minutes(5));
                if now - past <= buffer { past } else { next }
            }
        }
    }
}

fn add(at: DateTime<Utc>, delta: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(delta)
        .ok()
        .and_then(|delta| at.checked_add_signed(delta))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn sub(at: DateTime<Utc>, delta: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(delta)
        .ok()
        .and_then(|delta| at.checked_sub_signed(delta))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Airflow's `_TriggerTimetable.next_dagrun_info`, with an empty data interval.
fn trigger(
    ticks: &Ticks<'_>,
    last: Option<&DataInterval>,
    restriction: &TimeRestriction,
    now: DateTime<Utc>,
) -> Option<DagRunInfo> {
    let next = if restriction.catchup {
        match (last, restriction.earliest) {
            (Some(last), _) => ticks.next(last.end),
            (None, Some(earliest)) => ticks.align_to_next(earliest),
            (None, None) => ticks.first_run(now),
        }
    } else {
        let mut next = ticks.align_to_prev(now);
        match (last, restriction.earliest) {
            (Some(last), _) => next = next.max(ticks.next(last.end)),
            (None, None) => next = next.max(ticks.first_run(now)),
            (None, Some(_)) => {}
        }
        if let Some(earliest) = restriction.earliest {
            next = next.max(ticks.align_to_next(earliest));
        }
        next
    };
    if restriction.latest.is_some_and(|latest| latest < next) {
        return None;
    }
    Some(exact(next))
}

/// Airflow's `_DataIntervalTimetable.next_dagrun_info`.
fn intervals(
    ticks: &Ticks<'_>,
    last: Option<&DataInterval>,
    restriction: &TimeRestriction,
    now: DateTime<Utc>,
) -> Option<DagRunInfo> {
    let earliest = if restriction.catchup {
        restriction
            .earliest
            .map(|earliest| ticks.align_to_next(earliest))
    } else {
        Some(skip_to_latest(ticks, restriction.earliest, now))
    };
    let start = match last {
        None => earliest?,
        Some(last) => {
            let aligned = ticks.align_to_prev(last.end);
            earliest.map_or(aligned, |earliest| aligned.max(earliest))
        }
    };
    if restriction.latest.is_some_and(|latest| start > latest) {
        return None;
    }
    let end = ticks.next(start);
    Some(DagRunInfo {
        run_after: end,
        data_interval: DataInterval { start, end },
    })
}

/// The start of the latest complete interval as of `now` (catchup off).
fn skip_to_latest(
    ticks: &Ticks<'_>,
    earliest: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let latest = match ticks {
        Ticks::Cron(_) => {
            let last_start = ticks.prev(now);
            if ticks.next(last_start) == now {
                last_start
            } else {
                ticks.prev(last_start)
            }
        }
        // Intervals counted from 1970, as Airflow rounds them.
        Ticks::Delta(delta) => {
            let step = i64::try_from(delta.as_micros()).unwrap_or(i64::MAX).max(1);
            let micros = now.timestamp_micros();
            let rounded = micros - micros.rem_euclid(step);
            sub(
                DateTime::from_timestamp_micros(rounded).unwrap_or(now),
                *delta,
            )
        }
    };
    match earliest {
        Some(earliest) => latest.max(ticks.align_to_next(earliest)),
        None => latest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    /// The logical dates of the runs a timetable asks for one after another, as of `now`.
    fn runs(
        timetable: &Timetable,
        restriction: &TimeRestriction,
        now: &str,
        count: usize,
    ) -> Vec<DagRunInfo> {
        let mut last: Option<DataInterval> = None;
        let mut infos = Vec::new();
        for _ in 0..count {
            let Some(info) = timetable.next_dagrun_info(last.as_ref(), restriction, utc(now))
            else {
                break;
            };
            last = Some(info.data_interval);
            infos.push(info);
        }
        infos
    }

    #[test]
    fn catchup_on_creates_every_tick_from_the_start_date_and_end_date_is_inclusive() {
        let daily = Timetable::parse("@daily", "UTC").unwrap();
        let restriction = TimeRestriction::new(
            Some(utc("2026-01-01T00:00:00Z")),
            Some(utc("2026-01-03T00:00:00Z")),
            true,
        );
        let infos = runs(&daily, &restriction, "2026-02-01T00:00:00Z", 10);
        let dates: Vec<_> = infos.iter().map(DagRunInfo::logical_date).collect();
        assert_eq!(
            dates,
            [
                utc("2026-01-01T00:00:00Z"),
                utc("2026-01-02T00:00:00Z"),
                utc("2026-01-03T00:00:00Z")
            ]
        );
        assert!(
            infos
                .iter()
                .all(|info| info.data_interval.start == info.data_interval.end)
        );
        assert_eq!(
            Timetable::run_id(&infos[0]),
            "scheduled__2026-01-01T00:00:00+00:00"
        );
    }

    #[test]
    fn catchup_off_starts_with_the_latest_tick_only() {
        let daily = Timetable::parse("0 3 * * *", "UTC").unwrap();
        let restriction = TimeRestriction::new(Some(utc("2026-01-01T00:00:00Z")), None, false);
        let first = daily
            .next_dagrun_info(None, &restriction, utc("2026-01-10T12:00:00Z"))
            .unwrap();
        assert_eq!(first.logical_date(), utc("2026-01-10T03:00:00Z"));
        // Down for a week: on coming back, only the latest missed tick.
        let after_pause = daily
            .next_dagrun_info(
                Some(&first.data_interval),
                &restriction,
                utc("2026-01-17T12:00:00Z"),
            )
            .unwrap();
        assert_eq!(after_pause.logical_date(), utc("2026-01-17T03:00:00Z"));
    }

    #[test]
    fn an_interval_schedule_runs_from_the_start_date_every_interval() {
        let every = Timetable::parse("30m", "UTC").unwrap();
        let restriction = TimeRestriction::new(Some(utc("2026-01-01T00:00:00Z")), None, true);
        let dates: Vec<_> = runs(&every, &restriction, "2026-01-02T00:00:00Z", 3)
            .iter()
            .map(DagRunInfo::logical_date)
            .collect();
        assert_eq!(
            dates,
            [
                utc("2026-01-01T00:00:00Z"),
                utc("2026-01-01T00:30:00Z"),
                utc("2026-01-01T01:00:00Z")
            ]
        );
    }

    #[test]
    fn data_intervals_run_after_their_interval_ends() {
        let daily = Timetable::cron_data_intervals("@daily", "UTC").unwrap();
        let restriction = TimeRestriction::new(Some(utc("2026-01-01T00:00:00Z")), None, true);
        let first = &runs(&daily, &restriction, "2026-01-05T00:00:00Z", 1)[0];
        assert_eq!(first.logical_date(), utc("2026-01-01T00:00:00Z"));
        assert_eq!(first.data_interval.end, utc("2026-01-02T00:00:00Z"));
        assert_eq!(first.run_after, utc("2026-01-02T00:00:00Z"));
        let hourly = Timetable::delta_data_intervals(Duration::from_secs(3600)).unwrap();
        let latest = hourly
            .next_dagrun_info(
                None,
                &TimeRestriction::default(),
                utc("2026-01-05T10:20:00Z"),
            )
            .unwrap();
        assert_eq!(latest.data_interval.start, utc("2026-01-05T09:00:00Z"));
        assert_eq!(latest.data_interval.end, utc("2026-01-05T10:00:00Z"));
    }

    #[test]
    fn once_runs_once_at_the_start_date() {
        let once = Timetable::parse("@once", "UTC").unwrap();
        let restriction = TimeRestriction::new(Some(utc("2026-03-01T00:00:00Z")), None, false);
        let infos = runs(&once, &restriction, "2026-04-01T00:00:00Z", 5);
        assert_eq!(infos.len(), 1);
        assert_eq!(infos[0].logical_date(), utc("2026-03-01T00:00:00Z"));
        assert!(
            Timetable::never()
                .next_dagrun_info(None, &restriction, utc("2026-04-01T00:00:00Z"))
                .is_none()
        );
    }

    #[test]
    fn a_schedule_in_a_time_zone_runs_at_its_wall_clock_time() {
        let seoul = Timetable::parse("0 3 * * *", "Asia/Seoul").unwrap();
        let restriction = TimeRestriction::new(Some(utc("2026-01-01T00:00:00Z")), None, true);
        let first = &runs(&seoul, &restriction, "2026-01-05T00:00:00Z", 1)[0];
        assert_eq!(first.logical_date(), utc("2026-01-01T18:00:00Z")); // 03:00 KST
    }

    #[test]
    fn bad_schedules_and_time_zones_say_why() {
        let error = Timetable::parse("0 3 * *", "UTC").unwrap_err().to_string();
        assert!(error.contains("5 fields"), "{error}");
        let error = Timetable::parse("@daily", "Mars/Olympus")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("unknown time zone `Mars/Olympus`"),
            "{error}"
        );
        let error = Timetable::delta_trigger(Duration::ZERO)
            .unwrap_err()
            .to_string();
        assert!(error.contains("positive"), "{error}");
        assert!(Timetable::parse("0 99 * * *", "UTC").is_err());
    }
}
