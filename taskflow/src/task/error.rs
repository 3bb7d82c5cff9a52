//! [`TaskError`]: how a task body says it failed, or that it should be skipped.

use std::fmt;

/// The error a task returns. It works like `anyhow::Error`: any standard error converts into
/// it with `?`, and [`TaskError::msg`] makes one from a message.
///
/// Two constructors change what happens to the task rather than just failing it:
/// [`TaskError::skip`] ends it as skipped, [`TaskError::fail_now`] fails it without retries.
///
/// ```
/// use taskflow::TaskError;
///
/// fn parse(text: &str) -> Result<u64, TaskError> {
///     let n: u64 = text.trim().parse()?; // a ParseIntError converts
///     if n == 0 {
///         return Err(TaskError::msg("zero orders is not a valid batch"));
///     }
///     Ok(n)
/// }
/// assert_eq!(parse(" 7 ").unwrap(), 7);
/// assert_eq!(parse("0").unwrap_err().to_string(), "zero orders is not a valid batch");
/// assert!(parse("x").unwrap_err().to_string().contains("invalid digit"));
/// ```
pub struct TaskError {
    kind: TaskErrorKind,
    inner: Box<dyn std::error::Error + Send + Sync + 'static>,
}

/// What a [`TaskError`] asks the executor to do with the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskErrorKind {
    /// Fail this try; retries apply.
    Fail,
    /// Fail the task at once, without further retries.
    FailNow,
    /// End the task as skipped.
    Skip,
}

#[derive(Debug)]
struct Message(String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Message {}

impl TaskError {
    /// A failure with this message.
    pub fn msg(message: impl fmt::Display) -> Self {
        Self::with_kind(TaskErrorKind::Fail, message)
    }

    /// Ends the task as skipped (like raising `AirflowSkipException`); its downstream follows
    /// its trigger rules.
    pub fn skip(reason: impl fmt::Display) -> Self {
        Self::with_kind(TaskErrorKind::Skip, reason)
    }

    /// Fails the task without further retries (like `AirflowFailException`).
    pub fn fail_now(message: impl fmt::Display) -> Self {
        Self::with_kind(TaskErrorKind::FailNow, message)
    }

    /// Wraps any error, keeping it as the source.
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            kind: TaskErrorKind::Fail,
            inner: Box::new(error),
        }
    }

    fn with_kind(kind: TaskErrorKind, message: impl fmt::Display) -> Self {
        Self {
            kind,
            inner: Box::new(Message(message.to_string())),
        }
    }

    /// What this error asks the executor to do.
    pub fn kind(&self) -> TaskErrorKind {
        self.kind
    }

    /// The wrapped error, for downcasting to a concrete type.
    pub fn source_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.inner
    }

    /// The message followed by the messages of its sources, joined by `: `.
    pub fn chain_text(&self) -> String {
        let mut text = self.inner.to_string();
        let mut source = self.inner.source();
        while let Some(error) = source {
            text.push_str(": ");
            text.push_str(&error.to_string());
            source = error.source();
        }
        text
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            f.write_str(&self.chain_text())
        } else {
            fmt::Display::fmt(&self.inner, f)
        }
    }
}

impl fmt::Debug for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskError")
            .field("kind", &self.kind)
            .field("message", &self.chain_text())
            .finish()
    }
}

/// Adds context to an error on its way out of a task, like `anyhow::Context`.
///
/// ```
/// use taskflow::prelude::*;
///
/// fn read(path: &str) -> Result<String, TaskError> {
///     std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))
/// }
/// let error = read("/no/such/file.csv").unwrap_err();
/// assert!(error.to_string().starts_with("cannot read /no/such/file.csv: "), "{error}");
/// ```
pub trait ResultExt<T> {
    /// On error, a [`TaskError`] that reads `"{message}: {error}"`.
    fn context(self, message: impl fmt::Display) -> Result<T, TaskError>;
    /// Like [`ResultExt::context`], building the message only on error.
    fn with_context<M: fmt::Display>(self, message: impl FnOnce() -> M) -> Result<T, TaskError>;
}

impl<T, E: Into<TaskError>> ResultExt<T> for Result<T, E> {
    fn context(self, message: impl fmt::Display) -> Result<T, TaskError> {
        self.with_context(|| message)
    }

    fn with_context<M: fmt::Display>(self, message: impl FnOnce() -> M) -> Result<T, TaskError> {
        self.map_err(|error| {
            let error: TaskError = error.into();
            TaskError {
                kind: error.kind,
                inner: Box::new(Message(format!("{}: {error:#}", message()))),
            }
        })
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for TaskError {
    fn from(error: E) -> Self {
        Self::new(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn std_errors_convert_and_keep_their_chain() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("reading orders")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let error: TaskError = Outer(std::io::Error::other("disk gone")).into();
        assert_eq!(error.kind(), TaskErrorKind::Fail);
        assert_eq!(error.to_string(), "reading orders");
        assert_eq!(format!("{error:#}"), "reading orders: disk gone");
    }

    #[test]
    fn skip_and_fail_now_carry_their_kind() {
        assert_eq!(TaskError::skip("nothing to do").kind(), TaskErrorKind::Skip);
        assert_eq!(
            TaskError::fail_now("bad input").kind(),
            TaskErrorKind::FailNow
        );
        assert_eq!(TaskError::fail_now("bad input").to_string(), "bad input");
    }
}
