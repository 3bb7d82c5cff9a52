use taskflow::prelude::*;

#[task]
fn extract() -> u64 {
    1
}

#[dag(schedule = "@daily", start_date = "2026-13-01")]
fn no_13th_month() {
    extract();
}

#[dag(schedule = "@daily", start_date = "2026-01-01T25:00:00Z")]
fn no_25th_hour() {
    extract();
}

#[dag(schedule = "@daily", end_date = "2026-01-01T06:00:00")]
fn no_offset() {
    extract();
}

fn main() {}
