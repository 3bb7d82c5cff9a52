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
        Error::Cycle { dag_id, tasks } => {
            assert_eq!(dag_id, "cyclic");
            assert_eq!(tasks, &["step", "inc", "inc__1", "step"]);
        }
        other => panic!("expected a cycle error, got {other:?}"),
    }
    assert_eq!(
        error.to_string(),
        "dag `cyclic` has a cycle: step -> inc -> inc__1 -> step"
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
            tasks: vec!["step".into(), "step".into()]
        }
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
    let error = Dag::build("broken", || {
        step();
        panic!("config file missing");
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
