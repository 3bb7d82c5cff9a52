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

#![doc(html_no_source)]

mod dag;
mod error;
mod executor;
pub mod policy;
mod report;
mod task;
mod xcom;

pub use dag::{ChainSteps, Dag, IntoTasks, chain};
pub use error::{Error, Result};
pub use executor::{RunDag, RunOptions};
pub use policy::trigger_rule::TriggerRule;
pub use report::{DagRunState, RunReport, TaskReport};
pub use task::context::{Context, Params};
pub use task::error::{TaskError, TaskErrorKind};
pub use task::options::TaskOptions;
pub use task::state::TaskState;
pub use xcom::{IntoArg, TaskRef, Xcom};

/// The date and time library of logical dates and report times, re-exported so that users
/// need no version of their own.
pub use chrono;

/// Turns a function into a task. See the crate documentation.
#[cfg(feature = "macros")]
pub use taskflow_macros::task;

/// Turns a function that calls tasks into a DAG builder. See the crate documentation.
#[cfg(feature = "macros")]
pub use taskflow_macros::dag;

/// The names a DAG file needs: `use taskflow::prelude::*;`.
pub mod prelude {
    pub use crate::{
        Context, Dag, DagRunState, Params, RunDag, RunOptions, RunReport, TaskError, TaskOptions,
        TaskRef, TaskState, TriggerRule, Xcom, chain,
    };
    #[cfg(feature = "macros")]
    pub use crate::{dag, task};
}

/// Items used by the code `#[task]` and `#[dag]` generate. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::executor::Args;
    pub use crate::task::body::{BoxFuture, Fallible, Invocation, TaskBody, output, output_result};
    use crate::xcom::{Arg, ReadMode};
    pub use crate::xcom::{CloneProbe, IntoArg, ReadMode as Mode, ViaClone, ViaNoClone};
    pub use std::boxed::Box;
    pub use std::marker::PhantomData;
    pub use std::option::Option;
    pub use std::result::Result;
    pub use std::sync::Arc;

    /// Adds a task node to the DAG being built on this thread.
    pub fn add_task<T>(
        body: &'static dyn TaskBody,
        options: crate::TaskOptions,
        args: impl IntoIterator<Item = (Arg, ReadMode)>,
    ) -> crate::Xcom<T> {
        crate::dag::add_task(body, options, args)
    }

    /// One argument of a task call.
    pub fn arg<T, A: IntoArg<T>>(argument: A, mode: ReadMode) -> (Arg, ReadMode) {
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
