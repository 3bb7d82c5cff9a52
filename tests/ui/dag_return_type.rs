use taskflow::prelude::*;

#[task]
fn extract() -> u64 {
    1
}

#[dag]
fn pipeline() -> Xcom<u64> {
    extract()
}

fn main() {}
