use taskflow::prelude::*;

#[task]
fn extract() -> u64 {
    1
}

#[dag(schedule = "@daily", catchup = true)]
fn catchup_true() {
    extract();
}

#[dag(schedule = "@daily", catchup)]
fn catchup_flag() {
    extract();
}

fn main() {}
