//! The state of a case as intake knows it, folded from its events by
//! [`evolve`]. Total: an event that does not fit the state is applied as far
//! as it goes (events are facts; the decision refused anything invalid).

use chrono::NaiveDate;
use serde::Serialize;

use super::event::Event;
use super::model::{
    Applicant, ApplicantKind, Deficiency, DeliveryPreference, MaterialRef, Personal, Reason, TerminationReason,
};
use crate::case::Commitment;
use crate::values::{CaseNumber, DepartmentCode, ItemCode, PackageId};

/// Intake's view of a case's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Nothing submitted yet (empty stream).
    #[default]
    New,
    /// Submitted, acceptance not yet recorded (only between the two events
    /// of one append).
    Submitted,
    /// 已受理: accepted, nothing owed.
    Accepted,
    /// 容缺受理: accepted, deficiencies open.
    AcceptedWithDeficiency,
    /// 不予受理 (terminal).
    NotAccepted,
    /// 撤回 (terminal).
    Withdrawn,
    /// 终止 (terminal).
    Terminated,
}

impl Status {
    /// True once nothing more can happen to the case in intake.
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::NotAccepted | Status::Withdrawn | Status::Terminated)
    }

    /// True for an accepted case still running.
    pub fn is_accepted(self) -> bool {
        matches!(self, Status::Accepted | Status::AcceptedWithDeficiency)
    }
}

/// A deficiency with its progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeficiencyState {
    /// The deficiency as accepted.
    pub deficiency: Deficiency,
    /// The day the material arrived; `None` while open.
    pub cleared_on: Option<NaiveDate>,
}

/// The case officer (专人).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Officer {
    /// Staff login.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// The intake aggregate's state: the case as intake records it (see the
/// module docs of [`crate::intake`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CaseApplication {
    /// Status.
    pub status: Status,
    /// Number of events applied (the stream version).
    pub version: u64,
    /// The case number.
    pub case_number: Option<CaseNumber>,
    /// The package.
    pub package_id: Option<PackageId>,
    /// The catalog version the case was checked against and keeps.
    pub catalog_version: Option<String>,
    /// Person or company.
    pub applicant_kind: Option<ApplicantKind>,
    /// The subject of the applicant's data key (see
    /// [`super::ApplicationSubmitted::data_subject`]); empty for a case
    /// submitted before personal data was sealed.
    pub data_subject: String,
    /// True once the applicant's personal data was erased: `applicant`,
    /// `form_data` and `delivery` are empty for good.
    pub personal_data_erased: bool,
    /// True once `PersonalDataErased` is in the stream.
    pub erasure_recorded: bool,
    /// The applicant (personal data).
    pub applicant: Option<Applicant>,
    /// The form as submitted (personal data).
    pub form_data: serde_json::Map<String, serde_json::Value>,
    /// How the results are to be handed over (address: personal data).
    pub delivery: Option<DeliveryPreference>,
    /// Items covered (set at acceptance).
    pub item_codes: Vec<ItemCode>,
    /// Lead department (set at acceptance).
    pub lead_department: Option<DepartmentCode>,
    /// Day of acceptance.
    pub accepted_on: Option<NaiveDate>,
    /// Promised working days.
    pub promised_working_days: u32,
    /// Last day promised.
    pub promised_by: Option<NaiveDate>,
    /// Deficiencies with their progress.
    pub deficiencies: Vec<DeficiencyState>,
    /// Commitments accepted.
    pub commitments: Vec<Commitment>,
    /// Reasons of a non-acceptance.
    pub reasons: Vec<Reason>,
    /// Every document handed in, at submission and in supplements.
    pub materials: Vec<MaterialRef>,
    /// The case officer.
    pub officer: Option<Officer>,
    /// Why it was terminated.
    pub termination: Option<TerminationReason>,
    /// The reason given for a withdrawal.
    pub withdrawal_reason: Option<String>,
}

impl CaseApplication {
    /// The deficiencies still open.
    pub fn open_deficiencies(&self) -> impl Iterator<Item = &DeficiencyState> {
        self.deficiencies.iter().filter(|d| d.cleared_on.is_none())
    }

    /// The open deficiencies whose due day is before `today`.
    pub fn overdue_deficiencies(&self, today: NaiveDate) -> impl Iterator<Item = &DeficiencyState> {
        self.open_deficiencies().filter(move |d| d.deficiency.due_by < today)
    }
}

/// Applies one event to the state; every event advances the version by one.
pub(super) fn evolve(mut state: CaseApplication, event: &Event) -> CaseApplication {
    state.version += 1;
    match event {
        Event::ApplicationSubmitted(e) => {
            state.status = Status::Submitted;
            state.case_number = Some(e.case_number);
            state.package_id = Some(e.package_id.clone());
            state.catalog_version = Some(e.catalog_version.clone());
            state.applicant_kind = Some(e.applicant_kind);
            state.data_subject.clone_from(&e.data_subject);
            match &e.personal {
                Personal::Clear(p) => {
                    state.applicant = Some(p.applicant.clone());
                    state.form_data.clone_from(&p.form_data);
                    state.delivery = Some(p.delivery.clone());
                }
                Personal::Erased => state.personal_data_erased = true,
            }
            state.materials.clone_from(&e.materials);
        }
        Event::ApplicationAccepted(e) => {
            state.status = if e.deficiencies.is_empty() { Status::Accepted } else { Status::AcceptedWithDeficiency };
            state.item_codes.clone_from(&e.item_codes);
            state.lead_department = Some(e.lead_department.clone());
            state.accepted_on = Some(e.accepted_on);
            state.promised_working_days = e.promised_working_days;
            state.promised_by = Some(e.promised_by);
            state.deficiencies =
                e.deficiencies.iter().map(|d| DeficiencyState { deficiency: d.clone(), cleared_on: None }).collect();
            state.commitments.clone_from(&e.commitments);
        }
        Event::ApplicationNotAccepted(e) => {
            state.status = Status::NotAccepted;
            state.reasons.clone_from(&e.reasons);
        }
        Event::OfficerAssigned(e) => {
            state.officer = Some(Officer { id: e.officer_id.clone(), name: e.officer_name.clone() });
        }
        Event::MaterialsSupplemented(e) => state.materials.extend(e.materials.iter().cloned()),
        Event::DeficiencyCleared(e) => {
            if let Some(d) = state.deficiencies.iter_mut().find(|d| d.deficiency.material_id == e.material_id) {
                d.cleared_on = Some(e.cleared_on);
            }
            if state.status == Status::AcceptedWithDeficiency && state.open_deficiencies().next().is_none() {
                state.status = Status::Accepted;
            }
        }
        Event::CaseTerminated(e) => {
            state.status = Status::Terminated;
            state.termination = Some(e.reason);
        }
        Event::ApplicationWithdrawn(e) => {
            state.status = Status::Withdrawn;
            state.withdrawal_reason = Some(e.reason.clone());
        }
        Event::PersonalDataErased(_) => {
            state.personal_data_erased = true;
            state.erasure_recorded = true;
            state.applicant = None;
            state.form_data.clear();
            state.delivery = None;
        }
    }
    state
}
