//! OpenTelemetry for the `observability` example: taskflow's `tracing` spans (a `dag_run`
//! span per run, a `task_instance` span per try) exported over OTLP/HTTP with protobuf to
//! whatever backend the standard `OTEL_*` variables name. Nothing here is specific to one
//! backend or one environment: the same binary reports to dev or prod by configuration.
//!
//! ```no_run
//! use taskflow_examples::otel;
//!
//! let provider = otel::tracer_provider()?;
//! tracing::subscriber::with_default(otel::subscriber(&provider), || {
//!     // build and run DAGs here: their spans go to the provider
//! });
//! provider.shutdown()?; // sends what is still buffered
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{ExporterBuildError, SpanExporter};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt as _;

/// The name of the tracer (the instrumentation scope) the spans are reported under.
pub const TRACER_NAME: &str = "taskflow";

/// A tracer provider that batches spans and sends them over OTLP/HTTP, configured only by
/// the standard variables:
/// - `OTEL_EXPORTER_OTLP_ENDPOINT` (`/v1/traces` is appended) or
///   `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as it is); `http://localhost:4318` if unset;
/// - `OTEL_EXPORTER_OTLP_HEADERS`, e.g. `api-key=...` for New Relic;
/// - `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`, e.g.
///   `deployment.environment=prod,service.version=1.4.0`;
/// - `OTEL_EXPORTER_OTLP_TIMEOUT`, `OTEL_EXPORTER_OTLP_COMPRESSION` and the `OTEL_BSP_*`
///   batch settings, if you need them.
///
/// Call [`SdkTracerProvider::shutdown`] before the process exits, or the last batch is lost.
///
/// ```no_run
/// let provider = taskflow_examples::otel::tracer_provider()?;
/// provider.shutdown()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn tracer_provider() -> Result<SdkTracerProvider, ExporterBuildError> {
    // `https://` endpoints go through rustls; ring is its crypto. An error only means a
    // provider is already installed, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let exporter = SpanExporter::builder().with_http().build()?;
    // `Resource::builder` reads `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`.
    Ok(SdkTracerProvider::builder()
        .with_resource(Resource::builder().build())
        .with_batch_exporter(exporter)
        .build())
}

/// A `tracing` subscriber that turns spans and events at INFO and above into OpenTelemetry
/// spans and span events of `provider`.
///
/// ```no_run
/// let provider = taskflow_examples::otel::tracer_provider()?;
/// tracing::subscriber::set_global_default(taskflow_examples::otel::subscriber(&provider))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn subscriber(provider: &SdkTracerProvider) -> impl tracing::Subscriber + Send + Sync {
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer(TRACER_NAME));
    tracing_subscriber::registry()
        .with(LevelFilter::INFO)
        .with(layer)
}
