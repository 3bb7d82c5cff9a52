//! What a branch task returns: the direct downstream tasks to follow.

use crate::xcom::{TaskRef, Xcom};

/// A downstream task a branch follows: by id or by handle.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BranchTarget {
    /// A task id.
    Id(String),
    /// A task handle.
    Task(TaskRef),
}

/// The return value of a `#[task(branch)]` function: which of its direct downstream tasks
/// to follow. The others are skipped, and their downstream follows its trigger rules.
///
/// Implemented for a task id (`&str`, `String`), a handle ([`TaskRef`], [`Xcom`]), `Option`
/// of those (`None` follows nothing) and lists of those (`Vec`, arrays).
#[diagnostic::on_unimplemented(
    message = "a #[task(branch)] function returns the downstream tasks to follow, not `{Self}`",
    label = "return a task id (`&str`, `String`), a handle (`TaskRef`), or an `Option` or `Vec` of those"
)]
pub trait IntoBranch {
    /// The tasks to follow.
    fn targets(&self) -> Vec<BranchTarget>;
}

impl IntoBranch for &str {
    fn targets(&self) -> Vec<BranchTarget> {
        vec![BranchTarget::Id((*self).to_owned())]
    }
}

impl IntoBranch for String {
    fn targets(&self) -> Vec<BranchTarget> {
        vec![BranchTarget::Id(self.clone())]
    }
}

impl IntoBranch for TaskRef {
    fn targets(&self) -> Vec<BranchTarget> {
        vec![BranchTarget::Task(*self)]
    }
}

impl<T> IntoBranch for Xcom<T> {
    fn targets(&self) -> Vec<BranchTarget> {
        vec![BranchTarget::Task(self.task())]
    }
}

impl<X: IntoBranch> IntoBranch for Option<X> {
    fn targets(&self) -> Vec<BranchTarget> {
        self.as_ref().map(IntoBranch::targets).unwrap_or_default()
    }
}

impl<X: IntoBranch> IntoBranch for Vec<X> {
    fn targets(&self) -> Vec<BranchTarget> {
        self.iter().flat_map(IntoBranch::targets).collect()
    }
}

impl<X: IntoBranch, const N: usize> IntoBranch for [X; N] {
    fn targets(&self) -> Vec<BranchTarget> {
        self.iter().flat_map(IntoBranch::targets).collect()
    }
}
