//! [`Features`]: what a task asks of a run beyond the plain path, computed once per DAG so
//! that a plain task's try reads none of its options.

use super::Node;
use crate::TaskOptions;
use crate::task::body::{TaskBody, TaskKind};

/// A set of task features (a bit set).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Features(u16);

impl Features {
    pub(crate) const ON_EXECUTE: Self = Self(1);
    pub(crate) const ON_SUCCESS: Self = Self(1 << 1);
    pub(crate) const ON_FAILURE: Self = Self(1 << 2);
    pub(crate) const ON_RETRY: Self = Self(1 << 3);
    pub(crate) const ON_SKIPPED: Self = Self(1 << 4);
    /// An `execution_timeout`: another thread may end the try.
    pub(crate) const TIMEOUT: Self = Self(1 << 5);
    /// More than one try.
    pub(crate) const RETRIES: Self = Self(1 << 6);
    pub(crate) const SENSOR: Self = Self(1 << 7);
    /// `multiple_outputs`: the value is stored in parts.
    pub(crate) const PARTS: Self = Self(1 << 8);
    /// A branch or a short-circuit: its value may skip downstream tasks.
    pub(crate) const STEERS: Self = Self(1 << 9);
    /// A mapped task: its try expands into instances.
    pub(crate) const MAPPED: Self = Self(1 << 10);
    /// Its value is mapped over: a success checks its length (`max_map_length`).
    pub(crate) const MAP_SOURCE: Self = Self(1 << 11);
    /// Its outcome comes from a store (a resumed run): it ends without running.
    pub(crate) const RESTORED: Self = Self(1 << 12);

    /// What a success may do beyond storing one value and releasing the downstream tasks.
    pub(crate) const SUCCESS_EXTRAS: Self = Self::ON_SUCCESS
        .and(Self::SENSOR)
        .and(Self::STEERS)
        .and(Self::PARTS)
        .and(Self::MAP_SOURCE);

    /// What a try may need before its body runs or while it runs.
    pub(crate) const TRY_EXTRAS: Self = Self::ON_EXECUTE
        .and(Self::TIMEOUT)
        .and(Self::SENSOR)
        .and(Self::MAPPED)
        .and(Self::RESTORED);

    /// The union of both sets.
    pub(crate) const fn and(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// The set without the features of `other`.
    pub(crate) const fn without(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    /// Whether some feature of `other` is in the set.
    #[inline]
    pub(crate) fn has_any(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether every feature of `other` is in the set.
    #[inline]
    pub(crate) fn has(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    pub(crate) fn with(self, other: Self, on: bool) -> Self {
        if on { Self(self.0 | other.0) } else { self }
    }

    /// The features of a task that sets no option: those of its body alone.
    pub(crate) fn of_body(body: &dyn TaskBody) -> Self {
        let kind = body.kind();
        Self::default()
            .with(Self::SENSOR, matches!(kind, TaskKind::Sensor(_)))
            .with(
                Self::STEERS,
                matches!(kind, TaskKind::Branch(_) | TaskKind::ShortCircuit { .. }),
            )
            .with(Self::PARTS, body.output_parts() > 0)
    }

    /// The features of `node`, its own options first, then the DAG's `default_args`.
    pub(crate) fn of(node: &Node, default_args: &TaskOptions) -> Self {
        let set = |get: &dyn Fn(&TaskOptions) -> bool| {
            node.options.as_deref().is_some_and(get)
                || get(node.body.options())
                || get(default_args)
        };
        let retries = node
            .option(|o| o.retries)
            .or(default_args.retries)
            .unwrap_or(0);
        Self::of_body(node.body)
            .with(Self::ON_EXECUTE, set(&|o| o.on_execute_callback.is_some()))
            .with(Self::ON_SUCCESS, set(&|o| o.on_success_callback.is_some()))
            .with(Self::ON_FAILURE, set(&|o| o.on_failure_callback.is_some()))
            .with(Self::ON_RETRY, set(&|o| o.on_retry_callback.is_some()))
            .with(Self::ON_SKIPPED, set(&|o| o.on_skipped_callback.is_some()))
            .with(Self::TIMEOUT, set(&|o| o.execution_timeout.is_some()))
            .with(Self::RETRIES, retries > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::Features;

    #[test]
    fn has_checks_every_bit_of_the_other_set() {
        let set = Features::default()
            .with(Features::TIMEOUT, true)
            .with(Features::SENSOR, true)
            .with(Features::RETRIES, false);
        assert!(set.has(Features::TIMEOUT));
        assert!(set.has(Features::SENSOR));
        assert!(!set.has(Features::RETRIES));
        assert!(!set.has(Features(Features::TIMEOUT.0 | Features::RETRIES.0)));
    }
}
