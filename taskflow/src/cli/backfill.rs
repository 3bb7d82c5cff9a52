//! The `backfill` commands: `backfill create`, which makes a backfill's runs in the store
//! (queued: a scheduler on the store runs them), or with `--dry-run` says what it would make.

use chrono::Utc;
use serde_json::{Value, json};

use super::args::{BackfillCommand, CreateBackfill, ReprocessArg};
use super::dates::iso;
use super::home::open_store;
use super::output::Listing;
use super::{Failure, Session};
use crate::scheduler::{Backfill, Planned, PlannedRun, Reprocess};
use crate::store::{SqliteStore, Store};

pub(crate) fn execute(session: &mut Session<'_>, command: BackfillCommand) -> Result<u8, Failure> {
    match command {
        BackfillCommand::Create(args) => create(session, args),
    }
}

/// `backfill create`: the backfill's runs, made (or, with `--dry-run`, only planned), date
/// by date in the order they run: created, reprocessed or skipped with the reason.
fn create(session: &mut Session<'_>, args: CreateBackfill) -> Result<u8, Failure> {
    let dag = session.dag(&args.dag_id)?;
    let backfill = Backfill::new(dag.dag_id(), args.from_date, args.to_date)
        .reprocess_behavior(match args.reprocess_behavior {
            ReprocessArg::None => Reprocess::None,
            ReprocessArg::Failed => Reprocess::Failed,
            ReprocessArg::Completed => Reprocess::Completed,
        })
        .max_active_runs(args.max_active_runs)
        .run_backwards(args.run_backwards)
        .params(args.dag_run_conf.unwrap_or_default());
    let now = Utc::now();
    let planned = if args.dry_run {
        // Without a store, no date has a run: plan against an empty one in memory.
        let store = match open_store(&session.store, false)? {
            Some(store) => store,
            None => std::sync::Arc::new(SqliteStore::open(":memory:")?),
        };
        let planned = backfill.plan(dag, &*store as &dyn Store, now)?;
        writeln!(
            session.err,
            "Dry run of a backfill of dag `{}`: nothing is written; {}",
            dag.dag_id(),
            counts(&planned, "would be")
        )?;
        planned
    } else {
        let store = open_store(&session.store, true)?
            .ok_or_else(|| Failure(format!("no store at {}", session.store.display())))?;
        let (made, planned) = backfill.create_planned(dag, &*store as &dyn Store, now)?;
        writeln!(
            session.err,
            "Created backfill {} of dag `{}`: {}; a scheduler on the store runs them",
            made.id,
            dag.dag_id(),
            counts(&planned, "are")
        )?;
        planned
    };
    let mut listing = Listing::new(&["logical_date", "run_id", "action", "reason"]);
    for run in &planned {
        let (action, reason) = match run.action {
            Planned::Create => ("create", Value::Null),
            Planned::Reprocess => ("reprocess", Value::Null),
            Planned::Skip(reason) => ("skip", json!(reason)),
        };
        listing.push(vec![
            json!(iso(run.info.logical_date())),
            json!(run.run_id),
            json!(action),
            reason,
        ]);
    }
    write!(session.out, "{}", listing.render(args.output.output)?)?;
    Ok(0)
}

/// How many runs are made, reprocessed and skipped, in words.
fn counts(planned: &[PlannedRun], verb: &str) -> String {
    let count = |wanted: fn(&Planned) -> bool| planned.iter().filter(|r| wanted(&r.action)).count();
    let runs = |n: usize| if n == 1 { "run" } else { "runs" };
    let (made, again, skipped) = (
        count(|a| *a == Planned::Create),
        count(|a| *a == Planned::Reprocess),
        count(|a| matches!(a, Planned::Skip(_))),
    );
    format!(
        "{made} new {} {verb} queued, {again} {} reprocessed, {skipped} date{} skipped",
        runs(made),
        runs(again),
        if skipped == 1 { "" } else { "s" }
    )
}
