//! Retry delays, with Airflow's exponential backoff.

use std::time::Duration;

/// The `retry_delay` of a task that sets none (Airflow's five minutes).
pub(crate) const DEFAULT_RETRY_DELAY: Duration = Duration::from_secs(300);

/// The longest delay backoff produces before `max_retry_delay` applies (Airflow's cap, 24 h).
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(24 * 60 * 60);

/// How long to wait before the try after `failed_try` (1 for the first try).
///
/// Without backoff it is `delay`. With backoff, as Airflow computes it: the base is
/// `ceil(delay * 2^(failed_try - 1))` whole seconds (at least 1), the delay a value in
/// `[base, 2 * base)` picked deterministically from `seed` (the task and try), capped at
/// [`MAX_BACKOFF`] and then at `max_delay`.
pub(crate) fn retry_delay(
    delay: Duration,
    exponential_backoff: bool,
    max_delay: Option<Duration>,
    failed_try: u32,
    seed: u64,
) -> Duration {
    if !exponential_backoff {
        return delay;
    }
    let factor = 2f64.powi(i32::try_from(failed_try.saturating_sub(1)).unwrap_or(i32::MAX));
    let base = (delay.as_secs_f64() * factor)
        .ceil()
        .clamp(1.0, MAX_BACKOFF.as_secs_f64()) as u64;
    let jittered = base + jitter(seed, failed_try) % base;
    let backoff = Duration::from_secs(jittered).min(MAX_BACKOFF);
    max_delay.map_or(backoff, |max| backoff.min(max))
}

/// A deterministic pseudo-random number from the task and the try (FNV-1a, then mixed).
pub(crate) fn jitter(seed: u64, failed_try: u32) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in seed
        .to_le_bytes()
        .into_iter()
        .chain(failed_try.to_le_bytes())
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash ^ (hash >> 29)
}

/// A seed for [`retry_delay`] from the DAG, task and run, stable across processes.
pub(crate) fn retry_seed(dag_id: &str, task_id: &str, run_id: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in [dag_id, "#", task_id, "#", run_id]
        .into_iter()
        .flat_map(str::bytes)
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delay_is_the_delay_without_backoff_grows_with_it_and_is_capped() {
        let delay = Duration::from_secs(10);
        assert_eq!(retry_delay(delay, false, None, 3, 7), delay);
        let third = retry_delay(delay, true, None, 3, 7); // base 40 s
        assert!(third >= Duration::from_secs(40) && third < Duration::from_secs(80));
        let capped = retry_delay(delay, true, Some(Duration::from_secs(30)), 3, 7);
        assert_eq!(capped, Duration::from_secs(30));
    }

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn backoff_doubles_within_jitter_and_is_deterministic() {
        for failed_try in 1..=6 {
            let base = 5 * 2u64.pow(failed_try - 1);
            let delay = retry_delay(5 * SECOND, true, None, failed_try, 42);
            let base = Duration::from_secs(base);
            assert!(
                delay >= base && delay < 2 * base,
                "try {failed_try}: {delay:?}"
            );
            assert_eq!(delay, retry_delay(5 * SECOND, true, None, failed_try, 42));
        }
    }

    #[test]
    fn tiny_delays_back_off_from_one_second_and_huge_ones_are_capped() {
        let tiny = retry_delay(Duration::from_millis(10), true, None, 1, 1);
        assert!(tiny >= SECOND && tiny < 2 * SECOND);
        assert_eq!(retry_delay(3600 * SECOND, true, None, 60, 1), MAX_BACKOFF);
    }

    #[test]
    fn seeds_differ_by_task_and_run() {
        assert_ne!(retry_seed("d", "a", "r"), retry_seed("d", "b", "r"));
        assert_ne!(retry_seed("d", "a", "r1"), retry_seed("d", "a", "r2"));
    }
}
