//! Dropping what user code made (values, panic payloads) without letting a panic in its
//! `Drop` out: a worker thread that drops a task's value never dies of it, and a container
//! of values never panics twice while unwinding (which would abort the process).

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// How many panics in a row from dropping one payload are caught before it is leaked: a
/// payload whose `Drop` panics with a payload whose `Drop` panics, and so on.
const MAX_NESTED: usize = 8;

/// Drops `value`; a panic in its `Drop` is caught and reported, never passed on.
pub(crate) fn drop_quietly<T>(value: T) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(value))) {
        report(&*payload, "a task's value panicked while being dropped");
        drop_payload(payload);
    }
}

/// Drops a panic payload, catching the panics its own `Drop` may raise; one that keeps
/// panicking is leaked rather than passed on.
pub(crate) fn drop_payload(payload: Box<dyn Any + Send>) {
    let mut payload = payload;
    for _ in 0..MAX_NESTED {
        match catch_unwind(AssertUnwindSafe(move || drop(payload))) {
            Ok(()) => return,
            Err(next) => payload = next,
        }
    }
    std::mem::forget(payload);
}

/// Runs `work`; a panic becomes its message (the payload dropped quietly).
pub(crate) fn catch<R>(work: impl FnOnce() -> R) -> Result<R, String> {
    catch_unwind(AssertUnwindSafe(work)).map_err(|payload| {
        let message = panic_message(&*payload);
        drop_payload(payload);
        message
    })
}

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

fn report(payload: &(dyn Any + Send), what: &str) {
    tracing::warn!("{what}: {}", panic_message(payload));
}

#[cfg(test)]
mod tests {
    use super::*;

    struct PanicsOnDrop;

    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("dropped");
        }
    }

    /// A payload that panics with another such payload when dropped, `0` times more.
    struct NestedPayload(u32);

    impl Drop for NestedPayload {
        fn drop(&mut self) {
            if self.0 > 0 {
                std::panic::panic_any(NestedPayload(self.0 - 1));
            }
        }
    }

    #[test]
    fn a_value_that_panics_when_dropped_does_not_unwind_its_dropper() {
        drop_quietly(PanicsOnDrop);
        drop_quietly(vec![PanicsOnDrop]);
    }

    #[test]
    fn payloads_that_panic_when_dropped_are_caught_or_leaked() {
        drop_payload(Box::new(NestedPayload(3)));
        drop_payload(Box::new(NestedPayload(u32::MAX)));
        let error = catch(|| std::panic::panic_any(NestedPayload(2))).unwrap_err();
        assert_eq!(error, "a panic with a non-text payload");
        assert_eq!(catch(|| panic!("plain")).unwrap_err(), "plain");
    }
}
