//! Issuance conversions between `yiciban_domain::issuance` and the wire:
//!
//! - **events**: `From` / `TryFrom` between every issuance event and its
//!   `yiciban.events.v1` message, every value validated again; a stream's
//!   events as stored with [`encode_event`] / [`decode_event`]. A rating's
//!   `at` is not in the payload: it is the envelope's `occurred_at`, so it is
//!   read from a [`Recorded`] message.
//! - **read model** ([`issuance_to_pb`]): the `Issuance` message of
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

// ---------------------------------------------------------------------------
// A stream's events as stored
// ---------------------------------------------------------------------------

/// The event type (message name) and prost payload of an issuance event.
pub fn encode_event(event: &Event) -> (&'static str, Vec<u8>) {
    let payload = EventPayload::from(event);
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
// Events
// ---------------------------------------------------------------------------

impl From<&IssuancePrepared> for ev::IssuancePrepared {
    fn from(e: &IssuancePrepared) -> Self {
        ev::IssuancePrepared {
            case_number: e.case_number.to_string(),
            batch_number: e.batch_number,
            outcome: pb::CaseOutcome::from(e.outcome) as i32,
            documents: e.documents.iter().map(Into::into).collect(),
            method: pb::DeliveryMethod::from(e.method) as i32,
            issue_by: e.issue_by.map(pb::Date::from),
            early: e.early,
            early_reason: e.early_reason.clone(),
            final_batch: e.final_batch,
            promised_working_days: e.promised_working_days,
            working_days_used: e.working_days_used,
            decided_on_time: e.decided_on_time,
        }
    }
}

impl TryFrom<&ev::IssuancePrepared> for IssuancePrepared {
    type Error = ConvertError;

    fn try_from(e: &ev::IssuancePrepared) -> Result<Self, ConvertError> {
        Ok(IssuancePrepared {
            case_number: CaseNumber::parse(&e.case_number).at("case_number")?,
            batch_number: e.batch_number,
            // unset for an early batch, before the case is decided
            outcome: CaseOutcome::try_from(e.outcome()).ok(),
            documents: each(&e.documents, ResultDocument::try_from).at("documents")?,
            method: DeliveryMethod::try_from(e.method()).at("method")?,
            issue_by: optional_date(e.issue_by.as_ref()).at("issue_by")?,
            early: e.early,
            early_reason: e.early_reason.clone(),
            final_batch: e.final_batch,
            promised_working_days: e.promised_working_days,
            working_days_used: e.working_days_used,
            decided_on_time: e.decided_on_time,
        })
    }
}

impl From<&PickupNotified> for ev::PickupNotified {
    fn from(e: &PickupNotified) -> Self {
        ev::PickupNotified {
            batch_number: e.batch_number,
            channel: pb::NotificationChannel::from(e.channel) as i32,
            pickup_location: e.pickup_location.clone(),
            pickup_by: e.pickup_by.map(pb::Date::from),
        }
    }
}

impl TryFrom<&ev::PickupNotified> for PickupNotified {
    type Error = ConvertError;

    fn try_from(e: &ev::PickupNotified) -> Result<Self, ConvertError> {
        Ok(PickupNotified {
            batch_number: e.batch_number,
            channel: NotificationChannel::try_from(e.channel()).at("channel")?,
            pickup_location: e.pickup_location.clone(),
            pickup_by: optional_date(e.pickup_by.as_ref()).at("pickup_by")?,
        })
    }
}

impl From<&PickedUp> for ev::PickedUp {
    fn from(e: &PickedUp) -> Self {
        ev::PickedUp {
            batch_number: e.batch_number,
            collector: Some((&e.collector).into()),
            document_numbers: e.document_numbers.clone(),
            receipt: e.receipt.as_ref().map(Into::into),
        }
    }
}

impl TryFrom<&ev::PickedUp> for PickedUp {
    type Error = ConvertError;

    fn try_from(e: &ev::PickedUp) -> Result<Self, ConvertError> {
        Ok(PickedUp {
            batch_number: e.batch_number,
            collector: required(e.collector.as_ref()).and_then(Collector::try_from).at("collector")?,
            document_numbers: e.document_numbers.clone(),
            receipt: e.receipt.as_ref().map(Into::into),
        })
    }
}

/// The masked collector on the wire.
impl From<&Collector> for ev::Collector {
    fn from(c: &Collector) -> Self {
        ev::Collector {
            kind: pb::CollectorKind::from(c.kind) as i32,
            name_masked: c.name_masked.clone(),
            id_number_masked: c.id_number_masked.clone(),
            id_number_hmac: c.id_number_hmac.clone(),
            power_of_attorney: c.power_of_attorney.as_ref().map(Into::into),
        }
    }
}

impl TryFrom<&ev::Collector> for Collector {
    type Error = ConvertError;

    fn try_from(c: &ev::Collector) -> Result<Self, ConvertError> {
        Ok(Collector {
            kind: CollectorKind::try_from(c.kind()).at("kind")?,
            name_masked: c.name_masked.clone(),
            id_number_masked: c.id_number_masked.clone(),
            id_number_hmac: c.id_number_hmac.clone(),
            power_of_attorney: c.power_of_attorney.as_ref().map(Into::into),
        })
    }
}

impl From<&Mailed> for ev::Mailed {
    fn from(e: &Mailed) -> Self {
        ev::Mailed {
            batch_number: e.batch_number,
            courier: e.courier.clone(),
            tracking_number: e.tracking_number.clone(),
            document_numbers: e.document_numbers.clone(),
        }
    }
}

impl From<&ev::Mailed> for Mailed {
    fn from(e: &ev::Mailed) -> Self {
        Mailed {
            batch_number: e.batch_number,
            courier: e.courier.clone(),
            tracking_number: e.tracking_number.clone(),
            document_numbers: e.document_numbers.clone(),
        }
    }
}

impl From<&DeliveryFailed> for ev::DeliveryFailed {
    fn from(e: &DeliveryFailed) -> Self {
        ev::DeliveryFailed {
            batch_number: e.batch_number,
            tracking_number: e.tracking_number.clone(),
            reason: pb::DeliveryFailureReason::from(e.reason) as i32,
            detail: e.detail.clone(),
            attempt: e.attempt,
        }
    }
}

impl TryFrom<&ev::DeliveryFailed> for DeliveryFailed {
    type Error = ConvertError;

    fn try_from(e: &ev::DeliveryFailed) -> Result<Self, ConvertError> {
        Ok(DeliveryFailed {
            batch_number: e.batch_number,
            tracking_number: e.tracking_number.clone(),
            reason: DeliveryFailureReason::try_from(e.reason()).at("reason")?,
            detail: e.detail.clone(),
            attempt: e.attempt,
        })
    }
}

impl From<&Delivered> for ev::Delivered {
    fn from(e: &Delivered) -> Self {
        ev::Delivered {
            batch_number: e.batch_number,
            method: pb::DeliveryMethod::from(e.method) as i32,
            tracking_number: e.tracking_number.clone(),
            delivered_at: Some(timestamp(e.delivered_at)),
            receipt: e.receipt.as_ref().map(Into::into),
        }
    }
}

impl TryFrom<&ev::Delivered> for Delivered {
    type Error = ConvertError;

    fn try_from(e: &ev::Delivered) -> Result<Self, ConvertError> {
        Ok(Delivered {
            batch_number: e.batch_number,
            method: DeliveryMethod::try_from(e.method()).at("method")?,
            tracking_number: e.tracking_number.clone(),
            delivered_at: required(e.delivered_at.as_ref()).and_then(instant).at("delivered_at")?,
            receipt: e.receipt.as_ref().map(Into::into),
        })
    }
}

impl From<&CaseClosed> for ev::CaseClosed {
    fn from(e: &CaseClosed) -> Self {
        ev::CaseClosed {
            case_number: e.case_number.to_string(),
            outcome: pb::CaseOutcome::from(e.outcome) as i32,
            closed_on: Some(e.closed_on.into()),
            working_days_used: e.working_days_used,
            promised_working_days: e.promised_working_days,
            on_time: e.on_time,
        }
    }
}

impl TryFrom<&ev::CaseClosed> for CaseClosed {
    type Error = ConvertError;

    fn try_from(e: &ev::CaseClosed) -> Result<Self, ConvertError> {
        Ok(CaseClosed {
            case_number: CaseNumber::parse(&e.case_number).at("case_number")?,
            outcome: CaseOutcome::try_from(e.outcome()).at("outcome")?,
            closed_on: date(e.closed_on.as_ref()).at("closed_on")?,
            working_days_used: e.working_days_used,
            promised_working_days: e.promised_working_days,
            on_time: e.on_time,
        })
    }
}

impl From<&RatingReceived> for ev::RatingReceived {
    fn from(e: &RatingReceived) -> Self {
        ev::RatingReceived {
            rating_id: e.rating_id.to_string(),
            score: e.score,
            comment: e.comment.clone(),
            indicators: e.indicators.iter().map(Into::into).collect(),
            real_name: e.real_name,
            department: e.department.as_ref().map(ToString::to_string).unwrap_or_default(),
            channel: pb::Channel::from(e.channel) as i32,
        }
    }
}

impl TryFrom<Recorded<'_, ev::RatingReceived>> for RatingReceived {
    type Error = ConvertError;

    fn try_from(Recorded { message: e, at }: Recorded<'_, ev::RatingReceived>) -> Result<Self, ConvertError> {
        Ok(RatingReceived {
            rating_id: uuid(&e.rating_id).at("rating_id")?,
            score: e.score,
            comment: e.comment.clone(),
            indicators: e.indicators.iter().map(Into::into).collect(),
            real_name: e.real_name,
            department: optional_department(&e.department).at("department")?,
            // Ratings stored before the channel was recorded came online.
            channel: Channel::try_from(e.channel()).unwrap_or(Channel::Online),
            at,
        })
    }
}

fn optional_department(value: &str) -> Result<Option<DepartmentCode>, ConvertError> {
    if value.is_empty() { Ok(None) } else { Ok(Some(DepartmentCode::parse(value)?)) }
}

impl From<&RectificationOpened> for ev::RectificationOpened {
    fn from(e: &RectificationOpened) -> Self {
        ev::RectificationOpened {
            rectification_id: e.rectification_id.to_string(),
            source: pb::RectificationSource::from(e.source) as i32,
            rating_id: e.rating_id.map(|r| r.to_string()).unwrap_or_default(),
            complaint: e.complaint.clone(),
            responsible_department: e.responsible_department.to_string(),
            due_by: Some(e.due_by.into()),
        }
    }
}

impl TryFrom<&ev::RectificationOpened> for RectificationOpened {
    type Error = ConvertError;

    fn try_from(e: &ev::RectificationOpened) -> Result<Self, ConvertError> {
        Ok(RectificationOpened {
            rectification_id: uuid(&e.rectification_id).at("rectification_id")?,
            source: RectificationSource::try_from(e.source()).at("source")?,
            rating_id: optional_uuid(&e.rating_id).at("rating_id")?,
            complaint: e.complaint.clone(),
            responsible_department: DepartmentCode::parse(&e.responsible_department).at("responsible_department")?,
            due_by: date(e.due_by.as_ref()).at("due_by")?,
        })
    }
}

impl From<&RectificationVerified> for ev::RectificationVerified {
    fn from(e: &RectificationVerified) -> Self {
        ev::RectificationVerified {
            rectification_id: e.rectification_id.to_string(),
            finding: pb::RectificationFinding::from(e.finding) as i32,
            note: e.note.clone(),
            due_by: Some(e.due_by.into()),
        }
    }
}

impl TryFrom<&ev::RectificationVerified> for RectificationVerified {
    type Error = ConvertError;

    fn try_from(e: &ev::RectificationVerified) -> Result<Self, ConvertError> {
        Ok(RectificationVerified {
            rectification_id: uuid(&e.rectification_id).at("rectification_id")?,
            finding: RectificationFinding::try_from(e.finding()).at("finding")?,
            note: e.note.clone(),
            due_by: date(e.due_by.as_ref()).at("due_by")?,
        })
    }
}

impl From<&RectificationRectified> for ev::RectificationRectified {
    fn from(e: &RectificationRectified) -> Self {
        ev::RectificationRectified {
            rectification_id: e.rectification_id.to_string(),
            measures: e.measures.clone(),
            evidence: e.evidence.iter().map(Into::into).collect(),
        }
    }
}

impl TryFrom<&ev::RectificationRectified> for RectificationRectified {
    type Error = ConvertError;

    fn try_from(e: &ev::RectificationRectified) -> Result<Self, ConvertError> {
        Ok(RectificationRectified {
            rectification_id: uuid(&e.rectification_id).at("rectification_id")?,
            measures: e.measures.clone(),
            evidence: e.evidence.iter().map(Into::into).collect(),
        })
    }
}

impl From<&RectificationExplained> for ev::RectificationExplained {
    fn from(e: &RectificationExplained) -> Self {
        ev::RectificationExplained {
            rectification_id: e.rectification_id.to_string(),
            explanation: e.explanation.clone(),
            legal_basis: e.legal_basis.clone(),
        }
    }
}

impl TryFrom<&ev::RectificationExplained> for RectificationExplained {
    type Error = ConvertError;

    fn try_from(e: &ev::RectificationExplained) -> Result<Self, ConvertError> {
        Ok(RectificationExplained {
            rectification_id: uuid(&e.rectification_id).at("rectification_id")?,
            explanation: e.explanation.clone(),
            legal_basis: e.legal_basis.clone(),
        })
    }
}

impl From<&RectificationClosed> for ev::RectificationClosed {
    fn from(e: &RectificationClosed) -> Self {
        ev::RectificationClosed {
            rectification_id: e.rectification_id.to_string(),
            applicant_satisfied: e.applicant_satisfied,
            note: e.note.clone(),
            on_time: e.on_time,
        }
    }
}

impl TryFrom<&ev::RectificationClosed> for RectificationClosed {
    type Error = ConvertError;

    fn try_from(e: &ev::RectificationClosed) -> Result<Self, ConvertError> {
        Ok(RectificationClosed {
            rectification_id: uuid(&e.rectification_id).at("rectification_id")?,
            applicant_satisfied: e.applicant_satisfied,
            note: e.note.clone(),
            on_time: e.on_time,
        })
    }
}

impl From<&RatingMarkedInvalid> for ev::RatingMarkedInvalid {
    fn from(e: &RatingMarkedInvalid) -> Self {
        ev::RatingMarkedInvalid {
            rating_id: e.rating_id.to_string(),
            reason: pb::InvalidRatingReason::from(e.reason) as i32,
            note: e.note.clone(),
        }
    }
}

impl TryFrom<&ev::RatingMarkedInvalid> for RatingMarkedInvalid {
    type Error = ConvertError;

    fn try_from(e: &ev::RatingMarkedInvalid) -> Result<Self, ConvertError> {
        Ok(RatingMarkedInvalid {
            rating_id: uuid(&e.rating_id).at("rating_id")?,
            reason: InvalidRatingReason::try_from(e.reason()).at("reason")?,
            note: e.note.clone(),
        })
    }
}

impl From<&ReturnVisitSampled> for ev::ReturnVisitSampled {
    fn from(e: &ReturnVisitSampled) -> Self {
        ev::ReturnVisitSampled {
            visit_id: e.visit_id.to_string(),
            sample_id: e.sample_id.to_string(),
            period: e.period.clone(),
            reason: pb::ReturnVisitSampleReason::from(e.reason) as i32,
        }
    }
}

impl TryFrom<&ev::ReturnVisitSampled> for ReturnVisitSampled {
    type Error = ConvertError;

    fn try_from(e: &ev::ReturnVisitSampled) -> Result<Self, ConvertError> {
        Ok(ReturnVisitSampled {
            visit_id: uuid(&e.visit_id).at("visit_id")?,
            sample_id: uuid(&e.sample_id).at("sample_id")?,
            period: e.period.clone(),
            reason: ReturnVisitSampleReason::try_from(e.reason()).at("reason")?,
        })
    }
}

impl From<&ReturnVisitRecorded> for ev::ReturnVisitRecorded {
    fn from(e: &ReturnVisitRecorded) -> Self {
        ev::ReturnVisitRecorded {
            visit_id: e.visit_id.to_string(),
            method: pb::ReturnVisitMethod::from(e.method) as i32,
            reached: e.reached,
            score: e.score,
            note: e.note.clone(),
            visited_at: Some(timestamp(e.visited_at)),
        }
    }
}

impl TryFrom<&ev::ReturnVisitRecorded> for ReturnVisitRecorded {
    type Error = ConvertError;

    fn try_from(e: &ev::ReturnVisitRecorded) -> Result<Self, ConvertError> {
        Ok(ReturnVisitRecorded {
            visit_id: uuid(&e.visit_id).at("visit_id")?,
            method: ReturnVisitMethod::try_from(e.method()).at("method")?,
            reached: e.reached,
            score: e.score,
            note: e.note.clone(),
            visited_at: required(e.visited_at.as_ref()).and_then(instant).at("visited_at")?,
        })
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

// ---------------------------------------------------------------------------
// Read model
// ---------------------------------------------------------------------------

/// A batch on the wire.
impl From<&Batch> for api::Batch {
    fn from(b: &Batch) -> Self {
        api::Batch {
            batch_number: b.number,
            state: api::BatchState::from(b.state) as i32,
            method: pb::DeliveryMethod::from(b.method) as i32,
            documents: b.documents.iter().map(Into::into).collect(),
            early: b.early,
            final_batch: b.final_batch,
            issue_by: b.issue_by.map(pb::Date::from),
            courier: b.courier.clone(),
            tracking_number: b.tracking_number.clone(),
            failed_attempts: b.failed_attempts,
            collector_kind: pb::CollectorKind::from(b.collector_kind) as i32,
            delivered_at: b.delivered_at.map(timestamp),
        }
    }
}

/// A rating on the wire.
impl From<&Rating> for api::Rating {
    fn from(r: &Rating) -> Self {
        let e = &r.received;
        api::Rating {
            rating_id: e.rating_id.to_string(),
            score: e.score,
            comment: e.comment.clone(),
            indicators: e.indicators.iter().map(Into::into).collect(),
            real_name: e.real_name,
            department: e.department.as_ref().map(ToString::to_string).unwrap_or_default(),
            channel: pb::Channel::from(e.channel) as i32,
            rated_at: Some(timestamp(e.at)),
            invalid: r.invalid.is_some(),
            invalid_reason: pb::InvalidRatingReason::from(r.invalid) as i32,
        }
    }
}

/// A rectification on the wire.
impl From<&Rectification> for api::Rectification {
    fn from(r: &Rectification) -> Self {
        api::Rectification {
            rectification_id: r.id.to_string(),
            source: pb::RectificationSource::from(r.source) as i32,
            rating_id: r.rating_id.map(|id| id.to_string()).unwrap_or_default(),
            responsible_department: r.responsible_department.to_string(),
            state: api::RectificationState::from(r.state) as i32,
            finding: pb::RectificationFinding::from(r.finding) as i32,
            due_by: Some(r.due_by.into()),
            outcome_text: r.outcome_text.clone(),
            applicant_satisfied: r.applicant_satisfied,
        }
    }
}

/// A return visit on the wire.
impl From<&ReturnVisit> for api::ReturnVisit {
    fn from(v: &ReturnVisit) -> Self {
        let (method, reached, score, note) = match &v.result {
            Some((method, reached, score, note)) => (Some(*method), *reached, *score, note.clone()),
            None => (None, false, 0, String::new()),
        };
        api::ReturnVisit {
            visit_id: v.id.to_string(),
            reason: pb::ReturnVisitSampleReason::from(v.reason) as i32,
            period: v.period.clone(),
            recorded: v.result.is_some(),
            method: pb::ReturnVisitMethod::from(method) as i32,
            reached,
            score,
            note,
        }
    }
}

/// The `Issuance` message of a case's state.
pub fn issuance_to_pb(case_id: Uuid, s: &CaseIssuance) -> api::Issuance {
    api::Issuance {
        case_id: case_id.to_string(),
        case_number: s.case_number.map(|n| n.to_string()).unwrap_or_default(),
        outcome: pb::CaseOutcome::from(s.outcome) as i32,
        batches: s.batches.iter().map(Into::into).collect(),
        closed: s.closed(),
        closed_on: s.closed_on.map(pb::Date::from),
        ratings: s.ratings.iter().map(Into::into).collect(),
        rectifications: s.rectifications.iter().map(Into::into).collect(),
        return_visits: s.return_visits.iter().map(Into::into).collect(),
        version: s.version,
    }
}

#[cfg(test)]
#[path = "issuance_tests.rs"]
mod tests;
