//! The department task aggregate (部门环节): one stream `task-<task id>` per
//! task, one department's work on one item of a case. It is created for a
//! dispatched step, claimed by an agent of its department, and approved
//! (with the result document), denied (reason and legal basis) or returned
//! for an itemised supplement, which stops its working-day clock until the
//! supplement resumes it. Open tasks may be transferred within the
//! department or cancelled; the SLA watcher raises a yellow and a red
//! warning exactly once each (red escalates to the lead department); an
//! approval with commitments (告知承诺) awaits one post-check, whose failure
//! may revoke it.
//!
//! [`decide`] and [`evolve`] are pure: the time, the working days used and
//! stopped, the due dates (computed by the service from [`Task::clock`] on the
//! working-day calendar), fresh ids and the officer are all in the command.

mod command;
mod decide;
mod error;
mod event;
mod state;

pub use command::{
    Approve, Cancel, Claim, Command, Create, Deny, PostCheckOutcome, RecordPostCheck, Resume, ReturnForSupplement,
    Transfer, Transferrer, Warn,
};
pub use decide::{STANDARD_REMEDY_NOTICE, decide};
pub use error::{ErrorKind, FieldViolation, Rejection, TaskError};
pub use event::{
    ApprovalRevoked, CancelReason, Commitment, Event, PostCheckFailed, PostCheckPassed, ResultDocument,
    ResultDocumentKind, SupplementItem, TaskApproved, TaskCancelled, TaskClaimed, TaskCreated, TaskDenied,
    TaskEscalated, TaskResumed, TaskReturnedForSupplement, TaskTransferred, TaskWarned, WarningLevel,
};
pub use state::{OpenSupplement, PostCheck, Task, TaskStatus, evolve};

/// The task aggregate.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tasks;

impl Tasks {
    /// See [`decide`].
    pub fn decide(state: &Task, command: Command) -> Result<Vec<Event>, TaskError> {
        decide(state, command)
    }

    /// See [`evolve`].
    pub fn evolve(state: Task, event: &Event) -> Task {
        evolve(state, event)
    }

    /// Folds a whole stream into its state.
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a Event>) -> Task {
        events.into_iter().fold(Task::default(), evolve)
    }
}

/// The stream of a task.
pub fn stream_of(task_id: uuid::Uuid) -> String {
    format!("task-{task_id}")
}

#[cfg(test)]
mod tests;
