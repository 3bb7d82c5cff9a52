//! A mapped task at run time: when it may run, its sources are read and split, and its
//! instances run as a run of their own (one task per map index) on the same executor,
//! clock, pools and listeners. When the last instance ends, the mapped task ends with the
//! instances' values collected in map-index order, and its downstream tasks go on.

use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::args::Args;
use super::resume::Restore;
use super::run::{RunSched, RunState, Step};
use crate::dag::{DagInner, Features, Input, MapSpec, ParamFrom, Plan};
use crate::task::body::{Outcome, Parts};
use crate::xcom::{ReadMode, Value};
use crate::{TaskError, TaskState};

/// Airflow's default `max_map_length`.
pub(crate) const DEFAULT_MAX_MAP_LENGTH: u32 = 1024;

/// The instances of a mapped task are tasks of a run of their own; this links that run to
/// the mapped task it stands for.
pub(crate) struct MappedRun {
    /// The run of the mapped task, until the instances end.
    parent: Mutex<Option<Arc<RunState>>>,
    /// The mapped task in that run.
    node: u32,
    /// The tasks per map index: 1 for a mapped task, a group's tasks for a mapped group.
    per_instance: u32,
    /// The map indexes of the mapped task itself, when it is inside mapped groups.
    outer: Box<[u32]>,
    /// Which task the mapped task is for its `max_active_tis_per_dag` (see
    /// [`RunState::limit_key`]).
    limit_key: (usize, u32),
    /// For a mapped group: the group's tasks as recorded, to find what a handle stands for.
    template: Option<Arc<crate::dag::Template>>,
}

impl MappedRun {
    /// The map index of instance `node`.
    #[inline]
    pub(crate) fn map_index(&self, node: u32) -> u32 {
        node / self.per_instance
    }

    /// The task in the copy of `node` that a handle from the group's body stands for.
    pub(crate) fn in_copy(&self, node: u32, task: crate::xcom::TaskRef) -> Option<u32> {
        let local = self.template.as_ref()?.local(task)?;
        Some(node / self.per_instance * self.per_instance + local)
    }

    /// Whether the instances are copies of a mapped task group (else of one task).
    pub(crate) fn is_group(&self) -> bool {
        self.per_instance > 1
    }

    /// The map indexes of instance `node`, outermost first (one per mapped level).
    pub(crate) fn map_path(&self, node: u32) -> Vec<u32> {
        let mut path = self.outer.to_vec();
        path.push(self.map_index(node));
        path
    }

    /// The instances ended: the mapped task ends, and its run goes on.
    pub(crate) fn instances_ended(&self, instances: &Arc<RunState>) {
        let parent = self
            .parent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(parent) = parent {
            parent.finish_mapped(self.node, instances);
        }
    }
}

/// The DAG of a mapped task's instances, and the values of their arguments by slot.
type Laid = (Arc<DagInner>, Vec<(u32, Value)>);

/// The arguments of every instance, `spec.params.len()` per instance in map-index order:
/// the element of each source for the map index (the last source varies fastest), or the
/// fixed value. An element used by one instance only is moved to it.
fn instance_arguments(
    spec: &MapSpec,
    values: &[Value],
    elements: Vec<Vec<Value>>,
    lengths: &[u64],
    count: u32,
) -> Vec<Value> {
    let mut elements: Vec<Vec<Option<Value>>> = elements
        .into_iter()
        .map(|split| split.into_iter().map(Some).collect())
        .collect();
    let single_use = spec.sources.len() == 1;
    let mut arguments = Vec::with_capacity(count as usize * spec.params.len());
    let mut index = vec![0u64; lengths.len()];
    for instance in 0..count {
        let mut rest = u64::from(instance);
        for (at, &length) in lengths.iter().enumerate().rev() {
            index[at] = rest % length;
            rest /= length;
        }
        for param in &spec.params {
            let value = match *param {
                ParamFrom::Fixed(input) => values[input as usize].clone(),
                ParamFrom::Mapped { source, part } => {
                    let width = u64::from(spec.sources[source as usize].width.max(1));
                    let at = (index[source as usize] * width + u64::from(part)) as usize;
                    let element = &mut elements[source as usize][at];
                    let value = if single_use {
                        element.take()
                    } else {
                        element.clone()
                    };
                    value.unwrap_or_else(|| Value::new(()))
                }
            };
            arguments.push(value);
        }
    }
    arguments
}

/// Why a mapped task did not expand.
enum NotExpanded {
    /// A source's task ended without a value: the mapped task ends in this state.
    Upstream(TaskState),
    /// No element to map over: the mapped task is skipped.
    Empty,
    /// A source could not be read or split.
    Failed(String),
}

impl RunState {
    /// Runs mapped task `node`: reads and splits its sources, and starts its instances (or
    /// ends it at once when it has none). Its try holds no slot while the instances run.
    /// Kept out of line: inlined into [`RunState::execute`], it costs every plain task
    /// there a few instructions (registers spilled around the loop of a chain).
    #[inline(never)]
    pub(crate) fn expand_mapped(self: &Arc<Self>, node: u32, now: u64, step: &mut Step) {
        step.taken = true;
        self.start_mapped(node, now);
        let Some(spec) = self.dag.mapping(node) else {
            return self.end_mapped(node, TaskState::Failed, Some("no mapping".into()), step);
        };
        let laid = self.instances(node, spec, &mut step.carried);
        // A value handed to the mapped task that it did not read waits in its slot.
        self.carry_on(&mut step.carried, None);
        match laid {
            Ok((dag, arguments)) => {
                let (dag, restore) = match self.restore_instances(node, dag) {
                    Ok(restored) => restored,
                    Err(error) => {
                        return self.end_mapped(
                            node,
                            TaskState::Failed,
                            Some(error.to_string()),
                            step,
                        );
                    }
                };
                let instances = self.instances_run(node, dag, arguments, restore);
                self.expansions
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .push((node, Arc::clone(&instances)));
                instances.start_instances();
            }
            Err(NotExpanded::Upstream(state)) => self.end_mapped(node, state, None, step),
            Err(NotExpanded::Empty) => {
                let reason = "no element to map over (the map has 0 values to expand)";
                self.end_mapped(node, TaskState::Skipped, Some(reason.into()), step)
            }
            Err(NotExpanded::Failed(message)) => {
                self.end_mapped(node, TaskState::Failed, Some(message), step)
            }
        }
    }

    /// Ends mapped task `node` without instances, with an empty list as its value (what a
    /// downstream task that runs anyway receives, as in Airflow).
    fn end_mapped(&self, node: u32, state: TaskState, reason: Option<String>, step: &mut Step) {
        self.keep_empty_collection(node);
        let error = reason.map(|reason| match state {
            TaskState::Skipped => TaskError::skip(reason),
            _ => TaskError::fail_now(reason),
        });
        self.finish_try(node, state, error.as_ref(), step);
        self.settle(node, state, step);
    }

    /// Puts an empty collected value in the slot of mapped task `node`.
    pub(crate) fn keep_empty_collection(&self, node: u32) {
        if let Some(spec) = self.dag.mapping(node)
            && let Some(empty) = (spec.collect)(Vec::new())
        {
            self.slots[self.dag.plan.slot(node, 0)].put(empty);
        }
    }

    /// The DAG of the instances of mapped task `node` (one task per map index, or one copy
    /// of a mapped group's tasks), and the values of their arguments by slot.
    fn instances(
        self: &Arc<Self>,
        node: u32,
        spec: &MapSpec,
        handed: &mut Option<super::run::Carried>,
    ) -> Result<Laid, NotExpanded> {
        let dag = &self.dag;
        let inputs = dag.nodes[node as usize].inputs.clone();
        // A source whose task ended without a value decides, whatever the trigger rule.
        for source in &spec.sources {
            for offset in source.first..source.first + source.count {
                let input = &dag.inputs[(inputs.start + offset) as usize];
                if let Input::Upstream { node: up, .. } = *input {
                    match self.records.state(up) {
                        TaskState::Success => {}
                        TaskState::Skipped => {
                            return Err(NotExpanded::Upstream(TaskState::Skipped));
                        }
                        _ => return Err(NotExpanded::Upstream(TaskState::UpstreamFailed)),
                    }
                }
            }
        }
        let mut args = Args::new_raw(self, node, handed);
        let mut values = Vec::with_capacity(inputs.len());
        for _ in inputs.clone() {
            values.push(
                args.next_raw()
                    .map_err(|error| NotExpanded::Failed(error.to_string()))?,
            );
        }
        // Each source's elements, `width` values each.
        let mut elements = Vec::with_capacity(spec.sources.len());
        let mut lengths = Vec::with_capacity(spec.sources.len());
        let mut count: u64 = 1;
        for source in &spec.sources {
            let first = source.first as usize;
            let read = values[first..first + source.count as usize].to_vec();
            // Splitting runs the user's `Clone` and `From` impls: a panic fails the task.
            let split = crate::quiet::catch(|| (source.elements)(read))
                .unwrap_or_else(|panic| {
                    Err(format!("splitting a mapped argument panicked: {panic}"))
                })
                .map_err(NotExpanded::Failed)?;
            let length = split.len() as u64 / u64::from(source.width.max(1));
            count = count.saturating_mul(length);
            lengths.push(length);
            elements.push(split);
        }
        if count == 0 {
            return Err(NotExpanded::Empty);
        }
        let per_instance = spec.template.as_ref().map_or(1, |t| t.tasks()) as u64;
        if count.saturating_mul(per_instance) >= u64::from(crate::dag::MAX_TASKS) {
            return Err(NotExpanded::Failed(format!(
                "it would expand to {count} instances, more tasks than a DAG holds ({})",
                crate::dag::MAX_TASKS
            )));
        }
        let count = count as u32;
        let arguments = instance_arguments(spec, &values, elements, &lengths, count);
        match &spec.template {
            None => Ok(self.task_instances(node, count, spec.params.len() as u32, arguments)),
            Some(template) => template
                .replay(&self.dag, count, arguments)
                .map(|dag| (Arc::new(dag), Vec::new()))
                .map_err(|error| NotExpanded::Failed(error.to_string())),
        }
    }

    /// The instances of mapped task `node`: `count` tasks alike, instance `i` reading its
    /// parameters from slots `count + i * params ..` (filled with `arguments`).
    fn task_instances(&self, node: u32, count: u32, params: u32, arguments: Vec<Value>) -> Laid {
        let dag = &self.dag;
        let template = &dag.nodes[node as usize];
        let total = count as usize * (1 + params as usize);
        let readers = vec![1u32; total];
        let mut nodes = Vec::with_capacity(count as usize);
        let mut inputs = Vec::with_capacity(count as usize * params as usize);
        for instance in 0..count {
            let start = inputs.len() as u32;
            for param in 0..params {
                inputs.push(Input::Upstream {
                    node: instance,
                    part: 0,
                    slot: count + instance * params + param,
                    mode: ReadMode::OwnedClone,
                });
            }
            nodes.push(crate::dag::Node {
                body: template.body,
                id: template.id.clone(),
                inputs: start..inputs.len() as u32,
                options: template.options.clone(),
            });
        }
        let demands = &dag.plan.demands;
        let features =
            dag.plan.features[node as usize].without(Features::MAPPED.and(Features::MAP_SOURCE));
        let plan = Plan::instances(
            count as usize,
            readers,
            dag.plan.trigger_rules[node as usize],
            features,
            dag.plan.priorities()[node as usize],
            crate::dag::Demands::single(
                Arc::clone(&demands.pool_names[demands.pool_of(node) as usize]),
                demands.slots_of(node),
                demands.max_tis_of(node),
            ),
        );
        let filled = arguments
            .into_iter()
            .enumerate()
            .map(|(at, value)| (count + at as u32, value))
            .collect();
        (
            Arc::new(DagInner::instances_of(dag, nodes, inputs, plan)),
            filled,
        )
    }

    /// In a resumed run, what the instances of mapped task `node` (laid out in `dag`, which
    /// nothing else holds yet) restore from the store.
    fn restore_instances(
        &self,
        node: u32,
        mut dag: Arc<DagInner>,
    ) -> crate::Result<(Arc<DagInner>, Option<Box<Restore>>)> {
        let Some(restore) = &self.restore else {
            return Ok((dag, None));
        };
        let resumed = Arc::clone(restore.resumed());
        let outer = self.map_path(node);
        let per_instance = self
            .dag
            .mapping(node)
            .and_then(|spec| spec.template.as_ref())
            .map_or(1, |template| template.tasks().max(1));
        let Some(laid) = Arc::get_mut(&mut dag) else {
            return Ok((dag, None));
        };
        let path = |task: u32| {
            let mut path = outer.clone();
            path.push(task / per_instance);
            path
        };
        let restore = super::resume::restore_tasks(laid, path, &resumed, true)?;
        Ok((dag, restore))
    }

    /// The run of the instances of mapped task `node`, laid out in `dag`.
    fn instances_run(
        self: &Arc<Self>,
        node: u32,
        dag: Arc<DagInner>,
        arguments: Vec<(u32, Value)>,
        restore: Option<Box<Restore>>,
    ) -> Arc<RunState> {
        let parent_pool = self.dag.plan.demands.pool_of(node);
        let sched = RunSched {
            accounted: self.sched.accounted,
            // The run's key and count: its instances wait and count with it.
            key: self.sched.key,
            date: self.sched.date,
            max_active_tasks: self.sched.max_active_tasks,
            max_active_runs: self.sched.max_active_runs,
            active: Arc::clone(&self.sched.active),
            pools: Box::new([self.sched.pool_of(parent_pool) as u16]),
        };
        let (done, _) = oneshot::channel();
        let per_instance = self
            .dag
            .mapping(node)
            .and_then(|spec| spec.template.as_ref())
            .map_or(1, |template| template.tasks().max(1));
        let mapped = MappedRun {
            parent: Mutex::new(Some(Arc::clone(self))),
            node,
            per_instance,
            outer: self.map_path(node).into(),
            limit_key: self.limit_key(node),
            template: self
                .dag
                .mapping(node)
                .and_then(|spec| spec.template.clone()),
        };
        let run = Arc::new(
            RunState::new(
                dag,
                Arc::clone(&self.info),
                (
                    self.keep_values,
                    Some(self.size_warning.unwrap_or(u64::MAX)),
                ),
                Arc::clone(&self.clock),
                self.handle.clone(),
                (self.pool.clone(), sched),
                (
                    done,
                    self.observer.as_ref().map(|o| o.for_instances()),
                    Some(Box::new(mapped)),
                ),
            )
            .resumed(restore),
        );
        for (slot, value) in arguments {
            run.slots[slot as usize].put(value);
        }
        run
    }

    /// Queues the instances (all of them: none has an upstream task in its run).
    fn start_instances(self: &Arc<Self>) {
        let roots = &self.dag.plan.roots;
        self.count_queued(roots.len());
        for &root in roots {
            self.mark_queued(root);
        }
        self.pool.push(self, roots.iter().copied());
    }

    /// The last instance of mapped task `node` ended: the task ends in the state its
    /// instances add up to (failed if one failed, else upstream_failed if one was, else
    /// skipped if one was, else success), with their values in map-index order, and its
    /// downstream tasks go on.
    fn finish_mapped(self: &Arc<Self>, node: u32, instances: &Arc<RunState>) {
        let tasks = instances.dag.nodes.len() as u32;
        let spec = self.dag.mapping(node);
        let keep = instances.keep_values && spec.is_some_and(|spec| spec.clonable);
        let template = spec.and_then(|spec| spec.template.as_deref());
        let per_instance = template.map_or(1, |template| template.tasks().max(1));
        let count = tasks / per_instance;
        // The value of each map index: its task's, or the group's result task's.
        let result = template.map_or(Some((0, 0)), |template| template.result());
        let mut values = Vec::with_capacity(count as usize);
        let (mut failed, mut upstream_failed, mut skipped) = (0u32, 0u32, 0u32);
        for task in 0..tasks {
            match instances.records.state(task) {
                TaskState::Success => {}
                TaskState::Skipped => skipped += 1,
                TaskState::UpstreamFailed => upstream_failed += 1,
                _ => failed += 1,
            }
        }
        for instance in 0..count {
            let first = instance * per_instance;
            match result {
                Some((local, part)) => {
                    let task = first + local;
                    if instances.records.state(task) == TaskState::Success {
                        let slot = &instances.slots[instances.dag.plan.slot(task, part)];
                        if let Ok(value) = slot.read(keep, true) {
                            values.push(value);
                        }
                    }
                }
                // A group that returns nothing: a `()` for each copy that succeeded whole.
                None => {
                    let whole = (first..first + per_instance)
                        .all(|task| instances.records.state(task) == TaskState::Success);
                    if whole {
                        values.push(Value::new(()));
                    }
                }
            }
        }
        let count = tasks;
        let state = if failed > 0 {
            TaskState::Failed
        } else if upstream_failed > 0 {
            TaskState::UpstreamFailed
        } else if skipped > 0 {
            TaskState::Skipped
        } else {
            TaskState::Success
        };
        let mut step = Step::default();
        // Collecting may clone the values with the user's `Clone`: a panic leaves no value.
        let collected = spec
            .and_then(|spec| crate::quiet::catch(|| (spec.collect)(values)).ok())
            .flatten();
        if let Some(collected) = collected {
            self.slots[self.dag.plan.slot(node, 0)].put(collected);
        }
        let error = (state != TaskState::Success).then(|| {
            let message = format!(
                "{failed} of {count} mapped task instances failed, {upstream_failed} upstream_failed, {skipped} skipped"
            );
            match state {
                TaskState::Skipped => TaskError::skip(message),
                _ => TaskError::fail_now(message),
            }
        });
        self.add_dropped_events(instances.dropped_events());
        // Try number 0, no map index: the event of the mapped task as a whole, after those of
        // its instances.
        self.finish_try(node, state, error.as_ref(), &mut step);
        self.settle(node, state, &mut step);
        let ready = std::mem::take(&mut step.ready);
        self.pool.push(self, ready);
        self.count_ended(&mut step);
    }
}

impl RunState {
    /// Which task `node` is for `max_active_tis_per_dag`, across the runs of its DAG: a
    /// mapped task's instances all count as the mapped task, and a task in a copy of a mapped
    /// group as that task of the group.
    pub(crate) fn limit_key(&self, node: u32) -> (usize, u32) {
        match &self.mapped {
            None => (Arc::as_ptr(&self.dag) as usize, node),
            Some(mapped) if mapped.per_instance == 1 => mapped.limit_key,
            Some(mapped) => (Arc::as_ptr(&self.dag) as usize, node % mapped.per_instance),
        }
    }

    /// The direct upstream tasks of `node` in its copy of a mapped group, and their states
    /// now (they are all in the copy: the group's parameters are values, not tasks).
    pub(crate) fn upstream_in_copy(&self, node: u32) -> Vec<(String, TaskState)> {
        let per_instance = self.mapped.as_ref().map_or(1, |mapped| mapped.per_instance);
        let first = node / per_instance * per_instance;
        (first..first + per_instance)
            .filter(|&up| self.dag.plan.downstream(up).contains(&node))
            .map(|up| (self.dag.task_id(up).into_owned(), self.records.state(up)))
            .collect()
    }

    /// How many map indexes mapped task `node` expanded to (0 before, or without any).
    pub(crate) fn map_count(&self, node: u32) -> u32 {
        let expansions = self
            .expansions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        expansions
            .iter()
            .find(|(mapped, _)| *mapped == node)
            .map_or(0, |(_, instances)| {
                let per_instance = instances.mapped.as_ref().map_or(1, |m| m.per_instance);
                instances.dag.nodes.len() as u32 / per_instance
            })
    }
}

impl DagInner {
    /// The DAG of a mapped task's instances: `nodes` with `inputs`, laid out by `plan`,
    /// with the options and limits of the DAG `of`.
    pub(crate) fn instances_of(
        of: &DagInner,
        nodes: Vec<crate::dag::Node>,
        inputs: Vec<Input>,
        plan: Plan,
    ) -> DagInner {
        DagInner::assemble(
            Arc::clone(&of.dag_id),
            nodes,
            inputs,
            plan,
            of.default_args.clone(),
            of.limits,
        )
    }
}

impl RunState {
    /// The longest value a mapped task of this run maps over: the DAG's
    /// `max_map_length`, else the executor's, else Airflow's 1024.
    fn max_map_length(&self) -> u32 {
        self.dag
            .limits
            .max_map_length
            .or(self.pool.limits().max_map_length)
            .unwrap_or(DEFAULT_MAX_MAP_LENGTH)
    }

    /// The outcome of a try of `node`, whose value mapped tasks map over: a failure if the
    /// value is longer than `max_map_length` (as in Airflow, the task that produced it
    /// fails; the mapped task then ends upstream_failed).
    pub(crate) fn check_map_lengths(&self, node: u32, outcome: Outcome) -> Outcome {
        let value = outcome?;
        let limit = self.max_map_length();
        let checks = &self.dag.plan.map_checks;
        let first = checks.partition_point(|check| check.producer < node);
        for check in checks[first..]
            .iter()
            .take_while(|check| check.producer == node)
        {
            let length = match check.part {
                0 => (check.length)(&value),
                part => value
                    .downcast_ref::<Parts>()
                    .and_then(|parts| parts.0.get(part as usize - 1))
                    .and_then(check.length),
            };
            if let Some(length) = length.filter(|&length| length > limit as usize) {
                return Err(TaskError::msg(format!(
                    "unmappable return value length: {length} > max_map_length {limit} (task `{}` maps over it; raise `max_map_length` on the DAG or the executor)",
                    self.dag.task_id(check.mapped)
                )));
            }
        }
        Ok(value)
    }
}
