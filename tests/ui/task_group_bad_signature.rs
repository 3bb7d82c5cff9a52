use taskflow::prelude::*;

#[task]
fn one() -> u32 {
    1
}

#[task_group]
async fn later() -> Xcom<u32> {
    one()
}

#[task_group]
fn destructured((a, b): (u32, u32)) {
    let _ = (a, b);
    one();
}

#[task_group]
struct Extract;

fn main() {}
