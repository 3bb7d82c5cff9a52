//! What the closure or `#[dag]` body that builds a DAG may return.

use crate::dag::IntoTasks;

/// What a DAG body returns: nothing, the handles of its last tasks, or a `Result` whose
/// `Err` fails the build with [`Error::BuildFailed`](crate::Error::BuildFailed).
///
/// ```
/// use taskflow::prelude::*;
///
/// #[task]
/// fn load() {}
///
/// let error = Dag::build("configured", || -> Result<(), String> {
///     load();
///     Err("no config file".into())
/// })
/// .unwrap_err();
/// assert_eq!(
///     error.to_string(),
///     "dag `configured`: building the DAG failed: no config file"
/// );
/// ```
#[diagnostic::on_unimplemented(
    message = "a DAG body returns `()`, task handles or `Result<(), E>`, not `{Self}`",
    note = "a body that always panics has the type `!`: end it with a statement that returns `()`"
)]
pub trait IntoBuildResult: sealed::Sealed {
    /// `Err` with the message of the body's error, if it failed.
    fn into_build_result(self) -> Result<(), String>;
}

impl IntoBuildResult for () {
    fn into_build_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: std::fmt::Display> IntoBuildResult for Result<(), E> {
    fn into_build_result(self) -> Result<(), String> {
        self.map_err(|error| error.to_string())
    }
}

/// A body ending in an expression such as `a >> b` builds the DAG it made.
impl<T: IntoTasks> IntoBuildResult for T {
    fn into_build_result(self) -> Result<(), String> {
        Ok(())
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for () {}
    impl<E> Sealed for Result<(), E> {}
    impl<T: crate::dag::IntoTasks> Sealed for T {}
}
