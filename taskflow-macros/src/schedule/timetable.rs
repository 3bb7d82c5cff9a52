//! A `schedule` string checked as the runtime's `Timetable::parse` reads it: `"@once"`, an
//! interval (`"30m"`, `"1h 30m"`), a preset or a five-field cron string, with the same
//! crates and the same rules, so that the macro accepts exactly what the runtime accepts.

use std::str::FromStr;
use std::time::Duration;

/// Airflow's cron presets, as the runtime expands them.
const PRESETS: &[(&str, &str)] = &[
    ("@hourly", "0 * * * *"),
    ("@daily", "0 0 * * *"),
    ("@weekly", "0 0 * * 0"),
    ("@monthly", "0 0 1 * *"),
    ("@quarterly", "0 0 1 */3 *"),
    ("@yearly", "0 0 1 1 *"),
];

/// `Ok` if the runtime reads `schedule` as a timetable, else what is wrong with it.
pub(crate) fn check(schedule: &str) -> Result<(), String> {
    let schedule = schedule.trim();
    if schedule == "@once" {
        return Ok(());
    }
    if let Some(duration) = interval(schedule) {
        return positive(duration);
    }
    if let Some((_, expression)) = PRESETS.iter().find(|(preset, _)| *preset == schedule) {
        return cron(expression);
    }
    if schedule.starts_with('@') && schedule.split_whitespace().count() == 1 {
        let presets: Vec<&str> = PRESETS.iter().map(|(preset, _)| *preset).collect();
        return Err(format!(
            "unknown preset `{schedule}`; expected a cron string (\"0 3 * * *\"), \
             an interval (\"30m\") or one of @once, {}",
            presets.join(", ")
        ));
    }
    cron(schedule)
}

/// An interval schedule, if `schedule` is one (the runtime's rule: it starts with a digit,
/// is not five fields, and `humantime` reads it).
fn interval(schedule: &str) -> Option<Duration> {
    let starts_with_digit = schedule.starts_with(|c: char| c.is_ascii_digit());
    let is_cron = schedule.split_whitespace().count() == 5;
    if !starts_with_digit || is_cron {
        return None;
    }
    humantime::parse_duration(schedule).ok()
}

fn positive(interval: Duration) -> Result<(), String> {
    if interval.is_zero() || chrono::Duration::from_std(interval).is_err() {
        return Err(
            "an interval schedule must be positive and at most about 290,000 years".to_owned(),
        );
    }
    Ok(())
}

/// A five-field cron expression, parsed by `croner` as the runtime parses it.
fn cron(expression: &str) -> Result<(), String> {
    let fields = expression.split_whitespace().count();
    if fields != 5 {
        return Err(format!(
            "a cron expression has 5 fields (minute hour day month weekday), \
             `{expression}` has {fields}"
        ));
    }
    croner::Cron::from_str(expression)
        .map(drop)
        .map_err(|error| format!("bad cron expression `{expression}`: {error}"))
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn accepts_what_the_runtime_reads_as_a_timetable() {
        for schedule in [
            "0 3 * * *",
            "*/15 9-17 * * 1-5",
            "@once",
            "@hourly",
            "@daily",
            "@weekly",
            "@monthly",
            "@quarterly",
            "@yearly",
            " @daily ",
            "30m",
            "1h 30m",
            "1d",
        ] {
            assert_eq!(check(schedule), Ok(()), "{schedule:?}");
        }
    }

    #[test]
    fn rejects_what_the_runtime_rejects_and_says_why() {
        let error = check("61 * * * *").unwrap_err();
        assert!(
            error.starts_with("bad cron expression `61 * * * *`"),
            "{error}"
        );
        let error = check("* * *").unwrap_err();
        assert!(error.contains("`* * *` has 3"), "{error}");
        let error = check("0s").unwrap_err();
        assert!(error.contains("must be positive"), "{error}");
        let error = check("@fortnightly").unwrap_err();
        assert!(
            error.starts_with("unknown preset `@fortnightly`"),
            "{error}"
        );
        // Starts with a digit but is no interval: read as cron, as the runtime does.
        let error = check("30 minutes past").unwrap_err();
        assert!(error.contains("has 3"), "{error}");
    }
}
