//! Ready-made sensors, called in a DAG like any task. Each checks once per poke; set its
//! interval, timeout and mode per call with [`TaskOptions::sensor`](crate::TaskOptions::sensor).
//!
//! `date_time_sensor`, `time_delta_sensor` and `external_task_sensor` are always here;
//! `file_sensor` needs the `file-sensor` feature (on by default), and the object-store
//! sensors the `object-store` feature (plus `aws`, `gcp` or `azure` for those URLs).
//!
#![cfg_attr(feature = "file-sensor", doc = "```")]
#![cfg_attr(not(feature = "file-sensor"), doc = "```ignore")]
//! use std::time::Duration;
//! use taskflow::prelude::*;
//! use taskflow::sensors::file_sensor;
//! use taskflow::{SensorMode, SensorSettings};
//!
//! #[task]
//! fn count(paths: Vec<std::path::PathBuf>) -> usize {
//!     paths.len()
//! }
//!
//! let dir = std::env::temp_dir().join(format!("taskflow_doc_{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! std::fs::write(dir.join("orders.csv"), "id\n1\n")?;
//! let pattern = format!("{}/*.csv", dir.display());
//! let settings = SensorSettings::DEFAULT
//!     .with_poke_interval(Duration::from_secs(30))
//!     .with_timeout(Duration::from_secs(3600))
//!     .with_mode(SensorMode::Reschedule);
//! let report = Dag::build("landing", || {
//!     let files = file_sensor::with(TaskOptions::new().sensor(settings)).add(pattern.as_str(), true);
//!     count(files);
//! })?
//! .test()?;
//! assert_eq!(report.xcom::<usize>("count")?, 1);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "file-sensor")]
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::{Context, Poke, TaskError};

/// Waits until a path or glob pattern (`data/*.csv`, `logs/**/done`) matches at least one
/// file or directory, and, with `non_empty`, until every match is a non-empty file (like
/// Airflow's `FileSensor`). Its value is the matching paths, sorted.
///
/// A malformed pattern fails the sensor at once with the reason.
#[cfg(feature = "file-sensor")]
#[cfg_attr(docsrs, doc(cfg(feature = "file-sensor")))]
#[crate::sensor(crate = "crate")]
pub fn file_sensor(pattern: &str, non_empty: bool) -> Result<Poke<Vec<PathBuf>>, TaskError> {
    let matches = glob::glob(pattern).map_err(|error| {
        TaskError::fail_now(format!("file sensor: invalid pattern {pattern:?}: {error}"))
    })?;
    let mut paths = Vec::new();
    for entry in matches {
        // An entry that cannot be read (permissions, say) is not there yet.
        let Ok(path) = entry else { continue };
        if non_empty && std::fs::metadata(&path).map_or(true, |meta| meta.len() == 0) {
            return Ok(Poke::NotYet);
        }
        paths.push(path);
    }
    paths.sort();
    Ok(if paths.is_empty() {
        Poke::NotYet
    } else {
        Poke::Done(paths)
    })
}

/// Waits until a date and time (Airflow's `DateTimeSensor`); its value is the date the
/// check found it passed. In a virtual-time run, the virtual date counts.
#[crate::sensor(crate = "crate")]
pub fn date_time_sensor(ctx: &Context, target: DateTime<Utc>) -> Poke<DateTime<Utc>> {
    let now = ctx.now();
    if now >= target {
        Poke::Done(now)
    } else {
        Poke::NotYet
    }
}

/// Waits until `delta` after the run's logical date (Airflow's `TimeDeltaSensor`).
#[crate::sensor(crate = "crate")]
pub fn time_delta_sensor(ctx: &Context, delta: Duration) -> Result<Poke<DateTime<Utc>>, TaskError> {
    let delta = chrono::Duration::from_std(delta)
        .map_err(|_| TaskError::fail_now(format!("time delta sensor: {delta:?} is too long")))?;
    let target = ctx
        .logical_date()
        .checked_add_signed(delta)
        .ok_or_else(|| TaskError::fail_now("time delta sensor: the target date is out of range"))?;
    let now = ctx.now();
    Ok(if now >= target {
        Poke::Done(now)
    } else {
        Poke::NotYet
    })
}

/// Waits until task `external_task_id` of the run of DAG `external_dag_id` with the same
/// logical date, on the same executor, reaches one of `allowed_states` (Airflow's
/// `ExternalTaskSensor`); its value is that state. Reaching one of `failed_states` fails the
/// sensor at once. A run that has not started yet is waited for; a DAG run that has no such
/// task fails the sensor with the reason.
///
/// ```
/// use taskflow::prelude::*;
/// use taskflow::sensors::external_task_sensor;
/// use taskflow::{Executor, TaskState};
///
/// #[task]
/// fn publish() -> u32 {
///     7
/// }
///
/// #[task]
/// fn consume(state: TaskState) -> String {
///     format!("upstream ended {state}")
/// }
///
/// let producer = Dag::build("producer", || {
///     publish();
/// })?;
/// let consumer = Dag::build("consumer", || {
///     let done = external_task_sensor(
///         "producer",
///         "publish",
///         vec![TaskState::Success],
///         vec![TaskState::Failed, TaskState::UpstreamFailed],
///     );
///     consume(done);
/// })?;
/// let executor = Executor::new();
/// let date = taskflow::chrono::Utc::now();
/// executor.submit(&producer, RunOptions::new().logical_date(date))?.wait()?;
/// let report = executor.submit(&consumer, RunOptions::new().logical_date(date))?.wait()?;
/// assert_eq!(report.xcom::<String>("consume")?, "upstream ended success");
/// # Ok::<(), taskflow::Error>(())
/// ```
#[crate::sensor(crate = "crate", poke_interval = "5s")]
pub fn external_task_sensor(
    ctx: &Context,
    external_dag_id: &str,
    external_task_id: &str,
    allowed_states: Vec<crate::TaskState>,
    failed_states: Vec<crate::TaskState>,
) -> Result<Poke<crate::TaskState>, TaskError> {
    use crate::executor::Found;
    match ctx.external_task_state(external_dag_id, ctx.logical_date(), external_task_id) {
        Found::NoRun => Ok(Poke::NotYet),
        Found::NoTask => Err(TaskError::fail_now(format!(
            "external task sensor: dag `{external_dag_id}` has no task `{external_task_id}`"
        ))),
        Found::State(state) if allowed_states.contains(&state) => Ok(Poke::Done(state)),
        Found::State(state) if failed_states.contains(&state) => Err(TaskError::fail_now(format!(
            "external task sensor: task `{external_task_id}` of dag `{external_dag_id}` ended {state}"
        ))),
        Found::State(_) => Ok(Poke::NotYet),
    }
}

/// Where [`object_store_sensor`](fn@object_store_sensor) looks: a store of the `object_store` crate (S3, GCS, Azure,
/// local files, memory, ...) built in code, and a key or prefix in it.
#[cfg(feature = "object-store")]
#[cfg_attr(docsrs, doc(cfg(feature = "object-store")))]
#[derive(Clone)]
pub struct ObjectLocation {
    store: std::sync::Arc<dyn object_store::ObjectStore>,
    key: object_store::path::Path,
}

#[cfg(feature = "object-store")]
impl ObjectLocation {
    /// `key` in `store`.
    pub fn new(store: std::sync::Arc<dyn object_store::ObjectStore>, key: &str) -> Self {
        Self {
            store,
            key: object_store::path::Path::from(key),
        }
    }
}

#[cfg(feature = "object-store")]
impl std::fmt::Debug for ObjectLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.store, self.key)
    }
}

/// Waits until a key (or, with `prefix`, any key under a prefix) exists at `url`
/// (Airflow's `S3KeySensor`, for any store of the `object_store` crate). Its value is the
/// keys found, sorted.
///
/// `url` is `s3://bucket/key`, `gs://bucket/key`, `az://container/key` or `file:///path`.
/// The store is configured from the usual environment variables at each check: for S3,
/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, and `AWS_ENDPOINT` with
/// `AWS_ALLOW_HTTP=true` for a local S3-compatible server. A missing key is not there yet;
/// any other trouble (an unknown bucket, missing credentials, a bad URL) fails the check
/// with the store's message, and the task's retries apply.
///
/// `file://` and `memory://` URLs work with the `object-store` feature; `s3://` needs the
/// `aws` feature, `gs://` `gcp` and `az://` `azure`. A URL whose feature is off fails the
/// sensor at once, naming the feature.
#[cfg(feature = "object-store")]
#[cfg_attr(docsrs, doc(cfg(feature = "object-store")))]
#[crate::sensor(crate = "crate", poke_interval = "60s")]
pub async fn object_key_sensor(url: &str, prefix: bool) -> Result<Poke<Vec<String>>, TaskError> {
    let (store, key) = store_from_url(url)?;
    keys_at(&*store, &key, prefix).await.map_err(|error| {
        let error = error.to_string();
        // Without credentials in the environment, the S3 client asks the EC2 instance
        // metadata service; say what is missing rather than only how that failed.
        let hint = if error.contains("169.254.169.254") {
            " (no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, \
             or run where the instance metadata service gives some)"
        } else {
            ""
        };
        TaskError::msg(format!("object key sensor: {url}: {error}{hint}"))
    })
}

/// Waits until a key (or, with `prefix`, any key under a prefix) exists in a store built in
/// code; see [`object_key_sensor`](fn@object_key_sensor) for the rest.
///
/// ```
/// use std::sync::Arc;
/// use taskflow::object_store::{ObjectStore, PutPayload, memory::InMemory};
/// use taskflow::prelude::*;
/// use taskflow::sensors::{ObjectLocation, object_store_sensor};
///
/// let store = Arc::new(InMemory::new());
/// let key = "exports/2026-01-01/part-0".into();
/// tokio::runtime::Runtime::new()?.block_on(store.put(&key, PutPayload::from_static(b"1,2")))?;
/// let location = ObjectLocation::new(store, "exports/2026-01-01");
/// let report = Dag::build("exports", || {
///     object_store_sensor(location.clone(), true);
/// })?
/// .test()?;
/// let keys = report.xcom::<Vec<String>>("object_store_sensor")?;
/// assert_eq!(keys, ["exports/2026-01-01/part-0"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "object-store")]
#[cfg_attr(docsrs, doc(cfg(feature = "object-store")))]
#[crate::sensor(crate = "crate", poke_interval = "60s")]
pub async fn object_store_sensor(
    location: ObjectLocation,
    prefix: bool,
) -> Result<Poke<Vec<String>>, TaskError> {
    keys_at(&*location.store, &location.key, prefix)
        .await
        .map_err(|error| TaskError::msg(format!("object store sensor: {location:?}: {error}")))
}

/// The store and key of a URL, the store configured from the environment.
#[cfg(feature = "object-store")]
fn store_from_url(
    url: &str,
) -> Result<(Box<dyn object_store::ObjectStore>, object_store::path::Path), TaskError> {
    let parsed = url::Url::parse(url).map_err(|error| {
        TaskError::fail_now(format!("object key sensor: bad URL {url:?}: {error}"))
    })?;
    if let Some(feature) = missing_store_feature(parsed.scheme()) {
        return Err(TaskError::fail_now(format!(
            "object key sensor: {url}: {}:// URLs need taskflow's `{feature}` feature",
            parsed.scheme()
        )));
    }
    #[cfg(feature = "aws")]
    let built = if parsed.scheme() == "s3" {
        object_store::aws::AmazonS3Builder::from_env()
            .with_url(url)
            .build()
            .map(|store| Box::new(store) as Box<dyn object_store::ObjectStore>)
            .and_then(|store| {
                Ok((
                    store,
                    object_store::path::Path::from_url_path(parsed.path())?,
                ))
            })
    } else {
        let env: Vec<(String, String)> = std::env::vars().collect();
        object_store::parse_url_opts(&parsed, env)
    };
    #[cfg(not(feature = "aws"))]
    let built = {
        let env: Vec<(String, String)> = std::env::vars().collect();
        object_store::parse_url_opts(&parsed, env)
    };
    built.map_err(|error| TaskError::fail_now(format!("object key sensor: {url}: {error}")))
}

/// The feature of taskflow that a URL scheme needs, if it is off in this build.
#[cfg(feature = "object-store")]
fn missing_store_feature(scheme: &str) -> Option<&'static str> {
    let (feature, enabled) = match scheme {
        "s3" | "s3a" => ("aws", cfg!(feature = "aws")),
        "gs" => ("gcp", cfg!(feature = "gcp")),
        "az" | "adl" | "azure" | "abfs" | "abfss" => ("azure", cfg!(feature = "azure")),
        _ => return None,
    };
    (!enabled).then_some(feature)
}

/// The keys at `key` (or under it, with `prefix`), sorted; empty while there are none.
#[cfg(feature = "object-store")]
async fn keys_at(
    store: &dyn object_store::ObjectStore,
    key: &object_store::path::Path,
    prefix: bool,
) -> Result<Poke<Vec<String>>, object_store::Error> {
    use futures_util::TryStreamExt;
    let mut keys: Vec<String> = if prefix {
        store
            .list(Some(key))
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await?
    } else {
        match store.head(key).await {
            Ok(meta) => vec![meta.location.to_string()],
            Err(object_store::Error::NotFound { .. }) => {
                // A HEAD answer has no body to tell a missing key from a missing bucket:
                // listing the key's folder does, and fails for the bucket.
                let parent: object_store::path::Path = key
                    .parts()
                    .take(key.parts().count().saturating_sub(1))
                    .collect();
                store.list_with_delimiter(Some(&parent)).await?;
                Vec::new()
            }
            Err(error) => return Err(error),
        }
    };
    keys.sort();
    Ok(if keys.is_empty() {
        Poke::NotYet
    } else {
        Poke::Done(keys)
    })
}
