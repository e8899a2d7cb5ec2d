//! Schema migrations, embedded in the binaries and run at start-up. Each
//! service owns one Postgres schema; the event store's tables and the
//! service's own read-model tables are migrated into it as separate
//! components, each with its own numbered steps, under an advisory lock so
//! replicas starting together do not race.
//!
//! Each applied step is recorded with the SHA-256 of its SQL as shipped
//! (before `{schema}` is filled in). A step whose SQL no longer matches its
//! record was edited after it shipped: the migration is refused, nothing is
//! applied and the service does not start ([`StoreError::MigrationChanged`]).
//! Rows recorded before checksums existed have none; the first start of a
//! binary that checks them records its own steps' checksums for them
//! (trusting that the steps it ships are the ones that were applied) and
//! checks from then on.

use std::collections::HashMap;

use sqlx::PgPool;

use crate::sql::schema_sql;

use crate::error::StoreError;

/// A named list of migration steps (version, SQL). `{schema}` in the SQL is
/// replaced by the schema name. Steps are applied once, in order, and never
/// edited after they shipped (the runner refuses an edited step): a change
/// is a new step.
#[derive(Debug, Clone, Copy)]
pub struct Migrations {
    pub component: &'static str,
    pub steps: &'static [(i32, &'static str)],
}

/// Validates a schema name: lower-case ASCII letters, digits and `_`, starting
/// with a letter (it is interpolated into SQL, so nothing else is allowed).
pub fn validate_schema_name(schema: &str) -> Result<(), StoreError> {
    let ok = !schema.is_empty()
        && schema.len() <= 48
        && schema.starts_with(|c: char| c.is_ascii_lowercase())
        && schema.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "schema name {schema:?} must be lower-case letters, digits and '_', starting with a letter"
        )))
    }
}

/// The checksum recorded for a step: hex SHA-256 of its SQL as written in
/// the binary, before `{schema}` is filled in (so it does not depend on the
/// schema's name).
pub fn checksum(sql: &str) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(sql.as_bytes()))
}

/// Creates `schema` if needed, checks the applied steps of each component
/// against their recorded checksums (recording those not yet recorded), and
/// applies the missing steps, all in one transaction: an edited step
/// ([`StoreError::MigrationChanged`]) leaves the database as it was.
#[tracing::instrument(skip_all, fields(schema = %schema), err)]
pub async fn migrate(pool: &PgPool, schema: &str, components: &[Migrations]) -> Result<(), StoreError> {
    validate_schema_name(schema)?;
    let mut tx = pool.begin().await.map_err(StoreError::db("starting the migration"))?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(format!("yiciban-migrate-{schema}"))
        .execute(&mut *tx)
        .await
        .map_err(StoreError::db("taking the migration lock"))?;
    sqlx::query(schema_sql(schema, "CREATE SCHEMA IF NOT EXISTS {schema}"))
        .execute(&mut *tx)
        .await
        .map_err(StoreError::db("creating the schema"))?;
    sqlx::query(schema_sql(
        schema,
        "CREATE TABLE IF NOT EXISTS {schema}.schema_migrations (
            component TEXT NOT NULL,
            version INT NOT NULL,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            checksum TEXT,
            PRIMARY KEY (component, version))",
    ))
    .execute(&mut *tx)
    .await
    .map_err(StoreError::db("creating the migrations table"))?;
    // A table created before checksums were recorded gains the column; its
    // rows are filled in below.
    sqlx::query(schema_sql(schema, "ALTER TABLE {schema}.schema_migrations ADD COLUMN IF NOT EXISTS checksum TEXT"))
        .execute(&mut *tx)
        .await
        .map_err(StoreError::db("adding the checksum column"))?;
    for component in components {
        let applied: HashMap<i32, Option<String>> = sqlx::query_as(schema_sql(
            schema,
            "SELECT version, checksum FROM {schema}.schema_migrations WHERE component = $1",
        ))
        .bind(component.component)
        .fetch_all(&mut *tx)
        .await
        .map_err(StoreError::db("reading applied migrations"))?
        .into_iter()
        .collect();
        for (version, sql) in component.steps {
            let shipped = checksum(sql);
            match next_for(schema, component.component, *version, &shipped, applied.get(version))? {
                Next::Nothing => {}
                Next::RecordChecksum => {
                    tracing::info!(
                        component = component.component,
                        version,
                        "recording the checksum of a step applied before checksums were recorded"
                    );
                    sqlx::query(schema_sql(
                        schema,
                        "UPDATE {schema}.schema_migrations SET checksum = $3 WHERE component = $1 AND version = $2",
                    ))
                    .bind(component.component)
                    .bind(version)
                    .bind(&shipped)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::db("recording a migration's checksum"))?;
                }
                Next::Apply => {
                    tracing::info!(component = component.component, version, "applying migration");
                    sqlx::raw_sql(schema_sql(schema, sql))
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::db("applying a migration"))?;
                    sqlx::query(schema_sql(
                        schema,
                        "INSERT INTO {schema}.schema_migrations (component, version, checksum) VALUES ($1, $2, $3)",
                    ))
                    .bind(component.component)
                    .bind(version)
                    .bind(&shipped)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::db("recording a migration"))?;
                }
            }
        }
    }
    tx.commit().await.map_err(StoreError::db("committing the migration"))
}

/// What a step needs, from its record in `schema_migrations`.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    /// Applied with this checksum.
    Nothing,
    /// Applied before checksums were recorded.
    RecordChecksum,
    /// Not applied yet.
    Apply,
}

/// Decides a step's [`Next`] from its record (`None`: not applied;
/// `Some(None)`: applied without a checksum), or refuses a step whose
/// recorded checksum is not the `shipped` one.
fn next_for(
    schema: &str,
    component: &'static str,
    version: i32,
    shipped: &str,
    record: Option<&Option<String>>,
) -> Result<Next, StoreError> {
    match record {
        None => Ok(Next::Apply),
        Some(None) => Ok(Next::RecordChecksum),
        Some(Some(recorded)) if recorded == shipped => Ok(Next::Nothing),
        Some(Some(recorded)) => Err(StoreError::MigrationChanged {
            schema: schema.to_owned(),
            component,
            version,
            recorded: recorded.clone(),
            shipped: shipped.to_owned(),
        }),
    }
}

/// The event store's own tables: events, outbox, idempotency keys, consumer
/// checkpoints, poison messages and the consumers' members.
pub const EVENT_STORE: Migrations = Migrations {
    component: "eventstore",
    steps: &[
        (
            1,
            r#"
CREATE TABLE {schema}.events (
    position        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- id of the writing transaction: commit-safe readers order by (tx_id, position)
    tx_id           BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    event_id        UUID NOT NULL UNIQUE,
    stream_id       TEXT NOT NULL,
    stream_version  BIGINT NOT NULL CHECK (stream_version > 0),
    case_id         UUID NOT NULL,
    event_type      TEXT NOT NULL,
    schema_version  INT NOT NULL,
    department      TEXT,
    payload         BYTEA NOT NULL,
    metadata        JSONB NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version)
);
CREATE INDEX events_commit_order ON {schema}.events (tx_id, position);
CREATE INDEX events_case ON {schema}.events (case_id, position);

-- positions not yet acknowledged by JetStream
CREATE TABLE {schema}.outbox (
    position BIGINT PRIMARY KEY REFERENCES {schema}.events (position)
);

CREATE TABLE {schema}.idempotency_keys (
    key           TEXT PRIMARY KEY,
    request_hash  TEXT NOT NULL,
    response      BYTEA NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- last version of each source stream a consumer has applied
CREATE TABLE {schema}.consumer_checkpoints (
    consumer   TEXT NOT NULL,
    stream_id  TEXT NOT NULL,
    version    BIGINT NOT NULL,
    PRIMARY KEY (consumer, stream_id)
);

-- messages a consumer could not apply: kept for an operator to inspect and replay
CREATE TABLE {schema}.poison_messages (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    consumer       TEXT NOT NULL,
    subject        TEXT NOT NULL,
    nats_sequence  BIGINT,
    event_id       TEXT,
    stream_id      TEXT,
    stream_version BIGINT,
    payload        BYTEA NOT NULL,
    error          TEXT NOT NULL,
    recorded_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    replayed_at    TIMESTAMPTZ
);
CREATE INDEX poison_open ON {schema}.poison_messages (consumer) WHERE replayed_at IS NULL;
"#,
        ),
        (
            2,
            r#"
-- Idempotency keys in namespaces (issue 17): a client's key is stored as
-- client:<caller subject>:<key>, the system's own as system:<key>. Keys
-- stored before: the system's (fingerprinted by the key alone) move to
-- system:<key>; every other one (a client's, whose caller the row does not
-- name) to legacy:<key>, which only the same caller's same request replays.
UPDATE {schema}.idempotency_keys
   SET key = CASE
       WHEN request_hash = encode(sha256(convert_to(key, 'UTF8')), 'hex') THEN 'system:' || key
       ELSE 'legacy:' || key
   END
 WHERE key NOT LIKE 'system:%' AND key NOT LIKE 'client:%' AND key NOT LIKE 'legacy:%';
"#,
        ),
        (
            3,
            r#"
-- an operator may discard a poison message or dead letter instead of
-- replaying it: who, when and why are kept
ALTER TABLE {schema}.poison_messages
    ADD COLUMN discarded_at TIMESTAMPTZ,
    ADD COLUMN discarded_by TEXT,
    ADD COLUMN discard_reason TEXT;
"#,
        ),
        (
            4,
            r#"
-- the case's lead department on the case-level events it receives (issue
-- 19): the relay publishes them on the lead's subject instead of `_`
ALTER TABLE {schema}.events ADD COLUMN lead_department TEXT;
"#,
        ),
        (
            5,
            r#"
-- the running replicas of each durable consumer (issue 20, ADR 0043): each
-- says it is alive every few seconds, and the live ones share the
-- partitions of the case-event subjects between them
CREATE TABLE {schema}.consumer_members (
    consumer  TEXT NOT NULL,
    member    UUID NOT NULL,
    seen_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (consumer, member)
);
"#,
        ),
    ],
};
