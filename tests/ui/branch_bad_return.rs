use taskflow::prelude::*;

#[task(branch)]
fn pick() -> u32 {
    3
}

fn main() {}
