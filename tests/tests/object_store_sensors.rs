//! The object-store sensors against a real S3-compatible server on loopback (moto's server,
//! started here; the test fails if it cannot start), a key put in by a real S3 client during
//! the run, and the local-file and in-memory stores.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use taskflow::object_store::aws::AmazonS3Builder;
use taskflow::object_store::memory::InMemory;
use taskflow::object_store::{ObjectStore, PutPayload};
use taskflow::prelude::*;
use taskflow::sensors::{ObjectLocation, object_key_sensor, object_store_sensor};
use taskflow::{SensorMode, SensorSettings};
use taskflow_tests::moto::Moto;

fn every_30s() -> TaskOptions {
    TaskOptions::new().sensor(
        SensorSettings::DEFAULT
            .with_poke_interval(Duration::from_secs(30))
            .with_timeout(Duration::from_secs(3600))
            .with_mode(SensorMode::Reschedule),
    )
}

fn s3_store(moto: &Moto, bucket: &str) -> Arc<dyn ObjectStore> {
    let store = AmazonS3Builder::new()
        .with_endpoint(&moto.endpoint)
        .with_allow_http(true)
        .with_region("us-east-1")
        .with_access_key_id("test")
        .with_secret_access_key("test")
        .with_bucket_name(bucket)
        .build()
        .expect("an S3 store for moto");
    Arc::new(store)
}

#[test]
fn an_s3_key_put_while_the_sensor_waits_releases_the_downstream_task() {
    let moto = Moto::start();
    moto.create_bucket("landing");
    let store = s3_store(&moto, "landing");

    /// A real S3 client puts the key after 75 s of virtual time.
    #[task]
    async fn upload(ctx: &Context, store: Arc<dyn ObjectStore>) -> Result<(), TaskError> {
        ctx.sleep(Duration::from_secs(75)).await;
        let payload = PutPayload::from_static(b"id,amount\n1,12.5\n");
        store
            .put(&"2026/01/01/orders.csv".into(), payload)
            .await
            .map_err(TaskError::new)?;
        Ok(())
    }
    #[task]
    fn count(keys: Vec<String>) -> usize {
        keys.len()
    }
    let location = ObjectLocation::new(Arc::clone(&store), "2026/01/01/orders.csv");
    let report = Dag::build("s3_landing", || {
        upload(Arc::clone(&store));
        count(object_store_sensor::with(every_30s()).add(location.clone(), false));
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(
        report.state("upload"),
        TaskState::Success,
        "{:?}",
        report.error("upload")
    );
    assert_eq!(
        report.xcom::<Vec<String>>("object_store_sensor").unwrap(),
        ["2026/01/01/orders.csv"]
    );
    assert_eq!(report.xcom::<usize>("count").unwrap(), 1);
    let waited = report
        .task("object_store_sensor")
        .unwrap()
        .duration
        .unwrap();
    assert_eq!(waited.as_secs(), 90, "checks at 0, 30, 60 and 90 s");
}

/// Runs the probe binary: `object_key_sensor(url, prefix)` with the store configured from
/// the usual AWS environment variables, pointing at moto.
fn probe(moto: &Moto, url: &str, prefix: bool) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_object_key_probe"))
        .args([url, if prefix { "true" } else { "false" }])
        .env("AWS_ENDPOINT", &moto.endpoint)
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .expect("the probe runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn object_key_sensor_reads_its_s3_settings_from_the_environment() {
    let moto = Moto::start();
    moto.create_bucket("exports");
    let store = s3_store(&moto, "exports");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for key in ["daily/a.parquet", "daily/b.parquet"] {
        runtime
            .block_on(store.put(&key.into(), PutPayload::from_static(b"x")))
            .unwrap();
    }
    let found = probe(&moto, "s3://exports/daily", true);
    assert!(found.contains("state=success"), "{found}");
    assert!(
        found.contains("keys=daily/a.parquet,daily/b.parquet"),
        "{found}"
    );
    let missing = probe(&moto, "s3://exports/daily/c.parquet", false);
    assert!(missing.contains("state=failed"), "{missing}");
    assert!(missing.contains("sensor timed out"), "{missing}");
    // An unknown bucket is not a key that is not there yet: the store's error says why.
    let unknown = probe(&moto, "s3://no-such-bucket/key", false);
    assert!(unknown.contains("state=failed"), "{unknown}");
    assert!(
        unknown.contains("object key sensor: s3://no-such-bucket/key"),
        "{unknown}"
    );
    assert!(unknown.to_lowercase().contains("bucket"), "{unknown}");
}

#[test]
fn local_files_and_memory_stores_work_the_same_way() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("out")).unwrap();
    std::fs::write(dir.path().join("out/_SUCCESS"), "").unwrap();
    let url = format!("file://{}/out/_SUCCESS", dir.path().display());

    let memory: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime
        .block_on(memory.put(&"reports/q1.pdf".into(), PutPayload::from_static(b"%PDF")))
        .unwrap();
    let in_memory = ObjectLocation::new(memory, "reports");

    let report = Dag::build("stores", || {
        object_key_sensor(url.as_str(), false);
        object_store_sensor(in_memory.clone(), true);
        object_key_sensor::with(TaskOptions::new().task_id("bad_url")).add("not a url", false);
    })
    .unwrap()
    .test()
    .unwrap();
    let local = report.xcom::<Vec<String>>("object_key_sensor").unwrap();
    assert_eq!(local.len(), 1);
    assert!(local[0].ends_with("out/_SUCCESS"), "{local:?}");
    assert_eq!(
        report.xcom::<Vec<String>>("object_store_sensor").unwrap(),
        ["reports/q1.pdf"]
    );
    assert_eq!(report.state("bad_url"), TaskState::Failed);
    assert!(
        report
            .error("bad_url")
            .unwrap()
            .contains("bad URL \"not a url\""),
        "{:?}",
        report.error("bad_url")
    );
}
