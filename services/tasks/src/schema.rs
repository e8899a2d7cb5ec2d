//! The tasks schema's own tables, beside the event store's: the inbox index
//! (one row per task, written in the transaction of each append) and the
//! durable SLA timers (the instants at which a task turns yellow or red,
//! NULL while its clock is stopped, once the level was raised, or when the
//! task is closed).

use yiciban_eventstore::Migrations;

/// Migrations of the task service's own tables.
pub const TASKS: Migrations = Migrations {
    component: "tasks",
    steps: &[
        (
            1,
            r#"
CREATE TABLE {schema}.task_index (
    task_id          UUID PRIMARY KEY,
    case_id          UUID NOT NULL,
    step_id          TEXT NOT NULL,
    department       TEXT NOT NULL,
    lead_department  TEXT NOT NULL,
    package_id       TEXT NOT NULL,
    state            TEXT NOT NULL,
    open             BOOLEAN NOT NULL,
    assignee         TEXT,
    -- 0 on time, 1 yellow, 2 red: the inbox sorts by it first
    warning          SMALLINT NOT NULL DEFAULT 0,
    due_by           DATE NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    version          BIGINT NOT NULL,
    -- the yiciban.tasks.v1.Task message as of `version`
    task             BYTEA NOT NULL,
    -- the task's clock, to count working days used at read time
    clock            JSONB NOT NULL,
    CONSTRAINT task_index_one_task_per_step UNIQUE (case_id, step_id)
);
CREATE INDEX task_index_inbox ON {schema}.task_index (department, warning DESC, due_by, created_at);
CREATE INDEX task_index_case ON {schema}.task_index (case_id, created_at);

CREATE TABLE {schema}.sla_timers (
    task_id    UUID PRIMARY KEY,
    case_id    UUID NOT NULL,
    yellow_at  TIMESTAMPTZ,
    red_at     TIMESTAMPTZ
);
CREATE INDEX sla_timers_yellow ON {schema}.sla_timers (yellow_at) WHERE yellow_at IS NOT NULL;
CREATE INDEX sla_timers_red ON {schema}.sla_timers (red_at) WHERE red_at IS NOT NULL;
"#,
        ),
        (
            2,
            r#"
-- an inbox's count over all pages reads this index alone (department and
-- state) instead of every task row the department ever had: with 10,000
-- cases, 36 ms cold and 4-12 ms warm before it (docs/BENCHMARKS.md)
CREATE INDEX task_index_department_state ON {schema}.task_index (department, state);
"#,
        ),
    ],
};
