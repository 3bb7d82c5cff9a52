//! Dynamic task mapping: `expand` over run-time lists (Airflow's semantics), checked case
//! by case against what Airflow does (see the cases' comments).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use taskflow::events::Event;
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
fn parse(file: String, region: &str) -> String {
    format!("{file}-{region}")
}

#[task]
fn joined(parsed: Vec<String>) -> String {
    parsed.join(",")
}

#[task(trigger_rule = "all_done")]
fn joined_anyway(parsed: Vec<String>) -> String {
    parsed.join(",")
}

#[task]
fn add_one(x: i64) -> i64 {
    x + 1
}

#[task]
fn fails_on_two(x: i64) -> Result<i64, TaskError> {
    if x == 2 {
        Err(TaskError::msg("two is refused"))
    } else {
        Ok(x * 10)
    }
}

#[task(trigger_rule = "all_done")]
fn sum_anyway(values: Vec<i64>) -> i64 {
    values.iter().sum()
}

#[task]
fn sum(values: Vec<i64>) -> i64 {
    values.iter().sum()
}

#[task(trigger_rule = "one_failed")]
fn alert() -> &'static str {
    "alerted"
}

#[task]
fn pair(x: i64, y: String) -> String {
    format!("{x}{y}")
}

#[task]
fn triple(x: i64, y: i64, z: i64) -> i64 {
    x * 100 + y * 10 + z
}

#[task]
fn indexed(ctx: &Context, file: String) -> String {
    format!(
        "{}:{file}:{}",
        ctx.map_index().map_or(-1, i64::from),
        ctx.task_id()
    )
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
fn expand_runs_one_instance_per_element_and_collects_in_map_index_order() {
    let report = test(Dag::build("basic", || {
        let parsed = parse::expand(each(files()), "eu");
        joined(parsed);
    }));
    assert!(report.succeeded());
    assert_eq!(report.state("parse"), TaskState::Success);
    assert_eq!(
        report.xcom::<Vec<String>>("parse").unwrap(),
        ["a-eu", "b-eu", "c-eu"]
    );
    assert_eq!(report.xcom::<String>("joined").unwrap(), "a-eu,b-eu,c-eu");
    let instances = report.instances("parse");
    assert_eq!(instances.len(), 3);
    for (index, instance) in instances.iter().enumerate() {
        assert_eq!(instance.map_index, Some(index as u32));
        assert_eq!(instance.state, TaskState::Success);
        assert_eq!(instance.tries, 1);
        assert_eq!(instance.task_id, "parse");
    }
    assert_eq!(report.instance_xcom::<String>("parse", 1).unwrap(), "b-eu");
}

#[test]
fn a_literal_list_is_mapped_over_without_an_upstream_task() {
    let report = test(Dag::build("literal", || {
        parse::expand(each(vec!["x".to_owned(), "y".to_owned()]), "us");
    }));
    assert_eq!(
        report.xcom::<Vec<String>>("parse").unwrap(),
        ["x-us", "y-us"]
    );
}

#[test]
fn context_map_index_names_each_instance() {
    let report = test(Dag::build("indexed", || {
        indexed::expand(each(files()));
    }));
    assert_eq!(
        report.xcom::<Vec<String>>("indexed").unwrap(),
        ["0:a:indexed", "1:b:indexed", "2:c:indexed"]
    );
}

#[test]
fn repeated_mapping_maps_over_the_collected_values() {
    let report = test(Dag::build("repeated", || {
        let once = add_one::expand(each(vec![1i64, 2, 3]));
        let twice = add_one::with(TaskOptions::new().task_id("add_two")).expand(each(once));
        sum(twice);
    }));
    assert_eq!(report.xcom::<Vec<i64>>("add_one").unwrap(), [2, 3, 4]);
    assert_eq!(report.xcom::<Vec<i64>>("add_two").unwrap(), [3, 4, 5]);
    assert_eq!(report.xcom::<i64>("sum").unwrap(), 12);
}

#[test]
fn a_failed_instance_fails_only_itself_and_an_all_done_reduce_gets_the_others() {
    // Airflow: the other instances succeed; an all_done downstream receives the values that
    // exist in map-index order; an all_success one is upstream_failed; one_failed fires.
    let report = test(Dag::build("one_fails", || {
        let values = fails_on_two::expand(each(vec![1i64, 2, 3]));
        sum_anyway(values);
        sum(values);
        values >> alert();
    }));
    let states: Vec<TaskState> = report
        .instances("fails_on_two")
        .iter()
        .map(|i| i.state)
        .collect();
    assert_eq!(
        states,
        [TaskState::Success, TaskState::Failed, TaskState::Success]
    );
    assert_eq!(report.state("fails_on_two"), TaskState::Failed);
    assert_eq!(report.xcom::<Vec<i64>>("fails_on_two").unwrap(), [10, 30]);
    assert_eq!(report.xcom::<i64>("sum_anyway").unwrap(), 40);
    assert_eq!(report.state("sum"), TaskState::UpstreamFailed);
    assert_eq!(report.state("alert"), TaskState::Success);
    assert!(!report.succeeded());
    let failed = &report.instances("fails_on_two")[1];
    assert_eq!(failed.error.as_deref(), Some("two is refused"));
}

#[task(retries = 1, retry_delay = "1m")]
fn flaky_on_two(ctx: &Context, x: i64) -> Result<i64, TaskError> {
    if x == 2 && ctx.try_number() == 1 {
        Err(TaskError::msg("not yet"))
    } else {
        Ok(x)
    }
}

#[test]
fn each_instance_retries_on_its_own() {
    let report = test(Dag::build("retrying", || {
        sum(flaky_on_two::expand(each(vec![1i64, 2, 3])));
    }));
    let tries: Vec<u32> = report
        .instances("flaky_on_two")
        .iter()
        .map(|i| i.tries)
        .collect();
    assert_eq!(tries, [1, 2, 1]);
    assert_eq!(report.xcom::<i64>("sum").unwrap(), 6);
    assert!(report.succeeded());
}

#[test]
fn zero_elements_skip_the_mapped_task_and_an_all_done_reduce_gets_an_empty_list() {
    // Airflow: one skipped instance without a map index; all_success downstream skipped;
    // all_done downstream runs with an empty list; the run succeeds.
    let report = test(Dag::build("empty", || {
        let parsed = parse::expand(each(no_files()), "eu");
        joined(parsed);
        joined_anyway(parsed);
    }));
    assert_eq!(report.state("parse"), TaskState::Skipped);
    assert!(report.instances("parse").is_empty());
    assert_eq!(report.state("joined"), TaskState::Skipped);
    assert_eq!(report.xcom::<String>("joined_anyway").unwrap(), "");
    assert_eq!(
        report.xcom::<Vec<String>>("parse").unwrap(),
        Vec::<String>::new()
    );
    assert!(report.succeeded());
}

#[test]
fn the_cross_product_varies_the_last_argument_fastest() {
    let report = test(Dag::build("product", || {
        pair::expand(
            each(vec![1i64, 2]),
            each(vec!["a".to_owned(), "b".into(), "c".into()]),
        );
        triple::expand(
            each(vec![0i64, 1]),
            each(vec![0i64, 1]),
            each(vec![0i64, 1]),
        );
    }));
    assert_eq!(
        report.xcom::<Vec<String>>("pair").unwrap(),
        ["1a", "1b", "1c", "2a", "2b", "2c"]
    );
    let triples = report.xcom::<Vec<i64>>("triple").unwrap();
    assert_eq!(triples.len(), 8);
    assert_eq!(triples[5], 101); // index 5 = (x1, y0, z1)
}

#[test]
fn an_empty_argument_of_a_product_skips_the_task() {
    let report = test(Dag::build("empty_product", || {
        pair::expand(each(vec![1i64, 2]), each(Vec::<String>::new()));
    }));
    assert_eq!(report.state("pair"), TaskState::Skipped);
}

#[task]
fn zipped(pair: (i64, String)) -> String {
    format!("{}{}", pair.0, pair.1)
}

#[task]
fn zipped_longest(pair: (Option<i64>, Option<String>)) -> String {
    format!("{:?}{:?}", pair.0, pair.1)
}

#[test]
fn zip_pairs_elements_to_the_shortest_source_or_fills_to_the_longest() {
    let report = test(Dag::build("zips", || {
        let numbers = vec![1i64, 2, 3];
        let letters = vec!["a".to_owned(), "b".to_owned()];
        zipped::expand(each(numbers.clone()).zip(letters.clone()));
        zipped::with(TaskOptions::new().task_id("filled"))
            .expand(each(numbers.clone()).zip_fill(letters.clone(), (0, "z".to_owned())));
        zipped_longest::expand(each(numbers).zip_longest(letters));
    }));
    assert_eq!(report.xcom::<Vec<String>>("zipped").unwrap(), ["1a", "2b"]);
    assert_eq!(
        report.xcom::<Vec<String>>("filled").unwrap(),
        ["1a", "2b", "3z"]
    );
    assert_eq!(
        report.xcom::<Vec<String>>("zipped_longest").unwrap()[2],
        "Some(3)None"
    );
}

#[derive(Clone)]
struct Job {
    x: i64,
    y: String,
}

impl From<Job> for (i64, String) {
    fn from(job: Job) -> Self {
        (job.x, job.y)
    }
}

#[task]
fn jobs() -> Vec<Job> {
    vec![
        Job {
            x: 1,
            y: "a".into(),
        },
        Job {
            x: 2,
            y: "b".into(),
        },
    ]
}

#[test]
fn expand_kwargs_maps_over_argument_sets_of_tuples_or_structs() {
    let report = test(Dag::build("kwargs", || {
        pair::expand_kwargs(vec![(1i64, "a".to_owned()), (2, "b".to_owned())]);
        pair::with(TaskOptions::new().task_id("from_structs")).expand_kwargs(each(jobs()));
    }));
    assert_eq!(report.xcom::<Vec<String>>("pair").unwrap(), ["1a", "2b"]);
    assert_eq!(
        report.xcom::<Vec<String>>("from_structs").unwrap(),
        ["1a", "2b"]
    );
}

#[task]
fn scores() -> BTreeMap<String, i64> {
    BTreeMap::from([("b".to_owned(), 2), ("a".to_owned(), 1)])
}

#[task]
fn entry(item: (String, i64)) -> String {
    format!("{}={}", item.0, item.1)
}

#[test]
fn an_ordered_map_is_mapped_over_its_pairs_in_key_order() {
    let report = test(Dag::build("dict", || {
        entry::expand(each(scores()));
    }));
    assert_eq!(report.xcom::<Vec<String>>("entry").unwrap(), ["a=1", "b=2"]);
}

#[task]
fn four_files() -> Vec<String> {
    (0..4).map(|i| i.to_string()).collect()
}

#[test]
fn a_value_longer_than_max_map_length_fails_its_producer_and_the_mapped_task_is_upstream_failed() {
    let report = test(Dag::builder("too_long").max_map_length(3).build(|| {
        let parsed = parse::expand(each(four_files()), "eu");
        joined_anyway(parsed);
    }));
    assert_eq!(report.state("four_files"), TaskState::Failed);
    let error = report.error("four_files").unwrap();
    assert!(error.contains('4') && error.contains('3'), "{error}");
    assert!(error.contains("max_map_length"), "{error}");
    assert_eq!(report.state("parse"), TaskState::UpstreamFailed);
    assert!(report.instances("parse").is_empty());
    // The DAG's limit wins over the executor's; exactly the limit passes.
    let report = test(Dag::builder("at_limit").max_map_length(4).build(|| {
        parse::expand(each(four_files()), "eu");
    }));
    assert_eq!(report.state("parse"), TaskState::Success);
}

#[test]
fn the_executor_sets_max_map_length_for_dags_that_set_none() {
    let executor = Executor::builder()
        .max_map_length(2)
        .virtual_time(true)
        .build()
        .unwrap();
    let dag = Dag::build("executor_limit", || {
        parse::expand(each(files()), "eu");
    })
    .unwrap();
    let handle = executor.submit(&dag, RunOptions::new()).unwrap();
    let report = within(LIMIT, "the run", move || handle.wait().unwrap());
    assert_eq!(report.state("files"), TaskState::Failed);
    assert_eq!(report.state("parse"), TaskState::UpstreamFailed);
}

#[test]
fn each_in_a_plain_call_or_expand_without_each_is_a_build_error() {
    let error = Dag::build("misused", || {
        parse(each(files()), "eu");
    })
    .unwrap_err();
    assert!(error.to_string().contains("parse::expand"), "{error}");
    let error = Dag::build("nothing_mapped", || {
        parse::expand("a", "eu");
    })
    .unwrap_err();
    assert!(error.to_string().contains("at least one `each"), "{error}");
}

#[test]
fn listeners_hear_each_instance_with_its_map_index() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let heard = Arc::clone(&events);
    let report = Dag::build("heard", || {
        parse::expand(each(files()), "eu");
    })
    .unwrap()
    .test_with(RunOptions::new().log(false).listener(move |event: &Event| {
        if let Event::TaskInstance(event) = event
            && event.state == TaskState::Success
        {
            heard
                .lock()
                .unwrap()
                .push((event.task_id.to_string(), event.map_index));
        }
    }))
    .unwrap();
    assert!(report.succeeded());
    let mut heard = events.lock().unwrap().clone();
    heard.sort();
    assert_eq!(
        heard,
        [
            ("files".to_owned(), None),
            ("parse".to_owned(), None), // the mapped task as a whole, after its instances
            ("parse".to_owned(), Some(0)),
            ("parse".to_owned(), Some(1)),
            ("parse".to_owned(), Some(2)),
        ]
    );
}

#[task]
async fn slow(ctx: &Context, wait_secs: u64) -> u64 {
    ctx.sleep(Duration::from_secs(wait_secs)).await;
    wait_secs
}

#[test]
fn values_come_in_map_index_order_whatever_order_the_instances_end_in() {
    let report = test(Dag::build("ordered", || {
        slow::expand(each(vec![30u64, 1, 10]));
    }));
    assert_eq!(report.xcom::<Vec<u64>>("slow").unwrap(), [30, 1, 10]);
    let ends: Vec<_> = report
        .instances("slow")
        .iter()
        .map(|i| i.end_date.unwrap())
        .collect();
    assert!(ends[1] < ends[2] && ends[2] < ends[0], "{ends:?}");
}

#[task(branch)]
fn pick_other() -> &'static str {
    "other"
}

#[task]
fn other() -> &'static str {
    "other ran"
}

#[task(trigger_rule = "none_failed_min_one_success")]
fn join_after(_parsed: Option<Vec<String>>) -> &'static str {
    "joined"
}

#[test]
fn a_branch_not_taken_skips_the_mapped_task_without_expanding_it() {
    // Airflow: the mapped task's single unexpanded instance is skipped; its all_success
    // reduce is skipped; a none_failed_min_one_success join runs.
    let report = test(Dag::build("branch_around", || {
        let choice = pick_other();
        let listed = files();
        let parsed = parse::expand(each(listed), "eu");
        choice >> (parsed, other());
        let reduced = joined(parsed);
        let join = join_after(parsed);
        other() >> join;
        let _ = reduced;
    }));
    assert_eq!(report.state("parse"), TaskState::Skipped);
    assert!(report.instances("parse").is_empty());
    assert_eq!(report.state("joined"), TaskState::Skipped);
    assert_eq!(report.state("join_after"), TaskState::Success);
}

#[task(short_circuit)]
fn go_on() -> bool {
    false
}

#[test]
fn a_false_short_circuit_upstream_skips_the_mapped_task() {
    let report = test(Dag::build("short_circuited", || {
        let parsed = parse::expand(each(files()), "eu");
        go_on() >> parsed;
    }));
    assert_eq!(report.state("parse"), TaskState::Skipped);
    assert!(report.instances("parse").is_empty());
}

#[sensor(poke_interval = "1m", timeout = "1h", mode = "reschedule")]
fn arrived(ctx: &Context, minute: i64) -> bool {
    let started = ctx.logical_date();
    (ctx.now() - started).num_minutes() >= minute
}

#[task]
fn after_sensors(_ready: Vec<()>) -> &'static str {
    "done"
}

#[test]
fn a_mapped_sensor_checks_each_element_on_its_own() {
    let report = test(Dag::build("mapped_sensor", || {
        after_sensors(arrived::expand(each(vec![5i64, 20])));
    }));
    assert!(report.succeeded(), "{report:?}");
    let instances = report.instances("arrived");
    let waited: Vec<i64> = instances
        .iter()
        .map(|i| (i.end_date.unwrap() - i.start_date.unwrap()).num_minutes())
        .collect();
    assert!((5..7).contains(&waited[0]), "{waited:?}");
    assert!((20..22).contains(&waited[1]), "{waited:?}");
    let sensors_end = instances[1].end_date.unwrap();
    let after = report.task("after_sensors").unwrap();
    assert!(after.start_date.unwrap() >= sensors_end);
}

#[task(priority_weight = 10, pool = "one")]
fn urgent(ctx: &Context) -> String {
    format!("urgent@{}", ctx.now().timestamp_micros())
}

#[task(pool = "one", weight_rule = "absolute")]
fn routine(ctx: &Context, n: u32) -> String {
    format!("{n}@{}", ctx.now().timestamp_micros())
}

#[test]
fn the_ready_queue_orders_instances_by_weight_then_map_index() {
    // Airflow's queue order: -priority_weight, logical_date, map_index.
    let executor = Executor::builder()
        .pool("one", 1)
        .virtual_time(true)
        .build()
        .unwrap();
    let dag = Dag::build("queue_order", || {
        routine::expand(each(vec![0u32, 1, 2]));
        urgent();
    })
    .unwrap();
    let handle = executor.submit(&dag, RunOptions::new()).unwrap();
    let report = within(LIMIT, "the run", move || handle.wait().unwrap());
    let mut started: Vec<(i64, String)> = report
        .instances("routine")
        .iter()
        .map(|i| {
            (
                i.start_date.unwrap().timestamp_nanos_opt().unwrap(),
                format!("routine[{}]", i.map_index.unwrap()),
            )
        })
        .collect();
    let urgent = report.task("urgent").unwrap();
    started.push((
        urgent.start_date.unwrap().timestamp_nanos_opt().unwrap(),
        "urgent".into(),
    ));
    started.sort();
    let order: Vec<&str> = started.iter().map(|(_, name)| name.as_str()).collect();
    assert_eq!(order, ["urgent", "routine[0]", "routine[1]", "routine[2]"]);
}

#[task]
fn zeros(n: usize) -> Vec<u8> {
    vec![0; n]
}

#[task]
fn noop(_a: u8, _b: u8) {}

#[test]
fn a_product_too_large_for_a_dag_fails_the_mapped_task_with_a_message() {
    let report = test(
        Dag::builder("huge_product")
            .max_map_length(100_000)
            .build(|| {
                noop::expand(each(zeros(70_000)), each(zeros(70_000)));
            }),
    );
    assert_eq!(report.state("noop"), TaskState::Failed);
    let error = report.error("noop").unwrap();
    assert!(error.contains("4900000000 instances"), "{error}");
}

#[task(trigger_rule = "all_done")]
fn count_all(values: Vec<i64>) -> usize {
    values.len()
}

#[test]
fn a_hundred_thousand_instances_run_and_collect_in_a_debug_build() {
    let values: Vec<i64> = (0..100_000).collect();
    let report = test(Dag::builder("wide").max_map_length(100_000).build(move || {
        count_all(add_one::expand(each(values)));
    }));
    assert_eq!(report.xcom::<usize>("count_all").unwrap(), 100_000);
    assert_eq!(report.instances("add_one").len(), 100_000);
}

#[test]
fn a_mapped_task_in_a_task_group_takes_the_group_prefix() {
    let report = test(Dag::build("grouped_mapping", || {
        TaskGroup::new("extract").enter(|| {
            parse::expand(each(files()), "eu");
        });
    }));
    assert_eq!(report.instances("extract.parse").len(), 3);
    assert_eq!(report.state("extract.parse"), TaskState::Success);
}

#[test]
fn a_run_that_keeps_no_values_moves_each_value_to_its_reader() {
    let report = Dag::build("not_kept", || {
        sum(add_one::expand(each(vec![1i64, 2, 3])));
    })
    .unwrap()
    .test_with(RunOptions::new().log(false).keep_xcoms(false))
    .unwrap();
    assert_eq!(
        report.state("add_one"),
        TaskState::Success,
        "{:?} {:?}",
        report.error("add_one"),
        report.instances("add_one")
    );
    assert_eq!(report.xcom::<i64>("sum").unwrap(), 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_handed_straight_to_a_mapped_task_is_mapped_over() {
    // `dag.run()` hands a value with one reader straight to it on the same worker; the
    // mapped task must read it from the hand, not from its (empty) slot.
    let dag = Dag::build("handed", || {
        sum(add_one::expand(each(four_numbers())));
    })
    .unwrap();
    let report = tokio::time::timeout(Duration::from_secs(60), dag.run())
        .await
        .expect("the run ends")
        .unwrap();
    assert_eq!(
        report.state("add_one"),
        TaskState::Success,
        "{:?}",
        report.error("add_one")
    );
    assert_eq!(report.xcom::<i64>("sum").unwrap(), 14);
}

#[task]
fn four_numbers() -> Vec<i64> {
    vec![1, 2, 3, 4]
}

#[derive(Clone)]
struct Exploding;

impl From<Exploding> for (i64, String) {
    fn from(_: Exploding) -> Self {
        panic!("no tuple for you")
    }
}

#[test]
fn a_panicking_conversion_of_an_argument_set_fails_the_mapped_task_not_the_run() {
    let report = test(Dag::build("exploding", || {
        pair::expand_kwargs(vec![Exploding]);
        add_one(1);
    }));
    assert_eq!(report.state("pair"), TaskState::Failed);
    assert!(report.error("pair").unwrap().contains("no tuple for you"));
    assert_eq!(report.state("add_one"), TaskState::Success);
}

#[task(max_active_tis_per_dag = 1)]
async fn one_at_a_time(ctx: &Context, n: u32) -> u32 {
    ctx.sleep(Duration::from_secs(60)).await;
    n
}

#[test]
fn max_active_tis_per_dag_counts_every_instance_of_a_mapped_task() {
    let dag = Dag::build("one_at_a_time", || {
        one_at_a_time::expand(each(vec![0u32, 1, 2]));
    })
    .unwrap();
    let report = virtual_run(&dag);
    assert_one_at_a_time(&report.instances("one_at_a_time"));
}

/// A run of `dag` on an executor with virtual time.
fn virtual_run(dag: &Dag) -> RunReport {
    let executor = Executor::builder().virtual_time(true).build().unwrap();
    let handle = executor.submit(dag, RunOptions::new()).unwrap();
    within(LIMIT, "the run", move || handle.wait().unwrap())
}

/// Checks that no two of `tasks` ran at the same time.
fn assert_one_at_a_time(tasks: &[taskflow::TaskReport]) {
    let mut spans: Vec<_> = tasks
        .iter()
        .map(|i| (i.start_date.unwrap(), i.end_date.unwrap()))
        .collect();
    spans.sort();
    for pair in spans.windows(2) {
        assert!(pair[1].0 >= pair[0].1, "tasks overlapped: {spans:?}");
    }
}

#[task]
async fn busy(ctx: &Context, n: u32) -> u32 {
    ctx.sleep(Duration::from_secs(60)).await;
    n
}

#[test]
fn max_active_tasks_counts_a_runs_mapped_instances_with_its_other_tasks() {
    let dag = Dag::builder("one_task_at_a_time")
        .max_active_tasks(1)
        .build(|| {
            busy::expand(each(vec![0u32, 1, 2]));
            busy(9);
        })
        .unwrap();
    let report = virtual_run(&dag);
    let mut tasks = report.instances("busy");
    tasks.extend(report.task("busy__1"));
    assert_eq!(tasks.len(), 4);
    assert_one_at_a_time(&tasks);
}

#[task(branch)]
fn choose(n: u32) -> &'static str {
    if n > 0 { "a" } else { "b" }
}

#[test]
fn a_branch_cannot_be_mapped_and_says_so() {
    let error = Dag::build("mapped_branch", || {
        choose::expand(each(vec![0u32, 1]));
    })
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("a branch or short-circuit task cannot be mapped"),
        "{error}"
    );
}

#[task]
fn pushes(ctx: &Context, n: u32) -> u32 {
    ctx.xcom_push("double", n * 2);
    n
}

#[task]
fn pulls(ctx: &Context, _all: Vec<u32>) -> (Vec<u32>, String) {
    let mapped = ctx.xcom_pull_mapped::<u32>("pushes", "double").unwrap();
    let plain = ctx
        .xcom_pull::<u32>("pushes", "double")
        .unwrap_err()
        .to_string();
    (mapped, plain)
}

#[test]
fn keyed_pushes_of_mapped_instances_are_kept_per_map_index_not_overwritten() {
    let report = test(Dag::build("pushed", || {
        pulls(pushes::expand(each(vec![1u32, 2, 3])));
    }));
    let (mapped, plain) = report.xcom::<(Vec<u32>, String)>("pulls").unwrap();
    assert_eq!(mapped, [2, 4, 6]);
    assert!(plain.contains("xcom_pull_mapped"), "{plain}");
}
