//! Panics in task bodies become task failures: catching them in sync calls and futures.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::TaskError;
use crate::quiet::drop_payload;
pub(crate) use crate::quiet::panic_message;
use crate::task::body::{BoxFuture, Outcome};

/// The task failure that stands for a panic; the payload is dropped without letting a
/// panic of its own out.
pub(crate) fn panic_error(payload: Box<dyn Any + Send>) -> TaskError {
    let error = TaskError::msg(format!("task panicked: {}", panic_message(&*payload)));
    drop_payload(payload);
    error
}

/// A task future whose panics become failed outcomes.
pub(crate) struct CatchUnwind(pub(crate) BoxFuture);

impl Future for CatchUnwind {
    type Output = Outcome;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome> {
        match catch_unwind(AssertUnwindSafe(|| self.0.as_mut().poll(cx))) {
            Ok(poll) => poll,
            Err(payload) => Poll::Ready(Err(panic_error(payload))),
        }
    }
}
