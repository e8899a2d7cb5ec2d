//! Durable JetStream consumers for projections and process managers.
//!
//! Each event is applied inside the consumer's own Postgres transaction
//! together with the last applied version of its source stream, and the
//! message is acknowledged only after that transaction commits. So:
//! - a redelivered or re-published event (version ≤ checkpoint) is skipped;
//! - an event that arrives ahead of its predecessors (version > checkpoint+1)
//!   first gets the missing versions read from the owning store and applied in
//!   order;
//! - an event the handler cannot apply (or a message that is no event at all)
//!   is recorded in `poison_messages`, the checkpoint moves past it so the
//!   stream is not stuck, and the message is `Term`ed; an operator replays it
//!   with [`Consumer::replay_poison`] once the handler is fixed.
//!
//! Messages of different streams are applied concurrently; one stream's
//! messages always one after another, in order.
//!
//! A consumer of the case events reads them partition by partition (ADR
//! 0043, [`Feed::Partitioned`]): one durable JetStream consumer per
//! partition, the partitions shared out among the running replicas
//! ([`members`]), all their messages applied by one loop per replica (so a
//! projection's chunks stay as large as with one pull).
//!
//! Two handler kinds run differently (ADR 0007): a projection that
//! [applies batches](Handler::applies_batches) gets each pulled chunk in one
//! transaction with the chunk's checkpoints; a
//! process manager that [reacts outside transactions](Handler::reacts_outside_transactions)
//! holds no connection while it calls another service, and its checkpoints
//! are written after the calls and before the acks (a repeat after a crash
//! is harmless: the command's idempotency key returns the first result).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind};
use async_trait::async_trait;
use futures::StreamExt as _;
use prost::Message as _;
use sqlx::postgres::PgConnection;
use sqlx::{Acquire as _, PgPool};
use tokio_util::sync::CancellationToken;
use yiciban_proto::events::v1::EventEnvelope;

use crate::error::{ConsumerError, StoreError};
use crate::migrate::validate_schema_name;
use crate::sql::schema_sql;
use crate::store::EventStore;

mod batch;
pub mod members;
mod poison;
mod pulls;

pub use poison::DeadLetters;

mod process_manager;
mod react;

pub use process_manager::ProcessManager;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a handler did not apply an event.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The event can never be applied as it is (bad payload, impossible
    /// state): record it for an operator and move on.
    #[error("poison event: {0}")]
    Poison(#[source] BoxError),
    /// Something outside failed (a gRPC call, the database): try again later.
    #[error("transient failure: {0}")]
    Retry(#[source] BoxError),
}

impl HandlerError {
    pub fn poison(e: impl Into<BoxError>) -> Self {
        HandlerError::Poison(e.into())
    }
    pub fn retry(e: impl Into<BoxError>) -> Self {
        HandlerError::Retry(e.into())
    }
}

impl From<sqlx::Error> for HandlerError {
    fn from(e: sqlx::Error) -> Self {
        HandlerError::Retry(Box::new(e))
    }
}

/// Applies events to a projection or reacts to them (a process manager).
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    /// Applies one event inside the consumer's transaction `conn`. Called at
    /// most once per (stream, version) whose effect commits.
    async fn apply(&self, conn: &mut PgConnection, event: &EventEnvelope) -> Result<(), HandlerError>;

    /// True for a process manager whose only effect is a command to another
    /// service, idempotent by a key taken from the event: the consumer then
    /// calls [`Handler::react`] holding no database connection (a connection
    /// held across a call to a service that calls back would starve both
    /// pools under load), and advances the checkpoint afterwards in a short
    /// transaction of its own. A crash in between repeats the command, which
    /// its idempotency key makes harmless.
    fn reacts_outside_transactions(&self) -> bool {
        false
    }

    /// True for a projection that can apply many events in one transaction
    /// ([`Handler::apply_batch`]); the consumer then applies each pulled
    /// chunk of messages at once, keeping the per-stream checkpoints itself.
    fn applies_batches(&self) -> bool {
        false
    }

    /// Applies `events` (in delivery order, of several streams, each stream
    /// in version order without a gap, none applied before) inside `conn`.
    /// A `Poison` error makes the consumer apply the chunk again message by
    /// message, so the poison one is recorded and the others are applied.
    async fn apply_batch(&self, conn: &mut PgConnection, events: &[EventEnvelope]) -> Result<(), HandlerError> {
        for event in events {
            self.apply(conn, event).await?;
        }
        Ok(())
    }

    /// The effect of an event for a handler that
    /// [reacts outside transactions](Handler::reacts_outside_transactions).
    async fn react(&self, event: &EventEnvelope) -> Result<(), HandlerError> {
        Err(HandlerError::poison(format!("this handler applies {} only inside a transaction", event.event_type)))
    }
}

/// Reads missing versions of a stream from the store that owns it.
#[async_trait]
pub trait GapSource: Send + Sync + 'static {
    /// Versions `from..=to` of `stream_id`, owned by service `source`.
    async fn read(&self, source: &str, stream_id: &str, from: u64, to: u64) -> Result<Vec<EventEnvelope>, BoxError>;
}

/// Fills gaps by reading the owning services' event stores directly
/// (read-only; each store is named by its service).
#[derive(Debug, Clone, Default)]
pub struct StoreGaps {
    stores: HashMap<String, EventStore>,
}

impl StoreGaps {
    pub fn new(stores: impl IntoIterator<Item = EventStore>) -> Self {
        StoreGaps { stores: stores.into_iter().map(|s| (s.source().to_owned(), s)).collect() }
    }
}

#[async_trait]
impl GapSource for StoreGaps {
    async fn read(&self, source: &str, stream_id: &str, from: u64, to: u64) -> Result<Vec<EventEnvelope>, BoxError> {
        let store = self.stores.get(source).ok_or_else(|| format!("no event store is known for source {source:?}"))?;
        let events = store.read_stream_range(stream_id, from, to).await?;
        Ok(events.iter().map(|e| e.to_envelope(source)).collect())
    }
}

/// What a durable consumer reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feed {
    /// One durable JetStream consumer, named as the settings, on one subject
    /// filter (one filter: nats-server 2.9 has no multi-filter).
    Subject(String),
    /// The case events of `source` (of every source when `None`) on
    /// `subjects`' partitioned subjects: one durable JetStream consumer per
    /// partition, named [`crate::Slot::durable_name`], the partitions shared
    /// out among the running replicas; the checkpoints are kept under the
    /// settings' name (ADR 0043).
    Partitioned { subjects: crate::Subjects, source: Option<String> },
}

/// Settings of one durable consumer.
#[derive(Debug, Clone)]
pub struct ConsumerSettings {
    /// Durable consumer name (also the checkpoint key).
    pub name: String,
    /// JetStream stream to read.
    pub stream: String,
    /// What it reads.
    pub feed: Feed,
    /// Streams applied concurrently.
    pub concurrency: usize,
    /// How long JetStream waits for an ack before redelivering.
    pub ack_wait: Duration,
    /// Deliveries of a message whose handling keeps failing (a retryable
    /// error) before it is set aside as a dead letter: recorded beside the
    /// poison messages, its stream's checkpoint moved past it, terminated.
    pub max_deliveries: u32,
}

impl ConsumerSettings {
    /// Deliveries before a failing message becomes a dead letter: with the
    /// back-off (0.4 s doubling to 25.6 s) about eight minutes of trying.
    pub const DEFAULT_MAX_DELIVERIES: u32 = 25;
    /// Ack wait: short, so that a message held by a process that died comes
    /// back soon; a chunk worked on longer is kept in progress meanwhile.
    pub const DEFAULT_ACK_WAIT: Duration = Duration::from_secs(20);
}

/// What happened to one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Applied, with this many events filled in from the store first.
    Applied { filled: usize },
    /// Already applied earlier: skipped.
    Duplicate,
    /// Recorded as poison.
    Poisoned,
}

/// A poison message as an operator sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PoisonMessage {
    pub id: i64,
    pub consumer: String,
    pub subject: String,
    pub event_id: Option<String>,
    pub stream_id: Option<String>,
    pub stream_version: Option<i64>,
    pub error: String,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

/// A durable JetStream consumer applying events through a [`Handler`].
pub struct Consumer<H> {
    settings: ConsumerSettings,
    pool: PgPool,
    schema: String,
    js: jetstream::Context,
    handler: Arc<H>,
    gaps: Arc<dyn GapSource>,
    metrics: yiciban_metrics::ConsumerMetrics,
    /// Whether all its pulls are set up (it receives what JetStream delivers).
    connected: std::sync::atomic::AtomicBool,
    /// Each pull's state (set up or not) and the messages its durable
    /// consumer last said were pending, by durable consumer.
    pulls: std::sync::Mutex<HashMap<String, pulls::PullState>>,
    /// Without its pull this long, it is reported down.
    down_alert_after: Duration,
}

/// How long a consumer may stay without its pull before it is reported down.
pub const DOWN_ALERT_AFTER: Duration = Duration::from_secs(30);

impl<H> std::fmt::Debug for Consumer<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer").field("settings", &self.settings).field("schema", &self.schema).finish()
    }
}

impl<H: Handler> Consumer<H> {
    /// A consumer keeping its checkpoints and poison messages in `schema`
    /// (migrated with [`crate::migrate::EVENT_STORE`]).
    pub fn new(
        settings: ConsumerSettings,
        pool: PgPool,
        schema: &str,
        js: jetstream::Context,
        handler: Arc<H>,
        gaps: Arc<dyn GapSource>,
    ) -> Result<Self, StoreError> {
        validate_schema_name(schema)?;
        let metrics = yiciban_metrics::ConsumerMetrics::new(&settings.name);
        Ok(Consumer {
            settings,
            pool,
            schema: schema.to_owned(),
            js,
            handler,
            gaps,
            metrics,
            connected: std::sync::atomic::AtomicBool::new(false),
            pulls: std::sync::Mutex::new(HashMap::new()),
            down_alert_after: DOWN_ALERT_AFTER,
        })
    }

    /// Waits `ack_wait` for its acks (the durable consumer is created with
    /// it) instead of the setting it was made with.
    pub fn with_ack_wait(mut self, ack_wait: Duration) -> Self {
        self.settings.ack_wait = ack_wait;
        self
    }

    /// Reports the consumer down after `after` without its pull instead of
    /// [`DOWN_ALERT_AFTER`] (tests).
    pub fn with_down_alert_after(mut self, after: Duration) -> Self {
        self.down_alert_after = after;
        self
    }

    /// The durable consumer's name.
    pub fn name(&self) -> &str {
        &self.settings.name
    }

    fn js_err(&self, what: &'static str) -> impl FnOnce(BoxError) -> ConsumerError + '_ {
        move |source| ConsumerError::JetStream { consumer: self.settings.name.clone(), what, source }
    }

    /// A process manager (ADR 0004): the durable consumer `name` over the
    /// events of the service that owns `store`, keeping its checkpoints in
    /// that service's schema and filling gaps from that same store.
    pub fn of_own_events(
        name: &str,
        store: &EventStore,
        subjects: &crate::Subjects,
        js: jetstream::Context,
        handler: Arc<H>,
    ) -> Result<Self, StoreError> {
        let settings = ConsumerSettings {
            name: name.to_owned(),
            stream: subjects.stream_name(),
            feed: Feed::Partitioned { subjects: subjects.clone(), source: Some(store.source().to_owned()) },
            concurrency: 16,
            ack_wait: ConsumerSettings::DEFAULT_ACK_WAIT,
            max_deliveries: ConsumerSettings::DEFAULT_MAX_DELIVERIES,
        };
        let gaps = Arc::new(StoreGaps::new([store.clone()]));
        Self::new(settings, store.pool().clone(), store.schema(), js, handler, gaps)
    }

    /// Runs until `shutdown`, applying messages as they arrive.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), ConsumerError> {
        Arc::new(self).run_shared(shutdown).await
    }

    /// [`Consumer::run`] for a consumer shared with others (an operator's
    /// desk replaying its dead letters).
    pub async fn run_shared(self: Arc<Self>, shutdown: CancellationToken) -> Result<(), ConsumerError> {
        self.run_supervised(shutdown, |_| {}).await
    }

    /// [`Consumer::run_shared`], telling `down` `Some(for_how_long)` once
    /// the consumer has been without its pull for [`DOWN_ALERT_AFTER`] (or
    /// what [`Consumer::with_down_alert_after`] set)
    /// (NATS away, the stream gone) and `None` when it has it again (health,
    /// alerts).
    pub async fn run_supervised(
        self: Arc<Self>,
        shutdown: CancellationToken,
        down: impl Fn(Option<Duration>) + Send + Sync + 'static,
    ) -> Result<(), ConsumerError> {
        let watched = self.clone();
        let stop = shutdown.child_token();
        let _stop_watching = stop.clone().drop_guard();
        tokio::spawn(async move {
            let (mut lost_at, mut reported) = (None::<tokio::time::Instant>, false);
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    _ = tick.tick() => {}
                }
                if watched.connected.load(std::sync::atomic::Ordering::SeqCst) {
                    lost_at = None;
                    if reported {
                        reported = false;
                        down(None);
                    }
                    continue;
                }
                let since = *lost_at.get_or_insert_with(tokio::time::Instant::now);
                if !reported && since.elapsed() >= watched.down_alert_after {
                    reported = true;
                    down(Some(since.elapsed()));
                }
            }
        });
        self.run_feed(shutdown).await
    }

    /// Applies one pulled chunk of messages (of any of its pulls): a
    /// projection's in one transaction, a process manager's reactions
    /// outside transactions, else message by message, streams concurrently.
    async fn handle_chunk(self: &Arc<Self>, chunk: Vec<jetstream::Message>) {
        let mut by_stream: Vec<Vec<jetstream::Message>> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for message in chunk {
            let key = message
                .headers
                .as_ref()
                .and_then(|h| h.get(crate::relay::HEADER_STREAM_ID))
                .map(|v| v.to_string())
                .unwrap_or_default();
            let slot = *index.entry(key).or_insert_with(|| {
                by_stream.push(Vec::new());
                by_stream.len() - 1
            });
            by_stream[slot].push(message);
        }
        // While the chunk is worked on, JetStream hears it is in progress,
        // so the ack wait can stay short (a message held by a process that
        // died comes back soon) however long the chunk's calls take.
        let _in_progress = self.keep_in_progress(by_stream.iter().flatten().cloned().collect());
        let by_stream = match self.handler.applies_batches() {
            true => match self.apply_chunk(by_stream).await {
                None => return,
                Some(message_by_message) => message_by_message,
            },
            false => by_stream,
        };
        if self.handler.reacts_outside_transactions() {
            self.react_chunk(by_stream).await;
            return;
        }
        let this = self.clone();
        futures::stream::iter(by_stream)
            .for_each_concurrent(self.settings.concurrency.max(1), |group| {
                let this = this.clone();
                async move {
                    for message in group {
                        this.handle_message(message).await;
                    }
                }
            })
            .await;
    }

    /// Tells JetStream every third of the ack wait that `messages` are in
    /// progress, until the returned guard is dropped (acks already sent make
    /// the extra signals harmless).
    fn keep_in_progress(&self, messages: Vec<jetstream::Message>) -> tokio_util::sync::DropGuard {
        let stop = CancellationToken::new();
        let every = (self.settings.ack_wait / 3).max(Duration::from_millis(100));
        let until = stop.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = until.cancelled() => return,
                    () = tokio::time::sleep(every) => {}
                }
                for message in &messages {
                    let _ = message.ack_with(AckKind::Progress).await;
                }
            }
        });
        stop.drop_guard()
    }

    /// Applies one message and acknowledges it as its outcome says.
    async fn handle_message(&self, message: jetstream::Message) {
        let result = match EventEnvelope::decode(message.payload.clone()) {
            Ok(envelope) if !envelope.stream_id.is_empty() && envelope.stream_version > 0 => {
                let span = tracing::info_span!(
                    "apply event",
                    consumer = %self.settings.name,
                    event_type = %envelope.event_type,
                    case_id = %envelope.case_id,
                );
                crate::trace::set_parent_from_headers(&span, message.headers.as_ref());
                tracing::Instrument::instrument(self.process(&envelope, &message.subject), span).await
            }
            Ok(_) => self.record_undecodable(&message, "the envelope names no stream or version").await,
            Err(e) => self.record_undecodable(&message, &format!("not an EventEnvelope: {e}")).await,
        };
        self.finish(message, result).await;
    }

    /// Records a message's outcome in the metrics and acknowledges it as the
    /// outcome says (ack, term for poison, nak with back-off for a retry).
    async fn finish(&self, message: jetstream::Message, result: Result<Outcome, ConsumerError>) {
        if let Ok(info) = message.info() {
            self.metrics.pending(self.note_pending(info.consumer, info.pending));
            let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0) as i128;
            let lag = (now - info.published.unix_timestamp_nanos()).max(0);
            self.metrics.lag(Duration::from_nanos(u64::try_from(lag).unwrap_or(u64::MAX)));
        }
        self.metrics.handled(match &result {
            Ok(Outcome::Poisoned) => yiciban_metrics::Outcome::Poisoned,
            Ok(Outcome::Duplicate) => yiciban_metrics::Outcome::Duplicate,
            Ok(_) => yiciban_metrics::Outcome::Applied,
            Err(_) => yiciban_metrics::Outcome::Retried,
        });
        let attempt = message.info().map(|i| i.delivered).unwrap_or(1).max(1) as u32;
        let result = match result {
            Err(e) if attempt >= self.settings.max_deliveries.max(1) => self.give_up(&message, attempt, &e).await,
            other => other,
        };
        let ack = match result {
            Ok(Outcome::Poisoned) => AckKind::Term,
            Ok(_) => AckKind::Ack,
            Err(e) => {
                let delay = Duration::from_millis(200 * 2u64.pow(attempt.min(7)));
                let error = crate::error::error_chain(&e);
                // Which event, on which subject (the subject names the case),
                // and why: an operator must be able to find it.
                let event_id = message
                    .headers
                    .as_ref()
                    .and_then(|h| h.get("Nats-Msg-Id"))
                    .map(|v| v.as_str().to_owned())
                    .unwrap_or_default();
                tracing::warn!(
                    consumer = %self.settings.name,
                    subject = %message.subject,
                    event_id = %event_id,
                    %error,
                    attempt,
                    "event not applied; will retry"
                );
                AckKind::Nak(Some(delay))
            }
        };
        if let Err(e) = message.ack_with(ack).await {
            // A lost ack means a redelivery, which the checkpoint makes harmless.
            tracing::debug!(error = %e, "ack not sent");
        }
    }

    /// Applies `envelope` (and any gap before it) with its checkpoint in one
    /// transaction. Public so tests and replays can drive it without NATS.
    pub async fn process(&self, envelope: &EventEnvelope, subject: &str) -> Result<Outcome, ConsumerError> {
        if self.handler.reacts_outside_transactions() {
            return self.react(envelope, subject).await;
        }
        match self.process_attempt(envelope, subject, false).await? {
            Attempt::Done(outcome) => Ok(outcome),
            // A poison event inside the batch: redo it with a savepoint per
            // event so the others still commit.
            Attempt::HitPoison => match self.process_attempt(envelope, subject, true).await? {
                Attempt::Done(outcome) => Ok(outcome),
                Attempt::HitPoison => unreachable!("isolated attempts record poison instead"),
            },
        }
    }

    async fn process_attempt(
        &self,
        envelope: &EventEnvelope,
        subject: &str,
        isolate: bool,
    ) -> Result<Attempt, ConsumerError> {
        let s = &self.schema;
        let name = &self.settings.name;
        let mut tx = self.pool.begin().await.map_err(StoreError::db("starting a consumer transaction"))?;
        sqlx::query(schema_sql(s,
            "INSERT INTO {schema}.consumer_checkpoints (consumer, stream_id, version) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING"))
        .bind(name)
        .bind(&envelope.stream_id)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::db("creating a checkpoint"))?;
        let last: i64 = sqlx::query_scalar(schema_sql(
            s,
            "SELECT version FROM {schema}.consumer_checkpoints WHERE consumer = $1 AND stream_id = $2 FOR UPDATE",
        ))
        .bind(name)
        .bind(&envelope.stream_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::db("reading a checkpoint"))?;
        let last = last as u64;
        if envelope.stream_version <= last {
            return Ok(Attempt::Done(Outcome::Duplicate));
        }
        let mut batch = Vec::new();
        if envelope.stream_version > last + 1 {
            batch = self.fill_gap(envelope, last).await?;
        }
        let filled = batch.len();
        batch.push(envelope.clone());
        let mut poisoned_current = false;
        for event in &batch {
            let result = if isolate {
                let mut sp = tx.begin().await.map_err(StoreError::db("starting a savepoint"))?;
                let r = self.handler.apply(&mut sp, event).await;
                if r.is_ok() {
                    sp.commit().await.map_err(StoreError::db("releasing a savepoint"))?;
                }
                r
            } else {
                self.handler.apply(&mut tx, event).await
            };
            match result {
                Ok(()) => {}
                Err(HandlerError::Retry(e)) => return Err(ConsumerError::Handler(e)),
                Err(HandlerError::Poison(e)) if isolate => {
                    tracing::error!(consumer = %name, event_id = %event.event_id, error = %e, "poison event recorded");
                    self.insert_poison(&mut tx, subject, None, Some(event), &event.encode_to_vec(), &e.to_string())
                        .await?;
                    poisoned_current |= event.event_id == envelope.event_id;
                }
                Err(HandlerError::Poison(_)) => return Ok(Attempt::HitPoison),
            }
        }
        sqlx::query(schema_sql(
            s,
            "UPDATE {schema}.consumer_checkpoints SET version = $3 WHERE consumer = $1 AND stream_id = $2",
        ))
        .bind(name)
        .bind(&envelope.stream_id)
        .bind(envelope.stream_version as i64)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::db("advancing a checkpoint"))?;
        tx.commit().await.map_err(StoreError::db("committing a consumer transaction"))?;
        Ok(Attempt::Done(if poisoned_current { Outcome::Poisoned } else { Outcome::Applied { filled } }))
    }

    /// Versions `last+1 .. envelope's` of the envelope's stream, from its owning store.
    async fn fill_gap(&self, envelope: &EventEnvelope, last: u64) -> Result<Vec<EventEnvelope>, ConsumerError> {
        let missing = self
            .gaps
            .read(&envelope.source, &envelope.stream_id, last + 1, envelope.stream_version - 1)
            .await
            .map_err(|source| ConsumerError::GapFill { stream: envelope.stream_id.clone(), source })?;
        let contiguous = missing.iter().enumerate().all(|(i, e)| e.stream_version == last + 1 + i as u64)
            && missing.len() as u64 == envelope.stream_version - last - 1;
        if !contiguous {
            return Err(ConsumerError::GapFill {
                stream: envelope.stream_id.clone(),
                source: format!(
                    "the owning store returned {} of versions {}..={}",
                    missing.len(),
                    last + 1,
                    envelope.stream_version - 1
                )
                .into(),
            });
        }
        Ok(missing)
    }
}

enum Attempt {
    Done(Outcome),
    HitPoison,
}

#[cfg(test)]
mod error_chain_tests {
    use super::*;
    use crate::error::error_chain;

    #[test]
    fn a_cause_is_named_once_and_repeats_are_left_out() {
        let inner: Box<dyn std::error::Error + Send + Sync> = "GetCase at intake: Unavailable".into();
        let wrapped = ConsumerError::Handler(Box::new(ConsumerError::Handler(inner)));
        assert_eq!(error_chain(&wrapped), "the handler could not apply the event: GetCase at intake: Unavailable");
    }
}
