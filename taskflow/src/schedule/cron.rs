//! Cron schedules in a time zone, with Airflow's daylight-saving rules: the expression is
//! matched on local wall-clock times; a schedule whose hour field is `*` then moves by the
//! same real time (so an hourly run repeats in a folded hour and skips none), any other one
//! is placed at its wall-clock time, at the later instant of a folded hour and shifted past a
//! skipped one (as Airflow's `make_aware` with `fold=1`).

use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// A parsed cron expression and the time zone it is read in.
#[derive(Debug, Clone)]
pub(crate) struct CronSchedule {
    cron: croner::Cron,
    timezone: Tz,
    /// Whether the hour field is `*` (Airflow's `_covers_every_hour`).
    every_hour: bool,
}

impl CronSchedule {
    /// Parses `expression` (five fields) in `timezone`; the error says what is wrong.
    pub(crate) fn new(expression: &str, timezone: Tz) -> Result<Self, String> {
        let fields: Vec<&str> = expression.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!(
                "a cron expression has 5 fields (minute hour day month weekday), \
                 `{expression}` has {}",
                fields.len()
            ));
        }
        let cron = croner::Cron::from_str(expression)
            .map_err(|error| format!("bad cron expression `{expression}`: {error}"))?;
        Ok(Self {
            cron,
            timezone,
            every_hour: fields[1] == "*",
        })
    }

    fn naive(&self, at: DateTime<Utc>) -> NaiveDateTime {
        at.with_timezone(&self.timezone).naive_local()
    }

    /// The first tick strictly after `current`.
    pub(crate) fn next_after(&self, current: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // Ticks fall on whole seconds: the next one after a fraction is the next one after
        // its whole second.
        let current = whole_second(current);
        let naive = self.naive(current);
        let scheduled = self
            .cron
            .find_next_occurrence(&naive.and_utc(), false)
            .ok()?
            .naive_utc();
        if self.every_hour {
            return Some(current + (scheduled - naive));
        }
        Some(localize(self.timezone, scheduled))
    }

    /// The last tick strictly before `current`.
    pub(crate) fn prev_before(&self, current: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // Past a whole second, that second itself may be the tick before.
        let whole = whole_second(current);
        let inclusive = whole != current;
        let current = whole;
        let naive = self.naive(current);
        let scheduled = self
            .cron
            .find_previous_occurrence(&naive.and_utc(), inclusive)
            .ok()?
            .naive_utc();
        if self.every_hour {
            return Some(current - (naive - scheduled));
        }
        Some(localize(self.timezone, scheduled))
    }

    /// `current` if it is a tick, else the next tick (Airflow's `_align_to_next`).
    pub(crate) fn align_to_next(&self, current: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let next = self.next_after(current)?;
        if self.prev_before(next) == Some(current) {
            Some(current)
        } else {
            Some(next)
        }
    }

    /// `current` if it is a tick, else the tick before it (Airflow's `_align_to_prev`).
    pub(crate) fn align_to_prev(&self, current: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let prev = self.prev_before(current)?;
        if self.next_after(prev) == Some(current) {
            Some(current)
        } else {
            Some(prev)
        }
    }
}

/// `at` without its fraction of a second.
fn whole_second(at: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::Timelike;
    at.with_nanosecond(0).unwrap_or(at)
}

/// The instant of wall-clock time `naive` in `timezone`: in a folded hour the later one, in
/// a skipped hour the same time read with the offset before the change (so 02:30 on a
/// spring-forward night at 02:00 is 03:30), as Airflow places its runs.
pub(crate) fn localize(timezone: Tz, naive: NaiveDateTime) -> DateTime<Utc> {
    match timezone.from_local_datetime(&naive) {
        chrono::LocalResult::Single(at) => at.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(_, later) => later.with_timezone(&Utc),
        chrono::LocalResult::None => {
            // A day before, the offset is the one before the change.
            let before = timezone
                .offset_from_utc_datetime(&(naive - chrono::Duration::days(1)))
                .fix();
            let seconds = i64::from(before.local_minus_utc());
            (naive - chrono::Duration::seconds(seconds)).and_utc()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn zurich(expression: &str) -> CronSchedule {
        CronSchedule::new(expression, "Europe/Zurich".parse().unwrap()).unwrap()
    }

    /// The ticks after `from`, `count` of them.
    fn ticks(schedule: &CronSchedule, from: &str, count: usize) -> Vec<DateTime<Utc>> {
        let mut at = utc(from);
        (0..count)
            .map(|_| {
                at = schedule.next_after(at).unwrap();
                at
            })
            .collect()
    }

    #[test]
    fn a_daily_0230_runs_an_hour_late_on_a_spring_forward_day_and_skips_no_day() {
        let daily = zurich("30 2 * * *");
        assert_eq!(
            ticks(&daily, "2025-03-28T12:00:00Z", 3),
            [
                utc("2025-03-29T01:30:00Z"), // 02:30 CET
                utc("2025-03-30T01:30:00Z"), // 02:30 does not exist: 03:30 CEST
                utc("2025-03-31T00:30:00Z"), // 02:30 CEST
            ]
        );
    }

    #[test]
    fn a_daily_0230_runs_once_on_a_fall_back_day_at_the_second_0230() {
        let daily = zurich("30 2 * * *");
        assert_eq!(
            ticks(&daily, "2025-10-24T12:00:00Z", 3),
            [
                utc("2025-10-25T00:30:00Z"), // 02:30 CEST
                utc("2025-10-26T01:30:00Z"), // the second 02:30, CET
                utc("2025-10-27T01:30:00Z"),
            ]
        );
    }

    #[test]
    fn an_hourly_schedule_skips_no_real_hour_in_spring_and_repeats_the_folded_one_in_fall() {
        let hourly = zurich("0 * * * *");
        assert_eq!(
            ticks(&hourly, "2025-03-29T23:30:00Z", 3),
            [
                utc("2025-03-30T00:00:00Z"), // 01:00 CET
                utc("2025-03-30T01:00:00Z"), // 03:00 CEST: 02:00 does not exist
                utc("2025-03-30T02:00:00Z"), // 04:00 CEST
            ]
        );
        assert_eq!(
            ticks(&hourly, "2025-10-25T22:30:00Z", 4),
            [
                utc("2025-10-25T23:00:00Z"), // 01:00 CEST
                utc("2025-10-26T00:00:00Z"), // 02:00 CEST
                utc("2025-10-26T01:00:00Z"), // 02:00 CET, the folded hour again
                utc("2025-10-26T02:00:00Z"), // 03:00 CET
            ]
        );
    }

    #[test]
    fn new_york_skips_0230_in_march_and_runs_0130_once_in_november() {
        let tz = "America/New_York".parse().unwrap();
        let daily = CronSchedule::new("30 2 * * *", tz).unwrap();
        assert_eq!(
            ticks(&daily, "2025-03-08T12:00:00Z", 2),
            [
                utc("2025-03-09T07:30:00Z"), // 02:30 does not exist: 03:30 EDT
                utc("2025-03-10T06:30:00Z"), // 02:30 EDT
            ]
        );
        let nightly = CronSchedule::new("30 1 * * *", tz).unwrap();
        assert_eq!(
            ticks(&nightly, "2025-11-01T12:00:00Z", 2),
            [
                utc("2025-11-02T06:30:00Z"), // the second 01:30, EST
                utc("2025-11-03T06:30:00Z"),
            ]
        );
    }

    #[test]
    fn a_half_hourly_schedule_moves_by_real_time_across_both_changes() {
        let half_hourly = zurich("*/30 * * * *");
        let spring = ticks(&half_hourly, "2025-03-30T00:40:00Z", 3);
        assert_eq!(
            spring,
            [
                utc("2025-03-30T01:00:00Z"), // 03:00 CEST
                utc("2025-03-30T01:30:00Z"),
                utc("2025-03-30T02:00:00Z"),
            ]
        );
        let fall = ticks(&half_hourly, "2025-10-26T00:10:00Z", 3);
        assert_eq!(
            fall,
            [
                utc("2025-10-26T00:30:00Z"), // 02:30 CEST
                utc("2025-10-26T01:00:00Z"), // 02:00 CET, again
                utc("2025-10-26T01:30:00Z"), // 02:30 CET
            ]
        );
    }

    #[test]
    fn aligning_keeps_a_tick_and_moves_anything_else() {
        let daily = zurich("0 3 * * *");
        let tick = utc("2025-06-01T01:00:00Z"); // 03:00 CEST
        assert_eq!(daily.align_to_next(tick), Some(tick));
        assert_eq!(daily.align_to_prev(tick), Some(tick));
        let between = utc("2025-06-01T05:00:00Z");
        assert_eq!(
            daily.align_to_next(between),
            Some(utc("2025-06-02T01:00:00Z"))
        );
        assert_eq!(daily.align_to_prev(between), Some(tick));
    }

    #[test]
    fn ticks_fall_on_whole_seconds_whatever_the_fraction_of_the_time_asked_about() {
        let daily = zurich("0 0 * * *");
        let now = utc("2026-01-10T12:00:00.000799Z");
        assert_eq!(daily.align_to_prev(now), Some(utc("2026-01-09T23:00:00Z")));
        assert_eq!(daily.align_to_next(now), Some(utc("2026-01-10T23:00:00Z")));
        let hourly = zurich("0 * * * *");
        let on_the_hour = utc("2026-01-10T12:00:00.5Z");
        assert_eq!(
            hourly.prev_before(on_the_hour),
            Some(utc("2026-01-10T12:00:00Z"))
        );
        assert_eq!(
            hourly.next_after(on_the_hour),
            Some(utc("2026-01-10T13:00:00Z"))
        );
    }

    #[test]
    fn a_bad_expression_says_what_is_wrong() {
        let tz = "UTC".parse().unwrap();
        let error = CronSchedule::new("61 * * * *", tz).unwrap_err();
        assert!(error.contains("61 * * * *"), "{error}");
        let error = CronSchedule::new("* * *", tz).unwrap_err();
        assert!(error.contains("has 3"), "{error}");
    }
}
