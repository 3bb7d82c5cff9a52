use taskflow::prelude::*;

#[task(trigger_rule = "all_sucess")]
fn report() -> u64 {
    1
}

fn main() {}
