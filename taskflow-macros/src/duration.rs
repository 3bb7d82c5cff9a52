//! Durations written as strings: `"500ms"`, `"30s"`, `"10m"`, `"2h"`, `"1d"`, `"1h30m"`.

/// The duration in milliseconds, or what is wrong with the text.
pub(crate) fn parse_millis(text: &str) -> Result<u64, String> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err("empty duration".into());
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let (number, tail) = rest.split_at(digits);
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let value: f64 = number
            .parse()
            .map_err(|_| format!("expected a number before `{unit}`"))?;
        let scale = match unit.trim() {
            "ms" => 1.0,
            "s" => 1_000.0,
            "m" => 60_000.0,
            "h" => 3_600_000.0,
            "d" => 86_400_000.0,
            "" => return Err(format!("`{number}` needs a unit: ms, s, m, h or d")),
            other => return Err(format!("unknown unit `{other}`; expected ms, s, m, h or d")),
        };
        let millis = value * scale;
        if millis.fract() != 0.0 {
            return Err("durations are whole milliseconds".into());
        }
        total = total
            .checked_add(millis as u64)
            .ok_or("duration too long")?;
        rest = tail.trim_start();
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::parse_millis;

    #[test]
    fn parses_units_and_sums() {
        assert_eq!(parse_millis("500ms"), Ok(500));
        assert_eq!(parse_millis("30s"), Ok(30_000));
        assert_eq!(parse_millis("10m"), Ok(600_000));
        assert_eq!(parse_millis("2h"), Ok(7_200_000));
        assert_eq!(parse_millis("1d"), Ok(86_400_000));
        assert_eq!(parse_millis("1h30m"), Ok(5_400_000));
        assert_eq!(parse_millis("1.5s"), Ok(1_500));
        assert_eq!(parse_millis("0s"), Ok(0));
    }

    #[test]
    fn rejects_bad_text() {
        assert!(parse_millis("").is_err());
        assert!(parse_millis("30").unwrap_err().contains("needs a unit"));
        assert!(
            parse_millis("3 weeks")
                .unwrap_err()
                .contains("unknown unit `weeks`")
        );
        assert!(parse_millis("1.0005s").is_err());
        assert!(parse_millis("s").is_err());
    }
}
