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
/// Linear on chains, trees and fans, where a walk from each task that branches into paths
/// meeting again is cheap (see [`walk_totals`]). Where such walks add up to more than a few
/// times the graph (chains of diamonds, ladders), the reachable sets are built instead, as
/// runs of consecutive positions in a depth-first order (see [`span_totals`]), and failing
/// that (sets too large to keep) the walks run to the end: the result is exact either way.
pub(crate) fn reach_totals(
    own: &[i32],
    forward: &Adjacency<'_>,
    incoming: &[u32],
    order: impl Iterator<Item = u32> + Clone,
) -> Vec<i64> {
    let size = own.len() + forward.next.len();
    let steps = size
        .saturating_mul(WALK_STEPS_PER_ITEM)
        .saturating_add(4096);
    if let Some(totals) = walk_totals(own, forward, incoming, order.clone(), steps) {
        return totals;
    }
    let spans = size.saturating_mul(SPANS_PER_ITEM).saturating_add(1 << 16);
    if let Some(totals) = span_totals(own, forward, incoming, spans) {
        return totals;
    }
    // No budget: the walks end after at most (tasks x edges) steps.
    walk_totals(own, forward, incoming, order, usize::MAX).unwrap_or_else(|| vec![0; own.len()])
}

/// How many walk steps per task and edge [`reach_totals`] allows before building sets.
const WALK_STEPS_PER_ITEM: usize = 4;

/// How many kept runs per task and edge [`reach_totals`] allows before walking after all
/// (8 bytes each).
const SPANS_PER_ITEM: usize = 16;

/// The totals by walking, from each task that branches, everything it reaches, skipping
/// parts reachable only through one task (whose total is already known); `None` once the
/// walks take more than `budget` steps.
fn walk_totals(
    own: &[i32],
    forward: &Adjacency<'_>,
    incoming: &[u32],
    order: impl Iterator<Item = u32>,
    budget: usize,
) -> Option<Vec<i64>> {
    let n = own.len();
    let mut total = vec![0i64; n];
    // Whether everything reachable from a task is reachable only through it.
    let mut tree = vec![false; n];
    // Allocated only when paths meet again.
    let mut stamp = Vec::new();
    let mut stack = Vec::new();
    let mut steps = 0usize;
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
                    steps += 1;
                    if steps > budget {
                        return None;
                    }
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
    Some(total)
}

/// Consecutive positions `start..end` in a numbering of the tasks by chains.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u32,
    end: u32,
}

/// The totals from each task's reachable set, kept as sorted runs of positions, with prefix
/// sums of the weights by position so that a run's weight is one subtraction.
///
/// The tasks are covered by paths (chains), each numbered consecutively, so that what a
/// task reaches of a chain, a tail of it, is one run: a set has at most as many runs as
/// the chains it meets (one or two in chains of diamonds and ladders). Sets are made sinks
/// first, each from the union of its successors' sets, and a set is dropped (or handed on)
/// once every task before it has taken it. `None` once more than `budget` runs are kept at
/// once.
fn span_totals(
    own: &[i32],
    forward: &Adjacency<'_>,
    incoming: &[u32],
    budget: usize,
) -> Option<Vec<i64>> {
    let n = own.len();
    let order = postorder(forward, incoming)?;
    let position = chain_positions(forward, &order);
    // Per position: the weight of the tasks at earlier positions.
    let mut prefix = vec![0i64; n + 1];
    for v in 0..n {
        prefix[position[v] as usize + 1] = i64::from(own[v]);
    }
    for p in 0..n {
        prefix[p + 1] += prefix[p];
    }
    let mut total = vec![0i64; n];
    let mut sets: Vec<Vec<Span>> = vec![Vec::new(); n];
    // Per task: the tasks before it that have yet to take its set.
    let mut takers = incoming.to_vec();
    let mut kept = 0usize;
    let mut merged: Vec<Span> = Vec::new();
    for &v in &order {
        let v = v as usize;
        let own_span = Span {
            start: position[v],
            end: position[v] + 1,
        };
        let set = match forward.of(v) {
            &[only] if takers[only as usize] == 1 => {
                let only = only as usize;
                takers[only] = 0;
                kept -= sets[only].len();
                let mut set = std::mem::take(&mut sets[only]);
                insert(&mut set, own_span);
                set
            }
            next => {
                let mut set = match *next {
                    [a, b] => merge(&sets[a as usize], &sets[b as usize]),
                    _ => {
                        merged.clear();
                        for &c in next {
                            merged.extend_from_slice(&sets[c as usize]);
                        }
                        union(&mut merged)
                    }
                };
                for &c in next {
                    let c = c as usize;
                    takers[c] -= 1;
                    if takers[c] == 0 {
                        kept -= sets[c].len();
                        sets[c] = Vec::new();
                    }
                }
                insert(&mut set, own_span);
                set
            }
        };
        total[v] = set
            .iter()
            .map(|span| prefix[span.end as usize] - prefix[span.start as usize])
            .sum();
        if takers[v] > 0 {
            kept += set.len();
            if kept > budget {
                return None;
            }
            sets[v] = set;
        }
    }
    Some(total)
}

/// The tasks in a depth-first postorder along `forward` (each after all it reaches), by a
/// search with its own stack; `None` if some task is not reached from one without incoming
/// edges (a cycle).
fn postorder(forward: &Adjacency<'_>, incoming: &[u32]) -> Option<Vec<u32>> {
    let n = incoming.len();
    let mut order = Vec::with_capacity(n);
    let mut visited = vec![false; n];
    // (task, index of its next edge)
    let mut stack: Vec<(u32, u32)> = Vec::new();
    for root in (0..n).filter(|&v| incoming[v] == 0) {
        visited[root] = true;
        stack.push((root as u32, forward.start[root]));
        while let Some(top) = stack.last_mut() {
            let (v, edge) = *top;
            if edge < forward.start[v as usize + 1] {
                top.1 += 1;
                let c = forward.next[edge as usize] as usize;
                if !std::mem::replace(&mut visited[c], true) {
                    stack.push((c as u32, forward.start[c]));
                }
            } else {
                stack.pop();
                order.push(v);
            }
        }
    }
    (order.len() == n).then_some(order)
}

/// Per task: its position when the tasks are covered greedily by paths, each numbered
/// consecutively: from each task not yet covered (in topological order, the reverse of the
/// postorder `order`), a path along the first edge to a task not yet covered, and so on.
fn chain_positions(forward: &Adjacency<'_>, order: &[u32]) -> Vec<u32> {
    let mut position = vec![u32::MAX; order.len()];
    let mut next = 0u32;
    for &first in order.iter().rev() {
        let mut v = first as usize;
        while position[v] == u32::MAX {
            position[v] = next;
            next += 1;
            match forward
                .of(v)
                .iter()
                .find(|&&c| position[c as usize] == u32::MAX)
            {
                Some(&c) => v = c as usize,
                None => break,
            }
        }
    }
    position
}

/// Adds `span` to the sorted runs `set`, which it does not overlap.
fn insert(set: &mut Vec<Span>, span: Span) {
    // The first run that ends at or after the new one's start.
    let i = set.partition_point(|run| run.end < span.start);
    let joins_before = i < set.len() && set[i].end == span.start;
    let joins_after = |j: usize| j < set.len() && set[j].start == span.end;
    match (joins_before, joins_after(i + usize::from(joins_before))) {
        (true, true) => {
            set[i].end = set[i + 1].end;
            set.remove(i + 1);
        }
        (true, false) => set[i].end = span.end,
        (false, true) => set[i].start = span.start,
        (false, false) => set.insert(i, span),
    }
}

/// The union of two sorted lists of runs, in one pass.
fn merge(a: &[Span], b: &[Span]) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let span = if j == b.len() || (i < a.len() && a[i].start <= b[j].start) {
            i += 1;
            a[i - 1]
        } else {
            j += 1;
            b[j - 1]
        };
        match out.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => out.push(span),
        }
    }
    out
}

/// The runs covering the same positions as `spans`, sorted and without overlaps.
fn union(spans: &mut [Span]) -> Vec<Span> {
    spans.sort_unstable_by_key(|span| span.start);
    let mut kept = 0usize;
    for i in 0..spans.len() {
        let span = spans[i];
        match kept.checked_sub(1).map(|last| &mut spans[last]) {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => {
                spans[kept] = span;
                kept += 1;
            }
        }
    }
    spans[..kept].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Totals over edges `(from, to)` of a DAG with `n` tasks, tasks numbered topologically.
    fn totals(own: &[i32], edges: &[(u32, u32)]) -> Vec<i64> {
        let n = own.len();
        let (start, next, incoming) = compact(n, edges);
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

    /// A small random DAG: `n` tasks, each edge present with probability `density` / 8,
    /// task labels shuffled so that creation order is not a topological order. Returns the
    /// edges and a topological order.
    fn random_dag(seed: u64, n: usize, density: u64) -> (Vec<(u32, u32)>, Vec<u32>) {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut label: Vec<u32> = (0..n as u32).collect();
        for i in (1..n).rev() {
            label.swap(i, (next() % (i as u64 + 1)) as usize);
        }
        let mut edges = Vec::new();
        for i in 0..n {
            for j in i + 1..n {
                if next() % 8 < density {
                    edges.push((label[i], label[j]));
                }
            }
        }
        (edges, label)
    }

    /// The compact form of `edges` over `n` tasks: (start, next, incoming).
    fn compact(n: usize, edges: &[(u32, u32)]) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
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
        (start, next, incoming)
    }

    #[test]
    fn every_method_matches_a_walk_from_every_task_on_random_dags() {
        for seed in 0..600u64 {
            let n = 1 + (seed % 24) as usize;
            let (edges, topological) = random_dag(seed, n, 1 + seed % 7);
            let own: Vec<i32> = (0..n as i32)
                .map(|i| (i * 7 + seed as i32) % 11 - 3)
                .collect();
            let (start, next, incoming) = compact(n, &edges);
            let forward = Adjacency {
                start: &start,
                next: &next,
            };
            let want = brute(&own, &edges);
            let sinks_first = topological.iter().rev().copied();
            let walked = walk_totals(&own, &forward, &incoming, sinks_first.clone(), usize::MAX);
            let spans = span_totals(&own, &forward, &incoming, usize::MAX);
            let either = reach_totals(&own, &forward, &incoming, sinks_first);
            let case = format!("seed {seed}, {n} tasks, edges {edges:?}");
            assert_eq!(walked.as_deref(), Some(&want[..]), "walk, {case}");
            assert_eq!(spans.as_deref(), Some(&want[..]), "spans, {case}");
            assert_eq!(either, want, "{case}");
        }
    }

    #[test]
    fn over_budget_walks_and_sets_give_up_and_the_totals_stay_exact() {
        // A ladder: two chains with rungs, where every upper task walks all later ones.
        let rungs = 40u32;
        let mut edges = Vec::new();
        for i in 0..rungs {
            edges.push((2 * i, 2 * i + 1));
            if i + 1 < rungs {
                edges.push((2 * i, 2 * i + 2));
                edges.push((2 * i + 1, 2 * i + 3));
            }
        }
        let n = 2 * rungs as usize;
        let own = vec![2; n];
        let (start, next, incoming) = compact(n, &edges);
        let forward = Adjacency {
            start: &start,
            next: &next,
        };
        let order = (0..n as u32).rev();
        assert_eq!(
            walk_totals(&own, &forward, &incoming, order.clone(), 10),
            None
        );
        assert_eq!(span_totals(&own, &forward, &incoming, 0), None);
        let want = brute(&own, &edges);
        assert_eq!(want[0], 2 * n as i64);
        assert_eq!(reach_totals(&own, &forward, &incoming, order), want);
    }

    #[test]
    fn sets_of_ladders_and_diamond_chains_stay_small_both_ways() {
        // One or two runs per set; sets numbered in a plain order (`n / 4` runs on average
        // in one of the ladder's chains) would give up.
        for (diamonds, reversed) in [(false, false), (false, true), (true, false), (true, true)] {
            let mut edges = Vec::new();
            let n: u32 = if diamonds { 3001 } else { 3000 };
            if diamonds {
                // top, left, right, then the bottom is the next top
                for top in (0..n - 1).step_by(3) {
                    edges.extend([
                        (top, top + 1),
                        (top, top + 2),
                        (top + 1, top + 3),
                        (top + 2, top + 3),
                    ]);
                }
            } else {
                // upper tasks even, lower ones odd, rungs from each upper to its lower
                for i in (0..n - 2).step_by(2) {
                    edges.extend([(i, i + 1), (i, i + 2), (i + 1, i + 3)]);
                }
                edges.push((n - 2, n - 1));
            }
            if reversed {
                edges.iter_mut().for_each(|e| *e = (e.1, e.0));
            }
            let own = vec![1; n as usize];
            let (start, next, incoming) = compact(n as usize, &edges);
            let forward = Adjacency {
                start: &start,
                next: &next,
            };
            let totals = span_totals(&own, &forward, &incoming, 2 * n as usize);
            let case = format!("diamonds: {diamonds}, reversed: {reversed}");
            let totals = totals.unwrap_or_else(|| panic!("gave up: {case}"));
            // the first task reaches all, and so is reached from the last one reversed
            let end = if reversed { n as usize - 1 } else { 0 };
            assert_eq!(totals[end], i64::from(n), "{case}");
        }
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
