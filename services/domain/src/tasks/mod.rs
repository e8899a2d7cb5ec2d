//! The department task aggregate (部门环节): one stream `task-<task id>` per
//! task, one department's work on one item of a case. It is created for a
//! dispatched step, claimed by an agent of its department, and approved
//! (with the result document), denied (reason and legal basis) or returned
//! for an itemised supplement, which stops its working-day clock until the
//! supplement resumes it. Open tasks may be transferred within the
//! department or cancelled; the SLA watcher raises a yellow and a red
//! warning exactly once each (red escalates to the lead department); an
//! approval with commitments (告知承诺) awaits one post-check, whose failure
//! may revoke it. While open, the case officer may urge the department
//! (督办), each time with a note; the task counts how often.
//!
//! [`Task`] is its state and implements [`Aggregate`]; `decide` and `evolve`
//! are pure: the time, the working days used and stopped, the due dates
//! (computed by the service from [`Task::clock`] on the working-day
//! calendar), fresh ids and the officer are all in the command.

mod command;
mod decide;
mod error;
mod event;
mod state;

pub use command::{
    Approve, Cancel, Claim, Command, Create, Deny, PostCheckOutcome, RecordPostCheck, Resume, ReturnForSupplement,
    Transfer, Transferrer, Urge, Warn,
};
pub use decide::{STANDARD_REMEDY_NOTICE, URGE_NOTE_MAX_CHARS};
pub use error::TaskError;
pub use event::{
    ApprovalRevoked, CancelReason, Event, PostCheckFailed, PostCheckPassed, SupplementItem, TaskApproved,
    TaskCancelled, TaskClaimed, TaskCreated, TaskDenied, TaskEscalated, TaskResumed, TaskReturnedForSupplement,
    TaskTransferred, TaskUrged, TaskWarned, WarningLevel,
};
pub use state::{OpenSupplement, PostCheck, Task, TaskStatus, Urging};

use crate::aggregate::Aggregate;
pub use crate::case::{Commitment, ResultDocument, ResultDocumentKind};

impl Aggregate for Task {
    type Command = Command;
    type Event = Event;
    type Error = TaskError;

    const STREAM: &'static str = "task";

    fn decide(&self, command: Command) -> Result<Vec<Event>, TaskError> {
        decide::decide(self, command)
    }

    fn evolve(self, event: &Event) -> Self {
        state::evolve(self, event)
    }

    fn version(&self) -> u64 {
        self.version
    }
}

#[cfg(test)]
mod tests;
