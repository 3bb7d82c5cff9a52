//! A nightly load whose run is traced in any OpenTelemetry backend. `extract` reads orders
//! (an `async fn`), `transform` totals them and fails its first try (the warehouse drops the
//! connection; `retries = 1`), `load` writes the totals. Each run is a `dag_run` span and
//! each try a `task_instance` span inside it, with `dag_id`, `run_id`, `task_id`,
//! `try_number` and `map_index` as attributes; a failed try has an error status, the state
//! changes are span events, and the tasks' own `tracing::info!` lines are events of their
//! try's span.
//!
//! The spans go over OTLP/HTTP (protobuf) through `tracing-opentelemetry` and
//! `opentelemetry-otlp`, configured only by the standard variables (see
//! [`taskflow_examples::otel::tracer_provider`]), so one binary reports to dev or prod by
//! configuration. Before exit the tracer provider is shut down, which sends the last batch.
//!
//! A local OpenTelemetry Collector (or Jaeger, which takes OTLP on port 4318):
//!
//! ```sh
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 \
//! OTEL_SERVICE_NAME=nightly-orders \
//! OTEL_RESOURCE_ATTRIBUTES=deployment.environment=dev \
//! cargo run --example observability
//! ```
//!
//! New Relic (US; `https://otlp.eu01.nr-data.net:4318` in the EU), with an ingest license
//! key:
//!
//! ```sh
//! OTEL_EXPORTER_OTLP_ENDPOINT=https://otlp.nr-data.net:4318 \
//! OTEL_EXPORTER_OTLP_HEADERS="api-key=$NEW_RELIC_LICENSE_KEY" \
//! OTEL_SERVICE_NAME=nightly-orders \
//! OTEL_RESOURCE_ATTRIBUTES=deployment.environment=prod \
//! cargo run --example observability
//! ```
//!
//! The run then shows in New Relic under APM & Services as `nightly-orders`, one trace per
//! run; `deployment.environment` tells dev from prod.

use std::time::Duration;

use taskflow::prelude::*;
use taskflow_examples::otel;

/// An order: customer and amount in cents.
type Order = (String, u64);

/// Reads the night's orders (simulated: a real task would query a database).
#[task]
async fn extract() -> Vec<Order> {
    tokio::time::sleep(Duration::from_millis(20)).await;
    let orders = vec![
        ("acme".to_string(), 12_500),
        ("globex".to_string(), 4_200),
        ("acme".to_string(), 7_300),
    ];
    tracing::info!(orders = orders.len(), "read the night's orders");
    orders
}

/// Totals the orders per customer. The warehouse drops the first connection of each run, so
/// the first try fails and the second, a second later, succeeds.
#[task(retries = 1, retry_delay = "1s")]
fn transform(ctx: &Context, orders: &[Order]) -> Result<Vec<Order>, TaskError> {
    if ctx.try_number() == 1 {
        return Err(TaskError::msg("warehouse connection reset by peer"));
    }
    let mut totals: Vec<Order> = Vec::new();
    for (customer, cents) in orders {
        match totals.iter_mut().find(|(name, _)| name == customer) {
            Some((_, total)) => *total += cents,
            None => totals.push((customer.clone(), *cents)),
        }
    }
    tracing::info!(customers = totals.len(), "totalled the orders");
    Ok(totals)
}

/// Writes the totals (simulated: printed).
#[task]
fn load(totals: Vec<Order>) -> usize {
    for (customer, cents) in &totals {
        println!("  {customer}: {}.{:02}", cents / 100, cents % 100);
    }
    tracing::info!(rows = totals.len(), "loaded the totals");
    totals.len()
}

#[dag]
fn nightly_orders() {
    let orders = extract();
    let totals = transform(orders);
    load(totals);
}

#[cfg_attr(test, allow(dead_code))]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let provider = otel::tracer_provider()?;
    tracing::subscriber::set_global_default(otel::subscriber(&provider))?;

    let report = nightly_orders().run().await?;
    println!("{report}");

    // Sends the spans still in the batch; without it the end of the run would be lost.
    provider.shutdown()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transform_succeeds_on_its_second_try_and_load_writes_each_customer() {
        let report = nightly_orders().test().unwrap();
        assert!(report.succeeded());
        assert_eq!(report.try_number("transform"), 2);
        assert_eq!(report.xcom::<usize>("load").unwrap(), 2);
        assert_eq!(
            report.xcom::<Vec<Order>>("transform").unwrap(),
            [("acme".to_string(), 19_800), ("globex".to_string(), 4_200)]
        );
    }
}
