//! Airflow's weight rules: `absolute`, `downstream` (default) and `upstream`, on graphs where
//! the three give different answers and descendants are shared.

use std::sync::Arc;

use taskflow::prelude::*;
use taskflow::{PriorityWeightStrategy, WeightInput, WeightRule};

#[task]
fn step() {}

/// A diamond `top -> (left, right) -> bottom`, then `bottom -> tail`, every task with its own
/// weight (1, 2, 3, 4, 5) and the given rule.
fn diamond(rule: WeightRule) -> Dag {
    Dag::builder("diamond")
        .default_args(TaskOptions::new().weight_rule(rule))
        .build(|| {
            let weight = |id: &'static str, w| {
                step::with(TaskOptions::new().task_id(id).priority_weight(w)).add()
            };
            let top = weight("top", 1);
            let left = weight("left", 2);
            let right = weight("right", 3);
            let bottom = weight("bottom", 4);
            let tail = weight("tail", 5);
            top >> [left, right];
            [left, right] >> bottom;
            bottom >> tail;
        })
        .unwrap()
}

fn weights(dag: &Dag) -> Vec<i32> {
    ["top", "left", "right", "bottom", "tail"]
        .iter()
        .map(|id| dag.priority_weight(id).unwrap())
        .collect()
}

#[test]
fn downstream_counts_each_descendant_once() {
    // top: 1 + 2 + 3 + 4 + 5 (bottom and tail once, though two paths reach them)
    assert_eq!(
        weights(&diamond(WeightRule::Downstream)),
        [15, 11, 12, 9, 5]
    );
}

#[test]
fn upstream_counts_each_ancestor_once() {
    // tail: 5 + 4 + 3 + 2 + 1 (top once, though two paths lead from it)
    assert_eq!(weights(&diamond(WeightRule::Upstream)), [1, 3, 4, 10, 15]);
}

#[test]
fn absolute_is_the_own_weight() {
    assert_eq!(weights(&diamond(WeightRule::Absolute)), [1, 2, 3, 4, 5]);
}

#[test]
fn downstream_is_the_default_with_weight_one() {
    let dag = Dag::build("defaults", || {
        let first = step();
        first >> [step(), step()];
    })
    .unwrap();
    assert_eq!(dag.priority_weight("step").unwrap(), 3);
    assert_eq!(dag.priority_weight("step__1").unwrap(), 1);
    assert_eq!(dag.weight_rule("step").unwrap(), WeightRule::Downstream);
}

#[test]
fn macro_options_and_per_task_rules_mix() {
    #[task(priority_weight = 10, weight_rule = "absolute")]
    fn urgent() {}
    #[task(priority_weight = -2, weight_rule = "upstream")]
    fn late() {}
    let dag = Dag::build("mixed", || {
        step() >> urgent() >> late();
    })
    .unwrap();
    assert_eq!(dag.priority_weight("step").unwrap(), 1 + 10 - 2);
    assert_eq!(dag.priority_weight("urgent").unwrap(), 10);
    assert_eq!(dag.priority_weight("late").unwrap(), -2 + 10 + 1);
    let report = dag.test().unwrap();
    assert_eq!(report.priority_weight("urgent"), 10);
    assert_eq!(report.task("late").unwrap().priority_weight, 9);
}

#[test]
fn default_args_give_weights_that_tasks_override() {
    #[task(priority_weight = 7)]
    fn own() {}
    let dag = Dag::builder("defaults_args")
        .default_args(
            TaskOptions::new()
                .priority_weight(3)
                .weight_rule(WeightRule::Absolute),
        )
        .build(|| {
            step();
            own();
        })
        .unwrap();
    assert_eq!(dag.priority_weight("step").unwrap(), 3);
    assert_eq!(dag.priority_weight("own").unwrap(), 7);
}

#[test]
fn a_weight_beyond_i32_is_a_validation_error() {
    let error = Dag::build("overflow", || {
        let heavy = || step::with(TaskOptions::new().priority_weight(i32::MAX)).add();
        heavy() >> heavy();
    })
    .unwrap_err();
    match &error {
        taskflow::Error::PriorityWeightOverflow {
            task_id, weight, ..
        } => {
            assert_eq!(task_id, "step");
            assert_eq!(*weight, 2 * i64::from(i32::MAX));
        }
        other => panic!("expected an overflow error, got {other}"),
    }
    assert!(
        error.to_string().contains("weight_rule = \"absolute\""),
        "{error}"
    );
}

#[test]
fn a_custom_rule_sees_both_totals() {
    struct Spread;
    impl PriorityWeightStrategy for Spread {
        fn name(&self) -> &str {
            "spread"
        }
        fn weight(&self, task: &WeightInput<'_>) -> i64 {
            task.downstream * 100 + task.upstream
        }
    }
    let dag = diamond(WeightRule::Custom(Arc::new(Spread)));
    assert_eq!(weights(&dag), [1501, 1103, 1204, 910, 515]);
    assert_eq!(dag.weight_rule("top").unwrap().as_str(), "spread");
}

#[test]
fn weights_are_linear_on_a_long_chain_and_a_wide_fan() {
    // 200k tasks each: a per-task walk would take ~10^10 steps; this finishes at once.
    let chain = Dag::build("long_chain", || {
        let mut last = step().task();
        for _ in 1..200_000 {
            let next = step().task();
            last >> next;
            last = next;
        }
    })
    .unwrap();
    assert_eq!(chain.priority_weight("step").unwrap(), 200_000);
    let fan = Dag::build("wide_fan", || {
        let source = step().task();
        let sink = step().task();
        for _ in 0..200_000 {
            let middle = step().task();
            source >> middle;
            middle >> sink;
        }
    })
    .unwrap();
    assert_eq!(fan.priority_weight("step").unwrap(), 200_002);
    assert_eq!(fan.priority_weight("step__2").unwrap(), 2);
}
