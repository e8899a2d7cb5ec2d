//! Decoding of published envelopes into the facts the projection folds: the
//! envelope's metadata ([`EventInfo`]) and its payload as the prost message
//! named by `event_type` ([`Fact`], the shared [`EventPayload`]). Event types
//! this projection does not know yet decode to `Fact::Other` and still get a
//! timeline entry.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use yiciban_proto::convert::ConvertError;
use yiciban_proto::convert::wire::instant;
use yiciban_proto::events::EventPayload;
use yiciban_proto::events::v1::EventEnvelope;

/// Why an envelope cannot be projected (a poison event).
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The envelope's case id is not a UUID.
    #[error("the envelope's case id {0:?} is not a UUID")]
    CaseId(String),
    /// The payload is not the message its event type names.
    #[error(transparent)]
    Payload(#[from] ConvertError),
}

/// The metadata of one event, as the envelope carries it (no payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventInfo {
    pub event_id: String,
    pub case_id: uuid::Uuid,
    pub event_type: String,
    /// Owning service: "intake", "routing", "tasks" or "issuance".
    pub source: String,
    pub stream_id: String,
    pub stream_version: u64,
    pub occurred_at: DateTime<Utc>,
    /// Staff login, service name or opaque applicant reference.
    pub actor: String,
    /// `yiciban.common.v1.Role` as its number.
    pub actor_role: i32,
    pub actor_department: String,
    /// `yiciban.common.v1.Channel` as its number.
    pub channel: i32,
    /// Department the event concerns; empty for case-level events.
    pub department: String,
}

impl EventInfo {
    /// The metadata of `envelope`.
    pub fn of(envelope: &EventEnvelope) -> Result<EventInfo, DecodeError> {
        let case_id = envelope.case_id.parse().map_err(|_| DecodeError::CaseId(envelope.case_id.clone()))?;
        let occurred_at = envelope.occurred_at.as_ref().and_then(|t| instant(t).ok()).unwrap_or_default();
        let actor = envelope.actor.clone().unwrap_or_default();
        Ok(EventInfo {
            event_id: envelope.event_id.clone(),
            case_id,
            event_type: envelope.event_type.clone(),
            source: envelope.source.clone(),
            stream_id: envelope.stream_id.clone(),
            stream_version: envelope.stream_version,
            occurred_at,
            actor: actor.subject,
            actor_role: actor.role,
            actor_department: actor.department,
            channel: envelope.channel,
            department: envelope.department.clone(),
        })
    }
}

/// The payload of one event, decoded by the one payload decoder
/// ([`EventPayload`]); an event type this projection does not know yet is
/// [`EventPayload::Other`].
pub type Fact = EventPayload;

/// An envelope decoded: its metadata and its fact.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub info: EventInfo,
    pub fact: Fact,
}

impl Decoded {
    /// Decodes an envelope; an unknown event type is [`Fact::Other`], a
    /// payload that does not decode is an error.
    pub fn of(envelope: &EventEnvelope) -> Result<Decoded, DecodeError> {
        Ok(Decoded {
            info: EventInfo::of(envelope)?,
            fact: EventPayload::decode(&envelope.event_type, &envelope.payload)?,
        })
    }
}
