use taskflow::prelude::*;

#[task]
fn add(a: u64, b: u64) -> u64 {
    a + b
}

#[dag]
fn pipeline() {
    add(1);
}

fn main() {}
