//! The type-erased body behind a task node, implemented by `#[task]` expansions.

use std::future::Future;
use std::pin::Pin;

use crate::xcom::Value;
use crate::{TaskError, TaskOptions};

/// What one try of a task produced: its value or its error.
pub(crate) type Outcome = Result<Value, TaskError>;

/// A boxed task future.
#[doc(hidden)]
pub type BoxFuture = Pin<Box<dyn Future<Output = Result<Value, TaskError>> + Send>>;

/// The body of a task as the executor calls it. `#[task]` implements it for each function.
#[doc(hidden)]
pub trait TaskBody: Send + Sync + 'static {
    /// The default task id: the function's name or its `task_id` option.
    fn name(&self) -> &'static str;
    /// The options given on `#[task(...)]`.
    fn options(&self) -> &TaskOptions {
        static EMPTY: TaskOptions = TaskOptions::EMPTY;
        &EMPTY
    }
    /// The Rust type of the value the task returns, for messages.
    fn output_type(&self) -> &'static str;
    /// Whether the body is an `async fn`.
    fn is_async(&self) -> bool {
        false
    }
    /// For a `multiple_outputs` task, how many parts its tuple value has; 0 otherwise.
    fn output_parts(&self) -> u32 {
        0
    }
    /// How the task's value crosses a boundary as JSON (`part` is `None`), or part `index`
    /// of a `multiple_outputs` value (`Some(index)`): for such a task, the whole tuple's
    /// codec gives only its shallow size and name, each part encodes on its own.
    fn codec(&self, part: Option<u32>) -> crate::codec::Codec {
        let _ = part;
        crate::codec::Codec::NONE
    }
    /// What kind of task it is: plain, a branch, or a short-circuit.
    fn kind(&self) -> TaskKind {
        TaskKind::Plain
    }
    /// Starts one try: reads the arguments and runs the function (sync) or returns its future.
    fn invoke(&self, args: &mut crate::executor::Args<'_>) -> Invocation;
}

/// How a task's success steers its downstream tasks.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub enum TaskKind {
    /// All downstream tasks follow their trigger rules.
    Plain,
    /// The value names the direct downstream tasks to follow; the others are skipped.
    Branch(fn(&Value) -> Vec<crate::task::branch::BranchTarget>),
    /// A false value skips the downstream tasks: all descendants, or only the direct
    /// downstream tasks when downstream trigger rules are respected.
    ShortCircuit {
        proceed: fn(&Value) -> bool,
        ignore_downstream_trigger_rules: bool,
    },
    /// A sensor: each try checks until done, waiting between checks as the settings say;
    /// the value of a done check flows downstream.
    Sensor(crate::policy::sensor::SensorSettings),
}

/// The branch targets of a branch task's value.
#[doc(hidden)]
pub fn branch_targets<T: crate::IntoBranch + 'static>(
    value: &Value,
) -> Vec<crate::task::branch::BranchTarget> {
    value
        .downcast_ref::<T>()
        .map(crate::IntoBranch::targets)
        .unwrap_or_default()
}

/// The return type of a short-circuit task: `bool`.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "a #[task(short_circuit)] function returns `bool`, not `{Self}`",
    label = "true lets the downstream tasks run, false skips them"
)]
pub trait ShortCircuitOutput {}

impl ShortCircuitOutput for bool {}

/// Checks at compile time that a short-circuit task returns `bool`.
#[doc(hidden)]
pub fn returns_bool<T: ShortCircuitOutput>() {}

/// Whether a short-circuit task's value lets the downstream tasks run.
#[doc(hidden)]
pub fn proceeds(value: &Value) -> bool {
    value.downcast_ref::<bool>().copied().unwrap_or(true)
}

/// A started try: finished already, or a future to drive.
#[doc(hidden)]
pub enum Invocation {
    Ready(Result<Value, TaskError>),
    Pending(BoxFuture),
}

impl Invocation {
    /// A try that failed before the function ran (an argument could not be read).
    pub fn failed(error: TaskError) -> Self {
        Self::Ready(Err(error))
    }
}

/// Wraps a plain return value.
#[doc(hidden)]
pub fn output<T: Send + Sync + 'static>(value: T) -> Outcome {
    Ok(Value::new(value))
}

/// Wraps a `Result` return value, converting its error.
#[doc(hidden)]
pub fn output_result<T: Send + Sync + 'static, E: Into<TaskError>>(
    result: Result<T, E>,
) -> Outcome {
    match result {
        Ok(value) => Ok(Value::new(value)),
        Err(error) => Err(error.into()),
    }
}

/// The parts of a `multiple_outputs` task's value, each stored on its own.
pub(crate) struct Parts(pub(crate) Vec<Value>);

/// Wraps the parts of a tuple value.
#[doc(hidden)]
pub fn output_parts(parts: Vec<Value>) -> Outcome {
    Ok(Value::new(Parts(parts)))
}

/// One part of a tuple value.
#[doc(hidden)]
pub fn part<T: Send + Sync + 'static>(value: T) -> Value {
    Value::new(value)
}

/// The success type of a task returning a `Result`.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "a task return type named `Result` is read as a `Result<T, E>`, and `{Self}` is not one",
    label = "not a `Result<T, E>`",
    note = "to return this type as a plain value, name it another way (`type Outcome = {Self};`)"
)]
pub trait Fallible {
    type Ok;
}

impl<T, E> Fallible for Result<T, E> {
    type Ok = T;
}

/// Picks how a task's return value becomes its outcome from the value's type, not from the
/// name it is written with: a `Result` (under any alias) fails the task with its `Err`, any
/// other value succeeds. Method resolution on `&&OutputProbe<R>` prefers the `Result` impl.
#[doc(hidden)]
pub struct OutputProbe<R>(pub std::marker::PhantomData<R>);

#[doc(hidden)]
pub trait ViaResult<T, E> {
    /// Keeps the whole `Ok` result (the handle's type is the `Result` as written) and fails
    /// the task with an `Err`.
    fn outcome_fn(&self) -> fn(Result<T, E>) -> Outcome
    where
        T: Send + Sync + 'static,
        E: Into<TaskError> + Send + Sync + 'static;
}

impl<T, E> ViaResult<T, E> for &OutputProbe<Result<T, E>> {
    fn outcome_fn(&self) -> fn(Result<T, E>) -> Outcome
    where
        T: Send + Sync + 'static,
        E: Into<TaskError> + Send + Sync + 'static,
    {
        |result| match result {
            Err(error) => Err(error.into()),
            ok => Ok(Value::new(ok)),
        }
    }
}

#[doc(hidden)]
pub trait ViaValue<R> {
    fn outcome_fn(&self) -> fn(R) -> Outcome
    where
        R: Send + Sync + 'static;
}

impl<R> ViaValue<R> for OutputProbe<R> {
    fn outcome_fn(&self) -> fn(R) -> Outcome
    where
        R: Send + Sync + 'static,
    {
        output::<R>
    }
}
