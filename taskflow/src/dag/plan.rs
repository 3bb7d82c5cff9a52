//! Validation and the derived execution plan: deduplicated edges in compact (CSR) arrays,
//! root tasks, reader counts, and cycle detection.

use super::builder::Builder;
use super::features::Features;
use super::ids::id_text;
use super::{Input, Node};
use crate::policy::weight::{Adjacency, WeightInput, WeightRule, reach_totals};
use crate::task::body::TaskKind;
use crate::xcom::ReadMode;
use crate::{Error, TaskOptions, TriggerRule};

/// What the executor needs of the graph, computed once per DAG.
#[derive(Debug, Clone, Default)]
pub(crate) struct Plan {
    /// Per task: the number of distinct direct upstream tasks.
    pub(crate) upstream_count: Vec<u32>,
    /// Per task `i`: its direct downstream tasks are `succ[succ_start[i]..succ_start[i + 1]]`.
    pub(crate) succ_start: Vec<u32>,
    pub(crate) succ: Vec<u32>,
    /// Per value slot: how many parameters of other tasks read it.
    pub(crate) readers: Vec<u32>,
    /// Per task `i`: its value slots are `slot_start[i]..slot_start[i + 1]` (one, or one per
    /// part of a `multiple_outputs` task); empty when every task has exactly one.
    slot_start: Vec<u32>,
    /// Per task: its trigger rule, with the defaults applied.
    pub(crate) trigger_rules: Vec<TriggerRule>,
    /// Tasks with no upstream task, in creation order.
    pub(crate) roots: Vec<u32>,
    /// Per task: whether it is a setup task, a teardown task, or neither.
    pub(crate) roles: Vec<Role>,
    /// Per task: how many of its direct upstream tasks are setup tasks (empty: the DAG has
    /// no setup task).
    setup_upstream: Vec<u32>,
    /// Per task: its effective priority weight under its weight rule; see
    /// [`Plan::priorities`].
    priority: std::sync::OnceLock<Vec<i32>>,
    /// Whether every edge goes from an earlier task to a later one.
    in_creation_order: bool,
    /// What the tasks ask of an executor: pools, slots, limits.
    pub(crate) demands: Demands,
    /// Per task: what it asks of a run beyond the plain path.
    pub(crate) features: Vec<Features>,
    /// Whether a task may skip tasks other than its direct downstream ones through their
    /// trigger rules (a branch or a short-circuit), so that two threads may decide one task.
    pub(crate) has_steering: bool,
    /// Per task: where a run counts the ends of its upstream tasks, or [`NO_JOIN`] for a
    /// task with one upstream task (its arrival decides alone) or none. With steering, every
    /// task has a place, to mark it decided.
    pub(crate) join_index: Vec<u32>,
    /// The values mapped tasks map over, by the task that produces them (in node order):
    /// their lengths are checked against `max_map_length` when that task succeeds.
    pub(crate) map_checks: Vec<MapCheck>,
}

/// A value a mapped task maps over: part `part` (0: the whole value) of task `producer`'s.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MapCheck {
    pub(crate) producer: u32,
    pub(crate) part: u32,
    pub(crate) length: super::mapping::LengthFn,
    pub(crate) mapped: u32,
}

/// A task a run keeps no upstream counters for.
pub(crate) const NO_JOIN: u32 = u32::MAX;

/// The pool and limits of every task.
#[derive(Debug, Clone, Default)]
pub(crate) struct Demands {
    /// The pools named by the DAG's tasks; index 0 is `default_pool`.
    pub(crate) pool_names: Vec<std::sync::Arc<str>>,
    /// Per task: its pool, an index into `pool_names` (empty: all in `default_pool`).
    pub(crate) pool: Vec<u16>,
    /// Per task: the pool slots it takes (empty: one each).
    pub(crate) slots: Vec<u32>,
    /// Per task: its `max_active_tis_per_dag` (empty: no task has one; 0: no limit).
    pub(crate) max_tis: Vec<u32>,
}

/// The name of the pool of tasks that name none, as in Airflow.
pub(crate) const DEFAULT_POOL: &str = "default_pool";

impl Demands {
    /// The demands of tasks that all take `slots` of pool `pool`, with `max_tis` each.
    pub(crate) fn single(pool: std::sync::Arc<str>, slots: u32, max_tis: u32) -> Self {
        Self {
            pool_names: vec![pool],
            pool: Vec::new(),
            slots: if slots == 1 { Vec::new() } else { vec![slots] },
            max_tis: if max_tis == 0 {
                Vec::new()
            } else {
                vec![max_tis]
            },
        }
    }

    pub(crate) fn pool_of(&self, node: u32) -> u16 {
        self.pool.get(node as usize).copied().unwrap_or(0)
    }

    pub(crate) fn slots_of(&self, node: u32) -> u32 {
        match self.slots.as_slice() {
            [all] => *all,
            slots => slots.get(node as usize).copied().unwrap_or(1),
        }
    }

    /// The tasks among the first `count` that take more than one pool slot; with none at
    /// all (`slots` empty), found without looking at each task.
    pub(crate) fn multi_slot_tasks(&self, count: u32) -> impl Iterator<Item = u32> + '_ {
        let count = if self.slots.is_empty() { 0 } else { count };
        (0..count).filter(move |&node| self.slots_of(node) > 1)
    }

    pub(crate) fn max_tis_of(&self, node: u32) -> u32 {
        match self.max_tis.as_slice() {
            [all] => *all,
            limits => limits.get(node as usize).copied().unwrap_or(0),
        }
    }

    /// Whether some task has a limit of its own across runs.
    pub(crate) fn has_task_limits(&self) -> bool {
        !self.max_tis.is_empty()
    }
}

/// What part a task plays around resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Role {
    #[default]
    Work,
    Setup,
    Teardown,
}

impl Plan {
    /// The plan of `count` independent tasks alike (the instances of a mapped task): no
    /// edges, all roots, each with `features`, `rule`, `weight` and `demands`, and
    /// `readers` per value slot.
    pub(crate) fn instances(
        count: usize,
        readers: Vec<u32>,
        rule: TriggerRule,
        features: Features,
        weight: i32,
        demands: Demands,
    ) -> Self {
        Self {
            upstream_count: vec![0; count],
            succ_start: vec![0; count + 1],
            succ: Vec::new(),
            readers,
            slot_start: Vec::new(),
            trigger_rules: vec![rule; count],
            roots: (0..count as u32).collect(),
            roles: vec![Role::Work; count],
            setup_upstream: Vec::new(),
            priority: std::sync::OnceLock::from(vec![weight; count]),
            in_creation_order: true,
            demands,
            features: vec![features; count],
            has_steering: false,
            join_index: vec![NO_JOIN; count],
            map_checks: Vec::new(),
        }
    }

    /// The slot of part `part` (0: the whole value) of task `node`'s value.
    #[inline]
    pub(crate) fn slot(&self, node: u32, part: u32) -> usize {
        match self.slot_start.get(node as usize) {
            Some(&start) => (start + part.saturating_sub(1)) as usize,
            None => node as usize,
        }
    }

    /// The direct downstream tasks of `node`.
    #[inline]
    pub(crate) fn downstream(&self, node: u32) -> &[u32] {
        let node = node as usize;
        &self.succ[self.succ_start[node] as usize..self.succ_start[node + 1] as usize]
    }

    /// Every task's effective priority weight, computed on first use for a DAG whose tasks
    /// all take the default weight (1) and rule (downstream).
    pub(crate) fn priorities(&self) -> &[i32] {
        self.priority.get_or_init(|| {
            let graph = Graph {
                succ_start: &self.succ_start,
                succ: &self.succ,
                upstream_count: &self.upstream_count,
                out_degree: &[],
                edges: &[],
                in_creation_order: self.in_creation_order,
            };
            let order = (!self.in_creation_order).then(|| graph.topological_order());
            let own = vec![1; self.upstream_count.len()];
            let totals = graph.downstream_totals(&own, order.as_deref());
            // At most the number of tasks, which fits (checked when the plan was made).
            totals
                .into_iter()
                .map(|total| i32::try_from(total).unwrap_or(i32::MAX))
                .collect()
        })
    }

    /// How many of the direct upstream tasks of `node` are setup tasks.
    #[inline]
    pub(crate) fn setups_upstream(&self, node: u32) -> u32 {
        self.setup_upstream.get(node as usize).copied().unwrap_or(0)
    }

    /// The one downstream task of `node`, if it has one and `node` is its only upstream
    /// task (so nothing else can make it ready).
    #[inline]
    pub(crate) fn sole_heir(&self, node: u32) -> Option<u32> {
        match self.downstream(node) {
            &[down] if self.upstream_count[down as usize] == 1 => Some(down),
            _ => None,
        }
    }
}

/// Marks the mapped tasks and the tasks whose values they map over, and lists those values
/// for their length checks.
fn map_checks(builder: &Builder, features: &mut [Features]) -> Vec<MapCheck> {
    let mut checks = Vec::new();
    for (mapped, spec) in &builder.mappings {
        features[*mapped as usize] = features[*mapped as usize].with(Features::MAPPED, true);
        let first = builder.nodes[*mapped as usize].inputs.start;
        for source in &spec.sources {
            for (offset, length) in source.lengths.iter().enumerate() {
                let input = &builder.inputs[(first + source.first) as usize + offset];
                if let (Some(length), Input::Upstream { node, part, .. }) = (length, input) {
                    features[*node as usize] =
                        features[*node as usize].with(Features::MAP_SOURCE, true);
                    checks.push(MapCheck {
                        producer: *node,
                        part: *part,
                        length: *length,
                        mapped: *mapped,
                    });
                }
            }
        }
    }
    checks.sort_by_key(|check| check.producer);
    checks
}

/// Checks the recorded DAG and derives its plan; the first problem found is the error.
pub(crate) fn plan(
    builder: &mut Builder,
    default_args: &crate::TaskOptions,
) -> Result<Plan, Error> {
    if let Some(error) = builder.errors.drain(..).next() {
        return Err(error);
    }
    if let Some(task_id) = builder.ids.clash() {
        return Err(Error::DuplicateTaskId {
            dag_id: builder.dag_id.clone(),
            task_id: task_id.to_owned(),
        });
    }
    let n = builder.nodes.len();
    let mut order_edges = std::mem::take(&mut builder.order_edges);
    order_edges.sort_unstable_by_key(|&(up, down)| (down, up));

    let mut upstream_count = vec![0u32; n];
    let mut out_degree = vec![0u32; n];
    let mut seen_by = vec![u32::MAX; n];
    let mut edges: Vec<(u32, u32)> = Vec::with_capacity(builder.inputs.len() + order_edges.len());
    let mut has_backward_edge = false;
    let mut pending_order = order_edges.iter().peekable();

    let slot_start = slot_layout(&builder.nodes);
    let slot_of = |node: u32, part: u32| match slot_start.get(node as usize) {
        Some(&start) => start + part.saturating_sub(1),
        None => node,
    };
    let slots = slot_start.last().map_or(n, |&end| end as usize);
    let mut readers = vec![0u32; slots];
    // Only tasks that move a value out of its slot (a parameter whose type is not Clone)
    // need it to have no other reader.
    let mut moved_readers: Vec<u32> = Vec::new();
    let retries = |node: &Node| {
        node.option(|o| o.retries)
            .or(default_args.retries)
            .unwrap_or(0)
    };

    // The upstream tasks whose values a task reads, reused from task to task.
    let mut data_upstream: Vec<u32> = Vec::new();
    for (down, node) in builder.nodes.iter().enumerate() {
        let down = down as u32;
        let inputs = &mut builder.inputs[node.inputs.start as usize..node.inputs.end as usize];
        data_upstream.clear();
        for input in inputs {
            if let Input::Upstream {
                node: up,
                part,
                slot,
                mode,
            } = input
            {
                *slot = slot_of(*up, *part);
                readers[*slot as usize] += 1;
                if *mode == ReadMode::OwnedMove {
                    moved_readers.resize(slots, 0);
                    moved_readers[*slot as usize] += 1;
                    let sensor = matches!(node.body.kind(), TaskKind::Sensor(_));
                    if sensor || retries(node) > 0 {
                        let upstream = &builder.nodes[*up as usize];
                        let dag_id = builder.dag_id.clone();
                        let task_id = id_text(&node.id, node.body.name()).into_owned();
                        let upstream = id_text(&upstream.id, upstream.body.name()).into_owned();
                        return Err(if sensor {
                            Error::NotCloneForSensor {
                                dag_id,
                                task_id,
                                upstream,
                            }
                        } else {
                            Error::NotCloneWithRetries {
                                dag_id,
                                task_id,
                                upstream,
                            }
                        });
                    }
                }
                data_upstream.push(*up);
            } else if let Input::Gather(index) = input {
                for (up, part, slot) in &mut builder.gathers[*index as usize].sources {
                    *slot = slot_of(*up, *part);
                    readers[*slot as usize] += 1;
                    data_upstream.push(*up);
                }
            }
        }
        let order_upstream =
            std::iter::from_fn(|| pending_order.next_if(|&&(_, d)| d == down).map(|&(u, _)| u));
        for up in data_upstream.iter().copied().chain(order_upstream) {
            if seen_by[up as usize] != down {
                seen_by[up as usize] = down;
                edges.push((up, down));
                upstream_count[down as usize] += 1;
                out_degree[up as usize] += 1;
                has_backward_edge |= up >= down;
            }
        }
    }

    if let Some(slot) = (0..moved_readers.len()).find(|&i| moved_readers[i] > 0 && readers[i] > 1) {
        let node = match slot_start.iter().rposition(|&start| start as usize <= slot) {
            Some(node) if !slot_start.is_empty() => node,
            _ => slot,
        };
        let task = &builder.nodes[node];
        return Err(Error::ValueNotShareable {
            dag_id: builder.dag_id.clone(),
            task_id: id_text(&task.id, task.body.name()).into_owned(),
            type_name: task.body.output_type().to_owned(),
            readers: readers[slot] as usize,
        });
    }
    let mut succ_start = Vec::with_capacity(n + 1);
    let mut total = 0u32;
    succ_start.push(0);
    for degree in &out_degree {
        total += degree;
        succ_start.push(total);
    }
    let mut fill = succ_start.clone();
    let mut succ = vec![0u32; edges.len()];
    for &(up, down) in &edges {
        succ[fill[up as usize] as usize] = down;
        fill[up as usize] += 1;
    }
    if has_backward_edge {
        check_acyclic(
            &builder.dag_id,
            &builder.nodes,
            &succ_start,
            &succ,
            &upstream_count,
            &edges,
        )?;
    }
    let roots = (0..n as u32)
        .filter(|&i| upstream_count[i as usize] == 0)
        .collect();
    let option = |node: &Node, get: &dyn Fn(&TaskOptions) -> Option<bool>| {
        node.option(get)
            .or_else(|| get(default_args))
            .unwrap_or(false)
    };
    let bare = bare_tasks(&builder.nodes, default_args);
    let roles: Vec<Role> = builder
        .nodes
        .iter()
        .zip(&bare)
        .map(|(node, &bare)| {
            if bare {
                return Role::Work;
            }
            match (
                option(node, &|o| o.is_setup),
                option(node, &|o| o.is_teardown),
            ) {
                (_, true) => Role::Teardown,
                (true, false) => Role::Setup,
                (false, false) => Role::Work,
            }
        })
        .collect();
    let trigger_rules = builder
        .nodes
        .iter()
        .zip(&roles)
        .zip(&bare)
        .map(|((node, role), &bare)| {
            if bare {
                return TriggerRule::AllSuccess;
            }
            let fallback = match role {
                Role::Teardown => TriggerRule::AllDoneSetupSuccess,
                _ => TriggerRule::AllSuccess,
            };
            node.option(|o| o.trigger_rule)
                .or(default_args.trigger_rule)
                .unwrap_or(fallback)
        })
        .collect();
    let mut setup_upstream = Vec::new();
    if roles.contains(&Role::Setup) {
        setup_upstream.resize(n, 0u32);
        for &(up, down) in &edges {
            setup_upstream[down as usize] += u32::from(roles[up as usize] == Role::Setup);
        }
    }
    let graph = Graph {
        succ_start: &succ_start,
        succ: &succ,
        upstream_count: &upstream_count,
        out_degree: &out_degree,
        edges: &edges,
        in_creation_order: !has_backward_edge,
    };
    // When every task takes the default weight and rule, no weight can overflow and the
    // weights wait until something asks for them (only executors that count tries do).
    let default_weights = bare.iter().all(|&bare| bare) && n <= i32::MAX as usize;
    let priority = if default_weights {
        std::sync::OnceLock::new()
    } else {
        std::sync::OnceLock::from(weights(builder, default_args, &bare, &graph)?)
    };
    let demands = demands(builder, default_args, &bare)?;
    let mut features: Vec<Features> = builder
        .nodes
        .iter()
        .zip(&bare)
        .map(|(node, &bare)| {
            if bare {
                Features::of_body(node.body)
            } else {
                Features::of(node, default_args)
            }
        })
        .collect();
    let map_checks = map_checks(builder, &mut features);
    let has_steering = features.iter().any(|f| f.has(Features::STEERS));
    let mut joins = 0;
    let join_index = upstream_count
        .iter()
        .map(|&count| {
            if count < 2 && !has_steering {
                return NO_JOIN;
            }
            joins += 1;
            joins - 1
        })
        .collect();
    Ok(Plan {
        features,
        has_steering,
        join_index,
        map_checks,
        priority,
        in_creation_order: !has_backward_edge,
        demands,
        slot_start,
        roles,
        setup_upstream,
        upstream_count,
        succ_start,
        succ,
        readers,
        trigger_rules,
        roots,
    })
}

/// The pools, slots and limits of the tasks, compact when no task sets them.
/// Per task: whether neither its call, its `#[task]` nor the DAG's `default_args` set any
/// option, so that every option takes its default (most tasks). Consecutive calls of one
/// task function share the check.
fn bare_tasks(nodes: &[Node], default_args: &TaskOptions) -> Vec<bool> {
    if !default_args.is_empty() {
        return vec![false; nodes.len()];
    }
    // Keyed by the options' address (a body's options are a static of their own; bodies
    // themselves may be zero-sized and share one).
    let mut last: Option<(*const TaskOptions, bool)> = None;
    nodes
        .iter()
        .map(|node| {
            let options = node.body.options();
            let body_bare = match last {
                Some((seen, bare)) if std::ptr::eq(seen, options) => bare,
                _ => {
                    let bare = options.is_empty();
                    last = Some((options, bare));
                    bare
                }
            };
            body_bare && node.options.is_none()
        })
        .collect()
}

fn demands(builder: &Builder, default_args: &TaskOptions, bare: &[bool]) -> Result<Demands, Error> {
    let mut pool_names: Vec<std::sync::Arc<str>> = vec![DEFAULT_POOL.into()];
    let mut pool = Vec::new();
    let mut slots = Vec::new();
    let mut max_tis = Vec::new();
    let n = builder.nodes.len();
    for (v, node) in builder.nodes.iter().enumerate() {
        if bare[v] {
            continue; // the default pool, one slot, no limit
        }
        if let Err((option, reason)) = super::waits::check(node, default_args) {
            return Err(Error::InvalidOption {
                dag_id: builder.dag_id.clone(),
                what: format!(
                    "`{option}` of task `{}`",
                    id_text(&node.id, node.body.name())
                ),
                reason,
            });
        }
        let name = node
            .option(|o| o.pool.clone())
            .or_else(|| default_args.pool.clone());
        if let Some(name) = name.filter(|name| name != DEFAULT_POOL) {
            let index = match pool_names.iter().position(|known| **known == *name) {
                Some(index) => index,
                None => {
                    pool_names.push(name.as_ref().into());
                    pool_names.len() - 1
                }
            };
            pool.resize(n, 0);
            pool[v] = u16::try_from(index).unwrap_or(u16::MAX);
        }
        let zero = |option: &str| Error::InvalidOption {
            dag_id: builder.dag_id.clone(),
            what: format!(
                "`{option}` of task `{}`",
                id_text(&node.id, node.body.name())
            ),
            reason: "it must be at least 1, or the task could never run".into(),
        };
        let own_slots = node
            .option(|o| o.pool_slots)
            .or(default_args.pool_slots)
            .unwrap_or(1);
        if own_slots == 0 {
            return Err(zero("pool_slots"));
        }
        if own_slots != 1 {
            slots.resize(n, 1);
            slots[v] = own_slots;
        }
        if let Some(limit) = node
            .option(|o| o.max_active_tis_per_dag)
            .or(default_args.max_active_tis_per_dag)
        {
            if limit == 0 {
                return Err(zero("max_active_tis_per_dag"));
            }
            max_tis.resize(n, 0);
            max_tis[v] = limit;
        }
    }
    Ok(Demands {
        pool_names,
        pool,
        slots,
        max_tis,
    })
}

/// The validated graph in the forms that weight computations need.
struct Graph<'a> {
    succ_start: &'a [u32],
    succ: &'a [u32],
    upstream_count: &'a [u32],
    out_degree: &'a [u32],
    edges: &'a [(u32, u32)],
    /// Whether every edge goes from an earlier task to a later one.
    in_creation_order: bool,
}

impl Graph<'_> {
    /// The tasks in an order where each comes after its upstream tasks.
    fn topological_order(&self) -> Vec<u32> {
        let n = self.upstream_count.len();
        if self.in_creation_order {
            return (0..n as u32).collect();
        }
        kahn(self.succ_start, self.succ, self.upstream_count).0
    }

    /// Each task's `own` weight plus those of everything downstream of it, walking `order`
    /// (a topological order; `None` when creation order is one) backwards.
    fn downstream_totals(&self, own: &[i32], order: Option<&[u32]>) -> Vec<i64> {
        let forward = Adjacency {
            start: self.succ_start,
            next: self.succ,
        };
        match order {
            Some(order) => reach_totals(
                own,
                &forward,
                self.upstream_count,
                order.iter().rev().copied(),
            ),
            None => reach_totals(
                own,
                &forward,
                self.upstream_count,
                (0..own.len() as u32).rev(),
            ),
        }
    }

    /// The upstream tasks of each task, in compact form: (start offsets, tasks).
    fn predecessors(&self) -> (Vec<u32>, Vec<u32>) {
        let n = self.upstream_count.len();
        let mut start = Vec::with_capacity(n + 1);
        start.push(0u32);
        for &count in self.upstream_count {
            start.push(start.last().copied().unwrap_or(0) + count);
        }
        let mut fill = start.clone();
        let mut pred = vec![0u32; self.edges.len()];
        for &(up, down) in self.edges {
            pred[fill[down as usize] as usize] = up;
            fill[down as usize] += 1;
        }
        (start, pred)
    }
}

/// Every task's effective priority weight; a weight beyond `i32` is an error.
fn weights(
    builder: &Builder,
    default_args: &TaskOptions,
    bare: &[bool],
    graph: &Graph<'_>,
) -> Result<Vec<i32>, Error> {
    static DEFAULT_RULE: WeightRule = WeightRule::Downstream;
    /// The task's rule, borrowed: rules hold `Arc`s that a clone per task would count.
    fn rule<'a>(node: &'a Node, default_args: &'a TaskOptions) -> &'a WeightRule {
        node.options
            .as_deref()
            .and_then(|o| o.weight_rule.as_ref())
            .or(node.body.options().weight_rule.as_ref())
            .or(default_args.weight_rule.as_ref())
            .unwrap_or(&DEFAULT_RULE)
    }
    let rule_of = |node| rule(node, default_args);
    let own: Vec<i32> = builder
        .nodes
        .iter()
        .zip(bare)
        .map(|(node, &bare)| {
            if bare {
                return 1;
            }
            node.option(|o| o.priority_weight)
                .or(default_args.priority_weight)
                .unwrap_or(1)
        })
        .collect();
    let (mut downstream_needed, mut upstream_needed) = (false, false);
    for (node, _) in builder.nodes.iter().zip(bare).filter(|&(_, &bare)| !bare) {
        match rule_of(node) {
            WeightRule::Absolute => {}
            WeightRule::Downstream => downstream_needed = true,
            WeightRule::Upstream => upstream_needed = true,
            WeightRule::Custom(_) => (downstream_needed, upstream_needed) = (true, true),
        }
    }
    // Bare tasks follow the default rule.
    downstream_needed |= bare.iter().any(|&bare| bare);
    let order = if graph.in_creation_order || !(downstream_needed || upstream_needed) {
        None
    } else {
        Some(graph.topological_order())
    };
    let n = own.len() as u32;
    let downstream = if downstream_needed {
        graph.downstream_totals(&own, order.as_deref())
    } else {
        Vec::new()
    };
    let upstream = if upstream_needed {
        let (start, pred) = graph.predecessors();
        let backward = Adjacency {
            start: &start,
            next: &pred,
        };
        match &order {
            Some(order) => reach_totals(&own, &backward, graph.out_degree, order.iter().copied()),
            None => reach_totals(&own, &backward, graph.out_degree, 0..n),
        }
    } else {
        Vec::new()
    };
    builder
        .nodes
        .iter()
        .enumerate()
        .map(|(v, node)| {
            let rule = if bare[v] {
                &DEFAULT_RULE
            } else {
                rule_of(node)
            };
            let weight = match rule {
                WeightRule::Absolute => i64::from(own[v]),
                WeightRule::Downstream => downstream[v],
                WeightRule::Upstream => upstream[v],
                WeightRule::Custom(strategy) => strategy.weight(&WeightInput {
                    task_id: &id_text(&node.id, node.body.name()),
                    priority_weight: own[v],
                    downstream: downstream[v],
                    upstream: upstream[v],
                }),
            };
            i32::try_from(weight).map_err(|_| Error::PriorityWeightOverflow {
                dag_id: builder.dag_id.clone(),
                task_id: id_text(&node.id, node.body.name()).into_owned(),
                rule: rule.to_string(),
                weight,
            })
        })
        .collect()
}

/// Where each task's value slots start, when some task has a tuple of parts
/// (`multiple_outputs`); empty when every task has one slot (slot = task index).
fn slot_layout(nodes: &[Node]) -> Vec<u32> {
    if nodes.iter().all(|node| node.body.output_parts() == 0) {
        return Vec::new();
    }
    let mut start = Vec::with_capacity(nodes.len() + 1);
    let mut next = 0u32;
    for node in nodes {
        start.push(next);
        next += node.body.output_parts().max(1);
    }
    start.push(next);
    start
}

/// A topological sort (Kahn's): the tasks in an order where each comes after its upstream
/// tasks, and per task how many of its upstream tasks are left out. Tasks on or after a
/// cycle are left out, each with an upstream task left out.
fn kahn(succ_start: &[u32], succ: &[u32], upstream_count: &[u32]) -> (Vec<u32>, Vec<u32>) {
    let mut waiting = upstream_count.to_vec();
    let mut order: Vec<u32> = (0..waiting.len() as u32)
        .filter(|&v| waiting[v as usize] == 0)
        .collect();
    let mut next = 0;
    while let Some(&v) = order.get(next) {
        next += 1;
        let v = v as usize;
        for &down in &succ[succ_start[v] as usize..succ_start[v + 1] as usize] {
            waiting[down as usize] -= 1;
            if waiting[down as usize] == 0 {
                order.push(down);
            }
        }
    }
    (order, waiting)
}

/// Fails with the first tasks of a cycle if the graph has one. Linear in the size of the
/// graph and without recursion: [`kahn`] leaves exactly the tasks on or after a cycle
/// unsorted, and each of those has an unsorted upstream task, so walking upstream from one
/// of them must come back to a task already walked.
fn check_acyclic(
    dag_id: &str,
    nodes: &[Node],
    succ_start: &[u32],
    succ: &[u32],
    upstream_count: &[u32],
    edges: &[(u32, u32)],
) -> Result<(), Error> {
    let (sorted, waiting) = kahn(succ_start, succ, upstream_count);
    if sorted.len() == waiting.len() {
        return Ok(());
    }
    let cycle = unsorted_cycle(&waiting, upstream_count, edges);
    // Start at the earliest-added task, so that the message does not depend on the walk.
    let first = (0..cycle.len()).min_by_key(|&i| cycle[i]).unwrap_or(0);
    let length = cycle.len();
    let shown = length.min(CYCLE_TASKS_SHOWN);
    let tasks = (0..shown)
        .chain((length <= CYCLE_TASKS_SHOWN).then_some(0))
        .map(|i| {
            let node = &nodes[cycle[(first + i) % length] as usize];
            id_text(&node.id, node.body.name()).into_owned()
        })
        .collect();
    Err(Error::Cycle {
        dag_id: dag_id.to_owned(),
        tasks,
        length,
    })
}

/// How many tasks of a cycle its error names.
const CYCLE_TASKS_SHOWN: usize = 8;

/// The tasks of one cycle, in edge order, among the tasks a topological sort left with
/// `waiting` upstream tasks; `edges` are `(up, down)`, grouped by `down` in task order.
fn unsorted_cycle(waiting: &[u32], upstream_count: &[u32], edges: &[(u32, u32)]) -> Vec<u32> {
    let mut upstream_start = Vec::with_capacity(waiting.len() + 1);
    upstream_start.push(0usize);
    for &count in upstream_count {
        upstream_start.push(upstream_start[upstream_start.len() - 1] + count as usize);
    }
    let unsorted = |v: u32| waiting[v as usize] > 0;
    let Some(start) = (0..waiting.len() as u32).find(|&v| unsorted(v)) else {
        return Vec::new();
    };
    // Per task: its place on the walk, or `u32::MAX` if not walked.
    let mut place = vec![u32::MAX; waiting.len()];
    let mut walk = Vec::new();
    let mut v = start;
    while place[v as usize] == u32::MAX {
        place[v as usize] = walk.len() as u32;
        walk.push(v);
        let upstream = &edges[upstream_start[v as usize]..upstream_start[v as usize + 1]];
        v = match upstream.iter().find(|&&(up, _)| unsorted(up)) {
            Some(&(up, _)) => up,
            None => break, // cannot happen: an unsorted task waits for an unsorted one
        };
    }
    let mut cycle = walk.split_off(place[v as usize] as usize);
    cycle.reverse();
    cycle
}

#[cfg(test)]
mod tests {
    use super::Demands;

    #[test]
    fn multi_slot_tasks_lists_the_tasks_taking_more_than_one_slot() {
        let none = Demands::default();
        assert_eq!(none.multi_slot_tasks(4).count(), 0);
        let some = Demands {
            slots: vec![1, 3, 1, 2],
            ..Demands::default()
        };
        assert_eq!(some.multi_slot_tasks(4).collect::<Vec<_>>(), [1, 3]);
        let all = Demands::single("default_pool".into(), 2, 0);
        assert_eq!(all.multi_slot_tasks(3).collect::<Vec<_>>(), [0, 1, 2]);
        let ones = Demands::single("default_pool".into(), 1, 0);
        assert_eq!(ones.multi_slot_tasks(3).count(), 0);
    }
}
