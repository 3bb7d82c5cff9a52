use taskflow::prelude::*;

#[task]
fn identity<T: Clone>(value: T) -> T {
    value
}

fn main() {}
