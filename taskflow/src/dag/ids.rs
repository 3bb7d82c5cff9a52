//! Task ids: assigned while building (`total`, `total__1`, ...) and looked up afterwards.

use std::borrow::Cow;
use std::collections::HashMap;

/// How a node's id is stored: generated ids are a counter on the task's default name, so
/// that building a large DAG formats no strings.
#[derive(Debug, Clone)]
pub(crate) enum IdRepr {
    /// The task's default name, suffixed `__n` when `n > 0`.
    Auto(u32),
    /// An id given explicitly per call.
    Explicit(Box<str>),
}

/// The id text of a node from its representation and the task's default name.
pub(crate) fn id_text<'a>(repr: &'a IdRepr, base: &'a str) -> Cow<'a, str> {
    match repr {
        IdRepr::Auto(0) => Cow::Borrowed(base),
        IdRepr::Auto(n) => Cow::Owned(format!("{base}__{n}")),
        IdRepr::Explicit(id) => Cow::Borrowed(id),
    }
}

/// Whether `id` is a valid task or DAG id: letters, digits, `_`, `-` and `.`, 1 to 250 chars.
pub(crate) fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 250
        && id
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Hands out ids while a DAG is built and detects explicit duplicates.
#[derive(Default)]
pub(crate) struct IdAllocator {
    next_suffix: HashMap<&'static str, u32>,
    explicit: HashMap<Box<str>, u32>,
}

impl IdAllocator {
    /// The next generated id for a task named `base`.
    pub(crate) fn auto(&mut self, base: &'static str) -> IdRepr {
        let next = self.next_suffix.entry(base).or_insert(0);
        loop {
            let n = *next;
            *next += 1;
            let taken = !self.explicit.is_empty()
                && self
                    .explicit
                    .contains_key(id_text(&IdRepr::Auto(n), base).as_ref());
            if !taken {
                return IdRepr::Auto(n);
            }
        }
    }

    /// Registers an explicit id for `node`; `Err` if the id is already taken.
    pub(crate) fn explicit(&mut self, id: &str, node: u32) -> Result<IdRepr, ()> {
        if self.explicit.contains_key(id) || self.is_generated(id) {
            return Err(());
        }
        self.explicit.insert(id.into(), node);
        Ok(IdRepr::Explicit(id.into()))
    }

    fn is_generated(&self, id: &str) -> bool {
        let (base, n) = match id.rsplit_once("__").map(|(b, n)| (b, n.parse::<u32>())) {
            Some((base, Ok(n))) if n > 0 => (base, n),
            _ => (id, 0),
        };
        self.next_suffix.get(base).is_some_and(|&next| n < next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(repr: IdRepr) -> String {
        id_text(&repr, "total").into_owned()
    }

    #[test]
    fn repeated_names_get_airflow_suffixes() {
        let mut ids = IdAllocator::default();
        assert_eq!(text(ids.auto("total")), "total");
        assert_eq!(text(ids.auto("total")), "total__1");
        assert_eq!(text(ids.auto("total")), "total__2");
    }

    #[test]
    fn explicit_ids_clash_with_generated_and_explicit_ones() {
        let mut ids = IdAllocator::default();
        ids.auto("total");
        ids.auto("total");
        assert!(ids.explicit("total", 2).is_err());
        assert!(ids.explicit("total__1", 2).is_err());
        assert!(ids.explicit("total__2", 2).is_ok());
        assert!(ids.explicit("total__2", 3).is_err());
        // the generated sequence steps over the explicit id
        assert_eq!(text(ids.auto("total")), "total__3");
    }

    #[test]
    fn id_charset() {
        assert!(is_valid_id("load-orders_v2.daily"));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id("has space"));
        assert!(!is_valid_id("slash/"));
    }
}
