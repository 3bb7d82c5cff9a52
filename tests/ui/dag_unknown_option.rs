use taskflow::prelude::*;

#[task]
fn extract() -> u64 {
    1
}

#[dag(schedule_interval = "@daily")]
fn pipeline() {
    extract();
}

fn main() {}
