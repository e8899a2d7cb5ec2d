//! The service's own rows (an inbox, an index, timers, read rows), written
//! in the same transaction as the events of every command, so they can never
//! disagree with the stream.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use tonic::Status;
use uuid::Uuid;
use yiciban_domain::Aggregate;
use yiciban_eventstore::EventStore;

use crate::runner::Loaded;

/// What a command changed.
#[derive(Debug)]
pub struct Change<'a, A: Aggregate> {
    /// The aggregate's id (its stream is `A::stream_id(id)`).
    pub id: Uuid,
    /// Its case.
    pub case_id: Uuid,
    /// The state before the command.
    pub before: &'a A,
    /// The state after.
    pub after: &'a A,
    /// The events the command recorded (never empty).
    pub events: &'a [A::Event],
    /// When it was decided (the injected clock).
    pub at: DateTime<Utc>,
}

/// Rows a service keeps beside an aggregate's stream.
#[async_trait]
pub trait Rows<A: Aggregate>: Send + Sync + 'static {
    /// Facts only some commands know (e.g. a keyed hash of the applicant
    /// looked up elsewhere); `()` when the rows follow from the state alone.
    type Facts: Default + Send + Sync;

    /// Writes the rows for `change` inside the command's transaction; an
    /// error rolls the whole command back.
    async fn write(&self, tx: &mut PgConnection, change: &Change<'_, A>, facts: &Self::Facts) -> Result<(), Status>;

    /// Called when a decision recorded nothing, for rows that must be kept
    /// fresh anyway (e.g. a timer that would otherwise fire for ever).
    async fn unchanged(&self, _store: &EventStore, _loaded: &Loaded<A>) -> Result<(), Status> {
        Ok(())
    }
}

/// No rows beside the stream.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRows;

#[async_trait]
impl<A: Aggregate> Rows<A> for NoRows {
    type Facts = ();

    async fn write(&self, _tx: &mut PgConnection, _change: &Change<'_, A>, _facts: &()) -> Result<(), Status> {
        Ok(())
    }
}
