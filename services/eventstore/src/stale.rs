//! Copies JetStream still holds of events the ledger has since rewritten in
//! place — the one rewrite there is: intake sealing the applications written
//! in clear before sealing (ADR 0024, `yiciban_intake::legacy`). Such a
//! message's envelope carries a payload that is not the stored event's.
//! [`stale_copies`] lists them (read like [`crate::restore::orphans`], by a
//! consumer that acknowledges nothing); [`delete_stale`] removes them, the
//! server overwriting their bytes; `casectl ops reconcile` then publishes the
//! ledger's version again (the `Nats-Msg-Id` is long past the duplicate
//! window, and every consumer skips an event it has applied).

use std::collections::HashMap;

use async_nats::jetstream;
use chrono::{DateTime, Utc};
use prost::Message as _;
use sqlx::PgPool;
use uuid::Uuid;
use yiciban_proto::events::v1::EventEnvelope;

use crate::restore::{Orphan, RestoreError, db, delete_messages, read_since, schemas_with};
use crate::sql::schema_sql;
use crate::subjects::Subjects;

/// The messages stored from `since` on whose event a store of the database
/// `pool` reaches holds with other bytes than the message carries.
#[tracing::instrument(skip(pool, js), err)]
pub async fn stale_copies(
    pool: &PgPool,
    js: &jetstream::Context,
    subjects: &Subjects,
    since: DateTime<Utc>,
) -> Result<Vec<Orphan>, RestoreError> {
    let held = read_since(js, subjects, &format!("{}.evt.>", subjects.prefix()), since, None).await?;
    let ids: Vec<Uuid> = held.iter().map(|h| h.id).collect();
    let mut stored: HashMap<Uuid, Vec<u8>> = HashMap::new();
    for schema in schemas_with(pool, "events", "event_id").await? {
        for chunk in ids.chunks(10_000) {
            let rows: Vec<(Uuid, Vec<u8>)> = sqlx::query_as(schema_sql(
                &schema,
                "SELECT event_id, payload FROM {schema}.events WHERE event_id = ANY($1)",
            ))
            .bind(chunk)
            .fetch_all(pool)
            .await
            .map_err(db("reading the stored events"))?;
            stored.extend(rows);
        }
    }
    Ok(held
        .into_iter()
        .filter(|h| {
            let Some(now) = stored.get(&h.id) else { return false };
            // A message that is not an envelope is not this rewrite's to judge.
            EventEnvelope::decode(h.payload.as_ref()).is_ok_and(|envelope| envelope.payload != *now)
        })
        .map(|h| h.message)
        .collect())
}

/// Removes `stale` from the case-event stream; returns how many it removed.
#[tracing::instrument(skip_all, err)]
pub async fn delete_stale(
    js: &jetstream::Context,
    subjects: &Subjects,
    stale: &[Orphan],
) -> Result<usize, RestoreError> {
    delete_messages(js, subjects, stale, "the ledger has rewritten this event (sealed)").await
}
