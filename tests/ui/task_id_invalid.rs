use taskflow::prelude::*;

#[task(task_id = "load data!")]
fn load() -> u64 {
    1
}

fn main() {}
