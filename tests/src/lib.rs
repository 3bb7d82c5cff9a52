//! Shared helpers of the taskflow integration tests.

pub mod moto;
