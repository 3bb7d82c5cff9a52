//! Durations written as strings: `"500ms"`, `"30s"`, `"10m"`, `"2h"`, `"1d"`, `"1h30m"`.

/// The duration in milliseconds, or what is wrong with the text. Exact: `"1.001s"` is 1001
/// milliseconds, computed in integers.
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
        let scale: u128 = match unit.trim() {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "" => return Err(format!("`{number}` needs a unit: ms, s, m, h or d")),
            other => return Err(format!("unknown unit `{other}`; expected ms, s, m, h or d")),
        };
        let millis = scaled(number, scale)
            .ok_or_else(|| format!("expected a number before `{}`", unit.trim()))??;
        total = total.checked_add(millis).ok_or("duration too long")?;
        rest = tail.trim_start();
    }
    Ok(total)
}

/// `number` (digits, with an optional fraction) times `scale` milliseconds: `None` if it is
/// not a number, `Some(Err)` if it is too long or not whole milliseconds.
fn scaled(number: &str, scale: u128) -> Option<Result<u64, String>> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let is_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !is_digits(whole) || !is_digits(fraction) {
        return None;
    }
    let too_long = || Err("duration too long".to_owned());
    // Leading zeros of the whole part and trailing zeros of the fraction change nothing.
    let whole = whole.trim_start_matches('0');
    let fraction = fraction.trim_end_matches('0');
    if whole.len() > 20 || fraction.len() > 20 {
        return Some(too_long());
    }
    let parse = |digits: &str| digits.parse::<u128>().unwrap_or(0);
    let whole_millis = parse(whole) * scale;
    let denominator = 10u128.pow(fraction.len() as u32);
    let fraction_scaled = parse(fraction) * scale;
    if fraction_scaled % denominator != 0 {
        return Some(Err("durations are whole milliseconds".into()));
    }
    Some(
        u64::try_from(whole_millis + fraction_scaled / denominator)
            .map_err(|_| "duration too long".to_owned()),
    )
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
    fn fractions_are_exact_not_rounded_through_floats() {
        assert_eq!(parse_millis("1.001s"), Ok(1_001));
        assert_eq!(parse_millis("0.001s"), Ok(1));
        assert_eq!(parse_millis("2.25m"), Ok(135_000));
        assert_eq!(parse_millis("0.1h"), Ok(360_000));
        assert_eq!(parse_millis("1.50000s"), Ok(1_500));
        assert_eq!(parse_millis(".5s"), Ok(500));
        assert_eq!(parse_millis("1h30m"), Ok(5_400_000));
        assert_eq!(parse_millis("500ms"), Ok(500));
        assert_eq!(
            parse_millis("1.5ms").unwrap_err(),
            "durations are whole milliseconds"
        );
        assert_eq!(
            parse_millis("0.0001s").unwrap_err(),
            "durations are whole milliseconds"
        );
        assert_eq!(
            parse_millis("18446744073709551616ms").unwrap_err(),
            "duration too long"
        );
        assert_eq!(parse_millis("18446744073709551615ms"), Ok(u64::MAX));
        assert!(
            parse_millis("1..5s")
                .unwrap_err()
                .contains("expected a number")
        );
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
