use taskflow::prelude::*;

#[task(task_id = 42)]
fn extract() -> u64 {
    1
}

fn main() {}
