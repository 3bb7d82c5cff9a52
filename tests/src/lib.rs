//! Shared helpers of the taskflow integration tests.
