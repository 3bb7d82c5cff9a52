//! What a scheduler keeps in a [`SqliteStore`]: runs it is to start, whether a DAG is
//! paused, and backfills.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{RUN_COLUMNS, SqliteStore, collect, date_of, run_record};
use crate::store::{BackfillRecord, DagRunRecord};
use crate::{DagRunState, Result};

/// Microseconds since the epoch, as the store keeps dates.
fn micros(date: Option<DateTime<Utc>>) -> Option<i64> {
    date.map(|date| date.timestamp_micros())
}

fn params_column(params: &crate::Params) -> String {
    serde_json::to_string(params).unwrap_or_else(|_| "{}".into())
}

/// Inserts `run` unless its DAG has a run of that id; whether it did.
pub(super) fn insert_run(
    connection: &rusqlite::Connection,
    run: &DagRunRecord,
) -> rusqlite::Result<bool> {
    let inserted = connection
        .prepare_cached(
            "INSERT INTO dag_run (dag_id, run_id, logical_date, state, start_date, end_date,
                 run_type, params, data_interval_start, data_interval_end, run_after,
                 backfill_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (dag_id, run_id) DO NOTHING",
        )?
        .execute(params![
            run.dag_id,
            run.run_id,
            run.logical_date.timestamp_micros(),
            run.state.as_str(),
            micros(run.start_date),
            micros(run.end_date),
            run.run_type,
            params_column(&run.params),
            micros(run.data_interval_start),
            micros(run.data_interval_end),
            micros(run.run_after),
            run.backfill_id,
        ])?;
    Ok(inserted == 1)
}

impl SqliteStore {
    pub(super) fn create_run(&self, run: &DagRunRecord) -> Result<bool> {
        let inner = self.lock();
        insert_run(&inner.connection, run).map_err(|e| self.error(e))
    }

    pub(super) fn runs_in_state(&self, state: DagRunState) -> Result<Vec<DagRunRecord>> {
        let inner = self.lock();
        let mut query = inner
            .connection
            .prepare_cached(&format!(
                "SELECT dag_id, run_id, {RUN_COLUMNS} FROM dag_run WHERE state = ?1
                 ORDER BY coalesce(run_after, logical_date), logical_date, id"
            ))
            .map_err(|e| self.error(e))?;
        collect(self, &mut query, [state.as_str()], |row| {
            let dag_id: String = row.get(0)?;
            run_record(&dag_id, row.get(1)?, row, 2)
        })
    }

    pub(super) fn last_automated(&self, dag_id: &str) -> Result<Option<DagRunRecord>> {
        let inner = self.lock();
        inner
            .connection
            .prepare_cached(&format!(
                "SELECT run_id, {RUN_COLUMNS} FROM dag_run
                 WHERE dag_id = ?1 AND run_type IN ('scheduled', 'backfill')
                 ORDER BY logical_date DESC, id DESC LIMIT 1"
            ))
            .and_then(|mut query| {
                query
                    .query_row([dag_id], |row| run_record(dag_id, row.get(0)?, row, 1))
                    .optional()
            })
            .map_err(|e| self.error(e))
    }

    pub(super) fn pause(&self, dag_id: &str, paused: bool) -> Result<()> {
        let inner = self.lock();
        inner
            .connection
            .prepare_cached(
                "INSERT INTO dag (dag_id, fingerprint, is_paused) VALUES (?1, '', ?2)
                 ON CONFLICT (dag_id) DO UPDATE SET is_paused = excluded.is_paused",
            )
            .and_then(|mut statement| statement.execute(params![dag_id, paused]))
            .map(drop)
            .map_err(|e| self.error(e))
    }

    pub(super) fn paused(&self, dag_id: &str) -> Result<bool> {
        let inner = self.lock();
        inner
            .connection
            .prepare_cached("SELECT is_paused FROM dag WHERE dag_id = ?1")
            .and_then(|mut query| query.query_row([dag_id], |row| row.get(0)).optional())
            .map(|paused| paused.unwrap_or(false))
            .map_err(|e| self.error(e))
    }

    pub(super) fn add_backfill(
        &self,
        backfill: &BackfillRecord,
        runs: &[DagRunRecord],
        requeued: &[String],
    ) -> Result<i64> {
        let mut inner = self.lock();
        let added = (|| {
            let transaction = inner
                .connection
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let id: i64 = transaction.query_row(
                "INSERT INTO backfill (dag_id, from_date, to_date, run_backwards,
                     reprocess_behavior, max_active_runs, params, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
                params![
                    backfill.dag_id,
                    backfill.from_date.timestamp_micros(),
                    backfill.to_date.timestamp_micros(),
                    backfill.run_backwards,
                    backfill.reprocess_behavior,
                    backfill.max_active_runs,
                    params_column(&backfill.params),
                    backfill.created_at.timestamp_micros(),
                ],
                |row| row.get(0),
            )?;
            for run in runs {
                let mut run = run.clone();
                run.backfill_id = Some(id);
                insert_run(&transaction, &run)?;
            }
            for run_id in requeued {
                transaction
                    .prepare_cached(
                        "UPDATE dag_run SET state = 'queued', run_type = 'backfill',
                             backfill_id = ?3, params = ?4, start_date = NULL, end_date = NULL
                         WHERE dag_id = ?1 AND run_id = ?2",
                    )?
                    .execute(params![
                        backfill.dag_id,
                        run_id,
                        id,
                        params_column(&backfill.params)
                    ])?;
            }
            transaction.commit()?;
            Ok(id)
        })();
        added.map_err(|e: rusqlite::Error| self.error(e))
    }

    pub(super) fn backfills_of(&self, dag_id: &str) -> Result<Vec<BackfillRecord>> {
        let inner = self.lock();
        let mut query = inner
            .connection
            .prepare_cached(
                "SELECT id, from_date, to_date, run_backwards, reprocess_behavior,
                     max_active_runs, params, created_at, completed_at
                 FROM backfill WHERE dag_id = ?1 ORDER BY id DESC",
            )
            .map_err(|e| self.error(e))?;
        collect(self, &mut query, [dag_id], |row| {
            let params: String = row.get(6)?;
            Ok(BackfillRecord {
                id: row.get(0)?,
                dag_id: dag_id.to_owned(),
                from_date: date_of(row.get(1)?).unwrap_or_default(),
                to_date: date_of(row.get(2)?).unwrap_or_default(),
                run_backwards: row.get(3)?,
                reprocess_behavior: row.get(4)?,
                max_active_runs: row.get(5)?,
                params: serde_json::from_str(&params).unwrap_or_default(),
                created_at: date_of(row.get(7)?).unwrap_or_default(),
                completed_at: date_of(row.get(8)?),
            })
        })
    }

    pub(super) fn backfill_completed(&self, id: i64, at: DateTime<Utc>) -> Result<()> {
        let inner = self.lock();
        inner
            .connection
            .prepare_cached("UPDATE backfill SET completed_at = ?2 WHERE id = ?1")
            .and_then(|mut statement| statement.execute(params![id, at.timestamp_micros()]))
            .map(drop)
            .map_err(|e| self.error(e))
    }
}
