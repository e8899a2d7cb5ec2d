//! Why the routing aggregate refuses a command; nothing is recorded.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::state::PlanStatus;
use crate::refusal::{ErrorKind, Refusal};
use crate::values::DepartmentCode;

/// Why the routing aggregate refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoutingError {
    /// The stream holds a plan already.
    #[error("the case is planned already")]
    AlreadyPlanned,
    /// The stream is empty.
    #[error("the case has not been planned")]
    NoSuchPlan,
    /// A chosen optional item is not an optional item of the package.
    #[error("{item_code} is not an optional item of the package")]
    NotAnOptionalItem {
        /// The code given.
        item_code: String,
    },
    /// The package's graph names an item it does not have.
    #[error("step {step_id} names an item the package does not have")]
    InconsistentPackage {
        /// The step.
        step_id: String,
    },
    /// No task id was offered for a step to dispatch.
    #[error("no task id was given for step {step_id}")]
    MissingTaskId {
        /// The step.
        step_id: String,
    },
    /// A field of the command is empty or malformed.
    #[error("{field}: {description}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong, in plain Chinese.
        description: &'static str,
    },
    /// No step of that id in the plan.
    #[error("the plan has no step {step_id}")]
    UnknownStep {
        /// The step id.
        step_id: String,
    },
    /// The step's task is another one.
    #[error("task {task_id} is not the task of step {step_id}")]
    UnknownTask {
        /// The step id.
        step_id: String,
        /// The task id given.
        task_id: Uuid,
    },
    /// The step has not been dispatched (or was cancelled).
    #[error("step {step_id} is not dispatched")]
    StepNotDispatched {
        /// The step id.
        step_id: String,
    },
    /// The outcome contradicts the step's status (e.g. an approval of a
    /// denied step, a resumption of a step that was not returned).
    #[error("step {step_id} cannot take this outcome in its current status")]
    OutcomeNotAllowed {
        /// The step id.
        step_id: String,
    },
    /// The case was decided already.
    #[error("the case is no longer open: it was decided or ended ({status:?})")]
    AlreadyDecided {
        /// The plan's status.
        status: PlanStatus,
    },
    /// Confirming a denial while no step was denied.
    #[error("no step of the case was denied")]
    NoDenial,
    /// A denial confirmed by another department than the lead.
    #[error("only the lead department {lead} confirms a denial, not {department}")]
    NotLeadDepartment {
        /// The lead department.
        lead: DepartmentCode,
        /// The department that tried.
        department: DepartmentCode,
    },
    /// The command would stop or resume the case clock before its last
    /// transition (its time is earlier than what the plan recorded).
    #[error("the case clock last changed at {last_transition}; it cannot stop or resume at the earlier {at}")]
    ClockOutOfOrder {
        /// The command's time.
        at: DateTime<Utc>,
        /// The clock's last start, stop or resume.
        last_transition: DateTime<Utc>,
    },
}

impl Refusal for RoutingError {
    fn kind(&self) -> ErrorKind {
        match self {
            RoutingError::NotAnOptionalItem { .. }
            | RoutingError::InconsistentPackage { .. }
            | RoutingError::MissingTaskId { .. }
            | RoutingError::Invalid { .. } => ErrorKind::InvalidArgument,
            RoutingError::AlreadyPlanned => ErrorKind::AlreadyExists,
            RoutingError::NoSuchPlan | RoutingError::UnknownStep { .. } | RoutingError::UnknownTask { .. } => {
                ErrorKind::NotFound
            }
            _ => ErrorKind::FailedPrecondition,
        }
    }
}
