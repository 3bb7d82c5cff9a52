//! The dynamic-mapping rows of the benchmark: a task expanded over N elements and reduced,
//! a mapped group of 3 tasks, and mapping nested in a mapped group, each next to the static
//! DAG of the same shape (built while wiring): run time and peak bytes per instance.

use std::time::{Duration, Instant};

use taskflow::prelude::*;
use tokio::runtime::Runtime;

use super::{counting, inc, median, settle, source};

#[task]
fn numbers(n: u64) -> Vec<u64> {
    (0..n).collect()
}

#[task]
fn total(values: Vec<u64>) -> u64 {
    values.iter().sum()
}

#[task_group]
fn three_steps(x: Xcom<u64>) -> Xcom<u64> {
    inc(inc(inc(x)))
}

#[task_group]
fn per_row(row: Xcom<u64>) -> Xcom<u64> {
    total(inc::expand(each(numbers(row))))
}

/// One DAG of a row: how to build it, its tasks (or instances), and its checked value.
struct Case {
    name: &'static str,
    build: Box<dyn Fn() -> Dag>,
    tasks: usize,
    check: Box<dyn Fn(&RunReport)>,
}

/// Per task: the median run time, the build time, and the peak bytes of build and run.
struct Measured {
    run_ns: f64,
    build_ns: f64,
    bytes: f64,
}

fn measure(runtime: &Runtime, case: &Case, reps: usize) -> Measured {
    settle();
    let base = counting::start();
    counting::count(true);
    let dag = (case.build)();
    let report = runtime.block_on(dag.run()).expect("the DAG runs");
    (case.check)(&report);
    let bytes = counting::peak_above(base) as f64;
    drop((report, dag));
    let mut builds = Vec::new();
    let runs: Vec<Duration> = (0..reps)
        .map(|_| {
            settle();
            let started = Instant::now();
            let dag = (case.build)();
            builds.push(started.elapsed());
            let started = Instant::now();
            let report = runtime.block_on(dag.run()).expect("the DAG runs");
            let took = started.elapsed();
            (case.check)(&report);
            took
        })
        .collect();
    let tasks = case.tasks as f64;
    Measured {
        run_ns: median(runs).as_nanos() as f64 / tasks,
        build_ns: median(builds).as_nanos() as f64 / tasks,
        bytes: bytes / tasks,
    }
}

/// The mapped case and its static twin, side by side.
fn row(runtime: &Runtime, reps: usize, mapped: Case, fixed: Case) {
    let m = measure(runtime, &mapped, reps);
    let s = measure(runtime, &fixed, reps);
    let verdict = |ratio: f64| if ratio <= 1.5 { "met" } else { "NOT MET" };
    let run_ratio = (m.run_ns + m.build_ns) / (s.run_ns + s.build_ns);
    let run_alone = m.run_ns / s.run_ns;
    let byte_ratio = m.bytes / s.bytes;
    println!(
        "  {:<24} {:>8} instances: build+run {:>6.1} ns ({:.1} + {:.1}), {:>6.1} B; static {:>6.1} ns ({:.1} + {:.1}), {:>6.1} B; time {:.2}x (<= 1.5x: {}), run alone {:.2}x, memory {:.2}x (<= 1.5x: {})",
        mapped.name,
        mapped.tasks,
        m.build_ns + m.run_ns,
        m.build_ns,
        m.run_ns,
        m.bytes,
        s.build_ns + s.run_ns,
        s.build_ns,
        s.run_ns,
        s.bytes,
        run_ratio,
        verdict(run_ratio),
        run_alone,
        byte_ratio,
        verdict(byte_ratio),
    );
}

/// Runs the rows with `n` elements (the group row with `n / 10`, the nested one with
/// `sqrt(n) x sqrt(n)`, at most 300 x 300) and prints them.
pub(crate) fn run(runtime: &Runtime, n: usize, reps: usize) {
    println!(
        "dynamic task mapping (per instance, medians of {reps}; the mapped DAG expands while it runs, the static one is wired while built):"
    );
    let limit = u32::try_from(n).unwrap_or(u32::MAX);
    let sum = (n as u64) * (n as u64 + 1) / 2;
    row(
        runtime,
        reps,
        Case {
            name: "expand + reduce",
            build: Box::new(move || {
                Dag::builder("bench_mapped")
                    .max_map_length(limit)
                    .build(move || {
                        total(inc::expand(each(numbers(n as u64))));
                    })
                    .expect("builds")
            }),
            tasks: n,
            check: Box::new(move |report| assert_eq!(report.xcom::<u64>("total").unwrap(), sum)),
        },
        Case {
            name: "static fan + reduce",
            build: Box::new(move || {
                Dag::build("bench_static_fan", move || {
                    let start = source();
                    let values: Vec<Xcom<u64>> = (0..n).map(|_| inc(start)).collect();
                    total(values);
                })
                .expect("builds")
            }),
            tasks: n,
            check: Box::new(move |report| {
                let expected = (super::START + 1) * n as u64;
                assert_eq!(report.xcom::<u64>("total").unwrap(), expected);
            }),
        },
    );
    let groups = (n / 10).max(1);
    let group_sum = (0..groups as u64).map(|x| x + 3).sum::<u64>();
    row(
        runtime,
        reps,
        Case {
            name: "mapped group of 3",
            build: Box::new(move || {
                Dag::builder("bench_mapped_group")
                    .max_map_length(limit)
                    .build(move || {
                        total(three_steps::expand(each(numbers(groups as u64))));
                    })
                    .expect("builds")
            }),
            tasks: groups * 3,
            check: Box::new(move |report| {
                assert_eq!(report.xcom::<u64>("total").unwrap(), group_sum)
            }),
        },
        Case {
            name: "static chains of 3",
            build: Box::new(move || {
                Dag::build("bench_static_chains", move || {
                    let ends: Vec<Xcom<u64>> =
                        (0..groups).map(|_| inc(inc(inc(source())))).collect();
                    total(ends);
                })
                .expect("builds")
            }),
            tasks: groups * 4,
            check: Box::new(move |report| {
                let expected = (super::START + 3) * groups as u64;
                assert_eq!(report.xcom::<u64>("total").unwrap(), expected);
            }),
        },
    );
    let side = ((n as f64).sqrt() as usize).min(300);
    let row_sum = (side as u64) * (side as u64 + 1) / 2;
    let nested_sum = row_sum * side as u64;
    row(
        runtime,
        reps,
        Case {
            name: "nested expand in group",
            build: Box::new(move || {
                Dag::builder("bench_nested")
                    .max_map_length(limit)
                    .build(move || {
                        let rows: Vec<u64> = vec![side as u64; side];
                        total(per_row::expand(each(rows)));
                    })
                    .expect("builds")
            }),
            tasks: side * side,
            check: Box::new(move |report| {
                assert_eq!(report.xcom::<u64>("total").unwrap(), nested_sum)
            }),
        },
        Case {
            name: "static fans of fans",
            build: Box::new(move || {
                Dag::build("bench_static_nested", move || {
                    let totals: Vec<Xcom<u64>> = (0..side)
                        .map(|_| {
                            let start = source();
                            let values: Vec<Xcom<u64>> = (0..side).map(|_| inc(start)).collect();
                            total(values)
                        })
                        .collect();
                    total(totals);
                })
                .expect("builds")
            }),
            tasks: side * side,
            check: Box::new(move |report| {
                let expected = (super::START + 1) * (side * side) as u64;
                let root = format!("total__{side}");
                assert_eq!(report.xcom::<u64>(&root).unwrap(), expected);
            }),
        },
    );
}
