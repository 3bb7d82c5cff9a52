use taskflow::prelude::*;

// A `Result` under another name fails the task with its `Err`, so the error type must
// convert into `TaskError`, as for a `Result` written out.
#[derive(Debug)]
struct NotAnError;

type Outcome<T> = Result<T, NotAnError>;

#[task]
fn load() -> Outcome<u32> {
    Ok(1)
}

fn main() {}
