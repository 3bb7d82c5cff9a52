use taskflow::prelude::*;

#[task]
fn extract() -> u64 {
    1
}

#[dag(schedule = "@daily")]
fn pipeline() {
    extract();
}

fn main() {}
