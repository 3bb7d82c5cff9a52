use taskflow::prelude::*;

// `Option<&T>` follows the rules of `&T`.
#[task]
fn push(values: Option<&mut Vec<u64>>, named: Option<&'a str>) {
    let _ = (values, named);
}

fn main() {}
