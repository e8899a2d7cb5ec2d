//! Issuance conversions between `yiciban_domain::issuance` and the wire:
//!
//! - **events** ([`encode_event`], [`decode_event`]): an issuance event and
//!   the prost payload of its `yiciban.events.v1` message, named by the
//!   message name. A rating's `at` is not in the payload: it is the
//!   envelope's `occurred_at`, handed back to [`decode_event`].
//! - **read model** ([`issuance_to_pb`]): the `Issuance` message of
//!   GetIssuance.
//! - **values**: the enums of `yiciban.common.v1` both ways (`*_from_pb`
//!   returns `None` for UNSPECIFIED and unknown values), file references,
//!   indicator scores. Result documents use
//!   [`super::routing::result_document_to_pb`] and
//!   [`super::routing::result_document_from_pb`].

use chrono::{DateTime, Utc};
use prost::{Message, Name};
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

use super::intake::{
    ConvertError, channel_from_pb, channel_to_pb, checked, date, date_from_pb, date_to_pb, invalid, timestamp,
};
use super::routing::{result_document_from_pb, result_document_to_pb};
use crate::common::v1 as pb;
use crate::events::v1 as ev;
use crate::issuance::v1 as api;

// ---------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------

/// The event type (message name) and prost payload of an issuance event.
pub fn encode_event(event: &Event) -> (&'static str, Vec<u8>) {
    match event {
        Event::IssuancePrepared(e) => (ev::IssuancePrepared::NAME, prepared_to_pb(e).encode_to_vec()),
        Event::PickupNotified(e) => (
            ev::PickupNotified::NAME,
            ev::PickupNotified {
                batch_number: e.batch_number,
                channel: notification_channel_to_pb(e.channel) as i32,
                pickup_location: e.pickup_location.clone(),
                pickup_by: e.pickup_by.map(date_to_pb),
            }
            .encode_to_vec(),
        ),
        Event::PickedUp(e) => (
            ev::PickedUp::NAME,
            ev::PickedUp {
                batch_number: e.batch_number,
                collector: Some(collector_to_pb(&e.collector)),
                document_numbers: e.document_numbers.clone(),
                receipt: e.receipt.as_ref().map(file_ref_to_pb),
            }
            .encode_to_vec(),
        ),
        Event::Mailed(e) => (
            ev::Mailed::NAME,
            ev::Mailed {
                batch_number: e.batch_number,
                courier: e.courier.clone(),
                tracking_number: e.tracking_number.clone(),
                document_numbers: e.document_numbers.clone(),
            }
            .encode_to_vec(),
        ),
        Event::DeliveryFailed(e) => (
            ev::DeliveryFailed::NAME,
            ev::DeliveryFailed {
                batch_number: e.batch_number,
                tracking_number: e.tracking_number.clone(),
                reason: failure_reason_to_pb(e.reason) as i32,
                detail: e.detail.clone(),
                attempt: e.attempt,
            }
            .encode_to_vec(),
        ),
        Event::Delivered(e) => (
            ev::Delivered::NAME,
            ev::Delivered {
                batch_number: e.batch_number,
                method: delivery_method_to_pb(e.method) as i32,
                tracking_number: e.tracking_number.clone(),
                delivered_at: Some(timestamp(e.delivered_at)),
                receipt: e.receipt.as_ref().map(file_ref_to_pb),
            }
            .encode_to_vec(),
        ),
        Event::CaseClosed(e) => (
            ev::CaseClosed::NAME,
            ev::CaseClosed {
                case_number: e.case_number.to_string(),
                outcome: outcome_to_pb(e.outcome) as i32,
                closed_on: Some(date_to_pb(e.closed_on)),
                working_days_used: e.working_days_used,
                promised_working_days: e.promised_working_days,
                on_time: e.on_time,
            }
            .encode_to_vec(),
        ),
        Event::RatingReceived(e) => (
            ev::RatingReceived::NAME,
            ev::RatingReceived {
                rating_id: e.rating_id.to_string(),
                score: e.score,
                comment: e.comment.clone(),
                indicators: e.indicators.iter().map(indicator_to_pb).collect(),
                real_name: e.real_name,
                department: e.department.as_ref().map(|d| d.as_str().to_owned()).unwrap_or_default(),
                channel: channel_to_pb(e.channel) as i32,
            }
            .encode_to_vec(),
        ),
        Event::RectificationOpened(e) => (
            ev::RectificationOpened::NAME,
            ev::RectificationOpened {
                rectification_id: e.rectification_id.to_string(),
                source: source_to_pb(e.source) as i32,
                rating_id: e.rating_id.map(|r| r.to_string()).unwrap_or_default(),
                complaint: e.complaint.clone(),
                responsible_department: e.responsible_department.as_str().to_owned(),
                due_by: Some(date_to_pb(e.due_by)),
            }
            .encode_to_vec(),
        ),
        Event::RectificationVerified(e) => (
            ev::RectificationVerified::NAME,
            ev::RectificationVerified {
                rectification_id: e.rectification_id.to_string(),
                finding: finding_to_pb(e.finding) as i32,
                note: e.note.clone(),
                due_by: Some(date_to_pb(e.due_by)),
            }
            .encode_to_vec(),
        ),
        Event::RectificationRectified(e) => (
            ev::RectificationRectified::NAME,
            ev::RectificationRectified {
                rectification_id: e.rectification_id.to_string(),
                measures: e.measures.clone(),
                evidence: e.evidence.iter().map(file_ref_to_pb).collect(),
            }
            .encode_to_vec(),
        ),
        Event::RectificationExplained(e) => (
            ev::RectificationExplained::NAME,
            ev::RectificationExplained {
                rectification_id: e.rectification_id.to_string(),
                explanation: e.explanation.clone(),
                legal_basis: e.legal_basis.clone(),
            }
            .encode_to_vec(),
        ),
        Event::RectificationClosed(e) => (
            ev::RectificationClosed::NAME,
            ev::RectificationClosed {
                rectification_id: e.rectification_id.to_string(),
                applicant_satisfied: e.applicant_satisfied,
                note: e.note.clone(),
                on_time: e.on_time,
            }
            .encode_to_vec(),
        ),
        Event::RatingMarkedInvalid(e) => (
            ev::RatingMarkedInvalid::NAME,
            ev::RatingMarkedInvalid {
                rating_id: e.rating_id.to_string(),
                reason: invalid_reason_to_pb(e.reason) as i32,
                note: e.note.clone(),
            }
            .encode_to_vec(),
        ),
        Event::ReturnVisitSampled(e) => (
            ev::ReturnVisitSampled::NAME,
            ev::ReturnVisitSampled {
                visit_id: e.visit_id.to_string(),
                sample_id: e.sample_id.to_string(),
                period: e.period.clone(),
                reason: sample_reason_to_pb(e.reason) as i32,
            }
            .encode_to_vec(),
        ),
        Event::ReturnVisitRecorded(e) => (
            ev::ReturnVisitRecorded::NAME,
            ev::ReturnVisitRecorded {
                visit_id: e.visit_id.to_string(),
                method: visit_method_to_pb(e.method) as i32,
                reached: e.reached,
                score: e.score,
                note: e.note.clone(),
                visited_at: Some(timestamp(e.visited_at)),
            }
            .encode_to_vec(),
        ),
    }
}

/// The issuance event of a stored `event_type` and payload, recorded at
/// `at` (the envelope's `occurred_at`): the inverse of [`encode_event`],
/// every value validated again.
pub fn decode_event(event_type: &str, payload: &[u8], at: DateTime<Utc>) -> Result<Event, ConvertError> {
    fn message<M: Message + Name + Default>(payload: &[u8]) -> Result<M, ConvertError> {
        M::decode(payload).map_err(|source| ConvertError::Decode { event_type: M::NAME, source })
    }
    fn required<T>(at: &str, field: &str, value: Option<T>) -> Result<T, ConvertError> {
        value.ok_or_else(|| invalid(format!("{at}.{field}"), "not set"))
    }
    Ok(match event_type {
        ev::IssuancePrepared::NAME => Event::IssuancePrepared(prepared_from_pb(&message(payload)?)?),
        ev::PickupNotified::NAME => {
            const AT: &str = "PickupNotified";
            let e: ev::PickupNotified = message(payload)?;
            Event::PickupNotified(PickupNotified {
                batch_number: e.batch_number,
                channel: required(AT, "channel", notification_channel_from_pb(e.channel))?,
                pickup_location: e.pickup_location,
                pickup_by: optional_date(AT, "pickup_by", e.pickup_by.as_ref())?,
            })
        }
        ev::PickedUp::NAME => {
            const AT: &str = "PickedUp";
            let e: ev::PickedUp = message(payload)?;
            let c = e.collector.as_ref().ok_or_else(|| invalid(format!("{AT}.collector"), "missing"))?;
            Event::PickedUp(PickedUp {
                batch_number: e.batch_number,
                collector: Collector {
                    kind: required(AT, "collector.kind", collector_kind_from_pb(c.kind))?,
                    name_masked: c.name_masked.clone(),
                    id_number_masked: c.id_number_masked.clone(),
                    id_number_hmac: c.id_number_hmac.clone(),
                    power_of_attorney: c.power_of_attorney.as_ref().map(file_ref_from_pb),
                },
                document_numbers: e.document_numbers,
                receipt: e.receipt.as_ref().map(file_ref_from_pb),
            })
        }
        ev::Mailed::NAME => {
            let e: ev::Mailed = message(payload)?;
            Event::Mailed(Mailed {
                batch_number: e.batch_number,
                courier: e.courier,
                tracking_number: e.tracking_number,
                document_numbers: e.document_numbers,
            })
        }
        ev::DeliveryFailed::NAME => {
            let e: ev::DeliveryFailed = message(payload)?;
            Event::DeliveryFailed(DeliveryFailed {
                batch_number: e.batch_number,
                tracking_number: e.tracking_number,
                reason: required("DeliveryFailed", "reason", failure_reason_from_pb(e.reason))?,
                detail: e.detail,
                attempt: e.attempt,
            })
        }
        ev::Delivered::NAME => {
            const AT: &str = "Delivered";
            let e: ev::Delivered = message(payload)?;
            Event::Delivered(Delivered {
                batch_number: e.batch_number,
                method: required(AT, "method", delivery_method_from_pb(e.method))?,
                tracking_number: e.tracking_number,
                delivered_at: instant(AT, "delivered_at", e.delivered_at.as_ref())?,
                receipt: e.receipt.as_ref().map(file_ref_from_pb),
            })
        }
        ev::CaseClosed::NAME => {
            const AT: &str = "CaseClosed";
            let e: ev::CaseClosed = message(payload)?;
            Event::CaseClosed(CaseClosed {
                case_number: checked(AT, "case_number", CaseNumber::parse(&e.case_number))?,
                outcome: required(AT, "outcome", outcome_from_pb(e.outcome))?,
                closed_on: date(AT, "closed_on", e.closed_on.as_ref())?,
                working_days_used: e.working_days_used,
                promised_working_days: e.promised_working_days,
                on_time: e.on_time,
            })
        }
        ev::RatingReceived::NAME => {
            const AT: &str = "RatingReceived";
            let e: ev::RatingReceived = message(payload)?;
            Event::RatingReceived(RatingReceived {
                rating_id: uuid(AT, "rating_id", &e.rating_id)?,
                score: e.score,
                comment: e.comment,
                indicators: e.indicators.iter().map(indicator_from_pb).collect(),
                real_name: e.real_name,
                department: optional_department(AT, "department", &e.department)?,
                // Ratings stored before the channel was recorded came online.
                channel: channel_from_pb(e.channel).unwrap_or(Channel::Online),
                at,
            })
        }
        ev::RectificationOpened::NAME => {
            const AT: &str = "RectificationOpened";
            let e: ev::RectificationOpened = message(payload)?;
            Event::RectificationOpened(RectificationOpened {
                rectification_id: uuid(AT, "rectification_id", &e.rectification_id)?,
                source: required(AT, "source", source_from_pb(e.source))?,
                rating_id: if e.rating_id.is_empty() { None } else { Some(uuid(AT, "rating_id", &e.rating_id)?) },
                complaint: e.complaint,
                responsible_department: checked(
                    AT,
                    "responsible_department",
                    DepartmentCode::parse(&e.responsible_department),
                )?,
                due_by: date(AT, "due_by", e.due_by.as_ref())?,
            })
        }
        ev::RectificationVerified::NAME => {
            const AT: &str = "RectificationVerified";
            let e: ev::RectificationVerified = message(payload)?;
            Event::RectificationVerified(RectificationVerified {
                rectification_id: uuid(AT, "rectification_id", &e.rectification_id)?,
                finding: required(AT, "finding", finding_from_pb(e.finding))?,
                note: e.note,
                due_by: date(AT, "due_by", e.due_by.as_ref())?,
            })
        }
        ev::RectificationRectified::NAME => {
            let e: ev::RectificationRectified = message(payload)?;
            Event::RectificationRectified(RectificationRectified {
                rectification_id: uuid("RectificationRectified", "rectification_id", &e.rectification_id)?,
                measures: e.measures,
                evidence: e.evidence.iter().map(file_ref_from_pb).collect(),
            })
        }
        ev::RectificationExplained::NAME => {
            let e: ev::RectificationExplained = message(payload)?;
            Event::RectificationExplained(RectificationExplained {
                rectification_id: uuid("RectificationExplained", "rectification_id", &e.rectification_id)?,
                explanation: e.explanation,
                legal_basis: e.legal_basis,
            })
        }
        ev::RectificationClosed::NAME => {
            let e: ev::RectificationClosed = message(payload)?;
            Event::RectificationClosed(RectificationClosed {
                rectification_id: uuid("RectificationClosed", "rectification_id", &e.rectification_id)?,
                applicant_satisfied: e.applicant_satisfied,
                note: e.note,
                on_time: e.on_time,
            })
        }
        ev::RatingMarkedInvalid::NAME => {
            const AT: &str = "RatingMarkedInvalid";
            let e: ev::RatingMarkedInvalid = message(payload)?;
            Event::RatingMarkedInvalid(RatingMarkedInvalid {
                rating_id: uuid(AT, "rating_id", &e.rating_id)?,
                reason: required(AT, "reason", invalid_reason_from_pb(e.reason))?,
                note: e.note,
            })
        }
        ev::ReturnVisitSampled::NAME => {
            const AT: &str = "ReturnVisitSampled";
            let e: ev::ReturnVisitSampled = message(payload)?;
            Event::ReturnVisitSampled(ReturnVisitSampled {
                visit_id: uuid(AT, "visit_id", &e.visit_id)?,
                sample_id: uuid(AT, "sample_id", &e.sample_id)?,
                period: e.period,
                reason: required(AT, "reason", sample_reason_from_pb(e.reason))?,
            })
        }
        ev::ReturnVisitRecorded::NAME => {
            const AT: &str = "ReturnVisitRecorded";
            let e: ev::ReturnVisitRecorded = message(payload)?;
            Event::ReturnVisitRecorded(ReturnVisitRecorded {
                visit_id: uuid(AT, "visit_id", &e.visit_id)?,
                method: required(AT, "method", visit_method_from_pb(e.method))?,
                reached: e.reached,
                score: e.score,
                note: e.note,
                visited_at: instant(AT, "visited_at", e.visited_at.as_ref())?,
            })
        }
        other => return Err(ConvertError::UnknownEventType(other.to_owned())),
    })
}

fn uuid(at: &str, field: &str, value: &str) -> Result<Uuid, ConvertError> {
    Uuid::parse_str(value).map_err(|_| invalid(format!("{at}.{field}"), "not a UUID"))
}

fn optional_date(at: &str, field: &str, value: Option<&pb::Date>) -> Result<Option<chrono::NaiveDate>, ConvertError> {
    value.map(|d| date_from_pb(d).ok_or_else(|| invalid(format!("{at}.{field}"), "not a calendar date"))).transpose()
}

fn optional_department(at: &str, field: &str, value: &str) -> Result<Option<DepartmentCode>, ConvertError> {
    if value.is_empty() { Ok(None) } else { checked(at, field, DepartmentCode::parse(value)).map(Some) }
}

/// A wire timestamp as an instant; `None` when it is out of range.
pub fn instant_from_pb(t: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?)
}

fn instant(at: &str, field: &str, value: Option<&prost_types::Timestamp>) -> Result<DateTime<Utc>, ConvertError> {
    let t = value.ok_or_else(|| invalid(format!("{at}.{field}"), "missing"))?;
    instant_from_pb(t).ok_or_else(|| invalid(format!("{at}.{field}"), "not a valid instant"))
}

fn prepared_to_pb(e: &IssuancePrepared) -> ev::IssuancePrepared {
    ev::IssuancePrepared {
        case_number: e.case_number.to_string(),
        batch_number: e.batch_number,
        outcome: e.outcome.map_or(pb::CaseOutcome::Unspecified, outcome_to_pb) as i32,
        documents: e.documents.iter().map(result_document_to_pb).collect(),
        method: delivery_method_to_pb(e.method) as i32,
        issue_by: e.issue_by.map(date_to_pb),
        early: e.early,
        early_reason: e.early_reason.clone(),
        final_batch: e.final_batch,
        promised_working_days: e.promised_working_days,
        working_days_used: e.working_days_used,
        decided_on_time: e.decided_on_time,
    }
}

fn prepared_from_pb(e: &ev::IssuancePrepared) -> Result<IssuancePrepared, ConvertError> {
    const AT: &str = "IssuancePrepared";
    let documents = e
        .documents
        .iter()
        .enumerate()
        .map(|(i, d)| result_document_from_pb(&format!("{AT}.documents[{i}]"), d))
        .collect::<Result<Vec<ResultDocument>, _>>()?;
    Ok(IssuancePrepared {
        case_number: checked(AT, "case_number", CaseNumber::parse(&e.case_number))?,
        batch_number: e.batch_number,
        outcome: outcome_from_pb(e.outcome),
        documents,
        method: delivery_method_from_pb(e.method).ok_or_else(|| invalid(format!("{AT}.method"), "not set"))?,
        issue_by: optional_date(AT, "issue_by", e.issue_by.as_ref())?,
        early: e.early,
        early_reason: e.early_reason.clone(),
        final_batch: e.final_batch,
        promised_working_days: e.promised_working_days,
        working_days_used: e.working_days_used,
        decided_on_time: e.decided_on_time,
    })
}

// ---------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------

/// A file reference on the wire.
pub fn file_ref_to_pb(f: &FileRef) -> pb::MaterialRef {
    pb::MaterialRef {
        material_id: f.material_id.clone(),
        file_name: f.file_name.clone(),
        content_type: f.content_type.clone(),
        sha256_hex: f.sha256_hex.clone(),
        size_bytes: f.size_bytes,
        storage_key: f.storage_key.clone(),
    }
}

/// A wire file reference as given (checked by [`file_ref_violations`]).
pub fn file_ref_from_pb(f: &pb::MaterialRef) -> FileRef {
    FileRef {
        material_id: f.material_id.clone(),
        file_name: f.file_name.clone(),
        content_type: f.content_type.clone(),
        sha256_hex: f.sha256_hex.clone(),
        size_bytes: f.size_bytes,
        storage_key: f.storage_key.clone(),
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
pub fn indicator_to_pb(i: &IndicatorScore) -> pb::IndicatorScore {
    pb::IndicatorScore { name: i.name.clone(), score: i.score }
}

/// A wire indicator score as given.
pub fn indicator_from_pb(i: &pb::IndicatorScore) -> IndicatorScore {
    IndicatorScore { name: i.name.clone(), score: i.score }
}

/// The masked collector on the wire.
pub fn collector_to_pb(c: &Collector) -> ev::Collector {
    ev::Collector {
        kind: collector_kind_to_pb(c.kind) as i32,
        name_masked: c.name_masked.clone(),
        id_number_masked: c.id_number_masked.clone(),
        id_number_hmac: c.id_number_hmac.clone(),
        power_of_attorney: c.power_of_attorney.as_ref().map(file_ref_to_pb),
    }
}

macro_rules! enum_pair {
    ($to:ident, $from:ident, $domain:ty, $wire:ty, { $($d:ident => $w:ident),+ $(,)? }) => {
        /// The wire value of a domain value.
        pub fn $to(value: $domain) -> $wire {
            match value {
                $(<$domain>::$d => <$wire>::$w,)+
            }
        }

        /// The domain value of a wire value; `None` for UNSPECIFIED and
        /// values this build does not know.
        pub fn $from(value: i32) -> Option<$domain> {
            match <$wire>::try_from(value).ok()? {
                $(<$wire>::$w => Some(<$domain>::$d),)+
                #[allow(unreachable_patterns)]
                _ => None,
            }
        }
    };
}

enum_pair!(delivery_method_to_pb, delivery_method_from_pb, DeliveryMethod, pb::DeliveryMethod, {
    WindowPickup => WindowPickup,
    Mail => Mail,
});
enum_pair!(collector_kind_to_pb, collector_kind_from_pb, CollectorKind, pb::CollectorKind, {
    Applicant => Applicant,
    Agent => Agent,
});
enum_pair!(notification_channel_to_pb, notification_channel_from_pb, NotificationChannel, pb::NotificationChannel, {
    Sms => Sms,
    PhoneCall => PhoneCall,
    Portal => Portal,
});
enum_pair!(failure_reason_to_pb, failure_reason_from_pb, DeliveryFailureReason, pb::DeliveryFailureReason, {
    AddressInvalid => AddressInvalid,
    RecipientUnreachable => RecipientUnreachable,
    Refused => Refused,
    Lost => Lost,
    Other => Other,
});
enum_pair!(source_to_pb, source_from_pb, RectificationSource, pb::RectificationSource, {
    BadRating => BadRating,
    Complaint => Complaint,
});
enum_pair!(finding_to_pb, finding_from_pb, RectificationFinding, pb::RectificationFinding, {
    JustifiedSimple => JustifiedSimple,
    JustifiedComplex => JustifiedComplex,
    NoLegalBasis => NoLegalBasis,
});
enum_pair!(invalid_reason_to_pb, invalid_reason_from_pb, InvalidRatingReason, pb::InvalidRatingReason, {
    Mistaken => Mistaken,
    Malicious => Malicious,
});
enum_pair!(sample_reason_to_pb, sample_reason_from_pb, ReturnVisitSampleReason, pb::ReturnVisitSampleReason, {
    Random => Random,
    BadRating => BadRating,
});
enum_pair!(visit_method_to_pb, visit_method_from_pb, ReturnVisitMethod, pb::ReturnVisitMethod, {
    Phone => Phone,
    Sms => Sms,
    Onsite => Onsite,
    Online => Online,
});
enum_pair!(outcome_to_pb, outcome_from_pb, CaseOutcome, pb::CaseOutcome, {
    Approved => Approved,
    Denied => Denied,
});

/// The wire state of a batch.
pub fn batch_state_to_pb(state: BatchState) -> api::BatchState {
    match state {
        BatchState::Prepared => api::BatchState::Prepared,
        BatchState::Notified => api::BatchState::Notified,
        BatchState::Mailed => api::BatchState::Mailed,
        BatchState::DeliveryFailed => api::BatchState::DeliveryFailed,
        BatchState::Delivered => api::BatchState::Delivered,
    }
}

/// The wire state of a rectification.
pub fn rectification_state_to_pb(state: RectificationState) -> api::RectificationState {
    match state {
        RectificationState::Opened => api::RectificationState::Opened,
        RectificationState::Verified => api::RectificationState::Verified,
        RectificationState::Rectified => api::RectificationState::Rectified,
        RectificationState::Explained => api::RectificationState::Explained,
        RectificationState::Closed => api::RectificationState::Closed,
    }
}

// ---------------------------------------------------------------------------
// Read model
// ---------------------------------------------------------------------------

/// A batch on the wire.
pub fn batch_to_pb(b: &Batch) -> api::Batch {
    api::Batch {
        batch_number: b.number,
        state: batch_state_to_pb(b.state) as i32,
        method: delivery_method_to_pb(b.method) as i32,
        documents: b.documents.iter().map(result_document_to_pb).collect(),
        early: b.early,
        final_batch: b.final_batch,
        issue_by: b.issue_by.map(date_to_pb),
        courier: b.courier.clone(),
        tracking_number: b.tracking_number.clone(),
        failed_attempts: b.failed_attempts,
        collector_kind: b.collector_kind.map_or(pb::CollectorKind::Unspecified, collector_kind_to_pb) as i32,
        delivered_at: b.delivered_at.map(timestamp),
    }
}

/// A rating on the wire.
pub fn rating_to_pb(r: &Rating) -> api::Rating {
    let e = &r.received;
    api::Rating {
        rating_id: e.rating_id.to_string(),
        score: e.score,
        comment: e.comment.clone(),
        indicators: e.indicators.iter().map(indicator_to_pb).collect(),
        real_name: e.real_name,
        department: e.department.as_ref().map(|d| d.as_str().to_owned()).unwrap_or_default(),
        channel: channel_to_pb(e.channel) as i32,
        rated_at: Some(timestamp(e.at)),
        invalid: r.invalid.is_some(),
        invalid_reason: r.invalid.map_or(pb::InvalidRatingReason::Unspecified, invalid_reason_to_pb) as i32,
    }
}

/// A rectification on the wire.
pub fn rectification_to_pb(r: &Rectification) -> api::Rectification {
    api::Rectification {
        rectification_id: r.id.to_string(),
        source: source_to_pb(r.source) as i32,
        rating_id: r.rating_id.map(|id| id.to_string()).unwrap_or_default(),
        responsible_department: r.responsible_department.as_str().to_owned(),
        state: rectification_state_to_pb(r.state) as i32,
        finding: r.finding.map_or(pb::RectificationFinding::Unspecified, finding_to_pb) as i32,
        due_by: Some(date_to_pb(r.due_by)),
        outcome_text: r.outcome_text.clone(),
        applicant_satisfied: r.applicant_satisfied,
    }
}

/// A return visit on the wire.
pub fn return_visit_to_pb(v: &ReturnVisit) -> api::ReturnVisit {
    let (method, reached, score, note) = match &v.result {
        Some((method, reached, score, note)) => (visit_method_to_pb(*method), *reached, *score, note.clone()),
        None => (pb::ReturnVisitMethod::Unspecified, false, 0, String::new()),
    };
    api::ReturnVisit {
        visit_id: v.id.to_string(),
        reason: sample_reason_to_pb(v.reason) as i32,
        period: v.period.clone(),
        recorded: v.result.is_some(),
        method: method as i32,
        reached,
        score,
        note,
    }
}

/// The `Issuance` message of a case's state.
pub fn issuance_to_pb(case_id: Uuid, s: &CaseIssuance) -> api::Issuance {
    api::Issuance {
        case_id: case_id.to_string(),
        case_number: s.case_number.map(|n| n.to_string()).unwrap_or_default(),
        outcome: s.outcome.map_or(pb::CaseOutcome::Unspecified, outcome_to_pb) as i32,
        batches: s.batches.iter().map(batch_to_pb).collect(),
        closed: s.closed(),
        closed_on: s.closed_on.map(date_to_pb),
        ratings: s.ratings.iter().map(rating_to_pb).collect(),
        rectifications: s.rectifications.iter().map(rectification_to_pb).collect(),
        return_visits: s.return_visits.iter().map(return_visit_to_pb).collect(),
        version: s.version,
    }
}

#[cfg(test)]
#[path = "issuance_tests.rs"]
mod tests;
