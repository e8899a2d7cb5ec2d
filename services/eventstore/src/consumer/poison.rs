//! Poison messages: recorded for an operator, listed, and replayed once the
//! handler is fixed.

use async_nats::jetstream;
use prost::Message as _;
use sqlx::postgres::PgConnection;
use yiciban_proto::events::v1::EventEnvelope;

use super::{Consumer, Handler, Outcome, PoisonMessage};
use crate::error::{ConsumerError, StoreError};
use crate::sql::schema_sql;

impl<H: Handler> Consumer<H> {
    pub(super) async fn insert_poison(
        &self,
        conn: &mut PgConnection,
        subject: &str,
        nats_sequence: Option<u64>,
        event: Option<&EventEnvelope>,
        payload: &[u8],
        error: &str,
    ) -> Result<(), ConsumerError> {
        sqlx::query(schema_sql(&self.schema,
            "INSERT INTO {schema}.poison_messages (consumer, subject, nats_sequence, event_id, stream_id, stream_version, payload, error)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"))
        .bind(&self.settings.name)
        .bind(subject)
        .bind(nats_sequence.map(|s| s as i64))
        .bind(event.map(|e| e.event_id.clone()))
        .bind(event.map(|e| e.stream_id.clone()))
        .bind(event.map(|e| e.stream_version as i64))
        .bind(payload)
        .bind(error)
        .execute(conn)
        .await
        .map_err(StoreError::db("recording a poison message"))?;
        Ok(())
    }

    pub(super) async fn record_undecodable(
        &self,
        message: &jetstream::Message,
        error: &str,
    ) -> Result<Outcome, ConsumerError> {
        tracing::error!(consumer = %self.settings.name, subject = %message.subject, error, "poison message recorded");
        let seq = message.info().ok().map(|i| i.stream_sequence);
        let mut conn = self.pool.acquire().await.map_err(StoreError::db("recording a poison message"))?;
        self.insert_poison(&mut conn, &message.subject, seq, None, &message.payload, error).await?;
        Ok(Outcome::Poisoned)
    }

    /// Poison messages not yet replayed, oldest first.
    pub async fn poison_messages(&self) -> Result<Vec<PoisonMessage>, ConsumerError> {
        let rows = sqlx::query_as::<_, PoisonMessage>(schema_sql(
            &self.schema,
            "SELECT id, consumer, subject, event_id, stream_id, stream_version, error, recorded_at
             FROM {schema}.poison_messages WHERE consumer = $1 AND replayed_at IS NULL ORDER BY id",
        ))
        .bind(&self.settings.name)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::db("listing poison messages"))?;
        Ok(rows)
    }

    /// Applies a recorded poison event again (after the handler was fixed) and
    /// marks it replayed. Fails, changing nothing, if it is still poison.
    pub async fn replay_poison(&self, id: i64) -> Result<(), ConsumerError> {
        let mut tx = self.pool.begin().await.map_err(StoreError::db("starting a replay"))?;
        let payload: Option<Vec<u8>> = sqlx::query_scalar(schema_sql(&self.schema,
            "SELECT payload FROM {schema}.poison_messages WHERE id = $1 AND consumer = $2 AND replayed_at IS NULL FOR UPDATE"))
        .bind(id)
        .bind(&self.settings.name)
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::db("reading a poison message"))?;
        let payload = payload
            .ok_or_else(|| StoreError::Invalid(format!("no open poison message {id} for {}", self.settings.name)))?;
        let envelope = EventEnvelope::decode(payload.as_slice()).map_err(|e| {
            StoreError::Invalid(format!("poison message {id} is not an event and cannot be replayed: {e}"))
        })?;
        self.handler.apply(&mut tx, &envelope).await.map_err(|e| ConsumerError::Handler(e.into()))?;
        sqlx::query(schema_sql(&self.schema, "UPDATE {schema}.poison_messages SET replayed_at = now() WHERE id = $1"))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::db("marking a poison message replayed"))?;
        tx.commit().await.map_err(StoreError::db("committing a replay"))?;
        Ok(())
    }
}
