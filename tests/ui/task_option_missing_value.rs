use taskflow::prelude::*;

#[task(task_id)]
fn extract() -> u64 {
    1
}

fn main() {}
