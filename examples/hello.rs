//! The smallest DAG: three tasks in a line. `name` returns a value, `greet` takes it (and a
//! literal) and returns the greeting, `say` prints it. Calling the tasks inside the `#[dag]`
//! function only wires them; `.run().await` runs them.
//!
//! Run it with `cargo run --example hello`.

use taskflow::events::RunLog;
use taskflow::prelude::*;

#[task]
fn name() -> String {
    "world".to_string()
}

#[task]
fn greet(greeting: String, name: String) -> String {
    format!("{greeting}, {name}!")
}

#[task]
fn say(message: String) {
    println!("{message}");
}

#[dag]
fn hello() {
    let who = name(); // an Xcom<String>: a handle to the value `name` will return
    let message = greet("Hello", who); // a literal and a handle
    say(message);
}

#[cfg_attr(test, allow(dead_code))]
#[tokio::main]
async fn main() -> taskflow::Result<()> {
    // A log line per state change on standard error, as `dag.test()` prints by itself.
    let options = RunOptions::new().listener(RunLog::stderr());
    let report = hello()?.run_with(options).await?;
    print!("{report}"); // a table: task, state, tries, start, duration, error
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greets_the_world() {
        let report = hello().test().unwrap();
        assert!(report.succeeded());
        assert_eq!(
            report.task_ids_in(TaskState::Success),
            ["name", "greet", "say"]
        );
        assert_eq!(report.xcom::<String>("greet").unwrap(), "Hello, world!");
    }
}
