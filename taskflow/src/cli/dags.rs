//! The `dags` commands.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::args::{
    DagsCommand, ListDags, ListRuns, NextExecution, PauseDag, RunStateArg, ShowDag, TestDag,
    TriggerDag,
};
use super::dates::iso;
use super::history::runs;
use super::home::open_store;
use super::output::Listing;
use super::progress::progress_bar;
use super::{FAILURE, Failure, Session};
use crate::schedule::{DataInterval, TimeRestriction};
use crate::store::{DagRunRecord, Store};
use crate::{Dag, DagRunState, RunOptions};

pub(crate) fn execute(session: &mut Session<'_>, command: DagsCommand) -> Result<u8, Failure> {
    match command {
        DagsCommand::List(args) => list(session, args),
        DagsCommand::Show(args) => show(session, args),
        DagsCommand::Test(args) => test(session, args),
        DagsCommand::ListRuns(args) => list_runs(session, args),
        DagsCommand::NextExecution(args) => next_execution(session, args),
        DagsCommand::Trigger(args) => trigger(session, args),
        DagsCommand::Pause(args) => set_paused(session, args, true),
        DagsCommand::Unpause(args) => set_paused(session, args, false),
    }
}

/// An optional date as a listing's value.
fn date(at: Option<DateTime<Utc>>) -> Value {
    at.map_or(Value::Null, |at| Value::String(iso(at)))
}

/// `dags list`: the DAGs by id, with whether they are paused, their schedules, task counts
/// and schedule bounds.
fn list(session: &mut Session<'_>, args: ListDags) -> Result<u8, Failure> {
    let mut dags: Vec<&Dag> = session.dags.iter().collect();
    dags.sort_by(|a, b| a.dag_id().cmp(b.dag_id()));
    let store = open_store(&session.store, false)?;
    let mut listing = Listing::new(&[
        "dag_id",
        "is_paused",
        "schedule",
        "tasks",
        "timezone",
        "start_date",
        "end_date",
        "catchup",
    ]);
    for dag in dags {
        let bounds = dag.time_restriction();
        let paused = match &store {
            Some(store) => store.is_paused(dag.dag_id())?,
            None => false,
        };
        let schedule = dag
            .timetable()
            .map_or_else(|| "None".to_owned(), ToString::to_string);
        listing.push(vec![
            json!(dag.dag_id()),
            json!(paused),
            json!(schedule),
            json!(dag.len()),
            json!(dag.timezone()),
            date(bounds.earliest),
            date(bounds.latest),
            json!(bounds.catchup),
        ]);
    }
    write!(session.out, "{}", listing.render(args.output.output)?)?;
    Ok(0)
}

/// `dags show`: the graph in DOT, or as a Mermaid flowchart.
fn show(session: &mut Session<'_>, args: ShowDag) -> Result<u8, Failure> {
    let dag = session.dag(&args.dag_id)?;
    let text = if args.mermaid {
        dag.to_mermaid()
    } else {
        dag.to_dot()
    };
    write!(session.out, "{text}")?;
    Ok(0)
}

/// `dags test`: one run in this process, kept in the store; exit code 1 if it failed.
fn test(session: &mut Session<'_>, args: TestDag) -> Result<u8, Failure> {
    let dag = session.dag(&args.dag_id)?;
    let logical_date = args.logical_date.unwrap_or_else(Utc::now);
    let run_id = format!("manual__{}", iso(logical_date));
    let store = open_store(&session.store, true)?
        .ok_or_else(|| Failure(format!("no store at {}", session.store.display())))?;
    if store.load_run(dag.dag_id(), &run_id)?.is_some() {
        return Err(Failure(format!(
            "dag `{}` already has run `{run_id}` in the store {}: give another logical date",
            dag.dag_id(),
            session.store.display()
        )));
    }
    let mut options = RunOptions::new()
        .log(false)
        .virtual_time(false)
        .run_id(&run_id)
        .logical_date(logical_date)
        .store(Arc::clone(&store) as Arc<dyn Store>);
    for (pool, slots) in session.pools {
        options = options.pool(pool, *slots);
    }
    if let Some(conf) = args.conf {
        options = options.params(conf);
    }
    if let Some(bar) = progress_bar(args.progress, args.no_progress) {
        options = options.listener(bar);
    }
    let report = dag.test_with(options)?;
    write!(session.out, "{report}")?;
    if args.show_dagrun {
        write!(session.out, "{}", report.to_dot())?;
    }
    if let Some(error) = report.store_error() {
        writeln!(
            session.err,
            "error: the store did not keep the whole run: {error}"
        )?;
    }
    Ok(if report.succeeded() { 0 } else { FAILURE })
}

/// `dags list-runs`: the stored runs, newest first.
fn list_runs(session: &mut Session<'_>, args: ListRuns) -> Result<u8, Failure> {
    let dag = session.dag(&args.dag_id)?;
    let store = open_store(&session.store, false)?;
    let wanted = args.state.map(|state| match state {
        RunStateArg::Queued => DagRunState::Queued,
        RunStateArg::Running => DagRunState::Running,
        RunStateArg::Success => DagRunState::Success,
        RunStateArg::Failed => DagRunState::Failed,
    });
    let mut listing = Listing::new(&[
        "dag_id",
        "run_id",
        "state",
        "run_type",
        "logical_date",
        "start_date",
        "end_date",
    ]);
    let runs = runs(
        store.as_deref().map(|store| store as &dyn Store),
        dag.dag_id(),
    )?;
    for run in runs {
        let kept = wanted.is_none_or(|state| run.state == state)
            && !(args.no_backfill && run.run_type == "backfill")
            && args.dates.contains(run.logical_date);
        if kept {
            listing.push(vec![
                json!(run.dag_id),
                json!(run.run_id),
                json!(run.state.as_str()),
                json!(run.run_type),
                json!(iso(run.logical_date)),
                date(run.start_date),
                date(run.end_date),
            ]);
        }
    }
    write!(session.out, "{}", listing.render(args.output.output)?)?;
    Ok(0)
}

/// `dags trigger`: queues a manual run in the store (a scheduler on the store starts it)
/// and prints it.
fn trigger(session: &mut Session<'_>, args: TriggerDag) -> Result<u8, Failure> {
    let dag = session.dag(&args.dag_id)?;
    let store = open_store(&session.store, true)?
        .ok_or_else(|| Failure(format!("no store at {}", session.store.display())))?;
    let run = crate::scheduler::queue_manual_run(
        &*store,
        dag,
        args.conf.unwrap_or_default(),
        args.run_id,
        args.logical_date,
        Utc::now(),
    )?;
    let mut listing = Listing::new(&[
        "conf",
        "dag_id",
        "dag_run_id",
        "data_interval_start",
        "data_interval_end",
        "end_date",
        "logical_date",
        "run_after",
        "run_type",
        "start_date",
        "state",
    ]);
    listing.push(run_row(&run));
    write!(session.out, "{}", listing.render(args.output.output)?)?;
    Ok(0)
}

/// A run as `dags trigger` prints it, in Airflow's names.
fn run_row(run: &DagRunRecord) -> Vec<Value> {
    vec![
        serde_json::to_value(&run.params).unwrap_or(Value::Null),
        json!(run.dag_id),
        json!(run.run_id),
        date(run.data_interval_start),
        date(run.data_interval_end),
        date(run.end_date),
        json!(iso(run.logical_date)),
        date(run.run_after),
        json!(run.run_type),
        date(run.start_date),
        json!(run.state.as_str()),
    ]
}

/// `dags pause` and `dags unpause`: kept in the store, so that a scheduler on it (in this
/// process or another) sees it.
fn set_paused(session: &mut Session<'_>, args: PauseDag, paused: bool) -> Result<u8, Failure> {
    let dag = session.dag(&args.dag_id)?;
    let store = open_store(&session.store, true)?
        .ok_or_else(|| Failure(format!("no store at {}", session.store.display())))?;
    store.set_paused(dag.dag_id(), paused)?;
    let mut listing = Listing::new(&["dag_id", "is_paused"]);
    listing.push(vec![
        json!(dag.dag_id()),
        json!(store.is_paused(dag.dag_id())?),
    ]);
    write!(session.out, "{}", listing.render(args.output.output)?)?;
    Ok(0)
}

/// `dags next-execution`: the logical dates of the next automated runs after the latest
/// scheduled run in the store, one a line; `None` when no more are due.
fn next_execution(session: &mut Session<'_>, args: NextExecution) -> Result<u8, Failure> {
    let dag = session.dag(&args.dag_id)?;
    let store = open_store(&session.store, false)?;
    let runs = runs(
        store.as_deref().map(|store| store as &dyn Store),
        dag.dag_id(),
    )?;
    let mut last = runs
        .iter()
        .find(|run| run.run_type == "scheduled")
        .map(|run| data_interval(dag, run.logical_date));
    let now = Utc::now();
    for _ in 0..args.num_executions {
        match dag.next_dagrun_info(last.as_ref(), now) {
            Some(info) => {
                writeln!(session.out, "{}", iso(info.logical_date()))?;
                last = Some(info.data_interval);
            }
            None => {
                writeln!(
                    session.err,
                    "no following schedule can be found: dag `{}` has no schedule, or its \
                     runs are over (`@once`, or past its end date)",
                    dag.dag_id()
                )?;
                writeln!(session.out, "None")?;
                break;
            }
        }
    }
    Ok(0)
}

/// The data interval of `dag`'s automated run at `logical_date`: the store keeps only the
/// logical date, so it is the first interval of the timetable from there.
fn data_interval(dag: &Dag, logical_date: DateTime<Utc>) -> DataInterval {
    let from_there = TimeRestriction::new(Some(logical_date), None, true);
    dag.timetable()
        .and_then(|timetable| timetable.next_dagrun_info(None, &from_there, logical_date))
        .map_or(
            DataInterval {
                start: logical_date,
                end: logical_date,
            },
            |info| info.data_interval,
        )
}
