//! # taskflow
//!
//! Apache Airflow's TaskFlow model as an embedded Rust library. Mark plain functions
//! `#[task]`, call them inside a `#[dag]` function to wire a graph, and run it in your own
//! process: a task's return value flows, typed, to the tasks that take it as an argument.
//!
//! ```
//! use taskflow::prelude::*;
//!
//! #[task]
//! fn extract() -> Vec<u64> {
//!     vec![3, 4, 5]
//! }
//!
//! #[task]
//! fn transform(values: Vec<u64>, factor: u64) -> Vec<u64> {
//!     values.into_iter().map(|v| v * factor).collect()
//! }
//!
//! #[task]
//! async fn load(values: Vec<u64>) -> Result<u64, TaskError> {
//!     Ok(values.iter().sum())
//! }
//!
//! #[dag]
//! fn etl() {
//!     let values = extract();            // Xcom<Vec<u64>>: a handle, not the value
//!     let scaled = transform(values, 10); // a handle or a literal for each argument
//!     load(scaled);
//! }
//!
//! let report = etl().test()?;            // or `etl()?.run().await?` inside tokio
//! assert_eq!(report.state("load"), TaskState::Success);
//! assert_eq!(report.xcom::<u64>("load")?, 120);
//! assert_eq!(transform::call(vec![1], 2), vec![2]); // the plain function
//! # Ok::<(), taskflow::Error>(())
//! ```
//!
//! The parts:
//! - [`#[task]`](macro@task) and [`#[dag]`](macro@dag) turn functions into tasks and DAGs;
//!   [`Dag::build`] does the latter from a closure.
//! - [`Xcom<T>`] is the typed handle a task call returns; `>>`, `<<` and [`chain`] add
//!   ordering without data.
//! - [`Context`] is injected into a `&Context` parameter; [`TaskError`] is what tasks fail with.
//! - [`Dag::run`] and [`Dag::test`] run a DAG; [`RunReport`] tells what happened.
//! - [`Executor`] shares workers, a priority-ordered ready queue, pools and limits among
//!   many runs.
//!
//! Ordering: `a >> b` runs `b` after `a`, `a << b` the other way round. Either side may be a
//! handle ([`Xcom`], [`TaskRef`]), an array or `Vec` of handles, or a tuple `(a, b)` of
//! handles of different output types (one side must be a single handle). The operators
//! return `()`, so `a >> b;` is a plain statement, and chain as in Airflow: in
//! `a >> [b, c] >> d`, `d` runs after `b` and `c`. A list after a chained operator
//! (`a >> b >> [c, d]`) does not compile: write `b >> [c, d];` or use [`chain`]. Chains
//! continue by source location, so a macro that expands to chains nested in the operands
//! of another chain should link with [`chain`] instead.
//!
//! # Features
//! | feature | default | what it adds |
//! |---|---|---|
//! | `macros` | on | `#[task]`, `#[sensor]`, `#[dag]`, and `taskflow::sensors`' `date_time_sensor`, `time_delta_sensor`, `external_task_sensor` |
//! | `file-sensor` | on | `sensors::file_sensor`, with glob patterns (the dependency-free `glob` crate) |
//! | `object-store` | off | `sensors::object_store_sensor` and `sensors::object_key_sensor` on the `object_store` crate (re-exported): local files, memory, stores built in code |
//! | `cli` | off | `taskflow::cli`: a command line in Airflow's words (`dags test`, `dags list-runs`, `tasks clear`, ...) for the user's own binary, on `clap`; with `sqlite`, `schedule` and `progress` |
//! | `aws`, `gcp`, `azure` | off | `s3://`, `gs://`, `az://` URLs and stores (each pulls an HTTP and TLS stack) |
//!
//! [`Dag::test`] needs nothing else. [`Dag::run`] is awaited inside a tokio runtime of the
//! user's: depend on `tokio` with the `rt-multi-thread` and `macros` features for
//! `#[tokio::main]`.

#![doc(html_no_source)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// Without `macros` there are no ready-made sensors, so what only `external_task_sensor`
// reads is unused; the default build still checks for dead code.
#![cfg_attr(not(feature = "macros"), allow(dead_code))]

#[cfg(feature = "cli")]
#[cfg_attr(docsrs, doc(cfg(feature = "cli")))]
pub mod cli;
mod codec;
mod dag;
mod error;
pub mod events;
mod executor;
mod policy;
mod quiet;
mod report;
#[cfg(feature = "schedule")]
#[cfg_attr(docsrs, doc(cfg(feature = "schedule")))]
pub mod schedule;
#[cfg(feature = "schedule")]
#[cfg_attr(docsrs, doc(cfg(feature = "schedule")))]
pub mod scheduler;
#[cfg(feature = "macros")]
pub mod sensors;
mod size;
pub mod store;
mod task;
mod value;
mod view;
mod xcom;

pub use dag::{
    ChainSteps, Dag, DagBuilder, IntoBuildResult, IntoTasks, RunCallback, TaskGroup, TaskGroupRef,
    chain, task_group,
};
pub use dag::{Each, Mappable, each};
pub use error::{Error, Result};
pub use events::{DagRunEvent, Event, Listener, TaskInstanceEvent, WarningEvent};
pub use executor::{Executor, ExecutorBuilder, RunDag, RunHandle, RunOptions, TimeHold};
pub use policy::sensor::{SensorMode, SensorSettings};
pub use policy::trigger_rule::{TriggerRule, UnknownTriggerRule};
pub use policy::weight::{PriorityWeightStrategy, UnknownWeightRule, WeightInput, WeightRule};
pub use report::{DagRunState, RunReport, RunSummary, TaskReport, TaskSummary, TryReport};
pub use size::{DEFAULT_XCOM_SIZE_WARNING, SizeKind, ValueSize};
pub use task::branch::{BranchTarget, IntoBranch};
pub use task::context::{Context, Params};
pub use task::error::{ResultExt, TaskError, TaskErrorKind};
pub use task::options::{TaskCallback, TaskOptions};
pub use task::sensor::{IntoPoke, Poke};
pub use task::state::TaskState;
pub use xcom::{IntoArg, IntoOptionArg, TaskRef, Xcom};

/// The date and time library of logical dates and report times, re-exported so that users
/// need no version of their own.
pub use chrono;

/// The object-store library of the object-store sensors (S3, GCS, Azure, local files,
/// memory), re-exported so that stores built in code match the sensors' version.
#[cfg(feature = "object-store")]
#[cfg_attr(docsrs, doc(cfg(feature = "object-store")))]
pub use object_store;

/// The `indicatif` crate, re-exported for [`events::ProgressBar::with_target`].
#[cfg(feature = "progress")]
#[cfg_attr(docsrs, doc(cfg(feature = "progress")))]
pub use indicatif;

/// Turns a plain `fn` or `async fn` into a task.
///
/// Called inside a DAG (a `#[dag]` function or a [`Dag::build`] closure), the function does
/// not run: it adds a task node and returns an [`Xcom<T>`] handle to its future value. Each
/// parameter takes either a literal of its type or an `Xcom` of exactly its type; anything
/// else is a compile error at the argument.
///
/// | parameter type | what the task receives |
/// |---|---|
/// | `T` | the value: moved when this is its only reader, else cloned (`T: Clone`) |
/// | `&T` | the upstream value by reference, shared with other readers without a copy |
/// | `&[E]`, `&str`, `&std::path::Path` | the same for an upstream `Vec<E>`, `String`, `PathBuf` |
/// | `Option<T>` | takes an `Xcom<T>` (or an `Xcom<Option<T>>`, or a literal `Option<T>`): `None` when the upstream task ended without a value (failed, skipped, upstream_failed), as Airflow hands such a task `None`; for tasks on rules like `all_done` or `none_failed` |
/// | `Option<&T>` | the same, by reference (`Option<&str>` for an upstream `String`, ...) |
/// | `&Context` | the [`Context`] of the try: injected, not wired; [`Context::upstream_states`] tells how each upstream task ended |
/// | `&'static T` | a value like any other (string literals, say) |
///
/// Parameters are told apart by their types, not their names: `&Context` (or
/// `&taskflow::Context`) is the injected context, while a type of your own or of another crate
/// named by its path (`&tera::Context`, `&object_store::path::Path`) is an ordinary `&T`. A
/// plain `T` parameter whose upstream task ended without a value fails, saying so.
///
/// It returns `T`, `()` or `Result<T, E>` where `E` converts into [`TaskError`] (any standard
/// error does). An `Err` or a panic fails the task with its message kept. A `Result` under
/// another name (`type MyResult<T> = Result<T, MyError>`) also fails the task with its `Err`;
/// its handle is then an `Xcom` of the whole result, so write `Result<T, E>` for an `Xcom<T>`.
///
/// Attributes on a task function go where they apply: `#[cfg(..)]` on everything generated,
/// doc comments on the function that adds the task, lint levels (`#[allow(..)]`) and
/// `#[deprecated]` on both it and the plain function, and anything else (`#[tracing::instrument]`, say) on the plain
/// function `name::call`, which the task runs. Option values can come through
/// `macro_rules!` fragments (`#[task(pool = $pool)]`).
///
/// Generated next to the function, under the same name:
/// - `name::call(...)`: the original function, to call directly (in unit tests, say);
/// - `name::with(options).add(...)`: the task with per-call [`TaskOptions`], like Airflow's
///   `.override(...)`; `name::with("an_id")` sets only the id.
///
/// Calling the same task twice adds two nodes: `name`, then `name__1`, `name__2`, ...
///
/// # Mapping (Airflow's dynamic task mapping)
/// `name::expand(...)` maps the task over lists known only at run time: each argument is a
/// literal or handle as in a plain call (the same for every instance, Airflow's `partial`),
/// or [`each(...)`](each) of an `Xcom<Vec<T>>` (or of a literal `Vec`, array or `BTreeMap`)
/// whose elements feed a `T` parameter. The task runs once per element, each instance with
/// its own map index ([`Context::map_index`]), state, tries, retries, times and pool slots;
/// the ready queue orders instances by priority weight, logical date, then map index.
/// The call returns an `Xcom<Vec<R>>` of the instances' values in map-index order, which a
/// `Vec<R>` (or `&[R]`) parameter reduces, and which another `expand` maps over again.
///
/// | call | instances |
/// |---|---|
/// | `f::expand(each(xs), 5)` | one per element of `xs`, each with `5` |
/// | `f::expand(each(xs), each(ys))` | the cross product, the last argument varying fastest: `(x0, y0), (x0, y1), ...` |
/// | `f::expand(each(xs).zip(ys))` | one per pair, as far as the shorter list goes (Airflow's `.zip()`); `zip_longest` gives `Option`s, `zip_fill` a fill value |
/// | `f::expand_kwargs(each(sets))` | one per argument set: an element converts into the tuple of the parameters (`(A, B)`, or a struct with `impl From<Row> for (A, B)`) |
/// | `f::with(options).expand(...)` | the same, with per-call options (`retries`, `pool`, ...) for every instance |
///
/// As in Airflow: a failed instance fails only itself; the downstream tasks see the mapped
/// task as a whole through their trigger rules (failed if an instance failed, else
/// upstream_failed, skipped or success), and a reduce that runs despite failures (say
/// `all_done`) receives the values of the instances that produced one. No element at all
/// skips the mapped task, and a reduce that runs anyway receives an empty list. A list
/// longer than `max_map_length` (1024 unless the DAG or executor sets it) fails the task
/// that returned it, and the mapped task is then upstream_failed. The report has each
/// instance: [`RunReport::instances`], [`RunReport::instance_xcom`].
///
/// ```
/// use taskflow::prelude::*;
///
/// #[task]
/// fn files() -> Vec<String> {
///     vec!["a.csv".into(), "b.csv".into(), "c.csv".into()]
/// }
///
/// #[task(retries = 2)]
/// fn rows(file: String, sep: char) -> usize {
///     file.len() + usize::from(sep == ',')
/// }
///
/// #[task]
/// fn total(counts: Vec<usize>) -> usize {
///     counts.iter().sum()
/// }
///
/// let report = Dag::build("mapped", || {
///     total(rows::expand(each(files()), ','));
/// })?
/// .test()?;
/// assert_eq!(report.xcom::<Vec<usize>>("rows")?, [6, 6, 6]);
/// assert_eq!(report.xcom::<usize>("total")?, 18);
/// assert_eq!(report.instances("rows").len(), 3);
/// # Ok::<(), taskflow::Error>(())
/// ```
///
/// A [`#[task_group]`](macro@task_group) maps too, copying all its tasks per map index
/// (Airflow's mapped task groups), and mapping nests inside it to any depth.
///
/// # Options
/// Airflow's names and meanings. Each is checked at compile time: an unknown option or a
/// bad value is an error under its token. Durations are strings of numbers with units `ms`,
/// `s`, `m`, `h`, `d` (`"500ms"`, `"1h30m"`, `"1.5s"`), read exactly, in whole milliseconds.
/// Options left out fall back to the DAG's `default_args`, then to the default below.
///
/// | option | default | meaning |
/// |---|---|---|
/// | `task_id = "id"` | the function's name | the task id (suffixed `__1`, `__2` on repeated calls) |
/// | `trigger_rule = "none_failed"` | `"all_success"` | when the task runs, from its direct upstream states; see [`TriggerRule`] |
/// | `retries = 3` | `0` | how many times a failed try is retried |
/// | `retry_delay = "30s"` | `"5m"` | the wait before each retry; the task is `up_for_retry` meanwhile and holds no worker |
/// | `retry_exponential_backoff` (or `= true`) | off | the wait doubles per try, with jitter in `[d, 2d)` derived from the task and try |
/// | `max_retry_delay = "10m"` | `"24h"` | the longest wait between tries when backing off |
/// | `execution_timeout = "1h"` | none | the longest a try may run: an async try is cancelled, a blocking one is left to finish on its thread; the try fails and may be retried |
/// | `on_execute_callback = path` | none | a [`TaskCallback`] called before each try |
/// | `on_success_callback = path` | none | called when the task succeeds |
/// | `on_failure_callback = path` | none | called when the task fails for good, with the error |
/// | `on_retry_callback = path` | none | called when a try fails and a retry is scheduled, with the error |
/// | `on_skipped_callback = path` | none | called when the task skips itself ([`TaskError::skip`]) |
/// | `priority_weight = 10` | `1` | the task's own priority in the ready queue (an `i32`, may be negative) |
/// | `weight_rule = "absolute"` | `"downstream"` | the effective weight: own (`absolute`), own plus all descendants' (`downstream`) or all ancestors' (`upstream`); see [`WeightRule`] and [`Dag::priority_weight`] |
/// | `pool = "name"` | `"default_pool"` | the [`Executor`] pool whose slots the task takes while it runs |
/// | `pool_slots = 2` | `1` | how many slots of its pool it takes |
/// | `max_active_tis_per_dag = 1` | none | at most this many tries of the task at once, across the runs of its DAG on one executor |
/// | `setup` | off | a setup task: creates what teardown tasks release |
/// | `teardown` | off | a teardown task: runs when its setups succeeded even if work between failed (trigger rule `all_done_setup_success`), and does not decide the run's state |
/// | `branch` | off | the function returns which direct downstream tasks to follow ([`IntoBranch`]); the others are skipped |
/// | `short_circuit` | off | the function returns `bool`; `false` skips downstream tasks |
/// | `ignore_downstream_trigger_rules = false` | `true` | with `short_circuit`: `true` skips every descendant, `false` only direct ones, later tasks following their rules |
/// | `multiple_outputs` | off | the function returns a tuple and the call gives a tuple of handles, one per part |
/// | `crate = "path"` | `"::taskflow"` | where `taskflow` is, if renamed in `Cargo.toml` |
///
/// The same options are set from code with [`TaskOptions`], per call
/// (`name::with(options).add(...)`) or as a DAG's defaults ([`DagBuilder::default_args`]).
///
/// ```
/// use taskflow::prelude::*;
///
/// #[task]
/// fn orders() -> Vec<f64> {
///     vec![12.5, 80.0, 3.0]
/// }
///
/// #[task(task_id = "large_orders")]
/// fn large(orders: &[f64], min: f64) -> usize {
///     orders.iter().filter(|&&amount| amount >= min).count()
/// }
///
/// #[task(trigger_rule = "all_done")]
/// async fn notify(ctx: &Context, count: usize) -> Result<String, TaskError> {
///     Ok(format!("{}: {count} large orders", ctx.run_id()))
/// }
///
/// let dag = Dag::build("orders", || {
///     let all = orders();
///     let count = large(all, 50.0);
///     large::with("huge_orders").add(all, 75.0);
///     notify(count);
/// })?;
/// assert_eq!(dag.task_ids(), ["orders", "large_orders", "huge_orders", "notify"]);
/// let report = dag.test()?;
/// assert_eq!(report.xcom::<usize>("large_orders")?, 1);
/// assert_eq!(large::call(&[60.0, 70.0], 65.0), 1);
/// # Ok::<(), taskflow::Error>(())
/// ```
#[cfg(feature = "macros")]
pub use taskflow_macros::task;

/// Turns a function that checks a condition once into a sensor: a task that checks again and
/// again until the condition holds, then lets its downstream tasks run.
///
/// The function returns [`Poke<T>`] (`Poke::Done(value)`, whose value flows downstream as
/// the sensor's `Xcom<T>`, like Airflow's `PokeReturnValue`, or `Poke::NotYet`) or `bool`
/// (an `Xcom<()>`), or a `Result` of either: an error fails the check and follows the
/// task's retries. Parameters are wired as for [`#[task]`](macro@task), which options it
/// also takes.
///
/// # Options
/// | option | default | meaning |
/// |---|---|---|
/// | `poke_interval = "30s"` | `"60s"` | the wait between checks |
/// | `timeout = "1h"` | `"7d"` | how long the sensor may wait, from its first check, across reschedules; a timeout fails it without retries |
/// | `mode = "reschedule"` | `"poke"` | `poke` keeps its slot (parallelism and pool) between checks; `reschedule` frees it, waits as `up_for_reschedule`, and takes a slot again for each check |
/// | `soft_fail` | off | a timeout ends the sensor as skipped instead of failed |
/// | `exponential_backoff` | off | the wait grows after each check (doubling, with deterministic jitter), capped by `max_wait` and by the time left |
/// | `max_wait = "5m"` | none | the longest wait when backing off |
///
/// Waits take virtual time in [`Dag::test`]: a sensor with a one-hour timeout is tested in
/// milliseconds.
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use taskflow::prelude::*;
///
/// static ROWS: AtomicU32 = AtomicU32::new(0);
///
/// #[sensor(poke_interval = "1m", timeout = "1h", mode = "reschedule")]
/// fn rows_arrived() -> Poke<u32> {
///     match ROWS.fetch_add(1, Ordering::SeqCst) {
///         0..=2 => Poke::NotYet,          // three checks find nothing
///         n => Poke::Done(n * 100),
///     }
/// }
///
/// #[task]
/// fn load(rows: u32) -> u32 {
///     rows
/// }
///
/// let report = Dag::build("wait_for_rows", || {
///     load(rows_arrived());
/// })?
/// .test()?;
/// assert_eq!(report.xcom::<u32>("load")?, 300);
/// let sensor = report.task("rows_arrived").unwrap();
/// assert!(sensor.duration.unwrap() >= std::time::Duration::from_secs(180)); // virtual
/// # Ok::<(), taskflow::Error>(())
/// ```
#[cfg(feature = "macros")]
pub use taskflow_macros::sensor;

/// Turns a function whose body calls tasks into a function that builds a [`Dag`].
///
/// `#[dag] fn etl() { ... }` becomes `fn etl() -> taskflow::Result<Dag>`: the body runs once
/// inside [`Dag::build`], with the function's name as the DAG id. The function may take
/// parameters (captured by the body).
///
/// # Options
/// | option | default | meaning |
/// |---|---|---|
/// | `dag_id = "id"` | the function's name | the DAG id |
/// | `default_args(retries = 2, retry_delay = "1m", ...)` | none | defaults for every task: any of `#[task]`'s `trigger_rule`, `retries`, `retry_delay`, `retry_exponential_backoff`, `max_retry_delay`, `execution_timeout`, `on_*_callback`, `priority_weight`, `weight_rule`, `pool`, `pool_slots` and `max_active_tis_per_dag`; a task's own options win |
/// | `on_success_callback = path` | none | a [`RunCallback`] called with the report when the run succeeds |
/// | `on_failure_callback = path` | none | called with the report when the run fails |
/// | `max_active_tasks = 4` | the executor's (none on the default one) | at most this many tasks of one run at once |
/// | `max_active_runs = 1` | the executor's (none on the default one) | at most this many runs of the DAG at once on one executor; later runs wait |
/// | `crate = "path"` | `"::taskflow"` | where `taskflow` is, if renamed in `Cargo.toml` |
///
/// ```
/// use taskflow::prelude::*;
///
/// #[task]
/// fn say(word: &'static str) -> &'static str {
///     word
/// }
///
/// #[dag(dag_id = "greeting")]
/// fn hello(times: usize) {
///     let first = say("hello");
///     for _ in 0..times {
///         first >> say("world");
///     }
/// }
///
/// let dag = hello(2)?;
/// assert_eq!(dag.dag_id(), "greeting");
/// assert_eq!(dag.downstream_task_ids("say")?, ["say__1", "say__2"]);
/// assert!(hello(1).test()?.succeeded());
/// # Ok::<(), taskflow::Error>(())
/// ```
#[cfg(feature = "macros")]
pub use taskflow_macros::dag;

/// Turns a function whose body calls tasks into a task group (Airflow's `@task_group`).
///
/// Calling the function inside a DAG body runs its body inside a [`TaskGroup`]: the ids of
/// the tasks it adds are prefixed with the group id (`extract.parse`; nested groups chain:
/// `outer.inner.parse`), and the group's `default_args` apply to them, above the enclosing
/// group's and the DAG's defaults and below a task's own options. The function takes plain
/// Rust parameters (handles, literals: the body runs while the DAG is built) and returns
/// what its body returns; a body returning nothing returns the group's [`TaskGroupRef`], as
/// in Airflow. `name::with_group(...)` returns the body's value together with the group.
///
/// A group orders as a whole: `start >> group` runs the group's roots (its tasks without an
/// upstream inside the group) after `start`, `group >> load` runs `load` after its leaves
/// (without a downstream inside it). Roots and leaves are found when the DAG is complete, so
/// an edge added inside the group after the `>>` counts too.
///
/// Calling the same group function again gives `group__1`, `group__2`, ... A group id equal
/// to a task id is an error when the DAG is built.
///
/// # Mapped task groups
/// For a group whose body returns an `Xcom<R>` (or nothing), `name::expand(...)` maps the
/// whole group at run time (Airflow's mapped task groups): its `Xcom<T>` parameters take a
/// handle, a literal or [`each(...)`](each) (the cross product when several are mapped),
/// other parameters a plain value; each map index runs a copy of the group's tasks, and
/// inside a copy each task waits for, and reads, the tasks of its own copy only. The call
/// returns an `Xcom<Vec<R>>` of the copies' values in map-index order (those that produced
/// one). A mapping inside the body expands per copy, to a length of its own, and groups nest
/// to any depth, which Airflow refuses: an instance's map indexes, outermost first, are its
/// map path ([`Context::map_path`], [`TaskReport::map_path`]).
///
/// ```
/// use taskflow::prelude::*;
///
/// #[task]
/// fn files() -> Vec<String> {
///     vec!["a b".into(), "c".into()]
/// }
///
/// #[task]
/// fn words(file: String) -> Vec<String> {
///     file.split(' ').map(str::to_owned).collect()
/// }
///
/// #[task]
/// fn shout(word: String) -> String {
///     word.to_uppercase()
/// }
///
/// #[task]
/// fn joined(words: Vec<String>) -> String {
///     words.join("+")
/// }
///
/// #[task_group]
/// fn per_file(file: Xcom<String>) -> Xcom<String> {
///     joined(shout::expand(each(words(file)))) // for each file, for each word
/// }
///
/// let report = Dag::build("nested", || {
///     per_file::expand(each(files()));
/// })?
/// .test()?;
/// assert_eq!(report.xcom::<Vec<String>>("per_file")?, ["A+B", "C"]);
/// let paths: Vec<Vec<u32>> = report
///     .instances("per_file.shout")
///     .into_iter()
///     .map(|instance| instance.map_path)
///     .collect();
/// assert_eq!(paths, [vec![0, 0], vec![0, 1], vec![1, 0]]);
/// # Ok::<(), taskflow::Error>(())
/// ```
///
/// # Options
/// | option | default | meaning |
/// |---|---|---|
/// | `group_id = "id"` | the function's name | the group id: letters, digits, `_` and `-` |
/// | `prefix_group_id = false` | `true` | whether the group's task and group ids are prefixed with its id |
/// | `default_args(retries = 2, ...)` | none | defaults for the group's tasks, the same keys as `#[dag(default_args(...))]` |
/// | `crate = "path"` | `"::taskflow"` | where `taskflow` is, if renamed in `Cargo.toml` |
///
/// ```
/// use taskflow::prelude::*;
///
/// #[task]
/// fn list(prefix: String) -> Vec<String> {
///     vec![format!("{prefix}/a"), format!("{prefix}/b")]
/// }
///
/// #[task]
/// fn count(files: Vec<String>) -> usize {
///     files.len()
/// }
///
/// #[task_group(default_args(retries = 2))]
/// fn extract(prefix: &str) -> Xcom<usize> {
///     count(list(prefix))
/// }
///
/// #[task]
/// fn start() {}
///
/// #[task]
/// fn load(n: usize) -> usize {
///     n
/// }
///
/// #[dag]
/// fn etl() {
///     let (n, group) = extract::with_group("in");
///     start() >> group;
///     load(n);
/// }
///
/// let dag = etl()?;
/// assert_eq!(dag.task_ids(), ["extract.list", "extract.count", "start", "load"]);
/// assert_eq!(dag.task_options("extract.count")?.retries, Some(2));
/// assert_eq!(dag.upstream_task_ids("extract.list")?, ["start"]);
/// assert_eq!(etl()?.test()?.xcom::<usize>("load")?, 2);
/// # Ok::<(), taskflow::Error>(())
/// ```
#[cfg(feature = "macros")]
pub use taskflow_macros::task_group;

/// The README's example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExample;

/// The names a DAG file needs: `use taskflow::prelude::*;`.
pub mod prelude {
    pub use crate::{
        Context, Dag, DagRunState, Executor, Params, Poke, ResultExt, RunDag, RunOptions,
        RunReport, TaskError, TaskGroup, TaskGroupRef, TaskOptions, TaskRef, TaskState,
        TriggerRule, Xcom, chain, each,
    };
    #[cfg(feature = "macros")]
    pub use crate::{dag, sensor, task, task_group};
}

/// Items used by the code `#[task]` and `#[dag]` generate. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::codec::{
        Codec, DeserializeProbe, SerializeProbe, ViaDeserialize, ViaNoDeserialize, ViaNoSerialize,
        ViaSerialize,
    };
    pub use crate::executor::Args;
    pub use crate::task::body::{
        BoxFuture, Fallible, Invocation, OutputProbe, TaskBody, TaskKind, ViaResult, ViaValue,
        branch_targets, output, output_parts, output_result, part, proceeds, returns_bool,
    };
    pub use crate::task::context::InjectedContext;
    pub use crate::task::sensor::{poked, poked_result};
    use crate::xcom::{Arg, ReadMode};
    pub use crate::xcom::{
        CloneProbe, IntoArg, IntoOptionArg, ReadMode as Mode, SharedArg, SharedOrNone, SharedParam,
        ViaClone, ViaNoClone,
    };
    pub use std::boxed::Box;
    pub use std::marker::PhantomData;
    pub use std::option::Option;
    pub use std::result::Result;
    pub use std::sync::Arc;

    /// Adds a task node to the DAG being built on this thread, with its per-call options
    /// if the call has any.
    pub fn add_task<T>(
        body: &'static dyn TaskBody,
        options: Option<Box<crate::TaskOptions>>,
        args: impl IntoIterator<Item = (Arg, ReadMode)>,
    ) -> crate::Xcom<T> {
        crate::dag::add_task(body, options, args)
    }

    pub use crate::value::Value;

    /// Adds a mapped task call (`expand`, `expand_kwargs`) to the DAG being built on this
    /// thread.
    pub fn add_mapped_task<R>(
        body: &'static dyn TaskBody,
        options: Option<Box<crate::TaskOptions>>,
        args: Vec<Arg>,
        collected: crate::dag::Collected,
    ) -> crate::Xcom<Vec<R>> {
        crate::dag::add_mapped_task(body, options, args, collected)
    }

    /// How a mapped task's instances' `R` values are collected into a `Vec<R>`.
    pub fn collected<R: Send + Sync + 'static>(
        codec: Codec,
        clone: Option<fn(&R) -> R>,
    ) -> crate::dag::Collected {
        crate::dag::Collected::of::<R>(codec, clone)
    }

    /// The argument of `expand_kwargs`: each element of `source` converts into a tuple of
    /// parameters, split into one value each by `split`.
    pub fn argument_sets<M, P>(source: M, width: u32, split: fn(M::Item) -> Vec<Value>) -> Arg
    where
        M: crate::Mappable,
        M::Item: Clone + Send + Sync + 'static,
    {
        crate::dag::argument_sets(crate::each(source), width, split)
    }

    pub use crate::dag::IntoGroupResult;

    /// The placeholder handle of the next parameter of a mapped task group's body.
    pub fn group_param<T>() -> crate::Xcom<T> {
        crate::dag::group_param()
    }

    /// What a group body returned, as the group's value.
    pub fn group_result<G: IntoGroupResult>(result: G) -> Option<(crate::TaskRef, u32)> {
        result.into_group_result()
    }

    /// Adds a mapped task group (a `#[task_group]`'s `expand`) to the DAG being built on
    /// this thread.
    pub fn add_mapped_group<R>(
        group_id: &'static str,
        args: Vec<Arg>,
        body: impl FnOnce() -> Option<(crate::TaskRef, u32)>,
        collected: crate::dag::Collected,
    ) -> crate::Xcom<Vec<R>> {
        crate::dag::add_mapped_group(group_id, args, body, collected)
    }

    /// One argument of a task call.
    pub fn arg<T, A: IntoArg<T>>(argument: A, mode: ReadMode) -> (Arg, ReadMode) {
        (argument.into_arg(), mode)
    }

    /// One argument of an `Option<T>` parameter.
    pub fn option_arg<T, A: IntoOptionArg<T>>(argument: A, mode: ReadMode) -> (Arg, ReadMode) {
        (argument.into_arg(), mode)
    }

    /// The read mode of a by-value parameter, from whether its type is `Clone`.
    pub fn owned_mode<T>(clone: Option<fn(&T) -> T>) -> ReadMode {
        if clone.is_some() {
            ReadMode::OwnedClone
        } else {
            ReadMode::OwnedMove
        }
    }

    /// The type name of `T`, for messages.
    pub fn type_name<T: ?Sized>() -> &'static str {
        std::any::type_name::<T>()
    }
}
