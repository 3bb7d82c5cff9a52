//! Reading runs back from the store for the commands: every run of a DAG, one run by id
//! or logical date.

use crate::store::{DagRunRecord, Store};

use super::Failure;
use super::dates::parse_date;

/// How many runs one read of the store takes.
const PAGE: usize = 1000;

/// The runs of `dag_id`, newest logical date first; none without a store.
pub(crate) fn runs(store: Option<&dyn Store>, dag_id: &str) -> Result<Vec<DagRunRecord>, Failure> {
    let Some(store) = store else {
        return Ok(Vec::new());
    };
    let mut runs = Vec::new();
    loop {
        let page = store.dag_runs(dag_id, PAGE, runs.len())?;
        let full = page.len() == PAGE;
        runs.extend(page);
        if !full {
            return Ok(runs);
        }
    }
}

/// The run of `dag_id` whose id is `key`, else the one whose logical date `key` is.
pub(crate) fn find_run(
    store: Option<&dyn Store>,
    dag_id: &str,
    key: &str,
) -> Result<Option<DagRunRecord>, Failure> {
    let runs = runs(store, dag_id)?;
    let date = parse_date(key).ok();
    let by_id = runs.iter().position(|run| run.run_id == key);
    let by_date = || runs.iter().position(|run| Some(run.logical_date) == date);
    Ok(by_id.or_else(by_date).map(|at| runs[at].clone()))
}
