use taskflow::prelude::*;

#[task(weight_rule = "sideways")]
fn unknown_rule() {}

#[task(pool_slots = 0)]
fn no_slots() {}

#[task(priority_weight = 3000000000)]
fn too_heavy() {}

#[task(pool = "")]
fn unnamed_pool() {}

fn main() {}
