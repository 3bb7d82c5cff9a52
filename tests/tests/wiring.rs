//! Wiring: literals and handles, many parameters and upstreams, ids, overrides, ordering edges.

use taskflow::prelude::*;

#[task]
fn number(n: u64) -> u64 {
    n
}

#[task]
fn add(a: u64, b: u64) -> u64 {
    a + b
}

#[task]
#[allow(clippy::too_many_arguments)]
fn twelve(
    a: u64,
    b: u64,
    c: u64,
    d: u64,
    e: u64,
    f: u64,
    g: u64,
    h: u64,
    i: u64,
    j: u64,
    k: String,
    l: &u64,
) -> String {
    format!("{k}{}", a + b + c + d + e + f + g + h + i + j + l)
}

#[test]
fn each_parameter_takes_a_literal_or_a_handle() {
    let report = Dag::build("mixed", || {
        let one = number(1);
        add(one, 41);
        add::with("both_handles").add(one, one);
        add::with("both_literals").add(2, 3);
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.xcom::<u64>("add").unwrap(), 42);
    assert_eq!(report.xcom::<u64>("both_handles").unwrap(), 2);
    assert_eq!(report.xcom::<u64>("both_literals").unwrap(), 5);
}

#[test]
fn more_than_eight_parameters_and_upstreams() {
    let report = Dag::build("wide", || {
        let n: Vec<Xcom<u64>> = (0..11).map(number).collect();
        twelve(
            n[0],
            n[1],
            n[2],
            n[3],
            n[4],
            n[5],
            n[6],
            n[7],
            n[8],
            n[9],
            "sum=".to_string(),
            n[10],
        );
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.xcom::<String>("twelve").unwrap(), "sum=55");
}

#[test]
fn a_task_can_wait_for_many_upstream_tasks() {
    #[task]
    fn last() -> &'static str {
        "done"
    }
    let dag = Dag::build("fan_in", || {
        let ups: Vec<TaskRef> = (0..100).map(|n| number(n).task()).collect();
        ups >> last();
    })
    .unwrap();
    assert_eq!(dag.upstream_task_ids("last").unwrap().len(), 100);
    let report = dag.test().unwrap();
    assert_eq!(report.state("last"), TaskState::Success);
}

#[test]
fn repeated_calls_get_airflow_suffixes_in_call_order() {
    let dag = Dag::build("repeats", || {
        let a = number(1);
        let b = number(2);
        add(a, b);
        number(3);
    })
    .unwrap();
    assert_eq!(dag.task_ids(), ["number", "number__1", "add", "number__2"]);
    let report = dag.test().unwrap();
    assert_eq!(report.xcom::<u64>("number__2").unwrap(), 3);
}

#[test]
fn macro_task_id_option_names_the_task() {
    #[task(task_id = "load_orders")]
    fn load() -> u32 {
        7
    }
    let dag = Dag::build("named", || {
        load();
        load();
    })
    .unwrap();
    assert_eq!(dag.task_ids(), ["load_orders", "load_orders__1"]);
}

#[test]
fn per_call_override_sets_the_id_and_the_trigger_rule() {
    let dag = Dag::build("overrides", || {
        let a = number::with(
            TaskOptions::new()
                .task_id("first")
                .trigger_rule(TriggerRule::AllDone),
        )
        .add(1);
        number::with("second".to_string()).add(2);
        a
    })
    .unwrap();
    assert_eq!(dag.task_ids(), ["first", "second"]);
    assert_eq!(dag.trigger_rule("first").unwrap(), TriggerRule::AllDone);
    assert_eq!(dag.trigger_rule("second").unwrap(), TriggerRule::AllSuccess);
}

#[test]
fn macro_trigger_rule_option_applies_to_every_call() {
    #[task(trigger_rule = "none_failed")]
    fn tolerant() {}
    let dag = Dag::build("rules", || {
        tolerant();
        tolerant::with(TaskOptions::new().trigger_rule(TriggerRule::OneSuccess)).add();
    })
    .unwrap();
    assert_eq!(
        dag.trigger_rule("tolerant").unwrap(),
        TriggerRule::NoneFailed
    );
    assert_eq!(
        dag.trigger_rule("tolerant__1").unwrap(),
        TriggerRule::OneSuccess
    );
}

#[test]
fn dag_macro_and_dag_build_build_the_same_graph() {
    #[dag]
    fn summed() {
        let a = number(1);
        add(a, 2);
    }
    #[dag(dag_id = "renamed")]
    fn other() {
        number(5);
    }
    let from_macro = summed().unwrap();
    let from_closure = Dag::build("summed", || {
        let a = number(1);
        add(a, 2);
    })
    .unwrap();
    assert_eq!(from_macro.dag_id(), "summed");
    assert_eq!(from_macro.task_ids(), from_closure.task_ids());
    assert_eq!(from_macro.downstream_task_ids("number").unwrap(), ["add"]);
    assert_eq!(from_closure.downstream_task_ids("number").unwrap(), ["add"]);
    assert_eq!(other().unwrap().dag_id(), "renamed");
}

#[test]
fn dag_functions_take_parameters() {
    #[dag]
    fn scaled(base: u64, times: usize) {
        let mut last = number(base);
        for _ in 0..times {
            last = add(last, base);
        }
    }
    let report = scaled(3, 4).test().unwrap();
    assert_eq!(report.xcom::<u64>("add__3").unwrap(), 15);
}

#[test]
fn shift_operators_add_ordering_edges_and_return_the_right_side() {
    let dag = Dag::build("ops", || {
        let (a, b, c, d) = (number(1), number(2), number(3), number(4));
        a >> b >> c; // a before b before c
        d << a; // a before d
    })
    .unwrap();
    assert_eq!(
        dag.downstream_task_ids("number").unwrap(),
        ["number__1", "number__3"]
    );
    assert_eq!(dag.downstream_task_ids("number__1").unwrap(), ["number__2"]);
    assert_eq!(dag.upstream_task_ids("number__3").unwrap(), ["number"]);
}

#[test]
fn lists_on_either_side_of_shift_operators() {
    #[task]
    fn label() -> String {
        "x".into()
    }
    let dag = Dag::build("lists", || {
        let (a, b, c) = (number(1), label(), number(2));
        a >> (b, c); // heterogeneous list on the right
        let d = number(3);
        (b, c) >> d; // tuple of handles on the left
        let e = number(4);
        [a, c] >> e; // array of one type on the left
    })
    .unwrap();
    assert_eq!(
        dag.downstream_task_ids("number").unwrap(),
        ["label", "number__1", "number__3"]
    );
    assert_eq!(
        dag.upstream_task_ids("number__2").unwrap(),
        ["label", "number__1"]
    );
    assert_eq!(
        dag.upstream_task_ids("number__3").unwrap(),
        ["number", "number__1"]
    );
}

#[test]
fn chain_links_steps_and_pairs_lists_of_equal_length() {
    let dag = Dag::build("chained", || {
        let t: Vec<Xcom<u64>> = (0..6).map(number).collect();
        chain((t[0], [t[1], t[2]], [t[3], t[4]], t[5]));
    })
    .unwrap();
    assert_eq!(
        dag.downstream_task_ids("number").unwrap(),
        ["number__1", "number__2"]
    );
    assert_eq!(dag.downstream_task_ids("number__1").unwrap(), ["number__3"]);
    assert_eq!(dag.downstream_task_ids("number__2").unwrap(), ["number__4"]);
    assert_eq!(
        dag.upstream_task_ids("number__5").unwrap(),
        ["number__3", "number__4"]
    );
}

#[test]
fn ordering_edges_order_execution() {
    use std::sync::Mutex;
    static ORDER: Mutex<Vec<&str>> = Mutex::new(Vec::new());
    #[task]
    fn visit(name: &'static str) {
        ORDER.lock().unwrap().push(name);
    }
    let dag = Dag::build("ordered", || {
        let (a, b, c) = (visit("a"), visit("b"), visit("c"));
        chain([c, b, a]);
    })
    .unwrap();
    dag.test().unwrap();
    assert_eq!(*ORDER.lock().unwrap(), ["c", "b", "a"]);
}

#[test]
fn plain_function_stays_callable() {
    assert_eq!(add::call(2, 3), 5);
    assert_eq!(
        twelve::call(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, "n=".into(), &1),
        "n=11"
    );
}

#[tokio::test]
async fn async_plain_function_stays_callable() {
    #[task]
    async fn fetch(n: u64) -> Result<u64, TaskError> {
        Ok(n * 10)
    }
    assert_eq!(fetch::call(4).await.unwrap(), 40);
}

#[test]
fn a_string_parameter_takes_a_str_literal() {
    #[task]
    fn greet(name: String) -> String {
        format!("hello {name}")
    }
    let report = Dag::build("greet", || {
        greet("world");
        greet(String::from("owned"));
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.xcom::<String>("greet").unwrap(), "hello world");
    assert_eq!(report.xcom::<String>("greet__1").unwrap(), "hello owned");
}

#[test]
fn slice_str_and_path_parameters_share_owned_upstream_values() {
    use std::path::{Path, PathBuf};
    #[task]
    fn numbers() -> Vec<u64> {
        vec![1, 2, 3]
    }
    #[task]
    fn name() -> String {
        "orders".to_string()
    }
    #[task]
    fn folder() -> PathBuf {
        PathBuf::from("/data/in")
    }
    #[task]
    fn describe(values: &[u64], label: &str, dir: &Path) -> String {
        format!(
            "{label}:{}:{}",
            values.iter().sum::<u64>(),
            dir.join("x.csv").display()
        )
    }
    let report = Dag::build("views", || {
        let n = numbers();
        describe(n, name(), folder());
        describe::with("literals").add(vec![5], "lit".to_string(), PathBuf::from("/tmp"));
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(
        report.xcom::<String>("describe").unwrap(),
        "orders:6:/data/in/x.csv"
    );
    assert_eq!(
        report.xcom::<String>("literals").unwrap(),
        "lit:5:/tmp/x.csv"
    );
    assert_eq!(
        describe::call(&[1, 1], "plain", Path::new("/p")),
        "plain:2:/p/x.csv"
    );
}

#[test]
fn unnamed_parameters_do_not_clash_with_named_ones() {
    #[task]
    fn second(_: u32, arg0: u32) -> u32 {
        arg0
    }
    let report = Dag::build("names", || {
        second(1, 2);
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.xcom::<u32>("second").unwrap(), 2);
}
