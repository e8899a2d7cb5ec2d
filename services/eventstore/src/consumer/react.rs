//! A process manager's chunk of messages reacted to outside transactions
//! ([`Handler::reacts_outside_transactions`]).

use std::collections::HashMap;
use std::sync::Arc;

use async_nats::jetstream;
use futures::StreamExt as _;
use prost::Message as _;
use yiciban_proto::events::v1::EventEnvelope;

use super::{Consumer, Handler, HandlerError, Outcome};
use crate::error::{ConsumerError, StoreError};
use crate::sql::schema_sql;

/// What reacting to one stream's messages of a chunk did.
struct GroupReaction {
    stream: String,
    /// The checkpoint before and after.
    from: u64,
    to: u64,
    outcomes: Vec<(jetstream::Message, Result<Outcome, ConsumerError>)>,
}

impl<H: Handler> Consumer<H> {
    /// Reacts to a chunk of messages ([`Handler::reacts_outside_transactions`]):
    /// the checkpoints of its streams read in one query, each stream's
    /// messages reacted to in order (streams concurrently), the advanced
    /// checkpoints written in one statement, then the messages acknowledged.
    pub(super) async fn react_chunk(self: &Arc<Self>, by_stream: Vec<Vec<jetstream::Message>>) {
        let mut groups: Vec<Vec<(jetstream::Message, EventEnvelope)>> = Vec::new();
        for group in by_stream {
            let mut decoded = Vec::with_capacity(group.len());
            for message in group {
                match EventEnvelope::decode(message.payload.clone()) {
                    Ok(e) if !e.stream_id.is_empty() && e.stream_version > 0 => decoded.push((message, e)),
                    Ok(_) => {
                        let outcome =
                            self.record_undecodable(&message, "the envelope names no stream or version").await;
                        self.finish(message, outcome).await;
                    }
                    Err(e) => {
                        let outcome = self.record_undecodable(&message, &format!("not an EventEnvelope: {e}")).await;
                        self.finish(message, outcome).await;
                    }
                }
            }
            if !decoded.is_empty() {
                groups.push(decoded);
            }
        }
        let streams: Vec<String> = groups.iter().map(|g| g[0].1.stream_id.clone()).collect();
        let last: HashMap<String, u64> = match sqlx::query_as::<_, (String, i64)>(schema_sql(
            &self.schema,
            "SELECT stream_id, version FROM {schema}.consumer_checkpoints WHERE consumer = $1 AND stream_id = ANY($2)",
        ))
        .bind(&self.settings.name)
        .bind(&streams)
        .fetch_all(&self.pool)
        .await
        {
            Ok(rows) => rows.into_iter().map(|(id, v)| (id, v as u64)).collect(),
            Err(e) => {
                tracing::warn!(consumer = %self.settings.name, error = %e, "checkpoints unreadable; will retry");
                for (message, _) in groups.into_iter().flatten() {
                    self.finish(message, Err(ConsumerError::Handler(format!("reading checkpoints: {e}").into()))).await;
                }
                return;
            }
        };
        let last = Arc::new(last);
        let reacted: Vec<GroupReaction> = futures::stream::iter(groups)
            .map(|group| {
                let (this, last) = (self.clone(), last.clone());
                async move { this.react_group(group, &last).await }
            })
            .buffer_unordered(self.settings.concurrency.max(1))
            .collect()
            .await;
        let (ids, versions): (Vec<String>, Vec<i64>) =
            reacted.iter().filter(|g| g.to > g.from).map(|g| (g.stream.clone(), g.to as i64)).unzip();
        let written = if ids.is_empty() {
            Ok(())
        } else {
            let s = &self.schema;
            sqlx::query(schema_sql(
                s,
                "INSERT INTO {schema}.consumer_checkpoints (consumer, stream_id, version)
                 SELECT $1, id, v FROM unnest($2::text[], $3::bigint[]) AS n(id, v) ORDER BY id
                 ON CONFLICT (consumer, stream_id) DO UPDATE
                 SET version = GREATEST({schema}.consumer_checkpoints.version, excluded.version)",
            ))
            .bind(&self.settings.name)
            .bind(&ids)
            .bind(&versions)
            .execute(&self.pool)
            .await
            .map(|_| ())
        };
        for group in reacted {
            for (message, outcome) in group.outcomes {
                // Reacted but not recorded: a redelivery reacts again, which the command's key makes harmless.
                let outcome = match &written {
                    Ok(()) => outcome,
                    Err(e) => Err(ConsumerError::Handler(format!("advancing checkpoints: {e}").into())),
                };
                self.finish(message, outcome).await;
            }
        }
    }

    /// One stream's messages of a chunk, in order, from checkpoint `last`.
    async fn react_group(
        &self,
        group: Vec<(jetstream::Message, EventEnvelope)>,
        last: &HashMap<String, u64>,
    ) -> GroupReaction {
        let stream = group[0].1.stream_id.clone();
        let from = last.get(&stream).copied().unwrap_or(0);
        let mut at = from;
        let mut outcomes = Vec::with_capacity(group.len());
        let mut failed: Option<String> = None;
        for (message, envelope) in group {
            if let Some(reason) = &failed {
                // An earlier version of the stream failed: this one waits for it.
                outcomes.push((message, Err(ConsumerError::Handler(reason.clone().into()))));
                continue;
            }
            if envelope.stream_version <= at {
                outcomes.push((message, Ok(Outcome::Duplicate)));
                continue;
            }
            let span = tracing::info_span!(
                "apply event",
                consumer = %self.settings.name,
                event_type = %envelope.event_type,
                case_id = %envelope.case_id,
            );
            crate::trace::set_parent_from_headers(&span, message.headers.as_ref());
            let subject = message.subject.to_string();
            let result = tracing::Instrument::instrument(self.react_from(&envelope, &subject, at), span).await;
            match result {
                Ok(outcome) => {
                    at = envelope.stream_version;
                    outcomes.push((message, Ok(outcome)));
                }
                Err(e) => {
                    failed = Some(e.to_string());
                    outcomes.push((message, Err(e)));
                }
            }
        }
        GroupReaction { stream, from, to: at, outcomes }
    }

    /// [`Consumer::process`] for a handler reacting outside transactions:
    /// checkpoint read, gap filled and events reacted to without holding a
    /// connection; poison recorded per event; the checkpoint advanced last
    /// (never backwards).
    pub(super) async fn react(&self, envelope: &EventEnvelope, subject: &str) -> Result<Outcome, ConsumerError> {
        let s = &self.schema;
        let name = &self.settings.name;
        let last: Option<i64> = sqlx::query_scalar(schema_sql(
            s,
            "SELECT version FROM {schema}.consumer_checkpoints WHERE consumer = $1 AND stream_id = $2",
        ))
        .bind(name)
        .bind(&envelope.stream_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::db("reading a checkpoint"))?;
        let outcome = self.react_from(envelope, subject, last.unwrap_or(0) as u64).await?;
        if outcome == Outcome::Duplicate {
            return Ok(outcome);
        }
        sqlx::query(schema_sql(s,
            "INSERT INTO {schema}.consumer_checkpoints (consumer, stream_id, version) VALUES ($1, $2, $3)
             ON CONFLICT (consumer, stream_id) DO UPDATE SET version = GREATEST({schema}.consumer_checkpoints.version, $3)"))
        .bind(name)
        .bind(&envelope.stream_id)
        .bind(envelope.stream_version as i64)
        .execute(&self.pool)
        .await
        .map_err(StoreError::db("advancing a checkpoint"))?;
        Ok(outcome)
    }

    /// Reacts to `envelope` (and the versions missing since checkpoint
    /// `last`) without writing the checkpoint; poison is recorded per event.
    async fn react_from(&self, envelope: &EventEnvelope, subject: &str, last: u64) -> Result<Outcome, ConsumerError> {
        let name = &self.settings.name;
        if envelope.stream_version <= last {
            return Ok(Outcome::Duplicate);
        }
        let mut batch = Vec::new();
        if envelope.stream_version > last + 1 {
            batch = self.fill_gap(envelope, last).await?;
        }
        let filled = batch.len();
        batch.push(envelope.clone());
        let mut poisoned_current = false;
        for event in &batch {
            match self.handler.react(event).await {
                Ok(()) => {}
                Err(HandlerError::Retry(e)) => return Err(ConsumerError::Handler(e)),
                Err(HandlerError::Poison(e)) => {
                    tracing::error!(consumer = %name, event_id = %event.event_id, error = %e, "poison event recorded");
                    let mut conn = self.pool.acquire().await.map_err(StoreError::db("recording a poison message"))?;
                    self.insert_poison(&mut conn, subject, None, Some(event), &event.encode_to_vec(), &e.to_string())
                        .await?;
                    poisoned_current |= event.event_id == envelope.event_id;
                }
            }
        }
        Ok(if poisoned_current { Outcome::Poisoned } else { Outcome::Applied { filled } })
    }
}
