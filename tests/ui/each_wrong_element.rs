use taskflow::prelude::*;

#[task]
fn files() -> Vec<String> {
    vec!["a.csv".into()]
}

#[task]
fn size(bytes: u64) -> u64 {
    bytes
}

#[dag]
fn pipeline() {
    size::expand(each(files()));
}

fn main() {}
