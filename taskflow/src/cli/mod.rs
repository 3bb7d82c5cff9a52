//! A command line in Airflow's words for the user's own binary (feature `cli`): give
//! [`Cli`] the program's DAGs and it answers, with Airflow's flags:
//! - `dags list` (with each DAG's schedule and whether it is paused), `dags show`,
//!   `dags test`, `dags list-runs`, `dags next-execution`;
//! - `dags trigger` (a manual run, queued in the store), `dags pause`, `dags unpause`;
//! - `tasks list`, `tasks states-for-dag-run`, `tasks clear`, `tasks test` (one task alone,
//!   recording nothing);
//! - `backfill create` (a date range's runs, queued; `--dry-run` to see them first);
//! - `scheduler`: a [`Scheduler`](crate::scheduler::Scheduler) of the DAGs on real time,
//!   which runs their schedules and the runs queued in the store (by `dags trigger` and
//!   `backfill create`, from any process), until Ctrl-C or `--run-for`.
//!
//! Runs are kept in a [`SqliteStore`](crate::store::SqliteStore).
//!
//! ```no_run
//! use taskflow::prelude::*;
//!
//! #[task]
//! fn extract() -> u32 {
//!     7
//! }
//!
//! fn sales() -> taskflow::Result<Dag> {
//!     Dag::builder("sales").schedule("@daily").build(|| {
//!         extract();
//!     })
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     taskflow::cli::Cli::new().dag(sales()).run()
//! }
//! ```
//!
//! Then, for a binary named `pipelines`:
//!
//! ```text
//! $ pipelines dags list
//! $ pipelines dags test sales 2026-01-05
//! $ pipelines dags trigger sales -c '{"region": "north"}'
//! $ pipelines backfill create --dag-id sales --from-date 2026-01-01 --to-date 2026-01-31 --dry-run
//! $ pipelines backfill create --dag-id sales --from-date 2026-01-01 --to-date 2026-01-31 --max-active-runs 4
//! $ pipelines scheduler            # runs them, and each day's run when due; Ctrl-C stops it
//! $ pipelines dags pause sales
//! $ pipelines dags list-runs sales -o json
//! $ pipelines tasks clear sales -t extract -s 2026-01-01 -e 2026-01-31 --only-failed -y
//! ```
//!
//! The store of runs is the file given with `--store PATH`, else `taskflow.db` in the
//! folder `$TASKFLOW_HOME` names (like Airflow's `AIRFLOW_HOME`), else
//! `~/taskflow/taskflow.db`; commands that write make it. Listings print as a table, or
//! with `-o json|yaml|plain`. A mistake in the arguments is a message on stderr and exit
//! code 2; an unknown DAG, task or run, or a failed run, exit code 1.

mod args;
mod backfill;
mod dags;
mod dates;
mod history;
mod home;
mod output;
mod progress;
mod scheduler;
mod tasks;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use clap::Parser as _;

use crate::{Dag, Result};
use args::{Args, Group};

/// Exit code of a command that could not do its work, or a run that failed.
const FAILURE: u8 = 1;

/// The command line of a program's DAGs.
///
/// ```
/// use taskflow::prelude::*;
/// use taskflow::cli::Cli;
///
/// #[task]
/// fn extract() -> u32 {
///     7
/// }
///
/// let cli = Cli::new().dag(Dag::build("sales", || {
///     extract();
/// }));
/// let (mut out, mut err) = (Vec::new(), Vec::new());
/// let code = cli.run_from(["pipelines", "tasks", "list", "sales"], &mut out, &mut err);
/// assert_eq!(code, 0);
/// assert_eq!(String::from_utf8(out)?, "extract\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct Cli {
    dags: Vec<Dag>,
    /// The pools the runs of `dags test` may use, with their slots.
    pools: Vec<(String, u32)>,
    /// The messages of the DAGs that failed to build.
    broken: Vec<String>,
}

/// What [`Cli::dag`] takes: a [`Dag`], or the `Result<Dag>` of a DAG function (a `#[dag]`
/// function returns one), whose error the command line reports.
pub trait IntoDag {
    /// The DAG, or why it could not be built.
    fn into_dag(self) -> Result<Dag>;
}

impl IntoDag for Dag {
    fn into_dag(self) -> Result<Dag> {
        Ok(self)
    }
}

impl IntoDag for Result<Dag> {
    fn into_dag(self) -> Result<Dag> {
        self
    }
}

/// Why a command did not do its work: a message for stderr.
#[derive(Debug)]
pub(crate) struct Failure(String);

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Self(message)
    }
}

impl From<crate::Error> for Failure {
    fn from(error: crate::Error) -> Self {
        Self(error.to_string())
    }
}

impl From<std::io::Error> for Failure {
    fn from(error: std::io::Error) -> Self {
        Self(format!("cannot write the output: {error}"))
    }
}

/// What a command works with: the DAGs and pools, the store's place, and where to write.
pub(crate) struct Session<'a> {
    pub(crate) dags: &'a [Dag],
    pub(crate) pools: &'a [(String, u32)],
    pub(crate) store: std::path::PathBuf,
    pub(crate) out: &'a mut dyn Write,
    pub(crate) err: &'a mut dyn Write,
}

impl<'a> Session<'a> {
    /// The DAG `dag_id`; an error naming the known ones if there is none.
    pub(crate) fn dag(&self, dag_id: &str) -> Result<&'a Dag, Failure> {
        self.dags
            .iter()
            .find(|dag| dag.dag_id() == dag_id)
            .ok_or_else(|| {
                let known: Vec<&str> = self.dags.iter().map(Dag::dag_id).collect();
                Failure(format!(
                    "unknown dag `{dag_id}` (this program has: {})",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ))
            })
    }
}

impl Cli {
    /// A command line without DAGs yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a DAG; a DAG that failed to build makes every command fail with its error
    /// (exit code 1), so that a broken DAG is not silently left out.
    pub fn dag(mut self, dag: impl IntoDag) -> Self {
        match dag.into_dag() {
            Ok(dag) => {
                if self.dags.iter().any(|known| known.dag_id() == dag.dag_id()) {
                    self.broken
                        .push(format!("dag `{}` is given twice", dag.dag_id()));
                } else {
                    self.dags.push(dag);
                }
            }
            Err(error) => self.broken.push(error.to_string()),
        }
        self
    }

    /// Declares a pool of `slots` for the runs of `dags test` and of the `scheduler` (see
    /// [`RunOptions::pool`](crate::RunOptions::pool)), as Airflow's pools are declared once
    /// for every DAG: a task naming a pool that is not declared fails its run before
    /// anything runs.
    ///
    /// ```
    /// use taskflow::cli::Cli;
    ///
    /// let cli = Cli::new().pool("warehouse", 4);
    /// # let _ = cli;
    /// ```
    pub fn pool(mut self, name: impl Into<String>, slots: u32) -> Self {
        let name = name.into();
        self.pools.retain(|(known, _)| *known != name);
        self.pools.push((name, slots));
        self
    }

    /// Runs the command of this process's arguments, writing to stdout and stderr: the
    /// exit code to return from `main`.
    pub fn run(&self) -> ExitCode {
        // Not locked: the tasks of `dags test` print to stdout from threads of their own.
        let code = self.run_from(
            std::env::args_os(),
            &mut std::io::stdout(),
            &mut std::io::stderr(),
        );
        ExitCode::from(code)
    }

    /// Runs the command of `args` (the program's name first), writing its output to `out`
    /// and its messages to `err`; returns the exit code: 0 when it did its work, 1 when it
    /// could not or the run it ran failed, 2 for a mistake in the arguments (0 for
    /// `--help`). A progress bar and a confirmation prompt use the process's own stderr and
    /// stdin.
    pub fn run_from<I, T>(&self, args: I, out: &mut dyn Write, err: &mut dyn Write) -> u8
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let args = match Args::try_parse_from(args) {
            Ok(args) => args,
            Err(error) => {
                let text = error.render().to_string();
                let target: &mut dyn Write = if error.use_stderr() { err } else { out };
                let _ = target.write_all(text.as_bytes());
                return u8::try_from(error.exit_code()).unwrap_or(2);
            }
        };
        match self.execute(args, out, err) {
            Ok(code) => code,
            Err(Failure(message)) => {
                let _ = writeln!(err, "error: {message}");
                FAILURE
            }
        }
    }

    fn execute(&self, args: Args, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Failure> {
        if !self.broken.is_empty() {
            return Err(Failure(self.broken.join("\n")));
        }
        let store = home::store_path(args.store.as_deref(), |name: &str| std::env::var_os(name))?;
        let mut session = Session {
            dags: &self.dags,
            pools: &self.pools,
            store,
            out,
            err,
        };
        match args.group {
            Group::Dags(command) => dags::execute(&mut session, command),
            Group::Tasks(command) => tasks::execute(&mut session, command),
            Group::Backfill(command) => backfill::execute(&mut session, command),
            Group::Scheduler(args) => scheduler::run(&mut session, args),
        }
    }
}
