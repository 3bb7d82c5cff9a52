//! Proof that a `kill -9` loses nothing: a 1,000-task DAG kept in a `SqliteStore` runs in a
//! child process (`crash_child`) that is killed with SIGKILL at random instants, then
//! resumed, until it ends. Each time: no task whose success was stored runs its body again,
//! the store passes SQLite's integrity check, and in the end every state, value and keyed
//! push equals those of an uninterrupted run.
//!
//! `TASKFLOW_CRASH_SEEDS` sets how many seeds run (default 100);
//! `TASKFLOW_CRASH_SEED_BASE` the first (default 0), to replay one that failed:
//!
//! ```text
//! TASKFLOW_CRASH_SEEDS=1000 cargo nextest run -p taskflow-tests --test crash
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use taskflow::TaskState;
use taskflow::store::{SqliteStore, Store, StoredRun};
use taskflow_tests::folder::Folder;
use wait_timeout::ChildExt;

/// The longest one child process may take before it counts as hung.
const CHILD_LIMIT: Duration = Duration::from_secs(120);
/// Kills per seed before the run is left to end: fewer than the 3 interruptions that fail
/// an instance (a task running at each of 3 random kills would fail, as it should).
const KILLS: u32 = 2;
const DAG: &str = "crash_harness";
const RUN: &str = "nightly";

/// How a child process ended.
#[derive(Debug, PartialEq)]
enum Ended {
    /// It ran to the end and printed this.
    Finished(String),
    /// A signal killed it.
    Killed,
}

/// Runs the child on `store` with `mode`, bounded by [`CHILD_LIMIT`]; `per_task`: with
/// `Durability::PerTask`.
fn child(store: &Path, log: &Path, mode: &[&str], per_task: bool) -> Ended {
    let mut child = Command::new(env!("CARGO_BIN_EXE_crash_child"))
        .env("CRASH_PER_TASK", if per_task { "1" } else { "0" })
        .arg(store)
        .arg(log)
        .arg(RUN)
        .args(mode)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the crash child starts");
    let status = match child
        .wait_timeout(CHILD_LIMIT)
        .expect("waiting for the child")
    {
        Some(status) => status,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the crash child ({mode:?}) still ran after {CHILD_LIMIT:?}");
        }
    };
    let output = child.wait_with_output().expect("the child's output");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if status.success() {
        return Ended::Finished(stdout);
    }
    use std::os::unix::process::ExitStatusExt;
    match status.signal() {
        Some(_) => Ended::Killed,
        None => panic!(
            "the crash child ({mode:?}) failed: {status}\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

/// The body name of each stored instance that succeeded (as the child logs them).
fn stored_successes(store: &Path) -> BTreeSet<String> {
    let Some(run) = load(store) else {
        return BTreeSet::new();
    };
    run.instances
        .iter()
        .filter(|instance| instance.state == TaskState::Success)
        .map(|instance| match instance.map_path.as_slice() {
            [] => instance.task_id.clone(),
            path => format!("{}[{}]", instance.task_id, path[path.len() - 1]),
        })
        .collect()
}

fn load(store: &Path) -> Option<StoredRun> {
    SqliteStore::open(store)
        .expect("the store opens")
        .load_run(DAG, RUN)
        .expect("the store reads")
}

fn log_lines(log: &Path) -> Vec<String> {
    match std::fs::read_to_string(log) {
        Ok(text) => text.lines().map(str::to_owned).collect(),
        Err(_) => Vec::new(),
    }
}

/// What a run ends with: each instance's state and try count, and each XCom.
type Outcome = (
    BTreeMap<(String, Vec<u32>), TaskState>,
    BTreeMap<(String, Vec<u32>, String), serde_json::Value>,
);

fn outcome(store: &Path) -> Outcome {
    let run = load(store).expect("the run is stored");
    let mut states = BTreeMap::new();
    let mut xcoms = BTreeMap::new();
    for instance in run.instances {
        let key = (instance.task_id.clone(), instance.map_path.clone());
        assert!(
            states.insert(key.clone(), instance.state).is_none(),
            "instance {key:?} is stored twice"
        );
        let value = instance
            .value
            .map(|(type_name, value)| ("return_value".to_owned(), type_name, value));
        for (xcom_key, _, value) in value.into_iter().chain(instance.pushes) {
            let at = (key.0.clone(), key.1.clone(), xcom_key);
            assert!(
                xcoms.insert(at.clone(), value).is_none(),
                "xcom {at:?} is stored twice"
            );
        }
    }
    (states, xcoms)
}

/// A small random number generator (SplitMix64), seeded per seed.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// Runs seed `seed` to the end through kills; what it ended with.
fn crash_and_resume(seed: u64, folder: &Folder) -> Outcome {
    let store = folder.file(&format!("seed-{seed}.db"));
    let log = folder.file(&format!("seed-{seed}.log"));
    let mut random = Random(seed);
    let mut killed = 0;
    loop {
        let successes = stored_successes(&store);
        let seen = log_lines(&log).len();
        let (mode, argument) = if killed < KILLS {
            match random.below(3) {
                0 => ("kill-before", 1 + random.below(1100)),
                1 => ("kill-after", 1 + random.below(1100)),
                _ => ("kill-at", random.below(150_000)),
            }
        } else {
            ("run", 0)
        };
        let argument = argument.to_string();
        let ended = child(&store, &log, &[mode, &argument], seed % 3 == 0);
        for body in &log_lines(&log)[seen..] {
            assert!(
                !successes.contains(body),
                "seed {seed}: task `{body}` ran its body again after its success was stored \
                 (attempt {}, {mode} {argument})",
                killed + 1
            );
        }
        let opened = SqliteStore::open(&store).expect("the store opens after a kill");
        opened
            .integrity_check()
            .unwrap_or_else(|error| panic!("seed {seed}: {error}"));
        match ended {
            Ended::Finished(output) => {
                assert!(
                    output.contains("state=success"),
                    "seed {seed}: the run ended {output}"
                );
                break;
            }
            Ended::Killed => killed += 1,
        }
    }
    let ended = outcome(&store);
    let _ = std::fs::remove_file(&store);
    let _ = std::fs::remove_file(&log);
    ended
}

#[test]
fn a_run_killed_at_random_instants_resumes_to_the_values_of_an_uninterrupted_run() {
    let folder = Folder::new("crash", "seeds");
    let reference_store = folder.file("reference.db");
    let reference_log = folder.file("reference.log");
    let ended = child(&reference_store, &reference_log, &["run"], false);
    assert!(matches!(&ended, Ended::Finished(out) if out.contains("state=success")));
    let reference = outcome(&reference_store);
    assert!(
        reference.0.len() >= 1000,
        "the DAG has {} instances",
        reference.0.len()
    );
    assert!(
        reference.1.keys().any(|(_, _, key)| key == "checkpoint"),
        "the run pushes keyed values"
    );
    let seeds = setting("TASKFLOW_CRASH_SEEDS", 100);
    let base = setting("TASKFLOW_CRASH_SEED_BASE", 0);
    for seed in base..base + seeds {
        let (states, xcoms) = crash_and_resume(seed, &folder);
        assert_eq!(states, reference.0, "seed {seed}: the states differ");
        for (at, value) in &reference.1 {
            assert_eq!(
                xcoms.get(at),
                Some(value),
                "seed {seed}: xcom {at:?} differs"
            );
        }
        assert_eq!(xcoms.len(), reference.1.len(), "seed {seed}: extra xcoms");
    }
}

#[test]
fn a_task_that_kills_its_process_each_time_fails_after_three_interruptions() {
    let folder = Folder::new("crash", "die-in");
    let store = folder.file("runs.db");
    let log = folder.file("bodies.log");
    for attempt in 1..=3 {
        let ended = child(&store, &log, &["die-in", "fatal"], true);
        assert_eq!(ended, Ended::Killed, "attempt {attempt}");
    }
    let ended = child(&store, &log, &["die-in", "fatal"], true);
    let Ended::Finished(output) = ended else {
        panic!("the fourth process was killed too");
    };
    assert!(output.contains("state=failed"), "{output}");
    let bodies = log_lines(&log);
    assert_eq!(bodies.iter().filter(|b| *b == "fatal").count(), 3);
    // Everything else ran once: what was stored stayed stored across the crashes.
    assert_eq!(
        bodies.iter().filter(|b| *b == "summary").count(),
        1,
        "{output}"
    );
    let opened = SqliteStore::open(&store).unwrap();
    let tries = opened.tries(DAG, RUN, "fatal", None).unwrap();
    assert_eq!(tries.len(), 3);
    assert!(
        tries
            .iter()
            .all(|t| t.interrupted && t.state == TaskState::Failed)
    );
    let instances = opened.task_instances(DAG, RUN).unwrap();
    let fatal = instances.iter().find(|ti| ti.task_id == "fatal").unwrap();
    assert_eq!(fatal.state, TaskState::Failed);
    let error = fatal.error.as_deref().unwrap_or("");
    assert!(error.contains("interrupted 3 times"), "{error}");
    opened.integrity_check().unwrap();
}

#[test]
fn an_interrupted_try_does_not_use_up_a_retry() {
    let folder = Folder::new("crash", "die-once");
    let store = folder.file("runs.db");
    let log = folder.file("bodies.log");
    assert_eq!(
        child(&store, &log, &["die-once", "dies_once"], true),
        Ended::Killed
    );
    let Ended::Finished(output) = child(&store, &log, &["die-once", "dies_once"], true) else {
        panic!("the resumed run was killed");
    };
    // Try 1 was interrupted, try 2 failed and used the one retry, try 3 succeeded.
    assert!(output.contains("state=success"), "{output}");
    let opened = SqliteStore::open(&store).unwrap();
    let tries = opened.tries(DAG, RUN, "dies_once", None).unwrap();
    let seen: Vec<_> = tries
        .iter()
        .map(|t| (t.try_number, t.state, t.interrupted))
        .collect();
    assert_eq!(
        seen,
        [
            (1, TaskState::Failed, true),
            (2, TaskState::UpForRetry, false),
            (3, TaskState::Success, false),
        ]
    );
}
