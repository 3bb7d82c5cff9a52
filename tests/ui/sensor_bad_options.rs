use taskflow::prelude::*;

#[sensor(mode = "wait")]
fn bad_mode() -> bool {
    true
}

#[sensor(poke_interval = "0s")]
fn no_interval() -> bool {
    true
}

#[sensor(branch)]
fn branching() -> bool {
    true
}

#[sensor(schedule = "daily")]
fn unknown() -> bool {
    true
}

#[sensor]
fn returns_nothing() {}

fn main() {}
