//! Sensor settings and the wait between two checks, with Airflow's exponential backoff.

use std::time::Duration;

use super::retry::jitter;

/// How a sensor waits between checks (Airflow's `mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SensorMode {
    /// Keeps its slot (parallelism and pool) between checks.
    Poke,
    /// Frees its slot between checks (state `up_for_reschedule`) and takes one again for
    /// each check.
    Reschedule,
}

/// The settings of a sensor: `#[sensor(...)]`, with Airflow's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SensorSettings {
    /// The wait between checks (default 60 s).
    pub poke_interval: Duration,
    /// How long the sensor may wait, counted from its first check (default 7 days).
    pub timeout: Duration,
    /// Poke (default) or reschedule.
    pub mode: SensorMode,
    /// Whether a timeout ends the sensor as skipped instead of failed (default no).
    pub soft_fail: bool,
    /// Whether the wait grows after each check, with jitter (default no).
    pub exponential_backoff: bool,
    /// The longest wait when backing off (default none).
    pub max_wait: Option<Duration>,
}

impl SensorSettings {
    /// Airflow's defaults: a check every 60 s for up to 7 days, in poke mode.
    pub const DEFAULT: SensorSettings = SensorSettings {
        poke_interval: Duration::from_secs(60),
        timeout: Duration::from_secs(7 * 24 * 60 * 60),
        mode: SensorMode::Poke,
        soft_fail: false,
        exponential_backoff: false,
        max_wait: None,
    };

    /// These settings with another poke interval.
    pub const fn with_poke_interval(mut self, interval: Duration) -> Self {
        self.poke_interval = interval;
        self
    }

    /// These settings with another timeout.
    pub const fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// These settings with another mode.
    pub const fn with_mode(mut self, mode: SensorMode) -> Self {
        self.mode = mode;
        self
    }

    /// These settings with `soft_fail` set.
    pub const fn with_soft_fail(mut self, soft_fail: bool) -> Self {
        self.soft_fail = soft_fail;
        self
    }

    /// These settings with `exponential_backoff` set.
    pub const fn with_exponential_backoff(mut self, backoff: bool) -> Self {
        self.exponential_backoff = backoff;
        self
    }

    /// These settings with a longest wait.
    pub const fn with_max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = Some(max_wait);
        self
    }

    /// The wait after check number `pokes` (1 after the first), `elapsed` after the first
    /// check began; never past the timeout.
    ///
    /// Without backoff it is `poke_interval`. With backoff, as Airflow computes it: the base
    /// is `poke_interval * 2^(pokes - 2)` in whole seconds (at least 1), the wait a value in
    /// `[base, 2 * base)` picked deterministically from `seed` and the check, capped by the
    /// time left before the timeout and by `max_wait`.
    pub(crate) fn next_wait(&self, pokes: u32, elapsed: Duration, seed: u64) -> Duration {
        let left = self.timeout.saturating_sub(elapsed);
        let wait = if self.exponential_backoff {
            let factor = 2f64.powi(i32::try_from(pokes).unwrap_or(i32::MAX) - 2);
            let base = (self.poke_interval.as_secs_f64() * factor)
                .floor()
                .clamp(1.0, u32::MAX as f64) as u64;
            let backoff = Duration::from_secs(base + jitter(seed, pokes) % base);
            self.max_wait.map_or(backoff, |max| backoff.min(max))
        } else {
            self.poke_interval
        };
        wait.min(left)
    }
}

impl Default for SensorSettings {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_wait_is_the_interval_cut_by_the_timeout_and_grows_with_backoff() {
        let mut settings = SensorSettings::DEFAULT;
        settings.poke_interval = Duration::from_secs(10);
        settings.timeout = Duration::from_secs(100);
        assert_eq!(
            settings.next_wait(3, Duration::ZERO, 7),
            Duration::from_secs(10)
        );
        assert_eq!(
            settings.next_wait(3, Duration::from_secs(95), 7),
            Duration::from_secs(5)
        );
        settings.exponential_backoff = true;
        let third = settings.next_wait(3, Duration::ZERO, 7); // base 20 s
        assert!(third >= Duration::from_secs(20) && third < Duration::from_secs(40));
    }

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn backoff_doubles_from_half_the_interval_within_jitter() {
        let settings = SensorSettings {
            poke_interval: 8 * SECOND,
            exponential_backoff: true,
            ..SensorSettings::DEFAULT
        };
        for pokes in 1..=6 {
            let base = (8.0 * 2f64.powi(pokes as i32 - 2)) as u64;
            let wait = settings.next_wait(pokes, Duration::ZERO, 42).as_secs();
            assert!(
                wait >= base && wait < 2 * base,
                "poke {pokes}: {wait} s, base {base}"
            );
            assert_eq!(
                settings.next_wait(pokes, Duration::ZERO, 42).as_secs(),
                wait
            );
        }
    }

    #[test]
    fn max_wait_and_the_timeout_cap_the_wait() {
        let settings = SensorSettings {
            poke_interval: 60 * SECOND,
            timeout: 600 * SECOND,
            exponential_backoff: true,
            max_wait: Some(90 * SECOND),
            ..SensorSettings::DEFAULT
        };
        assert_eq!(settings.next_wait(8, Duration::ZERO, 1), 90 * SECOND);
        assert_eq!(settings.next_wait(8, 550 * SECOND, 1), 50 * SECOND);
        assert_eq!(settings.next_wait(8, 700 * SECOND, 1), Duration::ZERO);
    }
}
