//! The `dags` commands.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::args::{DagsCommand, ListDags, ListRuns, NextExecution, RunStateArg, ShowDag, TestDag};
use super::dates::iso;
use super::history::runs;
use super::home::open_store;
use super::output::Listing;
use super::progress::progress_bar;
use super::{FAILURE, Failure, Session};
use crate::schedule::{DataInterval, TimeRestriction};
use crate::store::Store;
use crate::{Dag, DagRunState, RunOptions};

pub(crate) fn execute(session: &mut Session<'_>, command: DagsCommand) -> Result<u8, Failure> {
    match command {
        DagsCommand::List(args) => list(session, args),
        DagsCommand::Show(args) => show(session, args),
        DagsCommand::Test(args) => test(session, args),
        DagsCommand::ListRuns(args) => list_runs(session, args),
        DagsCommand::NextExecution(args) => next_execution(session, args),
    }
}

/// An optional date as a listing's value.
fn date(at: Option<DateTime<Utc>>) -> Value {
    at.map_or(Value::Null, |at| Value::String(iso(at)))
}

/// `dags list`: the DAGs by id, with their task counts and schedule bounds.
fn list(session: &mut Session<'_>, args: ListDags) -> Result<u8, Failure> {
    let mut dags: Vec<&Dag> = session.dags.iter().collect();
    dags.sort_by(|a, b| a.dag_id().cmp(b.dag_id()));
    let mut listing = Listing::new(&[
        "dag_id",
        "tasks",
        "timezone",
        "start_date",
        "end_date",
        "catchup",
    ]);
    for dag in dags {
        let bounds = dag.time_restriction();
        listing.push(vec![
            json!(dag.dag_id()),
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
