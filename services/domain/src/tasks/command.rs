//! Commands of the task aggregate. Every fact from outside — the time, the
//! working days used and stopped, the due dates the service computed on the
//! working-day calendar, fresh ids, the officer to escalate to — is in the
//! command, so [`super::decide`] stays pure.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::event::{CancelReason, SupplementItem, WarningLevel};
use crate::case::{Commitment, ResultDocument};
use crate::values::{CaseNumber, DepartmentCode, ItemCode, MaterialId, PackageId};

/// A command to a task.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Create the task of a dispatched step.
    Create(Create),
    /// An agent claims a pending task.
    Claim(Claim),
    /// The assignee approves.
    Approve(Approve),
    /// The assignee denies.
    Deny(Deny),
    /// The assignee returns the task for a supplement.
    ReturnForSupplement(ReturnForSupplement),
    /// The supplement arrived.
    Resume(Resume),
    /// Hand the task to a colleague of the same department.
    Transfer(Transfer),
    /// The case ended otherwise.
    Cancel(Cancel),
    /// The SLA watcher raises a warning.
    Warn(Warn),
    /// The post-check of the commitments behind an approval.
    RecordPostCheck(RecordPostCheck),
    /// The case officer (or a supervisor) urges the department (督办).
    Urge(Urge),
}

/// Create a task.
#[derive(Debug, Clone, PartialEq)]
pub struct Create {
    /// The task id (routing allocates it).
    pub task_id: Uuid,
    /// The case number.
    pub case_number: CaseNumber,
    /// The package.
    pub package_id: PackageId,
    /// The plan step; not empty.
    pub step_id: String,
    /// The item.
    pub item_code: ItemCode,
    /// The item's name; not empty.
    pub item_name: String,
    /// The department handling it.
    pub department: DepartmentCode,
    /// Lead department of the case.
    pub lead_department: DepartmentCode,
    /// The item's limit in working days.
    pub promised_working_days: u32,
    /// Catalog materials the item needs.
    pub material_ids: Vec<MaterialId>,
    /// Commitments to post-check after approval.
    pub commitments: Vec<Commitment>,
    /// Fact: now; the clock starts here.
    pub now: DateTime<Utc>,
    /// Fact: last day on time (the limit from `now` on the calendar).
    pub due_by: NaiveDate,
    /// Fact: the day the yellow share of the limit is reached.
    pub warn_on: NaiveDate,
}

/// Claim a pending task.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// Staff login of the agent.
    pub agent: String,
    /// The agent's department (from the token).
    pub agent_department: DepartmentCode,
    /// Fact: now.
    pub now: DateTime<Utc>,
}

/// Approve a task in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Approve {
    /// Staff login of the agent; must be the assignee.
    pub by: String,
    /// The result document; issued by the task's department for its item.
    pub result: ResultDocument,
    /// Remarks; at most 1000 characters.
    pub comment: String,
    /// Fact: now.
    pub now: DateTime<Utc>,
    /// Fact: working days used up to now, stopped time excluded.
    pub working_days_used: u32,
}

/// Deny a task in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Deny {
    /// Staff login of the agent; must be the assignee.
    pub by: String,
    /// Why; 1..2000 characters.
    pub reason: String,
    /// The legal provision relied on; required.
    pub legal_basis: String,
    /// Remedies; empty = [`super::STANDARD_REMEDY_NOTICE`].
    pub remedy_notice: String,
    /// Fact: now.
    pub now: DateTime<Utc>,
    /// Fact: working days used up to now.
    pub working_days_used: u32,
}

/// Return a task in progress for a supplement.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnForSupplement {
    /// Staff login of the agent; must be the assignee.
    pub by: String,
    /// Fact: a fresh id for the request.
    pub supplement_request_id: Uuid,
    /// Every thing needed; at least one.
    pub items: Vec<SupplementItem>,
    /// Last day for the applicant (the service fills the default period).
    pub due_by: NaiveDate,
    /// Fact: now; the clock stops here.
    pub now: DateTime<Utc>,
}

/// Resume a task whose supplement arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct Resume {
    /// The request answered; must be the open one.
    pub supplement_request_id: Uuid,
    /// Fact: now; the clock runs again from here.
    pub now: DateTime<Utc>,
    /// Fact: working days the clock stood still in this stop.
    pub stopped_working_days: u32,
    /// Fact: the new last day on time (the clock resumed at `now`).
    pub due_by: NaiveDate,
    /// Fact: the new yellow day.
    pub warn_on: NaiveDate,
}

/// Who transfers a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transferrer {
    /// An agent of the department; must be the assignee.
    Agent(String),
    /// A department lead or supervisor, who may transfer any open task.
    Supervisor(String),
}

/// Hand an open task to another agent of its department.
#[derive(Debug, Clone, PartialEq)]
pub struct Transfer {
    /// Who transfers it.
    pub by: Transferrer,
    /// Staff login of the agent taking it over.
    pub to_assignee: String,
    /// Why; 1..500 characters.
    pub reason: String,
    /// Fact: now.
    pub now: DateTime<Utc>,
}

/// Cancel an open task.
#[derive(Debug, Clone, PartialEq)]
pub struct Cancel {
    /// Why.
    pub reason: CancelReason,
    /// Explanation; may be empty (required for [`CancelReason::CreatedInError`]).
    pub detail: String,
    /// Fact: now.
    pub now: DateTime<Utc>,
}

/// Raise a warning (the SLA watcher's command). A level already raised
/// yields no events: that is how each level is raised exactly once.
#[derive(Debug, Clone, PartialEq)]
pub struct Warn {
    /// Yellow or red.
    pub level: WarningLevel,
    /// Fact: working days used up to now.
    pub working_days_used: u32,
    /// Fact: working days overdue now (red only).
    pub overdue_working_days: u32,
    /// Fact: the case officer to tell on red; empty if none is known.
    pub officer_id: String,
}

/// What the post-check found.
#[derive(Debug, Clone, PartialEq)]
pub enum PostCheckOutcome {
    /// Every commitment checked is true.
    Passed {
        /// Remarks; may be empty.
        note: String,
    },
    /// A commitment is untrue.
    Failed {
        /// What was found; 1..2000 characters.
        finding: String,
        /// Also revoke the approval, on this legal basis (required when set).
        revoke_with_legal_basis: Option<String>,
    },
}

/// Record the post-check of an approval's commitments.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordPostCheck {
    /// Staff login of the checker.
    pub by: String,
    /// The commitments checked; empty = all of the task's.
    pub material_ids: Vec<MaterialId>,
    /// The outcome.
    pub outcome: PostCheckOutcome,
    /// Day of the check.
    pub checked_on: NaiveDate,
}

/// Urge the department to finish an open task (督办): the case's officer or
/// a supervisor, with a short note the department reads in its inbox. The
/// service checks who may urge (the case's assigned officer, supervisors)
/// before the command is made.
#[derive(Debug, Clone, PartialEq)]
pub struct Urge {
    /// Staff login of who urges.
    pub by: String,
    /// The note to the department; 1..200 characters.
    pub note: String,
    /// Fact: now.
    pub now: DateTime<Utc>,
}
