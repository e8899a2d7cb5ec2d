//! Events of a task stream, field for field as in
//! `proto/yiciban/events/v1/tasks.proto`. The case id, the actor and the
//! department travel in the envelope; so does the time, which the events
//! that move the clock or the read model carry as `at` (filled from the
//! envelope's `occurred_at` when read back, never part of the payload).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::case::{Commitment, ResultDocument};
use crate::values::{CaseNumber, DepartmentCode, ItemCode, MaterialId, PackageId};

/// An event of a task stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    /// See [`TaskCreated`].
    TaskCreated(TaskCreated),
    /// See [`TaskClaimed`].
    TaskClaimed(TaskClaimed),
    /// See [`TaskTransferred`].
    TaskTransferred(TaskTransferred),
    /// See [`TaskApproved`].
    TaskApproved(TaskApproved),
    /// See [`TaskDenied`].
    TaskDenied(TaskDenied),
    /// See [`TaskReturnedForSupplement`].
    TaskReturnedForSupplement(TaskReturnedForSupplement),
    /// See [`TaskResumed`].
    TaskResumed(TaskResumed),
    /// See [`TaskWarned`].
    TaskWarned(TaskWarned),
    /// See [`TaskEscalated`].
    TaskEscalated(TaskEscalated),
    /// See [`TaskCancelled`].
    TaskCancelled(TaskCancelled),
    /// See [`PostCheckPassed`].
    PostCheckPassed(PostCheckPassed),
    /// See [`PostCheckFailed`].
    PostCheckFailed(PostCheckFailed),
    /// See [`ApprovalRevoked`].
    ApprovalRevoked(ApprovalRevoked),
    /// See [`TaskUrged`].
    TaskUrged(TaskUrged),
}

impl Event {
    /// The event type: the message name.
    pub fn event_type(&self) -> &'static str {
        match self {
            Event::TaskCreated(_) => "TaskCreated",
            Event::TaskClaimed(_) => "TaskClaimed",
            Event::TaskTransferred(_) => "TaskTransferred",
            Event::TaskApproved(_) => "TaskApproved",
            Event::TaskDenied(_) => "TaskDenied",
            Event::TaskReturnedForSupplement(_) => "TaskReturnedForSupplement",
            Event::TaskResumed(_) => "TaskResumed",
            Event::TaskWarned(_) => "TaskWarned",
            Event::TaskEscalated(_) => "TaskEscalated",
            Event::TaskCancelled(_) => "TaskCancelled",
            Event::PostCheckPassed(_) => "PostCheckPassed",
            Event::PostCheckFailed(_) => "PostCheckFailed",
            Event::ApprovalRevoked(_) => "ApprovalRevoked",
            Event::TaskUrged(_) => "TaskUrged",
        }
    }
}

/// A task was created for a step of a case and waits to be claimed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskCreated {
    /// Id of the task (allocated by routing).
    pub task_id: Uuid,
    /// The case number.
    pub case_number: CaseNumber,
    /// The package.
    pub package_id: PackageId,
    /// The plan step the task carries out.
    pub step_id: String,
    /// The item.
    pub item_code: ItemCode,
    /// The item's name.
    pub item_name: String,
    /// The department that must handle it.
    pub department: DepartmentCode,
    /// The limit in working days; 0 = on the spot.
    pub promised_working_days: u32,
    /// Last day (inclusive) on which the task is on time.
    pub due_by: NaiveDate,
    /// Day on which the task turns yellow if still open.
    pub warn_on: NaiveDate,
    /// Catalog materials the item needs.
    pub material_ids: Vec<MaterialId>,
    /// Commitments this department post-checks after approval.
    pub commitments: Vec<Commitment>,
    /// Lead department of the case; red warnings escalate to it.
    pub lead_department: DepartmentCode,
    /// When (envelope): the task's clock starts here.
    pub at: DateTime<Utc>,
}

/// An agent of the task's department claimed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskClaimed {
    /// Id of the task.
    pub task_id: Uuid,
    /// Staff login of the agent now holding it.
    pub assignee: String,
    /// When (envelope).
    pub at: DateTime<Utc>,
}

/// The task was handed to another agent of the same department.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskTransferred {
    /// Id of the task.
    pub task_id: Uuid,
    /// Who held it; empty if unclaimed.
    pub from_assignee: String,
    /// Who holds it now.
    pub to_assignee: String,
    /// Why.
    pub reason: String,
    /// When (envelope); a transfer of an unclaimed task is its claim.
    pub at: DateTime<Utc>,
}

/// The department approved its item with the result document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskApproved {
    /// Id of the task.
    pub task_id: Uuid,
    /// The result document.
    pub result: ResultDocument,
    /// The agent's remarks; may be empty.
    pub comment: String,
    /// Working days used, stopped time excluded.
    pub working_days_used: u32,
    /// Approved on or before `due_by`.
    pub on_time: bool,
    /// Commitments still await the post-check.
    pub post_check_pending: bool,
    /// When (envelope).
    pub at: DateTime<Utc>,
}

/// The department denied its item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskDenied {
    /// Id of the task.
    pub task_id: Uuid,
    /// Why, in plain Chinese.
    pub reason: String,
    /// The legal provision relied on.
    pub legal_basis: String,
    /// The applicant's remedies.
    pub remedy_notice: String,
    /// Working days used, stopped time excluded.
    pub working_days_used: u32,
    /// When (envelope).
    pub at: DateTime<Utc>,
}

/// One thing the applicant must provide in a supplement (补正).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplementItem {
    /// Catalog material to provide or replace; empty for a form field only.
    pub material_id: String,
    /// Form field to correct (`form.<key>`); empty for a material only.
    pub field_path: String,
    /// What exactly is needed, in plain Chinese; 1..1000 characters.
    pub requirement: String,
}

/// The task was returned for a supplement; its clock stops.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskReturnedForSupplement {
    /// Id of the task.
    pub task_id: Uuid,
    /// Id of this supplement request.
    pub supplement_request_id: Uuid,
    /// Every thing needed, itemised.
    pub items: Vec<SupplementItem>,
    /// Last day for the applicant.
    pub due_by: NaiveDate,
    /// When (envelope): the clock stops here.
    pub at: DateTime<Utc>,
}

/// The supplement arrived; the task runs again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskResumed {
    /// Id of the task.
    pub task_id: Uuid,
    /// The request answered.
    pub supplement_request_id: Uuid,
    /// Working days the clock stood still.
    pub stopped_working_days: u32,
    /// The new last day on which the task is on time.
    pub due_by: NaiveDate,
    /// The new day on which it turns yellow.
    pub warn_on: NaiveDate,
    /// When (envelope): the clock runs again from here.
    pub at: DateTime<Utc>,
}

/// How close a task is to its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WarningLevel {
    /// 黄牌: the configured share of the limit is used.
    Yellow,
    /// 红牌: overdue.
    Red,
}

/// The task crossed a warning threshold (once per level).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskWarned {
    /// Id of the task.
    pub task_id: Uuid,
    /// Yellow or red.
    pub level: WarningLevel,
    /// The task's due date.
    pub due_by: NaiveDate,
    /// Working days used so far.
    pub working_days_used: u32,
    /// The task's limit.
    pub promised_working_days: u32,
}

/// An overdue task was escalated to the lead department and the officer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskEscalated {
    /// Id of the task.
    pub task_id: Uuid,
    /// Lead department escalated to.
    pub lead_department: DepartmentCode,
    /// The case officer told; empty if none is assigned.
    pub officer_id: String,
    /// Working days overdue at escalation.
    pub overdue_working_days: u32,
    /// Why, in plain Chinese.
    pub reason: String,
}

/// Why a task was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CancelReason {
    /// The applicant withdrew the application.
    CaseWithdrawn,
    /// The case was terminated.
    CaseTerminated,
    /// The case was denied on another item.
    CaseDenied,
    /// Created by mistake; the detail says why.
    CreatedInError,
}

/// The task was cancelled because the case ended otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskCancelled {
    /// Id of the task.
    pub task_id: Uuid,
    /// Why.
    pub reason: CancelReason,
    /// Explanation; may be empty.
    pub detail: String,
    /// When (envelope).
    pub at: DateTime<Utc>,
}

/// The post-check of the commitments behind the approval passed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostCheckPassed {
    /// Id of the task.
    pub task_id: Uuid,
    /// The commitments checked.
    pub material_ids: Vec<MaterialId>,
    /// The checker's remarks; may be empty.
    pub note: String,
    /// Day of the check.
    pub checked_on: NaiveDate,
}

/// The post-check found a commitment untrue (承诺不实).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostCheckFailed {
    /// Id of the task.
    pub task_id: Uuid,
    /// The commitments found untrue.
    pub material_ids: Vec<MaterialId>,
    /// What was found.
    pub finding: String,
    /// Day of the check.
    pub checked_on: NaiveDate,
}

/// The department revoked its approval after a failed post-check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRevoked {
    /// Id of the task.
    pub task_id: Uuid,
    /// Number of the document revoked.
    pub document_number: String,
    /// Why.
    pub reason: String,
    /// The legal provision relied on.
    pub legal_basis: String,
}

/// The case officer (or a supervisor) urged the department to finish the
/// task (督办).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskUrged {
    /// Id of the task.
    pub task_id: Uuid,
    /// Staff login of who urged.
    pub urged_by: String,
    /// The note to the department.
    pub note: String,
    /// How many times the task has been urged, this time included.
    pub urge_count: u32,
    /// When (envelope).
    pub at: DateTime<Utc>,
}
