//! A gate for tests: tasks wait at it until the test (or another task) lets them through.

use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

use taskflow::TaskError;

/// Tasks call [`Gate::pass`] and wait there; [`Gate::open`] lets some through.
pub struct Gate {
    open: Mutex<Sender<()>>,
    wait: Mutex<Receiver<()>>,
}

impl Default for Gate {
    fn default() -> Self {
        Self::new()
    }
}

impl Gate {
    /// A closed gate.
    pub fn new() -> Self {
        let (open, wait) = channel();
        Self {
            open: Mutex::new(open),
            wait: Mutex::new(wait),
        }
    }

    /// Lets `tasks` waiting (or future) tasks through.
    ///
    /// # Panics
    /// If the gate's lock was poisoned by a panicking test.
    pub fn open(&self, tasks: usize) {
        let open = self.open.lock().unwrap();
        (0..tasks).for_each(|_| open.send(()).unwrap());
    }

    /// Waits for the gate to let this task through. The generous bound only turns a broken
    /// executor into a failed task instead of a hung test.
    ///
    /// # Errors
    /// If the gate stays shut for a minute.
    pub fn pass(&self) -> Result<(), TaskError> {
        self.wait
            .lock()
            .map_err(|_| TaskError::msg("the gate's lock was poisoned"))?
            .recv_timeout(Duration::from_secs(60))
            .map_err(|_| TaskError::msg("the gate never opened"))
    }
}
