use taskflow::prelude::*;

// A bad option does not hide the errors of the signature: both are reported.
#[task(retries = "three", trigger_rule = "sometimes")]
fn extract(values: &mut Vec<u64>, (a, b): (u32, u32)) {
    let _ = (values, a, b);
}

#[dag(dag_id = "")]
async fn pipeline() {}

fn main() {}
