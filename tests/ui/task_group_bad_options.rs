use taskflow::prelude::*;

#[task_group(group_id = "extract.files")]
fn dotted() {}

#[task_group(tooltip = "files")]
fn unknown_option() {}

#[task_group(default_args(retries = 1, owner = "data-team"))]
fn unknown_default() {}

#[task_group(prefix_group_id = "no")]
fn not_a_flag() {}

#[task_group(group_id = "a", group_id = "b")]
fn twice() {}

fn main() {}
