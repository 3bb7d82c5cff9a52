use taskflow::prelude::*;

#[task(short_circuit)]
fn has_rows() -> u32 {
    3
}

fn main() {}
