//! Resuming a stored run ([`RunOptions::resume`](crate::RunOptions::resume)): what its
//! store kept is laid over the DAG before anything runs. A task that finished keeps its
//! state and gives its stored value to its downstream tasks without running; the others
//! run, their try numbers going on from the stored ones.
//!
//! A restored task goes through the run like any other (queued when its trigger rule says
//! so), and ends at once in its stored state when its turn comes, so that the rest of the
//! executor does not tell resumed runs apart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::run::{RunState, Step};
use crate::dag::{DagInner, Features, Input};
use crate::store::{Change, InstanceId, Store, StoredInstance, StoredRun};
use crate::xcom::Value;
use crate::{Error, Result, TaskState};

/// How many times a try may be interrupted (its process ended while it ran) before the
/// instance fails instead of running again: a task that kills its process each time.
pub(crate) const MAX_INTERRUPTIONS: u32 = 3;

/// A map with a fast hasher, for the many tasks of a stored run.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The stored instances of one task: one (the common case, kept without a map of its own),
/// or several by map path (a mapped task's).
enum Paths {
    One(StoredInstance),
    Many(FastMap<Vec<u32>, StoredInstance>),
}

impl Paths {
    fn get(&self, map_path: &[u32]) -> Option<&StoredInstance> {
        match self {
            Paths::One(instance) => (instance.map_path == map_path).then_some(instance),
            Paths::Many(instances) => instances.get(map_path),
        }
    }

    fn add(&mut self, instance: StoredInstance) {
        if let Paths::One(first) = self {
            let mut many = FastMap::default();
            let first = std::mem::replace(
                first,
                StoredInstance {
                    task_id: String::new(),
                    map_path: Vec::new(),
                    state: TaskState::None,
                    try_number: 0,
                    uncounted_tries: 0,
                    interrupted: 0,
                    running_try: None,
                    error: None,
                    value: None,
                    pushes: Vec::new(),
                },
            );
            many.insert(first.map_path.clone(), first);
            *self = Paths::Many(many);
        }
        if let Paths::Many(many) = self {
            many.insert(instance.map_path.clone(), instance);
        }
    }
}

/// What a store kept of the run being resumed, by task id and map path.
pub(crate) struct Resumed {
    instances: FastMap<String, Paths>,
    /// The instances that pushed side values, by task id: their map paths.
    pushed: HashMap<String, Vec<Vec<u32>>>,
    /// What resuming decided that a report should say (a task run again, a changed DAG).
    notes: Mutex<Vec<String>>,
}

/// What one run (or the run of a mapped task's instances) restores of its tasks.
pub(crate) struct Restore {
    resumed: Arc<Resumed>,
    /// Per task: its stored outcome if it keeps it, until it is restored.
    restored: Box<[Mutex<Option<Restored>>]>,
    /// Per task that runs again: its stored tries, and how many of them do not count
    /// against its retries.
    tries: FastMap<u32, (u32, u32)>,
}

/// A task's stored outcome: its state, tries, error and value (one, or one per part), and
/// the side values it (or its instances) pushed: task id, map path, key, value.
struct Restored {
    state: TaskState,
    tries: u32,
    error: Option<String>,
    values: Vec<Value>,
    pushes: Vec<(String, Vec<u32>, String, serde_json::Value)>,
}

/// The key of the value a task returned, among its XComs.
const RETURN_VALUE: &str = "return_value";

impl Resumed {
    /// Loads run `run_id` of `dag` from `store`: what it kept, the run's record, and the
    /// changes resuming writes first (tries the crash interrupted, instances that fail for
    /// too many interruptions, tasks no longer in the DAG).
    pub(crate) fn load(
        store: &dyn Store,
        dag: &DagInner,
        run_id: &str,
    ) -> Result<(Arc<Self>, StoredRun, Vec<Change>)> {
        let Some(mut stored) = store.load_run(&dag.dag_id, run_id)? else {
            return Err(Error::NoStoredRun {
                dag_id: dag.dag_id.to_string(),
                run_id: run_id.to_owned(),
            });
        };
        let mut changes = Vec::new();
        let mut notes = Vec::new();
        let fingerprint = dag.fingerprint();
        if stored
            .fingerprint
            .as_ref()
            .is_some_and(|kept| *kept != fingerprint)
        {
            notes.push(format!(
                "the DAG changed since run `{run_id}` was stored: new tasks run, tasks no longer \
                 in it are removed"
            ));
        }
        let id = |instance: &StoredInstance| {
            InstanceId::new(
                &*dag.dag_id,
                run_id,
                &instance.task_id,
                instance.map_path.clone(),
            )
        };
        for instance in &mut stored.instances {
            if let Some(try_number) = instance.running_try {
                changes.push(Change::TryInterrupted {
                    instance: id(instance),
                    try_number,
                });
                instance.interrupted += 1;
                instance.uncounted_tries += 1;
                if instance.interrupted >= MAX_INTERRUPTIONS {
                    let note = format!(
                        "interrupted {} times: the process running it ended during each of its \
                         last {} tries, so it is not run again",
                        instance.interrupted, instance.interrupted
                    );
                    changes.push(Change::SetState {
                        instance: id(instance),
                        state: TaskState::Failed,
                        note: Some(note.clone()),
                    });
                    instance.state = TaskState::Failed;
                    instance.error = Some(note);
                }
            }
            if instance.state != TaskState::Removed && !in_dag(dag, &instance.task_id) {
                changes.push(Change::SetState {
                    instance: id(instance),
                    state: TaskState::Removed,
                    note: Some("the task is no longer in the DAG".to_owned()),
                });
                instance.state = TaskState::Removed;
            }
        }
        let mut pushed: HashMap<String, Vec<Vec<u32>>> = HashMap::new();
        for instance in &stored.instances {
            if !instance.pushes.is_empty() {
                pushed
                    .entry(instance.task_id.clone())
                    .or_default()
                    .push(instance.map_path.clone());
            }
        }
        let mut instances: FastMap<String, Paths> =
            FastMap::with_capacity_and_hasher(stored.instances.len(), Default::default());
        for instance in std::mem::take(&mut stored.instances) {
            match instances.get_mut(&instance.task_id) {
                Some(paths) => paths.add(instance),
                None => {
                    instances.insert(instance.task_id.clone(), Paths::One(instance));
                }
            }
        }
        let resumed = Self {
            instances,
            pushed,
            notes: Mutex::new(notes),
        };
        Ok((Arc::new(resumed), stored, changes))
    }

    /// For a test of task `target` alone (Airflow's `tasks test`): the tasks upstream of it
    /// keep what `stored` kept of them (or run, without a stored run), `target` runs, and
    /// every other task ends at once as skipped, without running.
    pub(crate) fn for_task_test(
        dag: &DagInner,
        target: u32,
        stored: Option<Arc<Self>>,
    ) -> Arc<Self> {
        let mut needed = vec![false; dag.nodes.len()];
        needed[target as usize] = true;
        for node in reverse_topological(dag) {
            if dag
                .plan
                .downstream(node)
                .iter()
                .any(|&down| needed[down as usize])
            {
                needed[node as usize] = true;
            }
        }
        let (mut instances, pushed) = match stored.map(Arc::try_unwrap) {
            Some(Ok(stored)) => (stored.instances, stored.pushed),
            _ => (FastMap::default(), HashMap::new()),
        };
        instances.remove(&*dag.task_id(target));
        for node in 0..dag.nodes.len() as u32 {
            if needed[node as usize] {
                continue;
            }
            let task_id = dag.task_id(node).into_owned();
            let skipped = StoredInstance {
                task_id: task_id.clone(),
                map_path: Vec::new(),
                state: TaskState::Skipped,
                try_number: 0,
                uncounted_tries: 0,
                interrupted: 0,
                running_try: None,
                error: Some(format!(
                    "not run: a test of task `{}` alone",
                    dag.task_id(target)
                )),
                value: None,
                pushes: Vec::new(),
            };
            instances.insert(task_id, Paths::One(skipped));
        }
        Arc::new(Self {
            instances,
            pushed,
            notes: Mutex::new(Vec::new()),
        })
    }

    /// What the report says about resuming.
    pub(crate) fn notes(&self) -> Vec<String> {
        self.notes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The side values pushed by `task_id` at `map_path`, and for a mapped task (`whole`),
    /// by its instances and the tasks of its copies (a mapped group's `group.task`).
    fn pushes(
        &self,
        task_id: &str,
        map_path: &[u32],
        whole: bool,
    ) -> Vec<(String, Vec<u32>, String, serde_json::Value)> {
        let mut pushes = Vec::new();
        let of = |task: &str, path: &[u32], pushes: &mut Vec<_>| {
            let instance = self.instances.get(task).and_then(|paths| paths.get(path));
            for (key, _, value) in instance.map_or(&[][..], |i| &i.pushes[..]) {
                pushes.push((task.to_owned(), path.to_vec(), key.clone(), value.clone()));
            }
        };
        if !whole {
            if self.pushed.contains_key(task_id) {
                of(task_id, map_path, &mut pushes);
            }
            return pushes;
        }
        for (task, paths) in &self.pushed {
            let ours = task == task_id
                || task
                    .strip_prefix(task_id)
                    .is_some_and(|rest| rest.starts_with('.'));
            if !ours {
                continue;
            }
            for path in paths {
                if path.len() > map_path.len() && path.starts_with(map_path) {
                    of(task, path, &mut pushes);
                }
            }
        }
        pushes
    }

    fn note(&self, note: String) {
        self.notes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(note);
    }
}

/// Whether `task_id` is a task of `dag`, or of a mapped group of it (`group.task`).
fn in_dag(dag: &DagInner, task_id: &str) -> bool {
    if dag.node(task_id).is_ok() {
        return true;
    }
    dag.mappings.iter().any(|(node, spec)| {
        spec.template.is_some()
            && task_id
                .strip_prefix(&*dag.task_id(*node))
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

/// Whether a stored state is one a task ends in (so that it keeps it on resume).
fn finished(state: TaskState) -> bool {
    matches!(
        state,
        TaskState::Success | TaskState::Failed | TaskState::Skipped | TaskState::UpstreamFailed
    )
}

/// Lays what `resumed` kept over the tasks of `dag` (whose task `node` has map path
/// `path(node)`): the tasks that keep their outcome are marked restored in its plan.
/// `instances`: the tasks are a mapped task's instances, whose values are all collected
/// (so one without a stored value runs again). An error if a stored value no longer decodes
/// as its task's type.
pub(crate) fn restore_tasks(
    dag: &mut DagInner,
    path: impl Fn(u32) -> Vec<u32>,
    resumed: &Arc<Resumed>,
    instances: bool,
) -> Result<Option<Box<Restore>>> {
    // By node: a map of 100k outcomes would hash each and move them all as it grows.
    let mut restored: Vec<Option<Restored>> = (0..dag.nodes.len()).map(|_| None).collect();
    // Successes without a stored value: run again if a task that runs needs it.
    let mut without_value = FastMap::default();
    let mut tries = FastMap::default();
    for node in 0..dag.nodes.len() as u32 {
        let task_id = dag.task_id_shared(node);
        let map_path = path(node);
        let stored = resumed
            .instances
            .get(&*task_id)
            .and_then(|paths| paths.get(&map_path));
        let Some(stored) = stored else {
            continue;
        };
        if !finished(stored.state) {
            tries.insert(node, (stored.try_number, stored.uncounted_tries));
            continue;
        }
        let values = if stored.state == TaskState::Success {
            decoded(dag, node, stored)?
        } else {
            Some(Vec::new())
        };
        let whole = dag.mapping(node).is_some();
        let has_value = values.is_some();
        let outcome = Restored {
            state: stored.state,
            tries: stored.try_number,
            error: stored.error.clone(),
            values: values.unwrap_or_default(),
            pushes: resumed.pushes(&task_id, &map_path, whole),
        };
        match has_value {
            true => restored[node as usize] = Some(outcome),
            false if instances => {
                resumed.note(rerun_note(&task_id, &map_path, None));
                tries.insert(node, (stored.try_number, stored.try_number));
            }
            false => {
                without_value.insert(node, (outcome, (task_id.to_string(), map_path)));
            }
        }
    }
    // From the last task to the first: a task that runs needs the values it reads, so a
    // success without one it reads runs again (and needs its own inputs in turn).
    for node in reverse_topological(dag) {
        let runs = restored[node as usize].is_none()
            && (!without_value.contains_key(&node) || tries.contains_key(&node));
        if !runs {
            continue;
        }
        for up in value_sources(dag, node) {
            if let Some((outcome, key)) = without_value.get(&up)
                && !tries.contains_key(&up)
            {
                resumed.note(rerun_note(&key.0, &key.1, Some(&dag.task_id(node))));
                tries.insert(up, (outcome.tries, outcome.tries));
            }
        }
    }
    for (node, (outcome, _)) in without_value {
        if !tries.contains_key(&node) {
            restored[node as usize] = Some(outcome);
        }
    }
    for (features, outcome) in dag.plan.features.iter_mut().zip(&restored) {
        if outcome.is_some() {
            *features = features.with(Features::RESTORED, true);
        }
    }
    Ok(Some(Box::new(Restore {
        resumed: Arc::clone(resumed),
        restored: restored.into_iter().map(Mutex::new).collect(),
        tries,
    })))
}

/// What the report says of a success run again for want of its stored value.
fn rerun_note(task_id: &str, map_path: &[u32], reader: Option<&str>) -> String {
    let instance = if map_path.is_empty() {
        format!("task `{task_id}`")
    } else {
        format!("task `{task_id}` {map_path:?}")
    };
    let why = match reader {
        Some(reader) => format!("task `{reader}` needs it"),
        None => "its mapped task collects it".to_owned(),
    };
    format!(
        "{instance} runs again: its stored success has no stored value (its type does not encode \
         as JSON) and {why}"
    )
}

/// The stored value of success `node` as its type: `None` if none was stored (or the type
/// does not decode); an error if it no longer decodes as the task's type.
fn decoded(dag: &DagInner, node: u32, stored: &StoredInstance) -> Result<Option<Vec<Value>>> {
    let Some((stored_type, json)) = stored.xcom(RETURN_VALUE) else {
        return Ok(None);
    };
    let body = dag.nodes[node as usize].body;
    let mismatch = |task_type: &str, reason: String| Error::StoredValue {
        task_id: stored.task_id.clone(),
        stored_type: stored_type.to_owned(),
        task_type: task_type.to_owned(),
        reason,
    };
    if let Some(spec) = dag.mapping(node) {
        return match spec.codec.decode(json.clone()) {
            None => Ok(None),
            Some(Ok(value)) => Ok(Some(vec![value])),
            Some(Err(reason)) => Err(mismatch(spec.codec.type_name(), reason)),
        };
    }
    match body.output_parts() {
        0 => match body.codec(None).decode(json.clone()) {
            None => Ok(None),
            Some(Ok(value)) => Ok(Some(vec![value])),
            Some(Err(reason)) => Err(mismatch(body.output_type(), reason)),
        },
        parts => {
            let elements = json
                .as_array()
                .filter(|array| array.len() == parts as usize);
            let Some(elements) = elements else {
                return Err(mismatch(
                    body.output_type(),
                    format!("expected an array of its {parts} parts"),
                ));
            };
            let mut values = Vec::with_capacity(elements.len());
            for (index, element) in elements.iter().enumerate() {
                match body.codec(Some(index as u32)).decode(element.clone()) {
                    None => return Ok(None),
                    Some(Ok(value)) => values.push(value),
                    Some(Err(reason)) => return Err(mismatch(body.output_type(), reason)),
                }
            }
            Ok(Some(values))
        }
    }
}

/// The tasks whose values `node` reads.
fn value_sources(dag: &DagInner, node: u32) -> Vec<u32> {
    let mut sources = Vec::new();
    for input in &dag.inputs[dag.nodes[node as usize].inputs.start as usize
        ..dag.nodes[node as usize].inputs.end as usize]
    {
        match *input {
            Input::Upstream { node: up, .. } => sources.push(up),
            Input::Gather(gather) => {
                let gather = &dag.gathers[gather as usize];
                sources.extend(gather.sources.iter().map(|&(up, _, _)| up));
            }
            Input::Literal(_) | Input::Missing => {}
        }
    }
    sources
}

/// The tasks of `dag`, each after its downstream tasks (Kahn's order, reversed).
fn reverse_topological(dag: &DagInner) -> Vec<u32> {
    let plan = &dag.plan;
    let mut waiting = plan.upstream_count.clone();
    let mut order: Vec<u32> = plan.roots.clone();
    let mut at = 0;
    while at < order.len() {
        let node = order[at];
        at += 1;
        for &down in plan.downstream(node) {
            let left = &mut waiting[down as usize];
            *left = left.saturating_sub(1);
            if *left == 0 {
                order.push(down);
            }
        }
    }
    order.reverse();
    order
}

impl Restore {
    /// The stored tries of each task that runs again, to go on from.
    pub(crate) fn tries(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.tries.iter().map(|(&node, &(tries, _))| (node, tries))
    }

    /// The tries of `node` that do not count against its retries.
    pub(crate) fn uncounted_tries(&self, node: u32) -> u32 {
        self.tries.get(&node).map_or(0, |&(_, uncounted)| uncounted)
    }

    /// What the store kept of the whole run (for a mapped task's instances).
    pub(crate) fn resumed(&self) -> &Arc<Resumed> {
        &self.resumed
    }

    fn take(&self, node: u32) -> Option<Restored> {
        self.restored
            .get(node as usize)?
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
    }
}

impl RunState {
    /// Restored task `node` takes its turn: it ends at `now` in its stored state, with its
    /// stored value, and its downstream tasks go on as if it had just run.
    #[cold]
    #[inline(never)]
    pub(crate) fn restore_task(self: &Arc<Self>, node: u32, now: u64, step: &mut Step) {
        step.taken = true;
        step.ended_at = Some(now);
        let state = self.put_restored(node, now);
        if state != TaskState::Success || !self.features(node).has(Features::STEERS) {
            return self.settle(node, state, step);
        }
        // A branch or short-circuit skips again what it skipped (skips may not all have
        // been stored before the process ended).
        let value = self.slots[self.dag.plan.slot(node, 0)].read(true, true);
        let skipped = match value {
            Ok(value) => self.skipped_by(node, &value).unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        self.settle_skipping(node, &skipped, step);
    }

    /// Restored task `node` is decided without running (skipped or upstream_failed by its
    /// upstream tasks): it keeps its stored state, which is returned.
    #[cold]
    pub(crate) fn restore_unrun(&self, node: u32) -> TaskState {
        self.put_restored(node, self.now_nanos())
    }

    /// Puts the stored outcome of `node` in its record and its value in its slots; its
    /// state (failed, with a message, if it was restored already: it cannot be twice).
    fn put_restored(&self, node: u32, now: u64) -> TaskState {
        let restored = self.restore.as_ref().and_then(|restore| restore.take(node));
        let Some(restored) = restored else {
            let message = "internal error: a restored task was restored twice".to_owned();
            self.records
                .restore(node, TaskState::Failed, 0, now, Some(message));
            return TaskState::Failed;
        };
        let plan = &self.dag.plan;
        match restored.values.len() {
            0 => {}
            1 if self.dag.nodes[node as usize].body.output_parts() == 0 => {
                if let Some(value) = restored.values.into_iter().next() {
                    self.slots[plan.slot(node, 0)].put(value);
                }
            }
            _ => {
                for (index, value) in restored.values.into_iter().enumerate() {
                    self.slots[plan.slot(node, index as u32 + 1)].put(value);
                }
            }
        }
        for (task_id, path, key, value) in restored.pushes {
            let path = (!path.is_empty()).then_some(path.as_slice());
            let value = Arc::new(crate::task::context::StoredPush(value));
            self.info.push(&task_id, path, &key, value);
        }
        self.records
            .restore(node, restored.state, restored.tries, now, restored.error);
        restored.state
    }

    /// The tries of `node` that do not count against its retries (interrupted tries, and
    /// those before it was cleared, of a resumed run).
    #[inline]
    pub(crate) fn uncounted_tries(&self, node: u32) -> u32 {
        self.restore
            .as_ref()
            .map_or(0, |restore| restore.uncounted_tries(node))
    }

    /// What the report says about resuming this run.
    pub(crate) fn resume_notes(&self) -> Vec<String> {
        self.restore
            .as_ref()
            .map_or_else(Vec::new, |restore| restore.resumed.notes())
    }
}
