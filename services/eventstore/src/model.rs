//! The values the store speaks in: events to append with their metadata,
//! stored events as read back, expected versions and the commit-safe
//! checkpoint of a reader.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use yiciban_proto::common::v1::{Actor, Channel, Role};
use yiciban_proto::events::v1::EventEnvelope;

/// What version the command expects its stream to be at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// The stream must not exist yet.
    NoStream,
    /// The stream must be exactly at this version (0 = no stream).
    Exact(u64),
    /// Append at whatever version the stream is at.
    Any,
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedVersion::NoStream => f.write_str("no stream"),
            ExpectedVersion::Exact(v) => write!(f, "version {v}"),
            ExpectedVersion::Any => f.write_str("any version"),
        }
    }
}

/// One event to append: its type and protobuf-encoded payload.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Unique id; becomes the `Nats-Msg-Id`.
    pub event_id: Uuid,
    /// Name of the event message in `yiciban.events.v1`.
    pub event_type: String,
    /// Schema version of `payload`.
    pub schema_version: u32,
    /// The encoded event message.
    pub payload: Vec<u8>,
    /// The department the event concerns (a task's department), if any; it
    /// becomes a token of the NATS subject.
    pub department: Option<String>,
    /// The case's lead department, on the case-level events it receives
    /// ([`yiciban_proto::placement`]); the subject's department token when
    /// the event concerns no department.
    pub lead_department: Option<String>,
}

impl NewEvent {
    /// An event with a fresh time-ordered id, schema version 1 and no department.
    pub fn new(event_type: impl Into<String>, payload: Vec<u8>) -> Self {
        NewEvent {
            event_id: Uuid::now_v7(),
            event_type: event_type.into(),
            schema_version: 1,
            payload,
            department: None,
            lead_department: None,
        }
    }

    /// Encodes a prost message as the payload; the event type is the message name.
    pub fn from_message<M: prost::Name>(message: &M) -> Self {
        NewEvent::new(M::NAME, message.encode_to_vec())
    }

    /// Scopes the event to a department.
    pub fn for_department(mut self, department: impl Into<String>) -> Self {
        self.department = Some(department.into());
        self
    }

    /// Sends the event to the case's lead department too, when its type is
    /// one the lead receives ([`yiciban_proto::placement::lead_receives`])
    /// and the lead is known; otherwise changes nothing.
    pub fn for_lead_of_case(mut self, lead: Option<&str>) -> Self {
        if yiciban_proto::placement::lead_receives(&self.event_type) {
            self.lead_department = lead.filter(|l| !l.is_empty()).map(str::to_owned);
        }
        self
    }
}

/// Who did it, where, why: stored beside every event (the audit log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMetadata {
    /// The case every event belongs to.
    pub case_id: Uuid,
    /// Staff login, service name or opaque applicant reference.
    pub actor: String,
    /// Proto name of the role, e.g. `ROLE_CLERK`.
    pub role: String,
    /// The actor's department code, for agents.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub actor_department: String,
    /// Proto name of the channel, e.g. `CHANNEL_WINDOW`.
    pub channel: String,
    /// Shared by everything done for one original request.
    pub correlation_id: String,
    /// The command or event that caused this one.
    pub causation_id: String,
    /// When the command was decided (from the injected clock).
    pub occurred_at: DateTime<Utc>,
    /// W3C trace context (`traceparent`, `tracestate`) of the command.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub trace: BTreeMap<String, String>,
}

impl EventMetadata {
    /// Metadata for a command by `actor` in `role` through `channel`.
    pub fn new(case_id: Uuid, actor: &Actor, channel: Channel, occurred_at: DateTime<Utc>) -> Self {
        EventMetadata {
            case_id,
            actor: actor.subject.clone(),
            role: actor.role().as_str_name().to_owned(),
            actor_department: actor.department.clone(),
            channel: channel.as_str_name().to_owned(),
            correlation_id: String::new(),
            causation_id: String::new(),
            occurred_at,
            trace: BTreeMap::new(),
        }
    }

    /// Sets correlation and causation ids.
    pub fn caused_by(mut self, correlation_id: impl Into<String>, causation_id: impl Into<String>) -> Self {
        self.correlation_id = correlation_id.into();
        self.causation_id = causation_id.into();
        self
    }

    /// Attaches a W3C trace context.
    pub fn with_trace(mut self, trace: BTreeMap<String, String>) -> Self {
        self.trace = trace;
        self
    }

    /// The actor as the wire type.
    pub fn actor(&self) -> Actor {
        Actor {
            subject: self.actor.clone(),
            role: Role::from_str_name(&self.role).unwrap_or(Role::Unspecified) as i32,
            department: self.actor_department.clone(),
        }
    }
}

/// An event as stored, upcast to its current schema version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// Global position in this store (increasing in insert order, not commit order).
    pub position: i64,
    /// Id of the transaction that wrote it (orders commit-safe reads).
    pub tx_id: i64,
    pub event_id: Uuid,
    pub stream_id: String,
    /// 1-based, gapless within the stream.
    pub stream_version: u64,
    pub event_type: String,
    pub schema_version: u32,
    pub payload: Vec<u8>,
    pub department: Option<String>,
    /// The case's lead department, on the case-level events it receives.
    pub lead_department: Option<String>,
    pub metadata: EventMetadata,
    pub recorded_at: DateTime<Utc>,
}

impl StoredEvent {
    /// The department token of the event's subject: the department it
    /// concerns, else the lead department it goes to, else none (`_`).
    pub fn subject_department(&self) -> Option<&str> {
        self.department.as_deref().or(self.lead_department.as_deref())
    }

    /// The commit-safe checkpoint just after this event.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint { tx_id: self.tx_id, position: self.position }
    }

    /// The wire envelope published on NATS, naming the owning service.
    pub fn to_envelope(&self, source: &str) -> EventEnvelope {
        let m = &self.metadata;
        EventEnvelope {
            event_id: self.event_id.to_string(),
            case_id: m.case_id.to_string(),
            stream_id: self.stream_id.clone(),
            stream_version: self.stream_version,
            event_type: self.event_type.clone(),
            schema_version: self.schema_version,
            occurred_at: Some(prost_types::Timestamp {
                seconds: m.occurred_at.timestamp(),
                nanos: m.occurred_at.timestamp_subsec_nanos() as i32,
            }),
            actor: Some(m.actor()),
            channel: Channel::from_str_name(&m.channel).unwrap_or(Channel::Unspecified) as i32,
            correlation_id: m.correlation_id.clone(),
            causation_id: m.causation_id.clone(),
            source: source.to_owned(),
            department: self.department.clone().unwrap_or_default(),
            position: self.position as u64,
            payload: self.payload.clone(),
            lead_department: self.lead_department.clone().unwrap_or_default(),
        }
    }
}

/// Where a reader of the whole store stands: after `(tx_id, position)`.
///
/// Events are read in `(tx_id, position)` order and only from transactions
/// older than every transaction still running, so no event can later appear
/// behind a checkpoint (see [`crate::EventStore::read_all`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Checkpoint {
    pub tx_id: i64,
    pub position: i64,
}

/// An idempotency key with the fingerprint of the request and the response to
/// replay, stored in the same transaction as the events.
#[derive(Debug, Clone)]
pub struct IdempotencyRecord {
    pub key: String,
    /// Hex SHA-256 of the canonical request bytes (see [`request_fingerprint`]).
    pub request_hash: String,
    /// The encoded response to hand back on a replay.
    pub response: Vec<u8>,
}

/// Fingerprint of a request for idempotency: hex SHA-256 of its bytes.
pub fn request_fingerprint(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// What an append did.
#[derive(Debug, Clone, PartialEq)]
pub enum AppendOutcome {
    /// The events were written.
    Appended {
        /// Version of the last event written.
        version: u64,
        /// Positions of the events written, in order.
        positions: Vec<i64>,
    },
    /// The idempotency key was already used with the same request: nothing was
    /// written and this is the response of the first call.
    Replayed { response: Vec<u8> },
}
