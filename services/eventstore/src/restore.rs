//! After a point-in-time restore of the ledger (docs/DEPLOY.md, runbook step
//! 7), run while every service is stopped: JetStream still holds what was
//! published after the target time, and the services' durable consumers
//! acknowledged messages up to the moment they stopped, while their
//! checkpoints came back with the database as of the target time.
//!
//! - [`orphans`] lists the messages stored from a time on whose event is in
//!   no store of the restored database (the ledger never had them);
//!   [`delete_orphans`] removes them from the stream, so that no consumer,
//!   ours or a department's, ever applies them.
//! - [`rewind_consumers`] moves the durable consumers whose checkpoints live
//!   in the restored database back to a time before the target: they receive
//!   again what they acknowledged, skip by their checkpoints what they still
//!   hold, and apply (or react to) again what the restore undid — a case
//!   waiting for the very reaction that was undone moves on. The webhook
//!   subscriptions' consumers (ADR 0022) are rewound with them: their dead
//!   letters and replays came back as of the target time, so what they set
//!   aside since is delivered (or set aside) again — receivers deduplicate by
//!   event id — and a replay the restored database records starts again
//!   from its time.
//!
//! Both read the database's schemas themselves (every schema with an
//! `events` table is a store, every schema with `consumer_checkpoints` keeps
//! consumers), so they need no service configuration.

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use chrono::{DateTime, Utc};
use futures::{StreamExt as _, TryStreamExt as _};
use sqlx::PgPool;
use uuid::Uuid;

use crate::migrate::validate_schema_name;
use crate::sql::schema_sql;
use crate::subjects::Subjects;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Messages read from JetStream per request.
const BATCH: usize = 1000;

/// What went wrong after a restore.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("the database: {what}")]
    Database {
        what: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("JetStream: {what}")]
    JetStream {
        what: &'static str,
        #[source]
        source: BoxError,
    },
}

fn js(what: &'static str) -> impl FnOnce(BoxError) -> RestoreError {
    move |source| RestoreError::JetStream { what, source }
}

pub(crate) fn db(what: &'static str) -> impl FnOnce(sqlx::Error) -> RestoreError {
    move |source| RestoreError::Database { what, source }
}

/// A message JetStream holds whose event no store has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Orphan {
    /// Its sequence in the case-event stream.
    pub sequence: u64,
    /// Its subject (department, source service, case and event type; no
    /// personal data).
    pub subject: String,
    /// The `Nats-Msg-Id` (the event id).
    pub event_id: String,
    /// When JetStream stored it.
    pub stored_at: DateTime<Utc>,
}

/// The durable consumers of the case-event stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Consumers {
    /// The services' (checkpoints in the restored database, the webhook
    /// subscriptions' live consumers): rewound; the webhook replays' started
    /// again.
    pub services: Vec<String>,
    /// With no checkpoint in this database (department systems): left alone,
    /// their owners must be told.
    pub others: Vec<String>,
}

/// The schemas of the database holding a table `table` with a column
/// `column` (and a name the SQL helpers accept).
pub(crate) async fn schemas_with(pool: &PgPool, table: &str, column: &str) -> Result<Vec<String>, RestoreError> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT table_schema::text FROM information_schema.columns
          WHERE table_name = $1 AND column_name = $2 ORDER BY 1",
    )
    .bind(table)
    .bind(column)
    .fetch_all(pool)
    .await
    .map_err(db("listing the schemas"))?;
    Ok(names.into_iter().filter(|s| validate_schema_name(s).is_ok()).collect())
}

/// The messages of the case-event stream stored from `since` on (up to its
/// last message now) whose `Nats-Msg-Id` is the id of no event in any store
/// of the database `pool` reaches. Messages without an event id are not
/// events of a store and are left out.
#[tracing::instrument(skip(pool, js), err)]
pub async fn orphans(
    pool: &PgPool,
    js: &jetstream::Context,
    subjects: &Subjects,
    since: DateTime<Utc>,
) -> Result<Vec<Orphan>, RestoreError> {
    let stores = schemas_with(pool, "events", "event_id").await?;
    orphans_among(pool, &stores, js, subjects, &format!("{}.evt.>", subjects.prefix()), since, None).await
}

/// The messages on `filter` stored from `since` on whose event is in none of
/// the `stores` (schemas). The reader is described at [`read_since`].
pub(crate) async fn orphans_among(
    pool: &PgPool,
    stores: &[String],
    js: &jetstream::Context,
    subjects: &Subjects,
    filter: &str,
    since: DateTime<Utc>,
    reader: Option<&str>,
) -> Result<Vec<Orphan>, RestoreError> {
    let held = read_since(js, subjects, filter, since, reader).await?;
    let mut known: HashSet<Uuid> = HashSet::new();
    let ids: Vec<Uuid> = held.iter().map(|h| h.id).collect();
    for schema in stores {
        for chunk in ids.chunks(10_000) {
            let found: Vec<Uuid> =
                sqlx::query_scalar(schema_sql(schema, "SELECT event_id FROM {schema}.events WHERE event_id = ANY($1)"))
                    .bind(chunk)
                    .fetch_all(pool)
                    .await
                    .map_err(db("looking the events up in the stores"))?;
            known.extend(found);
        }
    }
    Ok(held.into_iter().filter(|h| !known.contains(&h.id)).map(|h| h.message).collect())
}

/// A message read by [`read_since`].
pub struct Held {
    /// Where and when it is.
    pub message: Orphan,
    /// Its event id.
    pub id: Uuid,
    /// Its bytes (an `EventEnvelope`).
    pub payload: bytes::Bytes,
}

/// The messages on `filter` stored from `since` on, up to the stream's last
/// message now, that carry an event id (`Nats-Msg-Id`). The reader is a
/// short-lived consumer that acknowledges nothing (the stream and every
/// durable consumer are left as they are), unnamed, or named `reader` —
/// then its filter is in the API subject, which a service's NATS
/// permissions restrict to its own events (ADR 0021); a named reader left
/// over from an interrupted read is deleted first and this one after.
pub async fn read_since(
    js: &jetstream::Context,
    subjects: &Subjects,
    filter: &str,
    since: DateTime<Utc>,
    reader: Option<&str>,
) -> Result<Vec<Held>, RestoreError> {
    let mut stream =
        js.get_stream(subjects.stream_name()).await.map_err(|e| js_err("looking up the case-event stream", e))?;
    let last = stream.info().await.map_err(|e| js_err("reading the stream's state", e))?.state.last_sequence;
    let start =
        async_nats::datetime::parse_rfc3339(&since.to_rfc3339()).map_err(|e| js_err("converting the start time", e))?;
    if let Some(name) = reader {
        // Absent (the usual case) or a leftover: either way gone after this.
        let _ = stream.delete_consumer(name).await;
    }
    let named = reader;
    let reader = stream
        .create_consumer(consumer::pull::Config {
            name: named.map(str::to_owned),
            filter_subject: filter.to_owned(),
            deliver_policy: consumer::DeliverPolicy::ByStartTime { start_time: start },
            ack_policy: consumer::AckPolicy::None,
            inactive_threshold: Duration::from_secs(60),
            ..Default::default()
        })
        .await
        .map_err(|e| js_err("reading the stream from the start time", e))?;
    let mut held = Vec::new();
    'read: loop {
        let mut batch = reader
            .fetch()
            .max_messages(BATCH)
            .messages()
            .await
            .map_err(|e| js_err("reading the stream from the start time", e))?;
        let mut got = 0;
        while let Some(message) = batch.next().await {
            let message = message.map_err(|e| js_err("reading the stream from the start time", e))?;
            got += 1;
            let info = message.info().map_err(|e| js_err("reading a message's sequence", e))?;
            let (sequence, stored_at) = (info.stream_sequence, info.published.unix_timestamp_nanos());
            if sequence > last {
                break 'read;
            }
            let Some(id) = message.headers.as_ref().and_then(|h| h.get(async_nats::header::NATS_MESSAGE_ID)) else {
                continue;
            };
            let Ok(uuid) = Uuid::parse_str(id.as_str()) else { continue };
            held.push(Held {
                message: Orphan {
                    sequence,
                    subject: message.subject.to_string(),
                    event_id: id.as_str().to_owned(),
                    stored_at: DateTime::from_timestamp_nanos(i64::try_from(stored_at).unwrap_or(i64::MAX)),
                },
                id: uuid,
                payload: message.payload.clone(),
            });
            if sequence == last {
                break 'read;
            }
        }
        if got == 0 {
            break;
        }
    }
    if let Some(name) = named {
        let _ = stream.delete_consumer(name).await;
    }
    Ok(held)
}

pub(crate) fn js_err(what: &'static str, e: impl Into<BoxError>) -> RestoreError {
    js(what)(e.into())
}

/// Removes `orphans` from the case-event stream; returns how many it
/// removed (one already gone counts as removed).
#[tracing::instrument(skip_all, err)]
pub async fn delete_orphans(
    js: &jetstream::Context,
    subjects: &Subjects,
    orphans: &[Orphan],
) -> Result<usize, RestoreError> {
    delete_messages(js, subjects, orphans, "the restored ledger has no such event").await
}

/// Removes `messages` from the case-event stream, saying `why` in the log;
/// the server overwrites a deleted message's bytes. Returns how many it
/// removed (one already gone counts as removed).
pub(crate) async fn delete_messages(
    js: &jetstream::Context,
    subjects: &Subjects,
    messages: &[Orphan],
    why: &str,
) -> Result<usize, RestoreError> {
    let stream =
        js.get_stream(subjects.stream_name()).await.map_err(|e| js_err("looking up the case-event stream", e))?;
    for message in messages {
        match stream.delete_message(message.sequence).await {
            Ok(_) => {}
            // Deleted by an earlier run, or aged out meanwhile.
            Err(e) if e.to_string().contains("no message found") => {}
            Err(e) => return Err(js_err("deleting a message", e)),
        }
        tracing::warn!(sequence = message.sequence, subject = %message.subject, event_id = %message.event_id,
            "deleted from JetStream: {why}");
    }
    Ok(messages.len())
}

/// The durable consumers of the case-event stream, split into the services'
/// (checkpoints in the database `pool` reaches) and the others.
pub async fn consumers(pool: &PgPool, js: &jetstream::Context, subjects: &Subjects) -> Result<Consumers, RestoreError> {
    let mut ours: BTreeSet<String> = BTreeSet::new();
    for schema in schemas_with(pool, "consumer_checkpoints", "consumer").await? {
        let names: Vec<String> =
            sqlx::query_scalar(schema_sql(&schema, "SELECT DISTINCT consumer FROM {schema}.consumer_checkpoints"))
                .fetch_all(pool)
                .await
                .map_err(db("listing the consumers with checkpoints"))?;
        ours.extend(names);
    }
    ours.extend(webhook_consumers(pool).await?.into_iter().flat_map(|(live, replay)| [Some(live), replay]).flatten());
    let stream =
        js.get_stream(subjects.stream_name()).await.map_err(|e| js_err("looking up the case-event stream", e))?;
    let names: Vec<String> =
        stream.consumer_names().try_collect().await.map_err(|e| js_err("listing the stream's consumers", e))?;
    // A partitioned consumer's durable JetStream consumers keep their
    // checkpoints under its name (ADR 0043).
    let (services, others) = names.into_iter().partition(|n| ours.contains(crate::Slot::base_of(n)));
    Ok(Consumers { services, others })
}

/// The webhook subscriptions' consumers the restored database knows (every
/// schema whose `subscriptions` have a `slot`): each live consumer, and its
/// replay consumer when a replay is recorded.
async fn webhook_consumers(pool: &PgPool) -> Result<Vec<(String, Option<String>)>, RestoreError> {
    let mut found = Vec::new();
    for schema in schemas_with(pool, "subscriptions", "slot").await? {
        let rows: Vec<(String, i16, bool)> = sqlx::query_as(schema_sql(
            &schema,
            "SELECT s.department, s.slot, EXISTS (SELECT 1 FROM {schema}.replays r WHERE r.subscription_id = s.subscription_id)
               FROM {schema}.subscriptions s WHERE s.slot IS NOT NULL",
        ))
        .fetch_all(pool)
        .await
        .map_err(db("listing the webhook subscriptions"))?;
        for (department, slot, replaying) in rows {
            let Ok(slot) = u8::try_from(slot) else { continue };
            let replay = replaying.then(|| crate::identities::webhook_replay_consumer(&department, slot));
            found.push((crate::identities::webhook_consumer(&department, slot), replay));
        }
    }
    Ok(found)
}

/// Moves every durable consumer of the case-event stream that keeps
/// checkpoints in the database `pool` reaches back to `from`: it is deleted
/// and created again with the same configuration, delivering from the first
/// message stored at or after `from`. Run it while the services are stopped
/// (a running one would find its consumer gone and create it anew, from the
/// stream's beginning: slow, but as correct). Returns the consumers, the
/// services' ones now rewound.
#[tracing::instrument(skip(pool, js), err)]
pub async fn rewind_consumers(
    pool: &PgPool,
    js: &jetstream::Context,
    subjects: &Subjects,
    from: DateTime<Utc>,
) -> Result<Consumers, RestoreError> {
    let found = consumers(pool, js, subjects).await?;
    let stream =
        js.get_stream(subjects.stream_name()).await.map_err(|e| js_err("looking up the case-event stream", e))?;
    let start =
        async_nats::datetime::parse_rfc3339(&from.to_rfc3339()).map_err(|e| js_err("converting the rewind time", e))?;
    let replays: HashSet<String> =
        webhook_consumers(pool).await?.into_iter().filter_map(|(_, replay)| replay).collect();
    for name in found.services.iter().filter(|n| replays.contains(*n)) {
        // The webhook service makes it again from the replay's own time.
        stream.delete_consumer(name).await.map_err(|e| js_err("deleting a webhook replay's consumer", e))?;
        tracing::warn!(consumer = %name, "webhook replay started again after a restore");
    }
    for name in found.services.iter().filter(|n| !replays.contains(*n)) {
        let info = stream.consumer_info(name).await.map_err(|e| js_err("reading a consumer's configuration", e))?;
        let config = consumer::Config {
            deliver_policy: consumer::DeliverPolicy::ByStartTime { start_time: start },
            ..info.config.clone()
        };
        stream.delete_consumer(name).await.map_err(|e| js_err("deleting a consumer to rewind it", e))?;
        stream
            .create_consumer(config)
            .await
            .map_err(|e| js_err("creating a consumer again from the rewind time", e))?;
        tracing::warn!(consumer = %name, from = %from, "durable consumer rewound after a restore");
    }
    Ok(found)
}
