//! The one way a task instance or a run changes state: each change updates the run's
//! records here and, when someone observes the run, tells its listeners (as an
//! [`Event`]) and its `tracing` subscriber (as spans and events). A run nobody observes
//! pays one branch per change.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tracing::{Dispatch, Span};

use super::record::PastTry;
use super::run::{RunState, Step, TellOnce};
use crate::events::{DagRunEvent, Delivery, Event, Listeners, TaskInstanceEvent, WarningEvent};
use crate::store::{Change, StoreSink};
use crate::{DagRunState, TaskError, TaskState};

/// How long the end of a run waits for its listeners to hear all its events.
const DELIVERY_WAIT: Duration = Duration::from_secs(5);

/// How long the end of a run waits for its store to write all its changes.
pub(crate) const STORE_WAIT: Duration = Duration::from_secs(60);

/// Who observes a run: its listeners and the `tracing` subscriber of the thread that
/// started it.
pub(crate) struct Observer {
    listeners: Listeners,
    /// Where the listeners' events go; `None` without listeners.
    delivery: Option<Delivery>,
    /// The subscriber in place when the run was made, if any: the run's spans and events
    /// go to it whichever thread they happen on.
    dispatch: Option<Dispatch>,
    /// The run's span, until the run ends.
    run_span: Mutex<Option<Span>>,
    run_id: Arc<str>,
    dropped: AtomicU64,
    /// The writer to the run's store, if it has one.
    store: Option<StoreSink>,
    /// Why the store could not keep the run, once a write failed.
    store_error: std::sync::OnceLock<String>,
}

/// What the caller of a run wants to hear of it.
pub(crate) struct Audience {
    pub(crate) listeners: Listeners,
    /// Gives the delivery queue for the listeners; only called if there are some.
    pub(crate) delivery: Box<dyn FnOnce() -> Option<Delivery>>,
}

impl Observer {
    /// The observer of a run, or `None` if nobody listens and no subscriber is in place.
    pub(crate) fn new(
        audience: Audience,
        run_id: &str,
        store: Option<(crate::store::Writer, crate::store::Durability)>,
    ) -> Option<Box<Self>> {
        let dispatch = tracing::dispatcher::get_default(|dispatch| {
            (!dispatch.is::<tracing::subscriber::NoSubscriber>()).then(|| dispatch.clone())
        });
        let delivery = if audience.listeners.is_empty() {
            None
        } else {
            (audience.delivery)()
        };
        if dispatch.is_none() && delivery.is_none() && store.is_none() {
            return None;
        }
        Some(Box::new(Self {
            listeners: audience.listeners,
            delivery,
            dispatch,
            run_span: Mutex::new(None),
            run_id: run_id.into(),
            dropped: AtomicU64::new(0),
            store: store.map(|(writer, durability)| StoreSink::on(&writer, durability)),
            store_error: std::sync::OnceLock::new(),
        }))
    }

    /// The observer of the instances of a mapped task of the run: the same listeners,
    /// subscriber and run span.
    pub(crate) fn for_instances(&self) -> Box<Self> {
        Box::new(Self {
            listeners: self.listeners.clone(),
            delivery: self.delivery.clone(),
            dispatch: self.dispatch.clone(),
            run_span: Mutex::new(Some(self.run_span())),
            run_id: Arc::clone(&self.run_id),
            dropped: AtomicU64::new(0),
            store: self.store.clone(),
            store_error: std::sync::OnceLock::new(),
        })
    }

    /// The writer to the run's store, if it has one.
    pub(crate) fn store_sink(&self) -> Option<StoreSink> {
        self.store.clone()
    }

    /// Keeps `error`, which kept the store from writing the run's changes, for the report
    /// (the first one).
    pub(crate) fn keep_store_error(&self, error: String) {
        let _ = self.store_error.set(error);
    }

    /// Waits until the store has every change of the run sent so far; the error that kept it
    /// from writing them, if one did (kept for the report).
    pub(crate) fn flush_store(&self) {
        if let Some(error) = self
            .store
            .as_ref()
            .and_then(|store| store.flush(STORE_WAIT))
        {
            let _ = self.store_error.set(error);
        }
    }

    /// Whether listeners hear the run.
    pub(crate) fn has_listeners(&self) -> bool {
        self.delivery.is_some()
    }

    /// Runs `work` with the run's subscriber as the thread's default.
    pub(crate) fn traced<R>(&self, work: impl FnOnce() -> R) -> Option<R> {
        let dispatch = self.dispatch.as_ref()?;
        Some(tracing::dispatcher::with_default(dispatch, work))
    }

    fn send(&self, event: Event) {
        let Some(store) = &self.store else {
            return self.deliver(event);
        };
        match event {
            // A queued instance is, to a store, one that has not started: nothing to keep.
            Event::TaskInstance(ti) if ti.state == TaskState::Queued => {
                self.deliver(Event::TaskInstance(ti));
            }
            Event::TaskInstance(ti) => {
                // Per task: a try's start is written before its body runs, its end before
                // its downstream tasks start.
                let flush = store.per_task() && ti.try_number > 0;
                if self.delivery.is_some() {
                    store.send(Change::TaskInstance(ti.clone()));
                    self.deliver(Event::TaskInstance(ti));
                } else {
                    store.send(Change::TaskInstance(ti)); // nobody else hears it
                }
                if flush {
                    self.flush_store();
                }
            }
            Event::DagRun(run) => {
                store.send(Change::DagRun(run.clone()));
                self.deliver(Event::DagRun(run));
            }
            event @ Event::Warning(_) => self.deliver(event),
        }
    }

    /// Hands `event` to the run's listeners, if it has any.
    fn deliver(&self, event: Event) {
        if let Some(delivery) = &self.delivery
            && !delivery.send(&self.listeners, event)
        {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn run_span(&self) -> Span {
        self.run_span
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
            .unwrap_or_else(Span::none)
    }
}

impl RunState {
    /// Events dropped because the listeners' queue was full.
    pub(crate) fn dropped_events(&self) -> u64 {
        self.observer
            .as_ref()
            .map_or(0, |observer| observer.dropped.load(Ordering::Relaxed))
    }

    /// `node` is queued to run.
    #[inline]
    pub(crate) fn mark_queued(&self, node: u32) {
        self.records.set_state(node, TaskState::Queued);
        if let Some(observer) = &self.observer {
            self.tell_task(observer, node, TaskState::Queued, None);
        }
    }

    /// `node` runs next in place of its only upstream task, on the same thread: queued for
    /// whoever observes the run, while its record goes straight to running.
    #[inline]
    pub(crate) fn mark_queued_in_place(&self, node: u32) {
        if let Some(observer) = &self.observer {
            self.tell_task(observer, node, TaskState::Queued, None);
        }
    }

    /// A new try of `node` starts at `now`; its number.
    #[inline]
    pub(crate) fn start_try(&self, node: u32, now: u64) -> u32 {
        let try_number = self.records.begin_try(node, now);
        if let Some(observer) = &self.observer {
            self.open_try_span(observer, node, try_number);
            self.tell_task(observer, node, TaskState::Running, None);
        }
        try_number
    }

    /// A rescheduled sensor's try goes on at `now` with its next check; its number.
    pub(crate) fn resume_try(&self, node: u32, now: u64) -> u32 {
        self.records.with_extra(node, |extra| {
            extra.resumed_at = Some(Duration::from_nanos(now));
        });
        self.records.set_state(node, TaskState::Running);
        if let Some(observer) = &self.observer {
            self.tell_task(observer, node, TaskState::Running, None);
        }
        self.records.tries(node)
    }

    /// The try in flight of `node` ends in `state`, with its error; `step` learns when.
    #[inline]
    pub(crate) fn finish_try(
        &self,
        node: u32,
        state: TaskState,
        error: Option<&TaskError>,
        step: &mut Step,
    ) {
        let now = self.now_nanos();
        step.ended_at = Some(now);
        if error.is_none() && state == TaskState::Success && self.observer.is_none() {
            return self.records.end_try(node, state, now, None); // the plain path
        }
        self.finish_try_told(node, state, error, now);
    }

    /// [`RunState::finish_try`] for a try that failed, or whose run is observed.
    #[inline(never)]
    fn finish_try_told(&self, node: u32, state: TaskState, error: Option<&TaskError>, now: u64) {
        let message = error.map(|error| format!("{error:#}"));
        if state == TaskState::UpForRetry {
            self.keep_past_try(node, state, now);
        }
        self.records.end_try(node, state, now, message.clone());
        if let Some(observer) = &self.observer {
            if state == TaskState::Success && observer.store.is_some() {
                self.store_value(observer, node);
            }
            self.tell_task(observer, node, state, message.as_deref());
            self.close_try_span(observer, node, state, message.as_deref());
        }
    }

    /// Sends the value `node` just returned to the run's store, if it encodes as JSON (its
    /// success is sent after it, so a stored success always has its value).
    #[cold]
    fn store_value(&self, observer: &Observer, node: u32) {
        let Some(store) = &observer.store else {
            return;
        };
        if let Some((type_name, value)) = self.encoded_value(node) {
            store.send(Change::XcomValue {
                dag_id: Arc::clone(&self.info.dag_id),
                run_id: Arc::clone(&observer.run_id),
                task_id: self.dag.task_id_shared(node),
                map_path: self.map_path(node),
                key: Arc::clone(&crate::store::RETURN_VALUE),
                type_name,
                value,
            });
        }
    }

    /// The value of `node` in its slot as JSON, with its type's name: for a
    /// `multiple_outputs` task the array of its parts. `None` if it has none or it does not
    /// encode (a panic in its `Serialize` included).
    fn encoded_value(&self, node: u32) -> Option<(&'static str, serde_json::Value)> {
        let body = self.dag.nodes[node as usize].body;
        let encode = |part: u32, codec: crate::codec::Codec| {
            let value = match &*self.slots[self.dag.plan.slot(node, part)].lock() {
                crate::executor::SlotValue::Ready(value) => value.clone(),
                _ => return None,
            };
            crate::quiet::catch(|| codec.encode(&value))
                .ok()
                .flatten()
                .and_then(Result::ok)
        };
        if let Some(spec) = self.dag.mapping(node) {
            return Some((spec.codec.type_name(), encode(0, spec.codec)?));
        }
        match body.output_parts() {
            0 => Some((body.output_type(), encode(0, body.codec(None))?)),
            parts => {
                let encoded = (0..parts)
                    .map(|index| encode(index + 1, body.codec(Some(index))))
                    .collect::<Option<Vec<_>>>()?;
                Some((body.output_type(), serde_json::Value::Array(encoded)))
            }
        }
    }

    /// Why the run's store could not keep it, if a write failed.
    pub(crate) fn store_error(&self) -> Option<String> {
        self.observer
            .as_ref()
            .and_then(|observer| observer.store_error.get().cloned())
    }

    /// Mapped task `node` starts expanding at `now`: it runs while its instances do (each
    /// instance has tries of its own; the mapped task has none).
    pub(crate) fn start_mapped(&self, node: u32, now: u64) {
        self.records.begin_expansion(node, now);
    }

    /// Counts events the instances of a mapped task dropped as this run's.
    pub(crate) fn add_dropped_events(&self, dropped: u64) {
        if let Some(observer) = &self.observer {
            observer.dropped.fetch_add(dropped, Ordering::Relaxed);
        }
    }

    /// The map index of `node` in its run: `Some` for an instance of a mapped task.
    #[inline]
    pub(crate) fn map_index(&self, node: u32) -> Option<u32> {
        self.mapped.as_ref().map(|mapped| mapped.map_index(node))
    }

    /// The map indexes of `node`, outermost first: empty for a task that is not mapped.
    pub(crate) fn map_path(&self, node: u32) -> Vec<u32> {
        self.mapped
            .as_ref()
            .map_or_else(Vec::new, |mapped| mapped.map_path(node))
    }

    /// A sensor in reschedule mode gives back its slots until its next check.
    pub(crate) fn reschedule_try(&self, node: u32) {
        let now = self.now_nanos();
        self.keep_past_try(node, TaskState::UpForReschedule, now);
        self.records.set_state(node, TaskState::UpForReschedule);
        if let Some(observer) = &self.observer {
            self.tell_task(observer, node, TaskState::UpForReschedule, None);
        }
    }

    /// `node` ends in `state` (skipped, upstream_failed) without running.
    #[inline]
    pub(crate) fn end_unrun(&self, node: u32, state: TaskState) -> TaskState {
        if self.features(node).has(crate::dag::Features::RESTORED) {
            return self.restore_unrun(node);
        }
        if self.features(node).has(crate::dag::Features::MAPPED) {
            self.keep_empty_collection(node);
        }
        self.records.end(node, state, self.now_nanos());
        if let Some(observer) = &self.observer {
            self.tell_task(observer, node, state, None);
        }
        state
    }

    /// Tells the listeners of a warning about `node` (a large value).
    #[cold]
    pub(crate) fn tell_warning(&self, node: u32, message: String) {
        if let Some(observer) = &self.observer {
            observer.send(Event::Warning(WarningEvent {
                dag_id: Arc::clone(&self.info.dag_id),
                run_id: Arc::clone(&observer.run_id),
                task_id: self.dag.task_id_shared(node),
                timestamp: self.date_at(self.now()),
                message,
            }));
        }
    }

    /// The run starts: its span opens and its listeners hear it.
    pub(crate) fn mark_run_started(&self) {
        let Some(observer) = &self.observer else {
            return;
        };
        let info = &self.info;
        let span = observer.traced(|| {
            tracing::info_span!(
                target: "taskflow",
                "dag_run",
                dag_id = %info.dag_id,
                run_id = %info.run_id,
                logical_date = %info.logical_date.to_rfc3339(),
                otel.status_code = tracing::field::Empty,
            )
        });
        *observer
            .run_span
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = span;
        observer.traced(|| {
            tracing::info!(
                target: "taskflow",
                parent: &observer.run_span(),
                dag_id = %info.dag_id,
                run_id = %info.run_id,
                "dag run `{}` of `{}` running",
                info.run_id,
                info.dag_id
            )
        });
        observer.send(Event::DagRun(self.run_event(DagRunState::Running)));
        if let Some(store) = &observer.store {
            store.send(Change::DagRunConf {
                dag_id: info.dag_id.to_string(),
                run_id: info.run_id.clone(),
                run_type: run_type(&info.run_id).to_owned(),
                params: info.params.clone(),
                fingerprint: self.dag.fingerprint(),
            });
        }
    }

    /// The run ended: its listeners hear how, and its span closes.
    pub(crate) fn mark_run_ended(&self) {
        let Some(observer) = &self.observer else {
            return;
        };
        let state = if self.has_failures() {
            DagRunState::Failed
        } else {
            DagRunState::Success
        };
        let info = &self.info;
        let span = observer
            .run_span
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        observer.traced(|| {
            let span = span.unwrap_or_else(Span::none);
            if state == DagRunState::Failed {
                span.record("otel.status_code", "ERROR");
                tracing::error!(target: "taskflow", parent: &span, dag_id = %info.dag_id,
                    run_id = %info.run_id, state = "failed",
                    "dag run `{}` of `{}` failed", info.run_id, info.dag_id);
            } else {
                tracing::info!(target: "taskflow", parent: &span, dag_id = %info.dag_id,
                    run_id = %info.run_id, state = "success",
                    "dag run `{}` of `{}` succeeded", info.run_id, info.dag_id);
            }
            drop(span);
        });
        observer.send(Event::DagRun(self.run_event(state)));
    }

    /// Calls `tell` once the listeners heard every event of the run so far, or after
    /// [`DELIVERY_WAIT`] if they are slower; at once without listeners.
    pub(crate) fn after_delivery(self: &Arc<Self>, tell: fn(&Arc<RunState>)) {
        let Some(delivery) = self.observer.as_ref().and_then(|o| o.delivery.clone()) else {
            return tell(self);
        };
        let once = TellOnce::new(self);
        let delivered = once.clone();
        delivery.then(move || {
            if let Some(run) = delivered.take() {
                tell(&run);
            }
        });
        drop(self.handle.spawn(async move {
            tokio::time::sleep(DELIVERY_WAIT).await;
            if let Some(run) = once.take() {
                tracing::warn!(
                    "the listeners of dag run `{}` of `{}` did not hear all its events within {DELIVERY_WAIT:?}; the run is reported done, its events follow",
                    run.info.run_id,
                    run.dag.dag_id
                );
                tell(&run);
            }
        }));
    }

    /// The try span of `node` (or the run's, or none), for the body to run in.
    pub(crate) fn in_try_span<R>(&self, node: u32, body: impl FnOnce() -> R) -> R {
        match self.observer.as_ref().and_then(|o| o.dispatch.as_ref()) {
            None => body(),
            Some(dispatch) => {
                let span = self.try_span(node);
                tracing::dispatcher::with_default(dispatch, || span.in_scope(body))
            }
        }
    }

    /// An async body's future, in the try span of `node` with the run's subscriber.
    pub(crate) fn future_in_try_span(
        &self,
        node: u32,
        future: crate::task::body::BoxFuture,
    ) -> crate::task::body::BoxFuture {
        use tracing::instrument::{Instrument, WithSubscriber};
        match self.observer.as_ref().and_then(|o| o.dispatch.as_ref()) {
            None => future,
            Some(dispatch) => Box::pin(
                future
                    .instrument(self.try_span(node))
                    .with_subscriber(dispatch.clone()),
            ),
        }
    }

    fn try_span(&self, node: u32) -> Span {
        self.records
            .read_extra(node, |extra| extra.and_then(|extra| extra.span.clone()))
            .unwrap_or_else(Span::none)
    }

    #[cold]
    fn open_try_span(&self, observer: &Observer, node: u32, try_number: u32) {
        let Some(span) = observer.traced(|| {
            tracing::info_span!(
                target: "taskflow",
                parent: &observer.run_span(),
                "task_instance",
                dag_id = %self.info.dag_id,
                run_id = %self.info.run_id,
                task_id = %self.dag.task_id(node),
                try_number = i64::from(try_number),
                map_index = self.map_index(node).map_or(-1, i64::from),
                otel.status_code = tracing::field::Empty,
                otel.status_description = tracing::field::Empty,
            )
        }) else {
            return;
        };
        self.records
            .with_extra(node, |extra| extra.span = Some(span));
    }

    #[cold]
    fn close_try_span(
        &self,
        observer: &Observer,
        node: u32,
        state: TaskState,
        error: Option<&str>,
    ) {
        // A try without a span (no subscriber) has no extras to make for it.
        let span = self
            .records
            .with_existing_extra(node, |extra| extra.span.take())
            .flatten();
        if let Some(span) = span {
            if state == TaskState::Failed || state == TaskState::UpForRetry {
                span.record("otel.status_code", "ERROR");
                span.record("otel.status_description", error.unwrap_or(state.as_str()));
            }
            observer.traced(|| drop(span));
        }
    }

    /// Tells the listeners and the subscriber that `node` entered `state`.
    #[cold]
    #[inline(never)]
    fn tell_task(&self, observer: &Observer, node: u32, state: TaskState, error: Option<&str>) {
        if self.features(node).has(crate::dag::Features::RESTORED) {
            return; // it keeps its stored state: nothing changes
        }
        let try_number = self.records.tries(node);
        observer.traced(|| {
            let span = match self.try_span(node) {
                span if span.is_none() => observer.run_span(),
                span => span,
            };
            let (dag_id, run_id) = (&*self.info.dag_id, &*self.info.run_id);
            let task_id = self.dag.task_id(node);
            let error = error.unwrap_or("");
            let state_name = state.as_str();
            macro_rules! say {
                ($level:ident, $($message:tt)+) => {
                    tracing::$level!(target: "taskflow", parent: &span, dag_id, run_id,
                        task_id = %task_id, try_number = i64::from(try_number),
                        state = state_name, $($message)+)
                };
            }
            match state {
                TaskState::Success => say!(info, "task `{task_id}` succeeded"),
                TaskState::Running => say!(info, "task `{task_id}` running, try {try_number}"),
                TaskState::Queued => say!(debug, "task `{task_id}` queued"),
                TaskState::UpForReschedule => say!(info, "task `{task_id}` up for reschedule"),
                TaskState::UpForRetry => {
                    say!(
                        warn,
                        "task `{task_id}` up for retry after try {try_number}: {error}"
                    )
                }
                TaskState::Skipped if error.is_empty() => say!(warn, "task `{task_id}` skipped"),
                TaskState::Skipped => say!(warn, "task `{task_id}` skipped: {error}"),
                TaskState::UpstreamFailed => say!(warn, "task `{task_id}` upstream failed"),
                _ => say!(
                    error,
                    "task `{task_id}` {state_name} on try {try_number}: {error}"
                ),
            }
        });
        // A store keeps no queued states (see `Observer::send`).
        let stored = observer.store.is_some() && state != TaskState::Queued;
        if observer.delivery.is_some() || stored {
            let event = self.task_event(observer, node, state, try_number, error);
            observer.send(Event::TaskInstance(event));
        }
    }

    fn task_event(
        &self,
        observer: &Observer,
        node: u32,
        state: TaskState,
        try_number: u32,
        error: Option<&str>,
    ) -> TaskInstanceEvent {
        let records = &self.records;
        let now = self.now();
        let try_start = records
            .read_extra(node, |extra| {
                extra.and_then(|e| e.retry_starts.back().copied())
            })
            .or_else(|| records.start_time(node));
        let ended = matches!(
            state,
            TaskState::Success
                | TaskState::Failed
                | TaskState::UpForRetry
                | TaskState::Skipped
                | TaskState::UpstreamFailed
        );
        // The time the record keeps, so that the event and the report agree.
        let end = ended.then(|| records.end_time(node).unwrap_or(now));
        let demands = &self.dag.plan.demands;
        TaskInstanceEvent {
            dag_id: Arc::clone(&self.info.dag_id),
            run_id: Arc::clone(&observer.run_id),
            logical_date: self.info.logical_date,
            task_id: self.dag.task_id_shared(node),
            map_index: self.map_index(node),
            map_path: self.map_path(node),
            try_number,
            state,
            timestamp: self.date_at(end.unwrap_or(now)),
            start_date: try_start
                .filter(|_| state != TaskState::Queued)
                .map(|at| self.date_at(at)),
            end_date: end.map(|at| self.date_at(at)),
            priority_weight: self.dag.plan.priorities()[node as usize],
            pool: Arc::clone(&demands.pool_names[demands.pool_of(node) as usize]),
            error: error.map(str::to_owned),
        }
    }

    fn run_event(&self, state: DagRunState) -> DagRunEvent {
        let now = self.date_at(self.end_time().unwrap_or_else(|| self.now()));
        DagRunEvent {
            dag_id: Arc::clone(&self.info.dag_id),
            run_id: self.info.run_id.as_str().into(),
            logical_date: self.info.logical_date,
            state,
            timestamp: now,
            start_date: self.start_date,
            end_date: (state != DagRunState::Running).then_some(now),
            tasks: self.dag.nodes.len(),
        }
    }

    /// The date at `offset` into the run.
    #[inline]
    pub(crate) fn date_at(&self, offset: Duration) -> DateTime<Utc> {
        same_day(self.start_date, offset).unwrap_or_else(|| {
            chrono::Duration::from_std(offset)
                .ok()
                .and_then(|offset| self.start_date.checked_add_signed(offset))
                .unwrap_or(DateTime::<Utc>::MAX_UTC)
        })
    }

    /// Keeps the part of the try in flight that ends now in `state` (a retry, a reschedule)
    /// for the report's history of tries.
    #[cold]
    fn keep_past_try(&self, node: u32, state: TaskState, now: u64) {
        let first = self.records.start_time(node).unwrap_or_default();
        self.records.with_extra(node, |extra| {
            let start = extra
                .resumed_at
                .or_else(|| extra.retry_starts.back().copied())
                .unwrap_or(first);
            extra.keep_past(PastTry {
                try_number: self.records.tries(node),
                start,
                end: Duration::from_nanos(now),
                state,
            });
        });
    }
}

/// Airflow's run type of a run, from its id's prefix (`scheduled__`, `backfill__`), else
/// `manual`.
fn run_type(run_id: &str) -> &'static str {
    if run_id.starts_with("scheduled__") {
        "scheduled"
    } else if run_id.starts_with("backfill__") {
        "backfill"
    } else {
        "manual"
    }
}

/// `start + offset` when it falls on the day of `start` (a run's events almost always do):
/// the time of day moved on, without the calendar arithmetic of a date's addition, which
/// costs each event several hundred instructions.
#[inline]
fn same_day(start: DateTime<Utc>, offset: Duration) -> Option<DateTime<Utc>> {
    use chrono::Timelike;
    const SECOND: u64 = 1_000_000_000;
    const DAY: u64 = 86_400 * SECOND;
    let start = start.naive_utc();
    let time = start.time();
    if time.nanosecond() >= 1_000_000_000 || offset.as_secs() >= 86_400 {
        return None; // in a leap second, or on a later day
    }
    let nanos = u64::from(time.num_seconds_from_midnight()) * SECOND
        + u64::from(time.nanosecond())
        + offset.as_secs() * SECOND
        + u64::from(offset.subsec_nanos());
    if nanos >= DAY {
        return None; // on the next day
    }
    let time = chrono::NaiveTime::from_num_seconds_from_midnight_opt(
        (nanos / SECOND) as u32,
        (nanos % SECOND) as u32,
    )?;
    Some(start.date().and_time(time).and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_on_the_day_of_the_start_is_the_date_a_calendar_addition_gives() {
        let starts = [
            "2026-03-29T00:00:00Z",
            "2026-12-31T23:59:59.999999999Z",
            "2028-02-28T12:34:56.5Z",
        ];
        let offsets = [
            0,
            1,
            999_999_999,
            1_000_000_000,
            3_600_000_000_123,
            86_399_999_999_999,
            86_400_000_000_000,
            90_000_000_000_000,
        ];
        for start in starts {
            let start: DateTime<Utc> = start.parse().unwrap();
            for nanos in offsets {
                let offset = Duration::from_nanos(nanos);
                let added = start + chrono::Duration::from_std(offset).unwrap();
                if let Some(date) = same_day(start, offset) {
                    assert_eq!(date, added, "{start} + {offset:?}");
                } else {
                    assert_ne!(
                        added.date_naive(),
                        start.date_naive(),
                        "{start} + {offset:?}"
                    );
                }
            }
        }
    }
}
