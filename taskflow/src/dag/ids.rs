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

/// Hands out ids while a DAG is built, detects explicit duplicates, and afterwards finds
/// the node of an id without formatting every generated id.
#[derive(Default)]
pub(crate) struct TaskIds {
    /// Per default name: the next suffix, and the `(suffix, node)` pairs handed out, in order.
    generated: Vec<(&'static str, Generated)>,
    /// Where each default name is in `generated`.
    names: HashMap<&'static str, usize>,
    /// The index in `generated` of the name most recently used: a loop calling one task
    /// function many times then hashes its name once.
    recent: usize,
    explicit: HashMap<Box<str>, u32>,
}

#[derive(Default)]
struct Generated {
    next: u32,
    nodes: Vec<(u32, u32)>,
}

impl TaskIds {
    /// The next generated id for `node`, a task named `base`.
    pub(crate) fn auto(&mut self, base: &'static str, node: u32) -> IdRepr {
        let recent = self.generated.get(self.recent);
        if !recent.is_some_and(|(name, _)| std::ptr::eq(*name, base)) {
            let count = self.generated.len();
            self.recent = *self.names.entry(base).or_insert(count);
            if self.recent == count {
                self.generated.push((base, Generated::default()));
            }
        }
        let explicit = &self.explicit;
        let generated = &mut self.generated[self.recent].1;
        loop {
            let n = generated.next;
            generated.next += 1;
            let taken = !explicit.is_empty()
                && explicit.contains_key(id_text(&IdRepr::Auto(n), base).as_ref());
            if !taken {
                generated.nodes.push((n, node));
                return IdRepr::Auto(n);
            }
        }
    }

    /// Registers an explicit id for `node`; `Err` if the id is already taken.
    pub(crate) fn explicit(&mut self, id: &str, node: u32) -> Result<IdRepr, ()> {
        if self.find(id).is_some() {
            return Err(());
        }
        self.explicit.insert(id.into(), node);
        Ok(IdRepr::Explicit(id.into()))
    }

    /// The node with this id.
    pub(crate) fn find(&self, id: &str) -> Option<u32> {
        if let Some(&node) = self.explicit.get(id) {
            return Some(node);
        }
        // `base__n` with n > 0 written without leading zeros, as generated.
        let suffixed = id.rsplit_once("__").and_then(|(base, digits)| {
            let n = digits
                .parse::<u32>()
                .ok()
                .filter(|&n| n > 0 && n.to_string() == digits)?;
            Some((base, n))
        });
        let lookup = |base: &str, n: u32| {
            let nodes = &self.generated[*self.names.get(base)?].1.nodes;
            nodes
                .binary_search_by_key(&n, |&(suffix, _)| suffix)
                .ok()
                .map(|i| nodes[i].1)
        };
        suffixed
            .and_then(|(base, n)| lookup(base, n))
            .or_else(|| lookup(id, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(repr: IdRepr) -> String {
        id_text(&repr, "total").into_owned()
    }

    #[test]
    fn finds_nodes_by_generated_and_explicit_ids() {
        let mut ids = TaskIds::default();
        ids.auto("total", 0);
        ids.explicit("total__1", 1).unwrap();
        ids.auto("total", 2); // steps over total__1: total__2
        ids.auto("load__x", 3);
        assert_eq!(ids.find("total"), Some(0));
        assert_eq!(ids.find("total__1"), Some(1));
        assert_eq!(ids.find("total__2"), Some(2));
        assert_eq!(ids.find("load__x"), Some(3));
        assert_eq!(ids.find("total__3"), None);
        assert_eq!(ids.find("total__02"), None);
        assert_eq!(ids.find("nope"), None);
    }

    #[test]
    fn repeated_names_get_airflow_suffixes() {
        let mut ids = TaskIds::default();
        assert_eq!(text(ids.auto("total", 0)), "total");
        assert_eq!(text(ids.auto("total", 1)), "total__1");
        assert_eq!(text(ids.auto("total", 2)), "total__2");
    }

    #[test]
    fn explicit_ids_clash_with_generated_and_explicit_ones() {
        let mut ids = TaskIds::default();
        ids.auto("total", 0);
        ids.auto("total", 1);
        assert!(ids.explicit("total", 2).is_err());
        assert!(ids.explicit("total__1", 2).is_err());
        assert!(ids.explicit("total__2", 2).is_ok());
        assert!(ids.explicit("total__2", 3).is_err());
        // the generated sequence steps over the explicit id
        assert_eq!(text(ids.auto("total", 3)), "total__3");
    }

    #[test]
    fn id_charset() {
        assert!(is_valid_id("load-orders_v2.daily"));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id("has space"));
        assert!(!is_valid_id("slash/"));
    }
}
