use taskflow::prelude::*;

#[task]
fn count() -> u64 {
    3
}

// An `Option<&str>` parameter reads an upstream `String` (or `Option<String>`).
#[task(trigger_rule = "all_done")]
fn label(name: Option<&str>) -> String {
    name.unwrap_or("none").to_owned()
}

fn main() {
    let _ = Dag::build("labels", || {
        label(count());
    });
}
