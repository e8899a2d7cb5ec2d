//! The two layers of refusal. A [`Rejection`] lists every field violation of
//! a malformed command (INVALID_ARGUMENT, nothing stored); the other
//! [`DomainError`]s say the case's state does not allow the command. A
//! well-formed application that fails a business rule is neither: it is
//! recorded as `ApplicationNotAccepted` with every reason.

use chrono::NaiveDate;

use super::state::Status;
use crate::refusal::{ErrorKind, FieldViolation, Refusal, Rejection};
use crate::values::MaterialId;

/// Why the intake aggregate refused a command. Nothing is recorded for any
/// of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The command is malformed; every violation listed.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The stream already holds a submission.
    #[error("the case has been submitted already")]
    AlreadySubmitted,
    /// The stream is empty: no such case.
    #[error("no application has been submitted in this case")]
    NoSuchCase,
    /// The case's status does not allow the command.
    #[error("cannot {action} a case that is {status:?}")]
    NotAllowed {
        /// What was attempted, e.g. "withdraw".
        action: &'static str,
        /// The case's status.
        status: Status,
    },
    /// The departments have decided: too late to withdraw.
    #[error("the departments have decided the case; it can no longer be withdrawn")]
    AlreadyDecided,
    /// The case is closed: too late to terminate.
    #[error("the case is closed; it can no longer be terminated")]
    CaseClosed,
    /// A supplement while nothing is owed.
    #[error("nothing is owed by the applicant")]
    NothingOwed,
    /// A supplied material answers no open deficiency and no supplement request.
    #[error("material {material_id} answers nothing asked for")]
    MaterialNotOwed {
        /// The material.
        material_id: MaterialId,
    },
    /// The supplement names a supplement request but no material answers it.
    #[error("no material answers supplement request {request_id}")]
    SupplementRequestNotAnswered {
        /// The request.
        request_id: String,
    },
    /// A deficiency already made good.
    #[error("the deficiency of material {material_id} was cleared already")]
    DeficiencyAlreadyCleared {
        /// The material.
        material_id: MaterialId,
    },
    /// A deficiency whose due date has passed: the case is to be terminated.
    #[error("the deficiency of material {material_id} was due by {due_by}")]
    DeficiencyOverdue {
        /// The material.
        material_id: MaterialId,
        /// Its due date.
        due_by: NaiveDate,
    },
    /// Termination for an overdue deficiency while none is overdue.
    #[error("no open deficiency is overdue")]
    NoOverdueDeficiency,
}

impl Refusal for DomainError {
    fn kind(&self) -> ErrorKind {
        match self {
            DomainError::Rejected(_) => ErrorKind::InvalidArgument,
            DomainError::AlreadySubmitted => ErrorKind::AlreadyExists,
            DomainError::NoSuchCase => ErrorKind::NotFound,
            _ => ErrorKind::FailedPrecondition,
        }
    }

    fn violations(&self) -> &[FieldViolation] {
        self.rejection().map_or(&[], |r| &r.violations)
    }
}

impl DomainError {
    /// The rejection, if the command was malformed.
    pub fn rejection(&self) -> Option<&Rejection> {
        match self {
            DomainError::Rejected(r) => Some(r),
            _ => None,
        }
    }
}
