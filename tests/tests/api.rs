//! The public API's edges: report accessors on unknown ids, `>>`/`<<` as statements and
//! chains, lists and tuples of handles, closures as callbacks, names parsed like Airflow's,
//! and the messages of misuse.
// `a >> b;` must be a plain statement: no `allow` here, and a denied lint if it is not.
#![deny(unused_must_use)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use taskflow::prelude::*;
use taskflow::{Error, WeightRule};

#[task]
fn step() -> u32 {
    1
}

#[task]
fn word() -> String {
    "w".into()
}

#[task]
fn fails() -> Result<u32, TaskError> {
    Err(TaskError::msg("source is down"))
}

/// The message of the panic of `f`, which must panic.
fn panic_message(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

#[test]
fn report_accessors_panic_on_an_unknown_task_id_instead_of_answering() {
    let report = Dag::build("typos", || {
        let load = step::with("load").add();
        fails() >> load;
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.state("load"), TaskState::UpstreamFailed);
    type Accessor<'a> = Box<dyn Fn() + 'a>;
    let accessors: [(&str, Accessor<'_>); 4] = [
        (
            "state",
            Box::new(|| {
                let _ = report.state("lod");
            }),
        ),
        (
            "try_number",
            Box::new(|| {
                let _ = report.try_number("lod");
            }),
        ),
        (
            "priority_weight",
            Box::new(|| {
                let _ = report.priority_weight("lod");
            }),
        ),
        (
            "error",
            Box::new(|| {
                let _ = report.error("lod");
            }),
        ),
    ];
    for (name, accessor) in accessors {
        let message = panic_message(accessor);
        assert!(
            message.contains("no task `lod` in dag `typos`")
                && message.contains("its tasks are `load`, `fails`"),
            "{name}: {message}"
        );
    }
    assert!(report.task("lod").is_none());
    assert!(matches!(
        report.xcom::<u32>("lod"),
        Err(Error::UnknownTask { .. })
    ));
}

#[test]
fn report_accessors_on_an_unknown_id_in_a_large_dag_name_the_first_tasks_and_a_count() {
    let report = Dag::build("wide", || {
        for _ in 0..25 {
            step();
        }
    })
    .unwrap()
    .test()
    .unwrap();
    let message = panic_message(|| {
        let _ = report.state("stpe");
    });
    assert!(
        message.contains("`step`, `step__1`") && message.ends_with("`step__19` and 5 more"),
        "{message}"
    );
}

#[test]
fn a_shift_statement_returns_unit_and_a_chain_links_each_step_to_the_next() {
    let dag = Dag::build("chained", || {
        let (a, b, c) = (step(), step(), step());
        #[allow(clippy::let_unit_value)] // the type is the point
        let checked: () = a >> b >> c; // `()`: no unused result to lint
        checked
    })
    .unwrap();
    assert_eq!(dag.downstream_task_ids("step").unwrap(), ["step__1"]);
    assert_eq!(dag.downstream_task_ids("step__1").unwrap(), ["step__2"]);
    assert_eq!(dag.upstream_task_ids("step__2").unwrap(), ["step__1"]);
}

#[test]
fn chains_of_lists_mixed_types_and_both_directions_link_as_in_airflow() {
    let dag = Dag::build("shapes", || {
        let (start, left, right, join, end) = (
            step::with("start").add(),
            step::with("left").add(),
            word::with("right").add(),
            step::with("join").add(),
            step::with("end").add(),
        );
        start >> (left, right) >> join >> end;
        let (x, y, z) = (
            step::with("x").add(),
            step::with("y").add(),
            step::with("z").add(),
        );
        z << y << x; // x >> y >> z
        let (p, q, r) = (
            step::with("p").add(),
            step::with("q").add(),
            step::with("r").add(),
        );
        p >> q << r; // q runs after p and after r
        [left.task(), right.task()] >> step::with("after_both").add() >> step::with("last").add();
    })
    .unwrap();
    let down = |id| dag.downstream_task_ids(id).unwrap();
    let up = |id| dag.upstream_task_ids(id).unwrap();
    assert_eq!(down("start"), ["left", "right"]);
    assert_eq!(up("join"), ["left", "right"]);
    assert_eq!(down("join"), ["end"]);
    assert_eq!(
        (down("x"), down("y")),
        (vec!["y".to_owned()], vec!["z".to_owned()])
    );
    assert_eq!(up("q"), ["p", "r"]);
    assert_eq!(up("last"), ["after_both"]);
    assert_eq!(up("after_both"), ["left", "right"]);
}

/// Wires a small part of a DAG of its own and returns its last task.
fn section(name: &'static str) -> Xcom<u32> {
    let first = step::with(format!("{name}_first")).add();
    let last = step::with(format!("{name}_last")).add();
    first >> last;
    last
}

#[test]
fn a_chain_through_a_function_that_wires_tasks_of_its_own_links_the_right_tasks() {
    let dag = Dag::build("sections", || {
        let (a, b) = (step::with("a").add(), step::with("b").add());
        // `section` runs its own `>>` between `a >> b` and the chain's next step.
        a >> b >> section("s") >> step::with("c").add();
    })
    .unwrap();
    assert_eq!(dag.downstream_task_ids("b").unwrap(), ["s_last"]);
    assert_eq!(dag.upstream_task_ids("s_last").unwrap(), ["b", "s_first"]);
    assert_eq!(dag.upstream_task_ids("c").unwrap(), ["s_last"]);
}

#[test]
fn unit_from_another_statement_on_the_left_of_a_shift_is_an_error_not_a_guess() {
    let error = Dag::build("stale", || {
        let (a, b, c) = (step(), step(), step());
        #[allow(clippy::let_unit_value)] // the mistake under test
        let nothing = a >> b;
        nothing >> c;
    })
    .unwrap_err();
    assert!(matches!(error, Error::Chain { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("no operator before it in the same expression began one"),
        "{error}"
    );
    // It says where: the file, line and column of the operator.
    assert!(error.to_string().contains("tests/api.rs:"), "{error}");
}

#[test]
fn vecs_arrays_and_tuples_of_handles_work_on_both_sides_of_shift_operators() {
    let dag = Dag::build("lists", || {
        let typed: Vec<Xcom<u32>> = (0..2).map(|i| step::with(format!("v{i}")).add()).collect();
        let hub = step::with("hub").add();
        typed >> hub; // Vec<Xcom<T>> on the left
        let untyped: Vec<TaskRef> =
            vec![word::with("w0").add().task(), step::with("w1").add().task()];
        hub >> untyped.clone(); // Vec<TaskRef> on the right
        let sink = step::with("sink").add();
        sink << untyped; // Vec<TaskRef> on the right of `<<`
        let refs = [step::with("r0").add().task(), word::with("r1").add().task()];
        refs >> hub.task(); // an array of TaskRef on the left, untyped right
        let (n, s) = (step::with("n").add(), word::with("s").add());
        (n, s) >> sink; // a tuple of mixed value types on the left
        let tail = step::with("tail").add();
        (n, s) << tail; // and on the left of `<<`
        let fanned = [step::with("f0").add(), step::with("f1").add()];
        tail >> fanned; // an array of Xcom on the right
        fanned << step::with("pre").add();
    })
    .unwrap();
    let up = |id| dag.upstream_task_ids(id).unwrap();
    assert_eq!(up("hub"), ["v0", "v1", "r0", "r1"]);
    assert_eq!(up("w0"), ["hub"]);
    assert_eq!(up("sink"), ["w0", "w1", "n", "s"]);
    assert_eq!(up("n"), ["tail"]);
    assert_eq!(up("s"), ["tail"]);
    assert_eq!(up("f0"), ["tail", "pre"]);
    assert_eq!(up("f1"), ["tail", "pre"]);
}

#[test]
fn an_ordering_edge_to_another_dag_names_the_local_task_not_the_operator() {
    let mut smuggled = None;
    Dag::build("first", || smuggled = Some(step())).unwrap();
    let error = Dag::build("second", || {
        step::with("local").add() >> smuggled.unwrap();
    })
    .unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with(
            "dag `second`: `>>`/`<<` was given a handle of another DAG (next to task `local`)"
        ),
        "{message}"
    );
    assert!(!message.contains("task `>>"), "{message}");
}

#[test]
fn xcom_at_with_the_wrong_type_names_the_parts_type_not_the_tuple() {
    #[task(multiple_outputs)]
    fn pair() -> (u32, String) {
        (7, "seven".into())
    }
    let report = Dag::build("parts", || {
        pair();
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.xcom_at::<String>("pair", 1).unwrap(), "seven");
    assert_eq!(
        report.xcom_at::<u32>("pair", 1).unwrap_err(),
        Error::XcomType {
            task_id: "pair".into(),
            requested: "u32".into(),
            actual: "alloc::string::String".into(),
        }
    );
}

#[test]
fn callbacks_from_code_are_closures_that_capture_state() {
    #[task(retries = 1, retry_delay = "1m")]
    fn flaky() -> Result<u32, TaskError> {
        Err(TaskError::msg("still down"))
    }
    let (retries, failures, runs) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    let (on_retry, on_failure, on_run) = (retries.clone(), failures.clone(), runs.clone());
    let options = TaskOptions::new()
        .on_retry_callback(move |_, _| {
            on_retry.fetch_add(1, Ordering::SeqCst);
        })
        .on_failure_callback(move |ctx, error| {
            assert_eq!(ctx.task_id(), "flaky");
            assert_eq!(
                error.map(ToString::to_string).as_deref(),
                Some("still down")
            );
            on_failure.fetch_add(1, Ordering::SeqCst);
        });
    let dag = Dag::builder("counted")
        .on_failure_callback(move |report| {
            assert_eq!(report.state("flaky"), TaskState::Failed);
            on_run.fetch_add(1, Ordering::SeqCst);
        })
        .build(|| {
            flaky::with(options.clone()).add();
        })
        .unwrap();
    dag.test().unwrap();
    dag.test().unwrap();
    assert_eq!(retries.load(Ordering::SeqCst), 2);
    assert_eq!(failures.load(Ordering::SeqCst), 2);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[test]
fn a_panicking_closure_callback_is_caught_and_the_task_keeps_its_state() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let options = TaskOptions::new().on_success_callback(move |_, _| {
        seen.fetch_add(1, Ordering::SeqCst);
        panic!("callback bug");
    });
    let report = Dag::build("exploding", || {
        step::with(options.task_id("s")).add();
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.state("s"), TaskState::Success);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn weight_rule_parses_from_its_airflow_name_like_trigger_rule() {
    assert_eq!("absolute".parse::<WeightRule>(), Ok(WeightRule::Absolute));
    assert_eq!("upstream".parse::<WeightRule>(), Ok(WeightRule::Upstream));
    assert_eq!(
        "downstream".parse::<WeightRule>(),
        Ok(WeightRule::Downstream)
    );
    let error = "absolut".parse::<WeightRule>().unwrap_err();
    assert_eq!(
        error.to_string(),
        "unknown weight rule `absolut`; expected one of: absolute, downstream, upstream"
    );
    assert_eq!("all_done".parse::<TriggerRule>(), Ok(TriggerRule::AllDone));
}
