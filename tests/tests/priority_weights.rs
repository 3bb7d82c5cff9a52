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
            left >> bottom;
            right >> bottom;
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

/// A chain of `diamonds` diamonds `top -> (left, right) -> bottom`, each bottom the next
/// top; ids `step` (the first top), then `step__1`, ... in that order.
fn diamond_chain(diamonds: usize) -> Dag {
    Dag::build("diamonds", || {
        let mut top = step().task();
        for _ in 0..diamonds {
            let (left, right, bottom) = (step().task(), step().task(), step().task());
            top >> [left, right];
            left >> bottom;
            right >> bottom;
            top = bottom;
        }
    })
    .unwrap()
}

#[test]
fn weights_of_a_chain_of_100k_diamonds_are_exact_without_a_walk_per_task() {
    // Every task walking all its descendants took 18 s in a release build.
    let diamonds = 100_000;
    let dag = diamond_chain(diamonds);
    let tasks = 3 * diamonds as i32 + 1;
    assert_eq!(dag.priority_weight("step").unwrap(), tasks);
    // The first left: itself and everything from the first bottom on.
    assert_eq!(dag.priority_weight("step__1").unwrap(), tasks - 2);
    assert_eq!(dag.priority_weight("step__2").unwrap(), tasks - 2);
    assert_eq!(dag.priority_weight("step__3").unwrap(), tasks - 3);
    let last = format!("step__{}", tasks - 1);
    assert_eq!(dag.priority_weight(&last).unwrap(), 1);
}

#[test]
fn upstream_weights_of_a_long_ladder_are_exact_without_a_walk_per_task() {
    // Upper tasks `u_i`, lower ones `l_i`: u_i -> u_i+1, l_i -> l_i+1, u_i -> l_i.
    let rungs: i32 = 50_000;
    let dag = Dag::builder("ladder")
        .default_args(TaskOptions::new().weight_rule(WeightRule::Upstream))
        .build(|| {
            let upper = || {
                step::with(TaskOptions::new().priority_weight(2))
                    .add()
                    .task()
            };
            let (mut u, mut l) = (upper(), step().task());
            u >> l;
            for _ in 1..rungs {
                let (next_u, next_l) = (upper(), step().task());
                u >> next_u;
                l >> next_l;
                next_u >> next_l;
                (u, l) = (next_u, next_l);
            }
        })
        .unwrap();
    // The last lower task has every upper task (2 each) and every lower one (1) upstream.
    let last = format!("step__{}", 2 * rungs - 1);
    assert_eq!(dag.priority_weight(&last).unwrap(), 3 * rungs);
    // The last upper task: only upper tasks.
    let last_upper = format!("step__{}", 2 * rungs - 2);
    assert_eq!(dag.priority_weight(&last_upper).unwrap(), 2 * rungs);
}

/// A small xorshift generator, so that the random graphs are the same on every run.
struct Random(u64);

impl Random {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn weights_of_random_small_dags_match_a_walk_from_every_task() {
    let mut random = Random(0x2545_F491_4F6C_DD1D);
    for case in 0..300 {
        let n = 1 + random.below(16) as usize;
        let density = 1 + random.below(7);
        // Edges between random pairs, from the earlier to the later in a shuffled order,
        // so that creation order is often not a topological order.
        let mut rank: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            rank.swap(i, random.below(i as u64 + 1) as usize);
        }
        let mut edges = Vec::new();
        for i in 0..n {
            for j in 0..n {
                if rank[i] < rank[j] && random.below(8) < density {
                    edges.push((i, j));
                }
            }
        }
        let own: Vec<i32> = (0..n).map(|_| random.below(9) as i32 - 2).collect();
        let rules: Vec<WeightRule> = (0..n)
            .map(|_| match random.below(3) {
                0 => WeightRule::Downstream,
                1 => WeightRule::Upstream,
                _ => WeightRule::Absolute,
            })
            .collect();
        let dag = Dag::build("random", || {
            let tasks: Vec<TaskRef> = (0..n)
                .map(|i| {
                    let options = TaskOptions::new()
                        .task_id(format!("t{i}"))
                        .priority_weight(own[i])
                        .weight_rule(rules[i].clone());
                    step::with(options).add().task()
                })
                .collect();
            for &(from, to) in &edges {
                tasks[from] >> tasks[to];
            }
        })
        .unwrap();
        // Everything reachable from `v` along `edges` in one direction, `v` included.
        let reach = |v: usize, down: bool| {
            let mut seen = vec![false; n];
            let mut stack = vec![v];
            while let Some(u) = stack.pop() {
                if !std::mem::replace(&mut seen[u], true) {
                    stack.extend(edges.iter().filter_map(|&(a, b)| match down {
                        true if a == u => Some(b),
                        false if b == u => Some(a),
                        _ => None,
                    }));
                }
            }
            (0..n).filter(|&u| seen[u]).map(|u| own[u]).sum::<i32>()
        };
        for v in 0..n {
            let want = match rules[v] {
                WeightRule::Downstream => reach(v, true),
                WeightRule::Upstream => reach(v, false),
                _ => own[v],
            };
            let got = dag.priority_weight(&format!("t{v}")).unwrap();
            assert_eq!(
                got, want,
                "case {case}: task t{v}, edges {edges:?}, own {own:?}"
            );
        }
    }
}
