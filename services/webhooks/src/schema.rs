//! The webhook schema's tables: the subscriptions (with their signing
//! secrets, which no RPC returns after creation or rotation) and the dead
//! letters (with the event's bytes, for redelivery).

use yiciban_eventstore::Migrations;

/// Migrations of the webhook service's tables.
pub const WEBHOOKS: Migrations = Migrations {
    component: "webhooks",
    steps: &[(
        1,
        r#"
CREATE TABLE {schema}.subscriptions (
    subscription_id        UUID PRIMARY KEY,
    department             TEXT NOT NULL,
    url                    TEXT NOT NULL,
    description            TEXT NOT NULL DEFAULT '',
    secret                 TEXT NOT NULL,
    -- the secret before the last rotation, still signed with until then
    previous_secret        TEXT,
    previous_secret_until  TIMESTAMPTZ,
    paused                 BOOLEAN NOT NULL DEFAULT false,
    -- bumped by every change: a running delivery restarts with the new values
    revision               BIGINT NOT NULL DEFAULT 1,
    created_at             TIMESTAMPTZ NOT NULL,
    last_delivered_at      TIMESTAMPTZ
);
CREATE INDEX subscriptions_department ON {schema}.subscriptions (department);

CREATE TABLE {schema}.dead_letters (
    dead_letter_id    BIGSERIAL PRIMARY KEY,
    subscription_id   UUID NOT NULL REFERENCES {schema}.subscriptions ON DELETE CASCADE,
    event_id          TEXT NOT NULL,
    case_id           TEXT NOT NULL,
    event_type        TEXT NOT NULL,
    replay            BOOLEAN NOT NULL,
    -- the EventEnvelope as it was POSTed
    body              BYTEA NOT NULL,
    last_status       INTEGER NOT NULL,
    last_error        TEXT NOT NULL,
    attempts          INTEGER NOT NULL,
    first_attempt_at  TIMESTAMPTZ NOT NULL,
    last_attempt_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX dead_letters_subscription ON {schema}.dead_letters (subscription_id, dead_letter_id);
"#,
    )],
};
