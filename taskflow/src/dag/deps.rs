//! Ordering without data: `a >> b`, `a << b`, lists, and [`chain`].

use std::ops::{Shl, Shr};

use super::builder::{add_order_edge, record_chain_error};
use crate::xcom::{TaskRef, Xcom};

/// One task or a list of tasks, on either side of `>>`/`<<` or as a step of [`chain`].
///
/// Implemented for [`Xcom`], [`TaskRef`], arrays, slices and `Vec`s of those, and tuples of
/// up to 12 of them (tasks of different output types).
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

fn link(upstream: &impl IntoTasks, downstream: &impl IntoTasks) {
    let downstream = downstream.to_tasks();
    for up in upstream.to_tasks() {
        for &down in &downstream {
            add_order_edge(up, down);
        }
    }
}

/// `a >> b`: `b` runs after `a`. Returns `b`, so `a >> b >> c` chains.
impl<T, R: IntoTasks> Shr<R> for Xcom<T> {
    type Output = R;
    fn shr(self, downstream: R) -> R {
        link(&self, &downstream);
        downstream
    }
}

/// `a << b`: `a` runs after `b`. Returns `b`, as in Airflow.
impl<T, R: IntoTasks> Shl<R> for Xcom<T> {
    type Output = R;
    fn shl(self, upstream: R) -> R {
        link(&upstream, &self);
        upstream
    }
}

/// `a >> b` on untyped references.
impl<R: IntoTasks> Shr<R> for TaskRef {
    type Output = R;
    fn shr(self, downstream: R) -> R {
        link(&self, &downstream);
        downstream
    }
}

/// `a << b` on untyped references.
impl<R: IntoTasks> Shl<R> for TaskRef {
    type Output = R;
    fn shl(self, upstream: R) -> R {
        link(&upstream, &self);
        upstream
    }
}

macro_rules! list_operators {
    ($($list:ty => [$($generic:ident),*]);* $(;)?) => {$(
        /// `[a, b] >> c`: `c` runs after every task of the list. Returns `c`.
        impl<$($generic,)* Z> Shr<Xcom<Z>> for $list {
            type Output = Xcom<Z>;
            fn shr(self, downstream: Xcom<Z>) -> Xcom<Z> {
                link(&self, &downstream);
                downstream
            }
        }
        /// `[a, b] >> c` with an untyped `c`. Returns `c`.
        impl<$($generic),*> Shr<TaskRef> for $list {
            type Output = TaskRef;
            fn shr(self, downstream: TaskRef) -> TaskRef {
                link(&self, &downstream);
                downstream
            }
        }
        /// `[a, b] << c`: every task of the list runs after `c`. Returns `c`.
        impl<$($generic,)* Z> Shl<Xcom<Z>> for $list {
            type Output = Xcom<Z>;
            fn shl(self, upstream: Xcom<Z>) -> Xcom<Z> {
                link(&upstream, &self);
                upstream
            }
        }
    )*};
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

list_operators! {
    Vec<TaskRef> => [];
    (Xcom<A>, Xcom<B>) => [A, B];
    (Xcom<A>, Xcom<B>, Xcom<C>) => [A, B, C];
    (Xcom<A>, Xcom<B>, Xcom<C>, Xcom<D>) => [A, B, C, D];
    (Xcom<A>, Xcom<B>, Xcom<C>, Xcom<D>, Xcom<E>) => [A, B, C, D, E];
    (Xcom<A>, Xcom<B>, Xcom<C>, Xcom<D>, Xcom<E>, Xcom<F>) => [A, B, C, D, E, F];
}

/// `[a, b] >> c` for a list of untyped references. Returns `c`.
impl<Z, const N: usize> Shr<Xcom<Z>> for [TaskRef; N] {
    type Output = Xcom<Z>;
    fn shr(self, downstream: Xcom<Z>) -> Xcom<Z> {
        link(&self, &downstream);
        downstream
    }
}

/// `[a, b] >> c` for a list of handles of one type. Returns `c`.
impl<A, Z, const N: usize> Shr<Xcom<Z>> for [Xcom<A>; N] {
    type Output = Xcom<Z>;
    fn shr(self, downstream: Xcom<Z>) -> Xcom<Z> {
        link(&self, &downstream);
        downstream
    }
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
            link(up, down);
        }
    }
}
