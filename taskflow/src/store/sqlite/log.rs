//! The change log: how a batch of a run's changes is made durable at the cost of one row.
//!
//! A write appends, for each run it has changes of, one `change_log` row holding that run's
//! task instance rows, tries and values, encoded together. That is all a run waits for, so
//! a store adds little to a run's time. The log is folded into the tables afterwards, oldest
//! first: by the writer while it has nothing else to do ([`fold_oldest`]), and by a reader
//! of a run before it reads ([`fold_run`]). Both fold in the transaction of their caller,
//! so a fold that fails or is cut short by a crash leaves the log as it was.
//!
//! An entry is a version byte and items. Each item is a tag byte and its fields: integers
//! little-endian, a text as its length (`u32`) and bytes, a missing value as [`NONE`].

use rusqlite::{Transaction, params};

/// The format of the entries this version writes.
const FORMAT: u8 = 1;

/// The tag of a task instance row ([`InstanceRow`]).
const INSTANCE: u8 = 1;
/// The tag of a try kept in the tries' history ([`TryRow`]).
const TRY: u8 = 2;
/// The tag of a keyed push ([`PushRow`]).
const PUSH: u8 = 3;
/// The tag of a returned value whose instance's state was not in the batch ([`ValueRow`]).
const VALUE: u8 = 4;

/// The length written for a text that is not there.
const NONE: u32 = u32::MAX;

/// Entries folded by one call of [`fold_oldest`] at most.
const FOLD_ENTRIES: usize = 64;
/// Bytes of entries after which [`fold_oldest`] stops taking more.
const FOLD_BYTES: usize = 256 * 1024;

/// A value as a row keeps it: its JSON (empty when kept elsewhere), type and location.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Value<'a> {
    pub(super) text: &'a str,
    pub(super) type_name: &'a str,
    pub(super) location: Option<&'a str>,
}

/// A task instance row: its latest state in a batch, with the value it returned.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct InstanceRow<'a> {
    pub(super) task: i64,
    pub(super) map_path: &'a str,
    pub(super) map_index: i64,
    pub(super) state: &'a str,
    pub(super) try_number: u32,
    pub(super) start_date: Option<i64>,
    pub(super) end_date: Option<i64>,
    pub(super) error: Option<&'a str>,
    pub(super) pool: &'a str,
    pub(super) priority_weight: i32,
    pub(super) value: Option<Value<'a>>,
}

/// A try that ended with another to come.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct TryRow<'a> {
    pub(super) task: i64,
    pub(super) map_path: &'a str,
    pub(super) try_number: u32,
    pub(super) state: &'a str,
    pub(super) start_date: Option<i64>,
    pub(super) end_date: Option<i64>,
    pub(super) error: Option<&'a str>,
}

/// A value pushed under a key.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PushRow<'a> {
    pub(super) task: i64,
    pub(super) map_path: &'a str,
    pub(super) key: &'a str,
    pub(super) value: Value<'a>,
}

/// A returned value that goes to its instance's row on its own.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ValueRow<'a> {
    pub(super) task: i64,
    pub(super) map_path: &'a str,
    pub(super) map_index: i64,
    pub(super) value: Value<'a>,
}

/// One item of an entry.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Item<'a> {
    Instance(InstanceRow<'a>),
    Try(TryRow<'a>),
    Push(PushRow<'a>),
    Value(ValueRow<'a>),
}

/// The entry of one run in one write, as it is encoded.
#[derive(Debug)]
pub(super) struct Entry {
    pub(super) run: i64,
    bytes: Vec<u8>,
}

impl Entry {
    pub(super) fn new(run: i64) -> Self {
        Self {
            run,
            bytes: vec![FORMAT],
        }
    }

    /// Whether no item was added.
    pub(super) fn is_empty(&self) -> bool {
        self.bytes.len() == 1
    }

    pub(super) fn add(&mut self, item: &Item<'_>) {
        match item {
            Item::Instance(row) => {
                self.bytes.push(INSTANCE);
                self.int(row.task);
                self.text(row.map_path);
                self.int(row.map_index);
                self.text(row.state);
                self.bytes.extend_from_slice(&row.try_number.to_le_bytes());
                self.date(row.start_date);
                self.date(row.end_date);
                self.optional_text(row.error);
                self.text(row.pool);
                self.bytes
                    .extend_from_slice(&row.priority_weight.to_le_bytes());
                match &row.value {
                    Some(value) => {
                        self.bytes.push(1);
                        self.value(value);
                    }
                    None => self.bytes.push(0),
                }
            }
            Item::Try(row) => {
                self.bytes.push(TRY);
                self.int(row.task);
                self.text(row.map_path);
                self.bytes.extend_from_slice(&row.try_number.to_le_bytes());
                self.text(row.state);
                self.date(row.start_date);
                self.date(row.end_date);
                self.optional_text(row.error);
            }
            Item::Push(row) => {
                self.bytes.push(PUSH);
                self.int(row.task);
                self.text(row.map_path);
                self.text(row.key);
                self.value(&row.value);
            }
            Item::Value(row) => {
                self.bytes.push(VALUE);
                self.int(row.task);
                self.text(row.map_path);
                self.int(row.map_index);
                self.value(&row.value);
            }
        }
    }

    fn int(&mut self, value: i64) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }

    fn date(&mut self, date: Option<i64>) {
        match date {
            Some(date) => {
                self.bytes.push(1);
                self.int(date);
            }
            None => self.bytes.push(0),
        }
    }

    fn text(&mut self, text: &str) {
        // A text of 4 GiB or more does not fit an entry; SQLite refuses such a row anyway.
        let length = u32::try_from(text.len()).unwrap_or(NONE - 1);
        self.bytes.extend_from_slice(&length.to_le_bytes());
        self.bytes.extend_from_slice(text.as_bytes());
    }

    fn optional_text(&mut self, text: Option<&str>) {
        match text {
            Some(text) => self.text(text),
            None => self.bytes.extend_from_slice(&NONE.to_le_bytes()),
        }
    }

    fn value(&mut self, value: &Value<'_>) {
        self.text(value.text);
        self.text(value.type_name);
        self.optional_text(value.location);
    }

    /// Appends the entry to the log, in `transaction`; its size in bytes.
    pub(super) fn append(&self, transaction: &Transaction<'_>) -> rusqlite::Result<usize> {
        transaction
            .prepare_cached("INSERT INTO change_log (run, entry) VALUES (?1, ?2)")?
            .execute(params![self.run, self.bytes])?;
        Ok(self.bytes.len())
    }
}

/// The items of an encoded entry, read in place.
pub(super) struct Items<'a> {
    bytes: &'a [u8],
}

impl<'a> Items<'a> {
    /// The items of `bytes`; an error if it is not an entry this version reads.
    pub(super) fn of(bytes: &'a [u8]) -> rusqlite::Result<Self> {
        match bytes.split_first() {
            Some((&FORMAT, items)) => Ok(Self { bytes: items }),
            Some((format, _)) => Err(corrupt(&format!("an entry of format {format}"))),
            None => Err(corrupt("an empty entry")),
        }
    }

    /// The next item, or `None` at the end.
    pub(super) fn next_item(&mut self) -> rusqlite::Result<Option<Item<'a>>> {
        let Some((&tag, rest)) = self.bytes.split_first() else {
            return Ok(None);
        };
        self.bytes = rest;
        let item = match tag {
            INSTANCE => Item::Instance(InstanceRow {
                task: self.int()?,
                map_path: self.text()?,
                map_index: self.int()?,
                state: self.text()?,
                try_number: u32::from_le_bytes(self.take()?),
                start_date: self.date()?,
                end_date: self.date()?,
                error: self.optional_text()?,
                pool: self.text()?,
                priority_weight: i32::from_le_bytes(self.take()?),
                value: match self.byte()? {
                    0 => None,
                    _ => Some(self.value()?),
                },
            }),
            TRY => Item::Try(TryRow {
                task: self.int()?,
                map_path: self.text()?,
                try_number: u32::from_le_bytes(self.take()?),
                state: self.text()?,
                start_date: self.date()?,
                end_date: self.date()?,
                error: self.optional_text()?,
            }),
            PUSH => Item::Push(PushRow {
                task: self.int()?,
                map_path: self.text()?,
                key: self.text()?,
                value: self.value()?,
            }),
            VALUE => Item::Value(ValueRow {
                task: self.int()?,
                map_path: self.text()?,
                map_index: self.int()?,
                value: self.value()?,
            }),
            other => return Err(corrupt(&format!("an item tagged {other}"))),
        };
        Ok(Some(item))
    }

    fn take<const N: usize>(&mut self) -> rusqlite::Result<[u8; N]> {
        let Some((head, rest)) = self.bytes.split_first_chunk::<N>() else {
            return Err(corrupt("an entry cut short"));
        };
        self.bytes = rest;
        Ok(*head)
    }

    fn byte(&mut self) -> rusqlite::Result<u8> {
        Ok(self.take::<1>()?[0])
    }

    fn int(&mut self) -> rusqlite::Result<i64> {
        Ok(i64::from_le_bytes(self.take()?))
    }

    fn date(&mut self) -> rusqlite::Result<Option<i64>> {
        match self.byte()? {
            0 => Ok(None),
            _ => self.int().map(Some),
        }
    }

    fn optional_text(&mut self) -> rusqlite::Result<Option<&'a str>> {
        let length = u32::from_le_bytes(self.take()?);
        if length == NONE {
            return Ok(None);
        }
        let length = length as usize;
        if self.bytes.len() < length {
            return Err(corrupt("an entry cut short"));
        }
        let (text, rest) = self.bytes.split_at(length);
        self.bytes = rest;
        std::str::from_utf8(text)
            .map(Some)
            .map_err(|_| corrupt("a text that is not UTF-8"))
    }

    fn text(&mut self) -> rusqlite::Result<&'a str> {
        self.optional_text()?
            .ok_or_else(|| corrupt("a missing text where one must be"))
    }

    fn value(&mut self) -> rusqlite::Result<Value<'a>> {
        Ok(Value {
            text: self.text()?,
            type_name: self.text()?,
            location: self.optional_text()?,
        })
    }
}

/// The error of an entry this version cannot read.
fn corrupt(what: &str) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(
        format!("the store's change log holds {what}: the file was damaged or written by hand")
            .into(),
    )
}

/// Folds every entry of run row `run` into the tables, in `transaction`.
pub(super) fn fold_run(transaction: &Transaction<'_>, run: i64) -> rusqlite::Result<()> {
    let entries: Vec<(i64, Vec<u8>)> = transaction
        .prepare_cached("SELECT run, entry FROM change_log WHERE run = ?1 ORDER BY id")?
        .query_map([run], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    if entries.is_empty() {
        return Ok(());
    }
    apply(transaction, &entries)?;
    transaction
        .prepare_cached("DELETE FROM change_log WHERE run = ?1")?
        .execute([run])?;
    Ok(())
}

/// Folds the oldest entries (up to [`FOLD_ENTRIES`] or [`FOLD_BYTES`]) into the tables, in
/// `transaction`: the bytes of entries folded, and whether more are left.
pub(super) fn fold_oldest(transaction: &Transaction<'_>) -> rusqlite::Result<(usize, bool)> {
    let mut entries: Vec<(i64, Vec<u8>)> = Vec::new();
    let mut last = None;
    {
        let mut query = transaction
            .prepare_cached("SELECT id, run, entry FROM change_log ORDER BY id LIMIT ?1")?;
        let mut rows = query.query([FOLD_ENTRIES as i64])?;
        let mut bytes = 0;
        while bytes < FOLD_BYTES
            && let Some(row) = rows.next()?
        {
            let entry: Vec<u8> = row.get(2)?;
            bytes += entry.len();
            last = Some(row.get::<_, i64>(0)?);
            entries.push((row.get(1)?, entry));
        }
    }
    let Some(last) = last else {
        return Ok((0, false));
    };
    apply(transaction, &entries)?;
    transaction
        .prepare_cached("DELETE FROM change_log WHERE id <= ?1")?
        .execute([last])?;
    let more: bool = transaction
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM change_log)")?
        .query_row([], |row| row.get(0))?;
    let folded = entries.iter().map(|(_, entry)| entry.len()).sum();
    Ok((folded, more))
}

/// Writes the items of `entries` (run row, encoding), in order.
fn apply(transaction: &Transaction<'_>, entries: &[(i64, Vec<u8>)]) -> rusqlite::Result<()> {
    let mut rows: Vec<(i64, InstanceRow<'_>)> = Vec::new();
    for (run, entry) in entries {
        let run = *run;
        let mut items = Items::of(entry)?;
        while let Some(item) = items.next_item()? {
            match item {
                Item::Instance(row) => rows.push((run, row)),
                Item::Try(row) => write_try(transaction, run, &row)?,
                Item::Push(row) => write_push(transaction, run, &row)?,
                Item::Value(row) => {
                    // After the rows before it, as it came.
                    write_instances(transaction, &rows)?;
                    rows.clear();
                    write_value(transaction, run, &row)?;
                }
            }
        }
    }
    write_instances(transaction, &rows)
}

/// Rows per statement of the multi-row inserts (task instances here, task numbers in
/// `write.rs`).
pub(super) const CHUNK: usize = 32;

/// The columns of a task instance row, in the order the statements bind them.
const INSTANCE_COLUMNS: usize = 14;

/// The insert of task instance rows (as `VALUES` of `rows` rows).
fn insert_instances(rows: usize) -> String {
    let row = format!("({})", vec!["?"; INSTANCE_COLUMNS].join(", "));
    format!(
        "INSERT INTO task_instance (run, task, map_path, map_index, state, try_number,
             start_date, end_date, error, pool, priority_weight, value, value_type,
             value_location)
         VALUES {}
         ON CONFLICT (run, task, map_path) DO UPDATE SET
             state = excluded.state, try_number = excluded.try_number,
             start_date = coalesce(excluded.start_date, start_date),
             end_date = excluded.end_date, error = excluded.error,
             value = coalesce(excluded.value, value),
             value_type = coalesce(excluded.value_type, value_type),
             value_location = CASE WHEN excluded.value IS NULL THEN value_location
                 ELSE excluded.value_location END",
        vec![row.as_str(); rows].join(", ")
    )
}

/// Binds the columns of `row` of run row `run` from parameter `first` (1-based) on.
fn bind_instance(
    statement: &mut rusqlite::Statement<'_>,
    first: usize,
    run: i64,
    row: &InstanceRow<'_>,
) -> rusqlite::Result<()> {
    let value = row.value.as_ref();
    statement.raw_bind_parameter(first, run)?;
    statement.raw_bind_parameter(first + 1, row.task)?;
    statement.raw_bind_parameter(first + 2, row.map_path)?;
    statement.raw_bind_parameter(first + 3, row.map_index)?;
    statement.raw_bind_parameter(first + 4, row.state)?;
    statement.raw_bind_parameter(first + 5, row.try_number)?;
    statement.raw_bind_parameter(first + 6, row.start_date)?;
    statement.raw_bind_parameter(first + 7, row.end_date)?;
    statement.raw_bind_parameter(first + 8, row.error)?;
    statement.raw_bind_parameter(first + 9, row.pool)?;
    statement.raw_bind_parameter(first + 10, row.priority_weight)?;
    statement.raw_bind_parameter(first + 11, value.map(|v| v.text))?;
    statement.raw_bind_parameter(first + 12, value.map(|v| v.type_name))?;
    statement.raw_bind_parameter(first + 13, value.and_then(|v| v.location))?;
    Ok(())
}

/// Writes `rows` (run row, row), [`CHUNK`] to a statement.
fn write_instances(
    transaction: &Transaction<'_>,
    rows: &[(i64, InstanceRow<'_>)],
) -> rusqlite::Result<()> {
    let mut chunks = rows.chunks_exact(CHUNK);
    if rows.len() >= CHUNK {
        let mut statement = transaction.prepare_cached(&insert_instances(CHUNK))?;
        for chunk in &mut chunks {
            for (at, (run, row)) in chunk.iter().enumerate() {
                bind_instance(&mut statement, 1 + at * INSTANCE_COLUMNS, *run, row)?;
            }
            statement.raw_execute()?;
        }
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut statement = transaction.prepare_cached(&insert_instances(1))?;
        for (run, row) in rest {
            bind_instance(&mut statement, 1, *run, row)?;
            statement.raw_execute()?;
        }
    }
    Ok(())
}

fn write_try(transaction: &Transaction<'_>, run: i64, row: &TryRow<'_>) -> rusqlite::Result<()> {
    transaction
        .prepare_cached(
            "INSERT INTO task_try (run, task, map_path, try_number, state, start_date, end_date,
                 error)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (run, task, map_path, try_number) DO UPDATE SET
                 state = excluded.state, end_date = excluded.end_date, error = excluded.error",
        )?
        .execute(params![
            run,
            row.task,
            row.map_path,
            row.try_number,
            row.state,
            row.start_date,
            row.end_date,
            row.error,
        ])?;
    Ok(())
}

fn write_push(transaction: &Transaction<'_>, run: i64, row: &PushRow<'_>) -> rusqlite::Result<()> {
    transaction
        .prepare_cached(
            "INSERT INTO xcom (run, task, map_path, key, type_name, value, location)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (run, task, map_path, key) DO UPDATE SET
                 type_name = excluded.type_name, value = excluded.value,
                 location = excluded.location",
        )?
        .execute(params![
            run,
            row.task,
            row.map_path,
            row.key,
            row.value.type_name,
            row.value.text,
            row.value.location
        ])?;
    Ok(())
}

fn write_value(
    transaction: &Transaction<'_>,
    run: i64,
    row: &ValueRow<'_>,
) -> rusqlite::Result<()> {
    transaction
        .prepare_cached(
            "INSERT INTO task_instance (run, task, map_path, map_index, state, try_number, pool,
                 priority_weight, value, value_type, value_location)
             VALUES (?1, ?2, ?3, ?4, 'none', 0, 'default_pool', 1, ?5, ?6, ?7)
             ON CONFLICT (run, task, map_path) DO UPDATE SET
                 value = excluded.value, value_type = excluded.value_type,
                 value_location = excluded.value_location",
        )?
        .execute(params![
            run,
            row.task,
            row.map_path,
            row.map_index,
            row.value.text,
            row.value.type_name,
            row.value.location
        ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(entry: &Entry) -> Vec<Item<'_>> {
        let mut items = Items::of(&entry.bytes).unwrap();
        std::iter::from_fn(|| items.next_item().unwrap()).collect()
    }

    #[test]
    fn every_item_reads_back_as_it_was_added() {
        let value = Value {
            text: "[1,2]",
            type_name: "alloc::vec::Vec<u32>",
            location: Some("dag/run/task/return_value"),
        };
        let added = vec![
            Item::Instance(InstanceRow {
                task: 7,
                map_path: "1.2",
                map_index: 2,
                state: "success",
                try_number: 3,
                start_date: Some(-5),
                end_date: None,
                error: Some("élan"),
                pool: "default_pool",
                priority_weight: -4,
                value: Some(value),
            }),
            Item::Instance(InstanceRow {
                task: i64::MAX,
                map_path: "",
                map_index: -1,
                state: "running",
                try_number: u32::MAX,
                start_date: None,
                end_date: Some(i64::MIN),
                error: None,
                pool: "",
                priority_weight: i32::MAX,
                value: None,
            }),
            Item::Try(TryRow {
                task: 0,
                map_path: "",
                try_number: 1,
                state: "up_for_retry",
                start_date: Some(1),
                end_date: Some(2),
                error: Some(""),
            }),
            Item::Push(PushRow {
                task: 1,
                map_path: "3",
                key: "rows",
                value: Value {
                    location: None,
                    ..value
                },
            }),
            Item::Value(ValueRow {
                task: 2,
                map_path: "",
                map_index: -1,
                value,
            }),
        ];
        let mut entry = Entry::new(9);
        assert!(entry.is_empty());
        for item in &added {
            entry.add(item);
        }
        assert!(!entry.is_empty());
        assert_eq!(items(&entry), added);
    }

    #[test]
    fn a_damaged_entry_is_an_error_not_a_panic() {
        let mut entry = Entry::new(1);
        entry.add(&Item::Value(ValueRow {
            task: 2,
            map_path: "",
            map_index: -1,
            value: Value {
                text: "1",
                type_name: "u64",
                location: None,
            },
        }));
        let bytes = entry.bytes.clone();
        // Every shorter entry, a wrong format, an unknown tag, and a text that is not UTF-8.
        for cut in 0..bytes.len() {
            let read = Items::of(&bytes[..cut]).and_then(|mut items| {
                while items.next_item()?.is_some() {}
                Ok(())
            });
            assert!(read.is_err() || cut == 1, "cut at {cut}");
        }
        assert!(Items::of(&[9, VALUE]).is_err());
        let mut unknown = Items::of(&[FORMAT, 200]).unwrap();
        let error = unknown.next_item().unwrap_err().to_string();
        assert!(error.contains("an item tagged 200"), "{error}");
        let mut bad = bytes.clone();
        let text_at = bytes.len() - 4 - 3 - 4 - 1; // the value's "1"
        bad[text_at] = 0xff;
        let mut items = Items::of(&bad).unwrap();
        assert!(items.next_item().is_err());
    }
}
