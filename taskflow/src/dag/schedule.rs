//! A DAG's schedule (feature `schedule`): its timetable, time zone, start and end dates,
//! `catchup` and `dagrun_timeout`, given to [`DagBuilder`] and checked when the DAG is built.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Dag, DagBuilder};
use crate::schedule::{DagRunInfo, DataInterval, TimeRestriction, Timetable};
use crate::{Error, Result};

/// What a builder was told of the schedule, checked by [`ScheduleOptions::resolve`].
#[derive(Debug, Clone, Default)]
pub(crate) struct ScheduleOptions {
    schedule: Option<String>,
    timetable: Option<Timetable>,
    timezone: Option<String>,
    start_date: Option<DateTime<Utc>>,
    end_date: Option<DateTime<Utc>>,
    catchup: bool,
    dagrun_timeout: Option<Duration>,
}

/// A built DAG's schedule.
#[derive(Debug, Clone)]
pub(crate) struct DagSchedule {
    pub(crate) timetable: Timetable,
    pub(crate) restriction: TimeRestriction,
    pub(crate) timezone: String,
    pub(crate) dagrun_timeout: Option<Duration>,
}

impl ScheduleOptions {
    /// The DAG's schedule, `None` if it has none; an error naming the DAG and the option.
    pub(crate) fn resolve(self, dag_id: &str) -> Result<Option<Arc<DagSchedule>>> {
        let fail = |what: &str, reason: String| Error::InvalidOption {
            dag_id: dag_id.to_owned(),
            what: format!("`{what}`"),
            reason,
        };
        let timezone = self.timezone.unwrap_or_else(|| "UTC".to_owned());
        let timetable = match (self.timetable, self.schedule) {
            (Some(timetable), _) => timetable,
            (None, Some(schedule)) => Timetable::parse(&schedule, &timezone)?,
            (None, None) => {
                if self.start_date.is_none() && self.end_date.is_none() && !self.catchup {
                    return Ok(None);
                }
                Timetable::never()
            }
        };
        if self.catchup && self.start_date.is_none() {
            return Err(fail(
                "catchup",
                "catching up needs a start_date to catch up from".to_owned(),
            ));
        }
        if let (Some(start), Some(end)) = (self.start_date, self.end_date)
            && end < start
        {
            return Err(fail(
                "end_date",
                format!("it is before the start_date ({end} < {start})"),
            ));
        }
        if self.dagrun_timeout.is_some_and(|timeout| timeout.is_zero()) {
            return Err(fail(
                "dagrun_timeout",
                "it must be positive, or every run would time out".to_owned(),
            ));
        }
        Ok(Some(Arc::new(DagSchedule {
            timetable,
            restriction: TimeRestriction::new(self.start_date, self.end_date, self.catchup),
            timezone,
            dagrun_timeout: self.dagrun_timeout,
        })))
    }
}

impl DagBuilder {
    /// When the DAG runs on its own (Airflow's `schedule`): a cron string, a preset
    /// (`"@daily"`, `"@hourly"`, ...), `"@once"` or an interval (`"30m"`); see
    /// [`Timetable::parse`]. Read in the DAG's [`timezone`](DagBuilder::timezone); a bad one is
    /// an error when the DAG is built.
    ///
    /// ```
    /// use taskflow::prelude::*;
    ///
    /// #[task]
    /// fn report() {}
    ///
    /// let dag = Dag::builder("nightly")
    ///     .schedule("30 2 * * *")
    ///     .timezone("Europe/Zurich")
    ///     .start_date("2026-01-01T00:00:00Z".parse()?)
    ///     .build(|| {
    ///         report();
    ///     })?;
    /// let first = dag.next_dagrun_info(None, "2026-01-01T12:00:00Z".parse()?).unwrap();
    /// assert_eq!(first.logical_date().to_rfc3339(), "2026-01-01T01:30:00+00:00");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn schedule(mut self, schedule: impl Into<String>) -> Self {
        self.schedule.schedule = Some(schedule.into());
        self
    }

    /// The DAG's timetable, given whole (a data-interval one, say); wins over
    /// [`DagBuilder::schedule`].
    pub fn timetable(mut self, timetable: Timetable) -> Self {
        self.schedule.timetable = Some(timetable);
        self
    }

    /// The time zone cron schedules are read in: an IANA name (default `"UTC"`).
    pub fn timezone(mut self, timezone: impl Into<String>) -> Self {
        self.schedule.timezone = Some(timezone.into());
        self
    }

    /// The first date the DAG's automated runs cover (Airflow's `start_date`).
    pub fn start_date(mut self, start: DateTime<Utc>) -> Self {
        self.schedule.start_date = Some(start);
        self
    }

    /// The last date they cover, inclusive (Airflow's `end_date`).
    pub fn end_date(mut self, end: DateTime<Utc>) -> Self {
        self.schedule.end_date = Some(end);
        self
    }

    /// Whether the runs missed while the DAG was not scheduled are created (Airflow's
    /// `catchup`; default off, as in Airflow 3: only the latest one runs).
    pub fn catchup(mut self, catchup: bool) -> Self {
        self.schedule.catchup = catchup;
        self
    }

    /// How long a run may take before it fails (Airflow's `dagrun_timeout`).
    pub fn dagrun_timeout(mut self, timeout: Duration) -> Self {
        self.schedule.dagrun_timeout = Some(timeout);
        self
    }
}

impl Dag {
    /// The DAG's timetable, if it has a schedule.
    pub fn timetable(&self) -> Option<&Timetable> {
        self.inner
            .schedule
            .as_deref()
            .map(|schedule| &schedule.timetable)
    }

    /// The bounds of the DAG's automated runs: its start and end dates and `catchup`.
    pub fn time_restriction(&self) -> TimeRestriction {
        self.inner
            .schedule
            .as_deref()
            .map(|schedule| schedule.restriction)
            .unwrap_or_default()
    }

    /// The time zone its cron schedule is read in (`"UTC"` without a schedule).
    pub fn timezone(&self) -> &str {
        self.inner
            .schedule
            .as_deref()
            .map_or("UTC", |schedule| schedule.timezone.as_str())
    }

    /// The DAG's own `max_active_runs`, if it set one.
    pub(crate) fn max_active_runs_limit(&self) -> Option<u32> {
        self.inner.limits.max_active_runs
    }

    /// How long a run may take (Airflow's `dagrun_timeout`), if limited.
    pub fn dagrun_timeout(&self) -> Option<Duration> {
        self.inner.schedule.as_deref()?.dagrun_timeout
    }

    /// The next automated run after the one whose data interval was `last` (`None`: no
    /// automated run yet), as of `now`; `None` without a schedule or when none is due any
    /// more (see [`Timetable::next_dagrun_info`]).
    pub fn next_dagrun_info(
        &self,
        last: Option<&DataInterval>,
        now: DateTime<Utc>,
    ) -> Option<DagRunInfo> {
        let schedule = self.inner.schedule.as_deref()?;
        schedule
            .timetable
            .next_dagrun_info(last, &schedule.restriction, now)
    }
}
