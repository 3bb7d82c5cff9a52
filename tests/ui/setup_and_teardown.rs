use taskflow::prelude::*;

#[task(setup, teardown)]
fn cluster() {}

fn main() {}
