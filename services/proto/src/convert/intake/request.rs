//! Requests into the domain's unvalidated inputs, losslessly.

use chrono::NaiveDate;
use yiciban_domain::intake::{
    ApplicantInput, ApplicantKind, ApplicationDraft, CommitmentRequest, DeficiencyRequest, DeliveryInput,
    DeliveryMethod, PostalAddressInput,
};

use crate::common::v1 as pb;
use crate::intake::v1 as api;

use super::values::*;

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

pub(super) fn applicant_input_from_pb(a: &pb::Applicant) -> ApplicantInput {
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

pub(super) fn delivery_input_from_pb(d: &pb::DeliveryPreference) -> DeliveryInput {
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
