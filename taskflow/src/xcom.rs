//! Typed handles to task outputs ([`Xcom`]) and the arguments a task call accepts ([`IntoArg`]).

use std::fmt;
use std::marker::PhantomData;

pub(crate) use crate::value::Value;

/// A typed handle to the value a task returns, like an XCom in Airflow.
///
/// Calling a `#[task]` function inside a DAG returns one. It is not the value: pass it to
/// another task call to wire that task downstream, where the value arrives as the argument.
/// It is `Copy`, so one output can feed several tasks.
pub struct Xcom<T> {
    pub(crate) task: TaskRef,
    /// 0 for the task's whole value; `i + 1` for part `i` of a `multiple_outputs` task.
    pub(crate) part: u32,
    _type: PhantomData<fn() -> T>,
}

impl<T> Xcom<T> {
    pub(crate) fn new(task: TaskRef) -> Self {
        Self {
            task,
            part: 0,
            _type: PhantomData,
        }
    }

    /// The handle of part `index` of this task's tuple value (`multiple_outputs` tasks).
    #[doc(hidden)]
    pub fn __part<U>(self, index: u32) -> Xcom<U> {
        Xcom {
            task: self.task,
            part: index + 1,
            _type: PhantomData,
        }
    }

    /// The untyped reference to the task, for ordering edges among tasks of different types.
    pub fn task(self) -> TaskRef {
        self.task
    }
}

impl<T> Clone for Xcom<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Xcom<T> {}

impl<T> fmt::Debug for Xcom<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Xcom<{}>({:?}, part {})",
            std::any::type_name::<T>(),
            self.task,
            self.part
        )
    }
}

/// An untyped reference to a task of the DAG being built.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskRef {
    pub(crate) dag: u64,
    pub(crate) node: u32,
}

impl fmt::Debug for TaskRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TaskRef(dag #{}, node {})", self.dag, self.node)
    }
}

impl<T> From<Xcom<T>> for TaskRef {
    fn from(xcom: Xcom<T>) -> Self {
        xcom.task
    }
}

/// A task argument: either a literal of the parameter's type or a handle to an upstream value.
///
/// Implemented for `T` itself (a literal, which must be `Clone` because a DAG can run many
/// times), for [`Xcom<T>`], and for `&str` where `T` is `String`. Any other type is a compile
/// error at the argument. An `Option<T>` parameter takes an [`IntoOptionArg<T>`] instead.
#[diagnostic::on_unimplemented(
    message = "a task parameter of type `{T}` cannot take this `{Self}` argument",
    label = "expected `Xcom<{T}>`, or a literal `{T}` that is `Clone`",
    note = "pass the `Xcom<{T}>` returned by an upstream task, or a literal of the parameter's \
            type; a literal must be `Clone + Send + Sync + 'static` (a DAG can run many times); \
            in an `expand` call, `each(...)` maps over a list of `{T}`"
)]
pub trait IntoArg<T> {
    #[doc(hidden)]
    fn into_arg(self) -> Arg;
}

impl<T: Clone + Send + Sync + 'static> IntoArg<T> for T {
    fn into_arg(self) -> Arg {
        Arg::Literal(Value::new(self))
    }
}

/// A string literal for a `String` parameter: `greet("world")`.
impl IntoArg<String> for &str {
    fn into_arg(self) -> Arg {
        Arg::Literal(Value::new(self.to_owned()))
    }
}

impl<T: Send + Sync + 'static> IntoArg<T> for Xcom<T> {
    fn into_arg(self) -> Arg {
        Arg::Upstream(self.task, self.part)
    }
}

/// Many handles for one `Vec<T>` (or `&[T]`) parameter: the task reduces their values,
/// received in the order of the handles. An upstream task that ended without a value (it
/// failed or was skipped, under a trigger rule such as `all_done`) is left out, as Airflow
/// leaves out mapped instances that pushed nothing. Each value is cloned, so `T: Clone`.
///
/// ```
/// use taskflow::prelude::*;
///
/// #[task]
/// fn count(region: &str) -> u64 { region.len() as u64 }
///
/// #[task]
/// fn total(counts: Vec<u64>) -> u64 { counts.iter().sum() }
///
/// let report = Dag::build("fan_in", || {
///     let counts: Vec<Xcom<u64>> = ["north", "south", "east"].map(|r| count(r)).into();
///     total(counts);
/// })?
/// .test()?;
/// assert_eq!(report.xcom::<u64>("total")?, 14);
/// # Ok::<(), taskflow::Error>(())
/// ```
impl<T: Clone + Send + Sync + 'static> IntoArg<Vec<T>> for Vec<Xcom<T>> {
    fn into_arg(self) -> Arg {
        let sources = self
            .into_iter()
            .map(|xcom| (xcom.task, xcom.part))
            .collect();
        Arg::Gather(Box::new((sources, gather::<T>)))
    }
}

/// An array of handles for one `Vec<T>` parameter, like a `Vec<Xcom<T>>`.
impl<T: Clone + Send + Sync + 'static, const N: usize> IntoArg<Vec<T>> for [Xcom<T>; N] {
    fn into_arg(self) -> Arg {
        IntoArg::<Vec<T>>::into_arg(Vec::from(self))
    }
}

/// The values of a fan-in as one `Vec<T>`; `None` if one is not a `T`.
fn gather<T: Clone + Send + Sync + 'static>(values: Vec<Value>) -> Option<Value> {
    let mut gathered = Vec::with_capacity(values.len());
    for value in values {
        let value = match value.take::<T>() {
            Ok(value) => value,
            Err(shared) => shared.downcast_ref::<T>()?.clone(),
        };
        gathered.push(value);
    }
    Some(Value::new(gathered))
}

/// An argument of an `Option<T>` (or `Option<&T>`) task parameter: an [`Xcom<T>`], whose
/// task receives `None` when the upstream task ended without a value (failed, skipped or
/// upstream_failed; Airflow hands such a task `None`), an `Xcom<Option<T>>`, or a literal
/// `Option<T>`.
///
/// ```
/// use taskflow::prelude::*;
///
/// #[task]
/// fn totals() -> Result<u64, TaskError> {
///     Err(TaskError::fail_now("the warehouse is down"))
/// }
///
/// #[task(trigger_rule = "all_done")]
/// fn notify(total: Option<u64>, channel: Option<&str>) -> String {
///     let total = total.map_or_else(|| "no total".to_owned(), |t| t.to_string());
///     format!("{total} to {}", channel.unwrap_or("#general"))
/// }
///
/// let report = Dag::build("notify", || {
///     notify(totals(), None);
/// })?
/// .test()?;
/// assert_eq!(report.xcom::<String>("notify")?, "no total to #general");
/// # Ok::<(), taskflow::Error>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "a task parameter of type `Option<{T}>` cannot take this `{Self}` argument",
    label = "expected `Xcom<{T}>`, `Xcom<Option<{T}>>`, or a literal `Option<{T}>` that is `Clone`",
    note = "an `Option` parameter receives `None` when its upstream task ended without a value"
)]
pub trait IntoOptionArg<T> {
    #[doc(hidden)]
    fn into_arg(self) -> Arg;
}

impl<T: Send + Sync + 'static> IntoOptionArg<T> for Xcom<T> {
    fn into_arg(self) -> Arg {
        Arg::Upstream(self.task, self.part)
    }
}

impl<T: Send + Sync + 'static> IntoOptionArg<T> for Xcom<Option<T>> {
    fn into_arg(self) -> Arg {
        Arg::Upstream(self.task, self.part)
    }
}

impl<T: Clone + Send + Sync + 'static> IntoOptionArg<T> for Option<T> {
    fn into_arg(self) -> Arg {
        Arg::Literal(Value::new(self))
    }
}

/// The type of the upstream value that a `&Self` task parameter reads: `Self`, or for an
/// unsized view the type that owns it (`&str` reads a `String`, `&[E]` a `Vec<E>`, `&Path`
/// a `PathBuf`, `&OsStr` an `OsString`). Decided by the type, not by its name, so that a
/// type of your own called `Path` is read as itself.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "a task parameter `&{Self}` cannot read an upstream value",
    label = "`&T` reads an upstream `T`; of the unsized types, only `&str`, `&[E]`, `&Path` and `&OsStr` are read (from `String`, `Vec<E>`, `PathBuf`, `OsString`)"
)]
pub trait SharedParam {
    /// The type of the upstream value.
    type Owner;
    /// The parameter's view of the value.
    fn view(owner: &Self::Owner) -> &Self;
}

impl<T> SharedParam for T {
    type Owner = T;
    fn view(owner: &T) -> &T {
        owner
    }
}

impl SharedParam for str {
    type Owner = String;
    fn view(owner: &String) -> &str {
        owner
    }
}

impl<E> SharedParam for [E] {
    type Owner = Vec<E>;
    fn view(owner: &Vec<E>) -> &[E] {
        owner
    }
}

impl SharedParam for std::path::Path {
    type Owner = std::path::PathBuf;
    fn view(owner: &std::path::PathBuf) -> &std::path::Path {
        owner
    }
}

impl SharedParam for std::ffi::OsStr {
    type Owner = std::ffi::OsString;
    fn view(owner: &std::ffi::OsString) -> &std::ffi::OsStr {
        owner
    }
}

/// The value an `Option<&T>` parameter reads: none, an upstream `T`, or an `Option<T>`.
#[doc(hidden)]
pub enum SharedOrNone<T> {
    None,
    Value(SharedArg<T>),
    Optional(SharedArg<Option<T>>),
}

impl<T> SharedOrNone<T> {
    /// The value, by reference.
    pub fn get(&self) -> Option<&T> {
        match self {
            Self::None => None,
            Self::Value(value) => Some(value),
            Self::Optional(value) => Option::as_ref(value),
        }
    }
}

/// The value a `&T` parameter reads, shared with other readers. The reader may hold the last
/// handle of the value, so its `Drop` runs under a guard: a value whose `Drop` panics does
/// not fail the reader's try, nor abort the process when the body panicked.
#[doc(hidden)]
pub struct SharedArg<T>(Option<std::sync::Arc<T>>);

impl<T> SharedArg<T> {
    pub(crate) fn new(value: std::sync::Arc<T>) -> Self {
        Self(Some(value))
    }
}

impl<T> std::ops::Deref for SharedArg<T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // Only `drop` empties it.
        self.0
            .as_deref()
            .unwrap_or_else(|| unreachable!("a shared argument read after its drop"))
    }
}

impl<T> Drop for SharedArg<T> {
    #[inline]
    fn drop(&mut self) {
        if let Some(value) = self.0.take() {
            crate::quiet::drop_quietly(value);
        }
    }
}

/// A type-erased task argument, made by generated code.
#[doc(hidden)]
pub enum Arg {
    Literal(Value),
    /// A task, and which part of its value (0: all of it).
    Upstream(TaskRef, u32),
    /// Several upstream values gathered into one list, and how to gather them.
    /// (Boxed, so that the common arguments stay small.)
    #[allow(clippy::type_complexity)]
    Gather(Box<(Vec<(TaskRef, u32)>, fn(Vec<Value>) -> Option<Value>)>),
    /// A mapped argument of an `expand` call ([`each`](crate::each)).
    Mapped(Box<crate::dag::Source>),
}

/// Makes one value of a fan-in's upstream values; `None` if one has another type.
pub(crate) type GatherFn = fn(Vec<Value>) -> Option<Value>;

/// How a parameter reads an upstream value.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadMode {
    /// By value, and the type is `Clone`.
    OwnedClone,
    /// By value, and the type is not `Clone`: only a single reader can have it.
    OwnedMove,
    /// By reference: shared with other readers.
    Borrowed,
}

/// Picks `Some(T::clone)` when `T: Clone` and `None` otherwise, on concrete types in generated
/// code (method resolution prefers the `&&Probe` impl, which only exists for `Clone` types).
#[doc(hidden)]
pub struct CloneProbe<T>(pub PhantomData<T>);

#[doc(hidden)]
pub trait ViaClone<T> {
    fn clone_fn(&self) -> Option<fn(&T) -> T>;
}

impl<T: Clone> ViaClone<T> for &CloneProbe<T> {
    fn clone_fn(&self) -> Option<fn(&T) -> T> {
        Some(T::clone)
    }
}

#[doc(hidden)]
pub trait ViaNoClone<T> {
    fn clone_fn(&self) -> Option<fn(&T) -> T>;
}

impl<T> ViaNoClone<T> for CloneProbe<T> {
    fn clone_fn(&self) -> Option<fn(&T) -> T> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::needless_borrow)] // the double borrow is the probe
    fn clone_probe_tells_clone_types_apart() {
        struct NotClone;
        #[allow(unused_imports)]
        use super::{ViaClone, ViaNoClone};
        assert!((&&CloneProbe::<Vec<u8>>(PhantomData)).clone_fn().is_some());
        assert!((&&CloneProbe::<NotClone>(PhantomData)).clone_fn().is_none());
    }
}
