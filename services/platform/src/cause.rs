//! Why a command happens, recorded with its events: the correlation id is
//! shared by everything done for one original request, the causation id
//! names what directly caused this command. A request from a person starts
//! a chain (both are its idempotency key); a process manager reacting to an
//! event continues the event's chain (correlation from the event, causation
//! the event's id) and sends both along in gRPC metadata, which a service
//! believes only from a caller in the `service` role.

use tonic::metadata::{BinaryMetadataValue, MetadataMap};
use yiciban_proto::events::v1::EventEnvelope;

/// Metadata key carrying the correlation id (binary: keys may be any UTF-8).
pub const CORRELATION_HEADER: &str = "yiciban-correlation-id-bin";
/// Metadata key carrying the causation id.
pub const CAUSATION_HEADER: &str = "yiciban-causation-id-bin";

/// Id shared by everything done for one original request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CorrelationId(String);

/// Id of the request or event that directly caused a command.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CausationId(String);

impl CorrelationId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl CausationId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The correlation and causation of one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// The chain the command belongs to.
    pub correlation: CorrelationId,
    /// What directly caused it.
    pub causation: CausationId,
}

impl Cause {
    /// A command that starts a chain of its own: correlated with and caused
    /// by `id` (a client's idempotency key, a sweep's key).
    pub fn origin(id: impl Into<String>) -> Self {
        let id = id.into();
        Cause { correlation: CorrelationId(id.clone()), causation: CausationId(id) }
    }

    /// A command caused by a stored event: the event's chain continues, the
    /// event is the cause.
    pub fn event(envelope: &EventEnvelope) -> Self {
        let correlation = if envelope.correlation_id.is_empty() {
            envelope.event_id.clone()
        } else {
            envelope.correlation_id.clone()
        };
        Cause { correlation: CorrelationId(correlation), causation: CausationId(envelope.event_id.clone()) }
    }

    /// The cause a calling service sent in `metadata`, if both ids are there.
    pub fn from_metadata(metadata: &MetadataMap) -> Option<Self> {
        let read = |key: &str| {
            metadata
                .get_bin(key)
                .and_then(|v| v.to_bytes().ok())
                .and_then(|b| String::from_utf8(b.to_vec()).ok())
                .filter(|s| !s.is_empty() && s.chars().count() <= 256)
        };
        Some(Cause {
            correlation: CorrelationId(read(CORRELATION_HEADER)?),
            causation: CausationId(read(CAUSATION_HEADER)?),
        })
    }

    /// Sends this cause along with an outgoing call.
    pub fn attach(&self, metadata: &mut MetadataMap) {
        metadata.insert_bin(CORRELATION_HEADER, BinaryMetadataValue::from_bytes(self.correlation.0.as_bytes()));
        metadata.insert_bin(CAUSATION_HEADER, BinaryMetadataValue::from_bytes(self.causation.0.as_bytes()));
    }

    /// `request` carrying this cause.
    pub fn on<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        self.attach(request.metadata_mut());
        request
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_travels_in_metadata_also_with_non_ascii_ids() {
        let cause = Cause { correlation: CorrelationId("键-1".into()), causation: CausationId("e-2".into()) };
        let request = cause.on(());
        assert_eq!(Cause::from_metadata(request.metadata()), Some(cause));
        assert_eq!(Cause::from_metadata(&MetadataMap::new()), None);
    }

    #[test]
    fn an_event_continues_its_chain_and_is_the_cause() {
        let envelope = EventEnvelope { event_id: "e1".into(), correlation_id: "origin".into(), ..Default::default() };
        let cause = Cause::event(&envelope);
        assert_eq!((cause.correlation.as_str(), cause.causation.as_str()), ("origin", "e1"));
        let first = EventEnvelope { event_id: "e0".into(), ..Default::default() };
        assert_eq!(Cause::event(&first).correlation.as_str(), "e0");
    }
}
