//! The child process of the crash tests: runs (or resumes) a 1,000-task DAG kept in a
//! `SqliteStore`, and may kill itself with SIGKILL on the way.
//!
//! Usage: `crash_child <store> <bodies log> <run id> <mode>`, where mode is one of:
//! - `run`: run to the end;
//! - `kill-before N` / `kill-after N`: SIGKILL itself as the Nth task body of this process
//!   starts / once it has logged its line;
//! - `kill-at MICROS`: SIGKILL itself from a thread MICROS µs after the run starts;
//! - `die-in TASK`: the DAG gets a task TASK that kills the process in every try;
//! - `die-once TASK`: a task TASK (with one retry) that kills the process in its first try
//!   of the run, fails in its second, and succeeds in its third.
//!
//! Each body appends one line (its task id, with the map index of a mapped instance) to the
//! bodies log in a single `write`, which a SIGKILL cannot undo: the tests count bodies there.
//! The DAG resumes its run if the store has it. With `CRASH_PER_TASK=1` in the environment,
//! it writes with `Durability::PerTask`. Prints `state=<run state>` at the end.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use taskflow::prelude::*;
use taskflow::store::{Durability, SqliteStore, Store};

/// The bodies log, opened for appending.
static LOG: OnceLock<std::fs::File> = OnceLock::new();
/// Bodies started in this process.
static STARTED: AtomicU64 = AtomicU64::new(0);
/// When to kill this process: (before, after) the Nth body; 0 for never.
static KILL_BEFORE: AtomicU64 = AtomicU64::new(0);
static KILL_AFTER: AtomicU64 = AtomicU64::new(0);

#[allow(unsafe_code)] // a signal to ourselves: what a crash test is about
fn kill_self() -> ! {
    // SAFETY: `kill` on our own pid with a constant signal has no memory effects.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
    // SIGKILL cannot be caught; this is not reached.
    std::process::abort()
}

/// Marks a body of `name`: counts it, logs it, and kills the process if it is the one.
fn body(name: impl std::fmt::Display) {
    let nth = STARTED.fetch_add(1, Ordering::SeqCst) + 1;
    if KILL_BEFORE.load(Ordering::SeqCst) == nth {
        kill_self();
    }
    if let Some(mut log) = LOG.get() {
        log.write_all(format!("{name}\n").as_bytes())
            .expect("the bodies log takes a line");
    }
    if KILL_AFTER.load(Ordering::SeqCst) == nth {
        kill_self();
    }
}

/// The chains: how many, and the links of each.
const CHAINS: u64 = 10;
const LINKS: u64 = 56;
/// The fan: leaves of one source, gathered.
const LEAVES: u64 = 430;
/// The elements a mapped task maps over.
const ELEMENTS: u32 = 40;

#[task]
fn seed() -> u64 {
    body("seed");
    7
}

#[task]
fn link(ctx: &Context, previous: u64, step: u64) -> u64 {
    body(ctx.task_id());
    let next = previous
        .wrapping_mul(6364136223846793005)
        .wrapping_add(step);
    if step % 8 == 0 {
        ctx.xcom_push("checkpoint", next % 1000);
    }
    next
}

#[task]
fn chain_end(ctx: &Context, last: u64) -> String {
    body(ctx.task_id());
    format!("{:x}", last)
}

#[task]
fn leaf(ctx: &Context, seed: u64, index: u64) -> String {
    body(ctx.task_id());
    format!("leaf-{}", (seed + index) % 97)
}

#[task]
fn gather_leaves(ctx: &Context, leaves: Vec<String>) -> BTreeMap<String, u64> {
    body(ctx.task_id());
    let mut counts = BTreeMap::new();
    for leaf in leaves {
        *counts.entry(leaf).or_default() += 1;
    }
    counts
}

#[task]
fn elements(seed: u64) -> Vec<u32> {
    body("elements");
    (0..ELEMENTS).map(|i| i + seed as u32).collect()
}

#[task]
fn square(ctx: &Context, x: u32) -> f64 {
    body(format!("square[{}]", ctx.map_index().unwrap_or(u32::MAX)));
    ctx.xcom_push("root", f64::from(x).sqrt());
    f64::from(x) * f64::from(x)
}

#[task]
fn sum_squares(ctx: &Context, squares: Vec<f64>) -> f64 {
    body(ctx.task_id());
    let roots: Vec<f64> = ctx.xcom_pull_mapped("square", "root").unwrap_or_default();
    squares.iter().sum::<f64>() + roots.iter().sum::<f64>()
}

#[task]
fn summary(
    ctx: &Context,
    ends: Vec<String>,
    counts: BTreeMap<String, u64>,
    squares: f64,
) -> (usize, u64, f64) {
    body(ctx.task_id());
    let checkpoint: u64 = ctx.xcom_pull("link__8", "checkpoint").unwrap_or(u64::MAX);
    (
        ends.len(),
        counts.values().sum::<u64>() + checkpoint,
        squares,
    )
}

#[task]
fn fatal(ctx: &Context) -> u32 {
    body(ctx.task_id());
    kill_self()
}

#[task(retries = 1, retry_delay = "0s")]
fn dies_once(ctx: &Context) -> Result<u32, TaskError> {
    body(format!("dies_once try {}", ctx.try_number()));
    match ctx.try_number() {
        1 => kill_self(),
        2 => Err(TaskError::msg("fails once after the crash")),
        _ => Ok(3),
    }
}

/// The DAG: 10 chains of 56 links, a fan of 430 leaves gathered, a mapped task of 40
/// instances reduced, and a summary of all three (1,006 tasks, 1,046 with the instances);
/// with `extra`, a task after the summary that kills the process.
fn build(extra: Option<(&str, String)>) -> taskflow::Result<Dag> {
    Dag::build("crash_harness", || {
        let start = seed();
        let mut ends = Vec::new();
        for chain in 0..CHAINS {
            let mut value = start;
            for step in 0..LINKS {
                value = link(value, chain * LINKS + step);
            }
            ends.push(chain_end(value));
        }
        let leaves: Vec<_> = (0..LEAVES).map(|index| leaf(start, index)).collect();
        let counts = gather_leaves(leaves);
        let squares = sum_squares(square::expand(each(elements(start))));
        let done = summary(ends, counts, squares);
        // The dying task runs last, alone: every instance running when a process dies is
        // interrupted, and these tests count the dying task's interruptions.
        match extra {
            Some(("die-in", _)) => {
                done >> fatal();
            }
            Some(("die-once", _)) => {
                done >> dies_once();
            }
            _ => {}
        }
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [store, log, run_id, mode, rest @ ..] = args.as_slice() else {
        return Err("usage: crash_child <store> <bodies log> <run id> <mode> [arg]".into());
    };
    let argument = rest.first().cloned().unwrap_or_default();
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let _ = LOG.set(file);
    let number = || argument.parse::<u64>();
    let extra = match mode.as_str() {
        "run" => None,
        "kill-before" => {
            KILL_BEFORE.store(number()?, Ordering::SeqCst);
            None
        }
        "kill-after" => {
            KILL_AFTER.store(number()?, Ordering::SeqCst);
            None
        }
        "kill-at" => {
            let wait = Duration::from_micros(number()?);
            std::thread::spawn(move || {
                std::thread::sleep(wait);
                kill_self();
            });
            None
        }
        "die-in" => Some(("die-in", argument.clone())),
        "die-once" => Some(("die-once", argument.clone())),
        other => return Err(format!("unknown mode `{other}`").into()),
    };
    let dag = build(extra)?;
    let store = Arc::new(SqliteStore::open(store)?);
    let durability = if std::env::var("CRASH_PER_TASK").is_ok_and(|v| v == "1") {
        Durability::PerTask
    } else {
        Durability::GroupCommit
    };
    let mut options = RunOptions::new()
        .store(store.clone())
        .durability(durability);
    options = if store.dag_runs("crash_harness", 1, 0)?.is_empty() {
        options.run_id(run_id.as_str())
    } else {
        options.resume(run_id.as_str())
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let report = runtime.block_on(dag.run_with(options))?;
    if let Some(error) = report.store_error() {
        return Err(format!("the store failed: {error}").into());
    }
    println!("state={}", report.state_of_run());
    for note in report.resume_notes() {
        println!("note={note}");
    }
    for state in [TaskState::Failed, TaskState::UpstreamFailed] {
        for task in report.task_ids_in(state) {
            let error = report.error(&task).unwrap_or_default();
            println!("{state}={task}: {error}");
        }
    }
    Ok(())
}
