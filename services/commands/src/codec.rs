//! How one service stores one aggregate: the wire encoding of its events
//! (protobuf messages of `yiciban.events.v1`) and the department each event
//! concerns, which becomes a token of its NATS subject.

use async_trait::async_trait;
use sqlx::PgConnection;
use tonic::Status;
use yiciban_domain::Aggregate;
use yiciban_eventstore::{NewEvent, StoredEvent};
use yiciban_platform::status::internal;
use yiciban_proto::convert::ConvertError;

/// The events of the aggregate `C` binds.
type EventOf<C> = <<C as EventCodec>::Aggregate as Aggregate>::Event;

/// The binding of an aggregate to its service's event store.
#[async_trait]
pub trait EventCodec: Send + Sync + 'static {
    /// The aggregate whose streams these are.
    type Aggregate: Aggregate;

    /// What one stream is called in messages to people, e.g. "task",
    /// "case", "plan of case".
    const NOUN: &'static str;

    /// The event as stored and published. `after` is the state with every
    /// event of the decision folded in (a later event of the same decision
    /// may name the department an earlier one concerns).
    fn encode(&self, after: &Self::Aggregate, event: &EventOf<Self>) -> NewEvent;

    /// A stored event read back (upcast to its current schema already).
    fn decode(&self, stored: &StoredEvent) -> Result<EventOf<Self>, ConvertError>;

    /// The events of one decision as stored: the command runner's way in,
    /// inside the command's transaction (`tx`, which the events are then
    /// appended in). By default each through [`EventCodec::encode`]; a codec
    /// whose events need keys looked up first (intake seals the applicant's
    /// personal data under the applicant's data key, made in `tx` on first
    /// use) overrides it.
    async fn encode_all(
        &self,
        _tx: &mut PgConnection,
        after: &Self::Aggregate,
        events: &[EventOf<Self>],
    ) -> Result<Vec<NewEvent>, Status> {
        Ok(events.iter().map(|e| self.encode(after, e)).collect())
    }

    /// A stream's stored events read back: the command runner's way in. By
    /// default each through [`EventCodec::decode`]; a codec whose events
    /// need keys looked up first (intake opens the applicant's personal
    /// data) overrides it. A stored event that does not read is `INTERNAL`.
    async fn decode_all(&self, stored: &[StoredEvent]) -> Result<Vec<EventOf<Self>>, Status> {
        stored.iter().map(|e| self.decode(e).map_err(|err| internal("reading the stored events", &err))).collect()
    }
}
