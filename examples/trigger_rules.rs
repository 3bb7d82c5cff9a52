//! Every trigger rule side by side. For each mix of upstream outcomes (a column: tasks that
//! succeed, fail, or skip themselves with `TaskError::skip`), the DAG adds one downstream
//! task per rule of `TriggerRule::ALL`, each with a per-call override
//! (`task::with(TaskOptions::new().task_id(..).trigger_rule(rule)).add()`), and the run
//! report gives the table: which rules run the task (`success`), skip it (`skipped`) or mark
//! it `upstream_failed`. A rule only looks at the direct upstream tasks. The upstream tasks
//! of a column finish one after another, in the order shown, because a rule that can decide
//! early decides on the first upstream state that settles it (see `trigger_rules`).
//!
//! Run it with `cargo run --example trigger_rules`.

use std::fmt;

use taskflow::RunReport;
use taskflow::prelude::*;

/// How an upstream task ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Success,
    Failed,
    Skipped,
}

use Outcome::{Failed, Skipped, Success};

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Success => "ok",
            Outcome::Failed => "fail",
            Outcome::Skipped => "skip",
        })
    }
}

/// The columns of the table: the outcomes of the direct upstream tasks.
const MIXES: [&[Outcome]; 5] = [
    &[Success, Failed, Skipped],
    &[Success, Success],
    &[Success, Skipped],
    &[Failed, Failed],
    &[Skipped, Skipped],
];

/// A column's name, `ok+fail+skip`; with `_` in task ids, `ok_fail_skip`.
fn mix_name(mix: &[Outcome], separator: &str) -> String {
    let names: Vec<String> = mix.iter().map(ToString::to_string).collect();
    names.join(separator)
}

/// The id of the downstream task of `rule` under `mix`: `all_success.ok_fail_skip`.
fn task_id(rule: TriggerRule, mix: &[Outcome]) -> String {
    format!("{rule}.{}", mix_name(mix, "_"))
}

/// The id of the `i`-th upstream task of `mix`: `ok_fail_skip.fail2`.
fn upstream_id(mix: &[Outcome], i: usize) -> String {
    format!("{}.{}{}", mix_name(mix, "_"), mix[i], i + 1)
}

/// An upstream task that ends as told.
#[task]
fn upstream(outcome: Outcome) -> Result<(), TaskError> {
    match outcome {
        Success => Ok(()),
        Failed => Err(TaskError::msg("this upstream task fails on purpose")),
        Skipped => Err(TaskError::skip("this upstream task skips itself")),
    }
}

/// A downstream task: when it runs, it succeeds (its state in the table is `success`).
#[task]
fn downstream(ctx: &Context) -> String {
    ctx.task_id().to_owned()
}

/// One column per mix: its upstream tasks, then a downstream task per rule after them all.
///
/// The upstream tasks of a column run one after another, in the order listed (each waits
/// for the one before under `all_done`). Rules that can decide early do so on the first
/// upstream state that settles them, as in Airflow: under `all_success`, a skipped upstream
/// seen before a failed one skips the task, a failed one seen first marks it
/// `upstream_failed`. The fixed order makes the table the same on every run.
#[dag]
fn trigger_rules(mixes: &'static [&'static [Outcome]]) {
    for &mix in mixes {
        let mut upstreams: Vec<TaskRef> = Vec::with_capacity(mix.len());
        for (i, &outcome) in mix.iter().enumerate() {
            let options = TaskOptions::new()
                .task_id(upstream_id(mix, i))
                .trigger_rule(TriggerRule::AllDone);
            let task = upstream::with(options).add(outcome).task();
            if let Some(&previous) = upstreams.last() {
                previous >> task;
            }
            upstreams.push(task);
        }
        for rule in TriggerRule::ALL {
            let options = TaskOptions::new()
                .task_id(task_id(rule, mix))
                .trigger_rule(rule);
            upstreams.clone() >> downstream::with(options).add();
        }
    }
}

/// The state of the downstream task of `rule` under `mix`.
fn state(report: &RunReport, rule: TriggerRule, mix: &[Outcome]) -> TaskState {
    report.state(&task_id(rule, mix))
}

#[cfg_attr(test, allow(dead_code))]
fn main() -> taskflow::Result<()> {
    let report = trigger_rules(&MIXES).test()?;

    const RULE: usize = 29;
    const CELL: usize = 17;
    println!(
        "The state of a task under each trigger rule, by the outcomes of its upstream tasks \
         (which finish in the order shown):\n"
    );
    let mut header = format!("{:<RULE$}", "trigger rule");
    for mix in MIXES {
        header.push_str(&format!("{:<CELL$}", mix_name(mix, "+")));
    }
    println!("{}", header.trim_end());
    println!("{}", "-".repeat(RULE + CELL * MIXES.len() - 2));
    for rule in TriggerRule::ALL {
        let mut row = format!("{rule:<RULE$}");
        for mix in MIXES {
            let state = state(&report, rule, mix).to_string();
            row.push_str(&format!("{state:<CELL$}"));
        }
        println!("{}", row.trim_end());
    }
    println!(
        "\nsuccess: the task ran. all_done_setup_success is the teardown default; with no \
         setup upstream it acts as all_done.\nThe run itself is {}: its `fail` upstream tasks \
         failed, on purpose.",
        report.state_of_run().as_str()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use taskflow::TriggerRule as R;

    #[test]
    fn the_upstream_tasks_end_as_told() {
        let report = trigger_rules(&MIXES).test().unwrap();
        for mix in MIXES {
            for (i, outcome) in mix.iter().enumerate() {
                let id = upstream_id(mix, i);
                let expected = match outcome {
                    Success => TaskState::Success,
                    Failed => TaskState::Failed,
                    Skipped => TaskState::Skipped,
                };
                assert_eq!(report.state(&id), expected, "{id}");
            }
        }
        assert!(!report.succeeded(), "failed upstream tasks fail the run");
        assert_eq!(report.tasks().count(), 11 + 13 * MIXES.len());
    }

    #[test]
    fn rules_under_one_success_one_failed_and_one_skipped_upstream() {
        let report = trigger_rules(&MIXES).test().unwrap();
        let mixed = &[Success, Failed, Skipped][..];
        for (rule, expected) in [
            (R::AllSuccess, TaskState::UpstreamFailed),
            (R::AllFailed, TaskState::Skipped),
            (R::AllDone, TaskState::Success),
            (R::AllSkipped, TaskState::Skipped),
            (R::OneFailed, TaskState::Success),
            (R::OneSuccess, TaskState::Success),
            (R::NoneFailed, TaskState::UpstreamFailed),
            (R::NoneSkipped, TaskState::Skipped),
            (R::Always, TaskState::Success),
        ] {
            assert_eq!(state(&report, rule, mixed), expected, "{rule}");
        }
        assert_eq!(
            report.xcom::<String>(&task_id(R::AllDone, mixed)).unwrap(),
            "all_done.ok_fail_skip",
            "a task that ran returned its id"
        );
    }

    #[test]
    fn each_rule_runs_when_its_condition_holds() {
        let report = trigger_rules(&MIXES).test().unwrap();
        let runs =
            |rule: TriggerRule, mix: &[Outcome]| state(&report, rule, mix) == TaskState::Success;
        assert!(runs(R::AllSuccess, &[Success, Success]));
        assert!(runs(R::NoneSkipped, &[Success, Success]));
        assert!(runs(R::NoneFailed, &[Success, Skipped]));
        assert!(runs(R::NoneFailedMinOneSuccess, &[Success, Skipped]));
        assert!(runs(R::AllFailed, &[Failed, Failed]));
        assert!(runs(R::AllSkipped, &[Skipped, Skipped]));
        assert_eq!(
            state(&report, R::AllSuccess, &[Success, Skipped]),
            TaskState::Skipped,
            "a skipped upstream skips an all_success task"
        );
        assert_eq!(
            state(&report, R::OneFailed, &[Success, Success]),
            TaskState::Skipped
        );
        for mix in MIXES {
            assert!(runs(R::Always, mix), "always runs under {mix:?}");
        }
    }

    #[test]
    fn all_success_decides_on_the_first_skip_or_failure_it_sees() {
        const SKIP_THEN_FAIL: &[Outcome] = &[Success, Skipped, Failed];
        let report = trigger_rules(&[SKIP_THEN_FAIL]).test().unwrap();
        assert_eq!(
            state(&report, R::AllSuccess, SKIP_THEN_FAIL),
            TaskState::Skipped,
            "the skip came first"
        );
        // Rules that a skip does not settle give the same as in the other order.
        assert_eq!(
            state(&report, R::NoneFailed, SKIP_THEN_FAIL),
            TaskState::UpstreamFailed
        );
        assert_eq!(
            state(&report, R::AllDone, SKIP_THEN_FAIL),
            TaskState::Success
        );
    }
}
