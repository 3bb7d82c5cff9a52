//! [`ProgressBar`]: a run's progress on the terminal.

use indicatif::{ProgressDrawTarget, ProgressStyle};

use super::{Event, Listener};
use crate::{DagRunState, TaskState};

/// A listener that draws a progress bar of the tasks that ended, with the number running,
/// failed and retried (feature `progress`, the `indicatif` crate). One bar serves one run
/// at a time: register it per run.
///
/// ```
/// use taskflow::prelude::*;
/// use taskflow::events::ProgressBar;
///
/// #[task]
/// fn step(i: u32) -> u32 { i }
///
/// let dag = Dag::build("many", || {
///     for i in 0..100 {
///         step(i);
///     }
/// })?;
/// let report = dag.test_with(RunOptions::new().log(false).listener(ProgressBar::new()))?;
/// assert!(report.succeeded());
/// # Ok::<(), taskflow::Error>(())
/// ```
pub struct ProgressBar {
    bar: indicatif::ProgressBar,
    counts: std::sync::Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    running: u64,
    failed: u64,
    retried: u64,
}

impl ProgressBar {
    /// A bar on standard error (hidden when it is not a terminal).
    pub fn new() -> Self {
        Self::with_target(ProgressDrawTarget::stderr())
    }

    /// A bar drawn to `target`.
    pub fn with_target(target: ProgressDrawTarget) -> Self {
        let bar = indicatif::ProgressBar::with_draw_target(None, target);
        let style = ProgressStyle::with_template(
            "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} tasks {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Self {
            bar,
            counts: std::sync::Mutex::default(),
        }
    }

    /// How many tasks have ended so far, and of how many.
    pub fn position(&self) -> (u64, Option<u64>) {
        (self.bar.position(), self.bar.length())
    }

    fn update(&self, change: impl FnOnce(&mut Counts)) {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        change(&mut counts);
        self.bar.set_message(format!(
            "({} running, {} failed, {} retried)",
            counts.running, counts.failed, counts.retried
        ));
    }
}

impl Default for ProgressBar {
    fn default() -> Self {
        Self::new()
    }
}

impl Listener for ProgressBar {
    fn on_event(&self, event: &Event) {
        match event {
            Event::DagRun(run) if run.state == DagRunState::Running => {
                self.bar.reset();
                self.bar.set_length(run.tasks as u64);
                self.bar
                    .set_prefix(format!("{} {}", run.dag_id, run.run_id));
                self.update(|counts| *counts = Counts::default());
            }
            Event::DagRun(_) => self.bar.finish(),
            Event::TaskInstance(ti) => match ti.state {
                // A mapped task's instances are tasks to end too.
                TaskState::Queued if ti.map_index.is_some() && ti.try_number == 0 => {
                    self.bar.inc_length(1)
                }
                TaskState::Running => self.update(|counts| counts.running += 1),
                TaskState::UpForRetry => {
                    self.update(|counts| {
                        counts.running = counts.running.saturating_sub(1);
                        counts.retried += 1;
                    });
                }
                TaskState::UpForReschedule => {
                    self.update(|counts| counts.running = counts.running.saturating_sub(1));
                }
                TaskState::Success | TaskState::Failed => {
                    self.update(|counts| {
                        counts.running = counts.running.saturating_sub(1);
                        counts.failed += u64::from(ti.state == TaskState::Failed);
                    });
                    self.bar.inc(1);
                }
                TaskState::Skipped | TaskState::UpstreamFailed => {
                    // A skip by the task itself ends a try; one by its upstream tasks does not.
                    if ti.start_date.is_some() && ti.try_number > 0 {
                        self.update(|counts| counts.running = counts.running.saturating_sub(1));
                    }
                    self.bar.inc(1);
                }
                _ => {}
            },
            Event::Warning(_) => {}
        }
    }
}

impl std::fmt::Debug for ProgressBar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgressBar")
            .field("position", &self.position())
            .finish()
    }
}
