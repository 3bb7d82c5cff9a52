//! The store's schema, one version after another: [`MIGRATIONS`]`[i]` brings a file from
//! version `i` to `i + 1`. A schema that landed never changes; a change is a new migration.

/// The schema this version writes; older ones are migrated, newer ones refused.
pub(super) const SCHEMA_VERSION: i32 = 4;

/// Each migration, from the schema before it: `MIGRATIONS[0]` makes version 1.
pub(super) const MIGRATIONS: &[&str] = &[SCHEMA_1, SCHEMA_2, SCHEMA_3, SCHEMA_4];

/// The first schema: runs, task instances, tries and values.
const SCHEMA_1: &str = "
    CREATE TABLE dag_run (
        id INTEGER PRIMARY KEY,
        dag_id TEXT NOT NULL,
        run_id TEXT NOT NULL,
        logical_date INTEGER NOT NULL,
        state TEXT NOT NULL,
        start_date INTEGER,
        end_date INTEGER,
        UNIQUE (dag_id, run_id)
    );
    CREATE INDEX dag_run_by_date ON dag_run (dag_id, logical_date);
    CREATE TABLE task_instance (
        run INTEGER NOT NULL REFERENCES dag_run (id),
        task_id TEXT NOT NULL,
        map_index INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        state TEXT NOT NULL,
        try_number INTEGER NOT NULL,
        start_date INTEGER,
        end_date INTEGER,
        error TEXT,
        pool TEXT NOT NULL,
        priority_weight INTEGER NOT NULL,
        PRIMARY KEY (run, task_id, map_index)
    ) WITHOUT ROWID;
    CREATE TABLE task_try (
        run INTEGER NOT NULL REFERENCES dag_run (id),
        task_id TEXT NOT NULL,
        map_index INTEGER NOT NULL,
        try_number INTEGER NOT NULL,
        state TEXT NOT NULL,
        start_date INTEGER,
        end_date INTEGER,
        error TEXT,
        PRIMARY KEY (run, task_id, map_index, try_number)
    ) WITHOUT ROWID;
    CREATE TABLE xcom (
        run INTEGER NOT NULL REFERENCES dag_run (id),
        task_id TEXT NOT NULL,
        map_index INTEGER NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (run, task_id, map_index, key)
    ) WITHOUT ROWID;
";

/// The second: a DAG's tasks numbered once (`dag_task`), so that instances are keyed by
/// integers; instances keyed by their map path (mapped groups nest), with the value they
/// returned; the run's type, params and DAG fingerprint; tries other than an instance's
/// latest, and interrupted ones; the tries a clear leaves uncounted; keyed pushes with the
/// type of each value, and large values kept elsewhere by key.
const SCHEMA_2: &str = "
    ALTER TABLE dag_run ADD COLUMN run_type TEXT NOT NULL DEFAULT 'manual';
    ALTER TABLE dag_run ADD COLUMN params TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE dag_run ADD COLUMN fingerprint TEXT;
    CREATE TABLE dag (
        dag_id TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE dag_task (
        dag_id TEXT NOT NULL,
        task INTEGER NOT NULL,
        task_id TEXT NOT NULL,
        PRIMARY KEY (dag_id, task),
        UNIQUE (dag_id, task_id)
    ) WITHOUT ROWID;
    INSERT INTO dag_task (dag_id, task, task_id)
        SELECT dag_id, row_number() OVER (PARTITION BY dag_id ORDER BY first) - 1, task_id
        FROM (SELECT dag_run.dag_id AS dag_id, ti.task_id AS task_id, min(ti.seq) AS first
              FROM task_instance AS ti JOIN dag_run ON dag_run.id = ti.run
              GROUP BY dag_run.dag_id, ti.task_id);
    CREATE TABLE task_instance_2 (
        run INTEGER NOT NULL REFERENCES dag_run (id),
        task INTEGER NOT NULL,
        map_path TEXT NOT NULL,
        map_index INTEGER NOT NULL,
        state TEXT NOT NULL,
        try_number INTEGER NOT NULL,
        start_date INTEGER,
        end_date INTEGER,
        error TEXT,
        pool TEXT NOT NULL,
        priority_weight INTEGER NOT NULL,
        clear_base INTEGER NOT NULL DEFAULT 0,
        value TEXT,
        value_type TEXT,
        value_location TEXT,
        PRIMARY KEY (run, task, map_path)
    ) WITHOUT ROWID;
    INSERT INTO task_instance_2 (run, task, map_path, map_index, state, try_number,
            start_date, end_date, error, pool, priority_weight, value, value_type)
        SELECT ti.run, dt.task, CASE WHEN ti.map_index < 0 THEN '' ELSE ti.map_index END,
            ti.map_index, ti.state, ti.try_number, ti.start_date, ti.end_date,
            ti.error, ti.pool, ti.priority_weight, x.value,
            CASE WHEN x.value IS NULL THEN NULL ELSE '' END
        FROM task_instance AS ti
        JOIN dag_run ON dag_run.id = ti.run
        JOIN dag_task AS dt ON dt.dag_id = dag_run.dag_id AND dt.task_id = ti.task_id
        LEFT JOIN xcom AS x ON x.run = ti.run AND x.task_id = ti.task_id
            AND x.map_index = ti.map_index AND x.key = 'return_value';
    CREATE TABLE task_try_2 (
        run INTEGER NOT NULL REFERENCES dag_run (id),
        task INTEGER NOT NULL,
        map_path TEXT NOT NULL,
        try_number INTEGER NOT NULL,
        state TEXT NOT NULL,
        start_date INTEGER,
        end_date INTEGER,
        error TEXT,
        interrupted INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (run, task, map_path, try_number)
    ) WITHOUT ROWID;
    INSERT INTO task_try_2 (run, task, map_path, try_number, state, start_date, end_date,
            error)
        SELECT tt.run, dt.task, CASE WHEN tt.map_index < 0 THEN '' ELSE tt.map_index END,
            tt.try_number, tt.state, tt.start_date, tt.end_date, tt.error
        FROM task_try AS tt
        JOIN dag_run ON dag_run.id = tt.run
        JOIN dag_task AS dt ON dt.dag_id = dag_run.dag_id AND dt.task_id = tt.task_id;
    CREATE TABLE xcom_2 (
        run INTEGER NOT NULL REFERENCES dag_run (id),
        task INTEGER NOT NULL,
        map_path TEXT NOT NULL,
        key TEXT NOT NULL,
        type_name TEXT NOT NULL,
        value TEXT NOT NULL,
        location TEXT,
        PRIMARY KEY (run, task, map_path, key)
    ) WITHOUT ROWID;
    INSERT INTO xcom_2 (run, task, map_path, key, type_name, value)
        SELECT x.run, dt.task, CASE WHEN x.map_index < 0 THEN '' ELSE x.map_index END, x.key,
            '', x.value
        FROM xcom AS x
        JOIN dag_run ON dag_run.id = x.run
        JOIN dag_task AS dt ON dt.dag_id = dag_run.dag_id AND dt.task_id = x.task_id
        WHERE x.key <> 'return_value';
    DROP TABLE task_instance;
    DROP TABLE task_try;
    DROP TABLE xcom;
    ALTER TABLE task_instance_2 RENAME TO task_instance;
    ALTER TABLE task_try_2 RENAME TO task_try;
    ALTER TABLE xcom_2 RENAME TO xcom;
";

/// The third, for the scheduler: a run's data interval, when it was due (`run_after`) and
/// the backfill that made it; whether a DAG is paused; backfills.
const SCHEMA_3: &str = "
    CREATE TABLE backfill (
        id INTEGER PRIMARY KEY,
        dag_id TEXT NOT NULL,
        from_date INTEGER NOT NULL,
        to_date INTEGER NOT NULL,
        run_backwards INTEGER NOT NULL,
        reprocess_behavior TEXT NOT NULL,
        max_active_runs INTEGER NOT NULL,
        params TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        completed_at INTEGER
    );
    ALTER TABLE dag_run ADD COLUMN data_interval_start INTEGER;
    ALTER TABLE dag_run ADD COLUMN data_interval_end INTEGER;
    ALTER TABLE dag_run ADD COLUMN run_after INTEGER;
    ALTER TABLE dag_run ADD COLUMN backfill_id INTEGER REFERENCES backfill (id);
    CREATE INDEX dag_run_by_state ON dag_run (state);
    ALTER TABLE dag ADD COLUMN is_paused INTEGER NOT NULL DEFAULT 0;
";

/// The fourth: the change log, where a write puts each run's task instance rows, tries and
/// values as one entry, folded into their tables afterwards (see `log.rs`).
const SCHEMA_4: &str = "
    CREATE TABLE change_log (
        id INTEGER PRIMARY KEY,
        run INTEGER NOT NULL REFERENCES dag_run (id),
        entry BLOB NOT NULL
    );
    CREATE INDEX change_log_by_run ON change_log (run, id);
";
