//! Where the store of runs is: `--store PATH`, else `$TASKFLOW_HOME/taskflow.db`, else
//! `~/taskflow/taskflow.db` (as Airflow's `AIRFLOW_HOME` defaults to `~/airflow`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::store::SqliteStore;

/// The environment variable of the folder of the store.
pub(crate) const HOME_VARIABLE: &str = "TASKFLOW_HOME";
/// The store's file name in that folder.
pub(crate) const STORE_FILE: &str = "taskflow.db";

/// The store file: `flag` if given, else in `$TASKFLOW_HOME`, else in `~/taskflow`;
/// `variable` reads the environment.
pub(crate) fn store_path(
    flag: Option<&Path>,
    variable: impl Fn(&str) -> Option<OsString>,
) -> Result<PathBuf, String> {
    if let Some(path) = flag {
        return Ok(path.to_owned());
    }
    let set = |name: &str| variable(name).filter(|value| !value.is_empty());
    if let Some(home) = set(HOME_VARIABLE) {
        return Ok(PathBuf::from(home).join(STORE_FILE));
    }
    let user_home = set("HOME").or_else(|| set("USERPROFILE")).ok_or_else(|| {
        format!("no home folder to keep the store in: set {HOME_VARIABLE} or give --store PATH")
    })?;
    Ok(PathBuf::from(user_home).join("taskflow").join(STORE_FILE))
}

/// Opens the store at `path`, making it (and its folder) if `create`; `None` if it is not
/// there and not to be made: it has no runs.
pub(crate) fn open_store(path: &Path, create: bool) -> Result<Option<Arc<SqliteStore>>, String> {
    if !create && !path.exists() {
        return Ok(None);
    }
    if let Some(folder) = path
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
    {
        std::fs::create_dir_all(folder).map_err(|error| {
            format!(
                "cannot make the folder {} of the store: {error}",
                folder.display()
            )
        })?;
    }
    SqliteStore::open(path)
        .map(|store| Some(Arc::new(store)))
        .map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| OsString::from(value))
        }
    }

    #[test]
    fn the_flag_wins_over_the_variable_which_wins_over_the_home_folder() {
        let all = [("TASKFLOW_HOME", "/srv/flows"), ("HOME", "/home/ann")];
        let flag = Path::new("runs.db");
        assert_eq!(
            store_path(Some(flag), env(&all)),
            Ok(PathBuf::from("runs.db"))
        );
        assert_eq!(
            store_path(None, env(&all)),
            Ok(PathBuf::from("/srv/flows/taskflow.db"))
        );
        assert_eq!(
            store_path(None, env(&[("HOME", "/home/ann"), ("TASKFLOW_HOME", "")])),
            Ok(PathBuf::from("/home/ann/taskflow/taskflow.db"))
        );
    }

    #[test]
    fn without_any_home_the_error_says_what_to_set() {
        let error = store_path(None, env(&[])).unwrap_err();
        assert!(
            error.contains("TASKFLOW_HOME") && error.contains("--store"),
            "{error}"
        );
    }
}
