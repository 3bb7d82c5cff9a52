//! Waits for a file to land, then loads it. The sensor checks every second in reschedule
//! mode (it holds no worker or slot between checks); a second thread drops the file in
//! after a few seconds, and the downstream task runs as soon as the next check sees it.
//!
//! Run it with `cargo run --example wait_for_file`. To drop the file in yourself, give a
//! directory: `cargo run --example wait_for_file -- /tmp/landing`, then, within a minute,
//! `echo 'id,amount' > /tmp/landing/orders.csv`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use taskflow::events::RunLog;
use taskflow::prelude::*;
use taskflow::sensors::file_sensor;
use taskflow::{SensorMode, SensorSettings};

#[task]
fn load(paths: Vec<PathBuf>) -> Result<usize, TaskError> {
    let mut rows = 0;
    for path in &paths {
        let text = std::fs::read_to_string(path)?;
        rows += text.lines().count().saturating_sub(1);
        println!(
            "load: {} ({} rows)",
            path.display(),
            text.lines().count().saturating_sub(1)
        );
    }
    Ok(rows)
}

/// Waits for `*.csv` files in `dir` (checking every `interval`, for up to a minute), then
/// loads them.
fn landing(dir: &Path, interval: Duration) -> taskflow::Result<Dag> {
    let pattern = format!("{}/*.csv", dir.display());
    let settings = SensorSettings::DEFAULT
        .with_poke_interval(interval)
        .with_timeout(Duration::from_secs(60))
        .with_mode(SensorMode::Reschedule);
    Dag::build("wait_for_file", || {
        let files =
            file_sensor::with(TaskOptions::new().sensor(settings)).add(pattern.as_str(), true);
        load(files);
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let given = std::env::args().nth(1).map(PathBuf::from);
    let dir = given.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("taskflow_landing_{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir)?;
    println!("waiting for {}/*.csv ...", dir.display());
    if given.is_none() {
        let file = dir.join("orders.csv");
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(3));
            println!("(another process drops {} in)", file.display());
            let _ = std::fs::write(&file, "id,amount\n1,12.50\n2,80.00\n");
        });
    }
    let options = RunOptions::new().listener(RunLog::stderr());
    let report = landing(&dir, Duration::from_secs(1))?
        .run_with(options)
        .await?;
    print!("{report}");
    println!("loaded {} rows", report.xcom::<usize>("load").unwrap_or(0));
    if given.is_none() {
        std::fs::remove_dir_all(&dir)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_downstream_task_runs_once_the_file_is_there() {
        let dir =
            std::env::temp_dir().join(format!("taskflow_wait_for_file_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("orders.csv"), "id,amount\n1,2\n").unwrap();
        let report = landing(&dir, Duration::from_secs(1))
            .unwrap()
            .test()
            .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(report.state("file_sensor"), TaskState::Success);
        assert_eq!(report.xcom::<usize>("load").unwrap(), 1);
    }

    #[test]
    fn without_a_file_the_sensor_times_out_after_a_virtual_minute() {
        let dir =
            std::env::temp_dir().join(format!("taskflow_wait_for_none_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let report = landing(&dir, Duration::from_secs(1))
            .unwrap()
            .test()
            .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(report.state("file_sensor"), TaskState::Failed);
        assert_eq!(report.state("load"), TaskState::UpstreamFailed);
    }
}
