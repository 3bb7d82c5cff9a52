use taskflow::prelude::*;

#[sensor]
fn counts() -> u32 {
    3
}

fn main() {}
