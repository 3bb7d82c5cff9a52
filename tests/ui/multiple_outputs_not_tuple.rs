use taskflow::prelude::*;

#[task(multiple_outputs)]
fn split() -> u32 {
    3
}

fn main() {}
