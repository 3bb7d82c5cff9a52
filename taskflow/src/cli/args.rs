//! The command line's grammar, in Airflow's words: groups (`dags`, `tasks`, `backfill`,
//! `scheduler`), their commands, and each command's arguments and flags.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use super::dates::{parse_conf, parse_date, parse_duration, parse_run_id};
use super::output::Output;
use crate::Params;

/// The whole command line.
#[derive(Debug, clap::Parser)]
#[command(
    about = "Runs and inspects this program's DAGs, in the words of Airflow's command line",
    after_help = "Exit codes: 0 when the command did its work; 1 when it could not (an unknown \
                  DAG, task or run) or the run it ran failed; 2 for a mistake in the arguments."
)]
pub(crate) struct Args {
    /// The store file of runs [default: $TASKFLOW_HOME/taskflow.db, else ~/taskflow/taskflow.db]
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) store: Option<PathBuf>,
    #[command(subcommand)]
    pub(crate) group: Group,
}

/// A group of commands; each group is one variant, a group of one command too.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Group {
    /// Manage DAGs
    #[command(subcommand)]
    Dags(DagsCommand),
    /// Manage tasks
    #[command(subcommand)]
    Tasks(TasksCommand),
    /// Manage backfills
    #[command(subcommand)]
    Backfill(BackfillCommand),
    /// Start a scheduler of this program's DAGs, until Ctrl-C or the bound given
    Scheduler(RunScheduler),
}

/// `dags ...`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum DagsCommand {
    /// List all the DAGs
    List(ListDags),
    /// Display a DAG's tasks with their dependencies (Graphviz DOT, or Mermaid)
    Show(ShowDag),
    /// Execute one single DagRun in this process, kept in the store
    Test(TestDag),
    /// List DAG runs given a DAG id, newest first
    ListRuns(ListRuns),
    /// Get the next logical dates of a DAG
    NextExecution(NextExecution),
    /// Trigger a new DAG run: queued in the store, it runs when a scheduler runs
    Trigger(TriggerDag),
    /// Pause a DAG: no new run of it starts
    Pause(PauseDag),
    /// Resume a paused DAG
    Unpause(PauseDag),
}

/// `backfill ...`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum BackfillCommand {
    /// Create a backfill: the runs of a date range, queued for a scheduler to run
    Create(CreateBackfill),
}

/// `tasks ...`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum TasksCommand {
    /// List the tasks within a DAG
    List(ListTasks),
    /// Get the status of all task instances in a DAG run
    StatesForDagRun(StatesForDagRun),
    /// Clear a set of task instances, as if they never ran
    Clear(ClearTasks),
    /// Test a task instance: run it alone, without checking its dependencies or recording
    /// its state in the store
    Test(TestTask),
}

#[derive(Debug, clap::Args)]
pub(crate) struct TestTask {
    /// The id of the dag
    pub(crate) dag_id: String,
    /// The id of the task
    pub(crate) task_id: String,
    /// A stored run (its id or logical date) whose upstream values the task reads; without
    /// one, its upstream tasks run first
    pub(crate) logical_date_or_run_id: Option<String>,
    /// JSON object of the run's params
    #[arg(short, long, value_parser = parse_conf, value_name = "CONF")]
    pub(crate) task_params: Option<Params>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ListDags {
    #[command(flatten)]
    pub(crate) output: OutputArg,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ShowDag {
    /// The id of the dag
    pub(crate) dag_id: String,
    /// Print a Mermaid flowchart instead of DOT
    #[arg(long)]
    pub(crate) mermaid: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct TestDag {
    /// The id of the dag
    pub(crate) dag_id: String,
    /// The logical date of the run [default: now]
    #[arg(value_parser = parse_date)]
    pub(crate) logical_date: Option<DateTime<Utc>>,
    /// JSON object of the run's params
    #[arg(short, long, value_parser = parse_conf, value_name = "CONF")]
    pub(crate) conf: Option<Params>,
    /// After the run, print its graph in DOT, coloured by task state
    #[arg(long)]
    pub(crate) show_dagrun: bool,
    /// Draw a progress bar on stderr even when it is not a terminal
    #[arg(long, conflicts_with = "no_progress")]
    pub(crate) progress: bool,
    /// Draw no progress bar, even on a terminal
    #[arg(long)]
    pub(crate) no_progress: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ListRuns {
    /// The id of the dag
    pub(crate) dag_id: String,
    /// Only list the dag runs in this state
    #[arg(long, value_enum)]
    pub(crate) state: Option<RunStateArg>,
    /// Leave out backfill runs
    #[arg(long)]
    pub(crate) no_backfill: bool,
    #[command(flatten)]
    pub(crate) dates: DateRange,
    #[command(flatten)]
    pub(crate) output: OutputArg,
}

/// The states `--state` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum RunStateArg {
    Queued,
    Running,
    Success,
    Failed,
}

#[derive(Debug, clap::Args)]
pub(crate) struct NextExecution {
    /// The id of the dag
    pub(crate) dag_id: String,
    /// The number of next logical dates to show
    #[arg(short = 'n', long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub(crate) num_executions: u32,
}

#[derive(Debug, clap::Args)]
pub(crate) struct TriggerDag {
    /// The id of the dag
    pub(crate) dag_id: String,
    /// JSON object of the run's params
    #[arg(short, long, value_parser = parse_conf, value_name = "CONF")]
    pub(crate) conf: Option<Params>,
    /// The id of the run [default: manual__<logical date>]
    #[arg(short, long, value_parser = parse_run_id)]
    pub(crate) run_id: Option<String>,
    /// The logical date of the run (YYYY-MM-DD or ISO 8601) [default: now]
    #[arg(short, long, value_parser = parse_date)]
    pub(crate) logical_date: Option<DateTime<Utc>>,
    #[command(flatten)]
    pub(crate) output: OutputArg,
}

#[derive(Debug, clap::Args)]
pub(crate) struct PauseDag {
    /// The id of the dag
    pub(crate) dag_id: String,
    #[command(flatten)]
    pub(crate) output: OutputArg,
}

#[derive(Debug, clap::Args)]
pub(crate) struct CreateBackfill {
    /// The dag to backfill
    #[arg(long)]
    pub(crate) dag_id: String,
    /// Earliest logical date to backfill (YYYY-MM-DD or ISO 8601)
    #[arg(long, value_parser = parse_date)]
    pub(crate) from_date: DateTime<Utc>,
    /// Latest logical date to backfill, included (YYYY-MM-DD or ISO 8601)
    #[arg(long, value_parser = parse_date)]
    pub(crate) to_date: DateTime<Utc>,
    /// What to do with dates that have a run already: leave them (none), run the failed
    /// ones again (failed), or run every ended one again (completed)
    #[arg(long, value_enum, default_value_t = ReprocessArg::None)]
    pub(crate) reprocess_behavior: ReprocessArg,
    /// How many of its runs may be active at once
    #[arg(long, default_value_t = crate::scheduler::DEFAULT_BACKFILL_MAX_ACTIVE_RUNS,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) max_active_runs: u32,
    /// Run the newest date first
    #[arg(long)]
    pub(crate) run_backwards: bool,
    /// JSON object of the params of its runs
    #[arg(long, value_parser = parse_conf, value_name = "CONF")]
    pub(crate) dag_run_conf: Option<Params>,
    /// Print what it would do, writing nothing
    #[arg(long)]
    pub(crate) dry_run: bool,
    #[command(flatten)]
    pub(crate) output: OutputArg,
}

/// The values `--reprocess-behavior` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ReprocessArg {
    None,
    Failed,
    Completed,
}

#[derive(Debug, clap::Args)]
pub(crate) struct RunScheduler {
    /// Stop after this long, once the runs it started have ended (`3s`, `10m`, `1h 30m`)
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub(crate) run_for: Option<std::time::Duration>,
    /// Stop after this many scheduling passes (one a second), once the runs it started
    /// have ended
    #[arg(short, long, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) num_runs: Option<u32>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ListTasks {
    /// The id of the dag
    pub(crate) dag_id: String,
}

#[derive(Debug, clap::Args)]
pub(crate) struct StatesForDagRun {
    /// The id of the dag
    pub(crate) dag_id: String,
    /// The run id of the DAG run, or its logical date
    pub(crate) logical_date_or_run_id: String,
    #[command(flatten)]
    pub(crate) output: OutputArg,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ClearTasks {
    /// The id of the dag
    pub(crate) dag_id: String,
    /// The regex to filter specific task_ids (matched anywhere in the id)
    #[arg(short, long, value_name = "TASK_REGEX")]
    pub(crate) task_regex: Option<String>,
    #[command(flatten)]
    pub(crate) dates: DateRange,
    /// Only failed jobs (failed and upstream_failed instances)
    #[arg(short = 'f', long)]
    pub(crate) only_failed: bool,
    /// Include upstream tasks
    #[arg(short, long)]
    pub(crate) upstream: bool,
    /// Include downstream tasks
    #[arg(short, long)]
    pub(crate) downstream: bool,
    /// Do not prompt to confirm. Use with care!
    #[arg(short, long)]
    pub(crate) yes: bool,
}

/// `-s/--start-date` and `-e/--end-date`: a range of logical dates, both included.
#[derive(Debug, clap::Args)]
pub(crate) struct DateRange {
    /// The earliest logical date (YYYY-MM-DD or ISO 8601)
    #[arg(short, long, value_parser = parse_date)]
    pub(crate) start_date: Option<DateTime<Utc>>,
    /// The latest logical date (YYYY-MM-DD or ISO 8601)
    #[arg(short, long, value_parser = parse_date)]
    pub(crate) end_date: Option<DateTime<Utc>>,
}

impl DateRange {
    /// Whether `date` is in the range.
    pub(crate) fn contains(&self, date: DateTime<Utc>) -> bool {
        self.start_date.is_none_or(|start| start <= date)
            && self.end_date.is_none_or(|end| date <= end)
    }
}

/// `-o/--output`.
#[derive(Debug, clap::Args)]
pub(crate) struct OutputArg {
    /// Output format
    #[arg(short, long, value_enum, default_value_t)]
    pub(crate) output: Output,
}
