//! Fan-in: a `Vec<T>` (or `&[T]`) parameter takes many handles of one type, built while
//! wiring, and the task reduces their values, in the order of the handles.

use taskflow::prelude::*;

#[task]
fn count(region: &str) -> u64 {
    region.len() as u64
}

#[task]
fn total(counts: Vec<u64>) -> u64 {
    counts.iter().sum()
}

#[task]
fn listed(counts: &[u64]) -> String {
    counts
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[task]
fn fails(_region: &str) -> Result<u64, TaskError> {
    Err(TaskError::msg("region offline"))
}

#[task(trigger_rule = "all_done")]
fn total_of_what_came(counts: Vec<u64>) -> Vec<u64> {
    counts
}

#[test]
fn a_vec_parameter_reduces_many_handles_in_their_order() {
    let report = Dag::build("fan_in", || {
        let counts: Vec<Xcom<u64>> = ["north", "south", "east", "w"]
            .iter()
            .map(|region| count(*region))
            .collect();
        total(counts.clone());
        listed(counts);
    })
    .unwrap()
    .test()
    .unwrap();
    assert!(report.succeeded());
    assert_eq!(report.xcom::<u64>("total").unwrap(), 5 + 5 + 4 + 1);
    assert_eq!(report.xcom::<String>("listed").unwrap(), "5,5,4,1");
    // The sink waited for every upstream task.
    let sink_start = report.task("total").unwrap().start_date.unwrap();
    for id in ["count", "count__1", "count__2", "count__3"] {
        assert!(
            report.task(id).unwrap().end_date.unwrap() <= sink_start,
            "{id}"
        );
    }
}

#[test]
fn an_array_of_handles_and_a_run_that_moves_values_fan_in_too() {
    let dag = Dag::build("fan_in_array", || {
        let one = count("north");
        total([one, count("ab")]);
        // A single source whose only reader is the sink: its value may be handed over in place.
        listed(vec![count("abc")]);
    })
    .unwrap();
    let report = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(dag.run())
        .unwrap();
    assert_eq!(report.xcom::<u64>("total").unwrap(), 7);
    assert_eq!(report.xcom::<String>("listed").unwrap(), "3");
}

#[test]
fn an_all_done_reduce_gets_the_values_that_came_and_all_success_none() {
    let report = Dag::build("fan_in_failures", || {
        let counts = vec![count("north"), fails("south"), count("ea")];
        total(counts.clone());
        total_of_what_came(counts);
    })
    .unwrap()
    .test_with(RunOptions::new().log(false))
    .unwrap();
    assert_eq!(report.state("fails"), TaskState::Failed);
    assert_eq!(report.state("total"), TaskState::UpstreamFailed);
    assert_eq!(report.state("total_of_what_came"), TaskState::Success);
    assert_eq!(
        report.xcom::<Vec<u64>>("total_of_what_came").unwrap(),
        [5, 2]
    );
}

#[test]
fn an_empty_list_of_handles_gives_an_empty_vec() {
    let report = Dag::build("fan_in_empty", || {
        total(Vec::<Xcom<u64>>::new());
    })
    .unwrap()
    .test_with(RunOptions::new().log(false))
    .unwrap();
    assert_eq!(report.xcom::<u64>("total").unwrap(), 0);
}

#[test]
fn a_handle_from_another_dag_in_a_fan_in_is_an_error() {
    let mut foreign = None;
    Dag::build("other", || {
        foreign = Some(count("x"));
    })
    .unwrap();
    let error = Dag::build("fan_in_foreign", || {
        total(vec![count("a"), foreign.unwrap()]);
    })
    .unwrap_err();
    assert!(
        matches!(error, taskflow::Error::ForeignHandle { .. }),
        "{error}"
    );
}
