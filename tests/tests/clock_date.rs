//! The date a process's first clock reads. This file holds one test: it must be the first
//! thing in its process to make one of taskflow's clocks.

use std::sync::Arc;

use taskflow::Executor;
use taskflow::chrono::Utc;
use taskflow::scheduler::Scheduler;
use taskflow::store::SqliteStore;
use taskflow_tests::folder::Folder;

/// The first clock of a process once took its date before calibrating its tick counter,
/// and so ran behind the wall clock by the calibration (1 to 6 ms): every due run of a
/// scheduler started that much late.
#[test]
fn the_first_clock_of_a_process_reads_the_wall_clock_date_not_behind_it() {
    let folder = Folder::new("clock", "first");
    let store = Arc::new(SqliteStore::open(folder.file("runs.db")).unwrap());
    let scheduler = Scheduler::builder(Executor::new(), store).build().unwrap();
    let before = Utc::now();
    let now = scheduler.now();
    let after = Utc::now();
    // The two clocks may disagree by the tick counter's rounding, far below a millisecond.
    let slack = taskflow::chrono::Duration::microseconds(200);
    assert!(
        before - slack <= now && now <= after + slack,
        "the scheduler's clock reads {now}, between {before} and {after} by the wall clock"
    );
}
