//! Validation before anything runs: cycles, duplicate ids, foreign handles, misuse outside a DAG.

use taskflow::Error;
use taskflow::prelude::*;

#[task]
fn step() -> u32 {
    1
}

#[task]
fn inc(x: u32) -> u32 {
    x + 1
}

#[test]
fn a_cycle_is_an_error_naming_its_tasks_in_order() {
    let error = Dag::build("cyclic", || {
        let a = step();
        let b = inc(a);
        let c = inc(b);
        step(); // not on the cycle
        c >> a;
    })
    .unwrap_err();
    match &error {
        Error::Cycle {
            dag_id,
            tasks,
            length,
        } => {
            assert_eq!(dag_id, "cyclic");
            assert_eq!(tasks, &["step", "inc", "inc__1", "step"]);
            assert_eq!(*length, 3);
        }
        other => panic!("expected a cycle error, got {other:?}"),
    }
    assert_eq!(
        error.to_string(),
        "dag `cyclic` has a cycle of 3 tasks: step -> inc -> inc__1 -> step"
    );
}

#[test]
fn a_task_ordered_after_itself_is_a_cycle() {
    let error = Dag::build("self_loop", || {
        let a = step();
        a >> a;
    })
    .unwrap_err();
    assert_eq!(
        error,
        Error::Cycle {
            dag_id: "self_loop".into(),
            tasks: vec!["step".into(), "step".into()],
            length: 1,
        }
    );
    assert_eq!(
        error.to_string(),
        "dag `self_loop` has a cycle of 1 task: step -> step"
    );
}

/// A chain of `n` tasks `step -> step__1 -> ...` with an edge from task `from` back to task
/// `to` (counted from 0), built and validated.
fn chain_with_back_edge(n: usize, from: usize, to: usize) -> Result<Dag, Error> {
    Dag::build("long", || {
        let tasks: Vec<TaskRef> = (0..n).map(|_| step().task()).collect();
        for pair in tasks.windows(2) {
            pair[0] >> pair[1];
        }
        tasks[from] >> tasks[to];
    })
}

#[test]
fn cycle_in_million_task_chain_is_an_error_not_a_stack_overflow() {
    // The cycle is short, but the search used to recurse along the whole chain.
    let n = 1_000_000;
    let error = chain_with_back_edge(n, n - 2, n - 4).unwrap_err();
    assert_eq!(
        error.to_string(),
        "dag `long` has a cycle of 3 tasks: step__999996 -> step__999997 -> step__999998 -> \
         step__999996"
    );
}

#[test]
fn cycle_through_a_million_tasks_is_found_in_linear_time_with_a_short_message() {
    // The whole chain is the cycle: finding its path used to take quadratic time.
    let n = 1_000_000;
    let error = chain_with_back_edge(n, n - 1, 0).unwrap_err();
    let Error::Cycle { tasks, length, .. } = &error else {
        panic!("expected a cycle error, got {error:?}");
    };
    assert_eq!(*length, n);
    assert_eq!(tasks.len(), 8);
    assert_eq!(
        error.to_string(),
        "dag `long` has a cycle of 1000000 tasks: step -> step__1 -> step__2 -> step__3 -> \
         step__4 -> step__5 -> step__6 -> step__7 -> ..."
    );
}

#[test]
fn error_for_a_ten_thousand_task_cycle_is_short_and_names_its_length() {
    let error = chain_with_back_edge(20_000, 14_999, 5_000).unwrap_err();
    let message = error.to_string();
    assert!(message.len() < 200, "{} bytes: {message}", message.len());
    assert_eq!(
        message,
        "dag `long` has a cycle of 10000 tasks: step__5000 -> step__5001 -> step__5002 -> \
         step__5003 -> step__5004 -> step__5005 -> step__5006 -> step__5007 -> ..."
    );
}

#[test]
fn a_cycle_of_eight_tasks_is_named_in_full() {
    let error = chain_with_back_edge(8, 7, 0).unwrap_err();
    assert_eq!(
        error.to_string(),
        "dag `long` has a cycle of 8 tasks: step -> step__1 -> step__2 -> step__3 -> step__4 \
         -> step__5 -> step__6 -> step__7 -> step"
    );
}

#[test]
fn a_cycle_reached_only_through_a_backward_edge_starts_at_its_earliest_task() {
    // Created c, b, a but ordered a -> b -> c -> a, next to an acyclic tail after c.
    let error = Dag::build("rotated", || {
        let c = step::with("c").add();
        let b = step::with("b").add();
        let a = step::with("a").add();
        let tail = step::with("tail").add();
        a >> b;
        b >> c;
        c >> a;
        c >> tail;
    })
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "dag `rotated` has a cycle of 3 tasks: c -> a -> b -> c"
    );
}

#[test]
fn backward_edges_without_a_cycle_are_fine() {
    let dag = Dag::build("backward", || {
        let a = step();
        let b = step();
        b >> a; // created later, runs first
    })
    .unwrap();
    assert_eq!(dag.upstream_task_ids("step").unwrap(), ["step__1"]);
    assert_eq!(dag.test().unwrap().state("step"), TaskState::Success);
}

#[test]
fn two_tasks_with_the_same_explicit_id_are_an_error() {
    let error = Dag::build("dupes", || {
        step::with("load").add();
        inc::with("load").add(1);
    })
    .unwrap_err();
    assert_eq!(
        error,
        Error::DuplicateTaskId {
            dag_id: "dupes".into(),
            task_id: "load".into()
        }
    );
    assert_eq!(
        error.to_string(),
        "dag `dupes` has two tasks with the id `load`"
    );
}

#[test]
fn an_explicit_id_may_not_take_a_generated_one() {
    let error = Dag::build("taken", || {
        step();
        step();
        inc::with("step__1").add(1);
    })
    .unwrap_err();
    assert!(matches!(error, Error::DuplicateTaskId { task_id, .. } if task_id == "step__1"));
}

#[test]
fn an_invalid_explicit_id_is_an_error() {
    let error = Dag::build("ids", || {
        step::with("has space").add();
    })
    .unwrap_err();
    assert!(
        matches!(&error, Error::InvalidTaskId { task_id, .. } if task_id == "has space"),
        "{error:?}"
    );
}

#[test]
fn a_handle_from_another_dag_is_an_error() {
    let mut smuggled = None;
    Dag::build("first", || smuggled = Some(step())).unwrap();
    let error = Dag::build("second", || {
        inc(smuggled.unwrap());
    })
    .unwrap_err();
    assert_eq!(
        error,
        Error::ForeignHandle {
            dag_id: "second".into(),
            task_id: "inc".into()
        }
    );
    assert!(
        error
            .to_string()
            .contains("handles are only valid inside the DAG that created them")
    );
}

#[test]
fn an_ordering_edge_to_another_dag_is_an_error() {
    let mut smuggled = None;
    Dag::build("first", || smuggled = Some(step())).unwrap();
    let error = Dag::build("second", || {
        step() >> smuggled.unwrap();
    })
    .unwrap_err();
    assert_eq!(
        error,
        Error::ForeignOrderHandle {
            dag_id: "second".into(),
            task_id: Some("step".into())
        }
    );
}

#[test]
fn a_task_called_outside_a_dag_panics_with_what_to_do() {
    let panic = std::panic::catch_unwind(step).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("task `step` was used outside of a DAG"),
        "{message}"
    );
    assert!(
        message.contains("step::call") || message.contains("<task>::call"),
        "{message}"
    );
}

#[test]
fn nested_builds_keep_their_own_tasks() {
    let outer = Dag::build("outer", || {
        step();
        let inner = Dag::build("inner", || {
            inc(1);
            inc(2);
        })
        .unwrap();
        assert_eq!(inner.task_ids(), ["inc", "inc__1"]);
        step();
    })
    .unwrap();
    assert_eq!(outer.task_ids(), ["step", "step__1"]);
}

#[test]
fn a_panic_while_building_is_an_error_and_the_next_build_is_clean() {
    let config_found = false;
    let error = Dag::build("broken", || {
        step();
        assert!(config_found, "config file missing");
    })
    .unwrap_err();
    assert_eq!(
        error,
        Error::BuildPanicked {
            dag_id: "broken".into(),
            message: "config file missing".into()
        }
    );
    let dag = Dag::build("after", || {
        step();
    })
    .unwrap();
    assert_eq!(dag.task_ids(), ["step"]);
}

#[test]
fn a_non_clone_value_read_by_value_twice_is_an_error() {
    struct Connection;
    #[task]
    fn connect() -> Connection {
        Connection
    }
    #[task]
    fn consume(_c: Connection) {}
    let error = Dag::build("shared_conn", || {
        let c = connect();
        consume(c);
        consume(c);
    })
    .unwrap_err();
    match &error {
        Error::ValueNotShareable {
            task_id,
            readers,
            type_name,
            ..
        } => {
            assert_eq!(task_id, "connect");
            assert_eq!(*readers, 2);
            assert!(type_name.ends_with("Connection"));
        }
        other => panic!("expected ValueNotShareable, got {other:?}"),
    }
    assert!(error.to_string().contains("is not `Clone`"));
}

#[test]
fn an_invalid_dag_fails_run_and_test_with_the_build_error() {
    #[dag]
    fn cyclic() {
        let a = step();
        let b = inc(a);
        b >> a;
    }
    assert!(matches!(cyclic().test(), Err(Error::Cycle { .. })));
}

#[test]
fn an_empty_dag_runs() {
    let report = Dag::build("empty", || {}).unwrap().test().unwrap();
    assert!(report.succeeded());
    assert_eq!(report.tasks().count(), 0);
}

#[test]
fn unknown_task_ids_in_queries_are_errors() {
    let dag = Dag::build("q", || {
        step();
    })
    .unwrap();
    assert_eq!(
        dag.upstream_task_ids("nope").unwrap_err(),
        Error::UnknownTask {
            dag_id: "q".into(),
            task_id: "nope".into()
        }
    );
}

#[test]
fn an_invalid_dag_id_is_an_error() {
    let error = Dag::build("no/slashes", || {}).unwrap_err();
    assert_eq!(
        error,
        Error::InvalidDagId {
            dag_id: "no/slashes".into()
        }
    );
}

mod named_like_generated_ids {
    use super::*;

    #[task]
    pub(super) fn foo() -> u32 {
        1
    }

    #[allow(non_snake_case)]
    #[task]
    pub(super) fn foo__1() -> u32 {
        2
    }
}

#[test]
fn a_task_function_named_like_a_generated_id_gets_an_id_of_its_own() {
    use named_like_generated_ids::{foo, foo__1};
    // Both orders; the ids used to be [foo, foo__1, foo__1], the second unreadable by id.
    let dag = Dag::build("names", || {
        foo();
        foo();
        foo__1();
    })
    .unwrap();
    assert_eq!(dag.task_ids(), ["foo", "foo__1", "foo__2"]);
    let report = dag.test().unwrap();
    assert_eq!(report.xcom::<u32>("foo__1").unwrap(), 1);
    assert_eq!(report.xcom::<u32>("foo__2").unwrap(), 2);
    let dag = Dag::build("names", || {
        foo__1();
        foo();
        foo();
    })
    .unwrap();
    assert_eq!(dag.task_ids(), ["foo__1", "foo", "foo__2"]);
    let report = dag.test().unwrap();
    assert_eq!(report.xcom::<u32>("foo__1").unwrap(), 2);
    assert_eq!(report.xcom::<u32>("foo__2").unwrap(), 1);
}

#[test]
fn a_generated_id_steps_past_explicit_ids_of_its_name() {
    let dag = Dag::build("explicit", || {
        step::with("step__4").add();
        step();
        step();
        inc::with("inc").add(1);
        inc(1);
    })
    .unwrap();
    assert_eq!(
        dag.task_ids(),
        ["step__4", "step", "step__5", "inc", "inc__1"]
    );
}

#[test]
fn an_error_returned_by_the_build_closure_fails_the_build() {
    let error = Dag::build("fallible", || -> Result<(), std::num::ParseIntError> {
        step();
        let count: u32 = "many".parse()?;
        for _ in 0..count {
            step();
        }
        Ok(())
    })
    .unwrap_err();
    assert_eq!(
        error,
        Error::BuildFailed {
            dag_id: "fallible".into(),
            message: "invalid digit found in string".into()
        }
    );
    assert_eq!(
        error.to_string(),
        "dag `fallible`: building the DAG failed: invalid digit found in string"
    );
    let dag = Dag::build("fine", || -> Result<(), String> {
        step();
        Ok(())
    })
    .unwrap();
    assert_eq!(dag.task_ids(), ["step"]);
}

#[test]
fn a_build_closure_may_end_in_an_ordering_expression() {
    let dag = Dag::build("ends_in_shift", || step() >> inc(1)).unwrap();
    assert_eq!(dag.upstream_task_ids("inc").unwrap(), ["step"]);
}
