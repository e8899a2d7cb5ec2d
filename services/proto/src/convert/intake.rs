//! Intake conversions between `yiciban_domain::intake` and the wire:
//!
//! - **events** ([`encode_event`], [`decode_event`]): a domain [`Event`] and
//!   the prost payload of its `yiciban.events.v1` message, named by the
//!   message name. Every field survives the round trip; decoding re-validates
//!   every value (ID numbers, codes, dates) and fails with a
//!   [`ConvertError`] naming the field when one no longer holds.
//! - **requests** ([`draft_from_pb`], [`material_input_from_pb`]): lossless
//!   and without validation — unspecified enums become `None`, strings stay
//!   as given — so that the domain lists every violation at once.
//! - **read models** ([`case_to_pb`]): the case for `GetCase`, with the
//!   applicant's personal data masked on request.
//! - the small value helpers the service needs (dates, timestamps, reasons,
//!   deficiencies, commitments, channel, the form as `google.protobuf.Struct`).

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use prost::{Message, Name};
use prost_types::value::Kind;
use serde_json::{Map, Value};
use yiciban_domain::intake::{
    Applicant, ApplicantInput, ApplicantKind, ApplicationAccepted, ApplicationDraft, ApplicationNotAccepted,
    ApplicationSubmitted, ApplicationWithdrawn, CaseTerminated, Channel, Commitment, CommitmentRequest, Deficiency,
    DeficiencyCleared, DeficiencyRequest, DeliveryInput, DeliveryMethod, DeliveryPreference, Event, Identity,
    MaskedApplicant, MaterialInput, MaterialRef, MaterialsSupplemented, OfficerAssigned, PostalAddress,
    PostalAddressInput, Reason, ReasonCode, State, Status, TerminationReason,
};
use yiciban_domain::values::{
    CaseNumber, CreditCode, DepartmentCode, IdNumber, ItemCode, MaterialId, PackageId, Phone, ValueError, mask_name,
};

use crate::common::v1 as pb;
use crate::events::v1 as ev;
use crate::intake::v1 as api;

/// Why a stored intake event could not be turned back into a domain event.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The event type names no intake event.
    #[error("unknown intake event type {0:?}")]
    UnknownEventType(String),
    /// The payload is not a valid protobuf encoding of its message.
    #[error("cannot decode the {event_type} payload")]
    Decode {
        /// The message the payload was decoded as.
        event_type: &'static str,
        /// What prost found wrong.
        #[source]
        source: prost::DecodeError,
    },
    /// A field is missing or holds a value the domain refuses (never repeats
    /// the value: it may be personal data).
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// Dotted path of the field, e.g. `ApplicationSubmitted.applicant.id_number`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
}

// ---------------------------------------------------------------------------
// Small values
// ---------------------------------------------------------------------------

/// A calendar date on the wire.
pub fn date_to_pb(date: NaiveDate) -> pb::Date {
    pb::Date { year: date.year(), month: date.month() as i32, day: date.day() as i32 }
}

/// A wire date as a calendar date; `None` when it is not a real date (e.g.
/// month 13, 30 February, or all zeros).
pub fn date_from_pb(date: &pb::Date) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(date.year, u32::try_from(date.month).ok()?, u32::try_from(date.day).ok()?)
}

/// An instant as a `google.protobuf.Timestamp`.
pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).expect("sub-second nanos are below 2e9"),
    }
}

/// The wire channel of a domain channel.
pub fn channel_to_pb(channel: Channel) -> pb::Channel {
    match channel {
        Channel::Window => pb::Channel::Window,
        Channel::Online => pb::Channel::Online,
        Channel::Hotline => pb::Channel::Hotline,
        Channel::System => pb::Channel::System,
    }
}

/// The domain channel of a wire channel value; `None` for UNSPECIFIED and
/// for values this build does not know.
pub fn channel_from_pb(channel: i32) -> Option<Channel> {
    match pb::Channel::try_from(channel).ok()? {
        pb::Channel::Unspecified => None,
        pb::Channel::Window => Some(Channel::Window),
        pb::Channel::Online => Some(Channel::Online),
        pb::Channel::Hotline => Some(Channel::Hotline),
        pb::Channel::System => Some(Channel::System),
    }
}

/// A non-acceptance reason on the wire (the code as its UPPER_SNAKE_CASE name).
pub fn reason_to_pb(reason: &Reason) -> pb::Reason {
    pb::Reason { path: reason.path.clone(), code: reason.code.as_str().to_owned(), message: reason.message.clone() }
}

/// A deficiency (容缺) on the wire.
pub fn deficiency_to_pb(deficiency: &Deficiency) -> pb::Deficiency {
    pb::Deficiency {
        material_id: deficiency.material_id.as_str().to_owned(),
        material_name: deficiency.material_name.clone(),
        due_by: Some(date_to_pb(deficiency.due_by)),
        item_codes: strings(&deficiency.item_codes, ItemCode::as_str),
    }
}

/// A commitment (告知承诺) on the wire; `post_check_by` unset when the
/// catalog sets no limit.
pub fn commitment_to_pb(commitment: &Commitment) -> pb::Commitment {
    pb::Commitment {
        material_id: commitment.material_id.as_str().to_owned(),
        material_name: commitment.material_name.clone(),
        commitment_text: commitment.commitment_text.clone(),
        post_check_department: commitment.post_check_department.as_str().to_owned(),
        post_check_by: commitment.post_check_by.map(date_to_pb),
    }
}

/// A document reference on the wire.
pub fn material_ref_to_pb(material: &MaterialRef) -> pb::MaterialRef {
    pb::MaterialRef {
        material_id: material.material_id.as_str().to_owned(),
        file_name: material.file_name.clone(),
        content_type: material.content_type.clone(),
        sha256_hex: material.sha256_hex.clone(),
        size_bytes: material.size_bytes,
        storage_key: material.storage_key.clone(),
    }
}

/// A wire document reference as the domain's unvalidated input.
pub fn material_input_from_pb(material: &pb::MaterialRef) -> MaterialInput {
    MaterialInput {
        material_id: material.material_id.clone(),
        file_name: material.file_name.clone(),
        content_type: material.content_type.clone(),
        sha256_hex: material.sha256_hex.clone(),
        size_bytes: material.size_bytes,
        storage_key: material.storage_key.clone(),
    }
}

/// The applicant in clear (personal data).
pub fn applicant_to_pb(applicant: &Applicant) -> pb::Applicant {
    pb::Applicant {
        kind: applicant_kind_to_pb(applicant.kind()) as i32,
        name: applicant.name.clone(),
        id_number: applicant.id_number().to_owned(),
        phone: applicant.phone.as_str().to_owned(),
        contact_name: applicant.contact_name.clone(),
    }
}

/// The applicant masked by the domain's masking (name "张*", ID number
/// "110105********002X", phone "138****0000").
pub fn masked_applicant_to_pb(applicant: &MaskedApplicant) -> pb::Applicant {
    pb::Applicant {
        kind: applicant_kind_to_pb(applicant.kind) as i32,
        name: applicant.name.clone(),
        id_number: applicant.id_number.clone(),
        phone: applicant.phone.clone(),
        contact_name: applicant.contact_name.clone(),
    }
}

/// The delivery preference on the wire. With `mask_personal_data` the mail
/// recipient's name and phone are masked like an applicant's and the street
/// address is hidden; province, city, district and postal code stay.
pub fn delivery_to_pb(delivery: &DeliveryPreference, mask_personal_data: bool) -> pb::DeliveryPreference {
    match delivery {
        DeliveryPreference::WindowPickup { pickup_hall } => pb::DeliveryPreference {
            method: pb::DeliveryMethod::WindowPickup as i32,
            mail_address: None,
            pickup_hall: pickup_hall.clone(),
        },
        DeliveryPreference::Mail { address } => pb::DeliveryPreference {
            method: pb::DeliveryMethod::Mail as i32,
            mail_address: Some(postal_address_to_pb(address, mask_personal_data)),
            pickup_hall: String::new(),
        },
    }
}

fn postal_address_to_pb(a: &PostalAddress, mask: bool) -> pb::PostalAddress {
    let (recipient_name, recipient_phone, address_line) = if mask {
        (mask_name(&a.recipient_name), a.recipient_phone.masked(), "****".to_owned())
    } else {
        (a.recipient_name.clone(), a.recipient_phone.as_str().to_owned(), a.address_line.clone())
    };
    pb::PostalAddress {
        recipient_name,
        recipient_phone,
        province: a.province.clone(),
        city: a.city.clone(),
        district: a.district.clone(),
        address_line,
        postal_code: a.postal_code.clone(),
    }
}

fn applicant_kind_to_pb(kind: ApplicantKind) -> pb::ApplicantKind {
    match kind {
        ApplicantKind::Person => pb::ApplicantKind::Person,
        ApplicantKind::Company => pb::ApplicantKind::Company,
    }
}

fn termination_to_pb(reason: TerminationReason) -> pb::TerminationReason {
    match reason {
        TerminationReason::DeficiencyOverdue => pb::TerminationReason::DeficiencyOverdue,
        TerminationReason::SupplementOverdue => pb::TerminationReason::SupplementOverdue,
        TerminationReason::CommitmentUntrue => pb::TerminationReason::CommitmentUntrue,
        TerminationReason::ApplicantCeased => pb::TerminationReason::ApplicantCeased,
        TerminationReason::Other => pb::TerminationReason::Other,
    }
}

fn strings<T>(values: &[T], as_str: fn(&T) -> &str) -> Vec<String> {
    values.iter().map(|v| as_str(v).to_owned()).collect()
}

// ---------------------------------------------------------------------------
// The form as google.protobuf.Struct
// ---------------------------------------------------------------------------

/// A JSON object (the merged form) as a `google.protobuf.Struct`. Numbers
/// become doubles (integers beyond ±2^53 lose precision: Struct has no
/// integers).
pub fn form_data_to_pb(form: &Map<String, Value>) -> prost_types::Struct {
    prost_types::Struct { fields: form.iter().map(|(k, v)| (k.clone(), json_to_pb(v))).collect() }
}

/// A `google.protobuf.Struct` as a JSON object. Integral numbers (up to
/// ±2^53) become JSON integers, others JSON floats; a NaN or infinity, which
/// JSON cannot hold, becomes null; a value without a kind is null.
pub fn form_data_from_pb(form: &prost_types::Struct) -> Map<String, Value> {
    form.fields.iter().map(|(k, v)| (k.clone(), json_from_pb(v))).collect()
}

fn json_to_pb(value: &Value) -> prost_types::Value {
    let kind = match value {
        Value::Null => Kind::NullValue(prost_types::NullValue::NullValue as i32),
        Value::Bool(b) => Kind::BoolValue(*b),
        Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => Kind::StringValue(s.clone()),
        Value::Array(items) => {
            Kind::ListValue(prost_types::ListValue { values: items.iter().map(json_to_pb).collect() })
        }
        Value::Object(map) => Kind::StructValue(form_data_to_pb(map)),
    };
    prost_types::Value { kind: Some(kind) }
}

fn json_from_pb(value: &prost_types::Value) -> Value {
    match &value.kind {
        None | Some(Kind::NullValue(_)) => Value::Null,
        Some(Kind::BoolValue(b)) => Value::Bool(*b),
        Some(Kind::NumberValue(n)) => json_number(*n),
        Some(Kind::StringValue(s)) => Value::String(s.clone()),
        Some(Kind::ListValue(list)) => Value::Array(list.values.iter().map(json_from_pb).collect()),
        Some(Kind::StructValue(s)) => Value::Object(form_data_from_pb(s)),
    }
}

fn json_number(n: f64) -> Value {
    /// 2^53: every integer up to here is exact in a double.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if n.fract() == 0.0 && n.abs() <= EXACT {
        #[allow(clippy::cast_possible_truncation)]
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

// ---------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------

/// The event type (the `yiciban.events.v1` message name, e.g.
/// "ApplicationSubmitted") and the prost-encoded payload of `event`.
pub fn encode_event(event: &Event) -> (&'static str, Vec<u8>) {
    match event {
        Event::ApplicationSubmitted(e) => (ev::ApplicationSubmitted::NAME, submitted_to_pb(e).encode_to_vec()),
        Event::ApplicationAccepted(e) => (ev::ApplicationAccepted::NAME, accepted_to_pb(e).encode_to_vec()),
        Event::ApplicationNotAccepted(e) => (ev::ApplicationNotAccepted::NAME, not_accepted_to_pb(e).encode_to_vec()),
        Event::OfficerAssigned(e) => (ev::OfficerAssigned::NAME, officer_to_pb(e).encode_to_vec()),
        Event::MaterialsSupplemented(e) => (ev::MaterialsSupplemented::NAME, supplemented_to_pb(e).encode_to_vec()),
        Event::DeficiencyCleared(e) => (ev::DeficiencyCleared::NAME, cleared_to_pb(e).encode_to_vec()),
        Event::CaseTerminated(e) => (ev::CaseTerminated::NAME, terminated_to_pb(e).encode_to_vec()),
        Event::ApplicationWithdrawn(e) => (ev::ApplicationWithdrawn::NAME, withdrawn_to_pb(e).encode_to_vec()),
    }
}

/// The domain event of a stored `event_type` and payload: the inverse of
/// [`encode_event`]. Every value is validated again.
pub fn decode_event(event_type: &str, payload: &[u8]) -> Result<Event, ConvertError> {
    fn message<M: Message + Name + Default>(payload: &[u8]) -> Result<M, ConvertError> {
        M::decode(payload).map_err(|source| ConvertError::Decode { event_type: M::NAME, source })
    }
    match event_type {
        ev::ApplicationSubmitted::NAME => submitted_from_pb(&message(payload)?).map(Event::ApplicationSubmitted),
        ev::ApplicationAccepted::NAME => accepted_from_pb(&message(payload)?).map(Event::ApplicationAccepted),
        ev::ApplicationNotAccepted::NAME => not_accepted_from_pb(&message(payload)?).map(Event::ApplicationNotAccepted),
        ev::OfficerAssigned::NAME => Ok(Event::OfficerAssigned(officer_from_pb(message(payload)?))),
        ev::MaterialsSupplemented::NAME => supplemented_from_pb(message(payload)?).map(Event::MaterialsSupplemented),
        ev::DeficiencyCleared::NAME => cleared_from_pb(&message(payload)?).map(Event::DeficiencyCleared),
        ev::CaseTerminated::NAME => terminated_from_pb(message(payload)?).map(Event::CaseTerminated),
        ev::ApplicationWithdrawn::NAME => {
            let e: ev::ApplicationWithdrawn = message(payload)?;
            Ok(Event::ApplicationWithdrawn(ApplicationWithdrawn { reason: e.reason }))
        }
        other => Err(ConvertError::UnknownEventType(other.to_owned())),
    }
}

fn submitted_to_pb(e: &ApplicationSubmitted) -> ev::ApplicationSubmitted {
    ev::ApplicationSubmitted {
        case_number: e.case_number.to_string(),
        package_id: e.package_id.as_str().to_owned(),
        catalog_version: e.catalog_version.clone(),
        applicant: Some(applicant_to_pb(&e.applicant)),
        form_data: Some(form_data_to_pb(&e.form_data)),
        materials: e.materials.iter().map(material_ref_to_pb).collect(),
        optional_item_codes: strings(&e.optional_item_codes, ItemCode::as_str),
        delivery: Some(delivery_to_pb(&e.delivery, false)),
    }
}

fn submitted_from_pb(e: &ev::ApplicationSubmitted) -> Result<ApplicationSubmitted, ConvertError> {
    const AT: &str = "ApplicationSubmitted";
    Ok(ApplicationSubmitted {
        case_number: checked(AT, "case_number", CaseNumber::parse(&e.case_number))?,
        package_id: checked(AT, "package_id", PackageId::parse(&e.package_id))?,
        catalog_version: e.catalog_version.clone(),
        applicant: applicant_from_pb(required(AT, "applicant", e.applicant.as_ref())?)?,
        form_data: e.form_data.as_ref().map(form_data_from_pb).unwrap_or_default(),
        materials: materials_from_pb(AT, &e.materials)?,
        optional_item_codes: codes(AT, "optional_item_codes", &e.optional_item_codes, ItemCode::parse)?,
        delivery: delivery_from_pb(required(AT, "delivery", e.delivery.as_ref())?)?,
    })
}

fn accepted_to_pb(e: &ApplicationAccepted) -> ev::ApplicationAccepted {
    ev::ApplicationAccepted {
        case_number: e.case_number.to_string(),
        package_id: e.package_id.as_str().to_owned(),
        notice_number: e.notice_number.clone(),
        accepted_on: Some(date_to_pb(e.accepted_on)),
        item_codes: strings(&e.item_codes, ItemCode::as_str),
        lead_department: e.lead_department.as_str().to_owned(),
        promised_working_days: e.promised_working_days,
        promised_by: Some(date_to_pb(e.promised_by)),
        deficiencies: e.deficiencies.iter().map(deficiency_to_pb).collect(),
        commitments: e.commitments.iter().map(commitment_to_pb).collect(),
    }
}

fn accepted_from_pb(e: &ev::ApplicationAccepted) -> Result<ApplicationAccepted, ConvertError> {
    const AT: &str = "ApplicationAccepted";
    Ok(ApplicationAccepted {
        case_number: checked(AT, "case_number", CaseNumber::parse(&e.case_number))?,
        package_id: checked(AT, "package_id", PackageId::parse(&e.package_id))?,
        notice_number: e.notice_number.clone(),
        accepted_on: date(AT, "accepted_on", e.accepted_on.as_ref())?,
        item_codes: codes(AT, "item_codes", &e.item_codes, ItemCode::parse)?,
        lead_department: checked(AT, "lead_department", DepartmentCode::parse(&e.lead_department))?,
        promised_working_days: e.promised_working_days,
        promised_by: date(AT, "promised_by", e.promised_by.as_ref())?,
        deficiencies: e
            .deficiencies
            .iter()
            .enumerate()
            .map(|(i, d)| deficiency_from_pb(&format!("{AT}.deficiencies[{i}]"), d))
            .collect::<Result<_, _>>()?,
        commitments: e
            .commitments
            .iter()
            .enumerate()
            .map(|(i, c)| commitment_from_pb(&format!("{AT}.commitments[{i}]"), c))
            .collect::<Result<_, _>>()?,
    })
}

fn not_accepted_to_pb(e: &ApplicationNotAccepted) -> ev::ApplicationNotAccepted {
    ev::ApplicationNotAccepted {
        case_number: e.case_number.to_string(),
        package_id: e.package_id.as_str().to_owned(),
        notice_number: e.notice_number.clone(),
        reasons: e.reasons.iter().map(reason_to_pb).collect(),
    }
}

fn not_accepted_from_pb(e: &ev::ApplicationNotAccepted) -> Result<ApplicationNotAccepted, ConvertError> {
    const AT: &str = "ApplicationNotAccepted";
    Ok(ApplicationNotAccepted {
        case_number: checked(AT, "case_number", CaseNumber::parse(&e.case_number))?,
        package_id: checked(AT, "package_id", PackageId::parse(&e.package_id))?,
        notice_number: e.notice_number.clone(),
        reasons: e
            .reasons
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let code = serde_json::from_value::<ReasonCode>(Value::String(r.code.clone()))
                    .map_err(|_| invalid(format!("{AT}.reasons[{i}].code"), "not a known reason code"))?;
                Ok(Reason { path: r.path.clone(), code, message: r.message.clone() })
            })
            .collect::<Result<_, ConvertError>>()?,
    })
}

fn officer_to_pb(e: &OfficerAssigned) -> ev::OfficerAssigned {
    ev::OfficerAssigned {
        officer_id: e.officer_id.clone(),
        officer_name: e.officer_name.clone(),
        previous_officer_id: e.previous_officer_id.clone().unwrap_or_default(),
    }
}

fn officer_from_pb(e: ev::OfficerAssigned) -> OfficerAssigned {
    OfficerAssigned {
        officer_id: e.officer_id,
        officer_name: e.officer_name,
        previous_officer_id: non_empty(e.previous_officer_id),
    }
}

fn supplemented_to_pb(e: &MaterialsSupplemented) -> ev::MaterialsSupplemented {
    ev::MaterialsSupplemented {
        materials: e.materials.iter().map(material_ref_to_pb).collect(),
        supplement_request_id: e.supplement_request_id.clone().unwrap_or_default(),
        task_id: e.task_id.clone().unwrap_or_default(),
    }
}

fn supplemented_from_pb(e: ev::MaterialsSupplemented) -> Result<MaterialsSupplemented, ConvertError> {
    Ok(MaterialsSupplemented {
        materials: materials_from_pb("MaterialsSupplemented", &e.materials)?,
        supplement_request_id: non_empty(e.supplement_request_id),
        task_id: non_empty(e.task_id),
    })
}

fn cleared_to_pb(e: &DeficiencyCleared) -> ev::DeficiencyCleared {
    ev::DeficiencyCleared {
        material_id: e.material_id.as_str().to_owned(),
        due_by: Some(date_to_pb(e.due_by)),
        cleared_on: Some(date_to_pb(e.cleared_on)),
        remaining_deficiencies: e.remaining_deficiencies,
    }
}

fn cleared_from_pb(e: &ev::DeficiencyCleared) -> Result<DeficiencyCleared, ConvertError> {
    const AT: &str = "DeficiencyCleared";
    Ok(DeficiencyCleared {
        material_id: checked(AT, "material_id", MaterialId::parse(&e.material_id))?,
        due_by: date(AT, "due_by", e.due_by.as_ref())?,
        cleared_on: date(AT, "cleared_on", e.cleared_on.as_ref())?,
        remaining_deficiencies: e.remaining_deficiencies,
    })
}

fn terminated_to_pb(e: &CaseTerminated) -> ev::CaseTerminated {
    ev::CaseTerminated {
        reason: termination_to_pb(e.reason) as i32,
        detail: e.detail.clone(),
        legal_basis: e.legal_basis.clone(),
        overdue_material_ids: strings(&e.overdue_material_ids, MaterialId::as_str),
    }
}

fn terminated_from_pb(e: ev::CaseTerminated) -> Result<CaseTerminated, ConvertError> {
    const AT: &str = "CaseTerminated";
    let reason = match pb::TerminationReason::try_from(e.reason) {
        Ok(pb::TerminationReason::DeficiencyOverdue) => TerminationReason::DeficiencyOverdue,
        Ok(pb::TerminationReason::SupplementOverdue) => TerminationReason::SupplementOverdue,
        Ok(pb::TerminationReason::CommitmentUntrue) => TerminationReason::CommitmentUntrue,
        Ok(pb::TerminationReason::ApplicantCeased) => TerminationReason::ApplicantCeased,
        Ok(pb::TerminationReason::Other) => TerminationReason::Other,
        Ok(pb::TerminationReason::Unspecified) | Err(_) => {
            return Err(invalid(format!("{AT}.reason"), "not a known termination reason"));
        }
    };
    Ok(CaseTerminated {
        reason,
        overdue_material_ids: codes(AT, "overdue_material_ids", &e.overdue_material_ids, MaterialId::parse)?,
        detail: e.detail,
        legal_basis: e.legal_basis,
    })
}

fn withdrawn_to_pb(e: &ApplicationWithdrawn) -> ev::ApplicationWithdrawn {
    ev::ApplicationWithdrawn { reason: e.reason.clone() }
}

// Strict wire → domain values (stored events).

fn invalid(field: impl Into<String>, reason: impl ToString) -> ConvertError {
    ConvertError::Invalid { field: field.into(), reason: reason.to_string() }
}

fn checked<T>(at: &str, field: &str, value: Result<T, ValueError>) -> Result<T, ConvertError> {
    value.map_err(|e| invalid(format!("{at}.{field}"), e))
}

fn required<'a, T>(at: &str, field: &str, value: Option<&'a T>) -> Result<&'a T, ConvertError> {
    value.ok_or_else(|| invalid(format!("{at}.{field}"), "missing"))
}

fn date(at: &str, field: &str, value: Option<&pb::Date>) -> Result<NaiveDate, ConvertError> {
    date_from_pb(required(at, field, value)?).ok_or_else(|| invalid(format!("{at}.{field}"), "not a calendar date"))
}

fn codes<T>(
    at: &str,
    field: &str,
    values: &[String],
    parse: fn(&str) -> Result<T, ValueError>,
) -> Result<Vec<T>, ConvertError> {
    values.iter().enumerate().map(|(i, v)| parse(v).map_err(|e| invalid(format!("{at}.{field}[{i}]"), e))).collect()
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

fn applicant_from_pb(a: &pb::Applicant) -> Result<Applicant, ConvertError> {
    const AT: &str = "ApplicationSubmitted.applicant";
    let identity = match pb::ApplicantKind::try_from(a.kind) {
        Ok(pb::ApplicantKind::Person) => Identity::Person(checked(AT, "id_number", IdNumber::parse(&a.id_number))?),
        Ok(pb::ApplicantKind::Company) => Identity::Company(checked(AT, "id_number", CreditCode::parse(&a.id_number))?),
        Ok(pb::ApplicantKind::Unspecified) | Err(_) => {
            return Err(invalid(format!("{AT}.kind"), "not PERSON or COMPANY"));
        }
    };
    Ok(Applicant {
        identity,
        name: a.name.clone(),
        phone: checked(AT, "phone", Phone::parse(&a.phone))?,
        contact_name: a.contact_name.clone(),
    })
}

fn delivery_from_pb(d: &pb::DeliveryPreference) -> Result<DeliveryPreference, ConvertError> {
    const AT: &str = "ApplicationSubmitted.delivery";
    match pb::DeliveryMethod::try_from(d.method) {
        Ok(pb::DeliveryMethod::WindowPickup) => {
            Ok(DeliveryPreference::WindowPickup { pickup_hall: d.pickup_hall.clone() })
        }
        Ok(pb::DeliveryMethod::Mail) => {
            let a = required(AT, "mail_address", d.mail_address.as_ref())?;
            let address = PostalAddress {
                recipient_name: a.recipient_name.clone(),
                recipient_phone: checked(AT, "mail_address.recipient_phone", Phone::parse(&a.recipient_phone))?,
                province: a.province.clone(),
                city: a.city.clone(),
                district: a.district.clone(),
                address_line: a.address_line.clone(),
                postal_code: a.postal_code.clone(),
            };
            Ok(DeliveryPreference::Mail { address })
        }
        Ok(pb::DeliveryMethod::Unspecified) | Err(_) => {
            Err(invalid(format!("{AT}.method"), "not WINDOW_PICKUP or MAIL"))
        }
    }
}

fn materials_from_pb(at: &str, materials: &[pb::MaterialRef]) -> Result<Vec<MaterialRef>, ConvertError> {
    materials
        .iter()
        .enumerate()
        .map(|(i, m)| {
            Ok(MaterialRef {
                material_id: checked(
                    &format!("{at}.materials[{i}]"),
                    "material_id",
                    MaterialId::parse(&m.material_id),
                )?,
                file_name: m.file_name.clone(),
                content_type: m.content_type.clone(),
                sha256_hex: m.sha256_hex.clone(),
                size_bytes: m.size_bytes,
                storage_key: m.storage_key.clone(),
            })
        })
        .collect()
}

fn deficiency_from_pb(at: &str, d: &pb::Deficiency) -> Result<Deficiency, ConvertError> {
    Ok(Deficiency {
        material_id: checked(at, "material_id", MaterialId::parse(&d.material_id))?,
        material_name: d.material_name.clone(),
        due_by: date(at, "due_by", d.due_by.as_ref())?,
        item_codes: codes(at, "item_codes", &d.item_codes, ItemCode::parse)?,
    })
}

fn commitment_from_pb(at: &str, c: &pb::Commitment) -> Result<Commitment, ConvertError> {
    Ok(Commitment {
        material_id: checked(at, "material_id", MaterialId::parse(&c.material_id))?,
        material_name: c.material_name.clone(),
        commitment_text: c.commitment_text.clone(),
        post_check_department: checked(at, "post_check_department", DepartmentCode::parse(&c.post_check_department))?,
        post_check_by: c
            .post_check_by
            .as_ref()
            .map(|d| date_from_pb(d).ok_or_else(|| invalid(format!("{at}.post_check_by"), "not a calendar date")))
            .transpose()?,
    })
}

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------

/// A SubmitApplication request as the domain's unvalidated draft (without
/// the idempotency key), losslessly: strings as given, UNSPECIFIED or unknown
/// enums as `None`, a missing applicant or delivery as empty input (which the
/// domain reports field by field).
///
/// A deficiency's `promised_by` that is set but not a calendar date (month
/// 13, all zeros…) cannot be kept as given, and reading it as "unset" would
/// silently mean "the latest allowed"; it becomes [`NaiveDate::MIN`], which
/// the domain refuses as a violation of `deficiencies[i].promised_by` (a day
/// before today).
///
/// A commitment's `signed_form` has no place in the domain draft and is not
/// carried over.
pub fn draft_from_pb(req: &api::SubmitApplicationRequest) -> ApplicationDraft {
    ApplicationDraft {
        package_id: req.package_id.clone(),
        applicant: req.applicant.as_ref().map(applicant_input_from_pb).unwrap_or_default(),
        form_data: req.form_data.as_ref().map(form_data_from_pb).unwrap_or_default(),
        materials: req.materials.iter().map(material_input_from_pb).collect(),
        commitments: req
            .commitments
            .iter()
            .map(|c| CommitmentRequest {
                material_id: c.material_id.clone(),
                commitment_text: c.commitment_text.clone(),
            })
            .collect(),
        deficiencies: req
            .deficiencies
            .iter()
            .map(|d| DeficiencyRequest {
                material_id: d.material_id.clone(),
                promised_by: d.promised_by.as_ref().map(|p| date_from_pb(p).unwrap_or(NaiveDate::MIN)),
            })
            .collect(),
        optional_item_codes: req.optional_item_codes.clone(),
        delivery: req.delivery.as_ref().map(delivery_input_from_pb).unwrap_or_default(),
        channel: channel_from_pb(req.channel),
    }
}

fn applicant_input_from_pb(a: &pb::Applicant) -> ApplicantInput {
    ApplicantInput {
        kind: match pb::ApplicantKind::try_from(a.kind) {
            Ok(pb::ApplicantKind::Person) => Some(ApplicantKind::Person),
            Ok(pb::ApplicantKind::Company) => Some(ApplicantKind::Company),
            Ok(pb::ApplicantKind::Unspecified) | Err(_) => None,
        },
        name: a.name.clone(),
        id_number: a.id_number.clone(),
        phone: a.phone.clone(),
        contact_name: a.contact_name.clone(),
    }
}

fn delivery_input_from_pb(d: &pb::DeliveryPreference) -> DeliveryInput {
    DeliveryInput {
        method: match pb::DeliveryMethod::try_from(d.method) {
            Ok(pb::DeliveryMethod::WindowPickup) => Some(DeliveryMethod::WindowPickup),
            Ok(pb::DeliveryMethod::Mail) => Some(DeliveryMethod::Mail),
            Ok(pb::DeliveryMethod::Unspecified) | Err(_) => None,
        },
        mail_address: d.mail_address.as_ref().map(|a| PostalAddressInput {
            recipient_name: a.recipient_name.clone(),
            recipient_phone: a.recipient_phone.clone(),
            province: a.province.clone(),
            city: a.city.clone(),
            district: a.district.clone(),
            address_line: a.address_line.clone(),
            postal_code: a.postal_code.clone(),
        }),
        pickup_hall: d.pickup_hall.clone(),
    }
}

// ---------------------------------------------------------------------------
// Read model
// ---------------------------------------------------------------------------

/// Intake's status on the wire (`New`, an empty stream, is UNSPECIFIED).
pub fn case_status_to_pb(status: Status) -> pb::CaseStatus {
    match status {
        Status::New => pb::CaseStatus::Unspecified,
        Status::Submitted => pb::CaseStatus::Submitted,
        Status::Accepted => pb::CaseStatus::Accepted,
        Status::AcceptedWithDeficiency => pb::CaseStatus::AcceptedWithDeficiency,
        Status::NotAccepted => pb::CaseStatus::NotAccepted,
        Status::Withdrawn => pb::CaseStatus::Withdrawn,
        Status::Terminated => pb::CaseStatus::Terminated,
    }
}

/// The acceptance decision as it was taken: NOT_ACCEPTED, ACCEPTED_WITH_DEFICIENCY
/// when the acceptance owed materials (even once they are all handed in or
/// the case was later withdrawn or terminated), ACCEPTED, or UNSPECIFIED
/// before a decision.
pub fn decision_to_pb(state: &State) -> api::AcceptanceDecision {
    if state.status == Status::NotAccepted {
        api::AcceptanceDecision::NotAccepted
    } else if state.accepted_on.is_none() {
        api::AcceptanceDecision::Unspecified
    } else if state.deficiencies.is_empty() {
        api::AcceptanceDecision::Accepted
    } else {
        api::AcceptanceDecision::AcceptedWithDeficiency
    }
}

/// The case for GetCase. `case_id` is left empty (the state does not know
/// it; the caller fills it). With `mask_personal_data` the applicant's name,
/// ID number, phone and contact are masked by the domain's masking.
///
/// The state does not keep the form, the delivery preference, the channel or
/// the submission time: `form_data`, `delivery`, `channel` and
/// `submitted_at` are left unset (see [`form_data_to_pb`] and
/// [`delivery_to_pb`] for a caller that has them).
pub fn case_to_pb(state: &State, mask_personal_data: bool) -> api::Case {
    api::Case {
        case_id: String::new(),
        case_number: state.case_number.as_ref().map(ToString::to_string).unwrap_or_default(),
        package_id: state.package_id.as_ref().map(|p| p.as_str().to_owned()).unwrap_or_default(),
        status: case_status_to_pb(state.status) as i32,
        decision: decision_to_pb(state) as i32,
        reasons: state.reasons.iter().map(reason_to_pb).collect(),
        applicant: state
            .applicant
            .as_ref()
            .map(|a| if mask_personal_data { masked_applicant_to_pb(&a.masked()) } else { applicant_to_pb(a) }),
        form_data: None,
        materials: state.materials.iter().map(material_ref_to_pb).collect(),
        deficiencies: state
            .deficiencies
            .iter()
            .map(|d| api::DeficiencyStatus {
                deficiency: Some(deficiency_to_pb(&d.deficiency)),
                cleared: d.cleared_on.is_some(),
                cleared_on: d.cleared_on.map(date_to_pb),
            })
            .collect(),
        commitments: state.commitments.iter().map(commitment_to_pb).collect(),
        item_codes: strings(&state.item_codes, ItemCode::as_str),
        delivery: None,
        channel: pb::Channel::Unspecified as i32,
        officer_id: state.officer.as_ref().map(|o| o.id.clone()).unwrap_or_default(),
        submitted_at: None,
        accepted_on: state.accepted_on.map(date_to_pb),
        promised_working_days: state.promised_working_days,
        promised_by: state.promised_by.map(date_to_pb),
        version: state.version,
    }
}

#[cfg(test)]
mod tests;
