//! `#[task]`, `#[sensor]` and `#[dag]` used the ways users write them beyond the basics:
//! options forwarded through `macro_rules!`, exact durations, foreign types that share a
//! name with taskflow's, `Result` aliases, and user attributes on task functions.

use std::time::Duration;

use taskflow::prelude::*;

/// Declares a task with every kind of option given through `$x:literal` fragments.
macro_rules! task_from_literals {
    ($name:ident, $id:literal, $rule:literal, $pool:literal, $delay:literal, $retries:literal,
     $weight:literal, $rule_of_weight:literal, $slots:literal, $flag:literal) => {
        #[task(
                                                            task_id = $id,
                                                            trigger_rule = $rule,
                                                            pool = $pool,
                                                            retry_delay = $delay,
                                                            max_retry_delay = $delay,
                                                            execution_timeout = $delay,
                                                            retries = $retries,
                                                            priority_weight = $weight,
                                                            weight_rule = $rule_of_weight,
                                                            pool_slots = $slots,
                                                            max_active_tis_per_dag = $slots,
                                                            retry_exponential_backoff = $flag
                                                        )]
        fn $name() -> u32 {
            7
        }
    };
}

task_from_literals!(
    from_literals,
    "given_id",
    "all_done",
    "etl",
    "1.001s",
    3,
    5,
    "absolute",
    2,
    true
);

fn noted(_: &Context, _: Option<&TaskError>) {}

/// The same through `$x:expr` fragments, with a callback path and a negative weight.
macro_rules! task_from_exprs {
    ($name:ident, $id:expr, $rule:expr, $delay:expr, $weight:expr, $callback:expr) => {
        #[task(
                                                                    task_id = $id,
                                                                    trigger_rule = $rule,
                                                                    retry_delay = $delay,
                                                                    priority_weight = $weight,
                                                                    on_success_callback = $callback
                                                                )]
        fn $name() -> u32 {
            8
        }
    };
}

task_from_exprs!(from_exprs, "expr_id", "one_success", "1h30m", -4, noted);

/// Sensor options and DAG options, forwarded too.
macro_rules! sensor_and_dag {
    ($interval:literal, $timeout:expr, $mode:literal, $dag_id:literal, $retries:literal,
     $limit:expr) => {
        #[sensor(poke_interval = $interval, timeout = $timeout, mode = $mode, soft_fail = true)]
        fn ready() -> bool {
            true
        }

        #[dag(dag_id = $dag_id, default_args(retries = $retries, retry_delay = $interval),
                                                                      max_active_tasks = $limit)]
        fn forwarded() {
            ready();
        }
    };
}

sensor_and_dag!("500ms", "1h", "reschedule", "forwarded_dag", 2, 4);

#[test]
fn options_forwarded_through_macro_rules_fragments_are_read() {
    let dag = Dag::build("fragments", || {
        from_literals();
        from_exprs();
    })
    .unwrap();
    let literal = dag.task_options("given_id").unwrap();
    assert_eq!(literal.trigger_rule, Some(TriggerRule::AllDone));
    assert_eq!(literal.pool.as_deref(), Some("etl"));
    assert_eq!(literal.retry_delay, Some(Duration::from_millis(1_001)));
    assert_eq!(literal.max_retry_delay, Some(Duration::from_millis(1_001)));
    assert_eq!(
        literal.execution_timeout,
        Some(Duration::from_millis(1_001))
    );
    assert_eq!(literal.retries, Some(3));
    assert_eq!(literal.priority_weight, Some(5));
    assert_eq!(literal.pool_slots, Some(2));
    assert_eq!(literal.max_active_tis_per_dag, Some(2));
    assert_eq!(literal.retry_exponential_backoff, Some(true));
    assert_eq!(dag.priority_weight("given_id").unwrap(), 5);

    let expr = dag.task_options("expr_id").unwrap();
    assert_eq!(expr.trigger_rule, Some(TriggerRule::OneSuccess));
    assert_eq!(expr.retry_delay, Some(Duration::from_secs(5_400)));
    assert_eq!(expr.priority_weight, Some(-4));
    assert!(expr.on_success_callback.is_some());

    let dag = forwarded().unwrap();
    assert_eq!(dag.dag_id(), "forwarded_dag");
    let sensor = dag.task_options("ready").unwrap();
    assert_eq!(sensor.retries, Some(2));
    assert_eq!(sensor.retry_delay, Some(Duration::from_millis(500)));
    let report = dag.test().unwrap();
    assert_eq!(report.state("ready"), TaskState::Success);
}

#[task(
    retry_delay = "1.001s",
    execution_timeout = "500ms",
    max_retry_delay = "1h30m"
)]
fn exact() {}

#[test]
fn durations_with_fractions_are_exact() {
    let dag = Dag::build("durations", || {
        exact();
    })
    .unwrap();
    let options = dag.task_options("exact").unwrap();
    assert_eq!(options.retry_delay, Some(Duration::from_millis(1_001)));
    assert_eq!(options.execution_timeout, Some(Duration::from_millis(500)));
    assert_eq!(options.max_retry_delay, Some(Duration::from_secs(5_400)));
}

/// Types of other libraries (or the user's) named like taskflow's.
mod other {
    #[derive(Clone, Debug, PartialEq)]
    pub(crate) struct Context {
        pub(crate) template: String,
    }

    #[derive(Clone, Debug, PartialEq)]
    pub(crate) struct Path {
        pub(crate) parts: Vec<String>,
    }
}

use other::Path;

#[task]
fn template() -> other::Context {
    other::Context {
        template: "hello {name}".into(),
    }
}

#[task]
fn render(template: &other::Context, ctx: &Context, name: &str) -> String {
    format!(
        "{} in {}",
        template.template.replace("{name}", name),
        ctx.task_id()
    )
}

#[task]
fn object_path() -> Path {
    Path {
        parts: vec!["bucket".into(), "key".into()],
    }
}

#[task]
fn join_path(path: &Path, full: &taskflow::Context) -> String {
    format!("{}:{}", path.parts.join("/"), full.try_number())
}

#[test]
fn a_foreign_context_and_a_foreign_path_are_ordinary_values() {
    let report = Dag::build("foreign_names", || {
        render(template(), "world");
        join_path(object_path());
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(
        report.xcom::<String>("render").unwrap(),
        "hello world in render"
    );
    assert_eq!(report.xcom::<String>("join_path").unwrap(), "bucket/key:1");
}

#[task]
fn std_path() -> std::path::PathBuf {
    std::path::PathBuf::from("/data/rows.csv")
}

#[task]
fn file_name(path: &std::path::Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn a_std_path_parameter_still_reads_a_path_buf() {
    let report = Dag::build("std_paths", || {
        file_name(std_path());
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.xcom::<String>("file_name").unwrap(), "rows.csv");
}

#[derive(Debug, Clone)]
struct MyErr(&'static str);

impl std::fmt::Display for MyErr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for MyErr {}

type MyResult<T> = Result<T, MyErr>;

#[task]
fn aliased(fail: bool) -> MyResult<u32> {
    if fail {
        Err(MyErr("the alias failed"))
    } else {
        Ok(3)
    }
}

#[task]
fn after_alias(value: MyResult<u32>) -> u32 {
    value.unwrap_or(0) * 2
}

#[test]
fn a_result_alias_fails_the_task_with_its_err() {
    let report = Dag::build("aliases", || {
        after_alias::with("after_ok").add(aliased::with("ok").add(false));
        after_alias::with("after_err").add(aliased::with("err").add(true));
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.state("ok"), TaskState::Success);
    assert_eq!(report.xcom::<MyResult<u32>>("ok").unwrap().unwrap(), 3);
    assert_eq!(report.xcom::<u32>("after_ok").unwrap(), 6);
    assert_eq!(report.state("err"), TaskState::Failed);
    let error = report.task("err").unwrap().error.clone().unwrap();
    assert!(error.contains("the alias failed"), "{error}");
    assert_eq!(report.state("after_err"), TaskState::UpstreamFailed);
}

#[task]
#[cfg(not(test))]
fn configured_out(value: TypeThatDoesNotExist) -> TypeThatDoesNotExist {
    value
}

#[task]
#[cfg(test)]
fn configured_in() -> u32 {
    1
}

#[test]
fn cfg_on_a_task_applies_to_everything_generated() {
    // `configured_out` names a type that does not exist: this file builds only because
    // none of its generated items is compiled.
    let report = Dag::build("configured", || {
        configured_in();
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.xcom::<u32>("configured_in").unwrap(), 1);
}

/// Adds one to the count; traced.
#[task]
#[tracing::instrument(skip(_ctx))]
#[allow(clippy::needless_pass_by_value)]
fn traced(count: u64, _ctx: &Context, label: Option<String>) -> String {
    format!("{}{}", count + 1, label.unwrap_or_default())
}

#[test]
fn attributes_written_for_the_function_go_on_the_function() {
    // `#[tracing::instrument]` needs `Debug` parameters: on the function that adds the
    // task, whose parameters are `impl IntoArg`, it would not build.
    let report = Dag::build("traced", || {
        traced(41, Some("!".to_owned()));
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.xcom::<String>("traced").unwrap(), "42!");
    assert_eq!(traced::call(1, &Context::for_test("traced"), None), "2");
}
