//! [`Value`]: a task's value as the executor keeps it, type-erased. Small plain values
//! (`()`, `bool`, the 64-bit numbers, `usize`) are kept inline, so that passing them takes no
//! allocation; any other value is shared behind an `Arc`.

use std::any::Any;
use std::sync::Arc;

/// A type-erased task value. Dropping the last handle of a shared value runs its `Drop`
/// under a guard: a panic there is reported, never passed on to the dropping thread.
#[doc(hidden)]
#[derive(Clone)]
pub struct Value(Repr);

impl Drop for Value {
    #[inline]
    fn drop(&mut self) {
        if let Repr::Shared(_) = self.0 {
            crate::quiet::drop_quietly(std::mem::replace(&mut self.0, Repr::Unit));
        }
    }
}

#[derive(Clone)]
enum Repr {
    Unit,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    Usize(usize),
    Shared(Arc<dyn Any + Send + Sync>),
}

/// `value` as a `U` if `T` is `U` (the check is resolved at compile time).
#[inline(always)]
fn cast<T: 'static, U: 'static>(value: T) -> Result<U, T> {
    let mut slot = Some(value);
    let taken = (&mut slot as &mut dyn Any)
        .downcast_mut::<Option<U>>()
        .and_then(Option::take);
    match (taken, slot) {
        (Some(cast), _) => Ok(cast),
        (None, Some(value)) => Err(value),
        (None, None) => unreachable!("a failed downcast leaves the value in place"),
    }
}

impl Value {
    /// Wraps `value`: inline if it is a small plain value, else behind an `Arc`.
    #[inline]
    pub fn new<T: Send + Sync + 'static>(value: T) -> Self {
        let repr = cast::<T, u64>(value)
            .map(Repr::U64)
            .or_else(|value| cast::<T, ()>(value).map(|()| Repr::Unit))
            .or_else(|value| cast::<T, bool>(value).map(Repr::Bool))
            .or_else(|value| cast::<T, i64>(value).map(Repr::I64))
            .or_else(|value| cast::<T, f64>(value).map(Repr::F64))
            .or_else(|value| cast::<T, usize>(value).map(Repr::Usize))
            .unwrap_or_else(|value| Repr::Shared(Arc::new(value)));
        Self(repr)
    }

    /// The inline value as `&dyn Any`, or the shared one.
    fn as_any(&self) -> &dyn Any {
        match &self.0 {
            Repr::Unit => &(),
            Repr::Bool(value) => value,
            Repr::U64(value) => value,
            Repr::I64(value) => value,
            Repr::F64(value) => value,
            Repr::Usize(value) => value,
            Repr::Shared(value) => &**value,
        }
    }

    /// The value, if it is a `T`.
    #[inline]
    pub fn downcast_ref<T: 'static>(&self) -> Option<&T> {
        self.as_any().downcast_ref::<T>()
    }

    /// The value as a shared `T` (an inline value is moved into a new `Arc`), or itself if
    /// it is not a `T`.
    pub fn downcast<T: Send + Sync + 'static>(mut self) -> Result<Arc<T>, Self> {
        match std::mem::replace(&mut self.0, Repr::Unit) {
            Repr::Shared(shared) => shared
                .downcast::<T>()
                .map_err(|shared| Self(Repr::Shared(shared))),
            inline => Self(inline).take::<T>().map(Arc::new),
        }
    }

    /// The value as an owned `T`: moved out when inline or no one else holds it, else
    /// `Err` with the value (another handle shares it, or it is not a `T`).
    #[inline(always)]
    pub fn take<T: Send + Sync + 'static>(mut self) -> Result<T, Self> {
        let inline = match std::mem::replace(&mut self.0, Repr::Unit) {
            Repr::Shared(shared) => {
                return match shared.downcast::<T>() {
                    Ok(typed) => Arc::try_unwrap(typed).map_err(|typed| Self(Repr::Shared(typed))),
                    Err(shared) => Err(Self(Repr::Shared(shared))),
                };
            }
            inline => inline,
        };
        // Each arm gives the value back unchanged when it is not a `T`; the error is only
        // built on that path, so that a successful take moves the value once.
        match inline {
            Repr::Unit => cast::<(), T>(()).map_err(|()| Self(Repr::Unit)),
            Repr::Bool(value) => cast::<bool, T>(value).map_err(|v| Self(Repr::Bool(v))),
            Repr::U64(value) => cast::<u64, T>(value).map_err(|v| Self(Repr::U64(v))),
            Repr::I64(value) => cast::<i64, T>(value).map_err(|v| Self(Repr::I64(v))),
            Repr::F64(value) => cast::<f64, T>(value).map_err(|v| Self(Repr::F64(v))),
            Repr::Usize(value) => cast::<usize, T>(value).map_err(|v| Self(Repr::Usize(v))),
            shared @ Repr::Shared(_) => Err(Self(shared)),
        }
    }
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Repr::Shared(_) => f.write_str("Value(shared)"),
            Repr::Unit => f.write_str("Value(())"),
            Repr::Bool(value) => write!(f, "Value({value})"),
            Repr::U64(value) => write!(f, "Value({value}u64)"),
            Repr::I64(value) => write!(f, "Value({value}i64)"),
            Repr::F64(value) => write!(f, "Value({value}f64)"),
            Repr::Usize(value) => write!(f, "Value({value}usize)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_plain_values_are_kept_inline_and_read_back() {
        assert!(matches!(Value::new(7u64).0, Repr::U64(7)));
        assert!(matches!(Value::new(()).0, Repr::Unit));
        assert!(matches!(Value::new(-3i64).0, Repr::I64(-3)));
        assert!(matches!(Value::new(true).0, Repr::Bool(true)));
        assert_eq!(Value::new(7u64).take::<u64>().ok(), Some(7));
        assert_eq!(Value::new(2.5f64).downcast_ref::<f64>(), Some(&2.5));
        assert_eq!(Value::new(9usize).take::<usize>().ok(), Some(9));
        assert_eq!(*Value::new(5u64).downcast::<u64>().ok().unwrap(), 5);
    }

    #[test]
    fn a_value_of_another_type_is_given_back() {
        let value = Value::new(7u64);
        assert!(value.downcast_ref::<i64>().is_none());
        assert!(value.downcast_ref::<u32>().is_none());
        let value = value.take::<u32>().unwrap_err();
        assert_eq!(value.take::<u64>().ok(), Some(7));
    }

    #[test]
    fn other_values_are_shared_and_moved_out_when_no_one_else_holds_them() {
        let value = Value::new(String::from("rows"));
        assert!(matches!(value.0, Repr::Shared(_)));
        assert!(value.downcast_ref::<String>().is_some());
        let other = value.clone();
        let value = value.take::<String>().unwrap_err();
        drop(other);
        assert_eq!(value.take::<String>().ok().as_deref(), Some("rows"));
        let value = Value::new(vec![1u8]);
        assert!(value.clone().downcast::<Vec<u8>>().is_ok());
        assert!(value.downcast::<String>().is_err());
    }
}
