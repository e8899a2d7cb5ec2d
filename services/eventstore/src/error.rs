//! Errors of the event store, the relay and the consumer. A version conflict
//! and a reused idempotency key are typed so the gRPC edge can map them to
//! `ABORTED` and `ALREADY_EXISTS`; everything else is an infrastructure failure
//! that keeps its cause chain.

use crate::model::ExpectedVersion;

/// What can go wrong when appending to or reading from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The stream was not at the version the command was decided against.
    /// Nothing was written; decide again on fresh state and retry.
    #[error("stream {stream} is at version {actual}, the command expected {expected}")]
    VersionConflict { stream: String, expected: ExpectedVersion, actual: u64 },
    /// The idempotency key was first used with a different request. Nothing
    /// was written.
    #[error("idempotency key {key:?} was already used for a different request")]
    IdempotencyKeyReused { key: String },
    /// The caller handed the store something it cannot store (empty stream id,
    /// no events, a malformed schema name).
    #[error("invalid append: {0}")]
    Invalid(String),
    /// A stored event could not be upcast to the current schema.
    #[error("event {event_id} ({event_type} v{schema_version}) could not be upcast")]
    Upcast {
        event_id: uuid::Uuid,
        event_type: String,
        schema_version: u32,
        #[source]
        source: crate::upcast::UpcastError,
    },
    /// A migration step that was applied to this database differs from the
    /// step of the same version in this binary: it was edited after it
    /// shipped. Nothing was migrated; the service must not start.
    #[error(
        "migration step {version} of {component} (schema {schema}) was edited after it was applied: \
         its SQL's checksum is {shipped} in this binary but {recorded} in {schema}.schema_migrations. \
         A shipped step is never edited: restore its SQL exactly as it shipped and make the change a new \
         step after the last step of {component}"
    )]
    MigrationChanged { schema: String, component: &'static str, version: i32, recorded: String, shipped: String },
    /// Postgres failed.
    #[error("database error while {context}")]
    Database {
        context: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// Stored metadata could not be read back.
    #[error("stored metadata of event {event_id} is unreadable")]
    Metadata {
        event_id: uuid::Uuid,
        #[source]
        source: serde_json::Error,
    },
}

impl StoreError {
    pub(crate) fn db(context: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |source| StoreError::Database { context, source }
    }

    /// True for a conflict the caller may resolve by deciding again.
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::VersionConflict { .. })
    }
}

/// Failures of the outbox relay.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("JetStream refused to create or look up stream {stream}")]
    EnsureStream {
        stream: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("publishing event {event_id} to {subject} failed")]
    Publish {
        event_id: uuid::Uuid,
        subject: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The connection holding the relay's advisory lock is gone: another
    /// relay may hold the lock now, so this one stops publishing.
    #[error("the relay lost the connection holding its lock")]
    LockLost(#[source] sqlx::Error),
    /// Comparing the store with JetStream failed.
    #[error("reconciling with JetStream: {what}")]
    Reconcile {
        what: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Fault injection for crash tests: the relay stopped as if killed.
    #[error("relay stopped by fault injection at {0}")]
    InjectedCrash(&'static str),
}

/// Failures of a durable consumer's machinery (not of one event's handler).
#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("JetStream consumer {consumer}: {what}")]
    JetStream {
        consumer: String,
        what: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The handler could not apply an event now (it will be retried).
    #[error("the handler could not apply the event")]
    Handler(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("filling the gap in stream {stream} from the owning store failed")]
    GapFill {
        stream: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// The error and its causes, joined by ": ", a cause that only repeats the
/// text before it left out.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}
