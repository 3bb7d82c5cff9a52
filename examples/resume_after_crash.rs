//! A nightly job kept in a SQLite store, killed halfway with SIGKILL (a deploy, an OOM
//! kill, a power cut), then resumed by its run id: the batches whose success was stored keep
//! it and give their stored values, the rest run.
//!
//! ```text
//! cargo run --example resume_after_crash
//! ```
//!
//! The example starts a copy of itself that runs the job (its log shows each state change),
//! kills it once ten batches are stored, shows what the store kept, and resumes the run in
//! this process. To copy it: keep [`nightly`] and the two `RunOptions` lines of [`resume`]
//! and [`run_child`]; the store is one file.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use taskflow::events::RunLog;
use taskflow::prelude::*;
use taskflow::store::{Durability, SqliteStore, Store};

/// The run's id: what the resumed run asks the store for.
const RUN_ID: &str = "nightly__2026-12-01";
/// Batches of the job.
const BATCHES: u64 = 24;
/// The job is killed once this many batches are stored.
const KILL_AFTER: usize = 10;

#[task]
fn list_batches() -> Vec<u64> {
    (1..=BATCHES).collect()
}

/// One batch's work: a checksum of its rows (slow enough to watch).
#[task]
async fn process_batch(batch: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(60)).await;
    (1..=1000).map(|row| row * batch % 97).sum()
}

#[task]
fn publish(checksums: Vec<u64>) -> u64 {
    checksums.iter().sum()
}

/// The job: list the batches, process each (mapped), publish the total.
pub fn nightly() -> taskflow::Result<Dag> {
    Dag::build("nightly", || {
        let batches = list_batches();
        publish(
            process_batch::with(TaskOptions::new().max_active_tis_per_dag(4)).expand(each(batches)),
        );
    })
}

/// The child: runs the job from the start, keeping it in the store at `path`; it never
/// ends on its own, as the parent kills it.
async fn run_child(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let store = Arc::new(SqliteStore::open(path)?);
    let options = RunOptions::new()
        .run_id(RUN_ID)
        .store(store)
        .durability(Durability::PerTask)
        .listener(RunLog::stderr());
    nightly()?.run_with(options).await?;
    Ok(())
}

/// The batches whose success the store at `path` holds.
fn stored_batches(path: &Path) -> taskflow::Result<usize> {
    let store = SqliteStore::open(path)?;
    Ok(store
        .task_instances("nightly", RUN_ID)?
        .iter()
        .filter(|ti| ti.task_id == "process_batch" && ti.map_index.is_some())
        .filter(|ti| ti.state == TaskState::Success)
        .count())
}

/// Starts `child` (which runs the job into the store at `path`), kills it with SIGKILL
/// once [`KILL_AFTER`] batches are stored, and returns how many were.
pub fn crash(mut child: Command, path: &Path) -> Result<usize, Box<dyn std::error::Error>> {
    let mut child = child.spawn()?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait()? {
            return Err(format!("the job ended before it was killed: {status}").into());
        }
        // The child may not have created the store yet.
        let stored = if path.exists() {
            stored_batches(path).unwrap_or(0)
        } else {
            0
        };
        if stored >= KILL_AFTER {
            child.kill()?; // SIGKILL on Unix: no destructor, no flush, as a crash
            child.wait()?;
            return Ok(stored_batches(path)?);
        }
        if Instant::now() > deadline {
            child.kill()?;
            return Err("the job stored too few batches within a minute".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Resumes the killed run from the store at `path`.
pub async fn resume(path: &Path) -> Result<RunReport, Box<dyn std::error::Error>> {
    let store = Arc::new(SqliteStore::open(path)?);
    let options = RunOptions::new()
        .store(store)
        .resume(RUN_ID)
        .listener(RunLog::stderr());
    Ok(nightly()?.run_with(options).await?)
}

/// Where the example keeps its store: a fresh folder under the system's temporary one.
fn store_path() -> std::io::Result<PathBuf> {
    let folder = std::env::temp_dir().join(format!(
        "taskflow-resume-after-crash-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder)?;
    Ok(folder.join("runs.db"))
}

#[cfg_attr(test, allow(dead_code))]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, path] = args.as_slice()
        && flag == "--child"
    {
        return run_child(Path::new(path)).await;
    }
    let path = store_path()?;
    println!(
        "running the nightly job in a child process, kept in {}",
        path.display()
    );
    let mut child = Command::new(std::env::current_exe()?);
    child.arg("--child").arg(&path);
    let stored = crash(child, &path)?;
    println!("\nkilled the job with SIGKILL; the store kept {stored} of {BATCHES} batches:");
    let store = SqliteStore::open(&path)?;
    for ti in store.task_instances("nightly", RUN_ID)? {
        let index = ti.map_index.map(|i| format!("[{i}]")).unwrap_or_default();
        println!("  {}{index}: {}", ti.task_id, ti.state);
    }
    println!("\nresuming run {RUN_ID}:");
    let report = resume(&path).await?;
    print!("{report}");
    let ran: Vec<String> = report
        .instances("process_batch")
        .iter()
        .filter(|instance| !instance.restored)
        .filter_map(|instance| instance.map_index.map(|i| i.to_string()))
        .collect();
    println!(
        "batches run again: {} (the others kept their stored values); total {}",
        ran.join(", "),
        report.xcom::<u64>("publish")?
    );
    let _ = std::fs::remove_dir_all(path.parent().unwrap_or(&path));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Not a test of its own: the child process of the test below, which runs it by name.
    #[tokio::test]
    #[ignore = "the child process of `a_killed_job_resumes_where_it_stopped`"]
    async fn child_job() {
        let path = std::env::var("RESUME_AFTER_CRASH_STORE").expect("started by the test");
        run_child(Path::new(&path)).await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_killed_job_resumes_where_it_stopped() {
        let path = store_path().unwrap();
        let mut child = Command::new(std::env::current_exe().unwrap());
        child
            .args(["--exact", "tests::child_job", "--ignored", "--nocapture"])
            .env("RESUME_AFTER_CRASH_STORE", &path)
            .stderr(std::process::Stdio::null())
            .stdout(std::process::Stdio::null());
        let stored = crash(child, &path).unwrap();
        assert!((KILL_AFTER..BATCHES as usize).contains(&stored), "{stored}");
        // Bounded: a resume that hangs fails the test.
        let report = tokio::time::timeout(Duration::from_secs(60), resume(&path))
            .await
            .expect("the resumed run ends within a minute")
            .unwrap();
        assert!(report.succeeded());
        let expected: u64 = (1..=BATCHES)
            .map(|batch| (1..=1000).map(|row| row * batch % 97).sum::<u64>())
            .sum();
        assert_eq!(report.xcom::<u64>("publish").unwrap(), expected);
        // The stored batches did not run again.
        let ran = report
            .instances("process_batch")
            .iter()
            .filter(|instance| !instance.restored)
            .count();
        assert_eq!(ran, BATCHES as usize - stored);
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}
