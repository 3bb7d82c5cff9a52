use taskflow::prelude::*;

#[task(retries = 3)]
fn extract() -> u64 {
    1
}

fn main() {}
