//! Why the task aggregate refuses a command; nothing is recorded.

use super::state::TaskStatus;
use crate::refusal::{ErrorKind, FieldViolation, Refusal, Rejection};

/// Why the task aggregate refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    /// The command is malformed: every violation at once.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The stream holds a task already.
    #[error("the task exists already")]
    AlreadyCreated,
    /// The stream is empty.
    #[error("no such task")]
    NoSuchTask,
    /// The command needs another state.
    #[error("the task is {status}; {action} needs it to be {needed}")]
    WrongState {
        /// Where the task is.
        status: TaskStatus,
        /// What was tried.
        action: &'static str,
        /// What it needs, in words.
        needed: &'static str,
    },
    /// An agent of another department.
    #[error("the task belongs to department {department}; an agent of {agent_department} cannot {action} it")]
    WrongDepartment {
        /// The task's department.
        department: String,
        /// The agent's.
        agent_department: String,
        /// What was tried.
        action: &'static str,
    },
    /// Someone other than the assignee.
    #[error("the task is held by {assignee}; only its assignee may {action} it (transfer it first)")]
    NotAssignee {
        /// Who holds it.
        assignee: String,
        /// What was tried.
        action: &'static str,
    },
    /// A resumption naming another request than the open one.
    #[error("supplement request {given} is not the task's open request")]
    NotTheOpenRequest {
        /// The id given.
        given: String,
    },
    /// A warning while the clock is stopped.
    #[error("the task's clock is stopped (waiting for a supplement): no warning runs")]
    ClockStopped,
    /// A post-check of an approval without commitments.
    #[error("the approval has no commitments to post-check")]
    NothingToPostCheck,
    /// The post-check was recorded already.
    #[error("the post-check of this approval was recorded already")]
    AlreadyPostChecked,
}

impl Refusal for TaskError {
    fn kind(&self) -> ErrorKind {
        match self {
            TaskError::Rejected(_) => ErrorKind::InvalidArgument,
            TaskError::AlreadyCreated => ErrorKind::AlreadyExists,
            TaskError::NoSuchTask => ErrorKind::NotFound,
            TaskError::WrongState { .. }
            | TaskError::WrongDepartment { .. }
            | TaskError::NotAssignee { .. }
            | TaskError::NotTheOpenRequest { .. }
            | TaskError::ClockStopped
            | TaskError::NothingToPostCheck
            | TaskError::AlreadyPostChecked => ErrorKind::FailedPrecondition,
        }
    }

    fn violations(&self) -> &[FieldViolation] {
        match self {
            TaskError::Rejected(r) => &r.violations,
            _ => &[],
        }
    }
}
