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

    /// Sets a message aside as a dead letter after `attempts` failed
    /// deliveries: recorded beside the poison messages with the last error,
    /// and its stream's checkpoint moved past it so the stream goes on (an
    /// operator replays it once the cause is fixed). If even that cannot be
    /// stored, the error stands and the message is retried.
    pub(super) async fn give_up(
        &self,
        message: &jetstream::Message,
        attempts: u32,
        error: &ConsumerError,
    ) -> Result<Outcome, ConsumerError> {
        let reason = format!("gave up after {attempts} deliveries: {}", crate::error::error_chain(error));
        let Ok(envelope) = EventEnvelope::decode(message.payload.clone()) else {
            return self.record_undecodable(message, &reason).await;
        };
        tracing::error!(
            consumer = %self.settings.name,
            subject = %message.subject,
            event_id = %envelope.event_id,
            attempts,
            error = %reason,
            "dead letter: an event kept failing and was set aside; its stream goes on"
        );
        let seq = message.info().ok().map(|i| i.stream_sequence);
        let mut tx = self.pool.begin().await.map_err(StoreError::db("recording a dead letter"))?;
        self.insert_poison(&mut tx, &message.subject, seq, Some(&envelope), &message.payload, &reason).await?;
        sqlx::query(schema_sql(
            &self.schema,
            "INSERT INTO {schema}.consumer_checkpoints (consumer, stream_id, version) VALUES ($1, $2, $3)
             ON CONFLICT (consumer, stream_id)
             DO UPDATE SET version = GREATEST({schema}.consumer_checkpoints.version, EXCLUDED.version)",
        ))
        .bind(&self.settings.name)
        .bind(&envelope.stream_id)
        .bind(envelope.stream_version as i64)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::db("moving a checkpoint past a dead letter"))?;
        tx.commit().await.map_err(StoreError::db("recording a dead letter"))?;
        Ok(Outcome::Poisoned)
    }

    /// Poison messages not yet replayed, oldest first.
    pub async fn poison_messages(&self) -> Result<Vec<PoisonMessage>, ConsumerError> {
        let rows = sqlx::query_as::<_, PoisonMessage>(schema_sql(
            &self.schema,
            "SELECT id, consumer, subject, event_id, stream_id, stream_version, error, recorded_at
             FROM {schema}.poison_messages
             WHERE consumer = $1 AND replayed_at IS NULL AND discarded_at IS NULL ORDER BY id",
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
        let payload: Option<Vec<u8>> = sqlx::query_scalar(schema_sql(
            &self.schema,
            "SELECT payload FROM {schema}.poison_messages
             WHERE id = $1 AND consumer = $2 AND replayed_at IS NULL AND discarded_at IS NULL FOR UPDATE",
        ))
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

impl<H: Handler> Consumer<H> {
    /// Closes an open poison message without applying it: `by` decided, for
    /// `reason`. Fails, changing nothing, for a message that is not open.
    pub async fn discard_poison(&self, id: i64, by: &str, reason: &str) -> Result<(), ConsumerError> {
        let closed = sqlx::query(schema_sql(
            &self.schema,
            "UPDATE {schema}.poison_messages SET discarded_at = now(), discarded_by = $3, discard_reason = $4
              WHERE id = $1 AND consumer = $2 AND replayed_at IS NULL AND discarded_at IS NULL",
        ))
        .bind(id)
        .bind(&self.settings.name)
        .bind(by)
        .bind(reason)
        .execute(&self.pool)
        .await
        .map_err(StoreError::db("discarding a poison message"))?;
        if closed.rows_affected() == 0 {
            return Err(StoreError::Invalid(format!("no open poison message {id} for {}", self.settings.name)).into());
        }
        Ok(())
    }
}

/// What an operator does with a consumer's set-aside messages, whatever its
/// handler: listed, replayed, discarded (the service shell keeps one per
/// consumer for the OpsService).
#[async_trait::async_trait]
pub trait DeadLetters: Send + Sync {
    /// The consumer's name.
    fn consumer(&self) -> &str;
    /// Its open poison messages and dead letters, oldest first.
    async fn open(&self) -> Result<Vec<PoisonMessage>, ConsumerError>;
    /// Applies one again (after the cause was fixed); fails, changing
    /// nothing, when it still cannot be applied.
    async fn replay(&self, id: i64) -> Result<(), ConsumerError>;
    /// Closes one without applying it.
    async fn discard(&self, id: i64, by: &str, reason: &str) -> Result<(), ConsumerError>;
}

#[async_trait::async_trait]
impl<H: Handler> DeadLetters for Consumer<H> {
    fn consumer(&self) -> &str {
        &self.settings.name
    }

    async fn open(&self) -> Result<Vec<PoisonMessage>, ConsumerError> {
        self.poison_messages().await
    }

    async fn replay(&self, id: i64) -> Result<(), ConsumerError> {
        self.replay_poison(id).await
    }

    async fn discard(&self, id: i64, by: &str, reason: &str) -> Result<(), ConsumerError> {
        self.discard_poison(id, by, reason).await
    }
}
