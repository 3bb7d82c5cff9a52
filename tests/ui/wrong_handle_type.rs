use taskflow::prelude::*;

#[task]
fn name() -> String {
    "orders".to_owned()
}

#[task]
fn double(x: u64) -> u64 {
    x * 2
}

#[dag]
fn pipeline() {
    let n = name();
    double(n);
}

fn main() {}
