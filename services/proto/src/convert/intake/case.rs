//! The case read back for `GetCase`, personal data masked on request.

use std::collections::BTreeSet;

use yiciban_domain::catalog::DataField;
use yiciban_domain::intake::{CaseApplication, DeliveryPreference, Status};

use super::values::{delivery_to_pb, form_data_to_pb, postal_address_to_pb};
use crate::common::v1 as pb;
use crate::convert::case::strings;
use crate::intake::v1 as api;

/// The acceptance decision as it was taken: NOT_ACCEPTED, ACCEPTED_WITH_DEFICIENCY
/// when the acceptance owed materials (even once they are all handed in or
/// the case was later withdrawn or terminated), ACCEPTED, or UNSPECIFIED
/// before a decision.
pub fn decision_to_pb(state: &CaseApplication) -> api::AcceptanceDecision {
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
/// The form is given only unmasked (it is personal data throughout); the
/// delivery address is masked with the applicant. Once the applicant's
/// personal data is erased, none of the three is there for anyone and
/// `personal_data_erased` says so. The state does not keep
/// the channel or the submission time: `channel` and `submitted_at` are left
/// unset.
pub fn case_to_pb(state: &CaseApplication, mask_personal_data: bool) -> api::Case {
    api::Case {
        case_id: String::new(),
        case_number: state.case_number.as_ref().map(ToString::to_string).unwrap_or_default(),
        package_id: state.package_id.as_ref().map(ToString::to_string).unwrap_or_default(),
        status: pb::CaseStatus::from(state.status) as i32,
        decision: decision_to_pb(state) as i32,
        reasons: state.reasons.iter().map(Into::into).collect(),
        applicant: state.applicant.as_ref().map(|a| if mask_personal_data { (&a.masked()).into() } else { a.into() }),
        form_data: (!mask_personal_data && !state.personal_data_erased).then(|| form_data_to_pb(&state.form_data)),
        materials: state.materials.iter().map(Into::into).collect(),
        deficiencies: state
            .deficiencies
            .iter()
            .map(|d| api::DeficiencyStatus {
                deficiency: Some((&d.deficiency).into()),
                cleared: d.cleared_on.is_some(),
                cleared_on: d.cleared_on.map(pb::Date::from),
            })
            .collect(),
        commitments: state.commitments.iter().map(Into::into).collect(),
        item_codes: strings(&state.item_codes),
        delivery: state.delivery.as_ref().map(|d| delivery_to_pb(d, mask_personal_data)),
        channel: pb::Channel::Unspecified as i32,
        officer_id: state.officer.as_ref().map(|o| o.id.clone()).unwrap_or_default(),
        submitted_at: None,
        accepted_on: state.accepted_on.map(pb::Date::from),
        promised_working_days: state.promised_working_days,
        promised_by: state.promised_by.map(pb::Date::from),
        version: state.version,
        personal_data_erased: state.personal_data_erased,
    }
}

/// The application's personal data reduced to `fields` (a department's
/// allow-list, data minimisation): the applicant with only the listed
/// fields (its kind always), the form with only the listed keys, the mail
/// address only when listed. Everything not listed is left empty.
pub fn minimised_to_pb(
    state: &CaseApplication,
    fields: &BTreeSet<DataField>,
) -> (Option<pb::Applicant>, prost_types::Struct, Option<pb::PostalAddress>) {
    let applicant = state.applicant.as_ref().map(|a| {
        let full: pb::Applicant = a.into();
        let keep = |field: DataField, value: String| if fields.contains(&field) { value } else { String::new() };
        pb::Applicant {
            kind: full.kind,
            name: keep(DataField::ApplicantName, full.name),
            id_number: keep(DataField::ApplicantIdNumber, full.id_number),
            phone: keep(DataField::ApplicantPhone, full.phone),
            contact_name: keep(DataField::ContactName, full.contact_name),
            contact_id_number: keep(DataField::ContactIdNumber, full.contact_id_number),
        }
    });
    let form = state
        .form_data
        .iter()
        .filter(|(key, _)| fields.contains(&DataField::Form((*key).clone())))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mail = match &state.delivery {
        Some(DeliveryPreference::Mail { address }) if fields.contains(&DataField::MailAddress) => {
            Some(postal_address_to_pb(address, false))
        }
        _ => None,
    };
    (applicant, form_data_to_pb(&form), mail)
}
