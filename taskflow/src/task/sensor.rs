//! [`Poke`]: what one check of a `#[sensor]` returns.

use crate::xcom::Value;

/// The result of one check of a sensor: not yet, or done with a value for the downstream
/// tasks (Airflow's `PokeReturnValue`). A sensor function may also return `bool`.
///
/// ```
/// use taskflow::Poke;
///
/// fn check(rows: usize) -> Poke<usize> {
///     if rows > 0 { Poke::Done(rows) } else { Poke::NotYet }
/// }
/// assert_eq!(check(3), Poke::Done(3));
/// assert_eq!(Poke::from(None::<u8>), Poke::NotYet);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Poke<T> {
    /// The condition holds; the value is the sensor's XCom.
    Done(T),
    /// Not yet: check again after the interval.
    NotYet,
}

impl<T> From<Option<T>> for Poke<T> {
    /// `Some(value)` is done, `None` is not yet.
    fn from(value: Option<T>) -> Self {
        value.map_or(Poke::NotYet, Poke::Done)
    }
}

/// What a sensor function may return for one check: [`Poke<T>`] or `bool`.
#[diagnostic::on_unimplemented(
    message = "a #[sensor] function returns `Poke<T>` or `bool`, not `{Self}`",
    label = "return `Poke::Done(value)` when the condition holds, `Poke::NotYet` otherwise"
)]
pub trait IntoPoke {
    /// The value passed downstream when done.
    type Value: Send + Sync + 'static;
    /// The check's result.
    fn into_poke(self) -> Poke<Self::Value>;
}

impl<T: Send + Sync + 'static> IntoPoke for Poke<T> {
    type Value = T;
    fn into_poke(self) -> Poke<T> {
        self
    }
}

impl IntoPoke for bool {
    type Value = ();
    fn into_poke(self) -> Poke<()> {
        if self { Poke::Done(()) } else { Poke::NotYet }
    }
}

/// A check's result as the executor stores it: the value of a done check, type-erased.
pub(crate) enum Poked {
    Done(Value),
    NotYet,
}

/// Wraps one check's result.
#[doc(hidden)]
pub fn poked<P: IntoPoke>(result: P) -> crate::task::body::Outcome {
    Ok(Value::new(match result.into_poke() {
        Poke::Done(value) => Poked::Done(Value::new(value)),
        Poke::NotYet => Poked::NotYet,
    }))
}

/// Wraps one check's `Result`, converting its error.
#[doc(hidden)]
pub fn poked_result<P: IntoPoke, E: Into<crate::TaskError>>(
    result: Result<P, E>,
) -> crate::task::body::Outcome {
    result.map_err(Into::into).and_then(poked)
}
