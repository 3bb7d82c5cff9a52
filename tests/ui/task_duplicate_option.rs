use taskflow::prelude::*;

#[task(task_id = "first", task_id = "second")]
fn extract() -> u64 {
    1
}

fn main() {}
