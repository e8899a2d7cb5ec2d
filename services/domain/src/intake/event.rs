//! Events of the case's intake stream, field for field as in
//! `proto/yiciban/events/v1/intake.proto` (case id, actor, time and channel
//! travel in the envelope). Serialised with the message name as `type`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::model::{
    ApplicantKind, Deficiency, ErasureBasis, MaterialRef, Personal, PersonalData, Reason, TerminationReason,
};
use crate::case::Commitment;
use crate::values::{CaseNumber, DepartmentCode, ItemCode, MaterialId, PackageId};

/// An event of the intake stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    /// See [`ApplicationSubmitted`].
    ApplicationSubmitted(ApplicationSubmitted),
    /// See [`ApplicationAccepted`].
    ApplicationAccepted(ApplicationAccepted),
    /// See [`ApplicationNotAccepted`].
    ApplicationNotAccepted(ApplicationNotAccepted),
    /// See [`OfficerAssigned`].
    OfficerAssigned(OfficerAssigned),
    /// See [`MaterialsSupplemented`].
    MaterialsSupplemented(MaterialsSupplemented),
    /// See [`DeficiencyCleared`].
    DeficiencyCleared(DeficiencyCleared),
    /// See [`CaseTerminated`].
    CaseTerminated(CaseTerminated),
    /// See [`ApplicationWithdrawn`].
    ApplicationWithdrawn(ApplicationWithdrawn),
    /// See [`PersonalDataErased`].
    PersonalDataErased(PersonalDataErased),
}

impl Event {
    /// The event type: the proto message name.
    pub fn event_type(&self) -> &'static str {
        match self {
            Event::ApplicationSubmitted(_) => "ApplicationSubmitted",
            Event::ApplicationAccepted(_) => "ApplicationAccepted",
            Event::ApplicationNotAccepted(_) => "ApplicationNotAccepted",
            Event::OfficerAssigned(_) => "OfficerAssigned",
            Event::MaterialsSupplemented(_) => "MaterialsSupplemented",
            Event::DeficiencyCleared(_) => "DeficiencyCleared",
            Event::CaseTerminated(_) => "CaseTerminated",
            Event::ApplicationWithdrawn(_) => "ApplicationWithdrawn",
            Event::PersonalDataErased(_) => "PersonalDataErased",
        }
    }

    /// True for the one event that carries personal data.
    pub fn carries_personal_data(&self) -> bool {
        matches!(self, Event::ApplicationSubmitted(_))
    }
}

/// The application as submitted (first event of every case; always followed
/// by accepted or not accepted). The ONLY event with personal data, all of
/// it in [`ApplicationSubmitted::personal`], which the event store keeps
/// sealed under the applicant's data key and reads back as erased once that
/// key is deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplicationSubmitted {
    /// The case number.
    pub case_number: CaseNumber,
    /// The package.
    pub package_id: PackageId,
    /// Catalog version the case was checked against and keeps.
    pub catalog_version: String,
    /// Person or company (kept after an erasure, for statistics).
    pub applicant_kind: ApplicantKind,
    /// The subject of the applicant's data key: the keyed hash of its
    /// identity (a fact from outside, [`super::Submit::data_subject`]);
    /// empty in events recorded before personal data was sealed.
    pub data_subject: String,
    /// The applicant, the form and the delivery choice, or erased.
    pub personal: Personal<PersonalData>,
    /// Every document handed in.
    pub materials: Vec<MaterialRef>,
    /// Optional items chosen.
    pub optional_item_codes: Vec<ItemCode>,
    /// The service site that accepted it; empty when none was given.
    pub site_code: String,
}

/// Accepted (受理); with deficiencies a 容缺受理. The case clock starts on
/// `accepted_on`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationAccepted {
    /// The case number.
    pub case_number: CaseNumber,
    /// The package.
    pub package_id: PackageId,
    /// Acceptance notice number (受理通知书): the case number + "-SL".
    pub notice_number: String,
    /// Day of acceptance.
    pub accepted_on: NaiveDate,
    /// Every item covered.
    pub item_codes: Vec<ItemCode>,
    /// Lead department.
    pub lead_department: DepartmentCode,
    /// Promised working days of the whole case.
    pub promised_working_days: u32,
    /// Last day (inclusive) the case is on time.
    pub promised_by: NaiveDate,
    /// Materials owed (容缺); empty for a plain acceptance.
    pub deficiencies: Vec<Deficiency>,
    /// Proofs replaced by commitments.
    pub commitments: Vec<Commitment>,
    /// The catalog version the case was accepted under, kept until it closes.
    pub catalog_version: String,
}

/// Not accepted (不予受理), every reason at once. Terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationNotAccepted {
    /// The case number.
    pub case_number: CaseNumber,
    /// The package.
    pub package_id: PackageId,
    /// Notice number (不予受理通知书): the case number + "-BSL".
    pub notice_number: String,
    /// Every reason; never empty.
    pub reasons: Vec<Reason>,
}

/// A case officer was assigned, or the case handed to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficerAssigned {
    /// Staff login of the officer now responsible.
    pub officer_id: String,
    /// Display name.
    pub officer_name: String,
    /// The officer before; `None` on first assignment.
    pub previous_officer_id: Option<String>,
}

/// Materials handed in for deficiencies and/or a supplement request. When a
/// supplement request (and so a stopped clock) waits on them, its id and
/// task are set; routing resumes the clock on seeing them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaterialsSupplemented {
    /// The documents.
    pub materials: Vec<MaterialRef>,
    /// The supplement request answered, if any.
    pub supplement_request_id: Option<String>,
    /// The task that asked, if any.
    pub task_id: Option<String>,
    /// The catalog item of the task that asked, if any (and known).
    #[serde(default)]
    pub item_code: Option<String>,
    /// The department of the task that asked, if any (and known).
    #[serde(default)]
    pub department: Option<String>,
}

/// A deficiency made good; follows the MaterialsSupplemented that brought it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeficiencyCleared {
    /// The material.
    pub material_id: MaterialId,
    /// Its due date.
    pub due_by: NaiveDate,
    /// Day it arrived (on or before `due_by`).
    pub cleared_on: NaiveDate,
    /// Deficiencies still open after this one.
    pub remaining_deficiencies: u32,
}

/// Terminated (终止) before a decision. Terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseTerminated {
    /// Why.
    pub reason: TerminationReason,
    /// Explanation for the applicant.
    pub detail: String,
    /// Legal provision; may be empty.
    pub legal_basis: String,
    /// For an overdue deficiency: the materials not handed in.
    pub overdue_material_ids: Vec<MaterialId>,
}

/// Withdrawn (撤回) by the applicant. Terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationWithdrawn {
    /// The applicant's reason; may be empty.
    pub reason: String,
}

/// The applicant's personal data was erased (their data key deleted; ADR
/// 0024). No personal data in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonalDataErased {
    /// Why.
    pub basis: ErasureBasis,
    /// Stored material contents of the case deleted with it.
    pub materials_deleted: u32,
}
