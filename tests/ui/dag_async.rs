use taskflow::prelude::*;

#[task]
fn extract() -> u64 {
    1
}

#[dag]
async fn pipeline() {
    extract();
}

fn main() {}
