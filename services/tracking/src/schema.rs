//! The tracking schema's own tables, beside the event store's checkpoints
//! and poison messages: one row per case (the [`crate::projection::CaseView`]
//! without its tasks as JSONB, plus the columns the lists filter and sort
//! on), one row per department task (its [`crate::projection::TaskView`]),
//! and the timeline (one row per event, in recorded order).

use yiciban_eventstore::Migrations;

/// Migrations of the tracking read models.
pub const TRACKING: Migrations = Migrations {
    component: "tracking",
    steps: &[
        (
            1,
            r#"
CREATE TABLE {schema}.case_views (
    case_id          UUID PRIMARY KEY,
    -- the CaseView document
    doc              JSONB NOT NULL,
    case_number      TEXT NOT NULL DEFAULT '',
    package_id       TEXT NOT NULL DEFAULT '',
    lead_department  TEXT NOT NULL DEFAULT '',
    officer_id       TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL DEFAULT 'unknown',
    -- 0 none, 1 yellow, 2 red: the worst warning of the open tasks
    warning          SMALLINT NOT NULL DEFAULT 0,
    open             BOOLEAN NOT NULL DEFAULT TRUE,
    promised_by      DATE,
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX case_views_number ON {schema}.case_views (case_number);
CREATE INDEX case_views_worklist ON {schema}.case_views (officer_id, warning DESC, promised_by, case_number);

CREATE TABLE {schema}.task_rows (
    task_id        TEXT PRIMARY KEY,
    case_id        UUID NOT NULL REFERENCES {schema}.case_views (case_id),
    department     TEXT NOT NULL,
    state          TEXT NOT NULL,
    open           BOOLEAN NOT NULL,
    assignee       TEXT NOT NULL DEFAULT '',
    warning        SMALLINT NOT NULL DEFAULT 0,
    escalated      BOOLEAN NOT NULL DEFAULT FALSE,
    clock_stopped  BOOLEAN NOT NULL DEFAULT FALSE,
    due_by         DATE,
    created_at     TIMESTAMPTZ,
    -- the TaskView document (with its clock, for working days at read time)
    doc            JSONB NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX task_rows_queue ON {schema}.task_rows (department, warning DESC, due_by, created_at);
CREATE INDEX task_rows_case ON {schema}.task_rows (case_id);
CREATE INDEX task_rows_warned ON {schema}.task_rows (warning DESC, due_by) WHERE open AND warning > 0;

CREATE TABLE {schema}.timeline (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id      UUID NOT NULL,
    -- the event id (a redelivered event finds its row and changes nothing)
    event_key    TEXT NOT NULL UNIQUE,
    occurred_at  TIMESTAMPTZ NOT NULL,
    entry        JSONB NOT NULL
);
CREATE INDEX timeline_case ON {schema}.timeline (case_id, occurred_at, seq);
"#,
        ),
        (
            2,
            r#"
-- when the latest event of the case occurred: the monthly statistics read the
-- cases with an event in or after the month
ALTER TABLE {schema}.case_views ADD COLUMN last_event_at TIMESTAMPTZ;
UPDATE {schema}.case_views SET last_event_at = (doc->>'last_event_at')::timestamptz;
CREATE INDEX case_views_last_event ON {schema}.case_views (last_event_at);
"#,
        ),
        (
            3,
            r#"
-- when the event reached this read model (the officer could see it): with
-- the event's recorded_at in its store, the projection lag of every event
ALTER TABLE {schema}.timeline ADD COLUMN projected_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp();
"#,
        ),
        (
            4,
            r#"
-- an officer's open cases in worklist order: the default worklist stops
-- after its page instead of reading every case the officer ever had, and its
-- count reads this index alone (docs/BENCHMARKS.md, the workbench's pages)
CREATE INDEX case_views_open_worklist ON {schema}.case_views (officer_id, warning DESC, promised_by, case_number)
    WHERE open;
-- a department's queue counts its tasks by state from the index alone
CREATE INDEX task_rows_department_state ON {schema}.task_rows (department, state);
"#,
        ),
        (
            5,
            r#"
-- The case row changes with every event of the case (ADR 0042). Its document
-- no longer holds the tasks (each is its own row in task_rows, read back with
-- the case), and no index covers a column every event changes: the monthly
-- statistics find their cases by the day of the latest event, which changes
-- at most once a day. So an event's update of the row touches no index and,
-- with room left on the page, stays on it (a HOT update).
ALTER TABLE {schema}.case_views SET (fillfactor = 50);
ALTER TABLE {schema}.case_views ADD COLUMN last_event_day DATE;
UPDATE {schema}.case_views SET doc = doc - 'tasks', last_event_day = (last_event_at AT TIME ZONE 'UTC')::date;
DROP INDEX {schema}.case_views_last_event;
CREATE INDEX case_views_last_event_day ON {schema}.case_views (last_event_day);
"#,
        ),
    ],
};

/// Migrations of the control tables, in the configured schema only: which
/// schema holds the read models queries use (`active`) and which one a
/// rebuild is filling (`shadow`), and the rebuilds with their progress.
pub const CONTROL: Migrations = Migrations {
    component: "tracking-control",
    steps: &[(
        1,
        r#"
CREATE TABLE {schema}.read_model (
    singleton  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    -- the schema the queries read and the live consumer writes
    active     TEXT NOT NULL,
    -- the schema a running rebuild fills (one at a time)
    shadow     TEXT,
    rebuild_id UUID
);
INSERT INTO {schema}.read_model (active) VALUES ('{schema}');

CREATE SEQUENCE {schema}.rebuild_numbers;

CREATE TABLE {schema}.rebuilds (
    rebuild_id       UUID PRIMARY KEY,
    idempotency_key  TEXT NOT NULL UNIQUE,
    request_hash     TEXT NOT NULL,
    projection       TEXT NOT NULL,
    target_schema    TEXT NOT NULL,
    -- running, completed, failed
    state            TEXT NOT NULL,
    events_applied   BIGINT NOT NULL DEFAULT 0,
    events_total     BIGINT NOT NULL DEFAULT 0,
    started_at       TIMESTAMPTZ NOT NULL,
    finished_at      TIMESTAMPTZ,
    error            TEXT NOT NULL DEFAULT ''
);
"#,
    )],
};
