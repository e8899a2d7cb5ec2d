//! The issuance schema's own tables, beside the event store's, all written
//! in the transaction of each append: one row per case (its Issuance message,
//! closing day, departments, and the keyed hash of the applicant's identity
//! for the own-case check), the ratings and return visits sampling reads,
//! the sampling runs with their responses (idempotency across cases), and
//! the rectification ledger (one row per rectification, [`crate::ledger`]).

use yiciban_eventstore::Migrations;

/// Migrations of the issuance service's own tables.
pub const ISSUANCE: Migrations = Migrations {
    component: "issuance",
    steps: &[
        (
            1,
            r#"
CREATE TABLE {schema}.issuance_cases (
    case_id          UUID PRIMARY KEY,
    case_number      TEXT NOT NULL,
    -- HMAC of the applicant's ID number or credit code: never the number
    applicant_hmac   TEXT NOT NULL DEFAULT '',
    lead_department  TEXT NOT NULL DEFAULT '',
    -- issuing departments of the documents plus the lead department
    departments      TEXT[] NOT NULL DEFAULT '{}',
    closed_on        DATE,
    version          BIGINT NOT NULL,
    -- the yiciban.issuance.v1.Issuance message as of `version`
    issuance         BYTEA NOT NULL
);
CREATE INDEX issuance_cases_closed ON {schema}.issuance_cases (closed_on) WHERE closed_on IS NOT NULL;

CREATE TABLE {schema}.ratings (
    rating_id   UUID PRIMARY KEY,
    case_id     UUID NOT NULL,
    score       INTEGER NOT NULL,
    real_name   BOOLEAN NOT NULL,
    department  TEXT NOT NULL,
    rated_on    DATE NOT NULL,
    invalid     BOOLEAN NOT NULL
);
CREATE INDEX ratings_rated_on ON {schema}.ratings (rated_on);

CREATE TABLE {schema}.return_visits (
    visit_id   UUID PRIMARY KEY,
    case_id    UUID NOT NULL,
    period     TEXT NOT NULL,
    sample_id  UUID NOT NULL,
    reason     TEXT NOT NULL,
    recorded   BOOLEAN NOT NULL,
    CONSTRAINT return_visits_once_a_month UNIQUE (case_id, period)
);

CREATE TABLE {schema}.sample_runs (
    idempotency_key  TEXT PRIMARY KEY,
    request_hash     TEXT NOT NULL,
    response         BYTEA NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
"#,
        ),
        (
            2,
            r#"
-- the cases closed before intake learnt of closings (issuance-handoff):
-- told to intake once by the closing back-fill, then cleared
ALTER TABLE {schema}.issuance_cases ADD COLUMN closing_backfill_due BOOLEAN NOT NULL DEFAULT false;
UPDATE {schema}.issuance_cases SET closing_backfill_due = true WHERE closed_on IS NOT NULL;
CREATE INDEX issuance_cases_backfill ON {schema}.issuance_cases (case_id) WHERE closing_backfill_due;
"#,
        ),
        (
            3,
            r#"
-- the rectification ledger (ListRectifications): one row per rectification,
-- written with the case row; the cases issued before it are flagged and
-- their rows written from the stored Issuance by the ledger back-fill
CREATE TABLE {schema}.rectifications (
    rectification_id  UUID PRIMARY KEY,
    case_id           UUID NOT NULL,
    department        TEXT NOT NULL,
    -- the yiciban.issuance.v1.RectificationState number
    state             INTEGER NOT NULL,
    closed            BOOLEAN NOT NULL,
    due_by            DATE NOT NULL
);
CREATE INDEX rectifications_open_by_due ON {schema}.rectifications (department, due_by) WHERE NOT closed;
CREATE INDEX rectifications_case ON {schema}.rectifications (case_id);
-- the ratings queue (ListRatings): valid bad ratings first, newest first
CREATE INDEX ratings_queue ON {schema}.ratings (((score <= 2 AND NOT invalid)) DESC, rated_on DESC, rating_id DESC);
ALTER TABLE {schema}.issuance_cases ADD COLUMN ledger_backfill_due BOOLEAN NOT NULL DEFAULT false;
UPDATE {schema}.issuance_cases SET ledger_backfill_due = true;
CREATE INDEX issuance_cases_ledger_backfill ON {schema}.issuance_cases (case_id) WHERE ledger_backfill_due;
"#,
        ),
    ],
};
