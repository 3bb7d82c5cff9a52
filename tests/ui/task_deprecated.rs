#![deny(deprecated)]

use taskflow::prelude::*;

// `#[deprecated]` warns where the task is added and where its plain function is called,
// not inside the code generated for it.
#[task]
#[deprecated(note = "use `extract_v2`")]
fn extract() -> u32 {
    1
}

fn main() {
    let _ = Dag::build("old", || {
        extract();
    });
    let _ = extract::call();
}
