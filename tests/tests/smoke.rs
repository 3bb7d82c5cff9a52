//! Smoke test: a small DAG with literals, handles, an async task, a context and a shared value.

use taskflow::prelude::*;

#[task]
fn extract() -> Vec<u64> {
    vec![1, 2, 3]
}

#[task]
fn total(values: Vec<u64>, bonus: u64) -> u64 {
    values.iter().sum::<u64>() + bonus
}

#[task]
async fn double(x: u64) -> Result<u64, TaskError> {
    tokio::task::yield_now().await;
    Ok(x * 2)
}

#[task]
fn describe(ctx: &Context, x: &u64) -> String {
    format!("{} {} {}", ctx.task_id(), ctx.try_number(), x)
}

#[dag]
fn smoke() {
    let values = extract();
    let t = total(values, 10);
    let d = double(t);
    describe(d);
    describe(t);
}

#[test]
fn smoke_runs() {
    let report = smoke().test().unwrap();
    println!("{report:?}");
    assert!(report.succeeded());
    assert_eq!(report.xcom::<u64>("total").unwrap(), 16);
    assert_eq!(report.xcom::<u64>("double").unwrap(), 32);
    assert_eq!(report.xcom::<String>("describe").unwrap(), "describe 1 32");
    assert_eq!(
        report.xcom::<String>("describe__1").unwrap(),
        "describe__1 1 16"
    );
}
