use taskflow::prelude::*;

#[task]
fn label(id: u64, name: String, count: u64) -> String {
    format!("{id} {name} {count}")
}

#[task]
fn count() -> u32 {
    3
}

#[dag]
fn pipeline() {
    let c = count();
    label(1, "x".to_owned(), c);
}

fn main() {}
