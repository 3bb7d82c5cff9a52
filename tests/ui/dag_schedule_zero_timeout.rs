use taskflow::prelude::*;

#[task]
fn extract() -> u64 {
    1
}

#[dag(schedule = "@daily", dagrun_timeout = "0s")]
fn zero() {
    extract();
}

#[dag(schedule = "@daily", dagrun_timeout = "2 hours")]
fn bad_unit() {
    extract();
}

fn main() {}
