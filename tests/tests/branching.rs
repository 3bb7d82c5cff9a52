//! Branching and short-circuit: which downstream tasks run, and how skips propagate.

use taskflow::prelude::*;

#[task]
fn work(label: &'static str) -> &'static str {
    label
}

#[task(trigger_rule = "none_failed_min_one_success")]
fn join() -> &'static str {
    "joined"
}

#[test]
fn a_branch_follows_the_task_it_names_and_skips_the_others() {
    #[task(branch)]
    fn pick(big: bool) -> &'static str {
        if big { "big_path" } else { "small_path" }
    }
    let dag = Dag::build("branch_by_id", || {
        let choice = pick(true);
        let big = work::with("big_path").add("big");
        let small = work::with("small_path").add("small");
        let after_small = work::with("after_small").add("after");
        choice >> (big, small);
        small >> after_small;
        (big, after_small) >> join();
    })
    .unwrap();
    let report = dag.test().unwrap();
    assert_eq!(report.state("pick"), TaskState::Success);
    assert_eq!(report.state("big_path"), TaskState::Success);
    assert_eq!(report.state("small_path"), TaskState::Skipped);
    assert_eq!(
        report.state("after_small"),
        TaskState::Skipped,
        "skips propagate under all_success"
    );
    assert_eq!(
        report.state("join"),
        TaskState::Success,
        "none_failed_min_one_success joins the branches"
    );
    assert_eq!(
        report.xcom::<&str>("pick").unwrap(),
        "big_path",
        "the choice is the branch's value"
    );
    assert!(report.succeeded());
}

#[test]
fn a_branch_can_follow_handles_several_tasks_or_none() {
    #[task(branch)]
    fn by_handle(first: TaskRef, _second: TaskRef) -> TaskRef {
        first
    }
    #[task(branch)]
    fn both() -> Vec<&'static str> {
        vec!["x", "y"]
    }
    #[task(branch)]
    fn neither() -> Option<String> {
        None
    }
    let report = Dag::build("branch_kinds", || {
        let a = work::with("a").add("a");
        let b = work::with("b").add("b");
        let choice = by_handle(a.task(), b.task());
        choice >> (a, b);
        let (x, y) = (work::with("x").add("x"), work::with("y").add("y"));
        both() >> (x, y);
        let (n1, n2) = (work::with("n1").add("n1"), work::with("n2").add("n2"));
        neither() >> (n1, n2);
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(
        (report.state("a"), report.state("b")),
        (TaskState::Success, TaskState::Skipped)
    );
    assert_eq!(
        (report.state("x"), report.state("y")),
        (TaskState::Success, TaskState::Success)
    );
    assert_eq!(
        (report.state("n1"), report.state("n2")),
        (TaskState::Skipped, TaskState::Skipped)
    );
}

#[test]
fn a_branch_naming_a_task_that_is_not_directly_downstream_fails() {
    #[task(branch)]
    fn wrong() -> &'static str {
        "far_away"
    }
    let report = Dag::build("bad_branch", || {
        let a = work::with("near").add("near");
        let far = work::with("far_away").add("far");
        wrong() >> a >> far;
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.state("wrong"), TaskState::Failed);
    assert_eq!(
        report.error("wrong").as_deref(),
        Some(
            "branch returned `far_away`, which is not a direct downstream task of `wrong` (those are: near)"
        )
    );
    assert_eq!(report.state("near"), TaskState::UpstreamFailed);
}

#[test]
fn a_false_short_circuit_skips_every_descendant_whatever_their_rules() {
    #[task(short_circuit)]
    fn has_data() -> bool {
        false
    }
    #[task(trigger_rule = "all_done")]
    fn report_anyway() -> u8 {
        1
    }
    let report = Dag::build("short", || {
        let a = work::with("a").add("a");
        has_data() >> a >> report_anyway();
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.state("has_data"), TaskState::Success);
    assert_eq!(report.state("a"), TaskState::Skipped);
    assert_eq!(report.state("report_anyway"), TaskState::Skipped);
}

#[test]
fn a_short_circuit_respecting_downstream_rules_skips_only_direct_tasks() {
    #[task(short_circuit, ignore_downstream_trigger_rules = false)]
    fn has_data() -> bool {
        false
    }
    #[task(trigger_rule = "all_done")]
    fn report_anyway() -> u8 {
        1
    }
    #[task]
    fn strict() -> u8 {
        2
    }
    let report = Dag::build("short_respectful", || {
        let a = work::with("a").add("a");
        has_data() >> a;
        a >> report_anyway();
        a >> strict();
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.state("a"), TaskState::Skipped);
    assert_eq!(
        report.state("report_anyway"),
        TaskState::Success,
        "all_done still runs"
    );
    assert_eq!(
        report.state("strict"),
        TaskState::Skipped,
        "all_success follows the skip"
    );
}

#[test]
fn a_true_short_circuit_lets_everything_run() {
    #[task(short_circuit)]
    fn has_data(rows: u32) -> bool {
        rows > 0
    }
    let report = Dag::build("short_true", || {
        has_data(5) >> work("go");
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.state("work"), TaskState::Success);
}

#[test]
fn a_false_short_circuit_leaves_teardowns_to_their_rules() {
    #[task(setup)]
    fn create() -> u8 {
        1
    }
    #[task(short_circuit)]
    fn has_data() -> bool {
        false
    }
    #[task(teardown)]
    fn remove() -> &'static str {
        "removed"
    }
    let report = Dag::build("short_teardown", || {
        let setup = create();
        let check = has_data();
        let work = work("w");
        let teardown = remove();
        setup >> check >> work >> teardown;
        setup >> teardown;
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.state("work"), TaskState::Skipped);
    assert_eq!(
        report.state("remove"),
        TaskState::Success,
        "the teardown still releases the resource"
    );
}

/// Airflow's most common join: `branch >> [a, b, join]; [a, b] >> join`. Its
/// `skip_all_except` does not skip a direct downstream task that is also downstream of the
/// followed one, so the join runs.
#[test]
fn a_join_directly_downstream_of_a_branch_runs_when_a_followed_task_leads_to_it() {
    #[task(branch)]
    fn choose() -> &'static str {
        "a"
    }
    let dag = Dag::build("branch_and_join", || {
        let choice = choose();
        let a = work::with("a").add("a");
        let b = work::with("b").add("b");
        let joined = join();
        choice >> (a, b, joined);
        (a, b) >> joined;
    })
    .unwrap();
    let report = dag.test().unwrap();
    assert_eq!(report.state("a"), TaskState::Success);
    assert_eq!(report.state("b"), TaskState::Skipped);
    assert_eq!(report.state("join"), TaskState::Success);
    // Not followed and not downstream of a followed task: skipped as before.
    let dag = Dag::build("branch_skips_a_lone_child", || {
        let choice = choose();
        let a = work::with("a").add("a");
        let lone = work::with("lone").add("lone");
        choice >> (a, lone);
    })
    .unwrap();
    assert_eq!(dag.test().unwrap().state("lone"), TaskState::Skipped);
}
