//! Graphs far longer than any stack: building, validating, weighing, running and dropping
//! them must not recurse once per task (a debug build overflows a test thread's stack after
//! a few thousand frames).

use taskflow::prelude::*;

#[task]
fn source() -> u64 {
    0
}

#[task]
fn inc(x: u64) -> u64 {
    x.wrapping_add(1)
}

#[task]
fn add(a: u64, b: u64) -> u64 {
    a.wrapping_add(b)
}

#[test]
fn a_long_chain_of_diamonds_builds_weighs_runs_and_drops_without_deep_recursion() {
    // 40k diamonds `top -> (inc, inc) -> add`, each `add` the next top.
    let diamonds = 40_000;
    let dag = Dag::build("long_diamonds", || {
        let mut top = source();
        for _ in 0..diamonds {
            top = add(inc(top), inc(top));
        }
    })
    .unwrap();
    assert_eq!(dag.len(), 1 + 3 * diamonds);
    assert_eq!(
        dag.priority_weight("source").unwrap(),
        1 + 3 * diamonds as i32
    );
    assert_eq!(dag.priority_weight("inc").unwrap(), 3 * diamonds as i32 - 1);
    let report = dag.test().unwrap();
    assert!(report.succeeded());
    // Each diamond takes its top t to 2t + 2.
    assert_eq!(report.xcom::<u64>("add").unwrap(), 2);
    assert_eq!(report.xcom::<u64>("add__1").unwrap(), 6);
    drop(report);
    drop(dag);
}

#[test]
fn a_long_chain_ordered_against_creation_order_validates_weighs_and_runs() {
    #[task]
    fn step() {}
    // Every edge goes from a later task to an earlier one, so the plan sorts them all.
    let n: i32 = 100_000;
    let dag = Dag::build("backwards", || {
        let tasks: Vec<TaskRef> = (0..n).map(|_| step().task()).collect();
        for pair in tasks.windows(2) {
            pair[1] >> pair[0];
        }
    })
    .unwrap();
    assert_eq!(dag.priority_weight("step").unwrap(), 1);
    let last = format!("step__{}", n - 1);
    assert_eq!(dag.priority_weight(&last).unwrap(), n);
    assert!(dag.test().unwrap().succeeded());
}
