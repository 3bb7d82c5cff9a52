//! Tasks: options, states, errors, the injected [`Context`], and the callable body of a node.

pub(crate) mod body;
pub(crate) mod branch;
pub(crate) mod context;
pub(crate) mod error;
pub(crate) mod options;
pub(crate) mod sensor;
pub(crate) mod state;
