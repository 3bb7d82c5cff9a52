//! The error type of the library: everything that can go wrong outside a task body.

/// What went wrong while building, validating or running a DAG, or reading its report.
///
/// Task failures are not errors of this type: a failing task ends in [`TaskState::Failed`]
/// and the run goes on. Messages name the DAG or task concerned.
///
/// [`TaskState::Failed`]: crate::TaskState::Failed
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The edges of a DAG form a cycle.
    #[error("dag `{dag_id}` has a cycle of {}: {}", tasks_text(*.length), cycle_text(.tasks, *.length))]
    Cycle {
        /// The DAG.
        dag_id: String,
        /// The first tasks on the cycle (at most 8), in order, starting from the one added
        /// first; when that is the whole cycle, its first task is repeated at the end.
        tasks: Vec<String>,
        /// The number of tasks on the cycle.
        length: usize,
    },
    /// Two tasks have the same task id.
    #[error("dag `{dag_id}` has two tasks with the id `{task_id}`")]
    DuplicateTaskId {
        /// The DAG.
        dag_id: String,
        /// The repeated id.
        task_id: String,
    },
    /// A task group has the id of a task, or a task the id of a task group.
    #[error(
        "dag `{dag_id}` has a task group `{id}` and a task `{id}`: a group id must differ from every task id"
    )]
    TaskGroupIdCollision {
        /// The DAG.
        dag_id: String,
        /// The id of both.
        id: String,
    },
    /// Two task groups have the same id (`#[task_group]` suffixes repeated calls instead).
    #[error("dag `{dag_id}` has two task groups with the id `{group_id}`")]
    DuplicateTaskGroupId {
        /// The DAG.
        dag_id: String,
        /// The repeated id.
        group_id: String,
    },
    /// A task group id is empty or holds characters other than letters, digits, `_` and `-`.
    #[error(
        "dag `{dag_id}` has a task group with the invalid id {group_id:?}: a group id is 1 to 250 letters, digits, `_` or `-`"
    )]
    InvalidTaskGroupId {
        /// The DAG.
        dag_id: String,
        /// The rejected id.
        group_id: String,
    },
    /// A store could not be opened, read or written.
    #[error("store `{path}`: {reason}")]
    Store {
        /// Where the store is.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// A schedule (a cron string, a preset, an interval) or its time zone is not valid.
    #[error("schedule `{schedule}`: {reason}")]
    Schedule {
        /// The schedule as given.
        schedule: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A scheduler's settings or call are not valid.
    #[error("scheduler: {reason}")]
    InvalidScheduler {
        /// What is wrong.
        reason: String,
    },
    /// A scheduler, or the command line, was asked about a DAG it does not hold.
    #[error("no dag `{dag_id}` here")]
    UnknownDag {
        /// The DAG asked for.
        dag_id: String,
    },
    /// A run to create has the id of a run the store has already.
    #[error("dag `{dag_id}`: a run `{run_id}` exists already")]
    RunExists {
        /// The DAG.
        dag_id: String,
        /// The run's id.
        run_id: String,
    },
    /// A backfill cannot be made as asked.
    #[error("dag `{dag_id}`: cannot backfill: {reason}")]
    InvalidBackfill {
        /// The DAG.
        dag_id: String,
        /// Why.
        reason: String,
    },
    /// A run to resume is not in the store.
    #[error("dag `{dag_id}`: the store has no run `{run_id}` to resume")]
    NoStoredRun {
        /// The DAG.
        dag_id: String,
        /// The run asked for.
        run_id: String,
    },
    /// A run was asked to resume without a store to resume it from.
    #[error("dag `{dag_id}`: resuming run `{run_id}` needs a store (RunOptions::store)")]
    ResumeWithoutStore {
        /// The DAG.
        dag_id: String,
        /// The run asked for.
        run_id: String,
    },
    /// A value a store kept no longer decodes as its task's type: the task's type changed
    /// since the run was stored.
    #[error(
        "the stored value of task `{task_id}` was a `{stored_type}` and does not decode as \
         the task's `{task_type}`: {reason}"
    )]
    StoredValue {
        /// The task.
        task_id: String,
        /// The type of the value when it was stored.
        stored_type: String,
        /// The task's type now.
        task_type: String,
        /// Why it does not decode.
        reason: String,
    },
    /// A mapped task call is wired in a way that cannot be expanded.
    #[error("dag `{dag_id}`: task `{task_id}` cannot be mapped: {reason}")]
    Mapping {
        /// The DAG.
        dag_id: String,
        /// The mapped task.
        task_id: String,
        /// What is wrong, and what to do instead.
        reason: String,
    },
    /// A task id is empty or holds characters other than letters, digits, `_`, `-` and `.`.
    #[error(
        "dag `{dag_id}`: task id `{task_id}` is not valid: use letters, digits, `_`, `-` or `.`"
    )]
    InvalidTaskId {
        /// The DAG.
        dag_id: String,
        /// The rejected id.
        task_id: String,
    },
    /// An option of a task or DAG has a value that cannot work (a limit of zero, say).
    #[error("dag `{dag_id}`: {what} is not valid: {reason}")]
    InvalidOption {
        /// The DAG.
        dag_id: String,
        /// The option, and the task it belongs to if any.
        what: String,
        /// Why.
        reason: String,
    },
    /// A DAG id is empty or holds characters other than letters, digits, `_`, `-` and `.`.
    #[error("dag id `{dag_id}` is not valid: use letters, digits, `_`, `-` or `.`")]
    InvalidDagId {
        /// The rejected id.
        dag_id: String,
    },
    /// A handle made while building one DAG was used while building another one.
    #[error(
        "dag `{dag_id}`: task `{task_id}` was given a handle from another DAG; \
         handles are only valid inside the DAG that created them"
    )]
    ForeignHandle {
        /// The DAG being built.
        dag_id: String,
        /// The task that received the foreign handle.
        task_id: String,
    },
    /// An ordering edge (`>>`, `<<`, [`chain`](crate::chain)) was given a handle made while
    /// building another DAG.
    #[error(
        "dag `{dag_id}`: `>>`/`<<` was given a handle of another DAG ({}); handles are only \
         valid inside the DAG that created them",
        next_to(.task_id)
    )]
    ForeignOrderHandle {
        /// The DAG being built.
        dag_id: String,
        /// The task of this DAG on the other side of the edge, if that side is one.
        task_id: Option<String>,
    },
    /// A value that is not `Clone` is read by several parameters that take it by value.
    #[error(
        "dag `{dag_id}`: the value of task `{task_id}` (type `{type_name}`) is passed by value to \
         {readers} parameters but is not `Clone`; implement `Clone`, or take `&{type_name}` in the \
         downstream tasks to share it"
    )]
    ValueNotShareable {
        /// The DAG.
        dag_id: String,
        /// The producing task.
        task_id: String,
        /// The Rust type of the value.
        type_name: String,
        /// How many parameters read it.
        readers: usize,
    },
    /// A task's effective priority weight does not fit Airflow's 32-bit range.
    #[error(
        "dag `{dag_id}`: task `{task_id}` has an effective priority weight of {weight} under \
         weight rule `{rule}`, beyond the 32-bit range of Airflow's weights; lower the \
         priority_weight values or use weight_rule = \"absolute\""
    )]
    PriorityWeightOverflow {
        /// The DAG.
        dag_id: String,
        /// The task.
        task_id: String,
        /// Its weight rule.
        rule: String,
        /// The weight it came to.
        weight: i64,
    },
    /// An executor was given settings it cannot work with.
    #[error("invalid executor settings: {reason}")]
    InvalidExecutor {
        /// What is wrong.
        reason: String,
    },
    /// A [`RunHandle`](crate::RunHandle) was polled again after it gave its result.
    #[error("this run handle already gave its result")]
    RunHandleUsed,
    /// A task names a pool the executor does not have.
    #[error(
        "dag `{dag_id}`: task `{task_id}` uses pool `{pool}`, which this executor does not \
         have; add it with `Executor::builder().pool(\"{pool}\", slots)`"
    )]
    UnknownPool {
        /// The DAG.
        dag_id: String,
        /// A task that names the pool.
        task_id: String,
        /// The pool.
        pool: String,
    },
    /// A task names a pool that a run of the default executor (`Dag::run`, `Dag::test`) was
    /// not told of.
    #[error(
        "dag `{dag_id}`: task `{task_id}` uses pool `{pool}`, which this run does not declare; \
         declare it with `RunOptions::new().pool(\"{pool}\", slots)`, or run on an \
         `Executor` that has it"
    )]
    UndeclaredPool {
        /// The DAG.
        dag_id: String,
        /// A task that names the pool.
        task_id: String,
        /// The pool.
        pool: String,
    },
    /// A task needs more slots than its pool has, so it could never run.
    #[error(
        "dag `{dag_id}`: task `{task_id}` needs {needed} slots of pool `{pool}`, which has \
         only {slots}"
    )]
    PoolTooSmall {
        /// The DAG.
        dag_id: String,
        /// The task.
        task_id: String,
        /// The pool.
        pool: String,
        /// The slots the task takes.
        needed: u32,
        /// The slots the pool has.
        slots: u32,
    },
    /// `chain(...)` was given steps it cannot link.
    #[error("dag `{dag_id}`: chain: {reason}")]
    Chain {
        /// The DAG.
        dag_id: String,
        /// What was wrong.
        reason: String,
    },
    /// A task with retries takes a value that is not `Clone` by value: a retry would need it
    /// again after the first try consumed it.
    #[error(
        "dag `{dag_id}`: task `{task_id}` has retries but takes the value of `{upstream}` by value \
         and that value is not `Clone`; implement `Clone`, take it by reference, or drop the retries"
    )]
    NotCloneWithRetries {
        /// The DAG.
        dag_id: String,
        /// The reading task.
        task_id: String,
        /// The task whose value it reads.
        upstream: String,
    },
    /// A sensor takes a value that is not `Clone` by value: each check reads its arguments
    /// again.
    #[error(
        "dag `{dag_id}`: sensor `{task_id}` takes the value of `{upstream}` by value and that \
         value is not `Clone`, but every check reads it again; implement `Clone` or take it by \
         reference"
    )]
    NotCloneForSensor {
        /// The DAG.
        dag_id: String,
        /// The sensor.
        task_id: String,
        /// The task whose value it reads.
        upstream: String,
    },
    /// The closure or `#[dag]` body that builds the DAG panicked.
    #[error("dag `{dag_id}`: building the DAG panicked: {message}")]
    BuildPanicked {
        /// The DAG.
        dag_id: String,
        /// The panic message.
        message: String,
    },
    /// The closure or `#[dag]` body that builds the DAG returned an error.
    #[error("dag `{dag_id}`: building the DAG failed: {message}")]
    BuildFailed {
        /// The DAG.
        dag_id: String,
        /// The body's error, as text.
        message: String,
    },
    /// `Dag::run` was polled outside a tokio runtime.
    #[error(
        "dag `{dag_id}`: `run()` must be awaited inside a tokio runtime; \
         from synchronous code or a plain #[test], call `test()` instead"
    )]
    NoRuntime {
        /// The DAG.
        dag_id: String,
    },
    /// The OS refused the threads of the async runtime `Dag::test` brings.
    #[error("dag `{dag_id}`: the async runtime of `test()` did not start: {reason}")]
    TestRuntime {
        /// The DAG.
        dag_id: String,
        /// What the OS said.
        reason: String,
    },
    /// No task has this id.
    #[error("no task `{task_id}` in dag `{dag_id}`")]
    UnknownTask {
        /// The DAG.
        dag_id: String,
        /// The id looked up.
        task_id: String,
    },
    /// A task produced no value to read: it did not succeed, or its value was handed on.
    #[error("task `{task_id}` has no value: {reason}")]
    XcomMissing {
        /// The task.
        task_id: String,
        /// Why there is no value.
        reason: String,
    },
    /// A value was read back as another type than the task returned.
    #[error("the value of task `{task_id}` is a `{actual}`, not a `{requested}`")]
    XcomType {
        /// The task.
        task_id: String,
        /// The type asked for.
        requested: String,
        /// The type the task returned.
        actual: String,
    },
    /// A task's value does not encode to JSON: its type does not implement
    /// `serde::Serialize`, or its `Serialize` failed (a map with keys that are not strings,
    /// say).
    #[error("the value of task `{task_id}` (type `{type_name}`) does not encode to json: {reason}")]
    XcomNotEncodable {
        /// The task.
        task_id: String,
        /// The Rust type of the value.
        type_name: String,
        /// Why it does not encode.
        reason: String,
    },
    /// A task's value encodes to JSON but does not come back from it the same: its type
    /// does not implement `serde::Deserialize`, decoding failed, or the decoded value
    /// encodes to other JSON.
    #[error(
        "the value of task `{task_id}` (type `{type_name}`) does not decode from json: {reason}"
    )]
    XcomNotDecodable {
        /// The task.
        task_id: String,
        /// The Rust type of the value.
        type_name: String,
        /// Why it does not decode.
        reason: String,
    },
    /// A run parameter is missing or does not deserialize into the type asked for.
    #[error("param `{name}`: {reason}")]
    Param {
        /// The parameter.
        name: String,
        /// What was wrong.
        reason: String,
    },
}

fn next_to(task_id: &Option<String>) -> String {
    match task_id {
        Some(task_id) => format!("next to task `{task_id}`"),
        None => "on both sides".into(),
    }
}

fn tasks_text(count: usize) -> String {
    match count {
        1 => "1 task".to_owned(),
        _ => format!("{count} tasks"),
    }
}

/// The tasks of a cycle joined by arrows, ending with `...` when they are not all of it.
fn cycle_text(tasks: &[String], length: usize) -> String {
    let text = tasks.join(" -> ");
    if tasks.len() > length {
        text
    } else {
        format!("{text} -> ...")
    }
}

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
