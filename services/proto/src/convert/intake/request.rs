//! Requests into the domain's unvalidated inputs, losslessly (`From`).

use chrono::NaiveDate;
use yiciban_domain::intake::{
    ApplicantInput, ApplicantKind, ApplicationDraft, Channel, CommitmentRequest, DeficiencyRequest, DeliveryInput,
    DeliveryMethod, PostalAddressInput,
};

use super::values::form_data_from_pb;
use crate::common::v1 as pb;
use crate::intake::v1 as api;

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
impl From<&api::SubmitApplicationRequest> for ApplicationDraft {
    fn from(req: &api::SubmitApplicationRequest) -> Self {
        ApplicationDraft {
            package_id: req.package_id.clone(),
            applicant: req.applicant.as_ref().map(ApplicantInput::from).unwrap_or_default(),
            form_data: req.form_data.as_ref().map(form_data_from_pb).unwrap_or_default(),
            materials: req.materials.iter().map(Into::into).collect(),
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
                    promised_by: d.promised_by.map(|p| NaiveDate::try_from(p).unwrap_or(NaiveDate::MIN)),
                })
                .collect(),
            optional_item_codes: req.optional_item_codes.clone(),
            delivery: req.delivery.as_ref().map(DeliveryInput::from).unwrap_or_default(),
            channel: Channel::try_from(req.channel()).ok(),
            site_code: req.site_code.clone(),
        }
    }
}

/// An applicant as given; an UNSPECIFIED or unknown kind is `None`.
impl From<&pb::Applicant> for ApplicantInput {
    fn from(a: &pb::Applicant) -> Self {
        ApplicantInput {
            kind: ApplicantKind::try_from(a.kind()).ok(),
            name: a.name.clone(),
            id_number: a.id_number.clone(),
            phone: a.phone.clone(),
            contact_name: a.contact_name.clone(),
            contact_id_number: a.contact_id_number.clone(),
        }
    }
}

/// A delivery preference as given; an UNSPECIFIED or unknown method is `None`.
impl From<&pb::DeliveryPreference> for DeliveryInput {
    fn from(d: &pb::DeliveryPreference) -> Self {
        DeliveryInput {
            method: DeliveryMethod::try_from(d.method()).ok(),
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
}
