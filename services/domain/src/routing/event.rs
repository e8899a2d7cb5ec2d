//! Events of the case's plan stream, field for field as in
//! `proto/yiciban/events/v1/routing.proto` (case id, actor, time and
//! department travel in the envelope), plus [`StepOutcomeRecorded`] and
//! [`StepCancelled`], which the proto does not have yet. The events that move
//! the case clock or decide the case carry the time as `at`: filled from the
//! envelope's `occurred_at` when read back, never part of the payload.
//! Serialised with the message name as `type`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::case::{CaseOutcome, Commitment, ResultDocument};
use crate::values::{CaseNumber, DepartmentCode, ItemCode, PackageId};

/// An event of the plan stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    /// See [`CasePlanned`].
    CasePlanned(CasePlanned),
    /// See [`StepDispatched`].
    StepDispatched(StepDispatched),
    /// See [`StepOutcomeRecorded`].
    StepOutcomeRecorded(StepOutcomeRecorded),
    /// See [`CaseClockStopped`].
    CaseClockStopped(CaseClockStopped),
    /// See [`CaseClockResumed`].
    CaseClockResumed(CaseClockResumed),
    /// See [`CaseDecided`].
    CaseDecided(CaseDecided),
    /// See [`StepCancelled`].
    StepCancelled(StepCancelled),
    /// See [`CaseHandedToIssuance`].
    CaseHandedToIssuance(CaseHandedToIssuance),
    /// See [`PlanEnded`].
    PlanEnded(PlanEnded),
}

impl Event {
    /// The event type: the message name.
    pub fn event_type(&self) -> &'static str {
        match self {
            Event::CasePlanned(_) => "CasePlanned",
            Event::StepDispatched(_) => "StepDispatched",
            Event::StepOutcomeRecorded(_) => "StepOutcomeRecorded",
            Event::CaseClockStopped(_) => "CaseClockStopped",
            Event::CaseClockResumed(_) => "CaseClockResumed",
            Event::CaseDecided(_) => "CaseDecided",
            Event::StepCancelled(_) => "StepCancelled",
            Event::CaseHandedToIssuance(_) => "CaseHandedToIssuance",
            Event::PlanEnded(_) => "PlanEnded",
        }
    }
}

/// One step of the plan: one item done by one department.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedStep {
    /// Step id from the package's graph, e.g. "s3".
    pub step_id: String,
    /// The item.
    pub item_code: ItemCode,
    /// The item's name.
    pub item_name: String,
    /// The department handling it.
    pub department: DepartmentCode,
    /// Planned steps that must be approved first; empty = dispatched at once.
    /// Steps of unchosen optional items are left out.
    pub depends_on: Vec<String>,
    /// The item's promised working days; 0 = on the spot.
    pub promised_working_days: u32,
    /// Commitments this step's task post-checks after approval (each
    /// commitment goes to exactly one step, see [`super::assign_commitments`]).
    #[serde(default)]
    pub commitments: Vec<Commitment>,
}

/// The case was planned (联办方案).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CasePlanned {
    /// The case number.
    pub case_number: CaseNumber,
    /// The package.
    pub package_id: PackageId,
    /// Lead department (牵头部门); confirms denials.
    pub lead_department: DepartmentCode,
    /// The planned steps, in catalog order.
    pub steps: Vec<PlannedStep>,
    /// Critical path of the planned graph, or the package's promise if shorter.
    pub promised_working_days: u32,
    /// Last day (inclusive) on which the case is on time.
    pub promised_by: NaiveDate,
    /// The acceptance day: the case clock counts from it.
    pub accepted_on: NaiveDate,
    /// The catalog version the plan was made on (the case's).
    pub catalog_version: String,
}

/// A step was handed to its department: its task is to be created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepDispatched {
    /// The step.
    pub step_id: String,
    /// The task's id (allocated by the service, see the module docs).
    pub task_id: Uuid,
    /// The step's item.
    pub item_code: ItemCode,
    /// The step's department.
    pub department: DepartmentCode,
}

/// A task outcome as the plan records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StepOutcome {
    /// Approved, with its result documents.
    Approved {
        /// The documents.
        results: Vec<ResultDocument>,
    },
    /// Denied.
    Denied {
        /// Why.
        reason: String,
        /// Legal basis.
        legal_basis: String,
    },
    /// Returned for a supplement.
    ReturnedForSupplement {
        /// The supplement request.
        supplement_request_id: String,
        /// Everything asked for.
        missing: Vec<String>,
    },
    /// Running again after the supplement.
    Resumed,
}

/// The plan recorded a task's outcome (not in the proto yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepOutcomeRecorded {
    /// The step.
    pub step_id: String,
    /// Its task.
    pub task_id: Uuid,
    /// The outcome.
    pub outcome: StepOutcome,
}

/// Why the case clock stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ClockStopReason {
    /// A task waits for the applicant's supplement (补正).
    Supplement,
    /// A special procedure whose time does not count (特别程序).
    SpecialProcedure,
}

/// The case clock stopped (on the transition only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseClockStopped {
    /// Why.
    pub reason: ClockStopReason,
    /// The task whose return stopped it.
    pub task_id: Uuid,
    /// The supplement request, for a supplement.
    pub supplement_request_id: String,
    /// When (the envelope's `occurred_at`).
    pub at: DateTime<Utc>,
}

/// The case clock runs again (no task waits on the applicant any more).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseClockResumed {
    /// The task whose resumption restarted it.
    pub task_id: Uuid,
    /// Working days the clock stood still in this stop.
    pub stopped_working_days: u32,
    /// The new last day on which the case is on time.
    pub promised_by: NaiveDate,
    /// When (the envelope's `occurred_at`).
    pub at: DateTime<Utc>,
}

/// One denied step behind a denied case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepDenial {
    /// The step.
    pub step_id: String,
    /// The task that denied it.
    pub task_id: Uuid,
    /// Its item.
    pub item_code: ItemCode,
    /// The denying department.
    pub department: DepartmentCode,
    /// Why.
    pub reason: String,
    /// Legal basis.
    pub legal_basis: String,
}

/// The case was decided (办理决定).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseDecided {
    /// The case number.
    pub case_number: CaseNumber,
    /// Approved or denied.
    pub outcome: CaseOutcome,
    /// Approved: every result document of the steps, in step order.
    pub results: Vec<ResultDocument>,
    /// Denied: every denied step.
    pub denials: Vec<StepDenial>,
    /// Denied: the lead department's statement; empty when approved.
    pub explanation: String,
    /// Working days used, stopped time excluded.
    pub working_days_used: u32,
    /// Decided on or before the promised day.
    pub on_time: bool,
    /// When (the envelope's `occurred_at`).
    pub at: DateTime<Utc>,
}

/// Why an open task is cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CancelReason {
    /// The case was denied on another item.
    CaseDenied,
    /// The applicant withdrew the application.
    CaseWithdrawn,
    /// The case was terminated.
    CaseTerminated,
}

/// An open task is to be cancelled: the case was decided or ended without it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepCancelled {
    /// The step.
    pub step_id: String,
    /// The task to cancel.
    pub task_id: Uuid,
    /// Its department.
    pub department: DepartmentCode,
    /// Why.
    pub reason: CancelReason,
}

/// The case ended before a decision (withdrawn or terminated at intake): the
/// plan stops; its open tasks are cancelled (StepCancelled before it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanEnded {
    /// Why: withdrawn or terminated.
    pub reason: CancelReason,
    /// When (the envelope's `occurred_at`); a stopped clock resumes then.
    pub at: DateTime<Utc>,
}

/// The decided case went to the one-window issuance (一窗出件).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseHandedToIssuance {
    /// The case number.
    pub case_number: CaseNumber,
    /// Approved or denied.
    pub outcome: CaseOutcome,
    /// The results, or the denial decision.
    pub documents: Vec<ResultDocument>,
    /// Last day to issue and serve them.
    pub issue_by: NaiveDate,
}
