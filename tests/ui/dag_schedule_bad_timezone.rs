use taskflow::prelude::*;

#[task]
fn extract() -> u64 {
    1
}

#[dag(schedule = "@daily", timezone = "Asia/Seol")]
fn misspelt() {
    extract();
}

#[dag(schedule = "@daily", timezone = "+09:00")]
fn an_offset() {
    extract();
}

fn main() {}
