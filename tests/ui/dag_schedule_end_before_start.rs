use taskflow::prelude::*;

#[task]
fn extract() -> u64 {
    1
}

#[dag(schedule = "@daily", start_date = "2026-02-01", end_date = "2026-01-31T23:59:59Z")]
fn backwards() {
    extract();
}

fn main() {}
