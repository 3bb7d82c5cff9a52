//! A run's `tracing` spans as OpenTelemetry sees them: captured in memory through the
//! `observability` example's subscriber, and sent over OTLP/HTTP to a receiver in the test
//! that decodes the protobuf, with the exporter configured by `OTEL_*` variables only.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use opentelemetry::trace::Status;
use opentelemetry::{KeyValue, Value};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::Span as OtlpSpan;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use prost::Message as _;
use taskflow::RunReport;
use taskflow::prelude::*;
use taskflow_examples::otel;

/// How long the test waits for the exporter's request or the child process.
const WAIT: Duration = Duration::from_secs(30);

/// The DAG of these tests: `extract` (async) -> `transform` (fails its first try, retried)
/// -> `load`; each body logs a `tracing` event.
fn etl() -> Dag {
    #[task]
    async fn extract() -> u32 {
        tokio::task::yield_now().await;
        tracing::info!(rows = 3, "extracted rows");
        3
    }
    #[task(retries = 1, retry_delay = "1m")]
    fn transform(ctx: &Context, rows: u32) -> Result<u32, TaskError> {
        if ctx.try_number() == 1 {
            return Err(TaskError::msg("warehouse connection reset"));
        }
        tracing::info!(rows, "transformed rows");
        Ok(rows * 10)
    }
    #[task]
    fn load(rows: u32) -> u32 {
        tracing::info!(rows, "loaded rows");
        rows
    }
    Dag::build("etl", || {
        load(transform(extract()));
    })
    .unwrap()
}

/// Runs `dag` with the example's subscriber over an in-memory exporter, on this thread only.
fn run_in_memory(dag: &Dag) -> (RunReport, Vec<SpanData>) {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let report =
        tracing::subscriber::with_default(otel::subscriber(&provider), || dag.test().unwrap());
    provider.force_flush().unwrap();
    let spans = exporter.get_finished_spans().unwrap();
    provider.shutdown().unwrap();
    (report, spans)
}

fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

fn text(value: &str) -> Value {
    Value::from(value.to_owned())
}

/// The `task_instance` spans of `task_id`, by try number.
fn tries<'a>(spans: &'a [SpanData], task_id: &str) -> Vec<&'a SpanData> {
    let mut tries: Vec<_> = spans
        .iter()
        .filter(|span| span.name == "task_instance")
        .filter(|span| attribute(span, "task_id") == Some(&text(task_id)))
        .collect();
    tries.sort_by_key(|span| match attribute(span, "try_number") {
        Some(Value::I64(number)) => *number,
        _ => 0,
    });
    tries
}

fn the_run_span(spans: &[SpanData]) -> &SpanData {
    let runs: Vec<_> = spans.iter().filter(|span| span.name == "dag_run").collect();
    assert_eq!(runs.len(), 1, "one dag_run span: {spans:#?}");
    runs[0]
}

fn event_names(span: &SpanData) -> Vec<&str> {
    span.events
        .iter()
        .map(|event| event.name.as_ref())
        .collect()
}

#[test]
fn each_try_is_a_task_instance_span_inside_the_dag_run_span() {
    let (report, spans) = run_in_memory(&etl());
    assert!(report.succeeded());
    let run = the_run_span(&spans);
    assert_eq!(attribute(run, "dag_id"), Some(&text("etl")));
    assert_eq!(attribute(run, "run_id"), Some(&text(report.run_id())));
    assert_eq!(run.parent_span_id, opentelemetry::trace::SpanId::INVALID);

    let task_spans: Vec<_> = spans.iter().filter(|s| s.name == "task_instance").collect();
    // extract, load: one try each; transform: two.
    assert_eq!(task_spans.len(), 4, "{spans:#?}");
    for span in &task_spans {
        assert_eq!(span.parent_span_id, run.span_context.span_id(), "{span:#?}");
        assert_eq!(span.span_context.trace_id(), run.span_context.trace_id());
        assert_eq!(attribute(span, "dag_id"), Some(&text("etl")));
        assert_eq!(attribute(span, "run_id"), Some(&text(report.run_id())));
        assert_eq!(attribute(span, "map_index"), Some(&Value::I64(-1)));
    }
    for task_id in ["extract", "load"] {
        let tries = tries(&spans, task_id);
        assert_eq!(tries.len(), 1, "{task_id}");
        assert_eq!(attribute(tries[0], "try_number"), Some(&Value::I64(1)));
        assert_eq!(tries[0].status, Status::Unset, "{task_id}");
    }

    let transform = tries(&spans, "transform");
    assert_eq!(transform.len(), 2);
    let numbers: Vec<_> = transform
        .iter()
        .map(|span| attribute(span, "try_number"))
        .collect();
    assert_eq!(numbers, [Some(&Value::I64(1)), Some(&Value::I64(2))]);
    // The retried try carries the error; the one after it does not.
    assert_eq!(
        transform[0].status,
        Status::error("warehouse connection reset")
    );
    assert_eq!(transform[1].status, Status::Unset);
    assert!(transform[0].end_time <= transform[1].start_time);
    // The state changes are events of the try's span, at their levels.
    assert!(
        event_names(transform[0])
            .iter()
            .any(|name| name.starts_with("task `transform` up for retry after try 1")),
        "{:?}",
        event_names(transform[0])
    );
    assert!(
        event_names(transform[1]).contains(&"task `transform` succeeded"),
        "{:?}",
        event_names(transform[1])
    );
    assert_eq!(run.status, Status::Unset);
}

#[test]
fn a_failed_try_has_error_status_with_its_message() {
    #[task]
    fn upload() -> Result<(), TaskError> {
        Err(TaskError::msg("bucket `reports` does not exist"))
    }
    let dag = Dag::build("uploads", || {
        upload();
    })
    .unwrap();
    let (report, spans) = run_in_memory(&dag);
    assert_eq!(report.state("upload"), TaskState::Failed);
    let upload = tries(&spans, "upload");
    assert_eq!(upload.len(), 1);
    assert_eq!(
        upload[0].status,
        Status::error("bucket `reports` does not exist")
    );
    let failed = upload[0]
        .events
        .iter()
        .find(|event| event.name.starts_with("task `upload` failed"))
        .unwrap_or_else(|| panic!("{:?}", event_names(upload[0])));
    assert!(
        failed.attributes.contains(&KeyValue::new("level", "ERROR")),
        "{:?}",
        failed.attributes
    );
    // The run failed, so its span has an error status too.
    assert!(
        matches!(the_run_span(&spans).status, Status::Error { .. }),
        "{:?}",
        the_run_span(&spans).status
    );
}

#[test]
fn try_number_is_an_integer_attribute_not_a_string() {
    // A backend compares numbers (`try_number > 1` finds the retries); a string "2" would
    // not be found so.
    let (_, spans) = run_in_memory(&etl());
    let retried = tries(&spans, "transform");
    assert_eq!(attribute(retried[1], "try_number"), Some(&Value::I64(2)));
}

#[test]
fn tracing_events_in_sync_and_async_bodies_are_events_of_their_try_span() {
    let (_, spans) = run_in_memory(&etl());
    for (task_id, try_index, message) in [
        ("extract", 0, "extracted rows"),
        ("transform", 1, "transformed rows"),
        ("load", 0, "loaded rows"),
    ] {
        let span = tries(&spans, task_id)[try_index];
        let event = span
            .events
            .iter()
            .find(|event| event.name == message)
            .unwrap_or_else(|| panic!("{task_id}: {:?}", event_names(span)));
        assert!(
            event.attributes.iter().any(|kv| kv.key.as_str() == "rows"),
            "{task_id}: {:?}",
            event.attributes
        );
    }
    // Nowhere else: not in the run's span, nor in the failed try of `transform`.
    assert!(!event_names(the_run_span(&spans)).contains(&"transformed rows"));
    assert!(!event_names(tries(&spans, "transform")[0]).contains(&"transformed rows"));
}

/// One request the receiver got.
struct Received {
    path: String,
    headers: HashMap<String, String>,
    body: ExportTraceServiceRequest,
}

/// Reads one HTTP/1.1 request from `stream`, hands it to `requests`, then answers 200 with
/// an empty `ExportTraceServiceResponse` (whose protobuf encoding is empty): the exporter
/// learns its batch arrived only once the test has it.
fn receive(stream: TcpStream, requests: &mpsc::Sender<Received>) {
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let path = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    assert!(line.starts_with("POST "), "{line}");
    let mut headers = HashMap::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let Some((name, value)) = line.trim_end().split_once(':') else {
            break;
        };
        headers.insert(name.to_ascii_lowercase(), value.trim().to_owned());
    }
    let length: usize = headers["content-length"].parse().unwrap();
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let body = ExportTraceServiceRequest::decode(body.as_slice()).unwrap();
    let _ = requests.send(Received {
        path,
        headers,
        body,
    });
    reader
        .into_inner()
        .write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        )
        .unwrap();
}

fn string_value(value: &Option<AnyValue>) -> Option<&str> {
    match value.as_ref()?.value.as_ref()? {
        any_value::Value::StringValue(text) => Some(text),
        _ => None,
    }
}

fn int_value(value: &Option<AnyValue>) -> Option<i64> {
    match value.as_ref()?.value.as_ref()? {
        any_value::Value::IntValue(number) => Some(*number),
        _ => None,
    }
}

/// The environment the child process runs in, as an operator would set it.
const SERVICE: &str = "nightly-orders";
const API_KEY: &str = "test-license-key";

#[test]
fn otlp_http_export_carries_the_resource_from_otel_variables_and_the_spans() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (requests, received) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            receive(stream, &requests);
        }
    });

    // The child is this test binary running only `export_a_run_configured_by_otel_variables`,
    // with the variables set for it alone.
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "export_a_run_configured_by_otel_variables",
            "--ignored",
            "--test-threads=1",
        ])
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_PROTOCOL")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        .env_remove("OTEL_EXPORTER_OTLP_COMPRESSION")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_HEADERS")
        .env_remove("OTEL_TRACES_SAMPLER")
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{port}"),
        )
        .env("OTEL_SERVICE_NAME", SERVICE)
        .env(
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment=dev,service.version=1.4.0",
        )
        .env("OTEL_EXPORTER_OTLP_HEADERS", format!("api-key={API_KEY}"))
        .env("NO_PROXY", "127.0.0.1")
        .env("no_proxy", "127.0.0.1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // Every span ends before the provider shuts down, so they come in one or more batches;
    // the child exits once the last one was answered.
    let pid = child.id();
    let (done, exited) = mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    let Ok(output) = exited.recv_timeout(WAIT) else {
        let _ = Command::new("kill").arg(pid.to_string()).status();
        panic!("the child process did not exit within {WAIT:?}");
    };
    let output = output.unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    let mut spans = Vec::new();
    let mut first = None;
    while let Ok(request) = received.recv_timeout(Duration::ZERO) {
        first.get_or_insert_with(|| (request.path.clone(), request.headers.clone()));
        for resource_spans in request.body.resource_spans {
            let resource = resource_spans.resource.unwrap_or_default();
            let resource: HashMap<_, _> = resource
                .attributes
                .iter()
                .map(|kv| (kv.key.clone(), string_value(&kv.value).map(str::to_owned)))
                .collect();
            assert_eq!(resource["service.name"].as_deref(), Some(SERVICE));
            assert_eq!(resource["deployment.environment"].as_deref(), Some("dev"));
            assert_eq!(resource["service.version"].as_deref(), Some("1.4.0"));
            for scope_spans in resource_spans.scope_spans {
                let scope = scope_spans.scope.unwrap_or_default();
                assert_eq!(scope.name, otel::TRACER_NAME);
                spans.extend(scope_spans.spans);
            }
        }
    }
    let (path, headers) = first.expect("the receiver got no request");
    assert_eq!(path, "/v1/traces");
    assert_eq!(headers["content-type"], "application/x-protobuf");
    assert_eq!(headers["api-key"], API_KEY);

    let runs: Vec<_> = spans.iter().filter(|span| span.name == "dag_run").collect();
    assert_eq!(runs.len(), 1, "{spans:#?}");
    let run = runs[0];
    assert_eq!(string_value(&attributes_of(run)["dag_id"]), Some("etl"));
    let mut tries: Vec<_> = spans
        .iter()
        .filter(|span| span.name == "task_instance")
        .map(|span| {
            let attributes = attributes_of(span);
            assert_eq!(span.parent_span_id, run.span_id);
            assert_eq!(span.trace_id, run.trace_id);
            assert_eq!(string_value(&attributes["dag_id"]), Some("etl"));
            assert_eq!(
                string_value(&attributes["run_id"]),
                string_value(&attributes_of(run)["run_id"])
            );
            assert_eq!(int_value(&attributes["map_index"]), Some(-1));
            let status = span.status.clone().unwrap_or_default();
            (
                string_value(&attributes["task_id"]).unwrap().to_owned(),
                int_value(&attributes["try_number"]).unwrap(),
                StatusCode::try_from(status.code).unwrap(),
                status.message,
            )
        })
        .collect();
    tries.sort();
    let error = "warehouse connection reset".to_owned();
    assert_eq!(
        tries,
        [
            ("extract".into(), 1, StatusCode::Unset, String::new()),
            ("load".into(), 1, StatusCode::Unset, String::new()),
            ("transform".into(), 1, StatusCode::Error, error),
            ("transform".into(), 2, StatusCode::Unset, String::new()),
        ]
    );
    // A task's own `tracing::info!` travels as an event of its try's span.
    let load = spans
        .iter()
        .find(|span| {
            attributes_of(span)
                .get("task_id")
                .is_some_and(|id| string_value(id) == Some("load"))
        })
        .map(|span| {
            span.events
                .iter()
                .map(|e| e.name.clone())
                .collect::<Vec<_>>()
        })
        .unwrap();
    assert!(load.contains(&"loaded rows".to_owned()), "{load:?}");
}

/// The attributes of a span as it travelled.
fn attributes_of(span: &OtlpSpan) -> HashMap<String, Option<AnyValue>> {
    span.attributes
        .iter()
        .map(|kv| (kv.key.clone(), kv.value.clone()))
        .collect()
}

/// Run as a child process by the test above, with `OTEL_*` variables of its own: the
/// example's set-up, configured by nothing else, exports a run of [`etl`].
#[test]
#[ignore = "run by otlp_http_export_carries_the_resource_from_otel_variables_and_the_spans"]
fn export_a_run_configured_by_otel_variables() {
    let provider = otel::tracer_provider().unwrap();
    let report =
        tracing::subscriber::with_default(otel::subscriber(&provider), || etl().test().unwrap());
    assert!(report.succeeded());
    provider.shutdown().unwrap();
}
