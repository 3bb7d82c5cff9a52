//! The ready-made sensors against real files in a temporary directory, and the time sensors
//! on virtual time.

use std::path::PathBuf;
use std::time::Duration;

use taskflow::chrono::{self, Utc};
use taskflow::prelude::*;
use taskflow::sensors::{date_time_sensor, file_sensor, time_delta_sensor};
use taskflow::{SensorMode, SensorSettings};

fn every(interval: Duration, timeout: Duration) -> TaskOptions {
    let settings = SensorSettings::DEFAULT
        .with_poke_interval(interval)
        .with_timeout(timeout)
        .with_mode(SensorMode::Reschedule);
    TaskOptions::new().sensor(settings)
}

const SECOND: Duration = Duration::from_secs(1);

#[test]
fn a_file_written_while_the_sensor_waits_releases_the_downstream_task() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("landing").join("orders.csv");
    let pattern = format!("{}/landing/*.csv", dir.path().display());

    /// Writes the file after 75 s of virtual time, between two checks of the sensor.
    #[task]
    async fn producer(ctx: &Context, path: PathBuf) -> Result<(), TaskError> {
        ctx.sleep(Duration::from_secs(75)).await;
        std::fs::create_dir_all(path.parent().unwrap())?;
        std::fs::write(&path, "id,amount\n1,12.5\n")?;
        Ok(())
    }
    #[task]
    fn rows(paths: Vec<PathBuf>) -> Result<usize, TaskError> {
        Ok(std::fs::read_to_string(&paths[0])?.lines().count() - 1)
    }
    let report = Dag::build("wait_for_file", || {
        producer(target.clone());
        let files =
            file_sensor::with(every(30 * SECOND, 3600 * SECOND)).add(pattern.as_str(), true);
        rows(files);
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(
        report.xcom::<Vec<PathBuf>>("file_sensor").unwrap(),
        [target]
    );
    assert_eq!(report.xcom::<usize>("rows").unwrap(), 1);
    let waited = report.task("file_sensor").unwrap().duration.unwrap();
    assert_eq!(waited.as_secs(), 90, "checks at 0, 30, 60 and 90 s");
}

#[test]
fn with_non_empty_an_empty_file_is_not_there_yet() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("done.flag");
    std::fs::write(&path, "").unwrap();
    let pattern = path.display().to_string();
    let report = Dag::build("empty_file", || {
        file_sensor::with(every(60 * SECOND, 300 * SECOND)).add(pattern.as_str(), true);
        file_sensor::with(
            TaskOptions::new()
                .task_id("any_file")
                .sensor(SensorSettings::DEFAULT),
        )
        .add(pattern.as_str(), false);
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.state("file_sensor"), TaskState::Failed);
    assert!(report.error("file_sensor").unwrap().contains("timed out"));
    assert_eq!(report.state("any_file"), TaskState::Success);
}

#[test]
fn a_malformed_pattern_fails_the_sensor_with_the_reason_and_the_run_goes_on() {
    #[task]
    fn independent() -> u8 {
        1
    }
    #[task(trigger_rule = "all_done")]
    fn cleanup() {}
    let report = Dag::build("bad_glob", || {
        file_sensor("data/[unclosed", false) >> cleanup();
        independent();
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.state("file_sensor"), TaskState::Failed);
    let error = report.error("file_sensor").unwrap();
    assert!(
        error.contains("invalid pattern \"data/[unclosed\""),
        "{error}"
    );
    assert_eq!(report.try_number("file_sensor"), 1);
    assert_eq!(report.state("independent"), TaskState::Success);
    assert_eq!(report.state("cleanup"), TaskState::Success);
}

#[test]
fn time_sensors_wait_for_a_date_in_virtual_time() {
    let logical_date = Utc::now();
    let in_two_hours = logical_date + chrono::Duration::hours(2);
    let report = Dag::build("time_sensors", || {
        date_time_sensor::with(every(600 * SECOND, 86_400 * SECOND)).add(in_two_hours);
        time_delta_sensor::with(every(60 * SECOND, 86_400 * SECOND)).add(Duration::from_secs(1800));
    })
    .unwrap()
    .test_with(RunOptions::new().logical_date(logical_date))
    .unwrap();
    let at = report
        .xcom::<chrono::DateTime<Utc>>("date_time_sensor")
        .unwrap();
    assert!(
        at >= in_two_hours && at < in_two_hours + chrono::Duration::minutes(11),
        "{at}"
    );
    let delta_at = report
        .xcom::<chrono::DateTime<Utc>>("time_delta_sensor")
        .unwrap();
    let target = logical_date + chrono::Duration::minutes(30);
    assert!(
        delta_at >= target && delta_at < target + chrono::Duration::minutes(2),
        "{delta_at}"
    );
}

mod external {
    use super::*;
    use taskflow::sensors::external_task_sensor;
    use taskflow::{Executor, RunReport};

    /// The receiving end of a gate, as a task argument.
    #[derive(Clone)]
    struct HoldGate(std::sync::Arc<std::sync::Mutex<std::sync::mpsc::Receiver<()>>>);

    #[task]
    fn hold_until_open(gate: HoldGate) -> Result<(), TaskError> {
        let receiver = gate.0.lock().map_err(|_| TaskError::msg("gate poisoned"))?;
        receiver
            .recv_timeout(Duration::from_secs(60))
            .map_err(|_| TaskError::msg("the gate never opened"))
    }

    #[task]
    async fn publish(ctx: &Context, fail: bool) -> Result<u32, TaskError> {
        ctx.sleep(Duration::from_secs(600)).await;
        if fail {
            return Err(TaskError::msg("the export broke"));
        }
        Ok(7)
    }

    /// A producer run whose task takes 10 virtual minutes, and a consumer run with the same
    /// logical date that waits for it, on one virtual-time executor.
    fn producer_and_consumer(fail: bool, task_id: &'static str) -> (RunReport, RunReport) {
        let executor = Executor::builder().virtual_time(true).build().unwrap();
        let producer = Dag::build("producer", || {
            publish(fail);
        })
        .unwrap();
        let consumer = Dag::build("consumer", || {
            external_task_sensor::with(every(60 * SECOND, 3600 * SECOND)).add(
                "producer",
                task_id,
                vec![TaskState::Success],
                vec![TaskState::Failed],
            );
        })
        .unwrap();
        // A task in its body holds the shared clock still while both runs are submitted, so
        // that they start at the same virtual time.
        let (open, gate) = std::sync::mpsc::channel::<()>();
        let gate = std::sync::Arc::new(std::sync::Mutex::new(gate));
        let hold = Dag::build("hold", || {
            hold_until_open(HoldGate(std::sync::Arc::clone(&gate)));
        })
        .unwrap();
        let held = executor.submit(&hold, RunOptions::new()).unwrap();
        let date = Utc::now();
        let produced = executor
            .submit(&producer, RunOptions::new().logical_date(date))
            .unwrap();
        let consumed = executor
            .submit(&consumer, RunOptions::new().logical_date(date))
            .unwrap();
        open.send(()).unwrap();
        assert!(held.wait().unwrap().succeeded());
        (produced.wait().unwrap(), consumed.wait().unwrap())
    }

    #[test]
    fn waits_for_a_task_of_another_run_on_the_same_executor() {
        let (producer, consumer) = producer_and_consumer(false, "publish");
        assert_eq!(producer.state("publish"), TaskState::Success);
        assert_eq!(
            consumer.xcom::<TaskState>("external_task_sensor").unwrap(),
            TaskState::Success
        );
        // The sensor checks every minute and sees the producer's task done at the first check
        // after it ended (at 10 minutes, the check and the end may come in either order).
        let produced = producer.task("publish").unwrap().end_date.unwrap();
        let seen = consumer
            .task("external_task_sensor")
            .unwrap()
            .end_date
            .unwrap();
        let lag = seen - produced;
        assert!(
            lag >= chrono::Duration::zero() && lag <= chrono::Duration::seconds(61),
            "seen {lag} after the producer ended"
        );
        let waited = consumer
            .task("external_task_sensor")
            .unwrap()
            .duration
            .unwrap();
        assert!([600, 660].contains(&waited.as_secs()), "{waited:?}");
    }

    #[test]
    fn a_failed_state_fails_the_sensor_at_once() {
        let (producer, consumer) = producer_and_consumer(true, "publish");
        assert_eq!(producer.state("publish"), TaskState::Failed);
        assert_eq!(consumer.state("external_task_sensor"), TaskState::Failed);
        let error = consumer.error("external_task_sensor").unwrap();
        assert!(
            error.contains("task `publish` of dag `producer` ended failed"),
            "{error}"
        );
    }

    #[test]
    fn an_unknown_task_is_a_clear_error() {
        let (_, consumer) = producer_and_consumer(false, "publsh");
        let error = consumer.error("external_task_sensor").unwrap();
        assert_eq!(
            error,
            "external task sensor: dag `producer` has no task `publsh`"
        );
    }
}
