//! Small values between wire and domain: dates, timestamps, channel, reasons,
//! deficiencies, commitments, materials, applicants, delivery, and the form as
//! `google.protobuf.Struct`.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use prost_types::value::Kind;
use serde_json::{Map, Value};
use yiciban_domain::intake::{
    Applicant, ApplicantKind, Channel, Commitment, Deficiency, DeliveryPreference, MaskedApplicant, MaterialInput,
    MaterialRef, PostalAddress, Reason, TerminationReason,
};
use yiciban_domain::values::{ItemCode, mask_name};

use crate::common::v1 as pb;

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

pub(super) fn postal_address_to_pb(a: &PostalAddress, mask: bool) -> pb::PostalAddress {
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

pub(super) fn applicant_kind_to_pb(kind: ApplicantKind) -> pb::ApplicantKind {
    match kind {
        ApplicantKind::Person => pb::ApplicantKind::Person,
        ApplicantKind::Company => pb::ApplicantKind::Company,
    }
}

pub(super) fn termination_to_pb(reason: TerminationReason) -> pb::TerminationReason {
    match reason {
        TerminationReason::DeficiencyOverdue => pb::TerminationReason::DeficiencyOverdue,
        TerminationReason::SupplementOverdue => pb::TerminationReason::SupplementOverdue,
        TerminationReason::CommitmentUntrue => pb::TerminationReason::CommitmentUntrue,
        TerminationReason::ApplicantCeased => pb::TerminationReason::ApplicantCeased,
        TerminationReason::Other => pb::TerminationReason::Other,
    }
}

pub(super) fn strings<T>(values: &[T], as_str: fn(&T) -> &str) -> Vec<String> {
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

pub(super) fn json_to_pb(value: &Value) -> prost_types::Value {
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

pub(super) fn json_from_pb(value: &prost_types::Value) -> Value {
    match &value.kind {
        None | Some(Kind::NullValue(_)) => Value::Null,
        Some(Kind::BoolValue(b)) => Value::Bool(*b),
        Some(Kind::NumberValue(n)) => json_number(*n),
        Some(Kind::StringValue(s)) => Value::String(s.clone()),
        Some(Kind::ListValue(list)) => Value::Array(list.values.iter().map(json_from_pb).collect()),
        Some(Kind::StructValue(s)) => Value::Object(form_data_from_pb(s)),
    }
}

pub(super) fn json_number(n: f64) -> Value {
    /// 2^53: every integer up to here is exact in a double.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if n.fract() == 0.0 && n.abs() <= EXACT {
        #[allow(clippy::cast_possible_truncation)]
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}
