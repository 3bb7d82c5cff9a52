//! Values too large for a store's database: written as objects of their own (files in a
//! folder, or objects of an `object_store` store), the database keeping their keys, as
//! Airflow's object storage XCom backend does.

use std::path::PathBuf;

/// A value above this many bytes of JSON is kept out of the database by default (1 MiB).
pub const DEFAULT_LARGE_VALUE: u64 = 1 << 20;

/// Where a store keeps its large values.
#[derive(Clone)]
pub(crate) enum Place {
    /// Files in a folder.
    Folder(PathBuf),
    /// Objects of an `object_store` store, under a prefix.
    #[cfg(feature = "object-store")]
    Objects {
        store: std::sync::Arc<dyn object_store::ObjectStore>,
        prefix: String,
    },
}

impl std::fmt::Debug for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Folder(folder) => write!(f, "folder {}", folder.display()),
            #[cfg(feature = "object-store")]
            Place::Objects { store, prefix } => write!(f, "{store} under `{prefix}`"),
        }
    }
}

/// The key of a value: its DAG, run, task, map path and XCom key, each component
/// percent-encoded so that any id makes one safe path component.
pub(crate) fn value_key(
    dag_id: &str,
    run_id: &str,
    task_id: &str,
    map_path: &str,
    key: &str,
) -> String {
    let map_path = if map_path.is_empty() { "-" } else { map_path };
    [dag_id, run_id, task_id, map_path, key]
        .iter()
        .map(|part| encode(part))
        .collect::<Vec<_>>()
        .join("/")
        + ".json"
}

fn encode(part: &str) -> String {
    let mut encoded = String::with_capacity(part.len());
    for byte in part.bytes() {
        let plain = byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.');
        if plain && !matches!(part, "." | "..") {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

impl Place {
    /// Writes `text` at `key`.
    pub(crate) fn put(&self, key: &str, text: String) -> Result<(), String> {
        match self {
            Place::Folder(folder) => {
                let path = folder.join(key);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|error| format!("{}: {error}", parent.display()))?;
                }
                // Written aside, then renamed: a crash never leaves half a value at `key`.
                let partial = path.with_extension("json.partial");
                std::fs::write(&partial, text)
                    .and_then(|()| std::fs::rename(&partial, &path))
                    .map_err(|error| format!("{}: {error}", path.display()))
            }
            #[cfg(feature = "object-store")]
            Place::Objects { store, prefix } => {
                let store = std::sync::Arc::clone(store);
                let location = object_path(prefix, key);
                blocking(async move {
                    store
                        .put(&location, object_store::PutPayload::from(text))
                        .await
                        .map(drop)
                        .map_err(|error| error.to_string())
                })
            }
        }
    }

    /// Reads the text at `key`.
    pub(crate) fn get(&self, key: &str) -> Result<String, String> {
        match self {
            Place::Folder(folder) => {
                let path = folder.join(key);
                std::fs::read_to_string(&path)
                    .map_err(|error| format!("{}: {error}", path.display()))
            }
            #[cfg(feature = "object-store")]
            Place::Objects { store, prefix } => {
                let store = std::sync::Arc::clone(store);
                let location = object_path(prefix, key);
                blocking(async move {
                    let bytes = store
                        .get(&location)
                        .await
                        .map_err(|error| error.to_string())?
                        .bytes()
                        .await
                        .map_err(|error| error.to_string())?;
                    String::from_utf8(bytes.to_vec()).map_err(|error| error.to_string())
                })
            }
        }
    }
}

#[cfg(feature = "object-store")]
fn object_path(prefix: &str, key: &str) -> object_store::path::Path {
    let prefix = prefix.trim_matches('/');
    if prefix.is_empty() {
        object_store::path::Path::from(key)
    } else {
        object_store::path::Path::from(format!("{prefix}/{key}"))
    }
}

/// Runs `work` to its end on a thread of its own with a runtime of its own: the store is
/// called from plain threads and from inside the caller's runtime alike.
#[cfg(feature = "object-store")]
fn blocking<T: Send + 'static>(
    work: impl std::future::Future<Output = Result<T, String>> + Send + 'static,
) -> Result<T, String> {
    std::thread::Builder::new()
        .name("taskflow-store-object".into())
        .spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|error| error.to_string())?
                .block_on(work)
        })
        .map_err(|error| error.to_string())?
        .join()
        .unwrap_or_else(|_| Err("the object store panicked".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::value_key;

    #[test]
    fn a_value_key_encodes_each_part_into_one_safe_component() {
        assert_eq!(
            value_key(
                "etl",
                "manual__2026-01-01T00:00:00+00:00",
                "g.load",
                "0.2",
                "rows"
            ),
            "etl/manual__2026-01-01T00%3A00%3A00%2B00%3A00/g.load/0.2/rows.json"
        );
        assert_eq!(
            value_key("a/b", "..", "t", "", "k"),
            "a%2Fb/%2E%2E/t/-/k.json"
        );
    }
}
