//! Commands of the routing aggregate, with the facts looked up by the
//! service: the package, fresh task ids, working-day results and dates.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::event::CancelReason;
use crate::case::{Commitment, ResultDocument};
use crate::catalog::Package;
use crate::values::{CaseNumber, DepartmentCode, ItemCode};

/// Fresh task ids offered by the service: step id → task id.
pub type TaskIds = BTreeMap<String, Uuid>;

/// A command to the routing aggregate.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Plan an accepted case.
    PlanCase(PlanCase),
    /// Record the outcome of a step's task.
    RecordTaskOutcome(RecordTaskOutcome),
    /// The lead department confirms the denial (不予许可).
    ConfirmDenial(ConfirmDenial),
    /// The case ended at intake (withdrawn, terminated): stop the plan.
    EndPlan(EndPlan),
}

/// Stop the plan of a case that ended before a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndPlan {
    /// Why: [`CancelReason::CaseWithdrawn`] or [`CancelReason::CaseTerminated`].
    pub reason: CancelReason,
    /// Fact: the time; a stopped case clock resumes then.
    pub now: DateTime<Utc>,
}

/// Plan an accepted case (intake's ApplicationAccepted).
#[derive(Debug, Clone, PartialEq)]
pub struct PlanCase {
    /// The case number.
    pub case_number: CaseNumber,
    /// Fact: the case's package in the catalog version the case keeps.
    pub package: Package,
    /// That catalog version.
    pub catalog_version: String,
    /// The optional items chosen; steps of the others are left out.
    pub optional_item_codes: Vec<ItemCode>,
    /// Fact: the acceptance day (the clock starts on it).
    pub accepted_on: NaiveDate,
    /// Fact: the last day the case is promised by — `accepted_on` plus the
    /// plan's promised working days (see [`super::plan_steps`]) on the
    /// working-day calendar.
    pub promised_by: NaiveDate,
    /// Fact: fresh task ids, at least for the steps without dependencies.
    pub task_ids: TaskIds,
    /// The commitments accepted at intake, to hand to the post-checking steps.
    pub commitments: Vec<Commitment>,
    /// The promise made to the applicant at acceptance (承诺办结时限), when
    /// known: it binds the case clock. `None` = the plan's own critical path
    /// (see [`super::plan_steps`]).
    pub promised_working_days: Option<u32>,
}

/// Facts about the day of a possible decision, computed by the service on
/// the working-day calendar each time (used only if the case is decided).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionFacts {
    /// Today, in China.
    pub today: NaiveDate,
    /// Working days used since acceptance, stopped time excluded.
    pub working_days_used: u32,
    /// The last day to issue and serve the documents (行政许可法第44条).
    pub issue_by: NaiveDate,
}

/// The outcome of a step's task (from the task service's events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskOutcome {
    /// TaskApproved, with the result documents (possibly none).
    Approved {
        /// The documents the item results in.
        results: Vec<ResultDocument>,
    },
    /// TaskDenied.
    Denied {
        /// Why, in plain Chinese; not empty.
        reason: String,
        /// The legal provision relied on.
        legal_basis: String,
    },
    /// TaskReturnedForSupplement: every missing thing at once (一次性告知).
    ReturnedForSupplement {
        /// The supplement request.
        supplement_request_id: String,
        /// Every material id or form field asked for; not empty.
        missing: Vec<String>,
    },
    /// ApprovalRevoked after a failed post-check (承诺不实): while the case
    /// runs, the step counts as denied and awaits the lead department; a
    /// decided case is not reopened (no events).
    Revoked {
        /// Why, in plain Chinese; not empty.
        reason: String,
        /// The legal provision relied on.
        legal_basis: String,
    },
    /// TaskResumed after the applicant's supplement.
    Resumed {
        /// Fact: working days the clock stood still in this stop.
        stopped_working_days: u32,
        /// Fact: the new promised day (the old one moved by the stop).
        promised_by: NaiveDate,
    },
}

/// Record a task's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordTaskOutcome {
    /// The step.
    pub step_id: String,
    /// Its task.
    pub task_id: Uuid,
    /// What happened.
    pub outcome: TaskOutcome,
    /// Fact: fresh task ids for steps that may become dispatchable.
    pub task_ids: TaskIds,
    /// Fact: today's figures, in case the case is decided now.
    pub decision: DecisionFacts,
    /// Fact: the time; the case clock stops, resumes or the case is decided then.
    pub now: DateTime<Utc>,
}

/// The lead department confirms the denial of the case.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfirmDenial {
    /// The confirming department; must be the lead department.
    pub department: DepartmentCode,
    /// The statement to the applicant, with the right to administrative
    /// review or litigation (复议、诉讼); not empty.
    pub explanation: String,
    /// The denial decision to serve (不予许可决定书).
    pub decision_document: ResultDocument,
    /// Fact: today's figures.
    pub decision: DecisionFacts,
    /// Fact: the time of the decision.
    pub now: DateTime<Utc>,
}
