use taskflow::prelude::*;

#[task(retry = 3)]
fn extract() -> u64 {
    1
}

fn main() {}
