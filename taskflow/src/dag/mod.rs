//! The graph model: [`Dag`], built once from a closure or a `#[dag]` function and run many times.

mod builder;
mod deps;
mod features;
mod group;
mod ids;
mod mapping;
mod outcome;
mod plan;
#[cfg(feature = "schedule")]
mod schedule;
mod template;
mod waits;

use std::ops::Range;
use std::sync::Arc;

pub(crate) use builder::add_task;
pub use deps::{ChainSteps, IntoTasks, chain};
pub(crate) use features::Features;
pub use group::{TaskGroup, TaskGroupRef, task_group};
pub(crate) use ids::id_text;
pub(crate) use mapping::Collected;
pub use mapping::{Each, Mappable, each};
pub(crate) use mapping::{MapSpec, ParamFrom, Source, add_mapped_task, argument_sets};
pub use template::IntoGroupResult;
pub(crate) use template::{Template, add_mapped_group, group_param};

/// The most tasks a DAG holds, a mapped task's instances included.
pub(crate) const MAX_TASKS: u32 = 1 << 31;
pub use outcome::IntoBuildResult;
pub(crate) use plan::{DEFAULT_POOL, Demands, NO_JOIN, Plan, Role};

use crate::task::body::TaskBody;
use crate::xcom::{ReadMode, Value};
use crate::{Error, Result, TaskOptions};
use ids::{IdRepr, TaskIds, is_valid_id};

/// One task node: its body, id, inputs and per-call options.
#[derive(Clone)]
pub(crate) struct Node {
    pub(crate) body: &'static dyn TaskBody,
    pub(crate) id: IdRepr,
    /// Its arguments: `inputs[range]` of the DAG, in parameter order.
    pub(crate) inputs: Range<u32>,
    /// Per-call overrides; `None` when the call set none.
    pub(crate) options: Option<Arc<TaskOptions>>,
}

impl Node {
    /// An option of this node: its per-call override, else the task's `#[task(...)]` option.
    pub(crate) fn option<T>(&self, get: impl Fn(&TaskOptions) -> Option<T>) -> Option<T> {
        self.options
            .as_deref()
            .and_then(&get)
            .or_else(|| get(self.body.options()))
    }
}

/// Where one argument of a task comes from.
#[derive(Clone)]
pub(crate) enum Input {
    /// A literal given in the DAG definition: its index in the DAG's `literals` (kept apart
    /// so that the common input, an upstream value, stays small).
    Literal(u32),
    /// The value of an upstream task: all of it (`part` 0) or one part of a tuple; `slot` is
    /// where a run keeps that value.
    Upstream {
        node: u32,
        part: u32,
        slot: u32,
        mode: ReadMode,
    },
    /// Several upstream values gathered into one list (a fan-in): its index in the DAG's
    /// `gathers`.
    Gather(u32),
    /// A handle that was rejected while building (the DAG does not validate).
    Missing,
}

/// The upstream values a fan-in parameter gathers, in order, and how.
#[derive(Clone)]
pub(crate) struct Gather {
    /// Each upstream task, the part of its value, and the slot a run keeps it in (set by
    /// the plan).
    pub(crate) sources: Vec<(u32, u32, u32)>,
    pub(crate) gather: crate::xcom::GatherFn,
}

#[derive(Clone)]
pub(crate) struct DagInner {
    pub(crate) dag_id: Arc<str>,
    pub(crate) nodes: Vec<Node>,
    pub(crate) inputs: Vec<Input>,
    /// The fan-in parameters' upstream values.
    pub(crate) gathers: Vec<Gather>,
    /// The mapped tasks and how each expands, by node (in node order).
    pub(crate) mappings: Vec<(u32, MapSpec)>,
    /// The literal arguments of the task calls.
    pub(crate) literals: Vec<Value>,
    pub(crate) plan: Plan,
    /// The key of the builder, which handles made while building carry.
    pub(crate) key: u64,
    ids: TaskIds,
    /// The DAG's defaults for its tasks' options.
    pub(crate) default_args: TaskOptions,
    pub(crate) callbacks: RunCallbacks,
    pub(crate) limits: DagLimits,
    /// What observed runs name the tasks by, worked out on first use.
    names: Names,
    /// When the DAG runs on its own.
    #[cfg(feature = "schedule")]
    pub(crate) schedule: Option<Arc<schedule::DagSchedule>>,
}

/// The task ids as shared strings, and the DAG's fingerprint: formatted once per DAG
/// rather than per state change (a generated id such as `inc__41` is formatted).
#[derive(Clone, Default)]
struct Names {
    task_ids: std::sync::OnceLock<Box<[Arc<str>]>>,
    fingerprint: std::sync::OnceLock<String>,
}

/// A DAG's own limits on an executor (Airflow's `max_active_tasks`, `max_active_runs`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DagLimits {
    pub(crate) max_active_tasks: Option<u32>,
    pub(crate) max_active_runs: Option<u32>,
    /// The longest value a mapped task maps over (Airflow's `max_map_length`).
    pub(crate) max_map_length: Option<u32>,
}

impl DagInner {
    /// This DAG, with every task's try endable from outside when runs are limited by a
    /// `dagrun_timeout`.
    pub(crate) fn timed_by_run(mut self, timeout: Option<std::time::Duration>) -> Arc<Self> {
        if timeout.is_some() {
            for features in &mut self.plan.features {
                *features = features.with(Features::TIMEOUT, true);
            }
        }
        Arc::new(self)
    }

    /// A DAG of `nodes` laid out by `plan`, with no literals, fan-ins or mappings of its own
    /// (the instances of a mapped task).
    pub(crate) fn assemble(
        dag_id: Arc<str>,
        nodes: Vec<Node>,
        inputs: Vec<Input>,
        plan: Plan,
        default_args: TaskOptions,
        limits: DagLimits,
    ) -> Self {
        Self {
            dag_id,
            nodes,
            inputs,
            gathers: Vec::new(),
            mappings: Vec::new(),
            literals: Vec::new(),
            plan,
            key: 0,
            ids: TaskIds::default(),
            default_args,
            callbacks: RunCallbacks::default(),
            limits,
            names: Names::default(),
            #[cfg(feature = "schedule")]
            schedule: None,
        }
    }

    /// The DAG `builder` recorded, laid out by `plan`.
    fn of_builder(
        builder: builder::Builder,
        plan: Plan,
        dag_id: Arc<str>,
        default_args: TaskOptions,
        (callbacks, limits): (RunCallbacks, DagLimits),
        #[cfg(feature = "schedule")] schedule: Option<Arc<schedule::DagSchedule>>,
    ) -> Self {
        Self {
            dag_id,
            nodes: builder.nodes,
            inputs: builder.inputs,
            gathers: builder.gathers,
            mappings: builder.mappings,
            literals: builder.literals,
            plan,
            key: builder.key,
            ids: builder.ids,
            default_args,
            callbacks,
            limits,
            names: Names::default(),
            #[cfg(feature = "schedule")]
            schedule,
        }
    }

    /// The id of task `node` as a shared string (formatted once per DAG).
    pub(crate) fn task_id_shared(&self, node: u32) -> Arc<str> {
        let ids = self.names.task_ids.get_or_init(|| {
            (0..self.nodes.len() as u32)
                .map(|node| Arc::from(&*self.task_id(node)))
                .collect()
        });
        Arc::clone(&ids[node as usize])
    }

    /// The id of task `node`.
    pub(crate) fn task_id(&self, node: u32) -> std::borrow::Cow<'_, str> {
        let node = &self.nodes[node as usize];
        id_text(&node.id, node.body.name())
    }

    /// See [`Dag::fingerprint`]: FNV-1a over each task's id and type and its downstream
    /// tasks' ids, in node order.
    pub(crate) fn fingerprint(&self) -> String {
        self.names
            .fingerprint
            .get_or_init(|| self.compute_fingerprint())
            .clone()
    }

    fn compute_fingerprint(&self) -> String {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut add = |bytes: &[u8]| {
            for &byte in bytes.iter().chain(&[0xff]) {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        };
        for node in 0..self.nodes.len() as u32 {
            add(self.task_id_shared(node).as_bytes());
            let output = match self.mapping(node) {
                Some(spec) => spec.output_type,
                None => self.nodes[node as usize].body.output_type(),
            };
            add(output.as_bytes());
            for &down in self.plan.downstream(node) {
                add(self.task_id_shared(down).as_bytes());
            }
            add(b"");
        }
        format!("{hash:016x}")
    }

    /// One option of task `node`: per call, then `#[task]`, then the DAG's defaults.
    pub(crate) fn option<T>(
        &self,
        node: u32,
        get: impl Fn(&TaskOptions) -> Option<T>,
    ) -> Option<T> {
        self.nodes[node as usize]
            .option(&get)
            .or_else(|| get(&self.default_args))
    }

    /// The options of task `node`: per call, then `#[task]`, then the DAG's defaults.
    pub(crate) fn options(&self, node: u32) -> TaskOptions {
        let node = &self.nodes[node as usize];
        let own = node.options.as_deref().map_or_else(
            || node.body.options().clone(),
            |o| o.or(node.body.options()),
        );
        own.or(&self.default_args)
    }

    /// How mapped task `node` expands, if it is one.
    pub(crate) fn mapping(&self, node: u32) -> Option<&MapSpec> {
        if self.mappings.is_empty() {
            return None;
        }
        self.mappings
            .binary_search_by_key(&node, |&(mapped, _)| mapped)
            .ok()
            .map(|index| &self.mappings[index].1)
    }

    /// The type name of the value of task `node` (a mapped task's is the list of its
    /// instances' values).
    pub(crate) fn output_type(&self, node: u32) -> &'static str {
        match self.mapping(node) {
            Some(spec) => spec.output_type,
            None => self.nodes[node as usize].body.output_type(),
        }
    }

    /// The node with this task id.
    pub(crate) fn node(&self, task_id: &str) -> Result<u32> {
        self.ids.find(task_id).ok_or_else(|| Error::UnknownTask {
            dag_id: self.dag_id.to_string(),
            task_id: task_id.to_owned(),
        })
    }
}

/// A validated graph of tasks: built once, run any number of times.
///
/// Build one with `#[dag]` on a function, or with [`Dag::build`]; run it with [`Dag::run`]
/// inside tokio or [`Dag::test`] from synchronous code.
///
/// ```
/// use taskflow::prelude::*;
///
/// #[task]
/// fn numbers() -> Vec<u64> {
///     vec![1, 2, 3]
/// }
///
/// #[task]
/// fn total(values: Vec<u64>) -> u64 {
///     values.iter().sum()
/// }
///
/// let dag = Dag::build("sums", || {
///     let values = numbers();
///     total(values);
/// })?;
/// let report = dag.test()?;
/// assert_eq!(report.xcom::<u64>("total")?, 6);
/// # Ok::<(), taskflow::Error>(())
/// ```
#[derive(Clone)]
pub struct Dag {
    pub(crate) inner: Arc<DagInner>,
}

impl Dag {
    /// Builds a DAG from a closure that calls tasks, then validates it: a cycle, a duplicate
    /// task id, a handle from another DAG, a panic in `body` or an `Err` it returns is an
    /// error (see [`IntoBuildResult`]).
    pub fn build<R: IntoBuildResult>(
        dag_id: impl Into<String>,
        body: impl FnOnce() -> R,
    ) -> Result<Dag> {
        Dag::builder(dag_id).build(body)
    }

    /// A builder for a DAG with options, such as defaults for all its tasks.
    ///
    /// ```
    /// use std::time::Duration;
    /// use taskflow::prelude::*;
    ///
    /// #[task]
    /// fn fetch() -> u32 {
    ///     1
    /// }
    ///
    /// #[task(retries = 5)]
    /// fn flaky() -> u32 {
    ///     2
    /// }
    ///
    /// let dag = Dag::builder("defaults")
    ///     .default_args(TaskOptions::new().retries(2).retry_delay(Duration::from_secs(30)))
    ///     .build(|| {
    ///         fetch();
    ///         flaky();
    ///     })?;
    /// assert_eq!(dag.task_options("fetch")?.retries, Some(2));
    /// assert_eq!(dag.task_options("flaky")?.retries, Some(5)); // the task's own option wins
    /// # Ok::<(), taskflow::Error>(())
    /// ```
    pub fn builder(dag_id: impl Into<String>) -> DagBuilder {
        DagBuilder {
            dag_id: dag_id.into(),
            default_args: TaskOptions::EMPTY,
            callbacks: RunCallbacks::default(),
            limits: DagLimits::default(),
            #[cfg(feature = "schedule")]
            schedule: schedule::ScheduleOptions::default(),
        }
    }

    /// The DAG's id.
    pub fn dag_id(&self) -> &str {
        &self.inner.dag_id
    }

    /// A fingerprint of the DAG's structure: its task ids, the type each returns, and its
    /// edges, as 16 hex digits. Two builds of one DAG have the same fingerprint; a store
    /// keeps it with each run, so that resuming a run tells a changed DAG.
    ///
    /// ```
    /// use taskflow::prelude::*;
    ///
    /// #[task]
    /// fn extract() -> u32 {
    ///     1
    /// }
    ///
    /// #[task]
    /// fn load(_rows: u32) {}
    ///
    /// let one = Dag::build("etl", || load(extract()))?;
    /// let again = Dag::build("etl", || load(extract()))?;
    /// let other = Dag::build("etl", || {
    ///     extract();
    /// })?;
    /// assert_eq!(one.fingerprint(), again.fingerprint());
    /// assert_ne!(one.fingerprint(), other.fingerprint());
    /// # Ok::<(), taskflow::Error>(())
    /// ```
    pub fn fingerprint(&self) -> String {
        self.inner.fingerprint()
    }

    /// The number of tasks.
    pub fn len(&self) -> usize {
        self.inner.nodes.len()
    }

    /// Whether the DAG has no task.
    pub fn is_empty(&self) -> bool {
        self.inner.nodes.is_empty()
    }

    /// The task ids, in the order the tasks were added.
    pub fn task_ids(&self) -> Vec<String> {
        (0..self.len() as u32)
            .map(|i| self.inner.task_id(i).into_owned())
            .collect()
    }

    /// The ids of the direct upstream tasks of `task_id` (data and ordering edges).
    pub fn upstream_task_ids(&self, task_id: &str) -> Result<Vec<String>> {
        let node = self.inner.node(task_id)?;
        let plan = &self.inner.plan;
        Ok((0..self.len() as u32)
            .filter(|&up| plan.downstream(up).contains(&node))
            .map(|up| self.inner.task_id(up).into_owned())
            .collect())
    }

    /// The ids of the direct downstream tasks of `task_id` (data and ordering edges).
    pub fn downstream_task_ids(&self, task_id: &str) -> Result<Vec<String>> {
        let node = self.inner.node(task_id)?;
        Ok(self
            .inner
            .plan
            .downstream(node)
            .iter()
            .map(|&down| self.inner.task_id(down).into_owned())
            .collect())
    }

    /// The options of a task as they apply: per-call overrides, then the task's `#[task]`
    /// options, then the DAG's defaults. Unset fields take Airflow's defaults when run.
    pub fn task_options(&self, task_id: &str) -> Result<TaskOptions> {
        Ok(self.inner.options(self.inner.node(task_id)?))
    }

    /// The trigger rule of a task, with defaults applied.
    pub fn trigger_rule(&self, task_id: &str) -> Result<crate::TriggerRule> {
        Ok(self.inner.plan.trigger_rules[self.inner.node(task_id)? as usize])
    }

    /// The effective priority weight of a task: its `priority_weight` under its
    /// `weight_rule`, computed once when the DAG was built. Higher runs first.
    pub fn priority_weight(&self, task_id: &str) -> Result<i32> {
        Ok(self.inner.plan.priorities()[self.inner.node(task_id)? as usize])
    }

    /// The weight rule of a task, with the defaults applied.
    pub fn weight_rule(&self, task_id: &str) -> Result<crate::WeightRule> {
        let node = self.inner.node(task_id)?;
        Ok(self
            .inner
            .option(node, |o| o.weight_rule.clone())
            .unwrap_or_default())
    }
}

/// A callback on the end of a DAG run, given its report: a cheap-to-clone handle to a
/// function or a closure, which may capture state. A panic in one is caught and written to
/// standard error.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use taskflow::prelude::*;
///
/// #[task]
/// fn work() -> u32 {
///     1
/// }
///
/// let states = Arc::new(Mutex::new(Vec::new()));
/// let seen = Arc::clone(&states);
/// let dag = Dag::builder("watched")
///     .on_success_callback(move |report| seen.lock().unwrap().push(report.state("work")))
///     .build(|| {
///         work();
///     })?;
/// dag.test()?;
/// assert_eq!(*states.lock().unwrap(), [TaskState::Success]);
/// # Ok::<(), taskflow::Error>(())
/// ```
#[derive(Clone)]
pub struct RunCallback(crate::task::options::Callback<RunFn, fn(&crate::RunReport)>);

/// The function behind a [`RunCallback`].
type RunFn = dyn Fn(&crate::RunReport) + Send + Sync;

impl RunCallback {
    /// A callback that runs `callback`, which may capture state.
    pub fn new(callback: impl Fn(&crate::RunReport) + Send + Sync + 'static) -> Self {
        Self(crate::task::options::Callback::Shared(Arc::new(callback)))
    }

    /// A callback that runs a plain function; usable in `const` and `static` items.
    pub const fn from_fn(callback: fn(&crate::RunReport)) -> Self {
        Self(crate::task::options::Callback::Plain(callback))
    }
}

impl std::ops::Deref for RunCallback {
    type Target = RunFn;

    fn deref(&self) -> &Self::Target {
        match &self.0 {
            crate::task::options::Callback::Plain(callback) => callback,
            crate::task::options::Callback::Shared(callback) => &**callback,
        }
    }
}

impl From<fn(&crate::RunReport)> for RunCallback {
    fn from(callback: fn(&crate::RunReport)) -> Self {
        Self::from_fn(callback)
    }
}

impl std::fmt::Debug for RunCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt("RunCallback", f)
    }
}

/// DAG run callbacks: on success and on failure of the whole run.
#[derive(Debug, Clone, Default)]
pub(crate) struct RunCallbacks {
    pub(crate) on_success: Option<RunCallback>,
    pub(crate) on_failure: Option<RunCallback>,
}

/// Options of a DAG being built; see [`Dag::builder`].
#[derive(Debug, Clone)]
pub struct DagBuilder {
    dag_id: String,
    default_args: TaskOptions,
    callbacks: RunCallbacks,
    limits: DagLimits,
    #[cfg(feature = "schedule")]
    schedule: schedule::ScheduleOptions,
}

impl DagBuilder {
    /// Defaults for every task of the DAG (Airflow's `default_args`); a task's own options
    /// and per-call overrides take precedence.
    pub fn default_args(mut self, defaults: TaskOptions) -> Self {
        self.default_args = defaults;
        self
    }

    /// Called with the report when a run of the DAG succeeds.
    pub fn on_success_callback(
        mut self,
        callback: impl Fn(&crate::RunReport) + Send + Sync + 'static,
    ) -> Self {
        self.callbacks.on_success = Some(RunCallback::new(callback));
        self
    }

    /// Called with the report when a run of the DAG fails.
    pub fn on_failure_callback(
        mut self,
        callback: impl Fn(&crate::RunReport) + Send + Sync + 'static,
    ) -> Self {
        self.callbacks.on_failure = Some(RunCallback::new(callback));
        self
    }

    /// At most this many tasks of one run of the DAG run at once (Airflow's
    /// `max_active_tasks`). Default: the executor's (none on the default executor).
    pub fn max_active_tasks(mut self, limit: u32) -> Self {
        self.limits.max_active_tasks = Some(limit);
        self
    }

    /// At most this many runs of the DAG run at once on one executor; later ones wait
    /// (Airflow's `max_active_runs`). Default: the executor's (none on the default executor).
    pub fn max_active_runs(mut self, limit: u32) -> Self {
        self.limits.max_active_runs = Some(limit);
        self
    }

    /// The longest list a mapped task of this DAG maps over (Airflow's `max_map_length`,
    /// default 1024): a task whose value is mapped over and is longer fails, and the
    /// mapped task ends upstream_failed. Wins over the executor's setting.
    ///
    /// ```
    /// use taskflow::prelude::*;
    ///
    /// #[task]
    /// fn ids() -> Vec<u32> {
    ///     (0..5).collect()
    /// }
    ///
    /// #[task]
    /// fn fetch(id: u32) -> u32 {
    ///     id
    /// }
    ///
    /// let report = Dag::builder("capped")
    ///     .max_map_length(4)
    ///     .build(|| {
    ///         fetch::expand(each(ids()));
    ///     })?
    ///     .test()?;
    /// assert_eq!(report.state("ids"), TaskState::Failed); // 5 > 4: its value is refused
    /// assert_eq!(report.state("fetch"), TaskState::UpstreamFailed);
    /// # Ok::<(), taskflow::Error>(())
    /// ```
    pub fn max_map_length(mut self, limit: u32) -> Self {
        self.limits.max_map_length = Some(limit);
        self
    }

    /// Builds the DAG from a closure that calls tasks, then validates it; see [`Dag::build`].
    pub fn build<R: IntoBuildResult>(self, body: impl FnOnce() -> R) -> Result<Dag> {
        let DagBuilder {
            dag_id,
            default_args,
            callbacks,
            limits,
            #[cfg(feature = "schedule")]
            schedule,
        } = self;
        if !is_valid_id(&dag_id) {
            return Err(Error::InvalidDagId { dag_id });
        }
        let zero_limit = [
            ("max_active_tasks", limits.max_active_tasks),
            ("max_active_runs", limits.max_active_runs),
        ]
        .into_iter()
        .find(|(_, limit)| *limit == Some(0));
        if let Some((option, _)) = zero_limit {
            return Err(Error::InvalidOption {
                dag_id,
                what: format!("`{option}`"),
                reason: "it must be at least 1, or no task could run".into(),
            });
        }
        #[cfg(feature = "schedule")]
        let schedule = schedule.resolve(&dag_id)?;
        let (mut builder, outcome) = builder::with_builder(dag_id, body);
        match outcome.map(IntoBuildResult::into_build_result) {
            Ok(Ok(())) => {}
            Ok(Err(message)) => {
                return Err(Error::BuildFailed {
                    dag_id: builder.dag_id,
                    message,
                });
            }
            Err(panic) => {
                return Err(Error::BuildPanicked {
                    dag_id: builder.dag_id,
                    message: crate::executor::panic_message(&*panic),
                });
            }
        }
        builder.resolve_group_edges();
        let plan = plan::plan(&mut builder, &default_args)?;
        let dag_id = builder.dag_id.as_str().into();
        Ok(Dag {
            inner: Arc::new(DagInner::of_builder(
                builder,
                plan,
                dag_id,
                default_args,
                (callbacks, limits),
                #[cfg(feature = "schedule")]
                schedule,
            )),
        })
    }
}

impl AsRef<Dag> for Dag {
    fn as_ref(&self) -> &Dag {
        self
    }
}

impl std::fmt::Debug for Dag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dag")
            .field("dag_id", &self.dag_id())
            .field("tasks", &self.len())
            .finish()
    }
}
