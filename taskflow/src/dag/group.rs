//! Task groups: ids prefixed with the group's id (`extract.parse`), `default_args` for the
//! group's tasks, and ordering a group as a whole (`start >> group >> load`).
//!
//! The builder keeps the stack of groups being entered and, per group, the range of nodes
//! added while it was entered (a group's body runs in one go, so its tasks, nested groups'
//! included, are one contiguous range). An edge with a group on either side is kept aside and
//! resolved when the DAG is complete: to the group's roots (its tasks without an upstream in
//! the group) and from its leaves (without a downstream in the group). Resolving at the end,
//! not at `>>` time as Airflow does, makes the edges independent of statement order: an edge
//! added inside a group after `start >> group` still counts.

use std::collections::HashMap;
use std::ops::Range;

use super::Input;
use super::builder::{BUILDERS, Builder, with_current};
use super::ids::{IdRepr, id_text, is_valid_id};
use crate::xcom::TaskRef;
use crate::{Error, TaskOptions};

/// The bit of [`TaskRef::node`] that marks a task group rather than a task.
pub(crate) const GROUP_BIT: u32 = 1 << 31;

/// No group: a node outside every group.
const NO_GROUP: u32 = u32::MAX;

/// A task group to enter while building a DAG: its tasks get ids prefixed with the group id
/// and the group's `default_args` (Airflow's `TaskGroup`). Most DAGs use `#[task_group]`.
///
/// ```
/// use taskflow::prelude::*;
///
/// #[task]
/// fn parse(line: String) -> usize {
///     line.len()
/// }
///
/// let dag = Dag::build("etl", || {
///     let (count, group) = TaskGroup::new("extract")
///         .default_args(TaskOptions::new().retries(2))
///         .enter(|| parse("a,b"));
///     let after = parse("done");
///     group >> after;
///     count
/// })?;
/// assert_eq!(dag.task_ids(), ["extract.parse", "parse"]);
/// assert_eq!(dag.task_options("extract.parse")?.retries, Some(2));
/// assert_eq!(dag.upstream_task_ids("parse")?, ["extract.parse"]);
/// # Ok::<(), taskflow::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a task group does nothing until it is entered with `.enter(|| ...)`"]
pub struct TaskGroup {
    group_id: String,
    prefix_group_id: bool,
    default_args: TaskOptions,
    add_suffix_on_collision: bool,
}

impl TaskGroup {
    /// A group with this id (letters, digits, `_` and `-`), prefixing its tasks' ids.
    pub fn new(group_id: impl Into<String>) -> Self {
        Self {
            group_id: group_id.into(),
            prefix_group_id: true,
            default_args: TaskOptions::EMPTY,
            add_suffix_on_collision: false,
        }
    }

    /// Whether the ids of the group's tasks and groups are prefixed with `group_id.`
    /// (default true, as in Airflow).
    pub fn prefix_group_id(mut self, prefix: bool) -> Self {
        self.prefix_group_id = prefix;
        self
    }

    /// Defaults for the group's tasks: above the enclosing group's and the DAG's, below a
    /// task's own options.
    pub fn default_args(mut self, defaults: TaskOptions) -> Self {
        self.default_args = defaults;
        self
    }

    /// Whether a group id already used in the DAG becomes `id__1`, `id__2`, ... (as
    /// `#[task_group]` does for repeated calls) instead of an error (the default).
    pub fn add_suffix_on_collision(mut self, suffix: bool) -> Self {
        self.add_suffix_on_collision = suffix;
        self
    }

    /// Runs `body` inside the group and returns its value with a handle to the group. The
    /// group is left when `body` returns or panics.
    ///
    /// # Panics
    /// When no DAG is being built on this thread.
    pub fn enter<R>(self, body: impl FnOnce() -> R) -> (R, TaskGroupRef) {
        let what = format!("task group `{}`", self.group_id);
        let (dag, index) =
            with_current(|| what, |builder| (builder.key, builder.enter_group(self)));
        let guard = Leave { dag, index };
        let value = body();
        drop(guard);
        (
            value,
            TaskGroupRef(TaskRef {
                dag,
                node: GROUP_BIT | index,
            }),
        )
    }
}

/// Runs `body` inside a new group `group_id`; the same as `TaskGroup::new(group_id).enter(body)`.
///
/// ```
/// use taskflow::prelude::*;
///
/// #[task]
/// fn one() -> u32 {
///     1
/// }
///
/// let dag = Dag::build("grouped", || {
///     let (value, _group) = taskflow::task_group("extract", one);
///     value
/// })?;
/// assert_eq!(dag.task_ids(), ["extract.one"]);
/// # Ok::<(), taskflow::Error>(())
/// ```
pub fn task_group<R>(group_id: impl Into<String>, body: impl FnOnce() -> R) -> (R, TaskGroupRef) {
    TaskGroup::new(group_id).enter(body)
}

/// Leaves the group when dropped, also while unwinding from a panic of the group's body.
struct Leave {
    dag: u64,
    index: u32,
}

impl Drop for Leave {
    fn drop(&mut self) {
        // `try_with`/`try_borrow_mut`: never panic while unwinding.
        let _ = BUILDERS.try_with(|stack| {
            let Ok(mut stack) = stack.try_borrow_mut() else {
                return;
            };
            if let Some(builder) = stack.iter_mut().rev().find(|b| b.key == self.dag) {
                builder.leave_group(self.index);
            }
        });
    }
}

/// A task group of the DAG being built, ordered as a whole: `start >> group` runs the
/// group's roots after `start`, `group >> load` runs `load` after the group's leaves.
///
/// The roots and leaves are found when the DAG is complete, so every edge inside the group
/// counts, whenever it was added. An empty group orders nothing.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskGroupRef(pub(crate) TaskRef);

impl std::fmt::Debug for TaskGroupRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "TaskGroupRef(dag #{}, group {})",
            self.0.dag,
            self.0.node & !GROUP_BIT
        )
    }
}

impl From<TaskGroupRef> for TaskRef {
    fn from(group: TaskGroupRef) -> Self {
        group.0
    }
}

/// One group entered while building.
pub(crate) struct GroupInfo {
    /// The full id (`outer.inner`).
    pub(crate) group_id: Box<str>,
    pub(crate) parent: Option<u32>,
    /// 1 for a group outside every group.
    depth: u32,
    /// Whether its children's ids are prefixed with its id.
    prefix: bool,
    /// Its defaults merged over the enclosing group's.
    defaults: TaskOptions,
    /// The nodes added while it was entered.
    pub(crate) nodes: Range<u32>,
}

/// The groups of the DAG being built.
#[derive(Default)]
pub(crate) struct Groups {
    pub(crate) all: Vec<GroupInfo>,
    /// The groups being entered, innermost last.
    stack: Vec<u32>,
    /// Each full group id, to its group.
    ids: HashMap<Box<str>, u32>,
    /// Per full group id taken: the next suffix to try for a repeated call.
    next_suffix: HashMap<Box<str>, u64>,
    /// Ordering edges with a group on either side, resolved when the DAG is complete.
    edges: Vec<(u32, u32)>,
    /// For the body of a mapped task group: the full id and the enclosing groups' defaults
    /// its group takes, as reserved in the DAG it maps in (see [`Builder::reserve_group`]).
    pub(crate) reserved: Option<(Box<str>, TaskOptions)>,
}

impl Groups {
    /// Whether any group was entered yet (a task id may collide with a group id).
    #[inline]
    pub(crate) fn has_ids(&self) -> bool {
        !self.ids.is_empty()
    }

    /// Whether a group is being entered (its tasks get prefixes and defaults).
    #[inline]
    pub(crate) fn is_entered(&self) -> bool {
        !self.stack.is_empty()
    }

    fn current(&self) -> Option<&GroupInfo> {
        self.stack.last().map(|&g| &self.all[g as usize])
    }

    /// The prefix of a child's id (`extract`), if the current group prefixes.
    fn child_prefix(&self) -> Option<&str> {
        self.current()
            .filter(|group| group.prefix)
            .map(|group| &*group.group_id)
    }

    /// The defaults for a task added now, if any group sets some.
    pub(crate) fn defaults(&self) -> Option<&TaskOptions> {
        self.current()
            .map(|group| &group.defaults)
            .filter(|defaults| !defaults.is_empty())
    }

    /// `base__N` for the smallest N from the last one handed out for `base` that is no
    /// group's id: repeated calls of one group take linear time in all.
    fn suffixed(&mut self, base: String) -> String {
        let next = self.next_suffix.entry(base.as_str().into()).or_insert(1);
        loop {
            let id = format!("{base}__{next}");
            *next = next.saturating_add(1);
            if !self.ids.contains_key(&*id) {
                return id;
            }
        }
    }

    /// Whether `id` is a group's id.
    pub(crate) fn has_id(&self, id: &str) -> bool {
        !self.ids.is_empty() && self.ids.contains_key(id)
    }
}

impl Builder {
    /// The id a task named `name` (an explicit id or the task's name) gets inside the
    /// current group, or `None` outside a prefixing group.
    pub(crate) fn grouped_id(&self, name: &str) -> Option<String> {
        self.groups
            .child_prefix()
            .map(|prefix| format!("{prefix}.{name}"))
    }

    /// Reports an error if task `node` has the id of a group.
    pub(crate) fn check_task_against_groups(&mut self, id: &IdRepr, name: &str) {
        if self.groups.ids.is_empty() {
            return;
        }
        let id = id_text(id, name);
        if self.groups.has_id(&id) {
            self.errors.push(Error::TaskGroupIdCollision {
                dag_id: self.dag_id.clone(),
                id: id.into_owned(),
            });
        }
    }

    fn enter_group(&mut self, group: TaskGroup) -> u32 {
        let parent = self.groups.stack.last().copied();
        if !is_valid_group_id(&group.group_id) {
            self.errors.push(Error::InvalidTaskGroupId {
                dag_id: self.dag_id.clone(),
                group_id: group.group_id.clone(),
            });
        }
        let reserved = parent
            .is_none()
            .then(|| self.groups.reserved.take())
            .flatten();
        let full = match self.groups.child_prefix() {
            Some(prefix) => format!("{prefix}.{}", group.group_id),
            None => group.group_id,
        };
        let full = if group.add_suffix_on_collision && self.groups.ids.contains_key(&*full) {
            self.groups.suffixed(full)
        } else {
            full
        };
        // A mapped group's body enters the group under the id reserved where it maps.
        let (full, outer_defaults) = match reserved {
            Some((id, defaults)) => (id.into(), Some(defaults)),
            None => (full, None),
        };
        if self.groups.ids.contains_key(&*full) {
            self.errors.push(Error::DuplicateTaskGroupId {
                dag_id: self.dag_id.clone(),
                group_id: full.clone(),
            });
        } else if self.ids.find(&full).is_some() {
            self.errors.push(Error::TaskGroupIdCollision {
                dag_id: self.dag_id.clone(),
                id: full.clone(),
            });
        }
        let defaults = match (parent, outer_defaults) {
            (Some(p), _) => group.default_args.or(&self.groups.all[p as usize].defaults),
            (None, Some(outer)) => group.default_args.or(&outer),
            (None, None) => group.default_args,
        };
        let index = u32::try_from(self.groups.all.len())
            .ok()
            .filter(|&i| i < GROUP_BIT)
            .expect("a DAG holds fewer than 2^31 task groups");
        let full: Box<str> = full.into();
        self.groups.ids.entry(full.clone()).or_insert(index);
        let start = self.nodes.len() as u32;
        self.groups.all.push(GroupInfo {
            group_id: full,
            parent,
            depth: parent.map_or(1, |p| self.groups.all[p as usize].depth + 1),
            prefix: group.prefix_group_id,
            defaults,
            nodes: start..start,
        });
        self.groups.stack.push(index);
        index
    }

    fn leave_group(&mut self, index: u32) {
        if let Some(at) = self.groups.stack.iter().rposition(|&g| g == index) {
            // Groups entered inside it and not left (cannot happen through `enter`) go too.
            for &g in &self.groups.stack[at..] {
                self.groups.all[g as usize].nodes.end = self.nodes.len() as u32;
            }
            self.groups.stack.truncate(at);
        }
    }

    /// Picks the id of a mapped task group `group_id` inside the current group, suffixed
    /// `__1`, `__2`, ... when a task or group has it (as repeated `#[task_group]` calls are):
    /// the id without the enclosing groups' prefix (the mapped group's node takes that id, which
    /// the prefix is added to), its full id, and the defaults the enclosing groups give.
    pub(crate) fn reserve_group(&mut self, group_id: &str) -> (String, Box<str>, TaskOptions) {
        let prefix = self.groups.child_prefix().map(str::to_owned);
        let full_of = |local: &str| match &prefix {
            Some(prefix) => format!("{prefix}.{local}"),
            None => local.to_owned(),
        };
        let taken = |builder: &Self, id: &str| {
            builder.groups.ids.contains_key(id) || builder.ids.find(id).is_some()
        };
        let mut local = group_id.to_owned();
        let mut suffix = 0u64;
        while taken(self, &full_of(&local)) {
            suffix += 1;
            local = format!("{group_id}__{suffix}");
        }
        let defaults = self
            .groups
            .defaults()
            .cloned()
            .unwrap_or(TaskOptions::EMPTY);
        let full = full_of(&local).into();
        (local, full, defaults)
    }

    /// Keeps an edge with a group on either side for [`Builder::resolve_group_edges`].
    pub(crate) fn add_group_edge(&mut self, upstream: u32, downstream: u32) {
        self.groups.edges.push((upstream, downstream));
    }

    /// Turns the edges with a group on either side into edges between tasks: from the
    /// leaves of a group upstream, to the roots of a group downstream.
    ///
    /// An edge can change the roots or leaves only of the groups holding both its ends, so
    /// edges are resolved innermost first (by the depth of the innermost group holding both
    /// ends); then a group's roots and leaves are final when an edge outside it asks for them.
    pub(crate) fn resolve_group_edges(&mut self) {
        let edges = std::mem::take(&mut self.groups.edges);
        let edges = self.through_empty_groups(edges);
        if edges.is_empty() {
            return;
        }
        let groups = &self.groups.all;
        let mut node_group = vec![NO_GROUP; self.nodes.len()];
        // Parents come before their children: the innermost group is written last.
        for (g, group) in groups.iter().enumerate() {
            for node in group.nodes.clone() {
                node_group[node as usize] = g as u32;
            }
        }
        let depth = |g: u32| groups.get(g as usize).map_or(0, |group| group.depth);
        let common_depth = |mut a: u32, mut b: u32| {
            while a != b {
                if a == NO_GROUP || b == NO_GROUP {
                    return 0;
                }
                if depth(a) >= depth(b) {
                    a = groups[a as usize].parent.unwrap_or(NO_GROUP);
                } else {
                    b = groups[b as usize].parent.unwrap_or(NO_GROUP);
                }
            }
            depth(a)
        };
        // Per node: the depth of the innermost group holding it and one of its upstream
        // (downstream) tasks; a node is a root (leaf) of every deeper group holding it.
        let mut up_depth = vec![0u32; self.nodes.len()];
        let mut down_depth = vec![0u32; self.nodes.len()];
        let record = |up: u32, down: u32, up_depth: &mut [u32], down_depth: &mut [u32]| {
            let d = common_depth(node_group[up as usize], node_group[down as usize]);
            up_depth[down as usize] = up_depth[down as usize].max(d);
            down_depth[up as usize] = down_depth[up as usize].max(d);
        };
        for (down, node) in self.nodes.iter().enumerate() {
            for input in &self.inputs[node.inputs.start as usize..node.inputs.end as usize] {
                if let Input::Upstream { node: up, .. } = *input {
                    record(up, down as u32, &mut up_depth, &mut down_depth);
                }
            }
        }
        for &(up, down) in &self.order_edges {
            record(up, down, &mut up_depth, &mut down_depth);
        }
        let end_group = |end: u32| {
            if end & GROUP_BIT != 0 {
                end & !GROUP_BIT
            } else {
                node_group.get(end as usize).copied().unwrap_or(NO_GROUP)
            }
        };
        let mut edges: Vec<(u32, (u32, u32))> = edges
            .into_iter()
            .map(|(up, down)| (common_depth(end_group(up), end_group(down)), (up, down)))
            .collect();
        edges.sort_by_key(|&(d, _)| std::cmp::Reverse(d));
        let mut ends: HashMap<(u32, bool), Vec<u32>> = HashMap::new();
        // Setup and teardown roles, and the task edges, for a group whose leaves are
        // teardowns (only then are the edges gathered).
        let roles: Vec<(bool, bool)> = self
            .nodes
            .iter()
            .map(|node| {
                (
                    node.option(|o| o.is_setup).unwrap_or(false),
                    node.option(|o| o.is_teardown).unwrap_or(false),
                )
            })
            .collect();
        let links = Links::of(self, roles.iter().any(|&(_, teardown)| teardown));
        for (edge_depth, (up, down)) in edges {
            let mut side = |end: u32, leaves: bool, up_depth: &[u32], down_depth: &[u32]| {
                if end & GROUP_BIT == 0 {
                    return vec![end];
                }
                let g = end & !GROUP_BIT;
                if let Some(found) = ends.get(&(g, leaves)) {
                    return found.clone();
                }
                let group = &groups[g as usize];
                let inside = if leaves { down_depth } else { up_depth };
                let mut found: Vec<u32> = group
                    .nodes
                    .clone()
                    .filter(|&node| inside[node as usize] < group.depth)
                    .collect();
                if leaves && found.iter().any(|&node| roles[node as usize].1) {
                    found = work_leaves(&found, group, &roles, &links);
                }
                // Final only if no edge left to resolve lies inside the group.
                if edge_depth < group.depth {
                    ends.insert((g, leaves), found.clone());
                }
                found
            };
            let ups = side(up, true, &up_depth, &down_depth);
            let downs = side(down, false, &up_depth, &down_depth);
            for &u in &ups {
                for &d in &downs {
                    self.order_edges.push((u, d));
                    record(u, d, &mut up_depth, &mut down_depth);
                }
            }
        }
    }
}

impl Builder {
    /// The group edges with the empty groups taken out, as Airflow does: an empty group
    /// stands for its own upstream ends (`start >> empty >> load` orders `start >> load`), and
    /// edges into it alone order nothing.
    fn through_empty_groups(&self, edges: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
        let groups = &self.groups.all;
        let empty =
            |end: u32| end & GROUP_BIT != 0 && groups[(end & !GROUP_BIT) as usize].nodes.is_empty();
        if !edges.iter().any(|&(up, down)| empty(up) || empty(down)) {
            return edges;
        }
        let mut into: HashMap<u32, Vec<u32>> = HashMap::new();
        for &(up, down) in &edges {
            if empty(down) {
                into.entry(down).or_default().push(up);
            }
        }
        let mut resolved = Vec::with_capacity(edges.len());
        for (up, down) in edges {
            if empty(down) {
                continue;
            }
            // The non-empty upstream ends an empty group stands for, through chains of empty
            // groups (each visited once, so a cycle of them ends).
            let mut pending = vec![up];
            let mut seen = std::collections::HashSet::new();
            while let Some(end) = pending.pop() {
                if !empty(end) {
                    resolved.push((end, down));
                } else if seen.insert(end) {
                    pending.extend(into.get(&end).into_iter().flatten().copied());
                }
            }
        }
        resolved
    }
}

/// The direct upstream and downstream tasks of every task, from its inputs and ordering
/// edges; gathered only when a group's leaves may be teardowns.
struct Links {
    up: Vec<Vec<u32>>,
    down: Vec<Vec<u32>>,
}

impl Links {
    fn of(builder: &Builder, needed: bool) -> Self {
        let n = if needed { builder.nodes.len() } else { 0 };
        let mut links = Self {
            up: vec![Vec::new(); n],
            down: vec![Vec::new(); n],
        };
        if !needed {
            return links;
        }
        let mut add = |up: u32, down: u32| {
            links.up[down as usize].push(up);
            links.down[up as usize].push(down);
        };
        for (down, node) in builder.nodes.iter().enumerate() {
            for input in &builder.inputs[node.inputs.start as usize..node.inputs.end as usize] {
                if let Input::Upstream { node: up, .. } = *input {
                    add(up, down as u32);
                }
            }
        }
        for &(up, down) in &builder.order_edges {
            add(up, down);
        }
        links
    }
}

/// A group's leaves without its teardowns, as Airflow's `TaskGroup.get_leaves`: a teardown
/// leaf stands for the first tasks upstream of it in the group that are neither teardowns
/// nor its setups, and have no other downstream task that is not a teardown.
fn work_leaves(
    leaves: &[u32],
    group: &GroupInfo,
    roles: &[(bool, bool)],
    links: &Links,
) -> Vec<u32> {
    let inside = |node: u32| group.nodes.contains(&node);
    let is_teardown = |node: u32| roles[node as usize].1;
    let is_setup = |node: u32| roles[node as usize].0;
    let mut found = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for &leaf in leaves {
        if !is_teardown(leaf) {
            found.push(leaf);
            continue;
        }
        let mut pending = vec![leaf];
        while let Some(teardown) = pending.pop() {
            if !seen.insert(teardown) {
                continue;
            }
            for &up in &links.up[teardown as usize] {
                if !inside(up) {
                    continue;
                }
                if is_teardown(up) {
                    pending.push(up);
                } else if is_setup(up) {
                    // A teardown's setup is not the work it ends.
                } else {
                    let other_work = links.down[up as usize]
                        .iter()
                        .any(|&down| down != teardown && !is_teardown(down));
                    if !other_work && !found.contains(&up) {
                        found.push(up);
                    }
                }
            }
        }
    }
    found
}

/// Whether `id` is a valid group id: a task id without `.` (the `.` separates a group's id
/// from its children's).
pub(crate) fn is_valid_group_id(id: &str) -> bool {
    is_valid_id(id) && !id.contains('.')
}
