//! [`ValueSize`]: how big a task's value is, the way pandas' `df.info()` tells a frame's
//! memory usage: the bytes of its compact JSON encoding where its type encodes (counted
//! as they are written, never held as a string), else its shallow size in memory
//! (`size_of`, not counting what it points to). Also the warning a run logs when a value
//! is larger than [`RunOptions::xcom_size_warning`](crate::RunOptions::xcom_size_warning).

use std::io;

use crate::executor::RunState;
use crate::task::body::{Parts, TaskBody};
use crate::xcom::Value;

/// The threshold of the large-value warning when the run's options set none: 10 MiB.
///
/// ```
/// assert_eq!(taskflow::DEFAULT_XCOM_SIZE_WARNING, 10_485_760);
/// ```
pub const DEFAULT_XCOM_SIZE_WARNING: u64 = 10 * 1024 * 1024;

/// How big a task's value is, and how that was measured.
///
/// ```
/// use taskflow::prelude::*;
/// use taskflow::{SizeKind, ValueSize};
///
/// #[task]
/// fn rows() -> Vec<u32> {
///     vec![1, 20, 300]
/// }
///
/// let report = Dag::build("sizes", || {
///     rows();
/// })
/// .test()?;
/// let size = report.xcom_size("rows")?;
/// assert_eq!(size, ValueSize { bytes: 10, kind: SizeKind::Encoded }); // `[1,20,300]`
/// assert_eq!(size.to_string(), "10 bytes encoded");
/// # Ok::<(), taskflow::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ValueSize {
    /// The size in bytes.
    pub bytes: u64,
    /// What the bytes count.
    pub kind: SizeKind,
}

/// What a [`ValueSize`] counts.
///
/// ```
/// assert_eq!(taskflow::SizeKind::Encoded.as_str(), "encoded");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SizeKind {
    /// The bytes of the value's compact JSON encoding.
    Encoded,
    /// `size_of` the value's type: its type does not encode to JSON (or its value failed
    /// to), and what it points to (a `Vec`'s elements, say) is not counted.
    Shallow,
}

impl SizeKind {
    /// The kind's name, as in JSON: `encoded` or `shallow`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Encoded => "encoded",
            Self::Shallow => "shallow",
        }
    }
}

impl std::fmt::Display for ValueSize {
    /// `"10 bytes encoded"`, `"24 bytes shallow"`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} bytes {}", self.bytes, self.kind.as_str())
    }
}

/// An `io::Write` sink that only counts, and stops the writer once past `limit`.
struct Counter {
    bytes: u64,
    limit: u64,
}

impl Counter {
    fn new(limit: u64) -> Self {
        Self { bytes: 0, limit }
    }

    fn past_limit(&self) -> bool {
        self.bytes > self.limit
    }
}

impl io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes = self.bytes.saturating_add(buf.len() as u64);
        if self.past_limit() {
            return Err(io::Error::other("past the limit"));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The size of a value of `body`'s task: the whole value, or the [`Parts`] of a
/// `multiple_outputs` one (encoded as the JSON array of its parts).
pub(crate) fn value_size(body: &dyn TaskBody, value: &Value) -> ValueSize {
    measure(body, value, u64::MAX)
}

/// The size of the parts of a `multiple_outputs` value, as one JSON array.
pub(crate) fn parts_size(body: &dyn TaskBody, parts: &[Value]) -> ValueSize {
    sized(body, &mut Counter::new(u64::MAX), |counter| {
        write_parts(body, parts, counter)
    })
}

/// Measures `value`, stopping once it is known to be larger than `limit`: the bytes then
/// are only a lower bound past `limit`.
fn measure(body: &dyn TaskBody, value: &Value, limit: u64) -> ValueSize {
    let mut counter = Counter::new(limit);
    match value.downcast_ref::<Parts>() {
        Some(parts) => sized(body, &mut counter, |counter| {
            write_parts(body, &parts.0, counter)
        }),
        None => sized(body, &mut counter, |counter| {
            matches!(body.codec(None).write(value, counter), Some(Ok(())))
        }),
    }
}

/// The counted bytes if `write` encoded the value (or stopped past the limit), else the
/// shallow size of the task's type.
fn sized(
    body: &dyn TaskBody,
    counter: &mut Counter,
    write: impl FnOnce(&mut Counter) -> bool,
) -> ValueSize {
    if write(counter) || counter.past_limit() {
        ValueSize {
            bytes: counter.bytes,
            kind: SizeKind::Encoded,
        }
    } else {
        ValueSize {
            bytes: body.codec(None).shallow_size() as u64,
            kind: SizeKind::Shallow,
        }
    }
}

/// Writes the parts as a JSON array (`[a,b]`); false as soon as one does not encode.
fn write_parts(body: &dyn TaskBody, parts: &[Value], counter: &mut Counter) -> bool {
    use io::Write as _;
    for (index, part) in parts.iter().enumerate() {
        let separator: &[u8] = if index == 0 { b"[" } else { b"," };
        let encoded = counter.write_all(separator).is_ok()
            && matches!(
                body.codec(Some(index as u32)).write(part, counter),
                Some(Ok(()))
            );
        if !encoded {
            return false;
        }
    }
    let closing: &[u8] = if parts.is_empty() { b"[]" } else { b"]" };
    counter.write_all(closing).is_ok()
}

/// The threshold of a run's large-value warning: `option` or the default, or `None` when
/// the warning is off (`u64::MAX`) or nothing would record it (no subscriber takes WARN
/// events and no listener hears the run), so that the executor checks one `Option` per
/// stored value and nothing more.
pub(crate) fn warning_threshold(option: Option<u64>, listened: bool) -> Option<u64> {
    let limit = option.unwrap_or(DEFAULT_XCOM_SIZE_WARNING);
    let heard = listened || tracing::enabled!(tracing::Level::WARN);
    (limit != u64::MAX && heard).then_some(limit)
}

/// Logs a WARN event, to the run's subscriber, if the value `node` just produced is larger
/// than `limit`. Measuring
/// stops at the limit, so a huge value costs no more than `limit` bytes of encoding; a
/// panic in the value's `Serialize` counts as a value that does not encode.
#[cold]
#[inline(never)]
pub(crate) fn warn_if_large(run: &RunState, node: u32, value: &Value, limit: u64) {
    let body = run.dag.nodes[node as usize].body;
    let size = measure(body, value, limit);
    if size.bytes <= limit {
        return;
    }
    let task_id = run.dag.task_id(node);
    let measured = match size.kind {
        SizeKind::Encoded => format!("more than {limit} bytes encoded to json"),
        SizeKind::Shallow => format!("{} bytes in memory (shallow size)", size.bytes),
    };
    let warn = || {
        tracing::warn!(
            dag_id = %run.dag.dag_id,
            run_id = %run.info.run_id,
            task_id = %task_id,
            value_bytes = size.bytes,
            "the value of task `{task_id}` (type `{}`) is {measured}, above the warning \
             threshold of {limit} bytes (RunOptions::xcom_size_warning); every reader and the \
             report share it in memory: pass a path or a key instead if it keeps growing",
            body.output_type(),
        )
    };
    // To the subscriber of the thread that started the run, as its other events go.
    let told = run
        .observer
        .as_ref()
        .and_then(|observer| observer.traced(warn));
    if told.is_none() {
        warn();
    }
    run.tell_warning(
        node,
        format!(
            "its value (type `{}`) is {measured}, above the warning threshold of {limit} bytes",
            body.output_type()
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counter_counts_what_is_written_and_stops_past_its_limit() {
        let mut counter = Counter::new(4);
        assert!(serde_json::to_writer(&mut counter, &[1, 2]).is_err()); // `[1,2]` is 5 bytes
        assert_eq!(counter.bytes, 5);
        assert!(counter.past_limit());
        let mut counter = Counter::new(u64::MAX);
        serde_json::to_writer(&mut counter, &vec!["ab"; 1000]).unwrap();
        assert_eq!(counter.bytes, 1 + 1000 * 5 - 1 + 1);
        let mut counter = Counter::new(10);
        assert!(serde_json::to_writer(&mut counter, &vec![0u8; 1_000_000]).is_err());
        assert!(
            counter.bytes < 20,
            "stopped early, at {} bytes",
            counter.bytes
        );
    }

    #[test]
    fn a_size_shows_its_bytes_and_kind() {
        let size = ValueSize {
            bytes: 24,
            kind: SizeKind::Shallow,
        };
        assert_eq!(size.to_string(), "24 bytes shallow");
        assert_eq!(
            serde_json::to_value(size).unwrap(),
            serde_json::json!({"bytes": 24, "kind": "shallow"})
        );
    }

    #[test]
    fn the_warning_is_off_at_u64_max() {
        assert_eq!(warning_threshold(Some(u64::MAX), true), None);
        assert_eq!(warning_threshold(Some(100), true), Some(100));
        assert_eq!(warning_threshold(None, true), Some(DEFAULT_XCOM_SIZE_WARNING));
        // No listener and no subscriber: nobody would hear it.
        assert_eq!(warning_threshold(Some(100), false), None);
    }
}
