//! Task groups: prefixed ids, default_args precedence, nesting, repeated calls, ordering a
//! group as a whole, and id validation.

use std::time::Duration;

use taskflow::Error;
use taskflow::prelude::*;

#[task]
fn list(prefix: String) -> Vec<String> {
    vec![format!("{prefix}/a"), format!("{prefix}/b")]
}

#[task]
fn count(files: Vec<String>) -> usize {
    files.len()
}

#[task]
fn start() {}

#[task]
fn load(n: usize) -> usize {
    n * 10
}

#[task]
fn finish() {}

#[task(retries = 0)]
fn never_retried() {}

#[task]
fn plain() {}

#[task_group]
fn extract(prefix: &str) -> Xcom<usize> {
    count(list(prefix))
}

#[task_group(group_id = "inner")]
fn inner_group() -> Xcom<usize> {
    count(list("in"))
}

#[task_group]
fn outer() -> Xcom<usize> {
    let n = inner_group();
    load(n)
}

#[task_group(default_args(retries = 2, retry_delay = "5s"))]
fn retried() {
    plain();
    never_retried();
    plain::with(TaskOptions::new().retries(7)).add();
}

#[task_group(default_args(retries = 3))]
fn retried_outer() {
    plain();
    retried();
}

#[task_group(prefix_group_id = false)]
fn unprefixed() -> Xcom<usize> {
    count(list("u"))
}

#[task_group]
fn two_outputs() -> (Xcom<Vec<String>>, Xcom<usize>) {
    let files = list("t");
    let n = count(files);
    (files, n)
}

#[task_group]
fn fan() {
    let a = list("a");
    count(a);
    count(a);
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

#[test]
fn tasks_in_a_group_get_ids_prefixed_with_the_group_id() {
    let dag = Dag::build("etl", || {
        let n = extract("in");
        load(n);
    })
    .unwrap();
    assert_eq!(dag.task_ids(), ["extract.list", "extract.count", "load"]);
    assert_eq!(
        dag.upstream_task_ids("extract.count").unwrap(),
        ["extract.list"]
    );
    assert_eq!(dag.upstream_task_ids("load").unwrap(), ["extract.count"]);
    assert!(dag.upstream_task_ids("list").is_err());
    let report = dag.test().unwrap();
    assert_eq!(report.state("extract.list"), TaskState::Success);
    assert_eq!(report.xcom::<usize>("extract.count").unwrap(), 2);
    assert_eq!(report.xcom::<usize>("load").unwrap(), 20);
}

#[test]
fn repeated_task_calls_inside_a_group_get_airflow_suffixes() {
    let dag = Dag::build("fan", || {
        fan();
    })
    .unwrap();
    assert_eq!(dag.task_ids(), ["fan.list", "fan.count", "fan.count__1"]);
    assert_eq!(dag.upstream_task_ids("fan.count__1").unwrap(), ["fan.list"]);
    assert!(dag.test().unwrap().succeeded());
}

#[test]
fn repeated_group_calls_get_suffixed_group_ids() {
    let dag = Dag::build("twice", || {
        extract("a");
        extract("b");
        extract("c");
    })
    .unwrap();
    assert_eq!(
        dag.task_ids(),
        [
            "extract.list",
            "extract.count",
            "extract__1.list",
            "extract__1.count",
            "extract__2.list",
            "extract__2.count",
        ]
    );
    let report = dag.test().unwrap();
    assert_eq!(report.xcom::<usize>("extract__2.count").unwrap(), 2);
}

#[test]
fn nested_groups_chain_their_prefixes() {
    let dag = Dag::build("nested", || {
        outer();
    })
    .unwrap();
    assert_eq!(
        dag.task_ids(),
        ["outer.inner.list", "outer.inner.count", "outer.load"]
    );
    assert_eq!(dag.test().unwrap().xcom::<usize>("outer.load").unwrap(), 20);
}

#[test]
fn prefix_group_id_false_leaves_ids_unprefixed() {
    let dag = Dag::build("flat", || {
        unprefixed();
    })
    .unwrap();
    assert_eq!(dag.task_ids(), ["list", "count"]);
}

#[test]
fn a_group_returns_a_tuple_of_handles() {
    let dag = Dag::build("tuple", || {
        let (files, n) = two_outputs();
        count(files) >> load(n);
    })
    .unwrap();
    assert_eq!(
        dag.task_ids(),
        ["two_outputs.list", "two_outputs.count", "count", "load"]
    );
    assert_eq!(
        dag.upstream_task_ids("count").unwrap(),
        ["two_outputs.list"]
    );
    assert_eq!(
        sorted(dag.upstream_task_ids("load").unwrap()),
        ["count", "two_outputs.count"]
    );
}

#[test]
fn group_default_args_sit_between_the_task_and_the_dag() {
    let dag = Dag::builder("defaults")
        .default_args(TaskOptions::new().retries(5).pool_slots(4))
        .build(|| {
            retried();
            plain();
        })
        .unwrap();
    // the group's retries beat the DAG's
    assert_eq!(dag.task_options("retried.plain").unwrap().retries, Some(2));
    assert_eq!(
        dag.task_options("retried.plain").unwrap().retry_delay,
        Some(Duration::from_secs(5))
    );
    // the task's own #[task(retries = 0)] beats the group's
    assert_eq!(
        dag.task_options("retried.never_retried").unwrap().retries,
        Some(0)
    );
    // a per-call option beats the group's
    assert_eq!(
        dag.task_options("retried.plain__1").unwrap().retries,
        Some(7)
    );
    // what the group does not set comes from the DAG
    assert_eq!(
        dag.task_options("retried.plain").unwrap().pool_slots,
        Some(4)
    );
    // outside the group, the DAG's
    assert_eq!(dag.task_options("plain").unwrap().retries, Some(5));
}

#[test]
fn inner_group_default_args_beat_the_enclosing_groups() {
    let dag = Dag::build("layers", || {
        retried_outer();
    })
    .unwrap();
    assert_eq!(
        dag.task_options("retried_outer.plain").unwrap().retries,
        Some(3)
    );
    assert_eq!(
        dag.task_options("retried_outer.retried.plain")
            .unwrap()
            .retries,
        Some(2)
    );
}

#[test]
fn a_group_orders_as_a_whole_on_both_sides_of_shr() {
    let dag = Dag::build("ordered", || {
        let (n, group) = extract::with_group("in");
        let first = start();
        first >> group;
        group >> finish();
        load(n);
    })
    .unwrap();
    // start -> the group's root only; the group's leaf only -> finish
    assert_eq!(dag.upstream_task_ids("extract.list").unwrap(), ["start"]);
    assert_eq!(
        dag.upstream_task_ids("extract.count").unwrap(),
        ["extract.list"]
    );
    assert_eq!(dag.downstream_task_ids("start").unwrap(), ["extract.list"]);
    assert_eq!(dag.upstream_task_ids("finish").unwrap(), ["extract.count"]);
    assert_eq!(
        sorted(dag.downstream_task_ids("extract.count").unwrap()),
        ["finish", "load"]
    );
    assert_eq!(
        dag.downstream_task_ids("extract.list").unwrap(),
        ["extract.count"]
    );
    assert!(dag.test().unwrap().succeeded());
}

#[test]
fn a_group_in_a_chain_and_in_chain_fn_links_roots_and_leaves() {
    let dag = Dag::build("chained", || {
        let (_, group) = extract::with_group("in");
        start() >> group >> finish();
    })
    .unwrap();
    assert_eq!(dag.upstream_task_ids("extract.list").unwrap(), ["start"]);
    assert_eq!(dag.upstream_task_ids("finish").unwrap(), ["extract.count"]);

    let dag = Dag::build("chain_fn", || {
        let (_, group) = extract::with_group("in");
        let (s, f) = (start(), finish());
        chain((s, group, f));
    })
    .unwrap();
    assert_eq!(dag.upstream_task_ids("extract.list").unwrap(), ["start"]);
    assert_eq!(dag.upstream_task_ids("finish").unwrap(), ["extract.count"]);
}

#[test]
fn a_group_returning_nothing_returns_itself_for_ordering() {
    let dag = Dag::build("unit", || {
        let group = fan();
        group >> finish();
        start() >> group;
    })
    .unwrap();
    assert_eq!(dag.upstream_task_ids("fan.list").unwrap(), ["start"]);
    assert_eq!(
        sorted(dag.upstream_task_ids("finish").unwrap()),
        ["fan.count", "fan.count__1"]
    );
}

#[test]
fn edges_added_inside_a_group_after_shr_still_decide_its_roots_and_leaves() {
    let dag = Dag::build("late", || {
        let ((a, b), group) = TaskGroup::new("g").enter(|| (plain(), plain()));
        start() >> group;
        group >> finish();
        // added after both `>>`: `a` is no longer a leaf, `b` no longer a root
        a >> b;
    })
    .unwrap();
    assert_eq!(dag.upstream_task_ids("g.plain").unwrap(), ["start"]);
    assert_eq!(dag.upstream_task_ids("g.plain__1").unwrap(), ["g.plain"]);
    assert_eq!(dag.upstream_task_ids("finish").unwrap(), ["g.plain__1"]);
}

#[test]
fn group_to_group_edges_inside_an_enclosing_group_count_for_its_roots() {
    let dag = Dag::build("groups_in_groups", || {
        let (_, outer) = TaskGroup::new("outer").enter(|| {
            let (_, first) = TaskGroup::new("first").enter(plain);
            let (_, second) = TaskGroup::new("second").enter(plain);
            first >> second;
        });
        start() >> outer;
        outer >> finish();
    })
    .unwrap();
    assert_eq!(
        dag.upstream_task_ids("outer.first.plain").unwrap(),
        ["start"]
    );
    assert_eq!(
        dag.upstream_task_ids("outer.second.plain").unwrap(),
        ["outer.first.plain"]
    );
    assert_eq!(
        dag.upstream_task_ids("finish").unwrap(),
        ["outer.second.plain"]
    );
}

#[test]
fn task_group_fn_and_code_api_prefix_and_default_like_the_macro() {
    let dag = Dag::build("code", || {
        let (n, _) = taskflow::task_group("extract", || count(list("x")));
        TaskGroup::new("quiet")
            .prefix_group_id(false)
            .default_args(TaskOptions::new().retries(4))
            .enter(|| load(n));
    })
    .unwrap();
    assert_eq!(dag.task_ids(), ["extract.list", "extract.count", "load"]);
    assert_eq!(dag.task_options("load").unwrap().retries, Some(4));
}

#[test]
fn a_group_id_equal_to_a_task_id_is_an_error_naming_both() {
    // task first, then the group
    let error = Dag::build("clash", || {
        TaskGroup::new("start").enter(plain);
        start();
    })
    .unwrap_err();
    assert_eq!(
        error,
        Error::TaskGroupIdCollision {
            dag_id: "clash".into(),
            id: "start".into()
        }
    );
    assert_eq!(
        error.to_string(),
        "dag `clash` has a task group `start` and a task `start`: a group id must differ from every task id"
    );
    // group first, then the task
    let error = Dag::build("clash", || {
        start();
        TaskGroup::new("start").enter(plain);
    })
    .unwrap_err();
    assert!(matches!(error, Error::TaskGroupIdCollision { id, .. } if id == "start"));
    // inside a group: a task `g.inner` and a group `g.inner`
    let error = Dag::build("clash", || {
        TaskGroup::new("g").enter(|| {
            plain::with("inner").add();
            TaskGroup::new("inner").enter(plain);
        });
    })
    .unwrap_err();
    assert!(matches!(error, Error::TaskGroupIdCollision { id, .. } if id == "g.inner"));
}

#[test]
fn a_repeated_group_id_from_code_is_an_error_unless_suffixed() {
    let error = Dag::build("dup", || {
        TaskGroup::new("g").enter(plain);
        TaskGroup::new("g").enter(plain);
    })
    .unwrap_err();
    assert_eq!(
        error,
        Error::DuplicateTaskGroupId {
            dag_id: "dup".into(),
            group_id: "g".into()
        }
    );
    let dag = Dag::build("dup", || {
        TaskGroup::new("g")
            .add_suffix_on_collision(true)
            .enter(plain);
        TaskGroup::new("g")
            .add_suffix_on_collision(true)
            .enter(plain);
    })
    .unwrap();
    assert_eq!(dag.task_ids(), ["g.plain", "g__1.plain"]);
}

#[test]
fn group_ids_follow_airflow_rules() {
    for bad in ["", "has space", "a.b", "slash/"] {
        let error = Dag::build("ids", || {
            TaskGroup::new(bad).enter(plain);
        })
        .unwrap_err();
        assert_eq!(
            error,
            Error::InvalidTaskGroupId {
                dag_id: "ids".into(),
                group_id: bad.into()
            },
            "{bad:?}"
        );
    }
}

#[test]
fn explicit_task_ids_inside_a_group_are_prefixed_and_stay_unique() {
    let error = Dag::build("explicit", || {
        TaskGroup::new("g").enter(|| {
            plain::with("x").add();
            plain::with("x").add();
        });
    })
    .unwrap_err();
    assert_eq!(
        error,
        Error::DuplicateTaskId {
            dag_id: "explicit".into(),
            task_id: "g.x".into()
        }
    );
    // the same name in two groups is two ids
    let dag = Dag::build("explicit", || {
        TaskGroup::new("a").enter(|| plain::with("x").add());
        TaskGroup::new("b").enter(|| plain::with("x").add());
        plain::with("x").add();
    })
    .unwrap();
    assert_eq!(dag.task_ids(), ["a.x", "b.x", "x"]);
}

#[test]
fn a_panicking_or_failing_group_body_leaves_no_group_behind() {
    let dag = Dag::build("recovered", || {
        let caught = std::panic::catch_unwind(|| {
            TaskGroup::new("boom").enter(|| {
                plain();
                panic!("wiring failed");
            })
        });
        assert!(caught.is_err());
        let failed: (Result<(), String>, _) =
            TaskGroup::new("err").enter(|| Err("no files".to_owned()));
        assert!(failed.0.is_err());
        plain();
    })
    .unwrap();
    // the task after the panic and the error is outside both groups
    assert_eq!(dag.task_ids(), ["boom.plain", "plain"]);
}

#[test]
fn a_group_handle_from_another_dag_is_an_error() {
    let mut foreign = None;
    Dag::build("first", || {
        foreign = Some(TaskGroup::new("g").enter(plain).1);
    })
    .unwrap();
    let error = Dag::build("second", || {
        start() >> foreign.unwrap();
    })
    .unwrap_err();
    assert!(
        matches!(&error, Error::ForeignOrderHandle { dag_id, task_id } if dag_id == "second" && task_id.as_deref() == Some("start")),
        "{error}"
    );
}

#[test]
fn suffixes_of_repeated_group_calls_step_over_taken_ids() {
    let dag = Dag::build("steps", || {
        TaskGroup::new("g__1").enter(plain);
        for _ in 0..3 {
            TaskGroup::new("g")
                .add_suffix_on_collision(true)
                .enter(plain);
        }
    })
    .unwrap();
    assert_eq!(
        dag.task_ids(),
        ["g__1.plain", "g.plain", "g__2.plain", "g__3.plain"]
    );
}

#[test]
fn shl_and_lists_order_a_group_like_shr() {
    let dag = Dag::build("shl", || {
        let (_, group) = extract::with_group("in");
        let (s, f) = (start(), finish());
        group << s;
        f << group;
        let (a, b) = (plain(), plain());
        [a, b] >> group;
    })
    .unwrap();
    assert_eq!(
        sorted(dag.upstream_task_ids("extract.list").unwrap()),
        ["plain", "plain__1", "start"]
    );
    assert_eq!(dag.upstream_task_ids("finish").unwrap(), ["extract.count"]);
}

#[test]
fn a_cycle_through_a_group_is_a_cycle_error() {
    let error = Dag::build("loop", || {
        let (_, group) = extract::with_group("in");
        let s = start();
        s >> group;
        group >> s;
    })
    .unwrap_err();
    assert!(
        matches!(&error, Error::Cycle { tasks, length: 3, .. } if tasks.contains(&"start".to_owned())),
        "{error}"
    );
}

#[test]
fn a_prefixed_task_id_longer_than_250_characters_is_invalid() {
    let long = "g".repeat(245);
    let error = Dag::build("long", || {
        TaskGroup::new(long.clone()).enter(plain);
    })
    .unwrap_err();
    assert_eq!(
        error,
        Error::InvalidTaskId {
            dag_id: "long".into(),
            task_id: format!("{long}.plain")
        }
    );
    let fits = "g".repeat(244);
    assert!(Dag::build("long", || TaskGroup::new(fits.clone()).enter(plain).0).is_ok());
}

#[test]
fn an_empty_group_between_two_tasks_orders_them_as_airflow_does() {
    // Airflow: an empty group stands for its own upstream tasks, so `start >> empty >>
    // finish` orders `start >> finish`.
    let dag = Dag::build("empty_group", || {
        let ((), empty) = TaskGroup::new("nothing").enter(|| {});
        start() >> empty;
        empty >> finish();
    })
    .unwrap();
    assert_eq!(dag.upstream_task_ids("finish").unwrap(), ["start"]);
    let dag = Dag::build("empty_chain", || {
        let ((), first) = TaskGroup::new("first").enter(|| {});
        let ((), second) = TaskGroup::new("second").enter(|| {});
        start() >> first;
        first >> second;
        second >> finish();
    })
    .unwrap();
    assert_eq!(dag.upstream_task_ids("finish").unwrap(), ["start"]);
}

#[task(setup)]
fn create_cluster() {}

#[task]
fn query() {}

#[task(teardown)]
fn delete_cluster() {}

#[test]
fn a_groups_teardown_is_not_a_leaf_its_work_task_is() {
    // Airflow's `TaskGroup.get_leaves`: a teardown leaf stands for the work it follows, so
    // `group >> report` runs `report` after `query`, not after `delete_cluster`.
    let dag = Dag::build("teardown_leaves", || {
        let ((), group) = TaskGroup::new("cluster").enter(|| {
            let setup = create_cluster();
            let work = query();
            let teardown = delete_cluster();
            setup >> work >> teardown;
            setup >> teardown;
        });
        group >> finish();
    })
    .unwrap();
    assert_eq!(dag.upstream_task_ids("finish").unwrap(), ["cluster.query"]);
}
