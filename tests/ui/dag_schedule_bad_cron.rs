use taskflow::prelude::*;

#[task]
fn extract() -> u64 {
    1
}

#[dag(schedule = "61 * * * *")]
fn minute_out_of_range() {
    extract();
}

#[dag(schedule = "0 3 * *")]
fn four_fields() {
    extract();
}

#[dag(schedule = "@fortnightly")]
fn unknown_preset() {
    extract();
}

#[dag(schedule = "0s")]
fn zero_interval() {
    extract();
}

#[dag(schedule = 5)]
fn not_a_string() {
    extract();
}

fn main() {}
