//! Views of a DAG and of a run for a person: the graph as Graphviz DOT or a Mermaid
//! flowchart (coloured by a run's task states, with Airflow's colours), and a run's report
//! as a table.

use std::fmt::{self, Write as _};

use crate::dag::DagInner;
use crate::{Dag, RunReport, TaskReport, TaskState};

mod gantt;
mod graph;
mod html;

/// Airflow's UI colour of a task state.
fn colour(state: TaskState) -> &'static str {
    match state {
        TaskState::Success => "#008000",
        TaskState::Running => "#00ff00",
        TaskState::Failed => "#ff0000",
        TaskState::UpstreamFailed => "#ffa500",
        TaskState::Skipped => "#ff69b4",
        TaskState::UpForRetry => "#ffd700",
        TaskState::UpForReschedule => "#40e0d0",
        TaskState::Queued => "#808080",
        TaskState::Scheduled => "#d2b48c",
        TaskState::Removed => "#d3d3d3",
        _ => "#ffffff",
    }
}

/// `HH:MM:SS.mmm` of `at`: the time of day in the report's table and the log's lines.
pub(crate) fn clock_time(at: chrono::DateTime<chrono::Utc>) -> String {
    use chrono::Timelike;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        at.hour(),
        at.minute(),
        at.second(),
        at.nanosecond() / 1_000_000 % 1000
    )
}

/// Text in a DOT or Mermaid string: quotes and backslashes escaped.
fn quoted(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The graph of `dag` in DOT, each task filled with its state's colour if `states` says.
fn dot(dag: &DagInner, states: Option<&dyn Fn(u32) -> TaskState>) -> String {
    let mut out = format!("digraph \"{}\" {{\n", quoted(&dag.dag_id));
    out.push_str(
        "  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\"];\n",
    );
    for node in 0..dag.nodes.len() as u32 {
        let id = quoted(&dag.task_id(node));
        match states {
            Some(state_of) => {
                let state = state_of(node);
                let _ = writeln!(
                    out,
                    "  \"{id}\" [fillcolor=\"{}\", tooltip=\"{}\"];",
                    colour(state),
                    state.as_str()
                );
            }
            None => {
                let _ = writeln!(out, "  \"{id}\";");
            }
        }
    }
    for node in 0..dag.nodes.len() as u32 {
        let from = quoted(&dag.task_id(node));
        for &down in dag.plan.downstream(node) {
            let _ = writeln!(out, "  \"{from}\" -> \"{}\";", quoted(&dag.task_id(down)));
        }
    }
    out.push_str("}\n");
    out
}

/// The graph of `dag` as a Mermaid flowchart, each task in its state's class if `states`
/// says. Tasks are named `t0`, `t1`, ... (Mermaid ids cannot hold every id character).
fn mermaid(dag: &DagInner, states: Option<&dyn Fn(u32) -> TaskState>) -> String {
    let mut out = String::from("flowchart LR\n");
    let mut used = Vec::new();
    for node in 0..dag.nodes.len() as u32 {
        let _ = write!(out, "  t{node}[\"{}\"]", quoted(&dag.task_id(node)));
        if let Some(state_of) = states {
            let state = state_of(node);
            let _ = write!(out, ":::{}", state.as_str());
            if !used.contains(&state) {
                used.push(state);
            }
        }
        out.push('\n');
    }
    for node in 0..dag.nodes.len() as u32 {
        for &down in dag.plan.downstream(node) {
            let _ = writeln!(out, "  t{node} --> t{down}");
        }
    }
    for state in used {
        let _ = writeln!(out, "  classDef {} fill:{}", state.as_str(), colour(state));
    }
    out
}

impl Dag {
    /// The DAG's graph in Graphviz's DOT language: a box per task, an arrow per dependency
    /// (data and ordering alike). `dot -Tsvg` renders it.
    ///
    /// ```
    /// use taskflow::prelude::*;
    ///
    /// #[task]
    /// fn extract() -> u32 { 1 }
    /// #[task]
    /// fn load(rows: u32) -> u32 { rows }
    ///
    /// let dag = Dag::build("etl", || {
    ///     load(extract());
    /// })?;
    /// assert!(dag.to_dot().contains("\"extract\" -> \"load\";"));
    /// # Ok::<(), taskflow::Error>(())
    /// ```
    pub fn to_dot(&self) -> String {
        dot(&self.inner, None)
    }

    /// The DAG's graph as a Mermaid flowchart (for Markdown pages that render Mermaid).
    ///
    /// ```
    /// use taskflow::prelude::*;
    ///
    /// #[task]
    /// fn extract() -> u32 { 1 }
    /// #[task]
    /// fn load(rows: u32) -> u32 { rows }
    ///
    /// let dag = Dag::build("etl", || {
    ///     load(extract());
    /// })?;
    /// assert_eq!(dag.to_mermaid(), "flowchart LR\n  t0[\"extract\"]\n  t1[\"load\"]\n  t0 --> t1\n");
    /// # Ok::<(), taskflow::Error>(())
    /// ```
    pub fn to_mermaid(&self) -> String {
        mermaid(&self.inner, None)
    }
}

impl RunReport {
    /// The run's graph in DOT, each task filled with the colour Airflow's UI gives its state
    /// (success green, failed red, upstream_failed orange, skipped pink, ...).
    pub fn to_dot(&self) -> String {
        dot(self.dag_inner(), Some(&|node| self.state_of(node)))
    }

    /// The run's graph as a Mermaid flowchart, each task in a class named after its state
    /// and coloured as in Airflow's UI.
    pub fn to_mermaid(&self) -> String {
        mermaid(self.dag_inner(), Some(&|node| self.state_of(node)))
    }
}

/// The columns of a run's table, in the text table and the HTML page alike.
const TABLE_HEADER: [&str; 6] = ["task", "state", "tries", "start", "duration", "error"];

/// A task's cells in a run's table, under [`TABLE_HEADER`].
fn table_row(task: TaskReport) -> [String; 6] {
    [
        task.task_id,
        task.state.as_str().to_owned(),
        match task.mapped {
            Some(count) => format!("{count} mapped"),
            None => task.tries.to_string(),
        },
        task.start_date.map_or_else(String::new, clock_time),
        task.duration
            .map_or_else(String::new, |duration| format!("{duration:.1?}")),
        task.error.unwrap_or_default(),
    ]
}

/// A table of the run: a line per task with its state, tries, start, duration and error.
///
/// ```
/// use taskflow::prelude::*;
///
/// #[task]
/// fn extract() -> u32 { 1 }
///
/// let report = Dag::build("etl", || {
///     extract();
/// })?
/// .test()?;
/// let table = report.to_string();
/// assert!(table.contains("extract"));
/// assert!(table.lines().nth(1).unwrap().starts_with("task"));
/// # Ok::<(), taskflow::Error>(())
/// ```
impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "dag {} run {}: {} in {:.1?}",
            self.dag_id(),
            self.run_id(),
            self.state_of_run(),
            self.duration()
        )?;
        let rows: Vec<[String; 6]> = self.tasks().map(table_row).collect();
        let header = TABLE_HEADER.map(String::from);
        let mut widths = header.clone().map(|title| title.chars().count());
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        for row in std::iter::once(&header).chain(&rows) {
            let mut line = String::new();
            for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
                if i + 1 == row.len() {
                    line.push_str(cell); // the error: no padding after it
                } else {
                    let _ = write!(line, "{cell:<width$}  ");
                }
            }
            writeln!(f, "{}", line.trim_end())?;
        }
        Ok(())
    }
}
