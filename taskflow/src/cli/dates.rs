//! What the command line reads from its arguments: dates and a run's conf.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::Params;

/// A date as Airflow's command line takes it: ISO 8601 with an offset
/// (`2026-01-01T03:00:00+09:00`), or without one, in UTC (`2026-01-01T03:00:00`,
/// `2026-01-01 03:00:00`, `2026-01-01`: midnight).
pub(crate) fn parse_date(text: &str) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(date) = DateTime::parse_from_rfc3339(text) {
        return Ok(date.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(date) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(date.and_utc());
        }
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(day.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    Err(format!(
        "`{text}` is not a date: give YYYY-MM-DD or ISO 8601 (2026-01-31T06:00:00+00:00)"
    ))
}

/// A run's conf: a JSON object, whose keys become the run's params.
pub(crate) fn parse_conf(text: &str) -> Result<Params, String> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) => Ok(Params::from(map)),
        Ok(_) => Err("the conf must be a JSON object, such as '{\"day\": 3}'".to_owned()),
        Err(error) => Err(format!("the conf is not JSON: {error}")),
    }
}

/// A duration such as `3s`, `10m` or `1h 30m` (the `humantime` crate's format); not zero.
pub(crate) fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    match humantime::parse_duration(text.trim()) {
        Ok(duration) if duration.is_zero() => Err("the duration must be positive".to_owned()),
        Ok(duration) => Ok(duration),
        Err(error) => Err(format!(
            "`{text}` is not a duration ({error}): give one such as 3s, 10m or 1h 30m"
        )),
    }
}

/// A run id given on the command line: not empty, no surrounding spaces.
pub(crate) fn parse_run_id(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err("a run id must not be empty".to_owned());
    }
    if text.trim() != text {
        return Err(format!("the run id `{text}` has spaces around it"));
    }
    Ok(text.to_owned())
}

/// A date as the command line prints it: ISO 8601 with the offset, to the microsecond when
/// it has a fraction, as Python's `isoformat` (`2026-01-02T03:04:05.123456+00:00`).
pub(crate) fn iso(date: DateTime<Utc>) -> String {
    use chrono::{SecondsFormat, Timelike};
    let micros = date
        .with_nanosecond(date.nanosecond() / 1000 * 1000)
        .unwrap_or(date);
    let format = if micros.nanosecond() == 0 {
        SecondsFormat::Secs
    } else {
        SecondsFormat::Micros
    };
    micros.to_rfc3339_opts(format, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_with_and_without_offset_and_time() {
        let iso = |text| parse_date(text).map(iso);
        assert_eq!(iso("2026-01-02"), Ok("2026-01-02T00:00:00+00:00".into()));
        assert_eq!(
            iso("2026-01-02T03:04:05"),
            Ok("2026-01-02T03:04:05+00:00".into())
        );
        assert_eq!(
            iso("2026-01-02 03:04:05.5"),
            Ok("2026-01-02T03:04:05.500000+00:00".into())
        );
        assert_eq!(
            iso("2026-01-02T09:00:00+09:00"),
            Ok("2026-01-02T00:00:00+00:00".into())
        );
        assert_eq!(
            iso("2026-01-02T03:04:05Z"),
            Ok("2026-01-02T03:04:05+00:00".into())
        );
        assert!(
            parse_date("yesterday")
                .unwrap_err()
                .contains("`yesterday` is not a date")
        );
        assert!(parse_date("2026-02-30").is_err());
    }

    #[test]
    fn durations_are_humantime_and_positive() {
        assert_eq!(parse_duration("3s"), Ok(std::time::Duration::from_secs(3)));
        assert_eq!(
            parse_duration("1h 30m"),
            Ok(std::time::Duration::from_secs(5400))
        );
        assert!(parse_duration("0s").unwrap_err().contains("positive"));
        assert!(
            parse_duration("soon")
                .unwrap_err()
                .contains("`soon` is not a duration")
        );
    }

    #[test]
    fn run_ids_are_not_empty_or_padded() {
        assert_eq!(parse_run_id("nightly_1"), Ok("nightly_1".to_owned()));
        assert!(
            parse_run_id("  ")
                .unwrap_err()
                .contains("must not be empty")
        );
        assert!(parse_run_id(" x").unwrap_err().contains("spaces"));
    }

    #[test]
    fn conf_is_a_json_object() {
        let params = parse_conf(r#"{"day": 3}"#).unwrap();
        assert_eq!(params.get::<u32>("day").unwrap(), 3);
        assert!(parse_conf("[1]").unwrap_err().contains("JSON object"));
        assert!(
            parse_conf("{day")
                .unwrap_err()
                .starts_with("the conf is not JSON")
        );
    }
}
