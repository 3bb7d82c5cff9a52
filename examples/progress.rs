//! A progress bar for a long run: some 4,000 tasks (40 partitions of 100 steps each, and
//! their sum), with the opt-in `ProgressBar` listener (feature `progress`). Run it with
//! `cargo run --example progress`: the bar shows on a terminal; the run's totals follow.

use std::time::Duration;

use taskflow::events::ProgressBar;
use taskflow::prelude::*;

const PARTITIONS: u32 = 40;
const STEPS: u32 = 100;

/// The first step of a partition.
#[task]
fn read_partition(partition: u32) -> u64 {
    u64::from(partition)
}

/// One step of work on a partition's running total.
#[task]
async fn step(total: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(2)).await;
    total + 1
}

/// Adds a partition's total to the sum of those before it.
#[task]
fn add(sum: u64, total: u64) -> u64 {
    sum + total
}

#[dag]
fn partitions() {
    let mut sum = read_partition(0);
    for partition in 0..PARTITIONS {
        let mut total = read_partition(partition);
        for _ in 1..STEPS {
            total = step(total);
        }
        sum = add::with(format!("add_{partition}")).add(sum, total);
    }
}

#[cfg_attr(test, allow(dead_code))]
#[tokio::main]
async fn main() -> taskflow::Result<()> {
    let options = RunOptions::new().listener(ProgressBar::new());
    let report = partitions()?.run_with(options).await?;
    println!(
        "dag {}: {} tasks {} in {:.1?}; total {}",
        report.dag_id(),
        report.tasks().count(),
        report.state_of_run(),
        report.duration(),
        report.xcom::<u64>(&format!("add_{}", PARTITIONS - 1))?
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_partition_adds_its_steps() {
        let report = partitions()
            .unwrap()
            .test_with(RunOptions::new().log(false))
            .unwrap();
        assert!(report.succeeded());
        assert_eq!(
            report.tasks().count(),
            (PARTITIONS * (STEPS + 1) + 1) as usize
        );
        let expected: u64 = (0..PARTITIONS).map(|p| u64::from(p + STEPS - 1)).sum();
        let last = format!("add_{}", PARTITIONS - 1);
        assert_eq!(report.xcom::<u64>(&last).unwrap(), expected);
    }
}
