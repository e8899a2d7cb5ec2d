//! The append-only event store of one service schema.
//!
//! # Commit-safe global order
//! Positions come from an identity column, so they are handed out at insert
//! time, not at commit time: a transaction can take position 10, stay open,
//! and commit after position 11 is already visible. A reader that checkpoints
//! on "last position seen" would skip 10 for ever. We therefore store the id
//! of the writing transaction (`tx_id`) with every event and read in
//! `(tx_id, position)` order, only rows whose `tx_id` is below the `xmin` of
//! the reader's snapshot: every transaction below `xmin` has finished
//! (committed or rolled back), so no row can appear later behind the
//! checkpoint. We chose this over serialising appends with a global lock
//! because appends to different cases must not wait on each other (the
//! benchmark's throughput depends on it); the price is that a long-open
//! writer holds readers back, which is the correct behaviour.
//!
//! Within one stream, `(tx_id, position)` order must agree with version
//! order. An append takes its transaction id first and refuses (as a version
//! conflict) to write behind a head event written by a younger transaction;
//! the retry gets a younger id.

use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, Row, SqlStr, Transaction};
use uuid::Uuid;

use crate::error::StoreError;
use crate::migrate::validate_schema_name;
use crate::model::{
    AppendOutcome, Checkpoint, EventMetadata, ExpectedVersion, IdempotencyRecord, NewEvent, StoredEvent,
};
use crate::sql::schema_sql;
use crate::upcast::Upcasters;

/// How often `append` retries internally for [`ExpectedVersion::Any`].
const ANY_VERSION_RETRIES: usize = 8;

/// The event store of one service: its schema in Postgres.
#[derive(Clone)]
pub struct EventStore {
    pool: PgPool,
    schema: String,
    source: String,
    upcasters: Upcasters,
    sql: std::sync::Arc<Sql>,
    /// Wakes this process's outbox relay after a commit (see [`EventStore::commit`]).
    appended: std::sync::Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for EventStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStore").field("schema", &self.schema).field("source", &self.source).finish()
    }
}

/// The store's SQL, with the schema name filled in once.
struct Sql {
    append: SqlStr,
    version: SqlStr,
    idem_lookup: SqlStr,
    keys_lookup: SqlStr,
    read_stream: SqlStr,
    read_stream_and_keys: SqlStr,
    read_all: SqlStr,
    read_range: SqlStr,
    read_case: SqlStr,
    read_listed: SqlStr,
}

/// `SELECT <the columns of a stored event> FROM {schema}.events <rest>`.
macro_rules! select_events {
    ($rest:literal) => {
        concat!(
            "SELECT position, tx_id, event_id, stream_id, stream_version, event_type, schema_version, department, \
             lead_department, payload, metadata, recorded_at FROM {schema}.events ",
            $rest
        )
    };
}

impl Sql {
    fn new(s: &str) -> Sql {
        Sql {
            // One statement: the transaction id (see the module docs) and
            // the stream head; if the expected version matches and no
            // younger transaction wrote the head, the idempotency key; if
            // the key is new, the events (versions after the head) and their
            // outbox rows. Returns the head version, whether it matched,
            // whether the key was new, and the positions written.
            append: schema_sql(
                s,
                "WITH me AS MATERIALIZED (SELECT pg_current_xact_id()::text::bigint AS xid),
                 head AS MATERIALIZED (
                     SELECT coalesce(h.stream_version, 0) AS version, coalesce(h.tx_id, 0) AS tx_id
                     FROM (SELECT 1) one LEFT JOIN LATERAL (
                         SELECT stream_version, tx_id FROM {schema}.events WHERE stream_id = $1
                         ORDER BY stream_version DESC LIMIT 1) h ON TRUE),
                 ok AS MATERIALIZED (
                     SELECT head.version FROM head, me
                     WHERE ($2 < 0 OR head.version = $2) AND head.tx_id <= me.xid),
                 fresh AS (
                     INSERT INTO {schema}.idempotency_keys (key, request_hash, response)
                     SELECT $10, $11, $12 FROM ok WHERE $10::text IS NOT NULL
                     ON CONFLICT (key) DO NOTHING RETURNING key),
                 inserted AS (
                     INSERT INTO {schema}.events (event_id, stream_id, stream_version, case_id, event_type, schema_version, department, lead_department, payload, metadata)
                     SELECT e.id, $1, ok.version + e.n, $4, e.event_type, e.schema_version, e.department, e.lead_department, e.payload, $9
                     FROM ok, UNNEST($3::uuid[], $5::text[], $6::int[], $7::text[], $13::text[], $8::bytea[])
                         WITH ORDINALITY AS e (id, event_type, schema_version, department, lead_department, payload, n)
                     WHERE $10::text IS NULL OR EXISTS (SELECT FROM fresh)
                     ORDER BY e.n
                     RETURNING position),
                 queued AS (INSERT INTO {schema}.outbox (position) SELECT position FROM inserted)
                 SELECT (SELECT version FROM head), EXISTS (SELECT FROM ok),
                        $10::text IS NULL OR EXISTS (SELECT FROM fresh),
                        ARRAY(SELECT position FROM inserted ORDER BY position)"
            ),
            version: schema_sql(
                s,
                "SELECT stream_version FROM {schema}.events WHERE stream_id = $1 ORDER BY stream_version DESC LIMIT 1"
            ),
            idem_lookup: schema_sql(s, "SELECT request_hash, response FROM {schema}.idempotency_keys WHERE key = $1"),
            keys_lookup: schema_sql(
                s,
                "SELECT key, request_hash, response FROM {schema}.idempotency_keys WHERE key = ANY($1)"
            ),
            read_stream: schema_sql(s, select_events!("WHERE stream_id = $1 AND stream_version >= $2 AND stream_version <= $3 ORDER BY stream_version")),
            // A command's one read (see `read_stream_and_keys`): the
            // stream's events, then the rows of its idempotency keys, told
            // apart by `idem_key`.
            read_stream_and_keys: schema_sql(
                s,
                "SELECT position, tx_id, event_id, stream_id, stream_version, event_type, schema_version, department,
                        lead_department, payload, metadata, recorded_at,
                        NULL::text AS idem_key, NULL::text AS request_hash, NULL::bytea AS response
                 FROM {schema}.events WHERE stream_id = $1
                 UNION ALL
                 SELECT NULL::bigint, NULL::bigint, NULL::uuid, NULL::text, NULL::bigint, NULL::text, NULL::int,
                        NULL::text, NULL::text, NULL::bytea, NULL::jsonb, NULL::timestamptz,
                        key, request_hash, response
                 FROM {schema}.idempotency_keys WHERE key = ANY($2)
                 ORDER BY stream_version NULLS LAST"
            ),
            read_all: schema_sql(s, select_events!("WHERE (tx_id, position) > ($1, $2)
                   AND tx_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
                 ORDER BY tx_id, position LIMIT $3")),
            read_range: schema_sql(s, select_events!("WHERE position >= $1 AND position <= $2 ORDER BY position LIMIT $3")),
            read_case: schema_sql(s, select_events!("WHERE case_id = $1 ORDER BY tx_id, position")),
            read_listed: schema_sql(s, select_events!("WHERE position = ANY($1) ORDER BY position")),
        }
    }
}

/// Postgres' unique-violation SQLSTATE.
const UNIQUE_VIOLATION: &str = "23505";

impl EventStore {
    /// A store on `schema` (already migrated with [`crate::migrate::EVENT_STORE`])
    /// owned by the service named `source` (e.g. "intake").
    pub fn new(pool: PgPool, schema: &str, source: &str) -> Result<Self, StoreError> {
        validate_schema_name(schema)?;
        Ok(EventStore {
            pool,
            schema: schema.to_owned(),
            source: source.to_owned(),
            upcasters: Upcasters::new(),
            sql: std::sync::Arc::new(Sql::new(schema)),
            appended: std::sync::Arc::default(),
        })
    }

    /// Registers the upcasters applied when events are read back.
    pub fn with_upcasters(mut self, upcasters: Upcasters) -> Self {
        self.upcasters = upcasters;
        self
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The owning service's name, as in `EventEnvelope.source`.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Looks up an idempotency key before deciding a command: `Ok(Some(response))`
    /// when the same request was already handled, `Ok(None)` when the key is
    /// new, [`StoreError::IdempotencyKeyReused`] when it was used for another request.
    pub async fn lookup_idempotency(&self, key: &str, request_hash: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row: Option<(String, Vec<u8>)> = sqlx::query_as(self.sql.idem_lookup.clone())
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::db("looking up an idempotency key"))?;
        match row {
            None => Ok(None),
            Some((hash, response)) if hash == request_hash => Ok(Some(response)),
            Some(_) => Err(StoreError::IdempotencyKeyReused { key: key.to_owned() }),
        }
    }

    /// The rows of those of `keys` that are stored, in one round trip (a
    /// client's key is looked up under its namespaced and its legacy name
    /// at once).
    pub async fn lookup_keys(&self, keys: &[&str]) -> Result<Vec<IdempotencyRecord>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<(String, String, Vec<u8>)> = sqlx::query_as(self.sql.keys_lookup.clone())
            .bind(keys)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::db("looking up idempotency keys"))?;
        Ok(rows
            .into_iter()
            .map(|(key, request_hash, response)| IdempotencyRecord { key, request_hash, response })
            .collect())
    }

    /// A command's read, in one round trip: every event of `stream_id`
    /// (upcast, in version order) and the rows of those of `keys` that are
    /// stored — what the command runner needs to tell a replay from a new
    /// request and to decide a new one.
    pub async fn read_stream_and_keys(
        &self,
        stream_id: &str,
        keys: &[&str],
    ) -> Result<(Vec<StoredEvent>, Vec<IdempotencyRecord>), StoreError> {
        let rows = sqlx::query(self.sql.read_stream_and_keys.clone())
            .bind(stream_id)
            .bind(keys)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::db("reading a stream and its idempotency keys"))?;
        let mut events = Vec::with_capacity(rows.len());
        let mut stored = Vec::new();
        for row in &rows {
            match row.get::<Option<String>, _>("idem_key") {
                Some(key) => stored.push(IdempotencyRecord {
                    key,
                    request_hash: row.get("request_hash"),
                    response: row.get("response"),
                }),
                None => events.push(self.decode(row)?),
            }
        }
        Ok((events, stored))
    }

    /// Stores an idempotency key in the caller's transaction, for a command
    /// that records no events here (its own tables only). `false` when the
    /// key is already taken: the caller must roll back and look it up again
    /// ([`EventStore::lookup_idempotency`]) — a concurrent retry won.
    pub async fn remember_in(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        record: &IdempotencyRecord,
    ) -> Result<bool, sqlx::Error> {
        let stored = sqlx::query(schema_sql(
            &self.schema,
            "INSERT INTO {schema}.idempotency_keys (key, request_hash, response) VALUES ($1, $2, $3)
             ON CONFLICT (key) DO NOTHING",
        ))
        .bind(&record.key)
        .bind(&record.request_hash)
        .bind(&record.response)
        .execute(&mut **tx)
        .await?;
        Ok(stored.rows_affected() == 1)
    }

    /// Appends `events` to `stream_id` if it is at `expected`, with their
    /// outbox rows and the idempotency key, in one transaction.
    #[tracing::instrument(skip_all, fields(stream = %stream_id, events = events.len()), err(level = "debug"))]
    pub async fn append(
        &self,
        stream_id: &str,
        expected: ExpectedVersion,
        events: &[NewEvent],
        metadata: &EventMetadata,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<AppendOutcome, StoreError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let mut tx = self.pool.begin().await.map_err(StoreError::db("starting an append"))?;
            match self.append_in(&mut tx, stream_id, expected, events, metadata, idempotency).await {
                Ok(AppendOutcome::Appended { version, positions }) => match self.commit(tx).await {
                    Ok(()) => return Ok(AppendOutcome::Appended { version, positions }),
                    Err(e) => return Err(StoreError::db("committing an append")(e)),
                },
                Ok(replayed) => return Ok(replayed),
                Err(StoreError::VersionConflict { .. })
                    if expected == ExpectedVersion::Any && attempts < ANY_VERSION_RETRIES =>
                {
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Commits a transaction that appended with [`EventStore::append_in`] and
    /// wakes this process's outbox relay, which then publishes at once
    /// (another process's relay finds the events at its next poll).
    pub async fn commit(&self, tx: Transaction<'_, Postgres>) -> Result<(), sqlx::Error> {
        tx.commit().await?;
        self.appended.notify_one();
        Ok(())
    }

    /// Resolves when this process committed an append since the last call
    /// (the relay's wake-up).
    pub async fn appended(&self) {
        self.appended.notified().await;
    }

    /// Appends inside the caller's transaction, so a service can write its own
    /// tables atomically with its events; commit it with
    /// [`EventStore::commit`]. On [`AppendOutcome::Replayed`] and on error the
    /// caller must roll back.
    pub async fn append_in(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        stream_id: &str,
        expected: ExpectedVersion,
        events: &[NewEvent],
        metadata: &EventMetadata,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<AppendOutcome, StoreError> {
        if stream_id.is_empty() {
            return Err(StoreError::Invalid("the stream id is empty".into()));
        }
        if events.is_empty() {
            return Err(StoreError::Invalid(format!("nothing to append to {stream_id}")));
        }
        let expected_version: i64 = match expected {
            ExpectedVersion::NoStream => 0,
            ExpectedVersion::Exact(v) => v as i64,
            ExpectedVersion::Any => -1,
        };
        let metadata_json = serde_json::to_value(metadata).expect("metadata serialises");
        let ids: Vec<Uuid> = events.iter().map(|e| e.event_id).collect();
        let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        let schema_versions: Vec<i32> = events.iter().map(|e| e.schema_version as i32).collect();
        let departments: Vec<Option<&str>> = events.iter().map(|e| e.department.as_deref()).collect();
        let leads: Vec<Option<&str>> = events.iter().map(|e| e.lead_department.as_deref()).collect();
        let payloads: Vec<&[u8]> = events.iter().map(|e| e.payload.as_slice()).collect();
        let appended = sqlx::query_as::<_, (i64, bool, bool, Vec<i64>)>(self.sql.append.clone())
            .bind(stream_id)
            .bind(expected_version)
            .bind(&ids)
            .bind(metadata.case_id)
            .bind(&types)
            .bind(&schema_versions)
            .bind(&departments)
            .bind(&payloads)
            .bind(&metadata_json)
            .bind(idempotency.map(|i| i.key.as_str()))
            .bind(idempotency.map(|i| i.request_hash.as_str()))
            .bind(idempotency.map(|i| i.response.as_slice()))
            .bind(&leads)
            .fetch_one(&mut **tx)
            .await;
        let (actual, version_ok, key_fresh, positions) = match appended {
            Ok((actual, version_ok, key_fresh, positions)) => (actual as u64, version_ok, key_fresh, positions),
            Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some(UNIQUE_VIOLATION) => {
                if db.constraint() == Some("events_stream_version_key") {
                    // A concurrent append took the version first.
                    let actual = self.stream_version(stream_id).await.unwrap_or_default();
                    return Err(StoreError::VersionConflict { stream: stream_id.to_owned(), expected, actual });
                }
                return Err(StoreError::Invalid(format!(
                    "an event id of this append is already stored ({})",
                    db.message()
                )));
            }
            Err(e) => return Err(StoreError::db("appending events")(e)),
        };
        if !version_ok {
            return Err(StoreError::VersionConflict { stream: stream_id.to_owned(), expected, actual });
        }
        if let Some(idem) = idempotency.filter(|_| !key_fresh) {
            // Another request with this key committed first: report what it did.
            let row: Option<(String, Vec<u8>)> = sqlx::query_as(self.sql.idem_lookup.clone())
                .bind(&idem.key)
                .fetch_optional(&mut **tx)
                .await
                .map_err(StoreError::db("reading the idempotency key"))?;
            return match row {
                Some((hash, response)) if hash == idem.request_hash => Ok(AppendOutcome::Replayed { response }),
                _ => Err(StoreError::IdempotencyKeyReused { key: idem.key.clone() }),
            };
        }
        Ok(AppendOutcome::Appended { version: actual + events.len() as u64, positions })
    }

    /// Reads the events of a stream from `from_version` (1-based) on, upcast.
    pub async fn read_stream(&self, stream_id: &str, from_version: u64) -> Result<Vec<StoredEvent>, StoreError> {
        self.read_stream_range(stream_id, from_version, u64::MAX >> 1).await
    }

    /// Reads versions `from..=to` of a stream, upcast.
    pub async fn read_stream_range(&self, stream_id: &str, from: u64, to: u64) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(self.sql.read_stream.clone())
            .bind(stream_id)
            .bind(from.max(1) as i64)
            .bind(to.min(i64::MAX as u64) as i64)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::db("reading a stream"))?;
        rows.iter().map(|r| self.decode(r)).collect()
    }

    /// The current version of a stream (0 when it has no events).
    pub async fn stream_version(&self, stream_id: &str) -> Result<u64, StoreError> {
        let head: Option<i64> = sqlx::query_scalar(self.sql.version.clone())
            .bind(stream_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::db("reading the stream head"))?;
        Ok(head.unwrap_or(0) as u64)
    }

    /// Reads up to `limit` events after `after`, in commit-safe order: an event
    /// whose transaction is still open is never returned and never skipped; it
    /// is returned by a later call once its transaction has committed.
    pub async fn read_all(&self, after: Checkpoint, limit: i64) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(self.sql.read_all.clone())
            .bind(after.tx_id)
            .bind(after.position)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::db("reading all events"))?;
        rows.iter().map(|r| self.decode(r)).collect()
    }

    /// Reads events by position range (inclusive), for re-publishing.
    pub async fn read_positions(&self, from: i64, to: i64, limit: i64) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(self.sql.read_range.clone())
            .bind(from)
            .bind(to)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::db("reading a position range"))?;
        rows.iter().map(|r| self.decode(r)).collect()
    }

    /// The events at exactly these positions, in position order.
    pub async fn read_listed(&self, positions: &[i64]) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(self.sql.read_listed.clone())
            .bind(positions)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::db("reading listed positions"))?;
        rows.iter().map(|r| self.decode(r)).collect()
    }

    /// Every event of one case in this store, in commit order.
    pub async fn read_case(&self, case_id: Uuid) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(self.sql.read_case.clone())
            .bind(case_id)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::db("reading a case"))?;
        rows.iter().map(|r| self.decode(r)).collect()
    }

    fn decode(&self, row: &PgRow) -> Result<StoredEvent, StoreError> {
        let event_id: Uuid = row.get("event_id");
        let event_type: String = row.get("event_type");
        let stored_version = row.get::<i32, _>("schema_version") as u32;
        let (schema_version, payload) =
            self.upcasters.upcast(&event_type, stored_version, row.get("payload")).map_err(|source| {
                StoreError::Upcast { event_id, event_type: event_type.clone(), schema_version: stored_version, source }
            })?;
        let metadata: serde_json::Value = row.get("metadata");
        let metadata = serde_json::from_value(metadata).map_err(|source| StoreError::Metadata { event_id, source })?;
        Ok(StoredEvent {
            position: row.get("position"),
            tx_id: row.get("tx_id"),
            event_id,
            stream_id: row.get("stream_id"),
            stream_version: row.get::<i64, _>("stream_version") as u64,
            event_type,
            schema_version,
            payload,
            department: row.get("department"),
            lead_department: row.get("lead_department"),
            metadata,
            recorded_at: row.get("recorded_at"),
        })
    }
}
