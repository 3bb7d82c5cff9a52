//! [`RunLog`]: a readable line per state change, the log [`Dag::test`](crate::Dag::test)
//! prints.

use std::io::Write;
use std::sync::Mutex;

use super::{DagRunEvent, Event, Listener, TaskInstanceEvent};
use crate::view::clock_time;
use crate::{DagRunState, RunReport, TaskState};

/// A listener that writes a line per state change: the time (virtual time in a `test()`
/// run), the task, its try and the error. `queued` changes are left out.
///
/// [`Dag::test`](crate::Dag::test) prints one to standard error by default (see
/// [`RunOptions::log`](crate::RunOptions::log)); add one to any run or executor yourself:
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use taskflow::prelude::*;
/// use taskflow::events::RunLog;
///
/// #[task]
/// fn extract() -> u32 { 7 }
///
/// let out = Arc::new(Mutex::new(Vec::new()));
/// let log = RunLog::to_writer(SharedBuf(Arc::clone(&out)));
/// Dag::build("logged", || {
///     extract();
/// })?
/// .test_with(RunOptions::new().log(false).listener(log))?;
/// let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
/// assert!(text.contains("extract: success (try 1"), "{text}");
///
/// struct SharedBuf(Arc<Mutex<Vec<u8>>>);
/// impl std::io::Write for SharedBuf {
///     fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
///         self.0.lock().unwrap().write(bytes)
///     }
///     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
/// }
/// # Ok::<(), taskflow::Error>(())
/// ```
pub struct RunLog {
    out: Mutex<Output>,
}

enum Output {
    /// `eprint!`, which a test harness captures.
    Stderr,
    Writer(Box<dyn Write + Send>),
}

impl RunLog {
    /// A log on standard error.
    pub fn stderr() -> Self {
        Self {
            out: Mutex::new(Output::Stderr),
        }
    }

    /// A log written to `writer`.
    pub fn to_writer(writer: impl Write + Send + 'static) -> Self {
        Self {
            out: Mutex::new(Output::Writer(Box::new(writer))),
        }
    }

    /// Writes `text`; a failing writer loses the text, never the run.
    fn write(&self, text: &str) {
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match &mut *out {
            Output::Stderr => eprint!("{text}"),
            Output::Writer(writer) => {
                let _ = writer.write_all(text.as_bytes());
                let _ = writer.flush();
            }
        }
    }

    /// Writes the report's table, as `dag.test()` does at the end of its log.
    pub fn write_report(&self, report: &RunReport) {
        self.write(&report.to_string());
    }

    fn task_line(ti: &TaskInstanceEvent) -> Option<String> {
        if ti.state == TaskState::Queued {
            return None;
        }
        let mut line = format!(
            "[{}] {}: {}",
            clock_time(ti.timestamp),
            ti.task_id,
            ti.state
        );
        match ti.state {
            TaskState::Running => line.push_str(&format!(" (try {})", ti.try_number)),
            TaskState::Success | TaskState::Failed | TaskState::UpForRetry => {
                line.push_str(&format!(" (try {}", ti.try_number));
                if let Some(duration) = ti.duration() {
                    line.push_str(&format!(", {duration:.1?}"));
                }
                line.push(')');
            }
            _ => {}
        }
        if let Some(error) = &ti.error {
            line.push_str(": ");
            line.push_str(error);
        }
        line.push('\n');
        Some(line)
    }

    fn run_line(run: &DagRunEvent) -> String {
        let head = format!(
            "[{}] dag {} run {}",
            clock_time(run.timestamp),
            run.dag_id,
            run.run_id
        );
        match run.state {
            DagRunState::Running => format!("{head}: running ({} tasks)\n", run.tasks),
            state => {
                let took = run
                    .end_date
                    .and_then(|end| (end - run.start_date).to_std().ok())
                    .unwrap_or_default();
                format!("{head}: {state} in {took:.1?}\n")
            }
        }
    }
}

impl Listener for RunLog {
    fn on_event(&self, event: &Event) {
        let line = match event {
            Event::TaskInstance(ti) => Self::task_line(ti),
            Event::DagRun(run) => Some(Self::run_line(run)),
            Event::Warning(warning) => Some(format!(
                "[{}] {}: warning: {}\n",
                clock_time(warning.timestamp),
                warning.task_id,
                warning.message
            )),
        };
        if let Some(line) = line {
            self.write(&line);
        }
    }
}

impl std::fmt::Debug for RunLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunLog").finish_non_exhaustive()
    }
}
