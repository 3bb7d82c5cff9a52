//! `tracing`: a span per DAG run and one per task try inside it, the user's own events in
//! the try's span whichever thread runs the body, and state changes as events at their
//! levels.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use taskflow::Executor;
use taskflow::prelude::*;
use taskflow_tests::bounded::within;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context as LayerContext, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

const LIMIT: Duration = Duration::from_secs(60);

/// A span as the recorder saw it.
#[derive(Debug, Clone, Default)]
struct SpanSeen {
    name: String,
    fields: BTreeMap<String, String>,
    parent: Option<u64>,
    id: u64,
}

/// An event as the recorder saw it, with the span it happened in.
#[derive(Debug, Clone)]
struct EventSeen {
    level: Level,
    fields: BTreeMap<String, String>,
    span: Option<u64>,
}

#[derive(Clone, Default)]
struct Recorder {
    spans: Arc<Mutex<BTreeMap<u64, SpanSeen>>>,
    events: Arc<Mutex<Vec<EventSeen>>>,
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(
            field.name().to_owned(),
            format!("{value:?}").trim_matches('"').to_owned(),
        );
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: LayerContext<'_, S>) {
        let mut seen = SpanSeen {
            name: attrs.metadata().name().to_owned(),
            id: id.into_u64(),
            ..SpanSeen::default()
        };
        attrs.record(&mut Fields(&mut seen.fields));
        seen.parent = ctx.span_scope(id).and_then(|mut scope| {
            scope.next(); // the span itself
            scope.next().map(|parent| parent.id().into_u64())
        });
        self.spans.lock().unwrap().insert(id.into_u64(), seen);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: LayerContext<'_, S>) {
        if let Some(seen) = self.spans.lock().unwrap().get_mut(&id.into_u64()) {
            values.record(&mut Fields(&mut seen.fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: LayerContext<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        let span = ctx.event_span(event).map(|span| span.id().into_u64());
        self.events.lock().unwrap().push(EventSeen {
            level: *event.metadata().level(),
            fields,
            span,
        });
    }
}

impl Recorder {
    fn subscriber(&self) -> impl Subscriber + Send + Sync {
        tracing_subscriber::registry().with(self.clone())
    }

    fn spans(&self, name: &str) -> Vec<SpanSeen> {
        self.spans
            .lock()
            .unwrap()
            .values()
            .filter(|span| span.name == name)
            .cloned()
            .collect()
    }

    fn span(&self, id: u64) -> SpanSeen {
        self.spans.lock().unwrap()[&id].clone()
    }

    /// The events whose message contains `text`.
    fn events_saying(&self, text: &str) -> Vec<EventSeen> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|event| {
                event
                    .fields
                    .get("message")
                    .is_some_and(|m| m.contains(text))
            })
            .cloned()
            .collect()
    }
}

#[task(retries = 1, retry_delay = "1m")]
fn flaky(ctx: &Context) -> Result<u32, TaskError> {
    tracing::info!(try_seen = ctx.try_number(), "flaky body says hello");
    if ctx.try_number() == 1 {
        Err(TaskError::msg("warming up"))
    } else {
        Ok(2)
    }
}

#[task]
async fn in_async(n: u32) -> u32 {
    tokio::task::yield_now().await;
    tracing::info!("async body says hello");
    n + 1
}

#[task]
fn fails(_n: u32) -> Result<(), TaskError> {
    Err(TaskError::msg("bad row 7"))
}

#[task]
fn skips() -> Result<(), TaskError> {
    Err(TaskError::skip("nothing new"))
}

fn observed_dag() -> Dag {
    Dag::build("traced", || {
        fails(in_async(flaky()));
        skips();
    })
    .unwrap()
}

/// Checks what a run of [`observed_dag`] left in `recorder`.
fn check_spans_and_events(recorder: &Recorder) {
    let runs = recorder.spans("dag_run");
    assert_eq!(runs.len(), 1, "{runs:?}");
    let run = &runs[0];
    assert_eq!(run.fields["dag_id"], "traced");
    assert_eq!(run.fields["run_id"], "traced_run");

    let tries = recorder.spans("task_instance");
    let of = |task: &str| -> Vec<SpanSeen> {
        tries
            .iter()
            .filter(|span| span.fields["task_id"] == task)
            .cloned()
            .collect()
    };
    assert_eq!(tries.len(), 5, "{tries:?}");
    for span in &tries {
        assert_eq!(span.parent, Some(run.id), "{span:?}");
        assert_eq!(span.fields["dag_id"], "traced");
        assert_eq!(span.fields["run_id"], "traced_run");
        assert_eq!(span.fields["map_index"], "-1");
    }
    let flaky_tries: Vec<String> = of("flaky")
        .iter()
        .map(|s| s.fields["try_number"].clone())
        .collect();
    assert_eq!(flaky_tries, ["1", "2"]);
    let failed = &of("fails")[0];
    assert_eq!(failed.fields["otel.status_code"], "ERROR");
    assert_eq!(failed.fields["otel.status_description"], "bad row 7");
    assert!(!of("in_async")[0].fields.contains_key("otel.status_code"));

    // The bodies' own events, sync and async, are in their try's span.
    let hellos = recorder.events_saying("flaky body says hello");
    assert_eq!(hellos.len(), 2);
    for (hello, try_number) in hellos.iter().zip(["1", "2"]) {
        let span = recorder.span(hello.span.expect("in a span"));
        assert_eq!(span.fields["task_id"], "flaky");
        assert_eq!(span.fields["try_number"], try_number);
        assert_eq!(hello.fields["try_seen"], try_number);
    }
    let hello = &recorder.events_saying("async body says hello")[0];
    assert_eq!(
        recorder.span(hello.span.unwrap()).fields["task_id"],
        "in_async"
    );

    // State changes, at their levels, in the try's span.
    let level_of = |text: &str| {
        let events = recorder.events_saying(text);
        assert_eq!(events.len(), 1, "{text}: {events:?}");
        let span = events[0].span.map(|id| recorder.span(id));
        (
            events[0].level,
            span.map(|s| s.fields.get("task_id").cloned().unwrap_or_default()),
        )
    };
    assert_eq!(
        level_of("task `in_async` succeeded"),
        (Level::INFO, Some("in_async".into()))
    );
    assert_eq!(
        level_of("task `flaky` up for retry after try 1: warming up"),
        (Level::WARN, Some("flaky".into()))
    );
    assert_eq!(
        level_of("task `skips` skipped: nothing new"),
        (Level::WARN, Some("skips".into()))
    );
    let (level, task) = level_of("task `fails` failed on try 1: bad row 7");
    assert_eq!((level, task.as_deref()), (Level::ERROR, Some("fails")));
    assert_eq!(recorder.span(run.id).fields["otel.status_code"], "ERROR");
    let ended = recorder.events_saying("dag run `traced_run` of `traced` failed");
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].level, Level::ERROR);
    assert_eq!(ended[0].span, Some(run.id));
}

#[test]
fn a_dag_test_under_a_scoped_subscriber_has_a_span_per_run_and_per_try() {
    let recorder = Recorder::default();
    let subscriber = recorder.subscriber();
    let dag = observed_dag();
    let report = tracing::subscriber::with_default(subscriber, || {
        within(LIMIT, "the run", move || {
            // `within` runs on a thread of its own, where this subscriber is not the default.
            dag.test_with(RunOptions::new().run_id("traced_run"))
        })
    });
    // The subscriber of the test thread was not the default on `within`'s thread.
    assert!(report.is_ok());
    assert!(recorder.spans("dag_run").is_empty());

    let recorder = Recorder::default();
    let dag = observed_dag();
    let subscriber = recorder.subscriber();
    let report = within(LIMIT, "the run", move || {
        tracing::subscriber::with_default(subscriber, || {
            dag.test_with(RunOptions::new().run_id("traced_run"))
                .unwrap()
        })
    });
    assert!(!report.succeeded());
    check_spans_and_events(&recorder);
}

#[test]
fn runs_of_an_executor_trace_with_the_subscriber_of_the_thread_that_submitted_them() {
    let recorder = Recorder::default();
    let executor = Executor::builder().virtual_time(true).build().unwrap();
    let dag = observed_dag();
    let handle = tracing::subscriber::with_default(recorder.subscriber(), || {
        executor
            .submit(&dag, RunOptions::new().run_id("traced_run"))
            .unwrap()
    });
    let report = within(LIMIT, "the run", move || handle.wait().unwrap());
    assert!(!report.succeeded());
    check_spans_and_events(&recorder);
}
