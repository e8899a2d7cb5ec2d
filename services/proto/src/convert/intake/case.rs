//! The case read back for `GetCase`, personal data masked on request.

use yiciban_domain::intake::{CaseApplication, Status};
use yiciban_domain::values::ItemCode;

use crate::common::v1 as pb;
use crate::intake::v1 as api;

use super::values::*;

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
/// delivery address is masked with the applicant. The state does not keep
/// the channel or the submission time: `channel` and `submitted_at` are left
/// unset.
pub fn case_to_pb(state: &CaseApplication, mask_personal_data: bool) -> api::Case {
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
        form_data: (!mask_personal_data).then(|| form_data_to_pb(&state.form_data)),
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
        delivery: state.delivery.as_ref().map(|d| delivery_to_pb(d, mask_personal_data)),
        channel: pb::Channel::Unspecified as i32,
        officer_id: state.officer.as_ref().map(|o| o.id.clone()).unwrap_or_default(),
        submitted_at: None,
        accepted_on: state.accepted_on.map(date_to_pb),
        promised_working_days: state.promised_working_days,
        promised_by: state.promised_by.map(date_to_pb),
        version: state.version,
    }
}
