use taskflow::prelude::*;

// `#[cfg]` on a task leaves out everything generated for it: the function that adds the
// task and the plain function alike.
#[task]
#[cfg(any())]
fn gone() -> u32 {
    1
}

fn main() {
    let _ = Dag::build("configured", || {
        gone();
    });
    let _ = gone::call();
}
