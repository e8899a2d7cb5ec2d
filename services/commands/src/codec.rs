//! How one service stores one aggregate: the wire encoding of its events
//! (protobuf messages of `yiciban.events.v1`) and the department each event
//! concerns, which becomes a token of its NATS subject.

use yiciban_domain::Aggregate;
use yiciban_eventstore::{NewEvent, StoredEvent};
use yiciban_proto::convert::ConvertError;

/// The binding of an aggregate to its service's event store.
pub trait EventCodec: Send + Sync + 'static {
    /// The aggregate whose streams these are.
    type Aggregate: Aggregate;

    /// What one stream is called in messages to people, e.g. "task",
    /// "case", "plan of case".
    const NOUN: &'static str;

    /// The event as stored and published. `after` is the state with every
    /// event of the decision folded in (a later event of the same decision
    /// may name the department an earlier one concerns).
    fn encode(&self, after: &Self::Aggregate, event: &<Self::Aggregate as Aggregate>::Event) -> NewEvent;

    /// A stored event read back (upcast to its current schema already).
    fn decode(&self, stored: &StoredEvent) -> Result<<Self::Aggregate as Aggregate>::Event, ConvertError>;
}
