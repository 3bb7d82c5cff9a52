//! Views for a person: a DAG's graph as DOT and Mermaid, coloured by a run's states, and a
//! run's report as a table.

use taskflow::prelude::*;

#[task]
fn extract() -> u32 {
    3
}

#[task]
fn broken(rows: u32) -> Result<u32, TaskError> {
    Err(TaskError::msg(format!("cannot load {rows} rows")))
}

#[task]
fn after(rows: u32) -> u32 {
    rows
}

fn etl() -> Dag {
    Dag::build("views", || {
        let rows = extract();
        after(broken(rows));
    })
    .unwrap()
}

#[test]
fn a_dags_dot_has_a_node_per_task_and_an_edge_per_dependency() {
    let dot = etl().to_dot();
    assert!(dot.starts_with("digraph \"views\" {\n"), "{dot}");
    assert!(dot.trim_end().ends_with('}'), "{dot}");
    for node in ["\"extract\";", "\"broken\";", "\"after\";"] {
        assert!(dot.contains(node), "{dot}");
    }
    assert!(dot.contains("\"extract\" -> \"broken\";"), "{dot}");
    assert!(dot.contains("\"broken\" -> \"after\";"), "{dot}");
    assert_eq!(dot.matches(" -> ").count(), 2, "{dot}");
}

#[test]
fn a_runs_pictures_colour_tasks_by_their_states_as_airflow_does() {
    let report = etl().test().unwrap();
    let dot = report.to_dot();
    assert!(
        dot.contains("\"extract\" [fillcolor=\"#008000\", tooltip=\"success\"];"),
        "{dot}"
    );
    assert!(
        dot.contains("\"broken\" [fillcolor=\"#ff0000\", tooltip=\"failed\"];"),
        "{dot}"
    );
    assert!(
        dot.contains("\"after\" [fillcolor=\"#ffa500\", tooltip=\"upstream_failed\"];"),
        "{dot}"
    );
    let mermaid = report.to_mermaid();
    assert!(mermaid.starts_with("flowchart LR\n"), "{mermaid}");
    assert!(mermaid.contains("t0[\"extract\"]:::success"), "{mermaid}");
    assert!(mermaid.contains("t1[\"broken\"]:::failed"), "{mermaid}");
    assert!(
        mermaid.contains("t2[\"after\"]:::upstream_failed"),
        "{mermaid}"
    );
    assert!(mermaid.contains("t0 --> t1\n  t1 --> t2"), "{mermaid}");
    assert!(
        mermaid.contains("classDef failed fill:#ff0000"),
        "{mermaid}"
    );
    assert_eq!(mermaid.matches("classDef").count(), 3, "{mermaid}");
}

#[test]
fn a_report_displays_as_a_table_of_its_tasks() {
    let report = etl().test().unwrap();
    let table = report.to_string();
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("dag views run manual__"), "{table}");
    assert!(lines[0].contains(": failed in "), "{table}");
    let header = lines[1];
    assert!(header.starts_with("task     state"), "{table}");
    assert_eq!(lines.len(), 5, "{table}");
    // Columns line up: each state starts where the header's does.
    let state_at = header.find("state").unwrap();
    for (line, state) in lines[2..]
        .iter()
        .zip(["success", "failed", "upstream_failed"])
    {
        assert_eq!(line.find(state), Some(state_at), "{table}");
    }
    assert!(lines[3].ends_with("cannot load 3 rows"), "{table}");
    assert!(lines[4].starts_with("after"), "{table}");
}
