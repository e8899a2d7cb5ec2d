//! Intake events: the domain event and its `yiciban.events.v1` message
//! (`From` one way, `TryFrom` the other, every value validated again), and a
//! stream's events as stored ([`encode_event`], [`decode_event`]).

use yiciban_domain::intake::{
    Applicant, ApplicantKind, ApplicationAccepted, ApplicationNotAccepted, ApplicationSubmitted, ApplicationWithdrawn,
    CaseTerminated, Commitment, Deficiency, DeficiencyCleared, DeliveryPreference, ErasureBasis, Event, MaterialRef,
    MaterialsSupplemented, OfficerAssigned, Personal, PersonalData, PersonalDataErased, Reason, TerminationReason,
};
use yiciban_domain::values::{CaseNumber, DepartmentCode, ItemCode, MaterialId, PackageId};

use super::values::{delivery_to_pb, form_data_from_pb, form_data_to_pb};
use crate::common::v1 as pb;
use crate::convert::case::strings;
use crate::convert::wire::{At as _, ConvertError, date, each, non_empty, required};
use crate::events::EventPayload;
use crate::events::v1 as ev;
use crate::sealed::{DataKey, Opening, open_submitted, seal_submitted};

/// The event type (the `yiciban.events.v1` message name, e.g.
/// "ApplicationSubmitted") and the prost-encoded payload of `event`, as
/// stored and published. The personal part of an `ApplicationSubmitted` is
/// sealed under `key`, the data key of the event's `data_subject`
/// ([`crate::sealed::seal_submitted`]): nothing personal is ever encoded in
/// clear, and an `ApplicationSubmitted` with personal data and no key is an
/// error. Other events ignore `key`.
pub fn encode_event(event: &Event, key: Option<&dyn DataKey>) -> Result<(&'static str, Vec<u8>), ConvertError> {
    let mut payload = EventPayload::from(event);
    if let (EventPayload::ApplicationSubmitted(message), Event::ApplicationSubmitted(e)) = (&mut payload, event)
        && matches!(e.personal, Personal::Clear(_))
    {
        let key = key.ok_or_else(|| {
            ConvertError::invalid("personal data and no data key to seal it")
                .at("ApplicationSubmitted.sealed_personal_data")
        })?;
        if e.data_subject.is_empty() {
            return Err(ConvertError::invalid("no subject for the data key").at("ApplicationSubmitted.data_subject"));
        }
        seal_submitted(message, &e.data_subject, key);
    }
    Ok((payload.event_type().expect("an intake event is a known message"), payload.encode_to_vec()))
}

/// The domain event of a stored `event_type` and payload: the inverse of
/// [`encode_event`]. The personal part of an `ApplicationSubmitted` is
/// opened as `opening` says ([`crate::sealed::open_submitted`]; an erased
/// one is [`Personal::Erased`]); other events ignore `opening`. Every value
/// is validated again; an error names the field from the message name on
/// (`ApplicationSubmitted.applicant.phone`).
pub fn decode_event(event_type: &str, payload: &[u8], opening: Opening<'_>) -> Result<Event, ConvertError> {
    match EventPayload::decode_known(event_type, payload)? {
        EventPayload::ApplicationSubmitted(sealed) => {
            let opened = open_submitted(&sealed, opening)?;
            Event::try_from(&EventPayload::ApplicationSubmitted(opened))
        }
        other => Event::try_from(&other),
    }
}

impl From<&Event> for EventPayload {
    fn from(event: &Event) -> Self {
        match event {
            Event::ApplicationSubmitted(e) => ev::ApplicationSubmitted::from(e).into(),
            Event::ApplicationAccepted(e) => ev::ApplicationAccepted::from(e).into(),
            Event::ApplicationNotAccepted(e) => ev::ApplicationNotAccepted::from(e).into(),
            Event::OfficerAssigned(e) => ev::OfficerAssigned::from(e).into(),
            Event::MaterialsSupplemented(e) => ev::MaterialsSupplemented::from(e).into(),
            Event::DeficiencyCleared(e) => ev::DeficiencyCleared::from(e).into(),
            Event::CaseTerminated(e) => ev::CaseTerminated::from(e).into(),
            Event::ApplicationWithdrawn(e) => ev::ApplicationWithdrawn::from(e).into(),
            Event::PersonalDataErased(e) => ev::PersonalDataErased::from(e).into(),
        }
    }
}

/// An intake event from its message; another area's event (or one this
/// build does not know) is [`ConvertError::UnknownEventType`].
impl TryFrom<&EventPayload> for Event {
    type Error = ConvertError;

    fn try_from(payload: &EventPayload) -> Result<Self, ConvertError> {
        let event = match payload {
            EventPayload::ApplicationSubmitted(e) => e.try_into().map(Event::ApplicationSubmitted),
            EventPayload::ApplicationAccepted(e) => e.try_into().map(Event::ApplicationAccepted),
            EventPayload::ApplicationNotAccepted(e) => e.try_into().map(Event::ApplicationNotAccepted),
            EventPayload::OfficerAssigned(e) => Ok(Event::OfficerAssigned(e.into())),
            EventPayload::MaterialsSupplemented(e) => e.try_into().map(Event::MaterialsSupplemented),
            EventPayload::DeficiencyCleared(e) => e.try_into().map(Event::DeficiencyCleared),
            EventPayload::CaseTerminated(e) => e.try_into().map(Event::CaseTerminated),
            EventPayload::ApplicationWithdrawn(e) => Ok(Event::ApplicationWithdrawn(e.into())),
            EventPayload::PersonalDataErased(e) => e.try_into().map(Event::PersonalDataErased),
            other => return Err(ConvertError::UnknownEventType(other.event_type().unwrap_or_default().to_owned())),
        };
        event.at(payload.event_type().unwrap_or_default())
    }
}

/// The message with the personal part IN CLEAR, in the shape of an event
/// written before sealing: [`encode_event`] seals it before anything is
/// stored or published. An erased personal part leaves `applicant`,
/// `form_data` and `delivery` empty.
impl From<&ApplicationSubmitted> for ev::ApplicationSubmitted {
    fn from(e: &ApplicationSubmitted) -> Self {
        let personal = e.personal.clear();
        ev::ApplicationSubmitted {
            case_number: e.case_number.to_string(),
            package_id: e.package_id.to_string(),
            catalog_version: e.catalog_version.clone(),
            applicant: personal.map(|p| (&p.applicant).into()),
            form_data: personal.map(|p| form_data_to_pb(&p.form_data)),
            materials: e.materials.iter().map(Into::into).collect(),
            optional_item_codes: strings(&e.optional_item_codes),
            delivery: personal.map(|p| delivery_to_pb(&p.delivery, false)),
            site_code: e.site_code.clone(),
            sealed_personal_data: Vec::new(),
            data_subject: e.data_subject.clone(),
            applicant_kind: pb::ApplicantKind::from(e.applicant_kind) as i32,
            data_key_generation: 0,
        }
    }
}

/// The domain event from a message in the clear shape (as
/// [`crate::sealed::open_submitted`] gives it): the personal part is
/// [`Personal::Clear`] when `applicant` is there, else [`Personal::Erased`].
impl TryFrom<&ev::ApplicationSubmitted> for ApplicationSubmitted {
    type Error = ConvertError;

    fn try_from(e: &ev::ApplicationSubmitted) -> Result<Self, ConvertError> {
        if !e.sealed_personal_data.is_empty() {
            return Err(ConvertError::invalid("still sealed: open it first").at("sealed_personal_data"));
        }
        let personal = match &e.applicant {
            Some(applicant) => Personal::Clear(PersonalData {
                applicant: Applicant::try_from(applicant).at("applicant")?,
                form_data: e.form_data.as_ref().map(form_data_from_pb).unwrap_or_default(),
                delivery: required(e.delivery.as_ref()).and_then(DeliveryPreference::try_from).at("delivery")?,
            }),
            None => Personal::Erased,
        };
        Ok(ApplicationSubmitted {
            case_number: CaseNumber::parse(&e.case_number).at("case_number")?,
            package_id: PackageId::parse(&e.package_id).at("package_id")?,
            catalog_version: e.catalog_version.clone(),
            applicant_kind: ApplicantKind::try_from(e.applicant_kind()).at("applicant_kind")?,
            data_subject: e.data_subject.clone(),
            personal,
            materials: each(&e.materials, MaterialRef::try_from).at("materials")?,
            optional_item_codes: each(&e.optional_item_codes, |c| ItemCode::parse(c)).at("optional_item_codes")?,
            site_code: e.site_code.clone(),
        })
    }
}

impl From<&ApplicationAccepted> for ev::ApplicationAccepted {
    fn from(e: &ApplicationAccepted) -> Self {
        ev::ApplicationAccepted {
            case_number: e.case_number.to_string(),
            package_id: e.package_id.to_string(),
            notice_number: e.notice_number.clone(),
            accepted_on: Some(e.accepted_on.into()),
            item_codes: strings(&e.item_codes),
            lead_department: e.lead_department.to_string(),
            promised_working_days: e.promised_working_days,
            promised_by: Some(e.promised_by.into()),
            deficiencies: e.deficiencies.iter().map(Into::into).collect(),
            commitments: e.commitments.iter().map(Into::into).collect(),
            catalog_version: e.catalog_version.clone(),
        }
    }
}

impl TryFrom<&ev::ApplicationAccepted> for ApplicationAccepted {
    type Error = ConvertError;

    fn try_from(e: &ev::ApplicationAccepted) -> Result<Self, ConvertError> {
        Ok(ApplicationAccepted {
            case_number: CaseNumber::parse(&e.case_number).at("case_number")?,
            package_id: PackageId::parse(&e.package_id).at("package_id")?,
            notice_number: e.notice_number.clone(),
            accepted_on: date(e.accepted_on.as_ref()).at("accepted_on")?,
            item_codes: each(&e.item_codes, |c| ItemCode::parse(c)).at("item_codes")?,
            lead_department: DepartmentCode::parse(&e.lead_department).at("lead_department")?,
            promised_working_days: e.promised_working_days,
            promised_by: date(e.promised_by.as_ref()).at("promised_by")?,
            deficiencies: each(&e.deficiencies, Deficiency::try_from).at("deficiencies")?,
            commitments: each(&e.commitments, Commitment::try_from).at("commitments")?,
            catalog_version: crate::convert::catalog::catalog_version_or_seed(&e.catalog_version),
        })
    }
}

impl From<&ApplicationNotAccepted> for ev::ApplicationNotAccepted {
    fn from(e: &ApplicationNotAccepted) -> Self {
        ev::ApplicationNotAccepted {
            case_number: e.case_number.to_string(),
            package_id: e.package_id.to_string(),
            notice_number: e.notice_number.clone(),
            reasons: e.reasons.iter().map(Into::into).collect(),
        }
    }
}

impl TryFrom<&ev::ApplicationNotAccepted> for ApplicationNotAccepted {
    type Error = ConvertError;

    fn try_from(e: &ev::ApplicationNotAccepted) -> Result<Self, ConvertError> {
        Ok(ApplicationNotAccepted {
            case_number: CaseNumber::parse(&e.case_number).at("case_number")?,
            package_id: PackageId::parse(&e.package_id).at("package_id")?,
            notice_number: e.notice_number.clone(),
            reasons: each(&e.reasons, Reason::try_from).at("reasons")?,
        })
    }
}

impl From<&OfficerAssigned> for ev::OfficerAssigned {
    fn from(e: &OfficerAssigned) -> Self {
        ev::OfficerAssigned {
            officer_id: e.officer_id.clone(),
            officer_name: e.officer_name.clone(),
            previous_officer_id: e.previous_officer_id.clone().unwrap_or_default(),
        }
    }
}

impl From<&ev::OfficerAssigned> for OfficerAssigned {
    fn from(e: &ev::OfficerAssigned) -> Self {
        OfficerAssigned {
            officer_id: e.officer_id.clone(),
            officer_name: e.officer_name.clone(),
            previous_officer_id: non_empty(&e.previous_officer_id),
        }
    }
}

impl From<&MaterialsSupplemented> for ev::MaterialsSupplemented {
    fn from(e: &MaterialsSupplemented) -> Self {
        ev::MaterialsSupplemented {
            materials: e.materials.iter().map(Into::into).collect(),
            supplement_request_id: e.supplement_request_id.clone().unwrap_or_default(),
            task_id: e.task_id.clone().unwrap_or_default(),
            item_code: e.item_code.clone().unwrap_or_default(),
            department: e.department.clone().unwrap_or_default(),
        }
    }
}

impl TryFrom<&ev::MaterialsSupplemented> for MaterialsSupplemented {
    type Error = ConvertError;

    fn try_from(e: &ev::MaterialsSupplemented) -> Result<Self, ConvertError> {
        Ok(MaterialsSupplemented {
            materials: each(&e.materials, MaterialRef::try_from).at("materials")?,
            supplement_request_id: non_empty(&e.supplement_request_id),
            task_id: non_empty(&e.task_id),
            item_code: non_empty(&e.item_code),
            department: non_empty(&e.department),
        })
    }
}

impl From<&DeficiencyCleared> for ev::DeficiencyCleared {
    fn from(e: &DeficiencyCleared) -> Self {
        ev::DeficiencyCleared {
            material_id: e.material_id.to_string(),
            due_by: Some(e.due_by.into()),
            cleared_on: Some(e.cleared_on.into()),
            remaining_deficiencies: e.remaining_deficiencies,
        }
    }
}

impl TryFrom<&ev::DeficiencyCleared> for DeficiencyCleared {
    type Error = ConvertError;

    fn try_from(e: &ev::DeficiencyCleared) -> Result<Self, ConvertError> {
        Ok(DeficiencyCleared {
            material_id: MaterialId::parse(&e.material_id).at("material_id")?,
            due_by: date(e.due_by.as_ref()).at("due_by")?,
            cleared_on: date(e.cleared_on.as_ref()).at("cleared_on")?,
            remaining_deficiencies: e.remaining_deficiencies,
        })
    }
}

impl From<&CaseTerminated> for ev::CaseTerminated {
    fn from(e: &CaseTerminated) -> Self {
        ev::CaseTerminated {
            reason: crate::common::v1::TerminationReason::from(e.reason) as i32,
            detail: e.detail.clone(),
            legal_basis: e.legal_basis.clone(),
            overdue_material_ids: strings(&e.overdue_material_ids),
        }
    }
}

impl TryFrom<&ev::CaseTerminated> for CaseTerminated {
    type Error = ConvertError;

    fn try_from(e: &ev::CaseTerminated) -> Result<Self, ConvertError> {
        Ok(CaseTerminated {
            reason: TerminationReason::try_from(e.reason()).at("reason")?,
            overdue_material_ids: each(&e.overdue_material_ids, |m| MaterialId::parse(m)).at("overdue_material_ids")?,
            detail: e.detail.clone(),
            legal_basis: e.legal_basis.clone(),
        })
    }
}

impl From<&ApplicationWithdrawn> for ev::ApplicationWithdrawn {
    fn from(e: &ApplicationWithdrawn) -> Self {
        ev::ApplicationWithdrawn { reason: e.reason.clone() }
    }
}

impl From<&ev::ApplicationWithdrawn> for ApplicationWithdrawn {
    fn from(e: &ev::ApplicationWithdrawn) -> Self {
        ApplicationWithdrawn { reason: e.reason.clone() }
    }
}

crate::convert::wire::enum_pair!(ErasureBasis, ev::ErasureBasis {
    Request <=> Request,
    Retention <=> Retention,
});

impl From<&PersonalDataErased> for ev::PersonalDataErased {
    fn from(e: &PersonalDataErased) -> Self {
        ev::PersonalDataErased { basis: ev::ErasureBasis::from(e.basis) as i32, materials_deleted: e.materials_deleted }
    }
}

impl TryFrom<&ev::PersonalDataErased> for PersonalDataErased {
    type Error = ConvertError;

    fn try_from(e: &ev::PersonalDataErased) -> Result<Self, ConvertError> {
        Ok(PersonalDataErased {
            basis: ErasureBasis::try_from(e.basis()).at("basis")?,
            materials_deleted: e.materials_deleted,
        })
    }
}
