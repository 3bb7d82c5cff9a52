use taskflow::prelude::*;

// A return type named `Result` is taken for `Result<T, E>`; another type of that name is
// an error that says how to return it as a plain value.
mod report {
    #[derive(Clone)]
    pub struct Result {
        pub rows: u32,
    }
}

#[task]
fn summarize() -> report::Result {
    report::Result { rows: 1 }
}

fn main() {}
