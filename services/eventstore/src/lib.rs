#![forbid(unsafe_code)]
//! The event store of yiciban and what moves its events: append with an
//! expected version and idempotency keys ([`EventStore`]), the outbox relay to
//! NATS JetStream ([`Relay`]) and durable consumers for projections and
//! process managers ([`Consumer`]).

pub mod consumer;
pub mod error;
pub mod identities;
pub mod migrate;
pub mod model;
pub mod reconcile;
pub mod relay;
pub mod restore;
pub mod rewrite;
pub mod sql;
pub mod stale;
pub mod store;
pub mod subjects;
pub mod trace;
pub mod upcast;

pub use consumer::{
    Consumer, ConsumerSettings, DeadLetters, Feed, GapSource, Handler, HandlerError, Outcome, PoisonMessage,
    ProcessManager, StoreGaps,
};
pub use error::{ConsumerError, RelayError, StoreError, error_chain};
pub use migrate::{EVENT_STORE, Migrations, migrate};
pub use model::{
    AppendOutcome, Checkpoint, EventMetadata, ExpectedVersion, IdempotencyRecord, NewEvent, StoredEvent,
    request_fingerprint,
};
pub use relay::{Relay, RelaySettings};
pub use store::EventStore;
pub use subjects::{EventSubject, PARTITIONS, Slot, StreamSettings, Subjects, partition_of};
pub use upcast::{UpcastError, Upcasters};
