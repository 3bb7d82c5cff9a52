//! Shared helpers of the taskflow integration tests.

pub mod bounded;
pub mod folder;
pub mod gate;
pub mod moto;
pub mod tools;
