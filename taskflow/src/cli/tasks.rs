//! The `tasks` commands.

use std::io::{BufRead, IsTerminal as _, Write};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::args::{ClearTasks, ListTasks, StatesForDagRun, TasksCommand, TestTask};
use super::dates::iso;
use super::history::{find_run, runs};
use super::home::open_store;
use super::output::Listing;
use super::{Failure, Session};
use crate::Dag;
use crate::store::{Clear, Store, TaskInstanceRecord};

pub(crate) fn execute(session: &mut Session<'_>, command: TasksCommand) -> Result<u8, Failure> {
    match command {
        TasksCommand::List(args) => list(session, args),
        TasksCommand::StatesForDagRun(args) => states_for_dag_run(session, args),
        TasksCommand::Clear(args) => clear(session, args),
        TasksCommand::Test(args) => test(session, args),
    }
}

/// `tasks test`: the task alone (`Dag::test_task`), reading a stored run's upstream values if
/// one is named; nothing is written. Exit code 1 if the task did not succeed.
fn test(session: &mut Session<'_>, args: TestTask) -> Result<u8, Failure> {
    let dag = session.dag(&args.dag_id)?;
    let mut options = crate::RunOptions::new().log(false).virtual_time(false);
    for (pool, slots) in session.pools {
        options = options.pool(pool, *slots);
    }
    if let Some(params) = args.task_params {
        options = options.params(params);
    }
    if let Some(key) = &args.logical_date_or_run_id {
        let store = open_store(&session.store, false)?;
        let store_ref = store.as_deref().map(|store| store as &dyn Store);
        let Some(run) = find_run(store_ref, dag.dag_id(), key)? else {
            return Err(Failure(format!(
                "dag `{}` has no run `{key}` in the store {}",
                dag.dag_id(),
                session.store.display()
            )));
        };
        let store = store.ok_or_else(|| Failure("no store".to_owned()))?;
        options = options
            .store(store as std::sync::Arc<dyn Store>)
            .resume(run.run_id);
    }
    let report = dag.test_task(&args.task_id, options)?;
    let Some(task) = report.task(&args.task_id) else {
        return Err(Failure(format!("task `{}` did not run", args.task_id)));
    };
    writeln!(
        session.out,
        "{}: {}{}",
        task.task_id,
        task.state,
        task.error
            .as_deref()
            .map(|e| format!(": {e}"))
            .unwrap_or_default()
    )?;
    if let Ok(value) = report.xcom_json(&args.task_id) {
        writeln!(session.out, "returned: {value}")?;
    }
    Ok(if task.state == crate::TaskState::Success {
        0
    } else {
        super::FAILURE
    })
}

fn date(at: Option<DateTime<Utc>>) -> Value {
    at.map_or(Value::Null, |at| Value::String(iso(at)))
}

/// `tasks list`: the DAG's task ids, sorted, one a line (as Airflow prints them).
fn list(session: &mut Session<'_>, args: ListTasks) -> Result<u8, Failure> {
    let mut task_ids = session.dag(&args.dag_id)?.task_ids();
    task_ids.sort();
    for task_id in task_ids {
        writeln!(session.out, "{task_id}")?;
    }
    Ok(0)
}

/// `tasks states-for-dag-run`: each task instance of one stored run, with its state.
fn states_for_dag_run(session: &mut Session<'_>, args: StatesForDagRun) -> Result<u8, Failure> {
    let dag = session.dag(&args.dag_id)?;
    let store = open_store(&session.store, false)?;
    let store = store.as_deref().map(|store| store as &dyn Store);
    let key = &args.logical_date_or_run_id;
    let run = find_run(store, dag.dag_id(), key)?.ok_or_else(|| {
        Failure(format!(
            "dag `{}` has no run `{key}` in the store {}",
            dag.dag_id(),
            session.store.display()
        ))
    })?;
    let mut listing = Listing::new(&[
        "dag_id",
        "logical_date",
        "task_id",
        "map_index",
        "state",
        "try_number",
        "start_date",
        "end_date",
    ]);
    let instances = match store {
        Some(store) => store.task_instances(dag.dag_id(), &run.run_id)?,
        None => Vec::new(),
    };
    // A mapped task as a whole is left out once it has instances, as Airflow lists them.
    let mapped: Vec<&str> = instances
        .iter()
        .filter(|instance| instance.map_index.is_some())
        .map(|instance| instance.task_id.as_str())
        .collect();
    let whole = |instance: &TaskInstanceRecord| {
        instance.map_index.is_none() && mapped.contains(&instance.task_id.as_str())
    };
    for instance in instances.iter().filter(|instance| !whole(instance)) {
        listing.push(vec![
            json!(dag.dag_id()),
            json!(iso(run.logical_date)),
            json!(instance.task_id.as_str()),
            // Airflow's map index of an instance that is not mapped.
            json!(instance.map_index.map_or(-1, i64::from)),
            json!(instance.state.as_str()),
            json!(instance.try_number),
            date(instance.start_date),
            date(instance.end_date),
        ]);
    }
    write!(session.out, "{}", listing.render(args.output.output)?)?;
    Ok(0)
}

/// `tasks clear`: clears the chosen task instances of the runs in the date range, after a
/// confirmation unless `--yes`.
fn clear(session: &mut Session<'_>, args: ClearTasks) -> Result<u8, Failure> {
    let dag = session.dag(&args.dag_id)?;
    let tasks = chosen_tasks(dag, args.task_regex.as_deref())?;
    let Some(store) = open_store(&session.store, false)? else {
        writeln!(session.out, "No task instances to clear")?;
        return Ok(0);
    };
    let runs: Vec<String> = runs(Some(&*store), dag.dag_id())?
        .into_iter()
        .filter(|run| args.dates.contains(run.logical_date))
        .map(|run| run.run_id)
        .collect();
    if runs.is_empty() {
        writeln!(session.out, "No task instances to clear")?;
        return Ok(0);
    }
    if !args.yes {
        let question = question(dag, &tasks, &runs, &args);
        let stdin = std::io::stdin();
        let input = stdin.is_terminal().then(|| stdin.lock());
        if !confirm(&question, input, session.err)? {
            writeln!(session.out, "Cancelled, nothing was cleared.")?;
            return Ok(0);
        }
    }
    let mut clear = Clear::dates(
        args.dates.start_date.unwrap_or(DateTime::<Utc>::MIN_UTC),
        args.dates.end_date.unwrap_or(DateTime::<Utc>::MAX_UTC),
    )
    .tasks(tasks);
    if args.upstream {
        clear = clear.upstream();
    }
    if args.downstream {
        clear = clear.downstream();
    }
    if args.only_failed {
        clear = clear.only_failed();
    }
    let cleared = dag.clear(&*store, &clear)?;
    writeln!(
        session.out,
        "cleared {cleared} task instance{} of dag `{}`",
        if cleared == 1 { "" } else { "s" },
        dag.dag_id()
    )?;
    Ok(0)
}

/// The tasks `--task-regex` matches anywhere in their ids (as Airflow's `re.findall`); all
/// of them (an empty list) without it.
fn chosen_tasks(dag: &Dag, regex: Option<&str>) -> Result<Vec<String>, Failure> {
    let Some(pattern) = regex else {
        return Ok(Vec::new());
    };
    let regex = regex_lite::Regex::new(pattern)
        .map_err(|error| Failure(format!("bad --task-regex `{pattern}`: {error}")))?;
    let tasks: Vec<String> = dag
        .task_ids()
        .into_iter()
        .filter(|task_id| regex.is_match(task_id))
        .collect();
    if tasks.is_empty() {
        return Err(Failure(format!(
            "no task of dag `{}` matches `{pattern}`",
            dag.dag_id()
        )));
    }
    Ok(tasks)
}

/// What `tasks clear` is about to do, to confirm.
fn question(dag: &Dag, tasks: &[String], runs: &[String], args: &ClearTasks) -> String {
    let mut text = format!(
        "You are about to clear task instances of dag `{}` in {} run{}:\n",
        dag.dag_id(),
        runs.len(),
        if runs.len() == 1 { "" } else { "s" }
    );
    for run in runs {
        text.push_str(&format!("  {run}\n"));
    }
    let mut what = if tasks.is_empty() {
        "all tasks".to_owned()
    } else {
        format!("tasks {}", tasks.join(", "))
    };
    match (args.upstream, args.downstream) {
        (true, true) => what.push_str(", with their upstream and downstream tasks"),
        (true, false) => what.push_str(", with their upstream tasks"),
        (false, true) => what.push_str(", with their downstream tasks"),
        (false, false) => {}
    }
    if args.only_failed {
        what.push_str(", only failed instances");
    }
    text.push_str(&format!("{what}\nAre you sure? [y/n] "));
    text
}

/// Asks `question` on `err` and reads the answer from `input`: `y` or `yes` goes ahead.
/// Without an input to ask (stdin is not a terminal), an error that says to pass `--yes`.
fn confirm(
    question: &str,
    input: Option<impl BufRead>,
    err: &mut dyn Write,
) -> Result<bool, Failure> {
    let Some(mut input) = input else {
        return Err(Failure(
            "not clearing without a confirmation: stdin is not a terminal to ask on; pass -y/--yes"
                .to_owned(),
        ));
    };
    err.write_all(question.as_bytes())?;
    err.flush()?;
    let mut answer = String::new();
    input
        .read_line(&mut answer)
        .map_err(|error| Failure(format!("cannot read the answer: {error}")))?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirm_goes_ahead_on_yes_only() {
        let mut err = Vec::new();
        assert!(confirm("Sure? ", Some(&b"y\n"[..]), &mut err).unwrap());
        assert!(confirm("Sure? ", Some(&b"YES\n"[..]), &mut err).unwrap());
        assert!(!confirm("Sure? ", Some(&b"n\n"[..]), &mut err).unwrap());
        assert!(!confirm("Sure? ", Some(&b""[..]), &mut err).unwrap());
        assert_eq!(String::from_utf8(err).unwrap(), "Sure? ".repeat(4));
    }

    #[test]
    fn confirm_without_a_terminal_refuses_and_says_to_pass_yes() {
        let mut err = Vec::new();
        let Failure(message) = confirm("Sure? ", None::<&[u8]>, &mut err).unwrap_err();
        assert!(message.contains("-y/--yes"), "{message}");
        assert!(err.is_empty());
    }
}
