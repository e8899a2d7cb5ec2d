//! Intake's values between wire and domain: applicants, delivery, reasons,
//! deficiencies, materials, its enums, and the form as
//! `google.protobuf.Struct`.

use prost_types::value::Kind;
use serde_json::{Map, Value};
use yiciban_domain::intake::{
    Applicant, ApplicantKind, Deficiency, DeliveryMethod, DeliveryPreference, Identity, MaskedApplicant, MaterialInput,
    MaterialRef, PostalAddress, Reason, ReasonCode, Status, TerminationReason,
};
use yiciban_domain::values::{CreditCode, IdNumber, ItemCode, MaterialId, Phone, mask_name};

use crate::common::v1 as pb;
use crate::convert::case::strings;
use crate::convert::wire::{At as _, ConvertError, date, each, enum_pair, required};

// ---------------------------------------------------------------------------
// Enums
// ---------------------------------------------------------------------------

enum_pair!(ApplicantKind, pb::ApplicantKind {
    Person <=> Person,
    Company <=> Company,
});

enum_pair!(DeliveryMethod, pb::DeliveryMethod {
    WindowPickup <=> WindowPickup,
    Mail <=> Mail,
});

enum_pair!(TerminationReason, pb::TerminationReason {
    DeficiencyOverdue <=> DeficiencyOverdue,
    SupplementOverdue <=> SupplementOverdue,
    CommitmentUntrue <=> CommitmentUntrue,
    ApplicantCeased <=> ApplicantCeased,
    Other <=> Other,
});

// Intake's status; `New` (an empty stream) is UNSPECIFIED.
enum_pair!(Status, pb::CaseStatus {
    Submitted <=> Submitted,
    Accepted <=> Accepted,
    AcceptedWithDeficiency <=> AcceptedWithDeficiency,
    NotAccepted <=> NotAccepted,
    Withdrawn <=> Withdrawn,
    Terminated <=> Terminated,
}, to_wire {
    New => Unspecified,
});

// ---------------------------------------------------------------------------
// Reasons, deficiencies, materials
// ---------------------------------------------------------------------------

/// A non-acceptance reason on the wire (the code as its UPPER_SNAKE_CASE name).
impl From<&Reason> for pb::Reason {
    fn from(reason: &Reason) -> Self {
        pb::Reason { path: reason.path.clone(), code: reason.code.as_str().to_owned(), message: reason.message.clone() }
    }
}

impl TryFrom<&pb::Reason> for Reason {
    type Error = ConvertError;

    fn try_from(r: &pb::Reason) -> Result<Self, ConvertError> {
        let code = serde_json::from_value::<ReasonCode>(Value::String(r.code.clone()))
            .map_err(|_| ConvertError::invalid("not a known reason code").at("code"))?;
        Ok(Reason { path: r.path.clone(), code, message: r.message.clone() })
    }
}

/// A deficiency (容缺) on the wire.
impl From<&Deficiency> for pb::Deficiency {
    fn from(d: &Deficiency) -> Self {
        pb::Deficiency {
            material_id: d.material_id.to_string(),
            material_name: d.material_name.clone(),
            due_by: Some(d.due_by.into()),
            item_codes: strings(&d.item_codes),
        }
    }
}

impl TryFrom<&pb::Deficiency> for Deficiency {
    type Error = ConvertError;

    fn try_from(d: &pb::Deficiency) -> Result<Self, ConvertError> {
        Ok(Deficiency {
            material_id: MaterialId::parse(&d.material_id).at("material_id")?,
            material_name: d.material_name.clone(),
            due_by: date(d.due_by.as_ref()).at("due_by")?,
            item_codes: each(&d.item_codes, |c| ItemCode::parse(c)).at("item_codes")?,
        })
    }
}

/// A document reference on the wire.
impl From<&MaterialRef> for pb::MaterialRef {
    fn from(m: &MaterialRef) -> Self {
        pb::MaterialRef {
            material_id: m.material_id.to_string(),
            file_name: m.file_name.clone(),
            content_type: m.content_type.clone(),
            sha256_hex: m.sha256_hex.clone(),
            size_bytes: m.size_bytes,
            storage_key: m.storage_key.clone(),
        }
    }
}

impl TryFrom<&pb::MaterialRef> for MaterialRef {
    type Error = ConvertError;

    fn try_from(m: &pb::MaterialRef) -> Result<Self, ConvertError> {
        Ok(MaterialRef {
            material_id: MaterialId::parse(&m.material_id).at("material_id")?,
            file_name: m.file_name.clone(),
            content_type: m.content_type.clone(),
            sha256_hex: m.sha256_hex.clone(),
            size_bytes: m.size_bytes,
            storage_key: m.storage_key.clone(),
        })
    }
}

/// A wire document reference as the domain's unvalidated input.
impl From<&pb::MaterialRef> for MaterialInput {
    fn from(m: &pb::MaterialRef) -> Self {
        MaterialInput {
            material_id: m.material_id.clone(),
            file_name: m.file_name.clone(),
            content_type: m.content_type.clone(),
            sha256_hex: m.sha256_hex.clone(),
            size_bytes: m.size_bytes,
            storage_key: m.storage_key.clone(),
        }
    }
}

// ---------------------------------------------------------------------------
// The applicant and the delivery (personal data)
// ---------------------------------------------------------------------------

/// The applicant in clear (personal data).
impl From<&Applicant> for pb::Applicant {
    fn from(a: &Applicant) -> Self {
        pb::Applicant {
            kind: pb::ApplicantKind::from(a.kind()) as i32,
            name: a.name.clone(),
            id_number: a.id_number().to_owned(),
            phone: a.phone.as_str().to_owned(),
            contact_name: a.contact_name.clone(),
            contact_id_number: a.contact_id_number.as_ref().map(|id| id.as_str().to_owned()).unwrap_or_default(),
        }
    }
}

/// The applicant masked by the domain's masking (name "张*", ID number
/// "110105********002X", phone "138****0000").
impl From<&MaskedApplicant> for pb::Applicant {
    fn from(a: &MaskedApplicant) -> Self {
        pb::Applicant {
            kind: pb::ApplicantKind::from(a.kind) as i32,
            name: a.name.clone(),
            id_number: a.id_number.clone(),
            phone: a.phone.clone(),
            contact_name: a.contact_name.clone(),
            contact_id_number: a.contact_id_number.clone(),
        }
    }
}

impl TryFrom<&pb::Applicant> for Applicant {
    type Error = ConvertError;

    fn try_from(a: &pb::Applicant) -> Result<Self, ConvertError> {
        let identity = match ApplicantKind::try_from(a.kind()).at("kind")? {
            ApplicantKind::Person => Identity::Person(IdNumber::parse(&a.id_number).at("id_number")?),
            ApplicantKind::Company => Identity::Company(CreditCode::parse(&a.id_number).at("id_number")?),
        };
        Ok(Applicant {
            identity,
            name: a.name.clone(),
            phone: Phone::parse(&a.phone).at("phone")?,
            contact_name: a.contact_name.clone(),
            contact_id_number: match a.contact_id_number.trim() {
                "" => None,
                id => Some(IdNumber::parse(id).at("contact_id_number")?),
            },
        })
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

impl TryFrom<&pb::DeliveryPreference> for DeliveryPreference {
    type Error = ConvertError;

    fn try_from(d: &pb::DeliveryPreference) -> Result<Self, ConvertError> {
        Ok(match DeliveryMethod::try_from(d.method()).at("method")? {
            DeliveryMethod::WindowPickup => DeliveryPreference::WindowPickup { pickup_hall: d.pickup_hall.clone() },
            DeliveryMethod::Mail => {
                let address = required(d.mail_address.as_ref()).and_then(PostalAddress::try_from).at("mail_address")?;
                DeliveryPreference::Mail { address }
            }
        })
    }
}

impl TryFrom<&pb::PostalAddress> for PostalAddress {
    type Error = ConvertError;

    fn try_from(a: &pb::PostalAddress) -> Result<Self, ConvertError> {
        Ok(PostalAddress {
            recipient_name: a.recipient_name.clone(),
            recipient_phone: Phone::parse(&a.recipient_phone).at("recipient_phone")?,
            province: a.province.clone(),
            city: a.city.clone(),
            district: a.district.clone(),
            address_line: a.address_line.clone(),
            postal_code: a.postal_code.clone(),
        })
    }
}

// ---------------------------------------------------------------------------
// The form as google.protobuf.Struct (both types are foreign here: functions)
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
