//! Checks of the waits a task's options ask for (retry delays, timeouts, sensor intervals):
//! a zero that would spin or never let a try run, or a wait too long for a run's clock.

use std::time::Duration;

use super::Node;
use crate::TaskOptions;
use crate::policy::retry::DEFAULT_RETRY_DELAY;
use crate::task::body::TaskKind;

/// The longest wait an option may ask for, and the longest a task's retries may wait in
/// all: 100 years (a run's clock spans about 146, so a longer wait would be cut short; a
/// longer timeout is one that never comes, and is allowed).
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// What is wrong with the waits of `node`: the option and why.
pub(crate) fn check(node: &Node, defaults: &TaskOptions) -> Result<(), (&'static str, String)> {
    let option = |get: fn(&TaskOptions) -> Option<Duration>| node.option(get).or(get(defaults));
    let timeout = option(|o| o.execution_timeout);
    if timeout == Some(Duration::ZERO) {
        return Err((
            "execution_timeout",
            "it must be longer than zero, or every try would time out at once".into(),
        ));
    }
    let delay = option(|o| o.retry_delay).unwrap_or(DEFAULT_RETRY_DELAY);
    let max_delay = option(|o| o.max_retry_delay);
    // A timeout longer than a run's clock spans is a timeout that never comes: fine. A
    // wait that long would be cut short, so it is refused.
    refuse_too_long([("retry_delay", Some(delay)), ("max_retry_delay", max_delay)])?;
    let retries = node.option(|o| o.retries).or(defaults.retries).unwrap_or(0);
    let backoff = node
        .option(|o| o.retry_exponential_backoff)
        .or(defaults.retry_exponential_backoff)
        .unwrap_or(false);
    // The longest one wait between tries can be: backoff grows up to its cap.
    let longest = if backoff {
        max_delay.unwrap_or(crate::policy::retry::MAX_BACKOFF)
    } else {
        delay
    };
    if longest.saturating_mul(retries) > MAX_WAIT {
        return Err((
            "retries",
            format!(
                "{retries} retries up to {longest:?} apart may wait longer than {} in all",
                days(MAX_WAIT)
            ),
        ));
    }
    let sensor = node
        .option(|o| o.sensor)
        .or(defaults.sensor)
        .or(match node.body.kind() {
            TaskKind::Sensor(settings) => Some(settings),
            _ => None,
        });
    if let Some(sensor) = sensor {
        if sensor.poke_interval.is_zero() {
            return Err((
                "poke_interval",
                "it must be longer than zero, or the sensor would check without a pause".into(),
            ));
        }
        if sensor.max_wait.is_some_and(|max| max.is_zero()) {
            return Err(("max_wait", "it must be longer than zero".into()));
        }
        refuse_too_long([
            ("poke_interval", Some(sensor.poke_interval)),
            ("max_wait", sensor.max_wait),
        ])?;
    }
    Ok(())
}

/// The first of `waits` (option name, wait if set) longer than [`MAX_WAIT`], as an error.
fn refuse_too_long<const N: usize>(
    waits: [(&'static str, Option<Duration>); N],
) -> Result<(), (&'static str, String)> {
    match waits.into_iter().find_map(|(name, wait)| {
        wait.filter(|&wait| wait > MAX_WAIT)
            .map(|wait| (name, wait))
    }) {
        Some((name, wait)) => Err((name, format!("{wait:?} is longer than {}", days(MAX_WAIT)))),
        None => Ok(()),
    }
}

fn days(wait: Duration) -> String {
    format!("{} days", wait.as_secs() / 86_400)
}
