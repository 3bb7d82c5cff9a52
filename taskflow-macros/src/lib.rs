//! Procedural macros of `taskflow`: `#[task]`, `#[sensor]`, `#[dag]` and `#[task_group]`. Use them through the `taskflow`
//! crate, which re-exports them and documents them.

#![forbid(unsafe_code)]

mod ast;
mod attr;
mod duration;
mod expand;
mod fallback;
mod group;
mod schedule;
mod sensor;
mod settings;
mod valid;

use expand::krate;
use proc_macro::TokenStream;

/// Turns a function into a task. Documented in the `taskflow` crate.
#[proc_macro_attribute]
pub fn task(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::task(attr.into(), item.into()).into()
}

/// Turns a function that checks a condition once into a sensor task. Documented in the
/// `taskflow` crate.
#[proc_macro_attribute]
pub fn sensor(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::sensor(attr.into(), item.into()).into()
}

/// Turns a function that calls tasks into a DAG builder. Documented in the `taskflow` crate;
/// the schedule options below need its `schedule` feature.
///
/// # Schedule options (feature `schedule`)
/// Each sets the `DagBuilder` method of the same name, and each is checked at compile time
/// as the runtime would check it when the DAG is built: a bad cron string, time zone, date or
/// duration is an error at its literal.
///
/// | option | default | meaning |
/// |---|---|---|
/// | `schedule = "0 3 * * *"` | none: the DAG runs when triggered | when the DAG runs on its own: a cron string or a preset (`"@hourly"`, `"@daily"`, `"@weekly"`, `"@monthly"`, `"@quarterly"`, `"@yearly"`), a run at each tick (Airflow 3's `CronTriggerTimetable`); `"@once"`; or an interval (`"30m"`, `"1h 30m"`), a run every interval (`DeltaTriggerTimetable`) |
/// | `timezone = "Asia/Seoul"` | `"UTC"` | the IANA time zone cron times are read in |
/// | `start_date = "2026-01-01"` | none | the first logical date covered: a date (midnight UTC) or an RFC 3339 time (`"2026-01-01T06:00:00+09:00"`) |
/// | `end_date = "2026-12-31"` | none | the last logical date covered, inclusive; not before `start_date` |
/// | `catchup = true` | `false`, as in Airflow 3 | whether the runs missed while the DAG was not scheduled are created; needs a `start_date` |
/// | `dagrun_timeout = "2h"` | none | how long a run may take before it fails; more than zero |
///
/// ```ignore
/// use taskflow::prelude::*;
///
/// #[task]
/// fn report() {}
///
/// #[dag(
///     schedule = "30 2 * * *",
///     timezone = "Europe/Zurich",
///     start_date = "2026-01-01",
///     catchup = true,
///     dagrun_timeout = "1h",
///     max_active_runs = 2
/// )]
/// fn nightly() {
///     report();
/// }
///
/// let dag = nightly()?;
/// let first = dag.next_dagrun_info(None, "2026-01-03T00:00:00Z".parse()?).unwrap();
/// assert_eq!(first.logical_date().to_rfc3339(), "2026-01-01T01:30:00+00:00"); // 02:30 CET
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[proc_macro_attribute]
pub fn dag(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::dag(attr.into(), item.into()).into()
}

/// Turns a function that calls tasks into a task group. Documented in the `taskflow` crate.
#[proc_macro_attribute]
pub fn task_group(attr: TokenStream, item: TokenStream) -> TokenStream {
    group::task_group(attr.into(), item.into()).into()
}
