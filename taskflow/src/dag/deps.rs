//! Ordering without data: `a >> b`, `a << b`, lists, chains (`a >> b >> c`), and [`chain`].
//!
//! Every operator returns `()`, so that `a >> b;` is a plain statement (Rust lints any other
//! unused operator result). A chain still links as in Airflow, where `a >> b` returns `b`:
//! the builder remembers the right-hand side of the last operator at each source location,
//! and `()` on the left of an operator at that location (the same expression) stands for it.
//!
//! One shape defeats this: a chain whose later operand itself runs a chain reported at the
//! same location, which happens only when a macro expands to nested chains (every location
//! inside a macro is its call site) or a function recurses inside a chain's operand. Such
//! DAGs should link with [`chain`] or one operator per statement.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::ops::{Shl, Shr};
use std::panic::Location;

use super::builder::{Builder, add_order_edge, record_chain_error, with_current};
use super::group::TaskGroupRef;
use crate::xcom::{TaskRef, Xcom};

/// One task or a list of tasks, on either side of `>>`/`<<` or as a step of [`chain`].
///
/// Implemented for [`Xcom`], [`TaskRef`], arrays, slices and `Vec`s of those, and tuples of
/// up to 12 of them (tasks of different output types: `a >> (b, c)`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a task or a list of tasks",
    label = "expected a task handle (`Xcom`, `TaskRef`) or a list of them",
    note = "`>>`, `<<` and `chain` take a handle, an array or `Vec` of handles of one type, \
            or a tuple `(a, b)` of handles of different output types"
)]
pub trait IntoTasks {
    /// Appends the tasks to `out`.
    fn collect_tasks(&self, out: &mut Vec<TaskRef>);

    /// The tasks as a list.
    fn to_tasks(&self) -> Vec<TaskRef> {
        let mut out = Vec::new();
        self.collect_tasks(&mut out);
        out
    }
}

impl<T> IntoTasks for Xcom<T> {
    fn collect_tasks(&self, out: &mut Vec<TaskRef>) {
        out.push(self.task);
    }
}

impl IntoTasks for TaskRef {
    fn collect_tasks(&self, out: &mut Vec<TaskRef>) {
        out.push(*self);
    }
}

impl IntoTasks for TaskGroupRef {
    fn collect_tasks(&self, out: &mut Vec<TaskRef>) {
        out.push(self.0);
    }
}

impl<X: IntoTasks> IntoTasks for [X] {
    fn collect_tasks(&self, out: &mut Vec<TaskRef>) {
        self.iter().for_each(|x| x.collect_tasks(out));
    }
}

impl<X: IntoTasks, const N: usize> IntoTasks for [X; N] {
    fn collect_tasks(&self, out: &mut Vec<TaskRef>) {
        self.as_slice().collect_tasks(out);
    }
}

impl<X: IntoTasks> IntoTasks for Vec<X> {
    fn collect_tasks(&self, out: &mut Vec<TaskRef>) {
        self.as_slice().collect_tasks(out);
    }
}

impl<X: IntoTasks + ?Sized> IntoTasks for &X {
    fn collect_tasks(&self, out: &mut Vec<TaskRef>) {
        (**self).collect_tasks(out);
    }
}

/// The source location of an operator: the start of its expression, shared by every
/// operator of one chain (`a >> b >> c` calls both at the location of `a`).
#[derive(Clone, Copy)]
struct Site(&'static Location<'static>);

impl PartialEq for Site {
    fn eq(&self, other: &Self) -> bool {
        (self.0.line(), self.0.column(), self.0.file())
            == (other.0.line(), other.0.column(), other.0.file())
    }
}

impl Eq for Site {}

impl Hash for Site {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.0.line(), self.0.column()).hash(state);
    }
}

/// The right-hand side of the last operator at each location, for the next operator of the
/// same chain. One entry per location, so it stays as small as the source.
#[derive(Default)]
pub(crate) struct ChainEnds(HashMap<Site, Vec<TaskRef>>);

impl ChainEnds {
    /// The tasks a chain continued at `site` stands for, if an operator there made one.
    fn get(&self, site: Site) -> Option<&[TaskRef]> {
        self.0.get(&site).map(Vec::as_slice)
    }

    /// Remembers `tasks` as the end of the chain at `site`.
    fn set(&mut self, site: Site, tasks: Vec<TaskRef>) {
        self.0.insert(site, tasks);
    }
}

/// Which side of an operator a chain continues on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// `up >> down`: the right-hand side runs after the left.
    Down,
    /// `down << up`: the left-hand side runs after the right.
    Up,
}

/// Applies one operator: `left >> right` or `left << right`, `left` being `None` when it is
/// the `()` of an operator before it in the same chain. Remembers `right` for the next one.
#[track_caller]
fn apply(left: Option<&dyn IntoTasks>, right: &dyn IntoTasks, flow: Flow) {
    let site = Site(Location::caller());
    let (left, right) = (left.map(IntoTasks::to_tasks), right.to_tasks());
    with_current(
        || "the `>>`/`<<` operator".into(),
        |builder| operate(builder, site, left, right, flow),
    );
}

/// One operator at `site`, on the DAG being built.
fn operate(
    builder: &mut Builder,
    site: Site,
    left: Option<Vec<TaskRef>>,
    right: Vec<TaskRef>,
    flow: Flow,
) {
    let Some(left) = left.or_else(|| builder.chain_ends.get(site).map(<[_]>::to_vec)) else {
        let dag_id = builder.dag_id.clone();
        builder.errors.push(crate::Error::Chain {
            dag_id,
            reason: format!(
                "`()` on the left of `>>`/`<<` at {}:{}:{} continues a chain \
                 (`a >> b >> c`), but no operator before it in the same expression began \
                 one; put a task handle there",
                site.0.file(),
                site.0.line(),
                site.0.column()
            ),
        });
        return;
    };
    for &l in &left {
        for &r in &right {
            match flow {
                Flow::Down => builder.add_order_edge(l, r),
                Flow::Up => builder.add_order_edge(r, l),
            }
        }
    }
    builder.chain_ends.set(site, right);
}

/// `a >> b`: `b` runs after `a`. `a >> b >> c` chains: `c` runs after `b`.
impl<T, R: IntoTasks> Shr<R> for Xcom<T> {
    type Output = ();
    #[track_caller]
    fn shr(self, downstream: R) {
        apply(Some(&self), &downstream, Flow::Down);
    }
}

/// `a << b`: `a` runs after `b`. `a << b << c` chains: `b` runs after `c`.
impl<T, R: IntoTasks> Shl<R> for Xcom<T> {
    type Output = ();
    #[track_caller]
    fn shl(self, upstream: R) {
        apply(Some(&self), &upstream, Flow::Up);
    }
}

/// `a >> b` on untyped references.
impl<R: IntoTasks> Shr<R> for TaskRef {
    type Output = ();
    #[track_caller]
    fn shr(self, downstream: R) {
        apply(Some(&self), &downstream, Flow::Down);
    }
}

/// `a << b` on untyped references.
impl<R: IntoTasks> Shl<R> for TaskRef {
    type Output = ();
    #[track_caller]
    fn shl(self, upstream: R) {
        apply(Some(&self), &upstream, Flow::Up);
    }
}

/// `group >> b`: `b` runs after the group's leaves.
impl<R: IntoTasks> Shr<R> for TaskGroupRef {
    type Output = ();
    #[track_caller]
    fn shr(self, downstream: R) {
        apply(Some(&self), &downstream, Flow::Down);
    }
}

/// `group << b`: the group's roots run after `b`.
impl<R: IntoTasks> Shl<R> for TaskGroupRef {
    type Output = ();
    #[track_caller]
    fn shl(self, upstream: R) {
        apply(Some(&self), &upstream, Flow::Up);
    }
}

/// The operators of a list on the left (and of `()`, the chain so far): each takes one task
/// on the right, typed or untyped. (A list on the right of a list is not an operator: Rust
/// allows these operators only where one side is a type of this crate. Use [`chain`].)
macro_rules! left_operators {
    ($([$($generic:tt)*] $left:ty => $tasks:expr;)*) => {$(
        /// `left >> c`: `c` runs after every task on the left.
        impl<$($generic)* Z> Shr<Xcom<Z>> for $left {
            type Output = ();
            #[track_caller]
            fn shr(self, downstream: Xcom<Z>) {
                let tasks: Option<&dyn IntoTasks> = $tasks(&self);
                apply(tasks, &downstream, Flow::Down);
            }
        }
        /// `left >> c` with an untyped `c`.
        impl<$($generic)*> Shr<TaskRef> for $left {
            type Output = ();
            #[track_caller]
            fn shr(self, downstream: TaskRef) {
                let tasks: Option<&dyn IntoTasks> = $tasks(&self);
                apply(tasks, &downstream, Flow::Down);
            }
        }
        /// `left >> group`: the group's roots run after every task on the left.
        impl<$($generic)*> Shr<TaskGroupRef> for $left {
            type Output = ();
            #[track_caller]
            fn shr(self, downstream: TaskGroupRef) {
                let tasks: Option<&dyn IntoTasks> = $tasks(&self);
                apply(tasks, &downstream, Flow::Down);
            }
        }
        /// `left << group`: every task on the left runs after the group's leaves.
        impl<$($generic)*> Shl<TaskGroupRef> for $left {
            type Output = ();
            #[track_caller]
            fn shl(self, upstream: TaskGroupRef) {
                let tasks: Option<&dyn IntoTasks> = $tasks(&self);
                apply(tasks, &upstream, Flow::Up);
            }
        }
        /// `left << c`: every task on the left runs after `c`.
        impl<$($generic)* Z> Shl<Xcom<Z>> for $left {
            type Output = ();
            #[track_caller]
            fn shl(self, upstream: Xcom<Z>) {
                let tasks: Option<&dyn IntoTasks> = $tasks(&self);
                apply(tasks, &upstream, Flow::Up);
            }
        }
        /// `left << c` with an untyped `c`.
        impl<$($generic)*> Shl<TaskRef> for $left {
            type Output = ();
            #[track_caller]
            fn shl(self, upstream: TaskRef) {
                let tasks: Option<&dyn IntoTasks> = $tasks(&self);
                apply(tasks, &upstream, Flow::Up);
            }
        }
    )*};
}

fn some<X: IntoTasks>(list: &X) -> Option<&dyn IntoTasks> {
    Some(list)
}

fn chained(_: &()) -> Option<&'static dyn IntoTasks> {
    None
}

macro_rules! tuples {
    ($(($($name:ident $index:tt),+))*) => {$(
        impl<$($name: IntoTasks),+> IntoTasks for ($($name,)+) {
            fn collect_tasks(&self, out: &mut Vec<TaskRef>) {
                $(self.$index.collect_tasks(out);)+
            }
        }
        impl<$($name: IntoTasks),+> ChainSteps for ($($name,)+) {
            fn steps(&self) -> Vec<Vec<TaskRef>> {
                vec![$(self.$index.to_tasks()),+]
            }
        }
        left_operators! {
            [$($name: IntoTasks,)+] ($($name,)+) => some;
        }
    )*};
}

tuples! {
    (A 0)
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
    (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, F 5)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11)
}

left_operators! {
    [X: IntoTasks, const N: usize,] [X; N] => some;
    [X: IntoTasks,] Vec<X> => some;
    [] () => chained;
}

/// The steps of a [`chain`]: a tuple of steps (of any task types), or an array or `Vec`.
pub trait ChainSteps {
    /// Each step as a list of tasks.
    fn steps(&self) -> Vec<Vec<TaskRef>>;
}

impl<X: IntoTasks, const N: usize> ChainSteps for [X; N] {
    fn steps(&self) -> Vec<Vec<TaskRef>> {
        self.iter().map(IntoTasks::to_tasks).collect()
    }
}

impl<X: IntoTasks> ChainSteps for Vec<X> {
    fn steps(&self) -> Vec<Vec<TaskRef>> {
        self.iter().map(IntoTasks::to_tasks).collect()
    }
}

/// Orders steps one after the other, like Airflow's `chain`: each task of a step runs after
/// each task of the step before; two neighbouring lists of the same length are linked pairwise.
///
/// ```
/// use taskflow::prelude::*;
///
/// #[task]
/// fn step(label: String) -> String {
///     label
/// }
///
/// let dag = Dag::build("chained", || {
///     let a = step("a");
///     let (b, c) = (step("b"), step("c"));
///     let d = step("d");
///     chain((a, [b, c], d)); // a >> [b, c] >> d
/// })?;
/// assert_eq!(dag.downstream_task_ids("step")?, ["step__1", "step__2"]);
/// assert_eq!(dag.upstream_task_ids("step__3")?, ["step__1", "step__2"]);
/// # Ok::<(), taskflow::Error>(())
/// ```
pub fn chain(steps: impl ChainSteps) {
    let steps = steps.steps();
    for pair in steps.windows(2) {
        let (up, down) = (&pair[0], &pair[1]);
        if up.len() > 1 && down.len() > 1 {
            if up.len() != down.len() {
                record_chain_error(up.len(), down.len());
                return;
            }
            up.iter()
                .zip(down)
                .for_each(|(&u, &d)| add_order_edge(u, d));
        } else {
            for &u in up {
                for &d in down {
                    add_order_edge(u, d);
                }
            }
        }
    }
}
