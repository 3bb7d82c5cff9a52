//! Values that cross a boundary: a task's value as JSON (found without a bound on its
//! type), the report serialized to JSON and read back, value sizes, and the warning about
//! large values.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;
use taskflow::prelude::*;
use taskflow::{DagRunState, Error, RunSummary, SizeKind, ValueSize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Order {
    id: u32,
    amount: f64,
}

/// Not `Serialize`: shown by its type name only.
struct Connection {
    _socket: [u8; 24],
}

#[task]
fn orders() -> Vec<Order> {
    vec![
        Order { id: 1, amount: 9.5 },
        Order {
            id: 2,
            amount: 20.0,
        },
    ]
}

#[task]
fn connect() -> Connection {
    Connection { _socket: [0; 24] }
}

#[test]
fn a_serializable_value_reads_back_as_json() {
    #[task]
    fn total(orders: Vec<Order>) -> f64 {
        orders.iter().map(|order| order.amount).sum()
    }
    let report = Dag::build("json_values", || {
        total(orders());
    })
    .test()
    .unwrap();
    assert_eq!(
        report.xcom_json("orders").unwrap(),
        json!([{"id": 1, "amount": 9.5}, {"id": 2, "amount": 20.0}])
    );
    assert_eq!(report.xcom_json("total").unwrap(), json!(29.5));
    report.check_xcom_round_trip("orders").unwrap();
}

#[test]
fn a_value_that_does_not_serialize_is_an_error_naming_the_task_and_its_type() {
    #[task]
    fn uses(connection: &Connection) -> usize {
        connection._socket.len()
    }
    // The task compiles and runs as before: only its JSON is missing.
    let report = Dag::build("opaque_values", || {
        uses(connect());
    })
    .test()
    .unwrap();
    assert_eq!(report.xcom::<usize>("uses").unwrap(), 24);
    let error = report.xcom_json("connect").unwrap_err();
    assert_eq!(
        error.to_string(),
        "the value of task `connect` (type `values_json::Connection`) does not encode to json: \
         its type does not implement serde::Serialize"
    );
    assert!(matches!(error, Error::XcomNotEncodable { .. }));
}

#[test]
fn a_task_without_a_value_has_no_json_and_an_unknown_task_is_named() {
    #[task]
    fn fails() -> Result<Vec<Order>, TaskError> {
        Err(TaskError::msg("source is down"))
    }
    let report = Dag::build("no_value", || {
        fails();
    })
    .test()
    .unwrap();
    assert_eq!(
        report.xcom_json("fails").unwrap_err().to_string(),
        "task `fails` has no value: it ended failed"
    );
    assert!(matches!(
        report.xcom_json("absent"),
        Err(Error::UnknownTask { .. })
    ));
    assert!(matches!(
        report.xcom_size("fails"),
        Err(Error::XcomMissing { .. })
    ));
}

#[test]
fn a_map_with_keys_that_are_not_strings_fails_to_encode_with_serdes_reason() {
    #[task]
    fn pairs() -> BTreeMap<(u8, u8), u8> {
        [((1, 2), 3)].into()
    }
    let report = Dag::build("bad_keys", || {
        pairs();
    })
    .test()
    .unwrap();
    let error = report.xcom_json("pairs").unwrap_err().to_string();
    assert!(
        error.starts_with("the value of task `pairs` (type `alloc::collections::btree::map::BTreeMap<(u8, u8), u8>`) does not encode to json: key must be a string"),
        "{error}"
    );
    // It does not encode, so its size is its shallow size.
    let size = report.xcom_size("pairs").unwrap();
    assert_eq!(size.kind, SizeKind::Shallow);
    assert_eq!(size.bytes, size_of::<BTreeMap<(u8, u8), u8>>() as u64);
}

/// Its `Serialize` panics.
struct Explosive;

impl Serialize for Explosive {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        panic!("serializing explodes")
    }
}

#[test]
fn a_panic_in_a_values_serialize_is_an_error_not_a_panic() {
    log_lines(); // so that the run measures its values as they are stored
    #[task]
    fn explosive() -> Explosive {
        Explosive
    }
    let report = Dag::build("explosive", || {
        explosive();
    })
    .unwrap()
    .test_with(RunOptions::new().xcom_size_warning(0))
    .unwrap();
    assert!(report.succeeded());
    let error = report.xcom_json("explosive").unwrap_err().to_string();
    assert!(
        error.ends_with("does not encode to json: serializing explodes"),
        "{error}"
    );
    let summary = report.summary();
    assert_eq!(summary.tasks[0].value, None);
    assert_eq!(
        summary.tasks[0].value_size.map(|size| size.kind),
        Some(SizeKind::Shallow)
    );
}

#[test]
fn multiple_outputs_encode_part_by_part_and_as_one_array() {
    #[task(multiple_outputs)]
    fn split() -> (u32, Vec<String>, Connection) {
        (7, vec!["a".into()], Connection { _socket: [0; 24] })
    }
    let report = Dag::build("parts_json", || {
        split();
    })
    .test()
    .unwrap();
    assert_eq!(report.xcom_json_at("split", 0).unwrap(), json!(7));
    assert_eq!(report.xcom_json_at("split", 1).unwrap(), json!(["a"]));
    let error = report.xcom_json_at("split", 2).unwrap_err().to_string();
    assert!(
        error.contains("(type `values_json::Connection`) does not encode"),
        "{error}"
    );
    assert!(report.xcom_json("split").is_err()); // one part does not encode
    assert!(matches!(
        report.xcom_json_at("split", 3),
        Err(Error::XcomMissing { .. })
    ));
    // Not every part encodes: the tuple's shallow size.
    let size = report.xcom_size("split").unwrap();
    assert_eq!(size.kind, SizeKind::Shallow);
    assert_eq!(
        size.bytes,
        size_of::<(u32, Vec<String>, Connection)>() as u64
    );

    #[task(multiple_outputs)]
    fn halves() -> (u32, String) {
        (12, "north".into())
    }
    let report = Dag::build("parts_json_all", || {
        halves();
    })
    .test()
    .unwrap();
    assert_eq!(report.xcom_json("halves").unwrap(), json!([12, "north"]));
    // `[12,"north"]`, counted part by part.
    assert_eq!(
        report.xcom_size("halves").unwrap(),
        ValueSize {
            bytes: 12,
            kind: SizeKind::Encoded
        }
    );
    report.check_xcom_round_trip("halves").unwrap();
}

#[test]
fn value_sizes_are_encoded_bytes_where_the_type_encodes_else_shallow_sizes() {
    #[task]
    fn unit() {}
    let report = Dag::build("sizes", || {
        orders();
        connect();
        unit();
    })
    .test()
    .unwrap();
    let encoded = serde_json::to_string(&report.xcom::<Vec<Order>>("orders").unwrap()).unwrap();
    assert_eq!(
        report.xcom_size("orders").unwrap(),
        ValueSize {
            bytes: encoded.len() as u64,
            kind: SizeKind::Encoded
        }
    );
    assert_eq!(
        report.xcom_size("connect").unwrap(),
        ValueSize {
            bytes: 24,
            kind: SizeKind::Shallow
        }
    );
    // `()` encodes as `null`.
    assert_eq!(report.xcom_json("unit").unwrap(), json!(null));
    assert_eq!(report.xcom_size("unit").unwrap().bytes, 4);
}

#[test]
fn a_task_returning_a_borrowed_str_encodes_but_does_not_decode() {
    #[task]
    fn greeting() -> &'static str {
        "hello"
    }
    let report = Dag::build("borrowed", || {
        greeting();
    })
    .test()
    .unwrap();
    assert_eq!(report.xcom_json("greeting").unwrap(), json!("hello"));
    let error = report.check_xcom_round_trip("greeting").unwrap_err();
    assert!(matches!(error, Error::XcomNotDecodable { .. }), "{error}");
    assert!(
        error
            .to_string()
            .starts_with("the value of task `greeting` (type `&str`) does not decode from json"),
        "{error}"
    );
}

#[test]
fn a_value_that_encodes_but_does_not_come_back_fails_the_round_trip_check() {
    /// Writes only part of itself.
    #[derive(Serialize, Deserialize)]
    struct Lossy {
        kept: u32,
        #[serde(skip)]
        lost: u32,
    }
    #[derive(Serialize)]
    struct WriteOnly {
        rows: u32,
    }
    #[task]
    fn lossy() -> Lossy {
        Lossy { kept: 1, lost: 2 }
    }
    #[task]
    fn write_only() -> WriteOnly {
        WriteOnly { rows: 3 }
    }
    let report = Dag::build("lossy", || {
        lossy();
        write_only();
    })
    .test()
    .unwrap();
    // Skipped fields are lost, but the JSON comes back the same: nothing to report.
    report.check_xcom_round_trip("lossy").unwrap();
    assert_eq!(report.with_value("lossy", |l: &Lossy| l.lost).unwrap(), 2);
    let error = report.check_xcom_round_trip("write_only").unwrap_err();
    assert_eq!(
        error.to_string(),
        "the value of task `write_only` (type `values_json::a_value_that_encodes_but_does_not_come_back_fails_the_round_trip_check::WriteOnly`) \
         does not decode from json: its type does not implement serde::Deserialize"
    );
}

#[test]
fn a_report_round_trips_through_json_and_its_summary() {
    static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    #[task(retries = 2, retry_delay = "10s", priority_weight = 3)]
    fn flaky() -> Result<BTreeMap<String, u32>, TaskError> {
        match CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
            0 => Err(TaskError::msg("first try fails")),
            _ => Ok([("north".to_owned(), 4)].into()),
        }
    }
    #[task]
    fn broken(_totals: &BTreeMap<String, u32>) -> Result<u32, TaskError> {
        Err(TaskError::msg("cannot load"))
    }
    #[task]
    fn after(n: u32) -> u32 {
        n
    }
    #[task(multiple_outputs)]
    fn pair() -> (bool, Option<u8>) {
        (true, None)
    }
    let logical_date = "2026-01-02T03:04:05Z".parse().unwrap();
    let report = Dag::build("round_trip", || {
        let totals = flaky();
        after(broken(totals));
        connect();
        pair();
    })
    .unwrap()
    .test_with(
        RunOptions::new()
            .run_id("fixture_run")
            .logical_date(logical_date),
    )
    .unwrap();

    let json = serde_json::to_string(&report).unwrap();
    let summary: RunSummary = serde_json::from_str(&json).unwrap();
    assert_eq!(summary, report.summary());
    let again = serde_json::to_value(&summary).unwrap();
    let first: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(again, first);

    assert_eq!(summary.dag_id, "round_trip");
    assert_eq!(summary.run_id, "fixture_run");
    assert_eq!(summary.logical_date, logical_date);
    assert_eq!(summary.state, DagRunState::Failed);
    assert!(summary.end_date >= summary.start_date);
    // The retry waited 10 s of virtual time.
    assert!(summary.duration >= 10.0, "{}", summary.duration);
    let ids: Vec<&str> = summary.tasks.iter().map(|t| t.task_id.as_str()).collect();
    assert_eq!(ids, ["flaky", "broken", "after", "connect", "pair"]);

    let flaky = &summary.tasks[0];
    assert_eq!((flaky.state, flaky.tries), (TaskState::Success, 2));
    assert_eq!(flaky.priority_weight, 3 + 1 + 1); // downstream weights add up
    assert_eq!(flaky.try_start_dates.len(), 2);
    let gap = flaky.try_start_dates[1] - flaky.try_start_dates[0];
    assert!(gap >= taskflow::chrono::Duration::seconds(10), "{gap}");
    assert!(flaky.duration.unwrap() >= 10.0);
    assert_eq!(flaky.error, None);
    let states: Vec<TaskState> = flaky.history.iter().map(|t| t.state).collect();
    assert_eq!(states, [TaskState::UpForRetry, TaskState::Success]);
    assert_eq!(flaky.history[1].start_date, flaky.try_start_dates[1]);
    assert_eq!(first["tasks"][0]["history"][0]["state"], "up_for_retry");
    assert_eq!(flaky.value, Some(json!({"north": 4})));
    assert_eq!(
        flaky.value_size.unwrap().bytes,
        br#"{"north":4}"#.len() as u64
    );
    assert!(flaky.value_type.contains("BTreeMap"));

    let broken = &summary.tasks[1];
    assert_eq!((broken.state, broken.tries), (TaskState::Failed, 1));
    assert_eq!(broken.error.as_deref(), Some("cannot load"));
    assert_eq!((&broken.value, broken.value_size), (&None, None));
    assert_eq!(broken.value_type, "u32");

    let after = &summary.tasks[2];
    assert_eq!((after.state, after.tries), (TaskState::UpstreamFailed, 0));
    assert_eq!((after.start_date, after.duration), (None, None));

    let connect = &summary.tasks[3];
    assert_eq!(connect.state, TaskState::Success);
    assert_eq!(connect.value, None);
    assert_eq!(connect.value_type, "values_json::Connection");
    assert_eq!(
        connect.value_size,
        Some(ValueSize {
            bytes: 24,
            kind: SizeKind::Shallow
        })
    );

    // A value that encodes as `null` is there, and reads back as there.
    let pair = &summary.tasks[4];
    assert_eq!(pair.value, Some(json!([true, null])));
    assert_eq!(first["tasks"][4]["value"], json!([true, null]));
    assert_eq!(first["tasks"][3].get("value"), None);
    assert_eq!(first["tasks"][0]["state"], "success");
    assert_eq!(first["state"], "failed");
}

#[test]
fn a_null_value_stays_apart_from_a_missing_one_through_json() {
    #[task]
    fn nothing() -> Option<u8> {
        None
    }
    let report = Dag::build("null_value", || {
        nothing();
        connect();
    })
    .test()
    .unwrap();
    let json = serde_json::to_string(&report).unwrap();
    let summary: RunSummary = serde_json::from_str(&json).unwrap();
    assert_eq!(summary.tasks[0].value, Some(json!(null)));
    assert_eq!(summary.tasks[1].value, None);
    assert_eq!(serde_json::to_string(&summary).unwrap(), json);
}

/// Every line the test subscriber wrote, shared by the tests of this file.
fn log_lines() -> &'static Mutex<Vec<String>> {
    static LINES: OnceLock<&'static Mutex<Vec<String>>> = OnceLock::new();
    LINES.get_or_init(|| {
        let lines: &'static Mutex<Vec<String>> = Box::leak(Box::new(Mutex::new(Vec::new())));
        tracing_subscriber::fmt()
            .with_writer(move || Lines(lines))
            .with_ansi(false)
            .init();
        lines
    })
}

/// Appends what the subscriber writes to the shared lines.
struct Lines(&'static Mutex<Vec<String>>);

impl Write for Lines {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let line = String::from_utf8_lossy(bytes).into_owned();
        self.0.lock().unwrap().push(line);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The WARN lines about large values of the DAG `dag_id`.
fn size_warnings(dag_id: &str) -> Vec<String> {
    log_lines()
        .lock()
        .unwrap()
        .iter()
        .filter(|line| line.contains("WARN") && line.contains("warning threshold"))
        .filter(|line| line.contains(&format!("dag_id={dag_id} ")))
        .cloned()
        .collect()
}

#[test]
fn a_value_above_the_size_threshold_logs_a_warning_naming_the_task() {
    log_lines();
    #[task]
    fn big() -> Vec<u32> {
        vec![7; 1000] // `[7,7,...]`: 2,001 bytes
    }
    #[task]
    fn small() -> u32 {
        1
    }
    #[task]
    fn handle() -> Connection {
        Connection { _socket: [0; 24] }
    }
    let report = Dag::build("big_values", || {
        big();
        small();
        handle();
    })
    .unwrap()
    .test_with(RunOptions::new().xcom_size_warning(100))
    .unwrap();
    assert!(report.succeeded());
    let warnings = size_warnings("big_values");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let warning = &warnings[0];
    assert!(warning.contains("task_id=big"), "{warning}");
    assert!(
        warning.contains(
            "the value of task `big` (type `alloc::vec::Vec<u32>`) is more than 100 bytes \
             encoded to json, above the warning threshold of 100 bytes"
        ),
        "{warning}"
    );
    // The report still has the exact size.
    assert_eq!(report.xcom_size("big").unwrap().bytes, 2001);

    // A shallow size counts too.
    Dag::build("big_shallow", || {
        handle();
    })
    .unwrap()
    .test_with(RunOptions::new().xcom_size_warning(16))
    .unwrap();
    let warnings = size_warnings("big_shallow");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("is 24 bytes in memory (shallow size)"),
        "{}",
        warnings[0]
    );
}

#[test]
fn the_size_warning_goes_to_the_subscriber_of_the_thread_that_started_the_run() {
    log_lines(); // a global subscriber too, which must not get it
    #[task]
    fn scoped_big() -> String {
        "x".repeat(500)
    }
    static SCOPED: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let subscriber = tracing_subscriber::fmt()
        .with_writer(|| Lines(&SCOPED))
        .with_ansi(false)
        .finish();
    let dag = Dag::build("scoped_warning", || {
        scoped_big();
    })
    .unwrap();
    let report = tracing::subscriber::with_default(subscriber, || {
        dag.test_with(RunOptions::new().xcom_size_warning(100))
    })
    .unwrap();
    assert!(report.succeeded());
    let scoped: Vec<String> = SCOPED
        .lock()
        .unwrap()
        .iter()
        .filter(|line| line.contains("warning threshold"))
        .cloned()
        .collect();
    assert_eq!(scoped.len(), 1, "{scoped:?}");
    assert!(scoped[0].contains("task `scoped_big`"), "{}", scoped[0]);
    assert_eq!(size_warnings("scoped_warning"), Vec::<String>::new());
}

#[test]
fn no_size_warning_below_the_default_threshold_or_when_turned_off() {
    log_lines();
    #[task]
    fn medium() -> Vec<u32> {
        vec![7; 1000]
    }
    #[task(multiple_outputs)]
    fn parts() -> (Vec<u32>, u8) {
        (vec![7; 1000], 1)
    }
    Dag::build("default_threshold", || {
        medium();
        parts();
    })
    .test()
    .unwrap();
    Dag::build("turned_off", || {
        medium();
        parts();
    })
    .unwrap()
    .test_with(RunOptions::new().xcom_size_warning(u64::MAX))
    .unwrap();
    Dag::build("parts_above", || {
        parts();
    })
    .unwrap()
    .test_with(RunOptions::new().xcom_size_warning(1000))
    .unwrap();
    assert_eq!(size_warnings("default_threshold"), Vec::<String>::new());
    assert_eq!(size_warnings("turned_off"), Vec::<String>::new());
    // The parts of a `multiple_outputs` value count together, as one array.
    assert_eq!(size_warnings("parts_above").len(), 1);
    assert_eq!(taskflow::DEFAULT_XCOM_SIZE_WARNING, 10 * 1024 * 1024);
}

#[test]
fn a_value_moved_into_its_reader_has_no_json_in_a_run() {
    #[task]
    fn source() -> Vec<Order> {
        vec![Order { id: 1, amount: 1.0 }]
    }
    #[task]
    fn count(orders: Vec<Order>) -> usize {
        orders.len()
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dag = Dag::build("moved", || {
        count(source());
    })
    .unwrap();
    let report = runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(60), dag.run())
            .await
            .expect("the run ends")
            .unwrap()
    });
    let error = report.xcom_json("source").unwrap_err().to_string();
    assert!(
        error.contains("was moved into its downstream tasks"),
        "{error}"
    );
    assert_eq!(report.summary().tasks[0].value, None);
    assert_eq!(report.xcom_json("count").unwrap(), json!(1));
}

#[test]
fn sensors_and_branches_encode_the_value_that_flows_downstream() {
    static CHECKS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    #[sensor(poke_interval = "1m", timeout = "1h")]
    fn rows_ready() -> Poke<Vec<u32>> {
        match CHECKS.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
            0 => Poke::NotYet,
            _ => Poke::Done(vec![3, 4]),
        }
    }
    #[sensor(poke_interval = "1m", timeout = "1h")]
    fn flag() -> bool {
        true
    }
    #[task(branch)]
    fn pick(rows: Vec<u32>) -> Vec<&'static str> {
        if rows.is_empty() {
            vec![]
        } else {
            vec!["load"]
        }
    }
    #[task]
    fn load() {}
    let report = Dag::build("steering_values", || {
        let picked = pick(rows_ready());
        picked >> load();
        flag();
    })
    .test()
    .unwrap();
    assert_eq!(report.state("load"), TaskState::Success);
    assert_eq!(report.xcom_json("rows_ready").unwrap(), json!([3, 4]));
    assert_eq!(report.xcom_json("pick").unwrap(), json!(["load"]));
    // A `bool` sensor's value is `()`.
    assert_eq!(report.xcom_json("flag").unwrap(), json!(null));
    let summary = report.summary();
    assert_eq!(summary.tasks[0].value_type, "alloc::vec::Vec<u32>");
    assert_eq!(summary.tasks[0].value_size.unwrap().bytes, 5); // `[3,4]`
}
