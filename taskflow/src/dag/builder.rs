//! The DAG under construction: a thread-local stack of builders that task calls add nodes to.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use super::deps::ChainEnds;
use super::group::{GROUP_BIT, Groups};
use super::ids::{IdRepr, TaskIds, is_valid_id};
use super::{Input, Node};
use crate::task::body::TaskBody;
use crate::xcom::{Arg, ReadMode, TaskRef, Value, Xcom};
use crate::{Error, TaskOptions};

/// Everything recorded while a DAG body runs, before validation.
pub(crate) struct Builder {
    pub(crate) key: u64,
    pub(crate) dag_id: String,
    pub(crate) nodes: Vec<Node>,
    pub(crate) inputs: Vec<Input>,
    pub(crate) gathers: Vec<super::Gather>,
    /// The mapped task calls, by node.
    pub(crate) mappings: Vec<(u32, super::MapSpec)>,
    /// The placeholders of a mapped task group's parameters, while its body is recorded.
    pub(crate) group_params: Vec<u32>,
    pub(crate) literals: Vec<Value>,
    /// Ordering edges (`a >> b`), as `(upstream, downstream)`.
    pub(crate) order_edges: Vec<(u32, u32)>,
    pub(crate) ids: TaskIds,
    pub(crate) errors: Vec<Error>,
    /// Where each chain of `>>`/`<<` has got to, for its next operator.
    pub(crate) chain_ends: ChainEnds,
    /// The task groups entered, and the edges on them.
    pub(crate) groups: Groups,
}

thread_local! {
    pub(super) static BUILDERS: RefCell<Vec<Builder>> = const { RefCell::new(Vec::new()) };
}

static NEXT_KEY: AtomicU64 = AtomicU64::new(1);

impl Builder {
    pub(super) fn new(dag_id: String) -> Self {
        Self {
            key: NEXT_KEY.fetch_add(1, Ordering::Relaxed),
            dag_id,
            nodes: Vec::new(),
            inputs: Vec::new(),
            gathers: Vec::new(),
            mappings: Vec::new(),
            group_params: Vec::new(),
            literals: Vec::new(),
            order_edges: Vec::new(),
            ids: TaskIds::default(),
            errors: Vec::new(),
            chain_ends: ChainEnds::default(),
            groups: Groups::default(),
        }
    }

    pub(super) fn add_node(
        &mut self,
        body: &'static dyn TaskBody,
        options: Option<Box<TaskOptions>>,
        args: impl IntoIterator<Item = (Arg, ReadMode)>,
    ) -> TaskRef {
        let node = u32::try_from(self.nodes.len())
            .ok()
            .filter(|&node| node < GROUP_BIT)
            .expect("a DAG holds at most 2^31 tasks");
        let explicit = options.as_ref().and_then(|o| o.task_id.as_deref());
        let grouped = if self.groups.is_entered() {
            self.grouped_id(explicit.unwrap_or(body.name()))
        } else {
            None // the common case: no group to prefix with
        };
        let id = match (explicit, grouped) {
            (None, None) => self.ids.auto(body.name(), node),
            (Some(id), None) => self.explicit_id(id, node, body),
            (None, Some(id)) => {
                if !is_valid_id(&id) {
                    self.errors.push(Error::InvalidTaskId {
                        dag_id: self.dag_id.clone(),
                        task_id: id.clone(),
                    });
                }
                self.ids.auto_text(&id, node)
            }
            (Some(_), Some(id)) => self.explicit_id(&id, node, body),
        };
        if self.groups.has_ids() {
            self.check_task_against_groups(&id, body.name());
        }
        let defaults = self
            .groups
            .is_entered()
            .then(|| self.groups.defaults())
            .flatten();
        let options = match defaults {
            None => options,
            Some(defaults) => {
                let own = options.map_or_else(|| body.options().clone(), |o| o.or(body.options()));
                Some(Box::new(own.or(defaults)))
            }
        };
        let start = self.inputs.len() as u64;
        for (arg, mode) in args {
            let input = match arg {
                Arg::Literal(value) => {
                    self.literals.push(value);
                    Input::Literal(self.literals.len() as u32 - 1)
                }
                Arg::Upstream(task, part) if task.dag == self.key => Input::Upstream {
                    node: task.node,
                    part,
                    slot: 0, // set by the plan
                    mode,
                },
                Arg::Gather(gathered) if gathered.0.iter().all(|(t, _)| t.dag == self.key) => {
                    let (sources, gather) = *gathered;
                    let sources = sources
                        .into_iter()
                        .map(|(task, part)| (task.node, part, 0))
                        .collect();
                    self.gathers.push(super::Gather { sources, gather });
                    Input::Gather(self.gathers.len() as u32 - 1)
                }
                Arg::Mapped(source) => {
                    // Moved out and dropped here, like the values of the arms above: the
                    // loop's drop of `arg` then has nothing left to do for an upstream
                    // handle, and costs no call (the drop glue of `Arg` is recursive
                    // through `Source`, so it is never inlined).
                    drop(source);
                    self.errors.push(Error::Mapping {
                        dag_id: self.dag_id.clone(),
                        task_id: super::ids::id_text(&id, body.name()).into_owned(),
                        reason: format!(
                            "`each(...)` is an argument of a plain call; map with `{}::expand(...)`",
                            body.name()
                        ),
                    });
                    Input::Missing
                }
                Arg::Upstream(..) | Arg::Gather(..) => {
                    let task_id = super::ids::id_text(&id, body.name()).into_owned();
                    self.errors.push(Error::ForeignHandle {
                        dag_id: self.dag_id.clone(),
                        task_id,
                    });
                    Input::Missing
                }
            };
            self.inputs.push(input);
        }
        let inputs = start as u32..self.inputs.len() as u32;
        let options = options
            .filter(|options| !options.is_empty())
            .map(std::sync::Arc::from);
        self.nodes.push(Node {
            body,
            id,
            inputs,
            options,
        });
        TaskRef {
            dag: self.key,
            node,
        }
    }

    fn explicit_id(&mut self, id: &str, node: u32, body: &'static dyn TaskBody) -> IdRepr {
        if !is_valid_id(id) {
            self.errors.push(Error::InvalidTaskId {
                dag_id: self.dag_id.clone(),
                task_id: id.to_owned(),
            });
        }
        self.ids.explicit(id, node).unwrap_or_else(|()| {
            self.errors.push(Error::DuplicateTaskId {
                dag_id: self.dag_id.clone(),
                task_id: id.to_owned(),
            });
            self.ids.auto(body.name(), node)
        })
    }

    pub(super) fn add_order_edge(&mut self, upstream: TaskRef, downstream: TaskRef) {
        if upstream.dag == self.key && downstream.dag == self.key {
            if (upstream.node | downstream.node) & GROUP_BIT != 0 {
                self.add_group_edge(upstream.node, downstream.node);
            } else {
                self.order_edges.push((upstream.node, downstream.node));
            }
        } else {
            let local = [upstream, downstream]
                .into_iter()
                .find(|task| task.dag == self.key && task.node < self.nodes.len() as u32);
            let task_id = local.map(|task| {
                let node = &self.nodes[task.node as usize];
                super::ids::id_text(&node.id, node.body.name()).into_owned()
            });
            self.errors.push(Error::ForeignOrderHandle {
                dag_id: self.dag_id.clone(),
                task_id,
            });
        }
    }
}

/// Runs `body` with a fresh builder on top of this thread's stack and returns the builder,
/// and the panic payload of `body` if it panicked.
pub(crate) fn with_builder<R>(
    dag_id: String,
    body: impl FnOnce() -> R,
) -> (Builder, Result<R, Box<dyn std::any::Any + Send>>) {
    BUILDERS.with(|stack| stack.borrow_mut().push(Builder::new(dag_id)));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
    let builder = BUILDERS.with(|stack| stack.borrow_mut().pop());
    (
        builder.expect("the builder pushed above is still on the stack"),
        outcome,
    )
}

pub(super) fn with_current<R>(
    what: impl FnOnce() -> String,
    f: impl FnOnce(&mut Builder) -> R,
) -> R {
    BUILDERS.with(|stack| match stack.borrow_mut().last_mut() {
        Some(builder) => f(builder),
        None => panic!(
            "{} was used outside of a DAG: call tasks inside a #[dag] function or a \
             Dag::build(\"dag_id\", || ...) closure; to run a task's plain function, call \
             `<task>::call(...)`",
            what()
        ),
    })
}

/// Adds a task node to the DAG being built on this thread. Called by `#[task]` code.
///
/// # Panics
/// When no DAG is being built on this thread: a task call has no other way to report it.
pub(crate) fn add_task<T>(
    body: &'static dyn TaskBody,
    options: Option<Box<TaskOptions>>,
    args: impl IntoIterator<Item = (Arg, ReadMode)>,
) -> Xcom<T> {
    with_current(
        || format!("task `{}`", body.name()),
        |builder| Xcom::new(builder.add_node(body, options, args)),
    )
}

/// Adds an ordering edge `upstream >> downstream` to the DAG being built on this thread.
pub(crate) fn add_order_edge(upstream: TaskRef, downstream: TaskRef) {
    with_current(
        || "the `>>`/`<<` operator".into(),
        |builder| builder.add_order_edge(upstream, downstream),
    );
}

/// Records that `chain` was given two neighbouring lists of different lengths.
pub(crate) fn record_chain_error(up: usize, down: usize) {
    with_current(
        || "chain(...)".into(),
        |builder| {
            builder.errors.push(Error::Chain {
                dag_id: builder.dag_id.clone(),
                reason: format!("neighbouring lists must have the same length to be linked pairwise, got {up} and {down}"),
            })
        },
    );
}
