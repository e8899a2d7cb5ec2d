//! The supervision schema's own tables, beside the event store's and the
//! data keys', all written in the transaction of each append: one row per
//! consultation and per opinion (the read models the lists, counts and the
//! escalation sweep read; opinions drawn for a return visit), and the
//! sealed contact data of askers and
//! complainants (never in the events), kept until its `keep_until` day.

use yiciban_eventstore::Migrations;

/// Migrations of the supervision service's own tables.
pub const SUPERVISION: Migrations = Migrations {
    component: "supervision",
    steps: &[
        (
            1,
            r#"
CREATE TABLE {schema}.consultations (
    consultation_id     UUID PRIMARY KEY,
    -- the yiciban.supervision.v1.ConsultationChannel number
    channel             INTEGER NOT NULL,
    package_id          TEXT NOT NULL,
    -- the package's lead department, else the recorder's
    department          TEXT NOT NULL,
    recorder            TEXT NOT NULL,
    recorded_on         DATE NOT NULL,
    recorded_at         TIMESTAMPTZ NOT NULL,
    became_application  BOOLEAN NOT NULL,
    version             BIGINT NOT NULL,
    -- the yiciban.supervision.v1.Consultation message as of `version`
    consultation        BYTEA NOT NULL
);
CREATE INDEX consultations_newest ON {schema}.consultations (recorded_at DESC, consultation_id DESC);
CREATE INDEX consultations_recorder ON {schema}.consultations (recorder, recorded_at DESC);
CREATE INDEX consultations_department ON {schema}.consultations (department, recorded_on);

CREATE TABLE {schema}.opinions (
    opinion_id   UUID PRIMARY KEY,
    -- yiciban.supervision.v1 OpinionKind, OpinionChannel, OpinionState numbers
    kind         INTEGER NOT NULL,
    channel      INTEGER NOT NULL,
    state        INTEGER NOT NULL,
    -- assigned to, or concerned until assigned
    department   TEXT NOT NULL,
    person       TEXT NOT NULL,
    received_on  DATE NOT NULL,
    due_on       DATE NOT NULL,
    -- not answered and not closed: the limit runs
    awaiting     BOOLEAN NOT NULL,
    escalated    BOOLEAN NOT NULL,
    recorder     TEXT NOT NULL,
    recorded_at  TIMESTAMPTZ NOT NULL,
    version      BIGINT NOT NULL,
    -- the yiciban.supervision.v1.Opinion message as of `version`
    opinion      BYTEA NOT NULL
);
-- the escalation sweep: unanswered, not escalated, by due day
CREATE INDEX opinions_escalation_due ON {schema}.opinions (due_on) WHERE awaiting AND NOT escalated;
CREATE INDEX opinions_queue ON {schema}.opinions (department, awaiting, due_on);
CREATE INDEX opinions_received ON {schema}.opinions (received_on);

-- contact data of an asker or complainant, sealed under the record's own
-- data key (subject `consultation:<id>` / `opinion:<id>`); erased with its
-- key after `keep_until`
CREATE TABLE {schema}.contacts (
    record_id    UUID PRIMARY KEY,
    subject      TEXT NOT NULL,
    generation   INTEGER NOT NULL,
    sealed       BYTEA NOT NULL,
    keep_until   DATE NOT NULL
);
CREATE INDEX contacts_keep_until ON {schema}.contacts (keep_until);
"#,
        ),
        (
            2,
            r#"
-- drawn for a return visit and not visited yet (待回访)
ALTER TABLE {schema}.opinions ADD COLUMN visit_due BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX opinions_visit_due ON {schema}.opinions (received_on) WHERE visit_due;
"#,
        ),
    ],
};

/// Migrations of the monthly reports' rows (ADR 0039): a component of its
/// own beside [`SUPERVISION`], so the reports grow without touching the
/// consultations' and opinions' steps.
pub const REPORTS: Migrations = Migrations {
    component: "supervision-reports",
    steps: &[(
        1,
        r#"
-- one row per department and month with a report stream (report-<id>);
-- a department without one is "not started" and has no row
CREATE TABLE {schema}.reports (
    report_id        UUID PRIMARY KEY,
    department       TEXT NOT NULL,
    -- "YYYY-MM"
    period           TEXT NOT NULL,
    -- the yiciban.supervision.v1.ReportStatus number
    status           INTEGER NOT NULL,
    submitted_on_time BOOLEAN NOT NULL,
    flagged_late_on  DATE,
    updated_at       TIMESTAMPTZ NOT NULL,
    version          BIGINT NOT NULL,
    -- the yiciban.supervision.v1.Report message as of `version`
    report           BYTEA NOT NULL,
    UNIQUE (period, department)
);
"#,
    )],
};

/// Migrations of the assessment's tables (ADR 0040), a component of their
/// own beside [`SUPERVISION`]: every version of the scoring rules, and one
/// row per assessment with its read model as of its latest event.
pub const ASSESSMENTS: Migrations = Migrations {
    component: "supervision-assessments",
    steps: &[(
        1,
        r#"
CREATE TABLE {schema}.scoring_rules (
    version  INTEGER PRIMARY KEY,
    -- the yiciban.supervision.v1.ScoringRules message
    rules    BYTEA NOT NULL,
    set_by   TEXT NOT NULL,
    set_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE {schema}.assessments (
    assessment_id  UUID PRIMARY KEY,
    name           TEXT NOT NULL,
    run_at         TIMESTAMPTZ NOT NULL,
    version        BIGINT NOT NULL,
    -- the yiciban.supervision.v1.Assessment message as of `version`
    assessment     BYTEA NOT NULL
);
CREATE INDEX assessments_newest ON {schema}.assessments (run_at DESC, assessment_id DESC);
"#,
    )],
};
