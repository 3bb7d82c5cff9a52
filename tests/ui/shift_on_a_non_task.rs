use taskflow::prelude::*;

#[task]
fn count() -> u64 {
    3
}

#[dag]
fn pipeline() {
    // Not a task: the hint names what `>>` takes, including the tuple form for handles of
    // different types.
    count() >> 5;
}

fn main() {}
