use taskflow::prelude::*;

#[task]
struct Extract {
    rows: u64,
}

fn main() {
    let _ = Extract { rows: 1 }.rows;
}
