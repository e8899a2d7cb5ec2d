//! The task's state, folded from its events, with its working-day clock
//! (started at creation, stopped on a return for supplement, resumed on the
//! supplement).

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;
use yiciban_calendar::CaseClock;

use super::event::{CancelReason, Event, SupplementItem, TaskCreated, WarningLevel};
use crate::case::ResultDocument;

/// Where a task is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum TaskStatus {
    /// Nothing created.
    #[default]
    New,
    /// 待认领.
    Pending,
    /// 办理中.
    InProgress,
    /// 补正中: the clock is stopped.
    WaitingForSupplement,
    /// 准予.
    Approved,
    /// 不予许可.
    Denied,
    /// 已取消.
    Cancelled,
    /// 已撤销 after a failed post-check.
    Revoked,
}

impl TaskStatus {
    /// Open: pending, in progress or waiting for a supplement.
    pub fn is_open(self) -> bool {
        matches!(self, TaskStatus::Pending | TaskStatus::InProgress | TaskStatus::WaitingForSupplement)
    }

    /// The stable lower-case name (read tables, logs).
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::New => "new",
            TaskStatus::Pending => "pending",
            TaskStatus::InProgress => "in_progress",
            TaskStatus::WaitingForSupplement => "waiting_for_supplement",
            TaskStatus::Approved => "approved",
            TaskStatus::Denied => "denied",
            TaskStatus::Cancelled => "cancelled",
            TaskStatus::Revoked => "revoked",
        }
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The open supplement request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenSupplement {
    /// Its id.
    pub request_id: Uuid,
    /// What is asked for.
    pub items: Vec<SupplementItem>,
    /// The applicant's due date.
    pub due_by: NaiveDate,
}

/// The post-check of an approval with commitments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PostCheck {
    /// None needed (no commitments, or not approved).
    #[default]
    NotNeeded,
    /// To be done.
    Pending,
    /// Passed.
    Passed,
    /// Failed.
    Failed,
}

/// The state of one task.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Task {
    /// Where it is.
    pub status: TaskStatus,
    /// Number of events applied (the stream version).
    pub version: u64,
    /// What it was created with (`None` while [`TaskStatus::New`]).
    pub created: Option<TaskCreated>,
    /// Last day on time (moves on resume).
    pub due_by: Option<NaiveDate>,
    /// Yellow day (moves on resume).
    pub warn_on: Option<NaiveDate>,
    /// The agent holding it.
    pub assignee: Option<String>,
    /// The working-day clock.
    pub clock: Option<CaseClock>,
    /// The highest warning raised.
    pub warning: Option<WarningLevel>,
    /// Escalated to the lead department.
    pub escalated: bool,
    /// The open supplement request.
    pub supplement: Option<OpenSupplement>,
    /// The result document once approved.
    pub result: Option<ResultDocument>,
    /// Denial, revocation or cancellation reason.
    pub reason: String,
    /// Legal basis of a denial or revocation.
    pub legal_basis: String,
    /// Why it was cancelled.
    pub cancel_reason: Option<CancelReason>,
    /// The post-check.
    pub post_check: PostCheck,
    /// When it was claimed.
    pub claimed_at: Option<DateTime<Utc>>,
    /// When it was approved, denied or cancelled.
    pub finished_at: Option<DateTime<Utc>>,
    /// How the case officer urged the department (督办).
    pub urged: Urging,
}

/// How often and how lately a task was urged (督办).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Urging {
    /// How many times; 0 = never.
    pub count: u32,
    /// When last.
    pub last_at: Option<DateTime<Utc>>,
    /// Who urged last.
    pub last_by: String,
    /// The last note.
    pub last_note: String,
}

impl Task {
    /// The task id, once created.
    pub fn task_id(&self) -> Option<Uuid> {
        self.created.as_ref().map(|c| c.task_id)
    }

    /// The task's department, once created.
    pub fn department(&self) -> Option<&str> {
        self.created.as_ref().map(|c| c.department.as_str())
    }

    /// True when the warning `level` (or a higher one) was raised.
    pub fn warned(&self, level: WarningLevel) -> bool {
        self.warning.is_some_and(|w| w >= level)
    }

    /// True while the clock runs (open and not waiting on the applicant).
    pub fn clock_running(&self) -> bool {
        self.status.is_open() && self.clock.as_ref().is_some_and(CaseClock::is_running)
    }
}

/// Folds one event into the task. Total: an event that does not fit is
/// applied as far as it goes. Every event advances the version by one.
pub(super) fn evolve(mut task: Task, event: &Event) -> Task {
    task.version += 1;
    match event {
        Event::TaskCreated(e) => {
            task.status = TaskStatus::Pending;
            task.due_by = Some(e.due_by);
            task.warn_on = Some(e.warn_on);
            task.clock = Some(CaseClock::start(e.at));
            task.created = Some(e.clone());
        }
        Event::TaskClaimed(e) => {
            task.status = TaskStatus::InProgress;
            task.assignee = Some(e.assignee.clone());
            task.claimed_at = Some(e.at);
        }
        Event::TaskTransferred(e) => {
            if task.status == TaskStatus::Pending {
                task.status = TaskStatus::InProgress;
                task.claimed_at = Some(e.at);
            }
            task.assignee = Some(e.to_assignee.clone());
        }
        Event::TaskApproved(e) => {
            task.status = TaskStatus::Approved;
            task.result = Some(e.result.clone());
            task.post_check = if e.post_check_pending { PostCheck::Pending } else { PostCheck::NotNeeded };
            task.finished_at = Some(e.at);
        }
        Event::TaskDenied(e) => {
            task.status = TaskStatus::Denied;
            task.reason = e.reason.clone();
            task.legal_basis = e.legal_basis.clone();
            task.finished_at = Some(e.at);
        }
        Event::TaskReturnedForSupplement(e) => {
            task.status = TaskStatus::WaitingForSupplement;
            task.supplement =
                Some(OpenSupplement { request_id: e.supplement_request_id, items: e.items.clone(), due_by: e.due_by });
            if let Some(clock) = task.clock.as_mut() {
                // A stop out of order is ignored: the stream is the truth.
                let _ = clock.stop(e.at, format!("补正 {}", e.supplement_request_id));
            }
        }
        Event::TaskResumed(e) => {
            task.status = TaskStatus::InProgress;
            task.supplement = None;
            task.due_by = Some(e.due_by);
            task.warn_on = Some(e.warn_on);
            if let Some(clock) = task.clock.as_mut() {
                let _ = clock.resume(e.at);
            }
        }
        Event::TaskWarned(e) => {
            task.warning = Some(task.warning.map_or(e.level, |w| w.max(e.level)));
        }
        Event::TaskEscalated(_) => task.escalated = true,
        Event::TaskCancelled(e) => {
            task.status = TaskStatus::Cancelled;
            task.cancel_reason = Some(e.reason);
            task.reason = e.detail.clone();
            task.supplement = None;
            task.finished_at = Some(e.at);
        }
        Event::PostCheckPassed(_) => task.post_check = PostCheck::Passed,
        Event::PostCheckFailed(_) => task.post_check = PostCheck::Failed,
        Event::ApprovalRevoked(e) => {
            task.status = TaskStatus::Revoked;
            task.reason = e.reason.clone();
            task.legal_basis = e.legal_basis.clone();
        }
        Event::TaskUrged(e) => {
            task.urged = Urging {
                count: e.urge_count,
                last_at: Some(e.at),
                last_by: e.urged_by.clone(),
                last_note: e.note.clone(),
            };
        }
    }
    task
}
