//! Waits for an object key in S3 (or any store the `object_store` crate reaches), then
//! reads what the sensor found.
//!
//! The location comes from environment variables:
//! - `TASKFLOW_OBJECT_URL`: `s3://bucket/key` (or `gs://...`, `az://...`, `file:///...`);
//! - for S3, the usual `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, and for
//!   an S3-compatible server, `AWS_ENDPOINT` with `AWS_ALLOW_HTTP=true`.
//!
//! Against a local S3-compatible server (moto's, from PyPI):
//!
//! ```sh
//! pip install 'moto[server]' && python3 -m moto.server -p 5000 &
//! curl -X PUT http://127.0.0.1:5000/landing            # a bucket
//! export AWS_ENDPOINT=http://127.0.0.1:5000 AWS_ALLOW_HTTP=true AWS_REGION=us-east-1 \
//!        AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
//! TASKFLOW_OBJECT_URL=s3://landing/2026/orders.csv cargo run --example s3_key_sensor &
//! curl -X PUT --data 'id,amount' http://127.0.0.1:5000/landing/2026/orders.csv
//! ```
//!
//! Run it with `cargo run --example s3_key_sensor`.

use std::time::Duration;

use taskflow::events::RunLog;
use taskflow::prelude::*;
use taskflow::sensors::object_key_sensor;
use taskflow::{SensorMode, SensorSettings};

#[task]
fn report_keys(keys: Vec<String>) -> String {
    format!("found {}", keys.join(", "))
}

/// Checks `url` every `interval` for up to `timeout`, then reports the keys found.
fn wait_for_key(url: &str, interval: Duration, timeout: Duration) -> taskflow::Result<Dag> {
    let settings = SensorSettings::DEFAULT
        .with_poke_interval(interval)
        .with_timeout(timeout)
        .with_mode(SensorMode::Reschedule);
    Dag::build("s3_key_sensor", || {
        let keys = object_key_sensor::with(TaskOptions::new().sensor(settings)).add(url, false);
        report_keys(keys);
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Ok(url) = std::env::var("TASKFLOW_OBJECT_URL") else {
        eprintln!(
            "set TASKFLOW_OBJECT_URL (s3://bucket/key) and the AWS_* variables; see the top of examples/s3_key_sensor.rs"
        );
        std::process::exit(2);
    };
    println!("waiting for {url} (a check every 5 s, for up to 10 minutes) ...");
    let options = RunOptions::new().listener(RunLog::stderr());
    let report = wait_for_key(&url, Duration::from_secs(5), Duration::from_secs(600))?
        .run_with(options)
        .await?;
    print!("{report}");
    if let Ok(found) = report.xcom::<String>("report_keys") {
        println!("{found}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_in_a_local_store_is_found() {
        let dir = std::env::temp_dir().join(format!("taskflow_s3_example_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("orders.csv"), "id\n").unwrap();
        let url = format!("file://{}/orders.csv", dir.display());
        let report = wait_for_key(&url, Duration::from_secs(5), Duration::from_secs(60))
            .unwrap()
            .test()
            .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let found = report.xcom::<String>("report_keys").unwrap();
        assert!(found.ends_with("orders.csv"), "{found}");
    }

    #[test]
    fn a_bad_url_fails_the_sensor_with_the_reason() {
        let report = wait_for_key(
            "s3:/missing-slash",
            Duration::from_secs(5),
            Duration::from_secs(60),
        )
        .unwrap()
        .test()
        .unwrap();
        assert_eq!(report.state("object_key_sensor"), TaskState::Failed);
        assert!(
            report
                .error("object_key_sensor")
                .unwrap()
                .contains("object key sensor")
        );
    }
}
