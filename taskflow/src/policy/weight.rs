//! Priority weights: Airflow's weight rules and the effective weight of every task.
//!
//! A task's effective weight orders the ready queue (highest first). With Airflow's rules:
//! `absolute` is the task's own `priority_weight`; `downstream` (the default) adds the weights
//! of all its transitive descendants, each counted once; `upstream` adds those of all its
//! transitive ancestors.

use std::fmt;
use std::sync::Arc;

/// How a task's effective priority weight is computed (Airflow's `weight_rule`).
///
/// ```
/// use taskflow::prelude::*;
/// use taskflow::WeightRule;
///
/// #[task(priority_weight = 5, weight_rule = "absolute")]
/// fn urgent() {}
///
/// #[task]
/// fn step() {}
///
/// let dag = Dag::build("weights", || {
///     step() >> step() >> urgent(); // downstream (default): own + all descendants
/// })?;
/// assert_eq!(dag.priority_weight("step")?, 7); // 1 + 1 + 5
/// assert_eq!(dag.priority_weight("step__1")?, 6);
/// assert_eq!(dag.priority_weight("urgent")?, 5);
/// assert_eq!(dag.weight_rule("urgent")?, WeightRule::Absolute);
/// # Ok::<(), taskflow::Error>(())
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum WeightRule {
    /// The task's own `priority_weight`.
    Absolute,
    /// Its own weight plus that of every task downstream of it (Airflow's default): tasks
    /// that many others wait for go first.
    #[default]
    Downstream,
    /// Its own weight plus that of every task upstream of it: runs that are further along
    /// finish first.
    Upstream,
    /// A weight of the user's choosing.
    Custom(Arc<dyn PriorityWeightStrategy>),
}

impl WeightRule {
    /// Airflow's name of the rule (`"downstream"`, ...); a custom rule's own name.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Absolute => "absolute",
            Self::Downstream => "downstream",
            Self::Upstream => "upstream",
            Self::Custom(strategy) => strategy.name(),
        }
    }
}

/// The error of parsing an unknown weight rule name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown weight rule `{name}`; expected one of: absolute, downstream, upstream")]
pub struct UnknownWeightRule {
    /// The name that was not recognised.
    pub name: String,
}

/// A built-in rule from Airflow's name: `"absolute".parse::<WeightRule>()`.
impl std::str::FromStr for WeightRule {
    type Err = UnknownWeightRule;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "absolute" => Ok(Self::Absolute),
            "downstream" => Ok(Self::Downstream),
            "upstream" => Ok(Self::Upstream),
            _ => Err(UnknownWeightRule {
                name: name.to_owned(),
            }),
        }
    }
}

impl PartialEq for WeightRule {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Custom(a), Self::Custom(b)) => Arc::ptr_eq(a, b),
            (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
        }
    }
}

impl fmt::Debug for WeightRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Custom(strategy) => write!(f, "Custom({})", strategy.name()),
            rule => f.write_str(match rule {
                Self::Absolute => "Absolute",
                Self::Downstream => "Downstream",
                _ => "Upstream",
            }),
        }
    }
}

impl fmt::Display for WeightRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a custom weight rule sees of a task.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct WeightInput<'a> {
    /// The task id.
    pub task_id: &'a str,
    /// Its own `priority_weight`.
    pub priority_weight: i32,
    /// Its weight under the `downstream` rule.
    pub downstream: i64,
    /// Its weight under the `upstream` rule.
    pub upstream: i64,
}

/// A custom weight rule (Airflow's `PriorityWeightStrategy`), given as
/// `WeightRule::Custom(Arc::new(..))`.
///
/// ```
/// use std::sync::Arc;
/// use taskflow::prelude::*;
/// use taskflow::{PriorityWeightStrategy, WeightInput, WeightRule};
///
/// /// Deep tasks first: the weight of everything upstream, doubled.
/// struct DoubleUpstream;
///
/// impl PriorityWeightStrategy for DoubleUpstream {
///     fn name(&self) -> &str {
///         "double_upstream"
///     }
///     fn weight(&self, task: &WeightInput<'_>) -> i64 {
///         2 * task.upstream
///     }
/// }
///
/// #[task]
/// fn step() {}
///
/// let rule = WeightRule::Custom(Arc::new(DoubleUpstream));
/// let dag = Dag::builder("custom")
///     .default_args(TaskOptions::new().weight_rule(rule))
///     .build(|| {
///         step() >> step();
///     })?;
/// assert_eq!(dag.priority_weight("step__1")?, 4);
/// # Ok::<(), taskflow::Error>(())
/// ```
pub trait PriorityWeightStrategy: Send + Sync + 'static {
    /// The rule's name, for reports and messages.
    fn name(&self) -> &str;
    /// The task's effective weight. A value beyond `i32` is a validation error of the DAG.
    fn weight(&self, task: &WeightInput<'_>) -> i64;
}

/// A graph in one direction, in compact (CSR) form: the neighbours of `v` are
/// `next[start[v]..start[v + 1]]`.
pub(crate) struct Adjacency<'a> {
    pub(crate) start: &'a [u32],
    pub(crate) next: &'a [u32],
}

impl Adjacency<'_> {
    fn of(&self, v: usize) -> &[u32] {
        &self.next[self.start[v] as usize..self.start[v + 1] as usize]
    }
}

/// For every task, its own weight plus the weights of every task reachable from it along
/// `forward` (each counted once). `order` lists the tasks so that each comes after all it
/// reaches (sinks first); `incoming` counts each task's edges in the `forward` direction.
///
/// Exact and linear on chains, trees and fans: a task with one successor adds that
/// successor's total; a task whose successors head disjoint trees adds their totals. Only
/// where paths branch and meet again does it walk the reachable tasks (once per such task,
/// skipping subtrees no other path enters).
pub(crate) fn reach_totals(
    own: &[i32],
    forward: &Adjacency<'_>,
    incoming: &[u32],
    order: impl Iterator<Item = u32>,
) -> Vec<i64> {
    let n = own.len();
    let mut total = vec![0i64; n];
    // Whether everything reachable from a task is reachable only through it.
    let mut tree = vec![false; n];
    // Allocated only when paths meet again.
    let mut stamp = Vec::new();
    let mut stack = Vec::new();
    for v in order {
        let v = v as usize;
        let next = forward.of(v);
        let own_weight = i64::from(own[v]);
        tree[v] = next
            .iter()
            .all(|&c| incoming[c as usize] == 1 && tree[c as usize]);
        total[v] = match next {
            [] => own_weight,
            &[only] => own_weight + total[only as usize],
            _ if tree[v] => own_weight + next.iter().map(|&c| total[c as usize]).sum::<i64>(),
            _ => {
                let mut sum = own_weight;
                if stamp.is_empty() {
                    stamp = vec![u32::MAX; n];
                }
                stamp[v] = v as u32;
                stack.extend_from_slice(next);
                while let Some(u) = stack.pop() {
                    let u = u as usize;
                    if stamp[u] == v as u32 {
                        continue;
                    }
                    stamp[u] = v as u32;
                    if incoming[u] == 1 && tree[u] {
                        sum += total[u];
                    } else {
                        sum += i64::from(own[u]);
                        stack.extend_from_slice(forward.of(u));
                    }
                }
                sum
            }
        };
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Totals over edges `(from, to)` of a DAG with `n` tasks, tasks numbered topologically.
    fn totals(own: &[i32], edges: &[(u32, u32)]) -> Vec<i64> {
        let n = own.len();
        let mut start = vec![0u32; n + 1];
        let mut incoming = vec![0u32; n];
        for &(from, to) in edges {
            start[from as usize + 1] += 1;
            incoming[to as usize] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut next = vec![0u32; edges.len()];
        for &(from, to) in edges {
            next[fill[from as usize] as usize] = to;
            fill[from as usize] += 1;
        }
        reach_totals(
            own,
            &Adjacency {
                start: &start,
                next: &next,
            },
            &incoming,
            (0..n as u32).rev(),
        )
    }

    /// The same by brute force: a walk from every task.
    fn brute(own: &[i32], edges: &[(u32, u32)]) -> Vec<i64> {
        (0..own.len())
            .map(|v| {
                let mut seen = vec![false; own.len()];
                let mut stack = vec![v];
                let mut sum = 0;
                while let Some(u) = stack.pop() {
                    if !std::mem::replace(&mut seen[u], true) {
                        sum += i64::from(own[u]);
                        stack.extend(
                            edges
                                .iter()
                                .filter(|e| e.0 as usize == u)
                                .map(|e| e.1 as usize),
                        );
                    }
                }
                sum
            })
            .collect()
    }

    #[test]
    fn a_diamond_counts_the_shared_descendant_once() {
        // 0 -> 1, 0 -> 2, 1 -> 3, 2 -> 3
        let edges = [(0, 1), (0, 2), (1, 3), (2, 3)];
        assert_eq!(totals(&[1, 2, 3, 4], &edges), [10, 6, 7, 4]);
    }

    #[test]
    fn chains_trees_fans_and_meshes_match_a_walk_from_every_task() {
        let shapes: Vec<(usize, Vec<(u32, u32)>)> = vec![
            (6, (0..5).map(|i| (i, i + 1)).collect()),
            (7, vec![(0, 1), (0, 2), (1, 3), (1, 4), (2, 5), (2, 6)]),
            (
                6,
                vec![
                    (0, 1),
                    (0, 2),
                    (0, 3),
                    (0, 4),
                    (1, 5),
                    (2, 5),
                    (3, 5),
                    (4, 5),
                ],
            ),
            (
                8,
                vec![
                    (0, 2),
                    (1, 2),
                    (0, 3),
                    (2, 4),
                    (3, 4),
                    (2, 5),
                    (4, 6),
                    (5, 7),
                    (6, 7),
                    (1, 7),
                ],
            ),
            (5, vec![(0, 1), (0, 2), (1, 3), (3, 4), (2, 4), (0, 4)]),
        ];
        for (n, edges) in shapes {
            let own: Vec<i32> = (0..n as i32).map(|i| i * 3 - 4).collect();
            assert_eq!(totals(&own, &edges), brute(&own, &edges), "{edges:?}");
        }
    }
}
