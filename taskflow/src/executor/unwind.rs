//! Panics in task bodies become task failures: catching them in sync calls and futures.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::TaskError;
use crate::task::body::{BoxFuture, Outcome};

/// The message of a panic payload (`panic!("...")` gives a `&str` or a `String`).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic with a non-text payload".to_owned()
    }
}

/// The task failure that stands for a panic.
pub(crate) fn panic_error(payload: Box<dyn Any + Send>) -> TaskError {
    TaskError::msg(format!("task panicked: {}", panic_message(&*payload)))
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
