//! The webhook schema's tables: the subscriptions (with their signing
//! secrets, sealed, which no RPC returns after creation or rotation), the
//! dead letters (with the event's bytes, for redelivery) and the replays
//! under way (resumed after a restart).

use yiciban_eventstore::Migrations;
use yiciban_eventstore::identities::WEBHOOK_SLOTS;

// Step 2 writes the number of slots as a literal.
const _: () = assert!(WEBHOOK_SLOTS == 4, "a new step must move subscriptions past the old last slot");

/// Migrations of the webhook service's tables.
pub const WEBHOOKS: Migrations = Migrations {
    component: "webhooks",
    steps: &[
        (
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
        ),
        (
            2,
            r#"
-- the subscription's slot in its department (1 to 4): it names the consumers,
-- which the service's NATS permission lists (ADR 0022); existing
-- subscriptions take their department's slots in creation order, and any
-- past the fourth is paused without one
ALTER TABLE {schema}.subscriptions ADD COLUMN slot SMALLINT CHECK (slot BETWEEN 1 AND 4);
UPDATE {schema}.subscriptions s SET slot = n.position
  FROM (SELECT subscription_id,
               row_number() OVER (PARTITION BY department ORDER BY created_at, subscription_id) AS position
          FROM {schema}.subscriptions) n
 WHERE n.subscription_id = s.subscription_id AND n.position <= 4;
UPDATE {schema}.subscriptions SET paused = true, revision = revision + 1 WHERE slot IS NULL;
CREATE UNIQUE INDEX subscriptions_slot ON {schema}.subscriptions (department, slot);

-- the secrets sealed under the subscription's data key (yiciban-privacy,
-- the data_keys table of this schema); the service seals the clear ones
-- left by step 1 at start and empties those columns
ALTER TABLE {schema}.subscriptions ALTER COLUMN secret DROP NOT NULL;
ALTER TABLE {schema}.subscriptions ADD COLUMN secret_sealed BYTEA;
ALTER TABLE {schema}.subscriptions ADD COLUMN previous_secret_sealed BYTEA;
ALTER TABLE {schema}.subscriptions ADD CONSTRAINT subscriptions_secret_kept
  CHECK (secret IS NOT NULL OR secret_sealed IS NOT NULL);

-- the replay under way of a subscription (one at a time), resumed where it
-- stopped after a restart
CREATE TABLE {schema}.replays (
    subscription_id  UUID PRIMARY KEY REFERENCES {schema}.subscriptions ON DELETE CASCADE,
    replay_id        UUID NOT NULL,
    from_time        TIMESTAMPTZ NOT NULL,
    -- the stream's last sequence when it was asked: it ends there
    until_sequence   BIGINT NOT NULL,
    events           BIGINT NOT NULL,
    started_at       TIMESTAMPTZ NOT NULL
);
"#,
        ),
    ],
};
