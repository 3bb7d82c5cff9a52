use taskflow::prelude::*;

#[task(retry_delay = "1.0005s")]
fn half_a_millisecond_more() {}

#[task(execution_timeout = "1.5ms")]
fn and_a_half() {}

#[task(max_retry_delay = "99999999999999999999d")]
fn too_long() {}

fn main() {}
