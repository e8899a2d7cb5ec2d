//! [`CommandRunner`]: the command path, written once (see the crate docs).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use prost::Message;
use sqlx::PgConnection;
use tonic::Status;
use uuid::Uuid;
use yiciban_domain::Aggregate;
use yiciban_eventstore::{
    AppendOutcome, EventMetadata, EventStore, ExpectedVersion, NewEvent, StoreError, StoredEvent,
};
use yiciban_platform::Clock;
use yiciban_platform::status::{from_store, internal};

use crate::codec::EventCodec;
use crate::idempotency::{Idempotency, decode_response};
use crate::invocation::Invocation;
use crate::refusal::refusal_status;
use crate::rows::{Change, NoRows, Rows};

/// Where a command goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// An aggregate that exists: an empty stream is `NOT_FOUND`.
    Existing(Uuid),
    /// An aggregate that may not exist yet: an empty stream is the default
    /// state, and the aggregate decides whether the command may start it.
    Open {
        /// The aggregate's id.
        id: Uuid,
        /// The case it belongs to.
        case_id: Uuid,
    },
}

impl Target {
    fn id(&self) -> Uuid {
        match self {
            Target::Existing(id) | Target::Open { id, .. } => *id,
        }
    }
}

/// An aggregate as read back from its stream.
#[derive(Debug, Clone)]
pub struct Loaded<A> {
    /// Its id.
    pub id: Uuid,
    /// Its case (from the events' metadata, or the target for a new one).
    pub case_id: Uuid,
    /// The state: every event folded in.
    pub state: A,
    /// The time of this attempt (the injected clock, read once): the time
    /// the command decides at and its events are stored under.
    pub now: DateTime<Utc>,
}

/// What to do when another writer appended to the stream between reading it
/// and appending to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictPolicy {
    /// Answer `ABORTED`: the client reads again and decides.
    Refuse,
    /// Decide again on the fresh state, up to `attempts` times in all — but
    /// only when the client pinned no version: a pinned version that moved
    /// is always `ABORTED`.
    Retry {
        /// Attempts in all, the first included.
        attempts: u32,
    },
}

impl Default for ConflictPolicy {
    fn default() -> Self {
        ConflictPolicy::Retry { attempts: 8 }
    }
}

/// What a command did, with its response.
#[derive(Debug, Clone, PartialEq)]
pub enum Executed<R> {
    /// Decided now and recorded.
    Done(R),
    /// The same request was handled before: its first response, nothing new.
    Replayed(R),
    /// Decided now, but there was nothing new to record (e.g. an outcome the
    /// aggregate holds already).
    Unchanged(R),
}

impl<R> Executed<R> {
    /// The response, whatever happened.
    pub fn into_inner(self) -> R {
        match self {
            Executed::Done(r) | Executed::Replayed(r) | Executed::Unchanged(r) => r,
        }
    }

    /// True when this call recorded events.
    pub fn recorded(&self) -> bool {
        matches!(self, Executed::Done(_))
    }
}

type Command<C> = <<C as EventCodec>::Aggregate as Aggregate>::Command;
type Event<C> = <<C as EventCodec>::Aggregate as Aggregate>::Event;
type BuildNow<'f, C> = dyn Fn(&Loaded<<C as EventCodec>::Aggregate>) -> Result<Command<C>, Status> + Send + Sync + 'f;
type BuildInTx<'f, C> = dyn for<'c> Fn(
        &'c mut PgConnection,
        &'c Loaded<<C as EventCodec>::Aggregate>,
    ) -> BoxFuture<'c, Result<Command<C>, Status>>
    + Send
    + Sync
    + 'f;
type Respond<'f, C, R> = dyn Fn(&Loaded<<C as EventCodec>::Aggregate>, &[Event<C>]) -> R + Send + Sync + 'f;

/// How the command is built from the loaded state.
enum Build<'f, C: EventCodec> {
    /// From the state alone, before the transaction starts.
    Now(&'f BuildNow<'f, C>),
    /// Inside the transaction, from facts read in it (e.g. a counter).
    InTx(&'f BuildInTx<'f, C>),
}

/// Why an attempt failed.
enum Failure {
    /// Another writer got there first: may be decided again.
    Conflict(Status),
    /// Anything else: the answer.
    Final(Status),
}

impl From<Status> for Failure {
    fn from(status: Status) -> Self {
        Failure::Final(status)
    }
}

/// Runs commands against the streams of one aggregate in one service.
pub struct CommandRunner<C: EventCodec, W = NoRows> {
    store: EventStore,
    codec: C,
    rows: W,
    clock: Arc<dyn Clock>,
    conflicts: ConflictPolicy,
}

impl<C: EventCodec, W> std::fmt::Debug for CommandRunner<C, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandRunner").field("store", &self.store).field("noun", &C::NOUN).finish_non_exhaustive()
    }
}

impl<C: EventCodec> CommandRunner<C, NoRows> {
    /// A runner over `store`, with no rows beside the streams and the
    /// default conflict policy.
    pub fn new(store: EventStore, codec: C, clock: Arc<dyn Clock>) -> Self {
        CommandRunner { store, codec, rows: NoRows, clock, conflicts: ConflictPolicy::default() }
    }
}

impl<C: EventCodec, W: Rows<C::Aggregate>> CommandRunner<C, W> {
    /// The same runner writing `rows` with every command.
    pub fn with_rows<V: Rows<C::Aggregate>>(self, rows: V) -> CommandRunner<C, V> {
        CommandRunner { store: self.store, codec: self.codec, rows, clock: self.clock, conflicts: self.conflicts }
    }

    /// The same runner with another conflict policy.
    pub fn on_conflict(mut self, policy: ConflictPolicy) -> Self {
        self.conflicts = policy;
        self
    }

    /// The event store.
    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// How the events are encoded and decoded.
    pub fn codec(&self) -> &C {
        &self.codec
    }

    /// The rows written beside the streams.
    pub fn rows(&self) -> &W {
        &self.rows
    }

    /// The aggregate `id` as its stream holds it; `None` for an empty
    /// stream. An action on an aggregate links its span to the trace in
    /// which the aggregate began.
    pub async fn load(&self, id: Uuid) -> Result<Option<Loaded<C::Aggregate>>, Status> {
        let stored = self.store.read_stream(&C::Aggregate::stream_id(id), 1).await.map_err(from_store)?;
        self.fold(id, &stored).await
    }

    /// The aggregate `id` folded from its stored events (`None` for none),
    /// with the time of this attempt.
    async fn fold(&self, id: Uuid, stored: &[StoredEvent]) -> Result<Option<Loaded<C::Aggregate>>, Status> {
        let now = self.clock.now();
        let Some(first) = stored.first() else { return Ok(None) };
        yiciban_eventstore::trace::link_current_span_to(&first.metadata.trace);
        let state = self.codec.decode_all(stored).await?.iter().fold(C::Aggregate::default(), |s, e| s.evolve(e));
        Ok(Some(Loaded { id, case_id: first.metadata.case_id, state, now }))
    }

    /// Like [`CommandRunner::load`]; `NOT_FOUND` for an empty stream.
    pub async fn load_existing(&self, id: Uuid) -> Result<Loaded<C::Aggregate>, Status> {
        self.load(id).await?.ok_or_else(|| not_found::<C>(id))
    }

    /// The target as `stored` holds it: `NOT_FOUND` for an empty stream of
    /// an [`Target::Existing`] one, the default state for a new
    /// [`Target::Open`] one.
    async fn target_from(&self, target: Target, stored: &[StoredEvent]) -> Result<Loaded<C::Aggregate>, Status> {
        match (target, self.fold(target.id(), stored).await?) {
            (_, Some(loaded)) => Ok(loaded),
            (Target::Existing(id), None) => Err(not_found::<C>(id)),
            (Target::Open { id, case_id }, None) => {
                Ok(Loaded { id, case_id, state: C::Aggregate::default(), now: self.clock.now() })
            }
        }
    }

    /// Runs the command `command` builds from the loaded state (it may
    /// authorise against the state and carry facts computed from it) and
    /// answers with `respond` on the state after it.
    pub async fn run<R: Message + Default>(
        &self,
        target: Target,
        invocation: &Invocation,
        command: impl Fn(&Loaded<C::Aggregate>) -> Result<Command<C>, Status> + Send + Sync,
        respond: impl Fn(&Loaded<C::Aggregate>, &[Event<C>]) -> R + Send + Sync,
    ) -> Result<Executed<R>, Status> {
        self.execute(target, invocation, &W::Facts::default(), Build::Now(&command), &respond).await
    }

    /// Like [`CommandRunner::run`], with facts for the rows.
    pub async fn run_with<R: Message + Default>(
        &self,
        target: Target,
        invocation: &Invocation,
        facts: &W::Facts,
        command: impl Fn(&Loaded<C::Aggregate>) -> Result<Command<C>, Status> + Send + Sync,
        respond: impl Fn(&Loaded<C::Aggregate>, &[Event<C>]) -> R + Send + Sync,
    ) -> Result<Executed<R>, Status> {
        self.execute(target, invocation, facts, Build::Now(&command), &respond).await
    }

    /// Like [`CommandRunner::run_with`], building the command inside the
    /// command's transaction from facts read in it (e.g. a counter that a
    /// refused command must give back).
    pub async fn run_in_transaction<R: Message + Default>(
        &self,
        target: Target,
        invocation: &Invocation,
        facts: &W::Facts,
        command: impl for<'c> Fn(
            &'c mut PgConnection,
            &'c Loaded<C::Aggregate>,
        ) -> BoxFuture<'c, Result<Command<C>, Status>>
        + Send
        + Sync,
        respond: impl Fn(&Loaded<C::Aggregate>, &[Event<C>]) -> R + Send + Sync,
    ) -> Result<Executed<R>, Status> {
        self.execute(target, invocation, facts, Build::InTx(&command), &respond).await
    }

    async fn execute<R: Message + Default>(
        &self,
        target: Target,
        invocation: &Invocation,
        facts: &W::Facts,
        build: Build<'_, C>,
        respond: &Respond<'_, C, R>,
    ) -> Result<Executed<R>, Status> {
        let attempts = match (self.conflicts, invocation.expected) {
            (ConflictPolicy::Retry { attempts }, None) => attempts.max(1),
            _ => 1,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.attempt(target, invocation, facts, &build, respond).await {
                Ok(executed) => return Ok(executed),
                Err(Failure::Conflict(status)) if attempt < attempts => {
                    tracing::debug!(id = %target.id(), attempt, reason = status.message(), "stream moved on; deciding again");
                }
                Err(Failure::Conflict(status) | Failure::Final(status)) => return Err(status),
            }
        }
    }

    async fn attempt<R: Message + Default>(
        &self,
        target: Target,
        invocation: &Invocation,
        facts: &W::Facts,
        build: &Build<'_, C>,
        respond: &Respond<'_, C, R>,
    ) -> Result<Executed<R>, Failure> {
        // One round trip: the stream and the request's idempotency keys.
        let keys = invocation.idempotency.as_ref().map(Idempotency::stored_keys).unwrap_or_default();
        let (stored, stored_keys) =
            self.store.read_stream_and_keys(&C::Aggregate::stream_id(target.id()), &keys).await.map_err(from_store)?;
        if let Some(idempotency) = &invocation.idempotency
            && let Some(response) = idempotency.replayed_from::<R>(&stored_keys)?
        {
            return Ok(Executed::Replayed(response));
        }
        let loaded = self.target_from(target, &stored).await?;
        let version = loaded.state.version();
        if let Some(expected) = invocation.expected
            && expected != version
        {
            return Err(Failure::Final(Status::aborted(format!(
                "{} {} is at version {version}, the request expected {expected}; read it again and retry",
                C::NOUN,
                loaded.id
            ))));
        }
        let (mut tx, command) = match build {
            Build::Now(build) => (None, build(&loaded)?),
            Build::InTx(build) => {
                let mut tx = self.store.pool().begin().await.map_err(|e| internal("starting a transaction", &e))?;
                let command = build(&mut tx, &loaded).await?;
                (Some(tx), command)
            }
        };
        let events = loaded.state.decide(command).map_err(|e| refusal_status(&e))?;
        if events.is_empty() {
            drop(tx);
            self.rows.unchanged(&self.store, &loaded).await?;
            return Ok(Executed::Unchanged(respond(&loaded, &[])));
        }
        let after = Loaded {
            id: loaded.id,
            case_id: loaded.case_id,
            state: events.iter().fold(loaded.state.clone(), |s, e| s.evolve(e)),
            now: loaded.now,
        };
        let response = respond(&after, &events);
        let record = invocation.idempotency.as_ref().map(|i| i.record(response.encode_to_vec()));
        let at = loaded.now;
        let key = invocation.key().unwrap_or_default();
        let metadata = EventMetadata::new(loaded.case_id, &invocation.actor, invocation.channel, at)
            .caused_by(invocation.cause.correlation.as_str(), invocation.cause.causation.as_str())
            .with_trace(yiciban_eventstore::trace::current_trace_context());
        tracing::trace!(key, events = events.len(), "appending");
        let mut tx = match tx.take() {
            Some(tx) => tx,
            None => self.store.pool().begin().await.map_err(|e| internal("starting a transaction", &e))?,
        };
        let new_events: Vec<NewEvent> = self.codec.encode_all(&mut tx, &after.state, &events).await?;
        let appended = self
            .store
            .append_in(
                &mut tx,
                &C::Aggregate::stream_id(loaded.id),
                ExpectedVersion::Exact(version),
                &new_events,
                &metadata,
                record.as_ref(),
            )
            .await;
        match appended {
            Ok(AppendOutcome::Appended { .. }) => {}
            Ok(AppendOutcome::Replayed { response }) => return Ok(Executed::Replayed(decode_response(&response)?)),
            Err(e @ StoreError::VersionConflict { .. }) => return Err(Failure::Conflict(from_store(e))),
            Err(e @ StoreError::IdempotencyKeyReused { .. }) => {
                let status = match &invocation.idempotency {
                    Some(idempotency) => idempotency.status(e),
                    None => from_store(e),
                };
                return Err(Failure::Final(status));
            }
            Err(e) => return Err(Failure::Final(from_store(e))),
        }
        let change = Change {
            id: loaded.id,
            case_id: loaded.case_id,
            before: &loaded.state,
            after: &after.state,
            events: &events,
            at,
        };
        self.rows.write(&mut tx, &change, facts).await?;
        self.store.commit(tx).await.map_err(|e| internal("committing the command", &e))?;
        Ok(Executed::Done(response))
    }
}

/// `NOT_FOUND` for an aggregate whose stream is empty.
fn not_found<C: EventCodec>(id: Uuid) -> Status {
    Status::not_found(format!("no {} {id}", C::NOUN))
}
