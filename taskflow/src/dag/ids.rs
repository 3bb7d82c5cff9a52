//! Task ids: assigned while building (`total`, `total__1`, ...) and looked up afterwards.

use std::borrow::Cow;
use std::collections::HashMap;

/// How a node's id is stored: generated ids are a counter on the task's default name, so
/// that building a large DAG formats no strings.
#[derive(Debug, Clone)]
pub(crate) enum IdRepr {
    /// The task's default name, suffixed `__n` when `n > 0`.
    Auto(u32),
    /// An id given explicitly per call, or a generated one that is not the task's default
    /// name with a suffix (the name `load__1` taken: `load__2`).
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

/// The core and the number of an id `core__N` (N decimal digits, as Airflow matches them).
/// A number beyond `u64` is never generated, so such an id is left out.
fn split_suffix(id: &str) -> Option<(&str, u64)> {
    let (core, digits) = id.rsplit_once("__")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((core, digits.parse().ok()?))
}

/// Hands out ids while a DAG is built, as Airflow does: a task takes its default name if no
/// task has that id yet, else `core__N`, where `core` is the name without a `__N` suffix and
/// N is one more than the largest N of the ids `core__N` in use. Detects explicit
/// duplicates, and afterwards finds the node of an id without formatting every generated id.
#[derive(Clone, Default)]
pub(crate) struct TaskIds {
    /// Per default name: the next suffix, and the `(suffix, node)` pairs handed out, in order.
    generated: Vec<(&'static str, Generated)>,
    /// Where each default name is in `generated`.
    names: HashMap<&'static str, usize>,
    /// The index in `generated` of the name most recently used: a loop calling one task
    /// function many times then hashes its name once.
    recent: usize,
    /// Ids given per call, and generated ids not kept as a suffix of the task's name.
    explicit: HashMap<Box<str>, u32>,
    /// Per core that is no task's default name (yet): the largest N of the ids `core__N`.
    suffixes: HashMap<Box<str>, u64>,
    /// The first generated id that was taken already.
    clash: Option<Box<str>>,
}

#[derive(Clone, Default)]
struct Generated {
    /// One more than the largest N of the ids `name__N` in use.
    next: u64,
    /// Whether a task of this name has asked for an id yet (afterwards the name is taken).
    asked: bool,
    /// Whether the name itself ends in `__N`, so that its next ids go on its core's count.
    suffixed: bool,
    /// Whether the next id is `name__next` (asked, and not suffixed).
    counting: bool,
    nodes: Vec<(u32, u32)>,
}

impl TaskIds {
    /// The next generated id for `node`, a task named `base`. In the one case where no id
    /// is left (the suffixes of a name run out) it is a duplicate, kept for [`Self::clash`].
    #[inline]
    pub(crate) fn auto(&mut self, base: &'static str, node: u32) -> IdRepr {
        let index = self.entry(base);
        let generated = &mut self.generated[index].1;
        // The common case: another call of a task whose name is taken and has no suffix.
        if generated.counting && generated.next < u64::from(u32::MAX) {
            let n = generated.next as u32;
            generated.next += 1;
            generated.nodes.push((n, node));
            return IdRepr::Auto(n);
        }
        self.auto_other(base, index, node)
    }

    /// [`Self::auto`] for a name's first call, a name ending in `__N`, or a suffix beyond
    /// `u32`.
    #[cold]
    fn auto_other(&mut self, base: &'static str, index: usize, node: u32) -> IdRepr {
        let generated = &mut self.generated[index].1;
        if !generated.asked {
            generated.asked = true;
            generated.counting = !generated.suffixed;
            if self.find(base).is_none() {
                self.generated[index].1.nodes.push((0, node));
                self.note(base);
                return IdRepr::Auto(0);
            }
        }
        let generated = &mut self.generated[index].1;
        if !generated.suffixed {
            let n = generated.next;
            generated.next = n.saturating_add(1);
            if let Ok(n) = u32::try_from(n) {
                generated.nodes.push((n, node));
                return IdRepr::Auto(n);
            }
            return self.spelled_out(format!("{base}__{n}"), node);
        }
        self.next_on_core(base, node)
    }

    /// The next generated id for `node` named `base` when that is not a task's default name
    /// (a task inside a group: `extract.parse`): `base` if free, else `core__N` as Airflow
    /// numbers them. Kept as text.
    pub(crate) fn auto_text(&mut self, base: &str, node: u32) -> IdRepr {
        if self.find(base).is_none() {
            let id: Box<str> = base.into();
            self.explicit.insert(id.clone(), node);
            self.note(base);
            return IdRepr::Explicit(id);
        }
        self.next_on_core(base, node)
    }

    /// `core__N` for `base` (`core` without a `__N` suffix), N one past the largest in use.
    fn next_on_core(&mut self, base: &str, node: u32) -> IdRepr {
        let (core, _) = split_suffix(base).unwrap_or((base, 0));
        let n = match self.names.get(core) {
            Some(&core_index) => {
                let next = &mut self.generated[core_index].1.next;
                let n = *next;
                *next = n.saturating_add(1);
                n
            }
            None => {
                let largest = self.suffixes.entry(core.into()).or_insert(0);
                *largest = largest.saturating_add(1);
                *largest
            }
        };
        self.spelled_out(format!("{core}__{n}"), node)
    }

    /// A generated id that was already taken, if any (only when the suffixes of a name run
    /// out).
    pub(crate) fn clash(&self) -> Option<&str> {
        self.clash.as_deref()
    }

    /// The place of `base` in `generated`, added if new.
    fn entry(&mut self, base: &'static str) -> usize {
        let recent = self.generated.get(self.recent);
        if recent.is_some_and(|(name, _)| std::ptr::eq(*name, base)) {
            return self.recent;
        }
        let count = self.generated.len();
        self.recent = *self.names.entry(base).or_insert(count);
        if self.recent == count {
            let largest = self.suffixes.remove(base).unwrap_or(0);
            let generated = Generated {
                next: largest.saturating_add(1),
                suffixed: split_suffix(base).is_some(),
                ..Generated::default()
            };
            self.generated.push((base, generated));
        }
        self.recent
    }

    /// Registers a generated id that is kept as text.
    fn spelled_out(&mut self, id: String, node: u32) -> IdRepr {
        let id = id.into_boxed_str();
        if self.find(&id).is_some() {
            self.clash.get_or_insert_with(|| id.clone());
        } else {
            self.explicit.insert(id.clone(), node);
        }
        IdRepr::Explicit(id)
    }

    /// Counts `id` among the ids `core__N` of its core, if it is one.
    fn note(&mut self, id: &str) {
        let Some((core, n)) = split_suffix(id) else {
            return;
        };
        let next = n.saturating_add(1);
        match self.names.get(core) {
            Some(&index) => {
                let generated = &mut self.generated[index].1;
                generated.next = generated.next.max(next);
            }
            None => match self.suffixes.get_mut(core) {
                Some(largest) => *largest = (*largest).max(n),
                None => {
                    self.suffixes.insert(core.into(), n);
                }
            },
        }
    }

    /// Registers an explicit id for `node`; `Err` if the id is already taken.
    pub(crate) fn explicit(&mut self, id: &str, node: u32) -> Result<IdRepr, ()> {
        if self.find(id).is_some() {
            return Err(());
        }
        self.explicit.insert(id.into(), node);
        self.note(id);
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

    /// The ids handed out to tasks named `names`, in order.
    fn ids_of(names: &[&'static str]) -> Vec<String> {
        let mut ids = TaskIds::default();
        names
            .iter()
            .enumerate()
            .map(|(node, &name)| {
                let repr = ids.auto(name, node as u32);
                id_text(&repr, name).into_owned()
            })
            .collect()
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
    fn generated_ids_never_take_the_name_of_another_task_function() {
        // Airflow: a name that is taken becomes `core__N`, N one past the largest in use.
        assert_eq!(
            ids_of(&["foo", "foo", "foo__1"]),
            ["foo", "foo__1", "foo__2"]
        );
        assert_eq!(
            ids_of(&["foo__1", "foo", "foo"]),
            ["foo__1", "foo", "foo__2"]
        );
        assert_eq!(
            ids_of(&["foo__1", "foo__1", "foo", "foo"]),
            ["foo__1", "foo__2", "foo", "foo__3"]
        );
        assert_eq!(
            ids_of(&["foo__7", "foo", "foo"]),
            ["foo__7", "foo", "foo__8"]
        );
        assert_eq!(ids_of(&["a__1__2", "a__1__2"]), ["a__1__2", "a__1__3"]);
    }

    #[test]
    fn generated_ids_go_past_the_largest_explicit_suffix() {
        let mut ids = TaskIds::default();
        ids.explicit("total__5", 0).unwrap();
        ids.explicit("load", 1).unwrap();
        assert_eq!(text(ids.auto("total", 2)), "total");
        assert_eq!(text(ids.auto("total", 3)), "total__6");
        let load = ids.auto("load", 4);
        assert_eq!(id_text(&load, "load"), "load__1");
        assert_eq!(ids.find("total__6"), Some(3));
        assert_eq!(ids.find("load__1"), Some(4));
        // an explicit id with leading zeros counts as its number, as in Airflow
        ids.explicit("total__0009", 5).unwrap();
        assert_eq!(text(ids.auto("total", 6)), "total__10");
    }

    #[test]
    fn a_generated_id_beyond_every_suffix_is_a_duplicate_not_a_reuse() {
        let mut ids = TaskIds::default();
        ids.explicit(&format!("total__{}", u64::MAX), 0).unwrap();
        ids.auto("total", 1);
        assert_eq!(ids.clash(), None);
        let clash = ids.auto("total", 2);
        let clash = id_text(&clash, "total").into_owned();
        assert_eq!(clash, format!("total__{}", u64::MAX));
        assert_eq!(ids.clash(), Some(clash.as_str()));
        // beyond u32, generated ids are spelled out and still found
        let mut ids = TaskIds::default();
        ids.explicit(&format!("total__{}", u32::MAX), 0).unwrap();
        ids.auto("total", 1);
        let big = ids.auto("total", 2);
        let big = id_text(&big, "total").into_owned();
        assert_eq!(big, format!("total__{}", u64::from(u32::MAX) + 1));
        assert_eq!(ids.find(&big), Some(2));
    }

    #[test]
    fn ids_given_as_text_get_airflow_suffixes() {
        let mut ids = TaskIds::default();
        let texts: Vec<String> = (0..3)
            .map(|node| id_text(&ids.auto_text("extract.parse", node), "parse").into_owned())
            .collect();
        assert_eq!(
            texts,
            ["extract.parse", "extract.parse__1", "extract.parse__2"]
        );
        assert_eq!(ids.find("extract.parse__2"), Some(2));
        ids.explicit("extract.load__4", 3).unwrap();
        let load = ids.auto_text("extract.load", 4);
        assert_eq!(id_text(&load, "load"), "extract.load");
        let load = ids.auto_text("extract.load", 5);
        assert_eq!(id_text(&load, "load"), "extract.load__5");
    }

    #[test]
    fn id_charset() {
        assert!(is_valid_id("load-orders_v2.daily"));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id("has space"));
        assert!(!is_valid_id("slash/"));
    }
}
