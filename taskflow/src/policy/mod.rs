//! Pure decisions the executor asks for, each unit-tested on its own.

pub mod retry;
pub mod sensor;
pub mod trigger_rule;
pub mod weight;
