//! The notifier schema's tables: the messages (one per case event that calls
//! for one, keyed by the event's id), each attempt at sending one, and the
//! local sink's inbox (development). The phone is kept masked only; the text
//! names the case by its number and nothing personal (docs/PRIVACY.md).

use yiciban_eventstore::Migrations;

/// Migrations of the notifier's tables.
pub const NOTIFIER: Migrations = Migrations {
    component: "notifier",
    steps: &[(
        1,
        r#"
CREATE TABLE {schema}.messages (
    -- the id of the case event it tells of: queued once per event
    message_id        TEXT PRIMARY KEY,
    -- the order of the list (newest first) and its page tokens
    seq               BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    case_id           UUID NOT NULL,
    -- accepted, supplement_requested, decided, ready_for_pickup, mailed
    kind              TEXT NOT NULL,
    -- what the event says that the template uses (dates, pick-up place,
    -- courier); nothing personal
    facts             JSONB NOT NULL,
    status            TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    -- when the sender may take it next (a taken one is leased past now)
    next_attempt_at   TIMESTAMPTZ NOT NULL,
    -- filled by the first attempt, from the case
    case_number       TEXT NOT NULL DEFAULT '',
    phone_masked      TEXT NOT NULL DEFAULT '',
    template          TEXT NOT NULL,
    text              TEXT NOT NULL DEFAULT '',
    gateway           TEXT NOT NULL DEFAULT '',
    last_error        TEXT NOT NULL DEFAULT '',
    created_at        TIMESTAMPTZ NOT NULL,
    first_attempt_at  TIMESTAMPTZ,
    last_attempt_at   TIMESTAMPTZ,
    sent_at           TIMESTAMPTZ
);
CREATE INDEX messages_due ON {schema}.messages (next_attempt_at) WHERE status = 'pending';
CREATE INDEX messages_case ON {schema}.messages (case_id, seq DESC);

CREATE TABLE {schema}.attempts (
    message_id  TEXT NOT NULL REFERENCES {schema}.messages ON DELETE CASCADE,
    attempt     INTEGER NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    -- sent; retry (a later attempt follows); failed (given up)
    outcome     TEXT NOT NULL CHECK (outcome IN ('sent', 'retry', 'failed')),
    error       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (message_id, attempt)
);

-- the local sink's inbox (`YICIBAN_SMS_GATEWAY=local`, development): what a
-- gateway would have received, the phone masked
CREATE TABLE {schema}.local_sink (
    message_id    TEXT PRIMARY KEY,
    phone_masked  TEXT NOT NULL,
    text          TEXT NOT NULL,
    received_at   TIMESTAMPTZ NOT NULL
);
"#,
    )],
};
