//! Pure decisions the executor asks for, each unit-tested on its own. Private: the types
//! users name (trigger rules, weight rules, sensor settings) are re-exported at the crate
//! root; the decisions themselves are the executor's.

pub(crate) mod retry;
pub(crate) mod sensor;
pub(crate) mod trigger_rule;
pub(crate) mod weight;
