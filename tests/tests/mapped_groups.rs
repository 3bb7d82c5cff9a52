//! Mapped task groups (Airflow's `@task_group` `.expand()`), and mapping nested inside
//! them to any depth, which Airflow refuses (apache/airflow #29339, #30021, #55759).

use std::time::Duration;

use taskflow::prelude::*;
use taskflow_tests::bounded::within;

#[task]
fn files() -> Vec<String> {
    vec!["a".into(), "b".into(), "c".into()]
}

#[task]
fn no_files() -> Vec<String> {
    Vec::new()
}

#[task]
async fn upper(ctx: &Context, file: String) -> Result<String, TaskError> {
    // Instance 0 takes 10 s, the others 1 s, on the virtual clock.
    let wait = if ctx.map_index() == Some(0) { 10 } else { 1 };
    ctx.sleep(Duration::from_secs(wait)).await;
    if file == "b!" {
        return Err(TaskError::msg("b is refused"));
    }
    Ok(file.to_uppercase())
}

#[task]
fn shout(text: String) -> String {
    format!("{text}!")
}

#[task]
fn bang(file: String) -> String {
    format!("{file}!")
}

#[task_group]
fn per_file(file: Xcom<String>) -> Xcom<String> {
    shout(upper(file))
}

#[task_group]
fn per_file_refusing_b(file: Xcom<String>) -> Xcom<String> {
    shout(upper(bang(file)))
}

#[task]
fn joined(values: Vec<String>) -> String {
    values.join(",")
}

#[task(trigger_rule = "all_done")]
fn joined_anyway(values: Vec<String>) -> String {
    values.join(",")
}

/// The longest a run of these tests may take before it counts as hung.
const LIMIT: Duration = Duration::from_secs(120);

/// A `dag.test()` of `dag`, quiet, bounded by [`LIMIT`].
fn test(dag: Result<Dag, taskflow::Error>) -> RunReport {
    let dag = dag.expect("the DAG builds");
    within(LIMIT, "the run", move || {
        dag.test_with(RunOptions::new().log(false))
            .expect("the DAG runs")
    })
}

#[test]
fn each_map_index_runs_a_copy_of_the_group_and_values_collect_in_order() {
    let report = test(Dag::build("groups", || {
        joined(per_file::expand(each(files())));
    }));
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(
        report.xcom::<Vec<String>>("per_file").unwrap(),
        ["A!", "B!", "C!"]
    );
    assert_eq!(report.xcom::<String>("joined").unwrap(), "A!,B!,C!");
    let upper = report.instances("per_file.upper");
    assert_eq!(upper.len(), 3);
    assert_eq!(
        upper.iter().map(|i| i.map_index).collect::<Vec<_>>(),
        [Some(0), Some(1), Some(2)]
    );
    assert_eq!(report.instances("per_file.shout").len(), 3);
    assert_eq!(
        report.instance_xcom::<String>("per_file.shout", 2).unwrap(),
        "C!"
    );
}

#[test]
fn inside_a_copy_a_task_waits_only_for_its_own_copy() {
    // Airflow: instance i of the next task waits for instance i only, so shout[1] starts
    // while upper[0] still runs.
    let report = test(Dag::build("own_copy", || {
        per_file::expand(each(files()));
    }));
    let upper = report.instances("per_file.upper");
    let shout = report.instances("per_file.shout");
    assert!(shout[1].start_date.unwrap() < upper[0].end_date.unwrap());
    assert!(shout[0].start_date.unwrap() >= upper[0].end_date.unwrap());
}

#[test]
fn a_failure_in_one_copy_fails_only_that_copy() {
    let report = test(Dag::build("one_copy_fails", || {
        let values = per_file_refusing_b::expand(each(files()));
        joined_anyway(values);
        joined(values);
    }));
    let states =
        |id: &str| -> Vec<TaskState> { report.instances(id).iter().map(|i| i.state).collect() };
    assert_eq!(
        states("per_file_refusing_b.upper"),
        [TaskState::Success, TaskState::Failed, TaskState::Success]
    );
    assert_eq!(
        states("per_file_refusing_b.shout"),
        [
            TaskState::Success,
            TaskState::UpstreamFailed,
            TaskState::Success
        ]
    );
    assert_eq!(report.state("per_file_refusing_b"), TaskState::Failed);
    assert_eq!(report.xcom::<String>("joined_anyway").unwrap(), "A!!,C!!");
    assert_eq!(report.state("joined"), TaskState::UpstreamFailed);
}

#[test]
fn an_empty_source_skips_the_group() {
    let report = test(Dag::build("no_copies", || {
        let values = per_file::expand(each(no_files()));
        joined_anyway(values);
        joined(values);
    }));
    assert_eq!(report.state("per_file"), TaskState::Skipped);
    assert!(report.instances("per_file.upper").is_empty());
    assert_eq!(report.xcom::<String>("joined_anyway").unwrap(), "");
    assert_eq!(report.state("joined"), TaskState::Skipped);
}

#[task]
fn lines(file: String) -> Vec<String> {
    match file.as_str() {
        "f0" => vec!["a".into(), "b".into(), "c".into()],
        "f1" => vec!["d".into()],
        _ => Vec::new(),
    }
}

#[task]
fn line_upper(line: String) -> Result<String, TaskError> {
    if line == "x" {
        return Err(TaskError::msg("x is refused"));
    }
    Ok(line.to_uppercase())
}

#[task(trigger_rule = "all_done")]
fn count(values: Vec<String>) -> usize {
    values.len()
}

#[task_group]
fn per_file_lines(file: Xcom<String>) -> Xcom<usize> {
    count(line_upper::expand(each(lines(file))))
}

#[test]
fn mapping_nested_in_a_mapped_group_expands_per_copy_with_ragged_lengths() {
    let report = test(Dag::build("nested", || {
        per_file_lines::expand(each(vec!["f0".to_owned(), "f1".into(), "f2".into()]));
    }));
    assert_eq!(
        report.xcom::<Vec<usize>>("per_file_lines").unwrap(),
        [3, 1, 0]
    );
    let inner = report.instances("per_file_lines.line_upper");
    let paths: Vec<Vec<u32>> = inner.iter().map(|i| i.map_path.clone()).collect();
    assert_eq!(paths, [vec![0, 0], vec![0, 1], vec![0, 2], vec![1, 0]]);
    assert!(inner.iter().all(|i| i.state == TaskState::Success));
    assert_eq!(inner[3].map_index, Some(0));
}

#[task]
fn lines_with_x(file: String) -> Vec<String> {
    match file.as_str() {
        "f0" => vec!["a".into(), "x".into(), "c".into()],
        _ => vec!["d".into()],
    }
}

#[task_group]
fn per_file_with_x(file: Xcom<String>) -> Xcom<usize> {
    count(line_upper::expand(each(lines_with_x(file))))
}

#[test]
fn a_failed_nested_instance_fails_only_its_path() {
    let report = test(Dag::build("nested_failure", || {
        per_file_with_x::expand(each(vec!["f0".to_owned(), "f1".into()]));
    }));
    let inner = report.instances("per_file_with_x.line_upper");
    let states: Vec<_> = inner
        .iter()
        .map(|i| (i.map_path.clone(), i.state))
        .collect();
    assert_eq!(
        states,
        [
            (vec![0, 0], TaskState::Success),
            (vec![0, 1], TaskState::Failed),
            (vec![0, 2], TaskState::Success),
            (vec![1, 0], TaskState::Success),
        ]
    );
    // The all_done count of copy 0 got the two values that exist.
    assert_eq!(
        report.xcom::<Vec<usize>>("per_file_with_x").unwrap(),
        [2, 1]
    );
}

#[task]
fn words(line: String) -> Vec<String> {
    line.split(' ').map(str::to_owned).collect()
}

#[task]
fn word_len(word: String) -> usize {
    word.len()
}

#[task]
fn total(values: Vec<usize>) -> usize {
    values.iter().sum()
}

#[task_group]
fn per_line(line: Xcom<String>) -> Xcom<usize> {
    total(word_len::expand(each(words(line))))
}

#[task]
fn doc_lines(doc: String) -> Vec<String> {
    doc.split('\n').map(str::to_owned).collect()
}

#[task_group]
fn per_doc(doc: Xcom<String>) -> Xcom<usize> {
    total(per_line::expand(each(doc_lines(doc))))
}

#[test]
fn mapped_groups_nest_to_depth_three_with_map_paths() {
    let report = test(Dag::build("depth_three", || {
        per_doc::expand(each(vec!["ab c\nd".to_owned(), "efg".to_owned()]));
    }));
    assert_eq!(report.xcom::<Vec<usize>>("per_doc").unwrap(), [4, 3]);
    let leaves = report.instances("per_doc.per_line.word_len");
    let paths: Vec<Vec<u32>> = leaves.iter().map(|i| i.map_path.clone()).collect();
    assert_eq!(
        paths,
        [vec![0, 0, 0], vec![0, 0, 1], vec![0, 1, 0], vec![1, 0, 0]]
    );
}

#[task]
fn tag(file: String, suffix: String) -> String {
    format!("{file}{suffix}")
}

#[task_group]
fn tagged(file: Xcom<String>, suffix: Xcom<String>, times: usize) -> Xcom<String> {
    let mut value = tag(file, suffix);
    for _ in 1..times {
        value = shout(value);
    }
    value
}

#[task]
fn suffix() -> String {
    "_v2".into()
}

#[test]
fn a_mapped_group_takes_fixed_handles_and_plain_values_too() {
    let report = test(Dag::build("fixed", || {
        tagged::expand(each(files()), suffix(), 2);
    }));
    assert_eq!(
        report.xcom::<Vec<String>>("tagged").unwrap(),
        ["a_v2!", "b_v2!", "c_v2!"]
    );
}

#[task]
fn step(value: String) -> String {
    value
}

#[task_group]
fn looped(file: Xcom<String>) -> Xcom<String> {
    let first = step(file);
    let second = step(first);
    second >> first;
    second
}

#[test]
fn a_cycle_inside_a_mapped_group_fails_the_build() {
    let error = Dag::build("group_cycle", || {
        looped::expand(each(files()));
    })
    .unwrap_err();
    assert!(matches!(error, taskflow::Error::Cycle { .. }), "{error}");
}

#[task]
fn per_file_task() {}

#[test]
fn a_mapped_group_id_that_is_a_task_id_is_an_error() {
    let error = Dag::build("group_clash", || {
        per_file::expand(each(files()));
        per_file_task::with(TaskOptions::new().task_id("per_file")).add();
    })
    .unwrap_err();
    assert!(error.to_string().contains("per_file"), "{error}");
}

#[task]
fn where_am_i(ctx: &Context, line: String) -> String {
    format!("{line}@{:?}", ctx.map_path())
}

#[task_group]
fn located(doc: Xcom<String>) -> Xcom<Vec<String>> {
    where_am_i::expand(each(doc_lines(doc)))
}

#[test]
fn context_map_path_gives_every_level_of_a_nested_instance() {
    let report = test(Dag::build("paths", || {
        located::expand(each(vec!["a\nb".to_owned(), "c".to_owned()]));
    }));
    assert_eq!(
        report.xcom::<Vec<Vec<String>>>("located").unwrap(),
        [
            vec!["a@[0, 0]".to_owned(), "b@[0, 1]".to_owned()],
            vec!["c@[1, 0]".to_owned()]
        ]
    );
}

#[task(branch)]
fn odd_or_even(n: u64) -> &'static str {
    if n % 2 == 1 {
        "parity.odd_path"
    } else {
        "parity.even_path"
    }
}

#[task]
fn odd_path() -> &'static str {
    "odd"
}

#[task]
fn even_path() -> &'static str {
    "even"
}

#[task_group]
fn parity(n: Xcom<u64>) {
    odd_or_even(n) >> (odd_path(), even_path());
}

#[test]
fn a_branch_inside_a_mapped_group_skips_only_in_its_own_copy() {
    let report = test(Dag::build("branch_in_group", || {
        parity::expand(each(vec![0u64, 1, 2]));
    }));
    let states =
        |id: &str| -> Vec<TaskState> { report.instances(id).iter().map(|i| i.state).collect() };
    assert_eq!(
        states("parity.odd_path"),
        [TaskState::Skipped, TaskState::Success, TaskState::Skipped]
    );
    assert_eq!(
        states("parity.even_path"),
        [TaskState::Success, TaskState::Skipped, TaskState::Success]
    );
}

#[test]
fn a_mapped_group_inside_a_group_takes_its_prefix_and_defaults() {
    let dag = Dag::build("inside_group", || {
        TaskGroup::new("etl")
            .default_args(TaskOptions::new().retries(3))
            .enter(|| {
                per_file::expand(each(files()));
            });
    })
    .unwrap();
    assert!(
        dag.task_ids().contains(&"etl.per_file".to_owned()),
        "{:?}",
        dag.task_ids()
    );
    let report = dag.test_with(RunOptions::new().log(false)).unwrap();
    assert_eq!(
        report.xcom::<Vec<String>>("etl.per_file").unwrap(),
        ["A!", "B!", "C!"]
    );
    assert_eq!(report.instances("etl.per_file.upper").len(), 3);
}

#[task(trigger_rule = "all_done")]
fn retried_once(ctx: &Context, file: String) -> Result<String, TaskError> {
    if ctx.try_number() == 1 {
        return Err(TaskError::msg("first try fails"));
    }
    Ok(file)
}

#[task_group]
fn with_retries(file: Xcom<String>) -> Xcom<String> {
    retried_once(file)
}

#[test]
fn an_enclosing_groups_default_args_apply_inside_a_mapped_group() {
    let report = test(Dag::build("defaults_inside", || {
        TaskGroup::new("outer")
            .default_args(
                TaskOptions::new()
                    .retries(1)
                    .retry_delay(Duration::from_secs(1)),
            )
            .enter(|| {
                with_retries::expand(each(files()));
            });
    }));
    let tries: Vec<u32> = report
        .instances("outer.with_retries.retried_once")
        .iter()
        .map(|i| i.tries)
        .collect();
    assert_eq!(tries, [2, 2, 2]);
}

#[test]
fn expanding_a_group_twice_suffixes_the_second_like_a_repeated_group_call() {
    let report = test(Dag::build("twice", || {
        per_file::expand(each(files()));
        per_file::expand(each(vec!["z".to_owned()]));
    }));
    assert_eq!(
        report.xcom::<Vec<String>>("per_file").unwrap(),
        ["A!", "B!", "C!"]
    );
    assert_eq!(report.xcom::<Vec<String>>("per_file__1").unwrap(), ["Z!"]);
    assert_eq!(report.instances("per_file__1.shout").len(), 1);
    assert_eq!(report.instances("per_file.shout").len(), 3);
}

#[test]
fn listeners_hear_nested_instances_with_their_map_paths() {
    use std::sync::{Arc, Mutex};
    use taskflow::events::Event;
    let heard = Arc::new(Mutex::new(Vec::new()));
    let into = Arc::clone(&heard);
    let report = Dag::build("nested_events", || {
        per_file_lines::expand(each(vec!["f0".to_owned(), "f1".into()]));
    })
    .unwrap()
    .test_with(RunOptions::new().log(false).listener(move |event: &Event| {
        if let Event::TaskInstance(event) = event
            && event.state == TaskState::Success
            && &*event.task_id == "per_file_lines.line_upper"
        {
            into.lock()
                .unwrap()
                .push((event.map_index, event.map_path.clone()));
        }
    }))
    .unwrap();
    assert!(report.succeeded());
    let mut heard = heard.lock().unwrap().clone();
    heard.sort();
    assert_eq!(
        heard,
        [
            (Some(0), vec![0]), // the mapped task in copy 0, as a whole
            (Some(0), vec![0, 0]),
            (Some(0), vec![1, 0]),
            (Some(1), vec![0, 1]),
            (Some(1), vec![1]), // the mapped task in copy 1, as a whole
            (Some(2), vec![0, 2]),
        ]
    );
}

#[task]
fn upstream_seen(ctx: &Context, _value: String) -> Vec<(String, TaskState)> {
    ctx.upstream_states()
}

#[task_group]
fn seeing(file: Xcom<String>) -> Xcom<Vec<(String, TaskState)>> {
    upstream_seen(shout(file))
}

#[test]
fn a_task_in_a_copy_sees_the_upstream_tasks_of_its_copy() {
    let report = test(Dag::build("seen", || {
        seeing::expand(each(files()));
    }));
    let seen = report
        .xcom::<Vec<Vec<(String, TaskState)>>>("seeing")
        .unwrap();
    assert_eq!(seen.len(), 3);
    for states in seen {
        assert_eq!(states, [("seeing.shout".to_owned(), TaskState::Success)]);
    }
}

#[task(branch)]
fn pick_handle(n: u64, odd: TaskRef, even: TaskRef) -> TaskRef {
    if n % 2 == 1 { odd } else { even }
}

#[task_group]
fn parity_by_handle(n: Xcom<u64>) {
    let odd = odd_path();
    let even = even_path();
    pick_handle(n, odd.task(), even.task()) >> (odd, even);
}

#[test]
fn a_branch_inside_a_mapped_group_may_name_its_targets_by_handle() {
    let report = test(Dag::build("branch_by_handle", || {
        parity_by_handle::expand(each(vec![0u64, 1]));
    }));
    let states =
        |id: &str| -> Vec<TaskState> { report.instances(id).iter().map(|i| i.state).collect() };
    assert_eq!(
        states("parity_by_handle.odd_path"),
        [TaskState::Skipped, TaskState::Success]
    );
    assert_eq!(
        states("parity_by_handle.even_path"),
        [TaskState::Success, TaskState::Skipped]
    );
}
