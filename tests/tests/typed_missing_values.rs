//! Typed missing values: an `Option<T>` or `Option<&T>` parameter receives `None` when its
//! upstream task ended without a value (as Airflow hands such a task `None`), and a task
//! reads the states of its upstream tasks from its `Context`.

use taskflow::prelude::*;

#[task]
fn region_totals(fail: bool) -> Result<u64, TaskError> {
    if fail {
        Err(TaskError::fail_now("the warehouse is down"))
    } else {
        Ok(120)
    }
}

#[task(trigger_rule = "all_done")]
fn report_owned(totals: Option<u64>) -> String {
    match totals {
        Some(total) => format!("total {total}"),
        None => "no totals".to_owned(),
    }
}

#[task(trigger_rule = "all_done")]
fn report_shared(totals: Option<&u64>) -> String {
    match totals {
        Some(total) => format!("total {total}"),
        None => "no totals".to_owned(),
    }
}

#[task(trigger_rule = "all_done")]
fn report_plain(totals: u64) -> String {
    format!("total {totals}")
}

#[test]
fn all_done_task_after_a_failed_upstream_receives_none() {
    let report = Dag::build("missing", || {
        let totals = region_totals(true);
        report_owned(totals);
        report_shared(totals);
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.state("region_totals"), TaskState::Failed);
    assert_eq!(report.state("report_owned"), TaskState::Success);
    assert_eq!(report.xcom::<String>("report_owned").unwrap(), "no totals");
    assert_eq!(report.state("report_shared"), TaskState::Success);
    assert_eq!(report.xcom::<String>("report_shared").unwrap(), "no totals");
}

#[test]
fn all_done_task_after_a_successful_upstream_receives_some() {
    let report = Dag::build("present", || {
        let totals = region_totals(false);
        report_owned(totals);
        report_shared(totals);
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.xcom::<String>("report_owned").unwrap(), "total 120");
    assert_eq!(report.xcom::<String>("report_shared").unwrap(), "total 120");
}

#[test]
fn a_plain_parameter_after_a_failed_upstream_still_fails_clearly() {
    let report = Dag::build("plain", || {
        report_plain(region_totals(true));
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.state("report_plain"), TaskState::Failed);
    let error = report.task("report_plain").unwrap().error.clone().unwrap();
    assert!(
        error.contains(
            "argument 1 from task `region_totals` could not be read: it produced no value"
        ),
        "{error}"
    );
}

#[task]
fn maybe_name(give: bool) -> Option<String> {
    give.then(|| "north".to_owned())
}

#[task(trigger_rule = "all_done")]
fn greet(name: Option<String>, fallback: Option<&str>) -> String {
    match (name, fallback) {
        (Some(name), _) => format!("hello {name}"),
        (None, Some(fallback)) => format!("hello {fallback}"),
        (None, None) => "hello nobody".to_owned(),
    }
}

#[test]
fn an_option_parameter_also_takes_an_optional_upstream_value_and_literals() {
    let report = Dag::build("optional_values", || {
        let given = maybe_name::with("given").add(true);
        let absent = maybe_name::with("absent").add(false);
        greet::with("from_value").add(given, None::<String>);
        greet::with("from_fallback").add(absent, Some("south".to_owned()));
        greet::with("from_failed").add(region_totals_name(), absent);
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.xcom::<String>("from_value").unwrap(), "hello north");
    assert_eq!(
        report.xcom::<String>("from_fallback").unwrap(),
        "hello south"
    );
    assert_eq!(
        report.xcom::<String>("from_failed").unwrap(),
        "hello nobody"
    );
}

#[task]
fn region_totals_name() -> Result<String, TaskError> {
    Err(TaskError::fail_now("no name"))
}

#[task]
fn rows() -> Vec<u32> {
    vec![1, 2, 3]
}

#[task]
fn skipped_rows() -> Result<Vec<u32>, TaskError> {
    Err(TaskError::skip("nothing to load today"))
}

#[task(trigger_rule = "none_failed")]
fn count_rows(rows: Option<&[u32]>) -> usize {
    rows.map_or(0, <[u32]>::len)
}

#[test]
fn an_optional_slice_reads_a_vec_or_none_after_a_skip() {
    let report = Dag::build("optional_slices", || {
        count_rows::with("counted").add(rows());
        count_rows::with("after_skip").add(skipped_rows());
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.xcom::<usize>("counted").unwrap(), 3);
    assert_eq!(report.state("skipped_rows"), TaskState::Skipped);
    // none_failed lets the task run after a skipped upstream, which left no value.
    assert_eq!(report.state("after_skip"), TaskState::Success);
    assert_eq!(report.xcom::<usize>("after_skip").unwrap(), 0);
}

#[task]
fn audit() -> u32 {
    1
}

#[task(trigger_rule = "all_done")]
fn summary(ctx: &Context) -> String {
    let failed: Vec<String> = ctx
        .upstream_states()
        .into_iter()
        .filter(|(_, state)| *state == TaskState::Failed)
        .map(|(task_id, _)| task_id)
        .collect();
    format!("failed: [{}]", failed.join(", "))
}

#[task(trigger_rule = "all_done")]
fn every_state(ctx: &Context, _totals: Option<u64>) -> Vec<(String, TaskState)> {
    ctx.upstream_states()
}

#[task(trigger_rule = "all_done")]
fn one_state(ctx: &Context) -> (Option<TaskState>, Option<TaskState>) {
    (ctx.upstream_state("audit"), ctx.upstream_state("summary"))
}

#[test]
fn a_summary_task_reads_which_upstream_task_failed_from_its_context() {
    let report = Dag::build("summaries", || {
        let totals = region_totals(true);
        let audited = audit();
        let done = summary();
        totals >> done;
        audited >> done;
        let all = every_state(totals);
        audited >> all;
        let one = one_state();
        audited >> one;
        done >> one;
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(
        report.xcom::<String>("summary").unwrap(),
        "failed: [region_totals]"
    );
    assert_eq!(
        report
            .xcom::<Vec<(String, TaskState)>>("every_state")
            .unwrap(),
        [
            ("region_totals".to_owned(), TaskState::Failed),
            ("audit".to_owned(), TaskState::Success)
        ]
    );
    assert_eq!(
        report
            .xcom::<(Option<TaskState>, Option<TaskState>)>("one_state")
            .unwrap(),
        (Some(TaskState::Success), Some(TaskState::Success))
    );
}

#[test]
fn upstream_states_of_a_later_task_id_read_that_task() {
    // Generated ids (`audit__1`) are found like given ones.
    let report = Dag::build("generated_ids", || {
        let first = audit();
        let second = audit();
        let done = every_state(region_totals(false));
        first >> done;
        second >> done;
    })
    .unwrap()
    .test()
    .unwrap();
    let states = report
        .xcom::<Vec<(String, TaskState)>>("every_state")
        .unwrap();
    assert_eq!(
        states,
        [
            ("audit".to_owned(), TaskState::Success),
            ("audit__1".to_owned(), TaskState::Success),
            ("region_totals".to_owned(), TaskState::Success)
        ]
    );
}

#[test]
fn a_test_context_reports_the_upstream_states_it_was_given() {
    let ctx = Context::for_test("summary")
        .with_upstream_states([("load", TaskState::Failed), ("audit", TaskState::Success)]);
    assert_eq!(summary::call(&ctx), "failed: [load]");
    assert_eq!(ctx.upstream_state("audit"), Some(TaskState::Success));
    assert_eq!(ctx.upstream_state("typo"), None);
    assert!(Context::for_test("summary").upstream_states().is_empty());
}
