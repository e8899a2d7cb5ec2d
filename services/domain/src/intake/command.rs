//! Commands of the intake aggregate. Each carries the facts the decision
//! needs, looked up by the service before the call: the package's guide, the
//! applicant's credit status, the allocated case number, the time, and
//! working-day deadlines already turned into calendar dates.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

use super::input::{ApplicationDraft, MaterialInput};
use super::model::{CreditStatus, TerminationReason};
use crate::catalog::Guide;
use crate::values::{CaseNumber, MaterialId};

/// Largest material accepted unless configured otherwise: 20 MiB.
pub const DEFAULT_MAX_MATERIAL_BYTES: u64 = 20 * 1024 * 1024;

/// The calendar day in China (UTC+8, no daylight saving) at `now`; every
/// date of a case (acceptance, due dates) is a day in China.
pub fn china_date(now: DateTime<Utc>) -> NaiveDate {
    let offset = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    now.with_timezone(&offset).date_naive()
}

/// A command to the intake aggregate.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Submit an application and decide acceptance at once.
    Submit(Submit),
    /// Assign or reassign the case officer (专人).
    AssignOfficer(AssignOfficer),
    /// Hand in materials for deficiencies and/or a supplement request.
    SupplementMaterials(SupplementMaterials),
    /// Withdraw the application (撤回).
    Withdraw(Withdraw),
    /// Terminate the case (终止).
    Terminate(Terminate),
    /// Record that the applicant's personal data was erased.
    RecordErasure(RecordErasure),
}

/// Record the erasure of the applicant's personal data: the data key is
/// deleted (and the material contents) by the service before the call; the
/// event tells the read models. Recorded once per case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordErasure {
    /// Why.
    pub basis: super::model::ErasureBasis,
    /// Fact: the stored material contents of the case deleted.
    pub materials_deleted: u32,
}

/// Submit an application (一次受理).
#[derive(Debug, Clone, PartialEq)]
pub struct Submit {
    /// The application as submitted.
    pub draft: ApplicationDraft,
    /// Fact: the guide of `draft.package_id` in the catalog in force; `None`
    /// when the catalog has no such package (a violation of `package_id`).
    pub guide: Option<Guide>,
    /// Fact: the applicant's credit status today.
    pub credit: CreditStatus,
    /// Fact: the case number allocated for this case.
    pub case_number: CaseNumber,
    /// Fact: the subject of the applicant's data key, the keyed hash of the
    /// identity the draft names (computed outside: the domain holds no key).
    pub data_subject: String,
    /// Fact: the time of submission; its day in China is the acceptance day.
    pub now: DateTime<Utc>,
    /// Fact: the last day the case is promised by — the acceptance day plus
    /// the package's promised working days on the working-day calendar.
    pub promised_by: NaiveDate,
    /// Fact: the latest due date of a deficiency — the acceptance day plus
    /// the configured deficiency working days. Capped at `promised_by`.
    pub deficiency_due_by: NaiveDate,
    /// Configuration: the largest material accepted, in bytes.
    pub max_material_bytes: u64,
    /// Fact: references to material content the service does not hold, one
    /// violation per field (listed with every other problem of the request).
    pub unstored_materials: Vec<crate::refusal::FieldViolation>,
    /// Fact: the case officer the service would give the case (the least
    /// loaded); assigned in the same decision when the application is
    /// accepted, so no accepted case is ever without its officer.
    pub officer: Option<AssignOfficer>,
}

/// Assign the case officer chosen by the service (the least loaded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignOfficer {
    /// Staff login of the officer.
    pub officer_id: String,
    /// Display name.
    pub officer_name: String,
}

/// A supplement request of a department task still waiting on the applicant
/// (its clock is stopped), as looked up by the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenSupplementRequest {
    /// The request's id.
    pub request_id: String,
    /// The task that asked.
    pub task_id: String,
    /// The task's catalog item.
    pub item_code: String,
    /// The task's department.
    pub department: String,
    /// The materials it asks for.
    pub material_ids: Vec<MaterialId>,
}

/// Hand in materials (补正 / 容缺补齐).
#[derive(Debug, Clone, PartialEq)]
pub struct SupplementMaterials {
    /// The documents; at least one.
    pub materials: Vec<MaterialInput>,
    /// Fact: the open supplement request answered, if the applicant named one.
    pub supplement_request: Option<OpenSupplementRequest>,
    /// Fact: the time of the supplement.
    pub now: DateTime<Utc>,
    /// Configuration: the largest material accepted, in bytes.
    pub max_material_bytes: u64,
}

/// Withdraw the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdraw {
    /// The applicant's reason; 0..500 characters.
    pub reason: String,
    /// Fact: the departments have decided the case (routing's CaseDecided).
    pub decided: bool,
}

/// Terminate the case.
#[derive(Debug, Clone, PartialEq)]
pub struct Terminate {
    /// Why.
    pub reason: TerminationReason,
    /// Explanation for the applicant; 1..1000 characters.
    pub detail: String,
    /// Legal provision relied on; may be empty.
    pub legal_basis: String,
    /// Fact: the time; a deficiency is overdue once its due day has passed.
    pub now: DateTime<Utc>,
    /// Fact: the case has been closed (办结) by issuance.
    pub closed: bool,
}

impl Terminate {
    /// The termination the deficiency sweep issues when a deficiency is overdue.
    pub fn deficiency_overdue(now: DateTime<Utc>) -> Terminate {
        Terminate {
            reason: TerminationReason::DeficiencyOverdue,
            detail: "容缺受理的材料未在承诺期限内补齐，依规终止办理".to_owned(),
            legal_basis: String::new(),
            now,
            closed: false,
        }
    }
}
