//! The tracking schema's own tables, beside the event store's checkpoints
//! and poison messages: one row per case (the [`crate::projection::CaseView`]
//! as JSONB plus the columns the lists filter and sort on), one row per
//! department task, and the timeline (one row per event, in recorded order).

use yiciban_eventstore::Migrations;

/// Migrations of the tracking read models.
pub const TRACKING: Migrations = Migrations {
    component: "tracking",
    steps: &[(
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
    )],
};
