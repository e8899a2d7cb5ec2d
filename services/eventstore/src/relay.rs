//! The outbox relay: publishes every appended event to NATS JetStream with
//! `Nats-Msg-Id` = event id and the command's W3C trace context in the
//! headers, awaits JetStream's ack, and only then deletes the outbox row.
//!
//! Killed between the ack and the delete, the next relay publishes the same
//! event again and JetStream drops it as a duplicate (inside the stream's
//! duplicate window; consumers are idempotent beyond it). One relay per
//! schema is active at a time (a Postgres advisory lock), so replicas can run
//! side by side and the publication order of a stream is its version order.
//! Postgres is the ledger: any range of positions can be re-published.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{self, context::PublishAckFuture};
use futures::future::join_all;
use prost::Message as _;
use sqlx::Connection as _;
use sqlx::postgres::PgConnection;
use tokio_util::sync::CancellationToken;

use crate::error::{RelayError, StoreError};
use crate::model::StoredEvent;
use crate::sql::schema_sql;
use crate::store::EventStore;
use crate::subjects::{StreamSettings, Subjects};

/// Header naming the event type (so filters need not decode the payload).
pub const HEADER_EVENT_TYPE: &str = "Yiciban-Event-Type";
/// Header naming the stream id.
pub const HEADER_STREAM_ID: &str = "Yiciban-Stream-Id";
/// Header with the stream version.
pub const HEADER_STREAM_VERSION: &str = "Yiciban-Stream-Version";

/// How often the relay counts its backlog for the metrics.
const BACKLOG_GAUGE_EVERY: Duration = Duration::from_secs(1);

/// Tuning of the relay.
#[derive(Debug, Clone)]
pub struct RelaySettings {
    /// Events published per round trip.
    pub batch_size: i64,
    /// How long to wait for a commit of this process before looking anyway
    /// (events appended by other replicas are found then).
    pub idle_poll: Duration,
    /// The JetStream stream's durability settings.
    pub stream: StreamSettings,
    /// How long the relay may be down (being started again) before its
    /// supervisor reports it ([`Relay::run_supervised`]); 30 s.
    pub down_alert_after: Duration,
}

impl Default for RelaySettings {
    fn default() -> Self {
        RelaySettings {
            batch_size: 256,
            idle_poll: Duration::from_millis(50),
            stream: StreamSettings::default(),
            down_alert_after: Duration::from_secs(30),
        }
    }
}

/// Counters of a relay, for metrics.
#[derive(Debug, Default)]
pub struct RelayStats {
    /// Events acknowledged by JetStream.
    pub published: AtomicU64,
    /// Of those, how many JetStream reported as duplicates.
    pub duplicates: AtomicU64,
}

/// How often the relay makes sure the connection holding its lock is alive.
const LOCK_CHECK_EVERY: Duration = Duration::from_secs(5);
/// How often the supervisor looks at when the relay last did its work.
const LIVENESS_CHECK_EVERY: Duration = Duration::from_secs(1);

/// Publishes one service's outbox to JetStream.
#[derive(Clone)]
pub struct Relay {
    store: EventStore,
    js: jetstream::Context,
    subjects: Subjects,
    settings: RelaySettings,
    stats: Arc<RelayStats>,
    crash_after_ack: Arc<AtomicBool>,
    metrics: yiciban_metrics::OutboxMetrics,
    /// When the relay last did its work: published a batch, found nothing
    /// to publish, or stood by while another replica held the lock. A relay
    /// retrying a failing batch (NATS away mid-run) is not doing its work,
    /// even though it has not stopped.
    worked_at: Arc<Mutex<tokio::time::Instant>>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay").field("store", &self.store).field("subjects", &self.subjects).finish()
    }
}

impl Relay {
    pub fn new(store: EventStore, js: jetstream::Context, subjects: Subjects, settings: RelaySettings) -> Self {
        let metrics = yiciban_metrics::OutboxMetrics::new(store.source());
        Relay {
            store,
            js,
            subjects,
            settings,
            stats: Arc::default(),
            crash_after_ack: Arc::default(),
            metrics,
            worked_at: Arc::new(Mutex::new(tokio::time::Instant::now())),
        }
    }

    /// The relay did its work just now.
    fn worked(&self) {
        *self.worked_at.lock().expect("relay liveness lock") = tokio::time::Instant::now();
    }

    /// Reports a change of "down" to `down` (and the gauge): down once the
    /// relay has not done its work for `down_alert_after`.
    fn look_alive(&self, down: &impl Fn(Option<Duration>), reported: &mut bool) {
        let idle = self.worked_at.lock().expect("relay liveness lock").elapsed();
        let is_down = idle >= self.settings.down_alert_after;
        if is_down != *reported {
            *reported = is_down;
            self.metrics.up(!is_down);
            down(is_down.then_some(idle));
        }
    }

    /// Fault injection for crash tests: the next batch stops after JetStream
    /// acknowledged it and before the outbox rows are deleted, as if the
    /// process had been killed there.
    #[doc(hidden)]
    pub fn crash_after_ack_before_mark(&self) {
        self.crash_after_ack.store(true, Ordering::SeqCst);
    }

    pub fn stats(&self) -> Arc<RelayStats> {
        self.stats.clone()
    }

    /// Creates the JetStream stream if it is absent (an existing one is used
    /// as it is). A refusal is tried again a few times, with a growing pause,
    /// before it fails the start: a server can refuse a stream for a moment
    /// (nats-server 2.9 removes an account's storage directory when its last
    /// stream goes and briefly fails to create the next one).
    pub async fn ensure_stream(&self) -> Result<(), RelayError> {
        const ATTEMPTS: u32 = 5;
        let config = self.settings.stream.config(&self.subjects);
        let name = config.name.clone();
        let mut attempt = 1;
        loop {
            match self.js.get_or_create_stream(config.clone()).await {
                Ok(_) => return Ok(()),
                Err(e) if attempt < ATTEMPTS => {
                    tracing::warn!(stream = %name, attempt, error = %e, "JetStream refused the stream; trying again");
                    tokio::time::sleep(std::time::Duration::from_millis(100 * u64::from(attempt))).await;
                    attempt += 1;
                }
                Err(e) => return Err(RelayError::EnsureStream { stream: name, source: Box::new(e) }),
            }
        }
    }

    pub(crate) fn store(&self) -> &EventStore {
        &self.store
    }

    /// The store's database.
    pub fn pool(&self) -> &sqlx::PgPool {
        self.store.pool()
    }

    /// The store's schema.
    pub fn schema(&self) -> &str {
        self.store.schema()
    }

    pub(crate) fn jetstream(&self) -> &jetstream::Context {
        &self.js
    }

    pub(crate) fn subjects(&self) -> &Subjects {
        &self.subjects
    }

    /// How long the stream keeps a message.
    pub(crate) fn stream_max_age(&self) -> Duration {
        self.settings.stream.max_age
    }

    /// Publishes `events` again (the reconciler's repair).
    pub(crate) async fn publish_again(&self, events: &[StoredEvent]) -> Result<(), RelayError> {
        for chunk in events.chunks(usize::try_from(self.settings.batch_size).unwrap_or(256).max(1)) {
            self.publish_all(chunk).await.map_err(|(_, e)| e)?;
        }
        Ok(())
    }

    /// Whether the case-event stream is gone although this store published
    /// events to it — said loudly (an operator must know the broker lost
    /// data), before the relay creates it again.
    async fn stream_lost(&self) -> Result<bool, RelayError> {
        let name = self.subjects.stream_name();
        let missing = match self.js.get_stream(&name).await {
            Ok(_) => false,
            Err(e) => stream_not_found(&e),
        };
        if !missing {
            return Ok(false);
        }
        let published: bool = sqlx::query_scalar(schema_sql(
            self.store.schema(),
            "SELECT EXISTS (SELECT 1 FROM {schema}.events e
                             WHERE NOT EXISTS (SELECT 1 FROM {schema}.outbox o WHERE o.position = e.position))",
        ))
        .fetch_one(self.store.pool())
        .await
        .map_err(StoreError::db("looking for published events"))?;
        if published {
            tracing::error!(stream = %name, source = self.store.source(),
                "the case-event stream is gone although events were published to it: creating it again and publishing the store again");
            yiciban_metrics::reconcile_found(self.store.source(), "stream_missing", 1);
        }
        Ok(published)
    }

    /// Number of events waiting in the outbox.
    pub async fn backlog(&self) -> Result<i64, RelayError> {
        let n: i64 = sqlx::query_scalar(schema_sql(self.store.schema(), "SELECT count(*) FROM {schema}.outbox"))
            .fetch_one(self.store.pool())
            .await
            .map_err(StoreError::db("counting the outbox"))?;
        Ok(n)
    }

    /// Publishes one batch of the outbox; returns how many events it published.
    #[tracing::instrument(skip_all, fields(schema = %self.store.schema()), err(level = "warn"))]
    pub async fn relay_once(&self) -> Result<usize, RelayError> {
        let schema = self.store.schema();
        let positions: Vec<i64> =
            sqlx::query_scalar(schema_sql(schema, "SELECT position FROM {schema}.outbox ORDER BY position LIMIT $1"))
                .bind(self.settings.batch_size)
                .fetch_all(self.store.pool())
                .await
                .map_err(StoreError::db("reading the outbox"))?;
        if positions.is_empty() {
            return Ok(0);
        }
        let events = self.store.read_listed(&positions).await?;
        let acked = self.publish_all(&events).await;
        if self.crash_after_ack.swap(false, Ordering::SeqCst) {
            return Err(RelayError::InjectedCrash("after ack, before mark"));
        }
        let (done, failure) = match acked {
            Ok(()) => (events.iter().map(|e| e.position).collect::<Vec<_>>(), None),
            Err((done, e)) => (done, Some(e)),
        };
        let now = chrono::Utc::now();
        for e in events.iter().filter(|e| done.contains(&e.position)) {
            self.metrics.published(&e.event_type, (now - e.recorded_at).to_std().unwrap_or_default());
        }
        self.metrics.relayed(done.len() as u64);
        sqlx::query(schema_sql(schema, "DELETE FROM {schema}.outbox WHERE position = ANY($1)"))
            .bind(&done)
            .execute(self.store.pool())
            .await
            .map_err(StoreError::db("marking events published"))?;
        match failure {
            Some(e) => Err(e),
            None => Ok(done.len()),
        }
    }

    /// Publishes the events in order and awaits every ack. On failure returns
    /// the positions that were acknowledged and the first error.
    async fn publish_all(&self, events: &[StoredEvent]) -> Result<(), (Vec<i64>, RelayError)> {
        let mut pending: Vec<(i64, uuid::Uuid, String, PublishAckFuture)> = Vec::with_capacity(events.len());
        let mut error = None;
        for event in events {
            let subject = self.subjects.event(
                event.subject_department(),
                self.store.source(),
                &event.metadata.case_id,
                &event.event_type,
            );
            let payload = event.to_envelope(self.store.source()).encode_to_vec();
            match self.js.publish_with_headers(subject.clone(), headers_for(event), payload.into()).await {
                Ok(fut) => pending.push((event.position, event.event_id, subject, fut)),
                Err(e) => {
                    error = Some(RelayError::Publish { event_id: event.event_id, subject, source: Box::new(e) });
                    break;
                }
            }
        }
        let results =
            join_all(pending.into_iter().map(|(pos, id, subject, fut)| async move { (pos, id, subject, fut.await) }))
                .await;
        let mut done = Vec::with_capacity(results.len());
        for (pos, event_id, subject, result) in results {
            match result {
                Ok(ack) => {
                    self.stats.published.fetch_add(1, Ordering::Relaxed);
                    if ack.duplicate {
                        self.stats.duplicates.fetch_add(1, Ordering::Relaxed);
                    }
                    done.push(pos);
                }
                Err(e) => {
                    if error.is_none() {
                        error = Some(RelayError::Publish { event_id, subject, source: Box::new(e) });
                    }
                }
            }
        }
        match error {
            None => Ok(()),
            Some(e) => Err((done, e)),
        }
    }

    /// Re-publishes every stored event with a position in `from..=to`
    /// (creating the JetStream stream first if it is gone); returns how many.
    /// Consumers converge: they apply each stream version once.
    #[tracing::instrument(skip(self), err)]
    pub async fn republish_range(&self, from: i64, to: i64) -> Result<u64, RelayError> {
        self.ensure_stream().await?;
        let mut next = from;
        let mut count = 0u64;
        loop {
            let events = self.store.read_positions(next, to, self.settings.batch_size).await?;
            let Some(last) = events.last() else { break };
            next = last.position + 1;
            self.publish_all(&events).await.map_err(|(_, e)| e)?;
            count += events.len() as u64;
        }
        Ok(count)
    }

    /// Runs until `shutdown`: waits to become the schema's active relay, then
    /// publishes after every append this process commits (the store wakes
    /// it; no `NOTIFY`, whose commit-time lock would serialise every
    /// appending transaction of the database) and every `idle_poll` anyway.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), RelayError> {
        let schema = self.store.schema().to_owned();
        let options = self.store.pool().connect_options();
        // The lock lives as long as this dedicated connection.
        let lock_conn = loop {
            let mut conn =
                PgConnection::connect_with(&options).await.map_err(StoreError::db("connecting for the relay lock"))?;
            let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext($1))")
                .bind(format!("yiciban-relay-{schema}"))
                .fetch_one(&mut conn)
                .await
                .map_err(StoreError::db("taking the relay lock"))?;
            if got {
                break conn;
            }
            // Standing by while another replica publishes is this one's work.
            self.worked();
            drop(conn);
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
        };
        tracing::info!(%schema, "outbox relay active");
        let mut lock_conn = lock_conn;
        let lost = self.stream_lost().await?;
        self.ensure_stream().await?;
        if lost {
            // Everything the stream held is gone: publish the retention window again.
            let until = chrono::Utc::now();
            let since = until - chrono::Duration::from_std(self.stream_max_age()).unwrap_or_default();
            match self.reconcile(since, until).await {
                Ok(r) => {
                    tracing::warn!(republished = r.republished, cases = r.short_cases, "the store was published again")
                }
                Err(e) => tracing::error!(error = %e, "publishing the store again failed; the reconciler tries again"),
            }
        }
        let mut failures = 0u32;
        let mut gauged = tokio::time::Instant::now() - BACKLOG_GAUGE_EVERY;
        let mut lock_checked = tokio::time::Instant::now();
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            // The lock lives with its connection: if that is gone, another
            // relay may be publishing already — stop, and let the supervisor
            // take the lock again.
            if lock_checked.elapsed() >= LOCK_CHECK_EVERY {
                lock_conn.ping().await.map_err(RelayError::LockLost)?;
                lock_checked = tokio::time::Instant::now();
            }
            if gauged.elapsed() >= BACKLOG_GAUGE_EVERY
                && let Ok(backlog) = self.backlog().await
            {
                gauged = tokio::time::Instant::now();
                self.metrics.backlog(u64::try_from(backlog).unwrap_or(0));
            }
            match self.relay_once().await {
                Ok(n) if n as i64 >= self.settings.batch_size => {
                    self.worked();
                    failures = 0;
                    continue;
                }
                Ok(_) => {
                    self.worked();
                    failures = 0;
                }
                Err(e) => {
                    failures += 1;
                    tracing::warn!(error = %e, failures, "relay batch failed; retrying");
                    let backoff = Duration::from_millis(100 * 2u64.pow(failures.min(6)));
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    if matches!(e, RelayError::Publish { .. }) {
                        // The stream may have been deleted under us.
                        let _ = self.ensure_stream().await;
                    }
                    continue;
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = self.store.appended() => {}
                _ = tokio::time::sleep(self.settings.idle_poll) => {}
            }
        }
        let _ = lock_conn.close().await;
        Ok(())
    }

    /// Runs the relay until `shutdown`, starting it again after any failure
    /// (the database or NATS away, the stream refused, the lock lost) with a
    /// back-off from 1 s doubling up to 30 s, so that a transient fault never
    /// ends publishing for good. Only an injected crash (tests) ends it.
    ///
    /// `down` hears `Some(for_how_long)` once the relay has not done its
    /// work (see `worked_at`) for `settings.down_alert_after` — whether it
    /// is being started again or retrying a batch that keeps failing — and
    /// `None` when it works again (health, alerts); the `yiciban_relay_up`
    /// gauge follows.
    pub async fn run_supervised(
        self,
        shutdown: CancellationToken,
        down: impl Fn(Option<Duration>) + Send + Sync,
    ) -> Result<(), RelayError> {
        let mut backoff = Duration::from_secs(1);
        let mut reported = false;
        let mut look = tokio::time::interval(LIVENESS_CHECK_EVERY);
        loop {
            let started = tokio::time::Instant::now();
            if !reported {
                self.metrics.up(true);
            }
            let run = self.clone().run(shutdown.clone());
            tokio::pin!(run);
            let result = loop {
                tokio::select! {
                    result = &mut run => break result,
                    _ = look.tick() => self.look_alive(&down, &mut reported),
                }
            };
            match result {
                Ok(()) => return Ok(()),
                Err(e @ RelayError::InjectedCrash(_)) => return Err(e),
                Err(e) => {
                    self.metrics.up(false);
                    if started.elapsed() > Duration::from_secs(60) {
                        backoff = Duration::from_secs(1);
                    }
                    let error = crate::error_chain(&e);
                    tracing::error!(schema = %self.store.schema(), %error, ?backoff, "the outbox relay stopped; starting it again");
                    let pause = tokio::time::sleep(backoff);
                    tokio::pin!(pause);
                    loop {
                        tokio::select! {
                            _ = shutdown.cancelled() => return Ok(()),
                            _ = &mut pause => break,
                            _ = look.tick() => self.look_alive(&down, &mut reported),
                        }
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
        }
    }
}

/// The headers of `event`'s message as the relay publishes it: its id as
/// `Nats-Msg-Id`, its type, stream and version, and its trace context.
pub fn headers_for(event: &StoredEvent) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(async_nats::header::NATS_MESSAGE_ID, event.event_id.to_string().as_str());
    headers.insert(HEADER_EVENT_TYPE, event.event_type.as_str());
    headers.insert(HEADER_STREAM_ID, event.stream_id.as_str());
    headers.insert(HEADER_STREAM_VERSION, event.stream_version.to_string().as_str());
    for (k, v) in &event.metadata.trace {
        headers.insert(k.as_str(), v.as_str());
    }
    headers
}

/// Whether JetStream answered that the stream does not exist (rather than
/// not answering at all).
pub(crate) fn stream_not_found(e: &async_nats::jetstream::context::GetStreamError) -> bool {
    matches!(e.kind(), async_nats::jetstream::context::GetStreamErrorKind::JetStream(j)
        if j.error_code() == async_nats::jetstream::ErrorCode::STREAM_NOT_FOUND)
}
