use taskflow::prelude::*;

#[task]
fn double(x: u64) -> u64 {
    x * 2
}

#[dag]
fn pipeline() {
    double("ten");
}

fn main() {}
