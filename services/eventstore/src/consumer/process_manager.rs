//! Process managers (ADR 0004): the flow between services. Each one is a
//! durable consumer of its own service's events that reacts to an event by
//! calling the next service's command with an idempotency key derived from
//! the event, holding no database connection meanwhile (ADR 0007); a
//! redelivery after a crash at any point repeats the call, which the key
//! makes harmless.

use std::sync::Arc;

use async_nats::jetstream;
use async_trait::async_trait;
use sqlx::PgConnection;
use yiciban_proto::events::v1::EventEnvelope;

use super::{Consumer, Handler, HandlerError};
use crate::error::StoreError;
use crate::store::EventStore;

/// A process manager: what to do about each event of the owning service.
#[async_trait]
pub trait ProcessManager: Send + Sync + 'static {
    /// The durable consumer's name; its checkpoints are kept under it, so
    /// it never changes once deployed.
    const NAME: &'static str;

    /// Reacts to one event: usually one command to another service, keyed by
    /// the event; events it does not care about return `Ok(())`. A
    /// [`HandlerError::Retry`] is tried again later, a
    /// [`HandlerError::Poison`] recorded for an operator.
    async fn react(&self, event: &EventEnvelope) -> Result<(), HandlerError>;
}

#[async_trait]
impl<P: ProcessManager> Handler for P {
    async fn apply(&self, _conn: &mut PgConnection, event: &EventEnvelope) -> Result<(), HandlerError> {
        ProcessManager::react(self, event).await
    }

    fn reacts_outside_transactions(&self) -> bool {
        true
    }

    async fn react(&self, event: &EventEnvelope) -> Result<(), HandlerError> {
        ProcessManager::react(self, event).await
    }
}

impl<P: ProcessManager> Consumer<P> {
    /// The durable consumer of process manager `manager` over the events of
    /// the service that owns `store`, keeping its checkpoints in that
    /// service's schema and filling gaps from that same store.
    pub fn process_manager(
        manager: Arc<P>,
        store: &EventStore,
        subjects: &crate::Subjects,
        js: jetstream::Context,
    ) -> Result<Self, StoreError> {
        Self::of_own_events(P::NAME, store, subjects, js, manager)
    }
}
