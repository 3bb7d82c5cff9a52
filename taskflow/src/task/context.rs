//! [`Context`]: what a task can learn about its run, injected into a `&Context` parameter.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use crate::executor::{Clock, Found, RunState, Runs, TrySleeps};
use crate::{Error, Result, TaskState};

/// The parameters of a run: JSON values by name, with typed access.
///
/// ```
/// use taskflow::Params;
///
/// let params = Params::new().with("min_amount", 10.5).with("region", "north");
/// assert_eq!(params.get::<f64>("min_amount")?, 10.5);
/// assert_eq!(params.get::<String>("region")?, "north");
/// assert!(params.get::<u32>("region").is_err());
/// # Ok::<(), taskflow::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Params(serde_json::Map<String, serde_json::Value>);

impl Params {
    /// No parameters.
    pub fn new() -> Self {
        Self::default()
    }

    /// These parameters with `name` set to `value`.
    pub fn with(mut self, name: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        self.0.insert(name.into(), value.into());
        self
    }

    /// Sets `name` to `value`.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<serde_json::Value>) {
        self.0.insert(name.into(), value.into());
    }

    /// The parameter `name` as a `T`: an error names the parameter if it is missing or does
    /// not deserialize into `T`.
    pub fn get<T: DeserializeOwned>(&self, name: &str) -> Result<T> {
        let value = self.0.get(name).ok_or_else(|| Error::Param {
            name: name.into(),
            reason: "not set".into(),
        })?;
        T::deserialize(value).map_err(|error| Error::Param {
            name: name.into(),
            reason: error.to_string(),
        })
    }

    /// The raw JSON value of `name`.
    pub fn raw(&self, name: &str) -> Option<&serde_json::Value> {
        self.0.get(name)
    }

    /// Whether no parameter is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<serde_json::Map<String, serde_json::Value>> for Params {
    fn from(map: serde_json::Map<String, serde_json::Value>) -> Self {
        Self(map)
    }
}

/// What all tasks of one run share: ids, dates, params and keyed side values.
pub(crate) struct RunInfo {
    pub(crate) dag_id: Arc<str>,
    pub(crate) run_id: String,
    pub(crate) logical_date: DateTime<Utc>,
    /// The run's data interval (the logical date twice unless a schedule says otherwise).
    pub(crate) data_interval: (DateTime<Utc>, DateTime<Utc>),
    pub(crate) params: Params,
    side_values: Mutex<HashMap<(String, String), Arc<dyn Any + Send + Sync>>>,
    /// Where [`Context::upstream_states`] reads: set once per run, never per task.
    upstream: OnceLock<UpstreamSource>,
    /// The run's store, which keeps the side values pushed (encoded as JSON).
    pub(crate) store: Option<crate::store::StoreSink>,
}

/// A side value read back from a store, as JSON: decoded into the type asked for when
/// pulled.
pub(crate) struct StoredPush(pub(crate) serde_json::Value);

/// Where a context finds the states of its task's upstream tasks.
enum UpstreamSource {
    /// The run on an executor (weak: a context kept after its run does not keep the run),
    /// and each task's direct upstream tasks, found on first use.
    Run {
        run: Weak<RunState>,
        lists: OnceLock<UpstreamLists>,
    },
    /// States given to a test context ([`Context::with_upstream_states`]).
    Given(Vec<(String, TaskState)>),
}

/// The direct upstream tasks of every task: those of task `n` are
/// `up[start[n]..start[n + 1]]`, in the order the tasks were added.
struct UpstreamLists {
    start: Vec<u32>,
    up: Vec<u32>,
}

impl UpstreamLists {
    /// Inverts the DAG's downstream lists, in time linear in its size.
    fn of(dag: &crate::dag::DagInner) -> Self {
        let n = dag.nodes.len();
        let mut start = vec![0u32; n + 1];
        for up in 0..n as u32 {
            for &down in dag.plan.downstream(up) {
                start[down as usize + 1] += 1;
            }
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut next = start.clone();
        let mut ups = vec![0u32; start[n] as usize];
        for up in 0..n as u32 {
            for &down in dag.plan.downstream(up) {
                ups[next[down as usize] as usize] = up;
                next[down as usize] += 1;
            }
        }
        Self { start, up: ups }
    }

    fn of_node(&self, node: u32) -> &[u32] {
        let node = node as usize;
        &self.up[self.start[node] as usize..self.start[node + 1] as usize]
    }
}

impl RunInfo {
    pub(crate) fn new(
        dag_id: Arc<str>,
        run_id: String,
        logical_date: DateTime<Utc>,
        params: Params,
    ) -> Self {
        Self {
            dag_id,
            run_id,
            logical_date,
            data_interval: (logical_date, logical_date),
            params,
            side_values: Mutex::default(),
            upstream: OnceLock::new(),
            store: None,
        }
    }

    /// Keeps side value `value` of `task_id` (of the instance at `map_path` of a mapped
    /// task) under `key`.
    pub(crate) fn push(
        &self,
        task_id: &str,
        map_path: Option<&[u32]>,
        key: &str,
        value: Arc<dyn Any + Send + Sync>,
    ) {
        let mut values = self.side_values.lock().unwrap_or_else(|e| e.into_inner());
        let at = (task_id.to_owned(), key.to_owned());
        let Some(path) = map_path else {
            values.insert(at, value);
            return;
        };
        let entry = values
            .entry(at)
            .or_insert_with(|| Arc::new(Mutex::new(MappedPushes::default())));
        match entry.downcast_ref::<Mutex<MappedPushes>>() {
            Some(pushes) => {
                let mut pushes = pushes.lock().unwrap_or_else(|e| e.into_inner());
                pushes.0.insert(path.to_vec(), value);
            }
            None => {
                let mut pushes = MappedPushes::default();
                pushes.0.insert(path.to_vec(), value);
                *entry = Arc::new(Mutex::new(pushes));
            }
        }
    }

    /// Lets the contexts of this run's tasks read their upstream states from `run`.
    pub(crate) fn attach(&self, run: &Arc<RunState>) {
        let _ = self.upstream.set(UpstreamSource::Run {
            run: Arc::downgrade(run),
            lists: OnceLock::new(),
        });
    }
}

/// The context of one task try, injected into a task parameter of type `&Context`.
///
/// It gives the run id, the logical date, the task id, the try number, the run's params, and
/// keyed XComs: side values pushed by one task and pulled by another.
///
/// ```
/// use taskflow::prelude::*;
///
/// #[task]
/// fn stamp(ctx: &Context, label: String) -> String {
///     ctx.xcom_push("label_length", label.len());
///     format!("{label} for {} (try {})", ctx.task_id(), ctx.try_number())
/// }
///
/// // Calling the plain function in a unit test, with a context made for it:
/// let ctx = Context::for_test("stamp");
/// assert_eq!(stamp::call(&ctx, "daily".into()), "daily for stamp (try 1)");
/// assert_eq!(ctx.xcom_pull::<usize>("stamp", "label_length")?, 5);
/// # Ok::<(), taskflow::Error>(())
/// ```
#[derive(Clone)]
pub struct Context {
    run: Arc<RunInfo>,
    task_id: Arc<str>,
    try_number: u32,
    /// The run's clock, the runs of its executor and the try's sleeps; `None` outside a run
    /// (`Context::for_test`).
    executor: Option<TryLinks>,
    /// The map indexes of an instance of a mapped task, outermost first.
    map_path: Option<Arc<[u32]>>,
}

/// What a try's context reaches of its executor.
#[derive(Clone)]
pub(crate) struct TryLinks {
    pub(crate) clock: Arc<Clock>,
    pub(crate) runs: Arc<Runs>,
    /// Set for a try that may be ended from outside (at a timeout).
    pub(crate) sleeps: Option<Arc<TrySleeps>>,
    /// For a task in a copy of a mapped task group: its upstream tasks in its copy and their
    /// states when the try started (they had ended: the try runs after them).
    pub(crate) copy_upstream: Option<Vec<(String, TaskState)>>,
}

impl Context {
    pub(crate) fn new(
        run: Arc<RunInfo>,
        task_id: Arc<str>,
        try_number: u32,
        executor: Option<TryLinks>,
    ) -> Self {
        Self {
            run,
            task_id,
            try_number,
            executor,
            map_path: None,
        }
    }

    /// This context with the map indexes of a mapped task's instance.
    pub(crate) fn with_map_path(mut self, map_path: Vec<u32>) -> Self {
        if !map_path.is_empty() {
            self.map_path = Some(map_path.into());
        }
        self
    }

    /// The map index of this instance of a mapped task (Airflow's `ti.map_index`), from 0
    /// in the order of the elements mapped over; `None` for a task that is not mapped
    /// (Airflow's `-1`).
    ///
    /// ```
    /// use taskflow::prelude::*;
    ///
    /// #[task]
    /// fn label(ctx: &Context, name: String) -> String {
    ///     format!("{}:{name}", ctx.map_index().unwrap_or(0))
    /// }
    ///
    /// let report = Dag::build("indexed", || {
    ///     label::expand(each(vec!["a".to_owned(), "b".to_owned()]));
    /// })?
    /// .test()?;
    /// assert_eq!(report.xcom::<Vec<String>>("label")?, ["0:a", "1:b"]);
    /// # Ok::<(), taskflow::Error>(())
    /// ```
    pub fn map_index(&self) -> Option<u32> {
        self.map_path().last().copied()
    }

    /// The map indexes of this instance, outermost first: one for a mapped task, one per
    /// level for a task mapped inside mapped task groups (`[file, line]`); empty for a task
    /// that is not mapped.
    pub fn map_path(&self) -> &[u32] {
        self.map_path.as_deref().unwrap_or_default()
    }

    /// The state of task `task_id` in the run of DAG `dag_id` with logical date
    /// `logical_date`, on the executor running this task.
    pub(crate) fn external_task_state(
        &self,
        dag_id: &str,
        logical_date: DateTime<Utc>,
        task_id: &str,
    ) -> Found {
        match &self.executor {
            Some(links) => links
                .runs
                .task_state(dag_id, logical_date.timestamp_micros(), task_id),
            None => Found::NoRun,
        }
    }

    /// The date now on the run's clock: the wall clock in [`Dag::run`](crate::Dag::run),
    /// and the virtual date in a virtual-time run (ahead by the waits it skipped).
    pub fn now(&self) -> DateTime<Utc> {
        self.executor
            .as_ref()
            .map_or_else(Utc::now, |links| links.clock.date_now())
    }

    /// Waits `duration` on the run's clock: in real time in [`Dag::run`](crate::Dag::run),
    /// and in virtual time in [`Dag::test`](crate::Dag::test) (or on an executor with
    /// virtual time), where the wait skips ahead once nothing else can move on. A try waiting
    /// here still holds its slot, like a task sleeping in Airflow. Outside a run, it is a
    /// tokio sleep.
    ///
    /// ```
    /// use std::time::Duration;
    /// use taskflow::prelude::*;
    ///
    /// #[task]
    /// async fn slow(ctx: &Context) -> u32 {
    ///     ctx.sleep(Duration::from_secs(3600)).await; // an hour, skipped in a test
    ///     1
    /// }
    ///
    /// let report = Dag::build("patient", || {
    ///     slow();
    /// })?
    /// .test()?;
    /// let task = report.task("slow").unwrap();
    /// assert!(task.duration.unwrap() >= Duration::from_secs(3600));
    /// # Ok::<(), taskflow::Error>(())
    /// ```
    pub async fn sleep(&self, duration: std::time::Duration) {
        match &self.executor {
            Some(links) => links.clock.sleep(duration, links.sleeps.as_deref()).await,
            None => tokio::time::sleep(duration).await,
        }
    }

    /// A context for calling a task's plain function in a unit test: DAG `test_dag`, run
    /// `manual__test`, logical date now, first try, no params.
    pub fn for_test(task_id: &str) -> Self {
        Self::for_test_with_params(task_id, Params::new())
    }

    /// Like [`Context::for_test`], with these params.
    pub fn for_test_with_params(task_id: &str, params: Params) -> Self {
        let run = RunInfo::new("test_dag".into(), "manual__test".into(), Utc::now(), params);
        Self::new(Arc::new(run), task_id.into(), 1, None)
    }

    /// The DAG's id.
    pub fn dag_id(&self) -> &str {
        &self.run.dag_id
    }

    /// The run's id (`manual__<logical date>` unless set in the run options).
    pub fn run_id(&self) -> &str {
        &self.run.run_id
    }

    /// The run's logical date.
    pub fn logical_date(&self) -> DateTime<Utc> {
        self.run.logical_date
    }

    /// The start of the data interval the run covers (Airflow's `data_interval_start`):
    /// the logical date for a run of a trigger schedule and for a manual run; the interval's
    /// start for a run of a data-interval timetable.
    ///
    /// ```
    /// use taskflow::prelude::*;
    ///
    /// #[task]
    /// fn window(ctx: &Context) -> (String, String) {
    ///     (ctx.data_interval_start().to_rfc3339(), ctx.data_interval_end().to_rfc3339())
    /// }
    ///
    /// let dag = Dag::build("window", || {
    ///     window();
    /// })?;
    /// let date = "2026-03-01T00:00:00Z".parse()?;
    /// let report = dag.test_with(RunOptions::new().log(false).logical_date(date))?;
    /// let (start, end) = report.xcom::<(String, String)>("window")?;
    /// assert_eq!((start.as_str(), end.as_str()), ("2026-03-01T00:00:00+00:00", "2026-03-01T00:00:00+00:00"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn data_interval_start(&self) -> DateTime<Utc> {
        self.run.data_interval.0
    }

    /// The end of the data interval the run covers (Airflow's `data_interval_end`).
    pub fn data_interval_end(&self) -> DateTime<Utc> {
        self.run.data_interval.1
    }

    /// This task's id.
    pub fn task_id(&self) -> &str {
        &self.task_id
    }

    /// The try number, from 1.
    pub fn try_number(&self) -> u32 {
        self.try_number
    }

    /// The run's params.
    pub fn params(&self) -> &Params {
        &self.run.params
    }

    /// The run param `name` as a `T` (shorthand for `ctx.params().get(name)`).
    pub fn param<T: DeserializeOwned>(&self, name: &str) -> Result<T> {
        self.run.params.get(name)
    }

    /// The states of this task's direct upstream tasks (data and ordering edges), as they are
    /// now, in the order the tasks were added to the DAG. A task on a trigger rule such as
    /// `all_done` can say which upstream task failed. Empty outside a run, unless set with
    /// [`Context::with_upstream_states`].
    ///
    /// ```
    /// use taskflow::prelude::*;
    ///
    /// #[task]
    /// fn load() -> Result<u32, TaskError> {
    ///     Err(TaskError::fail_now("the warehouse is down"))
    /// }
    ///
    /// #[task]
    /// fn audit() -> u32 {
    ///     1
    /// }
    ///
    /// #[task(trigger_rule = "all_done")]
    /// fn summary(ctx: &Context) -> String {
    ///     let failed: Vec<String> = ctx
    ///         .upstream_states()
    ///         .into_iter()
    ///         .filter(|(_, state)| *state == TaskState::Failed)
    ///         .map(|(task_id, _)| task_id)
    ///         .collect();
    ///     format!("failed: {}", failed.join(", "))
    /// }
    ///
    /// let report = Dag::build("nightly", || {
    ///     let loaded = load();
    ///     let audited = audit();
    ///     let done = summary();
    ///     loaded >> done;
    ///     audited >> done;
    /// })?
    /// .test()?;
    /// assert_eq!(report.xcom::<String>("summary")?, "failed: load");
    /// # Ok::<(), taskflow::Error>(())
    /// ```
    pub fn upstream_states(&self) -> Vec<(String, TaskState)> {
        if let Some(states) = self
            .executor
            .as_ref()
            .and_then(|links| links.copy_upstream.as_ref())
        {
            return states.clone();
        }
        match self.run.upstream.get() {
            None => Vec::new(),
            Some(UpstreamSource::Given(states)) => states.clone(),
            Some(UpstreamSource::Run { run, lists }) => {
                let Some(run) = run.upgrade() else {
                    return Vec::new();
                };
                let Ok(node) = run.dag.node(&self.task_id) else {
                    return Vec::new();
                };
                let lists = lists.get_or_init(|| UpstreamLists::of(&run.dag));
                lists
                    .of_node(node)
                    .iter()
                    .map(|&up| (run.dag.task_id(up).into_owned(), run.records.state(up)))
                    .collect()
            }
        }
    }

    /// The state of `task_id` if it is a direct upstream task of this one, as it is now;
    /// `None` for any other id.
    ///
    /// ```
    /// use taskflow::prelude::*;
    ///
    /// let ctx = Context::for_test("report")
    ///     .with_upstream_states([("extract", TaskState::Success), ("load", TaskState::Failed)]);
    /// assert_eq!(ctx.upstream_state("load"), Some(TaskState::Failed));
    /// assert_eq!(ctx.upstream_state("typo"), None);
    /// ```
    pub fn upstream_state(&self, task_id: &str) -> Option<TaskState> {
        self.upstream_states()
            .into_iter()
            .find(|(id, _)| id == task_id)
            .map(|(_, state)| state)
    }

    /// This context with the upstream states that [`Context::upstream_states`] reports, for
    /// calling a task's plain function in a unit test (made with [`Context::for_test`]; a
    /// context of a run reads its run instead).
    ///
    /// ```
    /// use taskflow::prelude::*;
    ///
    /// let ctx = Context::for_test("report").with_upstream_states([("load", TaskState::Skipped)]);
    /// assert_eq!(ctx.upstream_states(), [("load".to_owned(), TaskState::Skipped)]);
    /// ```
    pub fn with_upstream_states<I, S>(mut self, states: I) -> Self
    where
        I: IntoIterator<Item = (S, TaskState)>,
        S: Into<String>,
    {
        let states = states
            .into_iter()
            .map(|(id, state)| (id.into(), state))
            .collect();
        if self.executor.is_some() {
            return self;
        }
        let given = OnceLock::from(UpstreamSource::Given(states));
        if let Some(info) = Arc::get_mut(&mut self.run) {
            info.upstream = given;
            return self;
        }
        // A clone of this context shares its run info: this one gets its own copy.
        let mut copy = RunInfo::new(
            Arc::clone(&self.run.dag_id),
            self.run.run_id.clone(),
            self.run.logical_date,
            self.run.params.clone(),
        );
        copy.side_values = Mutex::new(
            self.run
                .side_values
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        );
        copy.upstream = given;
        self.run = Arc::new(copy);
        self
    }

    /// Stores a side value under `key` for this task, readable with [`Context::xcom_pull`].
    /// An instance of a mapped task pushes under its map index, as in Airflow: read them all
    /// with [`Context::xcom_pull_mapped`].
    ///
    /// In a run kept in a store ([`RunOptions::store`](crate::RunOptions::store)), the value
    /// is stored too, as JSON, and a resumed run gives it back to [`Context::xcom_pull`]: side
    /// values are JSON-like, as Airflow's XComs are.
    pub fn xcom_push<T: serde::Serialize + Send + Sync + 'static>(&self, key: &str, value: T) {
        if let Some(store) = &self.run.store {
            // A value whose `Serialize` fails (or panics) is kept in memory only.
            if let Ok(Ok(json)) = crate::quiet::catch(|| serde_json::to_value(&value)) {
                store.send(crate::store::Change::XcomValue {
                    dag_id: Arc::clone(&self.run.dag_id),
                    run_id: self.run.run_id.as_str().into(),
                    task_id: Arc::clone(&self.task_id),
                    map_path: self
                        .map_path
                        .as_deref()
                        .map(<[u32]>::to_vec)
                        .unwrap_or_default(),
                    key: key.into(),
                    type_name: std::any::type_name::<T>(),
                    value: json,
                });
            }
        }
        self.run.push(
            &self.task_id,
            self.map_path.as_deref(),
            key,
            Arc::new(value),
        );
    }

    /// A side value pushed by `task_id` under `key`. Values pushed by upstream tasks are
    /// always there; from other tasks, only if they ran first.
    pub fn xcom_pull<T: Clone + serde::de::DeserializeOwned + 'static>(
        &self,
        task_id: &str,
        key: &str,
    ) -> Result<T> {
        let value = self.side_value(task_id, key)?;
        if value.downcast_ref::<Mutex<MappedPushes>>().is_some() {
            return Err(Error::XcomMissing {
                task_id: task_id.to_owned(),
                reason: format!(
                    "it is mapped and each instance pushed under the key `{key}`: read them with xcom_pull_mapped"
                ),
            });
        }
        typed(&*value, task_id, key)
    }

    /// The side values the instances of mapped task `task_id` pushed under `key`, in
    /// map-index order (instances that pushed none left out), as Airflow's `xcom_pull` of a
    /// mapped task gives them.
    ///
    /// ```
    /// use taskflow::prelude::*;
    ///
    /// #[task]
    /// fn measure(ctx: &Context, word: String) -> usize {
    ///     ctx.xcom_push("upper", word.to_uppercase());
    ///     word.len()
    /// }
    ///
    /// #[task]
    /// fn gather(ctx: &Context, _lengths: Vec<usize>) -> Vec<String> {
    ///     ctx.xcom_pull_mapped::<String>("measure", "upper").unwrap()
    /// }
    ///
    /// let report = Dag::build("pushes", || {
    ///     gather(measure::expand(each(vec!["a".to_owned(), "b".to_owned()])));
    /// })?
    /// .test()?;
    /// assert_eq!(report.xcom::<Vec<String>>("gather")?, ["A", "B"]);
    /// # Ok::<(), taskflow::Error>(())
    /// ```
    pub fn xcom_pull_mapped<T: Clone + serde::de::DeserializeOwned + 'static>(
        &self,
        task_id: &str,
        key: &str,
    ) -> Result<Vec<T>> {
        let value = self.side_value(task_id, key)?;
        let Some(pushes) = value.downcast_ref::<Mutex<MappedPushes>>() else {
            return Err(Error::XcomMissing {
                task_id: task_id.to_owned(),
                reason: format!("it is not mapped: read its value under `{key}` with xcom_pull"),
            });
        };
        let pushes = pushes.lock().unwrap_or_else(|e| e.into_inner());
        pushes
            .0
            .values()
            .map(|value| typed(&**value, task_id, key))
            .collect()
    }

    /// What `task_id` pushed under `key`, as it is kept.
    fn side_value(&self, task_id: &str, key: &str) -> Result<Arc<dyn Any + Send + Sync>> {
        let values = self
            .run
            .side_values
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        values
            .get(&(task_id.to_owned(), key.to_owned()))
            .cloned()
            .ok_or_else(|| Error::XcomMissing {
                task_id: task_id.to_owned(),
                reason: format!("nothing was pushed under the key `{key}`"),
            })
    }
}

/// The side values the instances of one mapped task pushed under one key, by map path.
#[derive(Default)]
struct MappedPushes(std::collections::BTreeMap<Vec<u32>, Arc<dyn Any + Send + Sync>>);

/// A side value as a `T`, or an error naming the task and key.
fn typed<T: Clone + serde::de::DeserializeOwned + 'static>(
    value: &(dyn Any + Send + Sync),
    task_id: &str,
    key: &str,
) -> Result<T> {
    if let Some(StoredPush(json)) = value.downcast_ref::<StoredPush>() {
        return serde_json::from_value(json.clone()).map_err(|error| Error::XcomType {
            task_id: task_id.to_owned(),
            requested: std::any::type_name::<T>().to_owned(),
            actual: format!("stored value under the key `{key}` that does not decode: {error}"),
        });
    }
    value
        .downcast_ref::<T>()
        .cloned()
        .ok_or_else(|| Error::XcomType {
            task_id: task_id.to_owned(),
            requested: std::any::type_name::<T>().to_owned(),
            actual: format!("value of another type under the key `{key}`"),
        })
}

/// The type of a `&Context` task parameter, injected rather than wired: taskflow's
/// [`Context`] only. A `&Context` parameter naming another type called `Context` is an error
/// that says to write its path, which makes it an ordinary argument.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "a `&Context` task parameter is the injected `taskflow::Context`, and this `{Self}` is another type",
    label = "not `taskflow::Context`",
    note = "to take a value of your own `Context` type as an argument, write its path: `&my_module::Context`"
)]
pub trait InjectedContext {
    /// The parameter's view of the try's context.
    fn from_context(context: &Context) -> &Self;
}

impl InjectedContext for Context {
    fn from_context(context: &Context) -> &Self {
        context
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("dag_id", &self.dag_id())
            .field("run_id", &self.run_id())
            .field("task_id", &self.task_id())
            .field("try_number", &self.try_number)
            .finish()
    }
}
