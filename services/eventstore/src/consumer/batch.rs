//! A projection's chunk of messages applied in one transaction
//! ([`Handler::applies_batches`]).

use std::collections::HashMap;

use async_nats::jetstream;
use prost::Message as _;
use yiciban_proto::events::v1::EventEnvelope;

use super::{Consumer, Handler, HandlerError, Outcome};
use crate::error::ConsumerError;
use crate::sql::schema_sql;

impl<H: Handler> Consumer<H> {
    /// Applies a chunk of messages in one transaction with their checkpoints
    /// ([`Handler::applies_batches`]) and acknowledges them. Gives the chunk
    /// back when it must be applied message by message instead (a poison
    /// event or an undecodable message in it); a transient failure naks it.
    pub(super) async fn apply_chunk(
        &self,
        by_stream: Vec<Vec<jetstream::Message>>,
    ) -> Option<Vec<Vec<jetstream::Message>>> {
        let mut envelopes = Vec::new();
        for message in by_stream.iter().flatten() {
            match EventEnvelope::decode(message.payload.clone()) {
                Ok(e) if !e.stream_id.is_empty() && e.stream_version > 0 => envelopes.push(e),
                _ => return Some(by_stream),
            }
        }
        // One span per event in the trace of the command that caused it,
        // lasting as long as the batch that applied it.
        let per_event: Vec<tracing::Span> = by_stream
            .iter()
            .flatten()
            .zip(&envelopes)
            .map(|(message, envelope)| {
                let span = tracing::info_span!(
                    "apply event",
                    consumer = %self.settings.name,
                    event_type = %envelope.event_type,
                    case_id = %envelope.case_id,
                    batch = envelopes.len(),
                );
                crate::trace::set_parent_from_headers(&span, message.headers.as_ref());
                span
            })
            .collect();
        let span = tracing::info_span!("apply events", consumer = %self.settings.name, events = envelopes.len());
        let result = tracing::Instrument::instrument(self.apply_envelopes(&envelopes), span).await;
        drop(per_event);
        let failure = match result {
            Ok(()) => None,
            Err(HandlerError::Poison(_)) => return Some(by_stream),
            Err(HandlerError::Retry(e)) => Some(e.to_string()),
        };
        for message in by_stream.into_iter().flatten() {
            let outcome = match &failure {
                None => Ok(Outcome::Applied { filled: 0 }),
                Some(e) => Err(ConsumerError::Handler(e.clone().into())),
            };
            self.finish(message, outcome).await;
        }
        None
    }

    /// Applies `envelopes` and advances their streams' checkpoints in one
    /// transaction: versions at or below a checkpoint are skipped, gaps are
    /// filled from the owning store.
    async fn apply_envelopes(&self, envelopes: &[EventEnvelope]) -> Result<(), HandlerError> {
        let s = &self.schema;
        let name = &self.settings.name;
        let mut streams: Vec<String> = envelopes.iter().map(|e| e.stream_id.clone()).collect();
        streams.sort();
        streams.dedup();
        let mut tx = self.pool.begin().await?;
        // Created and locked in stream order, so that two batches never wait on each other in a cycle.
        sqlx::query(schema_sql(
            s,
            "INSERT INTO {schema}.consumer_checkpoints (consumer, stream_id, version)
             SELECT $1, id, 0 FROM unnest($2::text[]) AS id ORDER BY id ON CONFLICT DO NOTHING",
        ))
        .bind(name)
        .bind(&streams)
        .execute(&mut *tx)
        .await?;
        let rows: Vec<(String, i64)> = sqlx::query_as(schema_sql(
            s,
            "SELECT stream_id, version FROM {schema}.consumer_checkpoints
             WHERE consumer = $1 AND stream_id = ANY($2) ORDER BY stream_id FOR UPDATE",
        ))
        .bind(name)
        .bind(&streams)
        .fetch_all(&mut *tx)
        .await?;
        let mut last: HashMap<String, u64> = rows.into_iter().map(|(id, v)| (id, v as u64)).collect();
        let mut batch = Vec::with_capacity(envelopes.len());
        for envelope in envelopes {
            let at = last.get(&envelope.stream_id).copied().unwrap_or(0);
            if envelope.stream_version <= at {
                continue;
            }
            if envelope.stream_version > at + 1 {
                batch.extend(self.fill_gap(envelope, at).await.map_err(HandlerError::retry)?);
            }
            batch.push(envelope.clone());
            last.insert(envelope.stream_id.clone(), envelope.stream_version);
        }
        if batch.is_empty() {
            return Ok(());
        }
        self.handler.apply_batch(&mut tx, &batch).await?;
        let (ids, versions): (Vec<String>, Vec<i64>) = last.into_iter().map(|(id, v)| (id, v as i64)).unzip();
        sqlx::query(schema_sql(
            s,
            "UPDATE {schema}.consumer_checkpoints c SET version = n.version
             FROM unnest($2::text[], $3::bigint[]) AS n(stream_id, version)
             WHERE c.consumer = $1 AND c.stream_id = n.stream_id AND c.version < n.version",
        ))
        .bind(name)
        .bind(&ids)
        .bind(&versions)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
