//! Shared helpers of the taskflow integration tests.

pub mod gate;
pub mod moto;
