//! A mapped task group's wiring: recorded once while the DAG is built (its parameters are
//! placeholders), validated then, and laid out again at run time once per map index, each
//! copy reading its own arguments.

use std::sync::Arc;

use super::builder::{Builder, with_builder, with_current};
use super::mapping::{Collected, MapSpec};
use super::{DagInner, Gather, Input, Node, RunCallbacks};
use crate::task::body::{Invocation, TaskBody};
use crate::xcom::{Arg, TaskRef, Value, Xcom};
use crate::{Error, TaskError, TaskOptions};

/// What a group body wired, to lay out once per map index.
pub(crate) struct Template {
    nodes: Vec<Node>,
    inputs: Vec<Input>,
    gathers: Vec<Gather>,
    literals: Vec<Value>,
    order_edges: Vec<(u32, u32)>,
    mappings: Vec<(u32, MapSpec)>,
    /// Per template node: its index in one copy, or [`PARAM`] for the placeholder of a
    /// group parameter.
    kept: Vec<u32>,
    /// The placeholder node of each group parameter, in order.
    params: Vec<u32>,
    /// The tasks of one copy.
    tasks: u32,
    /// The task (in one copy) and part of the group's value, if the body returns a handle.
    result: Option<(u32, u32)>,
    /// The key of the handles made while the body was recorded.
    key: u64,
}

/// A template node that stands for a group parameter.
const PARAM: u32 = u32::MAX;

impl Template {
    /// The tasks of one copy of the group.
    pub(crate) fn tasks(&self) -> u32 {
        self.tasks
    }

    /// The task (in one copy) and part of the group's value.
    pub(crate) fn result(&self) -> Option<(u32, u32)> {
        self.result
    }

    /// The task in one copy that a handle made while the body was recorded stands for.
    pub(crate) fn local(&self, task: TaskRef) -> Option<u32> {
        let kept = *self.kept.get(task.node as usize)?;
        (task.dag == self.key && kept != PARAM).then_some(kept)
    }

    /// The DAG of `count` copies of the group, copy `i` reading group parameter `k` from
    /// `arguments[i * params + k]`, validated like any DAG, with the options and limits of
    /// the DAG `of`.
    pub(crate) fn replay(
        &self,
        of: &DagInner,
        count: u32,
        arguments: Vec<Value>,
    ) -> Result<DagInner, Error> {
        let mut builder = self.lay_out(&of.dag_id, count, arguments)?;
        let mut plan = super::plan::plan(&mut builder, &of.default_args)?;
        // Each copy's value is read once more, when the copies are collected.
        if let Some((local, part)) = self.result {
            for copy in 0..count {
                let slot = plan.slot(copy * self.tasks + local, part);
                plan.readers[slot] += 1;
            }
        }
        // Without callbacks of its own: the DAG's run callbacks are for the DAG's run.
        Ok(DagInner::of_builder(
            builder,
            plan,
            Arc::clone(&of.dag_id),
            of.default_args.clone(),
            (RunCallbacks::default(), of.limits),
            #[cfg(feature = "schedule")]
            None,
        ))
    }

    /// The copies, wired into a builder.
    fn lay_out(&self, dag_id: &str, count: u32, arguments: Vec<Value>) -> Result<Builder, Error> {
        let params = self.params.len();
        let mut builder = Builder::new(dag_id.to_owned());
        let mut arguments = arguments.into_iter();
        let param_of = |node: u32| self.params.iter().position(|&param| param == node);
        let copy_error = |what: &str| Error::Mapping {
            dag_id: dag_id.to_owned(),
            task_id: String::new(),
            reason: format!("a mapped task group cannot {what}"),
        };
        for copy in 0..count {
            let offset = copy * self.tasks;
            let local = |node: u32| self.kept[node as usize] + offset;
            let literal_base = builder.literals.len() as u32;
            builder.literals.extend(self.literals.iter().cloned());
            let argument_base = builder.literals.len() as u32;
            builder.literals.extend(arguments.by_ref().take(params));
            let gather_base = builder.gathers.len() as u32;
            for gather in &self.gathers {
                let mut sources = Vec::with_capacity(gather.sources.len());
                for &(node, part, _) in &gather.sources {
                    if param_of(node).is_some() {
                        return Err(copy_error("gather its own parameters into a list"));
                    }
                    sources.push((local(node), part, 0));
                }
                builder.gathers.push(Gather {
                    sources,
                    gather: gather.gather,
                });
            }
            for (at, node) in self.nodes.iter().enumerate() {
                if self.kept[at] == PARAM {
                    continue;
                }
                let start = builder.inputs.len() as u32;
                for input in &self.inputs[node.inputs.start as usize..node.inputs.end as usize] {
                    builder.inputs.push(match *input {
                        Input::Literal(index) => Input::Literal(literal_base + index),
                        Input::Upstream {
                            node: up,
                            part,
                            mode,
                            ..
                        } => match param_of(up) {
                            Some(param) => Input::Literal(argument_base + param as u32),
                            None => Input::Upstream {
                                node: local(up),
                                part,
                                slot: 0,
                                mode,
                            },
                        },
                        Input::Gather(index) => Input::Gather(gather_base + index),
                        Input::Missing => Input::Missing,
                    });
                }
                builder.nodes.push(Node {
                    inputs: start..builder.inputs.len() as u32,
                    ..node.clone()
                });
            }
            for &(up, down) in &self.order_edges {
                if self.kept[up as usize] != PARAM && self.kept[down as usize] != PARAM {
                    builder.order_edges.push((local(up), local(down)));
                }
            }
            for (node, spec) in &self.mappings {
                builder.mappings.push((local(*node), spec.clone()));
            }
        }
        Ok(builder)
    }
}

/// The body of a placeholder for a group parameter: never run (each copy reads the
/// parameter's value instead).
struct ParamBody;

impl TaskBody for ParamBody {
    fn name(&self) -> &'static str {
        "__taskflow_group_param"
    }
    fn output_type(&self) -> &'static str {
        "group parameter"
    }
    fn invoke(&self, _args: &mut crate::executor::Args<'_>) -> Invocation {
        Invocation::Ready(Err(TaskError::fail_now("a group parameter does not run")))
    }
}

/// The body of a mapped task group's node: it expands into copies of the group's tasks
/// and never runs itself.
struct GroupBody;

impl TaskBody for GroupBody {
    fn name(&self) -> &'static str {
        "task_group"
    }
    fn output_type(&self) -> &'static str {
        "mapped task group"
    }
    fn invoke(&self, _args: &mut crate::executor::Args<'_>) -> Invocation {
        Invocation::Ready(Err(TaskError::fail_now(
            "a mapped task group runs its copies, not itself",
        )))
    }
}

/// The placeholder handle of the next parameter of the group body being recorded.
pub(crate) fn group_param<T>() -> Xcom<T> {
    with_current(
        || "a mapped task group's parameter".into(),
        |builder| {
            let task = builder.add_node(&ParamBody, None, std::iter::empty());
            builder.group_params.push(task.node);
            Xcom::new(task)
        },
    )
}

/// What a group body returns, as the group's value: a handle, or nothing.
#[doc(hidden)]
pub trait IntoGroupResult {
    /// The task and part of the value, if there is one.
    fn into_group_result(self) -> Option<(TaskRef, u32)>;
}

impl<T> IntoGroupResult for Xcom<T> {
    fn into_group_result(self) -> Option<(TaskRef, u32)> {
        Some((self.task, self.part))
    }
}

impl IntoGroupResult for () {
    fn into_group_result(self) -> Option<(TaskRef, u32)> {
        None
    }
}

impl IntoGroupResult for super::TaskGroupRef {
    fn into_group_result(self) -> Option<(TaskRef, u32)> {
        None
    }
}

/// Adds a mapped task group to the DAG being built on this thread: `body` wires the
/// group once, on placeholders of its parameters, and the group's node maps `args` over
/// copies of it at run time.
pub(crate) fn add_mapped_group<R>(
    group_id: &'static str,
    args: Vec<Arg>,
    body: impl FnOnce() -> Option<(TaskRef, u32)>,
    collected: Collected,
) -> Xcom<Vec<R>> {
    let (dag_id, (task_id, full, defaults)) = with_current(
        || format!("task group `{group_id}`"),
        |builder| (builder.dag_id.clone(), builder.reserve_group(group_id)),
    );
    let (mut inner, outcome) = with_builder(dag_id.clone(), move || {
        with_current(
            || "a mapped task group".into(),
            |inner| inner.groups.reserved = Some((full, defaults)),
        );
        body()
    });
    inner.resolve_group_edges();
    let mut errors = std::mem::take(&mut inner.errors);
    if let Some(task_id) = inner.ids.clash() {
        errors.push(Error::DuplicateTaskId {
            dag_id: dag_id.clone(),
            task_id: task_id.to_owned(),
        });
    }
    let result = match outcome {
        Ok(result) => result,
        Err(panic) => {
            errors.push(Error::BuildPanicked {
                dag_id: dag_id.clone(),
                message: crate::executor::panic_message(&*panic),
            });
            None
        }
    };
    let template = Template::from_builder(inner, result);
    // Validated now, on one copy, so that a cycle or a clash inside fails the build.
    if errors.is_empty() {
        let placeholders = vec![Value::new(()); template.params.len()];
        let copy = template.lay_out(&dag_id, 1, placeholders);
        if let Err(error) =
            copy.and_then(|mut copy| super::plan::plan(&mut copy, &TaskOptions::EMPTY).map(drop))
        {
            errors.push(error);
        }
    }
    let options = TaskOptions::new().task_id(task_id);
    with_current(
        || format!("task group `{group_id}`"),
        |builder| {
            builder.errors.extend(errors);
            let task =
                builder.add_mapped_node(&GroupBody, Some(Box::new(options)), args, collected);
            if let Some((_, spec)) = builder.mappings.last_mut() {
                spec.template = Some(Arc::new(template));
            }
            Xcom::new(task)
        },
    )
}

impl Template {
    /// The template of what `builder` recorded, whose body returned `result`.
    fn from_builder(builder: Builder, result: Option<(TaskRef, u32)>) -> Self {
        let key = builder.key;
        let mut kept = vec![0u32; builder.nodes.len()];
        for &param in &builder.group_params {
            kept[param as usize] = PARAM;
        }
        let mut tasks = 0;
        for slot in &mut kept {
            if *slot != PARAM {
                *slot = tasks;
                tasks += 1;
            }
        }
        let result = result
            .filter(|(task, _)| task.dag == builder.key && (task.node as usize) < kept.len())
            .and_then(|(task, part)| {
                let local = kept[task.node as usize];
                (local != PARAM).then_some((local, part))
            });
        Self {
            nodes: builder.nodes,
            inputs: builder.inputs,
            gathers: builder.gathers,
            literals: builder.literals,
            order_edges: builder.order_edges,
            mappings: builder.mappings,
            kept,
            params: builder.group_params,
            tasks,
            result,
            key,
        }
    }
}
