//! The type-erased body behind a task node, implemented by `#[task]` expansions.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

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
    /// Starts one try: reads the arguments and runs the function (sync) or returns its future.
    fn invoke(&self, args: &mut crate::executor::Args<'_>) -> Invocation;
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
    Ok(Arc::new(value))
}

/// Wraps a `Result` return value, converting its error.
#[doc(hidden)]
pub fn output_result<T: Send + Sync + 'static, E: Into<TaskError>>(
    result: Result<T, E>,
) -> Outcome {
    match result {
        Ok(value) => Ok(Arc::new(value)),
        Err(error) => Err(error.into()),
    }
}

/// The success type of a task returning a `Result`.
#[doc(hidden)]
pub trait Fallible {
    type Ok;
}

impl<T, E> Fallible for Result<T, E> {
    type Ok = T;
}
