//! The priority-weight rows: `Dag::build` and the first computation of every task's
//! effective weight (as on submitting to an `Executor` that counts tries) for graphs whose
//! paths branch and meet again (a chain of diamonds, a ladder) and for the plain shapes.

use std::time::{Duration, Instant};

use taskflow::prelude::*;

use super::{median, ms};

#[task]
fn step() {}

#[derive(Clone, Copy)]
enum Shape {
    /// `top -> (left, right) -> bottom`, the bottom being the next diamond's top.
    Diamonds,
    /// Two chains, upper and lower, with a rung from each upper task to its lower one.
    Ladder,
    Chain,
    /// `source -> N -> sink`.
    Fan,
    /// A binary reduction: leaves summed pairwise up to one root.
    Tree,
    /// A square lattice: each task before its right and lower neighbours.
    Grid,
}

impl Shape {
    fn name(self) -> &'static str {
        match self {
            Shape::Diamonds => "diamonds",
            Shape::Ladder => "ladder",
            Shape::Chain => "chain",
            Shape::Fan => "fan",
            Shape::Tree => "tree",
            Shape::Grid => "grid",
        }
    }
}

/// A DAG of about `n` tasks of `shape`, and the weight its first task must have.
fn build(shape: Shape, n: usize) -> (Dag, i32) {
    let mut first_weight = 0;
    let dag = Dag::build(format!("weights_{}", shape.name()), || {
        let first = step().task();
        first_weight = match shape {
            Shape::Diamonds => {
                let mut top = first;
                for _ in 0..n / 3 {
                    let (left, right) = (step().task(), step().task());
                    let bottom = step().task();
                    top >> [left, right];
                    left >> bottom;
                    right >> bottom;
                    top = bottom;
                }
                1 + 3 * (n / 3)
            }
            Shape::Ladder => {
                let (mut upper, mut lower) = (first, step().task());
                upper >> lower;
                for _ in 1..n / 2 {
                    let (next_upper, next_lower) = (step().task(), step().task());
                    upper >> next_upper;
                    lower >> next_lower;
                    next_upper >> next_lower;
                    (upper, lower) = (next_upper, next_lower);
                }
                2 * (n / 2).max(1)
            }
            Shape::Chain => {
                let mut last = first;
                for _ in 1..n {
                    let next = step().task();
                    last >> next;
                    last = next;
                }
                n
            }
            Shape::Fan => {
                let middles: Vec<TaskRef> = (0..n).map(|_| step().task()).collect();
                first >> middles.clone();
                middles >> step().task();
                n + 2
            }
            Shape::Tree => {
                let mut level: Vec<TaskRef> = std::iter::once(first)
                    .chain((1..n).map(|_| step().task()))
                    .collect();
                let mut depth = 1;
                while level.len() > 1 {
                    level = level
                        .chunks(2)
                        .map(|pair| {
                            let join = step().task();
                            for &task in pair {
                                task >> join;
                            }
                            join
                        })
                        .collect();
                    depth += 1;
                }
                depth
            }
            Shape::Grid => {
                let side = (n as f64).sqrt() as usize;
                let mut above: Vec<TaskRef> = Vec::new();
                for row in 0..side {
                    let mut line: Vec<TaskRef> = Vec::with_capacity(side);
                    for column in 0..side {
                        let task = if row + column == 0 {
                            first
                        } else {
                            step().task()
                        };
                        if let Some(&left) = line.last() {
                            left >> task;
                        }
                        if let Some(&up) = above.get(column) {
                            up >> task;
                        }
                        line.push(task);
                    }
                    above = line;
                }
                side * side
            }
        } as i32;
    })
    .unwrap_or_else(|error| panic!("{} N={n}: Dag::build failed: {error}", shape.name()));
    (dag, first_weight)
}

/// Build and weights time of one rep.
fn sample(shape: Shape, n: usize) -> (Duration, Duration, usize) {
    let started = Instant::now();
    let (dag, want) = build(shape, n);
    let built = started.elapsed();
    let started = Instant::now();
    let weight = dag.priority_weight("step").expect("the first task");
    let weighed = started.elapsed();
    assert_eq!(
        weight,
        want,
        "{} N={n}: wrong weight of the first task",
        shape.name()
    );
    (built, weighed, dag.len())
}

/// Runs the rows and prints them.
pub(crate) fn run(full: bool, reps: usize) {
    let started = Instant::now();
    let rows: &[(Shape, usize)] = if full {
        &[
            (Shape::Diamonds, 100_000),
            (Shape::Diamonds, 300_000),
            (Shape::Ladder, 30_000),
            (Shape::Ladder, 100_000),
            (Shape::Ladder, 200_000),
            (Shape::Chain, 100_000),
            (Shape::Fan, 100_000),
            (Shape::Tree, 100_000),
            (Shape::Grid, 10_000),
            (Shape::Grid, 100_000),
        ]
    } else {
        &[
            (Shape::Diamonds, 1_000),
            (Shape::Ladder, 1_000),
            (Shape::Chain, 1_000),
            (Shape::Fan, 1_000),
            (Shape::Tree, 1_000),
            (Shape::Grid, 1_000),
        ]
    };
    println!("priority weights on first use (medians of {reps}):");
    for &(shape, n) in rows {
        let samples: Vec<_> = (0..reps).map(|_| sample(shape, n)).collect();
        let tasks = samples[0].2;
        let build = median(samples.iter().map(|s| s.0).collect());
        let weights = median(samples.iter().map(|s| s.1).collect());
        let per_task = |d: Duration| d.as_nanos() as f64 / tasks as f64;
        println!(
            "  {:<9} {tasks:>7} tasks  build {:>9} ({:>6.1} ns/task)  weights {:>9} ({:>6.1} ns/task)",
            shape.name(),
            ms(build),
            per_task(build),
            ms(weights),
            per_task(weights),
        );
    }
    eprintln!("  priority weights: {} in all", ms(started.elapsed()));
}
