use taskflow::prelude::*;

#[dag(default_args(retries = 1, owner = "data-team"))]
fn etl() {}

fn main() {}
