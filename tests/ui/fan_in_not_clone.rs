use taskflow::prelude::*;

struct Rows;

#[task]
fn read() -> Rows {
    Rows
}

#[task]
fn merge(parts: Vec<Rows>) -> usize {
    parts.len()
}

#[dag]
fn pipeline() {
    merge(vec![read(), read()]);
}

fn main() {}
