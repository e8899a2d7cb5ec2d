//! Issuance conversions between `yiciban_domain::issuance` and the wire:
//!
//! - **events**: `From` / `TryFrom` between every issuance event and its
//!   `yiciban.events.v1` message (in `events`), every value validated again; a stream's
//!   events as stored with [`encode_event`] / [`decode_event`]. A rating's
//!   `at` is not in the payload: it is the envelope's `occurred_at`, so it is
//!   read from a [`Recorded`] message.
//! - **read model** ([`issuance_to_pb`], in `read_model`): the `Issuance` message of
//!   GetIssuance, and its parts (`From`).
//! - values: file references (and [`file_ref_violations`] for uploads),
//!   indicator scores, the collector, issuance's enums (`enum_pair!`).
//!   Result documents, the outcome and the channel are the shared ones of
//!   [`super::case`].

use chrono::{DateTime, Utc};
use uuid::Uuid;
use yiciban_domain::issuance::{
    Batch, BatchState, CaseClosed, CaseIssuance, CaseOutcome, Channel, Collector, CollectorKind, Delivered,
    DeliveryFailed, DeliveryFailureReason, DeliveryMethod, Event, FileRef, IndicatorScore, InvalidRatingReason,
    IssuancePrepared, Mailed, NotificationChannel, PickedUp, PickupNotified, Rating, RatingMarkedInvalid,
    RatingReceived, Rectification, RectificationClosed, RectificationExplained, RectificationFinding,
    RectificationOpened, RectificationRectified, RectificationSource, RectificationState, RectificationVerified,
    ResultDocument, ReturnVisit, ReturnVisitMethod, ReturnVisitRecorded, ReturnVisitSampleReason, ReturnVisitSampled,
};
use yiciban_domain::values::{CaseNumber, DepartmentCode};

use super::wire::{
    At as _, ConvertError, Recorded, date, each, enum_pair, instant, optional_date, optional_uuid, required, timestamp,
    uuid,
};
use crate::common::v1 as pb;
use crate::events::EventPayload;
use crate::events::v1 as ev;
use crate::issuance::v1 as api;
use crate::sealed::{DataKey, seal_collector};

mod events;
mod read_model;

pub use read_model::issuance_to_pb;

// ---------------------------------------------------------------------------
// A stream's events as stored
// ---------------------------------------------------------------------------

/// How the masked identity of a `PickedUp` event's collector is written
/// (ADR 0031): never in clear.
#[derive(Clone, Copy)]
pub enum IdentitySealing<'a> {
    /// Sealed under the applicant's data key `key` (the subject is the
    /// collector's `data_subject`), for the case numbered `case_number`.
    Key { key: &'a dyn DataKey, case_number: &'a str },
    /// Not kept: the applicant's data was erased, or the writer holds no
    /// keys.
    Drop,
}

impl std::fmt::Debug for IdentitySealing<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IdentitySealing::Key { case_number, .. } => write!(f, "IdentitySealing::Key({case_number})"),
            IdentitySealing::Drop => f.write_str("IdentitySealing::Drop"),
        }
    }
}

/// The event type (message name) and prost payload of an issuance event; a
/// `PickedUp` collector's masked identity sealed or dropped as `sealing`
/// says.
pub fn encode_event(event: &Event, sealing: IdentitySealing<'_>) -> (&'static str, Vec<u8>) {
    let mut payload = EventPayload::from(event);
    if let (EventPayload::PickedUp(message), Event::PickedUp(e)) = (&mut payload, event)
        && let Some(c) = message.collector.as_mut()
    {
        let subject = e.collector.data_subject.as_str();
        match sealing {
            IdentitySealing::Key { key, case_number } if !subject.is_empty() => {
                seal_collector(c, subject, case_number, e.batch_number, Some(key));
            }
            _ => seal_collector(c, subject, "", e.batch_number, None),
        }
    }
    (payload.event_type().expect("an issuance event is a known message"), payload.encode_to_vec())
}

/// The issuance event of a stored `event_type` and payload, recorded at
/// `at` (the envelope's `occurred_at`): the inverse of [`encode_event`],
/// every value validated again.
pub fn decode_event(event_type: &str, payload: &[u8], at: DateTime<Utc>) -> Result<Event, ConvertError> {
    Event::try_from(Recorded::new(&EventPayload::decode_known(event_type, payload)?, at))
}

impl From<&Event> for EventPayload {
    fn from(event: &Event) -> Self {
        match event {
            Event::IssuancePrepared(e) => ev::IssuancePrepared::from(e).into(),
            Event::PickupNotified(e) => ev::PickupNotified::from(e).into(),
            Event::PickedUp(e) => ev::PickedUp::from(e).into(),
            Event::Mailed(e) => ev::Mailed::from(e).into(),
            Event::DeliveryFailed(e) => ev::DeliveryFailed::from(e).into(),
            Event::Delivered(e) => ev::Delivered::from(e).into(),
            Event::CaseClosed(e) => ev::CaseClosed::from(e).into(),
            Event::RatingReceived(e) => ev::RatingReceived::from(e).into(),
            Event::RectificationOpened(e) => ev::RectificationOpened::from(e).into(),
            Event::RectificationVerified(e) => ev::RectificationVerified::from(e).into(),
            Event::RectificationRectified(e) => ev::RectificationRectified::from(e).into(),
            Event::RectificationExplained(e) => ev::RectificationExplained::from(e).into(),
            Event::RectificationClosed(e) => ev::RectificationClosed::from(e).into(),
            Event::RatingMarkedInvalid(e) => ev::RatingMarkedInvalid::from(e).into(),
            Event::ReturnVisitSampled(e) => ev::ReturnVisitSampled::from(e).into(),
            Event::ReturnVisitRecorded(e) => ev::ReturnVisitRecorded::from(e).into(),
        }
    }
}

/// An issuance event from its message, recorded at `at`; another area's
/// event is [`ConvertError::UnknownEventType`]. An error names the field
/// from the message name on (`RatingReceived.rating_id`).
impl TryFrom<Recorded<'_, EventPayload>> for Event {
    type Error = ConvertError;

    fn try_from(recorded: Recorded<'_, EventPayload>) -> Result<Self, ConvertError> {
        let event = match recorded.message {
            EventPayload::IssuancePrepared(e) => e.try_into().map(Event::IssuancePrepared),
            EventPayload::PickupNotified(e) => e.try_into().map(Event::PickupNotified),
            EventPayload::PickedUp(e) => e.try_into().map(Event::PickedUp),
            EventPayload::Mailed(e) => Ok(Event::Mailed(e.into())),
            EventPayload::DeliveryFailed(e) => e.try_into().map(Event::DeliveryFailed),
            EventPayload::Delivered(e) => e.try_into().map(Event::Delivered),
            EventPayload::CaseClosed(e) => e.try_into().map(Event::CaseClosed),
            EventPayload::RatingReceived(e) => Recorded::new(e, recorded.at).try_into().map(Event::RatingReceived),
            EventPayload::RectificationOpened(e) => e.try_into().map(Event::RectificationOpened),
            EventPayload::RectificationVerified(e) => e.try_into().map(Event::RectificationVerified),
            EventPayload::RectificationRectified(e) => e.try_into().map(Event::RectificationRectified),
            EventPayload::RectificationExplained(e) => e.try_into().map(Event::RectificationExplained),
            EventPayload::RectificationClosed(e) => e.try_into().map(Event::RectificationClosed),
            EventPayload::RatingMarkedInvalid(e) => e.try_into().map(Event::RatingMarkedInvalid),
            EventPayload::ReturnVisitSampled(e) => e.try_into().map(Event::ReturnVisitSampled),
            EventPayload::ReturnVisitRecorded(e) => e.try_into().map(Event::ReturnVisitRecorded),
            other => return Err(ConvertError::UnknownEventType(other.event_type().unwrap_or("?").to_owned())),
        };
        event.at(recorded.message.event_type().unwrap_or_default())
    }
}

// ---------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------

/// A file reference on the wire.
impl From<&FileRef> for pb::MaterialRef {
    fn from(f: &FileRef) -> Self {
        pb::MaterialRef {
            material_id: f.material_id.clone(),
            file_name: f.file_name.clone(),
            content_type: f.content_type.clone(),
            sha256_hex: f.sha256_hex.clone(),
            size_bytes: f.size_bytes,
            storage_key: f.storage_key.clone(),
        }
    }
}

/// A wire file reference as given (an upload is checked by
/// [`file_ref_violations`]).
impl From<&pb::MaterialRef> for FileRef {
    fn from(f: &pb::MaterialRef) -> Self {
        FileRef {
            material_id: f.material_id.clone(),
            file_name: f.file_name.clone(),
            content_type: f.content_type.clone(),
            sha256_hex: f.sha256_hex.clone(),
            size_bytes: f.size_bytes,
            storage_key: f.storage_key.clone(),
        }
    }
}

/// What is wrong with an uploaded file reference named `field`, as
/// (field, description) pairs; empty when it is well-formed.
pub fn file_ref_violations(field: &str, f: &pb::MaterialRef) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let name = f.file_name.trim().chars().count();
    if name == 0 || name > 255 {
        out.push((format!("{field}.file_name"), "文件名须为1至255个字符".to_owned()));
    }
    if f.sha256_hex.len() != 64 || !f.sha256_hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        out.push((format!("{field}.sha256_hex"), "须为64位小写十六进制 SHA-256".to_owned()));
    }
    if f.size_bytes == 0 {
        out.push((format!("{field}.size_bytes"), "文件大小须大于0".to_owned()));
    }
    out
}

/// An indicator score on the wire.
impl From<&IndicatorScore> for pb::IndicatorScore {
    fn from(i: &IndicatorScore) -> Self {
        pb::IndicatorScore { name: i.name.clone(), score: i.score }
    }
}

/// A wire indicator score as given.
impl From<&pb::IndicatorScore> for IndicatorScore {
    fn from(i: &pb::IndicatorScore) -> Self {
        IndicatorScore { name: i.name.clone(), score: i.score }
    }
}

enum_pair!(DeliveryMethod, pb::DeliveryMethod {
    WindowPickup <=> WindowPickup,
    Mail <=> Mail,
});
enum_pair!(CollectorKind, pb::CollectorKind {
    Applicant <=> Applicant,
    Agent <=> Agent,
});
enum_pair!(NotificationChannel, pb::NotificationChannel {
    Sms <=> Sms,
    PhoneCall <=> PhoneCall,
    Portal <=> Portal,
});
enum_pair!(DeliveryFailureReason, pb::DeliveryFailureReason {
    AddressInvalid <=> AddressInvalid,
    RecipientUnreachable <=> RecipientUnreachable,
    Refused <=> Refused,
    Lost <=> Lost,
    Other <=> Other,
});
enum_pair!(RectificationSource, pb::RectificationSource {
    BadRating <=> BadRating,
    Complaint <=> Complaint,
});
enum_pair!(RectificationFinding, pb::RectificationFinding {
    JustifiedSimple <=> JustifiedSimple,
    JustifiedComplex <=> JustifiedComplex,
    NoLegalBasis <=> NoLegalBasis,
});
enum_pair!(InvalidRatingReason, pb::InvalidRatingReason {
    Mistaken <=> Mistaken,
    Malicious <=> Malicious,
});
enum_pair!(ReturnVisitSampleReason, pb::ReturnVisitSampleReason {
    Random <=> Random,
    BadRating <=> BadRating,
});
enum_pair!(ReturnVisitMethod, pb::ReturnVisitMethod {
    Phone <=> Phone,
    Sms <=> Sms,
    Onsite <=> Onsite,
    Online <=> Online,
});
enum_pair!(BatchState, api::BatchState {
    Prepared <=> Prepared,
    Notified <=> Notified,
    Mailed <=> Mailed,
    DeliveryFailed <=> DeliveryFailed,
    Delivered <=> Delivered,
});
enum_pair!(RectificationState, api::RectificationState {
    Opened <=> Opened,
    Verified <=> Verified,
    Rectified <=> Rectified,
    Explained <=> Explained,
    Closed <=> Closed,
});

#[cfg(test)]
mod tests;
