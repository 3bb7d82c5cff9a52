use taskflow::prelude::*;

#[task(retries = 2, retry_delay = "30 seconds")]
fn extract() -> u64 {
    1
}

fn main() {}
