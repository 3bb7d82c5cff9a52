//! `start_date` and `end_date` strings: a date (`"2026-01-01"`, midnight UTC) or an RFC 3339
//! time (`"2026-01-01T06:00:00+09:00"`), read at compile time into an instant.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

/// The instant `text` names, or what is wrong with it.
pub(crate) fn parse(text: &str) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    let looks_like_a_date = !text.contains(['T', 't', ' ']);
    if looks_like_a_date {
        return NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(|date| date.and_time(NaiveTime::MIN).and_utc())
            .map_err(|error| error.to_string());
    }
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn a_bare_date_is_midnight_utc_and_a_time_keeps_its_offset() {
        assert_eq!(
            parse("2026-01-01").unwrap().to_rfc3339(),
            "2026-01-01T00:00:00+00:00"
        );
        assert_eq!(
            parse("2026-01-01T06:00:00Z").unwrap().to_rfc3339(),
            "2026-01-01T06:00:00+00:00"
        );
        assert_eq!(
            parse("2026-01-01T06:00:00+09:00").unwrap().to_rfc3339(),
            "2025-12-31T21:00:00+00:00"
        );
        assert_eq!(
            parse("2026-01-01T06:00:00.5Z")
                .unwrap()
                .timestamp_subsec_nanos(),
            500_000_000
        );
    }

    #[test]
    fn a_bad_date_says_what_is_wrong() {
        assert!(parse("2026-13-01").is_err());
        assert!(parse("2026-02-30").is_err());
        assert!(parse("yesterday").is_err());
        assert!(parse("2026-01-01T25:00:00Z").is_err());
        assert!(parse("2026-01-01T06:00:00").is_err(), "no offset");
    }
}
