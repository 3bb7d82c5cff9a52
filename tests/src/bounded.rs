//! A bound on how long a test may wait for something that a bug could make hang.

use std::sync::mpsc::channel;
use std::time::Duration;

/// Runs `work` on a thread of its own and returns its result, or panics with `what` if it
/// takes longer than `limit`: a hang fails the test instead of stalling the suite. The
/// thread is left behind on a timeout.
///
/// # Panics
/// When `work` panics or takes longer than `limit`.
pub fn within<T: Send + 'static>(
    limit: Duration,
    what: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (done, result) = channel();
    let worker = std::thread::spawn(move || {
        let _ = done.send(work());
    });
    match result.recv_timeout(limit) {
        Ok(value) => {
            let _ = worker.join();
            value
        }
        Err(_) if worker.is_finished() => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => panic!("{what}: ended without a result"),
        },
        Err(_) => panic!("{what}: still waiting after {limit:?}"),
    }
}
