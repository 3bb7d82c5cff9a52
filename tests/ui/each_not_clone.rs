use taskflow::prelude::*;

struct Rows;

#[task]
fn read() -> Vec<Rows> {
    vec![Rows]
}

#[task]
fn parse(rows: Rows) -> usize {
    let _ = rows;
    1
}

#[dag]
fn pipeline() {
    parse::expand(each(read()));
}

fn main() {}
