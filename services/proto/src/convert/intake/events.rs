//! Intake events: the domain event and the prost payload of its
//! `yiciban.events.v1` message; decoding re-validates every value.

use chrono::NaiveDate;
use prost::{Message, Name};
use serde_json::Value;
use yiciban_domain::intake::{
    Applicant, ApplicationAccepted, ApplicationNotAccepted, ApplicationSubmitted, ApplicationWithdrawn, CaseTerminated,
    Commitment, Deficiency, DeficiencyCleared, DeliveryPreference, Event, Identity, MaterialRef, MaterialsSupplemented,
    OfficerAssigned, PostalAddress, Reason, ReasonCode, TerminationReason,
};
use yiciban_domain::values::{
    CaseNumber, CreditCode, DepartmentCode, IdNumber, ItemCode, MaterialId, PackageId, Phone, ValueError,
};

use crate::common::v1 as pb;
use crate::events::v1 as ev;

use super::ConvertError;
use super::values::*;

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

pub(super) fn submitted_to_pb(e: &ApplicationSubmitted) -> ev::ApplicationSubmitted {
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

pub(super) fn submitted_from_pb(e: &ev::ApplicationSubmitted) -> Result<ApplicationSubmitted, ConvertError> {
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

pub(super) fn accepted_to_pb(e: &ApplicationAccepted) -> ev::ApplicationAccepted {
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

pub(super) fn accepted_from_pb(e: &ev::ApplicationAccepted) -> Result<ApplicationAccepted, ConvertError> {
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

pub(super) fn not_accepted_to_pb(e: &ApplicationNotAccepted) -> ev::ApplicationNotAccepted {
    ev::ApplicationNotAccepted {
        case_number: e.case_number.to_string(),
        package_id: e.package_id.as_str().to_owned(),
        notice_number: e.notice_number.clone(),
        reasons: e.reasons.iter().map(reason_to_pb).collect(),
    }
}

pub(super) fn not_accepted_from_pb(e: &ev::ApplicationNotAccepted) -> Result<ApplicationNotAccepted, ConvertError> {
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

pub(super) fn officer_to_pb(e: &OfficerAssigned) -> ev::OfficerAssigned {
    ev::OfficerAssigned {
        officer_id: e.officer_id.clone(),
        officer_name: e.officer_name.clone(),
        previous_officer_id: e.previous_officer_id.clone().unwrap_or_default(),
    }
}

pub(super) fn officer_from_pb(e: ev::OfficerAssigned) -> OfficerAssigned {
    OfficerAssigned {
        officer_id: e.officer_id,
        officer_name: e.officer_name,
        previous_officer_id: non_empty(e.previous_officer_id),
    }
}

pub(super) fn supplemented_to_pb(e: &MaterialsSupplemented) -> ev::MaterialsSupplemented {
    ev::MaterialsSupplemented {
        materials: e.materials.iter().map(material_ref_to_pb).collect(),
        supplement_request_id: e.supplement_request_id.clone().unwrap_or_default(),
        task_id: e.task_id.clone().unwrap_or_default(),
    }
}

pub(super) fn supplemented_from_pb(e: ev::MaterialsSupplemented) -> Result<MaterialsSupplemented, ConvertError> {
    Ok(MaterialsSupplemented {
        materials: materials_from_pb("MaterialsSupplemented", &e.materials)?,
        supplement_request_id: non_empty(e.supplement_request_id),
        task_id: non_empty(e.task_id),
    })
}

pub(super) fn cleared_to_pb(e: &DeficiencyCleared) -> ev::DeficiencyCleared {
    ev::DeficiencyCleared {
        material_id: e.material_id.as_str().to_owned(),
        due_by: Some(date_to_pb(e.due_by)),
        cleared_on: Some(date_to_pb(e.cleared_on)),
        remaining_deficiencies: e.remaining_deficiencies,
    }
}

pub(super) fn cleared_from_pb(e: &ev::DeficiencyCleared) -> Result<DeficiencyCleared, ConvertError> {
    const AT: &str = "DeficiencyCleared";
    Ok(DeficiencyCleared {
        material_id: checked(AT, "material_id", MaterialId::parse(&e.material_id))?,
        due_by: date(AT, "due_by", e.due_by.as_ref())?,
        cleared_on: date(AT, "cleared_on", e.cleared_on.as_ref())?,
        remaining_deficiencies: e.remaining_deficiencies,
    })
}

pub(super) fn terminated_to_pb(e: &CaseTerminated) -> ev::CaseTerminated {
    ev::CaseTerminated {
        reason: termination_to_pb(e.reason) as i32,
        detail: e.detail.clone(),
        legal_basis: e.legal_basis.clone(),
        overdue_material_ids: strings(&e.overdue_material_ids, MaterialId::as_str),
    }
}

pub(super) fn terminated_from_pb(e: ev::CaseTerminated) -> Result<CaseTerminated, ConvertError> {
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

pub(super) fn withdrawn_to_pb(e: &ApplicationWithdrawn) -> ev::ApplicationWithdrawn {
    ev::ApplicationWithdrawn { reason: e.reason.clone() }
}

// Strict wire → domain values (stored events).

pub(crate) fn invalid(field: impl Into<String>, reason: impl ToString) -> ConvertError {
    ConvertError::Invalid { field: field.into(), reason: reason.to_string() }
}

pub(crate) fn checked<T>(at: &str, field: &str, value: Result<T, ValueError>) -> Result<T, ConvertError> {
    value.map_err(|e| invalid(format!("{at}.{field}"), e))
}

pub(crate) fn required<'a, T>(at: &str, field: &str, value: Option<&'a T>) -> Result<&'a T, ConvertError> {
    value.ok_or_else(|| invalid(format!("{at}.{field}"), "missing"))
}

pub(crate) fn date(at: &str, field: &str, value: Option<&pb::Date>) -> Result<NaiveDate, ConvertError> {
    date_from_pb(required(at, field, value)?).ok_or_else(|| invalid(format!("{at}.{field}"), "not a calendar date"))
}

pub(crate) fn codes<T>(
    at: &str,
    field: &str,
    values: &[String],
    parse: fn(&str) -> Result<T, ValueError>,
) -> Result<Vec<T>, ConvertError> {
    values.iter().enumerate().map(|(i, v)| parse(v).map_err(|e| invalid(format!("{at}.{field}[{i}]"), e))).collect()
}

pub(super) fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

pub(super) fn applicant_from_pb(a: &pb::Applicant) -> Result<Applicant, ConvertError> {
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

pub(super) fn delivery_from_pb(d: &pb::DeliveryPreference) -> Result<DeliveryPreference, ConvertError> {
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

pub(super) fn materials_from_pb(at: &str, materials: &[pb::MaterialRef]) -> Result<Vec<MaterialRef>, ConvertError> {
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

pub(super) fn deficiency_from_pb(at: &str, d: &pb::Deficiency) -> Result<Deficiency, ConvertError> {
    Ok(Deficiency {
        material_id: checked(at, "material_id", MaterialId::parse(&d.material_id))?,
        material_name: d.material_name.clone(),
        due_by: date(at, "due_by", d.due_by.as_ref())?,
        item_codes: codes(at, "item_codes", &d.item_codes, ItemCode::parse)?,
    })
}

/// A commitment from the wire, validated; `at` names it in errors.
pub fn commitment_from_pb(at: &str, c: &pb::Commitment) -> Result<Commitment, ConvertError> {
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
