//! The examples of taskflow. Each file beside this one is a program to run with
//! `cargo run --example NAME` and to copy as a template; this library hosts them,
//! and holds the OpenTelemetry set-up of the `observability` example ([`otel`]), which the
//! tests use too.

pub mod orders;
#[cfg(feature = "otel")]
pub mod otel;
