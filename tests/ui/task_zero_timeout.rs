use taskflow::prelude::*;

#[task(execution_timeout = "0s")]
fn extract() -> u64 {
    1
}

fn main() {}
