//! The two layers of refusal. A [`Rejection`] lists every field violation of
//! a malformed command (INVALID_ARGUMENT, nothing stored); the other
//! [`DomainError`]s say the case's state does not allow the command. A
//! well-formed application that fails a business rule is neither: it is
//! recorded as `ApplicationNotAccepted` with every reason.

use chrono::NaiveDate;

use super::state::Status;
use crate::values::MaterialId;

/// One violation of a malformed request: the dotted path of the field and
/// what is wrong, in plain Chinese. Never contains the offending value (it
/// may be personal data).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldViolation {
    /// Path such as `applicant.id_number`, `form.newborn_name`,
    /// `materials[2].size_bytes`, `materials.m_parents_id` (missing),
    /// `deficiencies[0].material_id`, `delivery.mail_address`, `package_id`.
    pub field: String,
    /// What is wrong, e.g. "公民身份号码校验码错误".
    pub description: String,
}

impl FieldViolation {
    /// A violation of `field`.
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        FieldViolation { field: field.into(), description: description.into() }
    }
}

/// A malformed command, refused with nothing stored; lists every violation
/// at once (一次性告知), never empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the request has {} field violation(s): {}", .violations.len(), describe(.violations))]
pub struct Rejection {
    /// Every violation found.
    pub violations: Vec<FieldViolation>,
}

fn describe(violations: &[FieldViolation]) -> String {
    violations.iter().map(|v| format!("{}: {}", v.field, v.description)).collect::<Vec<_>>().join("; ")
}

impl Rejection {
    /// True when some violation concerns `field`.
    pub fn concerns(&self, field: &str) -> bool {
        self.violations.iter().any(|v| v.field == field)
    }

    /// The violated field paths, in order.
    pub fn fields(&self) -> Vec<&str> {
        self.violations.iter().map(|v| v.field.as_str()).collect()
    }
}

pub use crate::error_kind::ErrorKind;

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

impl DomainError {
    /// How the edge answers it.
    pub fn kind(&self) -> ErrorKind {
        match self {
            DomainError::Rejected(_) => ErrorKind::InvalidArgument,
            DomainError::AlreadySubmitted => ErrorKind::AlreadyExists,
            DomainError::NoSuchCase => ErrorKind::NotFound,
            _ => ErrorKind::FailedPrecondition,
        }
    }

    /// The rejection, if the command was malformed.
    pub fn rejection(&self) -> Option<&Rejection> {
        match self {
            DomainError::Rejected(r) => Some(r),
            _ => None,
        }
    }
}

/// Collects violations; `finish` turns a non-empty list into a [`Rejection`].
#[derive(Debug, Default)]
pub(crate) struct Violations(pub(crate) Vec<FieldViolation>);

impl Violations {
    pub(crate) fn push(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    pub(crate) fn finish(self) -> Result<(), Rejection> {
        if self.0.is_empty() { Ok(()) } else { Err(Rejection { violations: self.0 }) }
    }
}
