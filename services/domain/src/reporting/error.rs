//! Why a monthly report refuses a command; nothing is recorded.

use crate::refusal::{ErrorKind, FieldViolation, Refusal, Rejection};

/// Why the monthly report refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// The command is malformed: every violation at once.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The command names another department or month than the report's.
    #[error("this report is {department}'s for {period}")]
    OtherReport {
        /// The report's department.
        department: String,
        /// The report's month.
        period: String,
    },
    /// The month is not over: its figures are not final.
    #[error("the month {0} is not over yet; its report can be submitted from the first day of the next month")]
    MonthNotOver(String),
    /// Nothing was drafted or submitted yet.
    #[error("no report was drafted or submitted yet")]
    NotStarted,
    /// The report is not where the command needs it.
    #[error("the report is {state}; {action} needs it to be {needed}")]
    WrongState {
        /// Where it is, in words.
        state: &'static str,
        /// What was tried.
        action: &'static str,
        /// What it needs, in words.
        needed: &'static str,
    },
}

impl Refusal for ReportError {
    fn kind(&self) -> ErrorKind {
        match self {
            ReportError::Rejected(_) | ReportError::OtherReport { .. } => ErrorKind::InvalidArgument,
            ReportError::NotStarted => ErrorKind::NotFound,
            ReportError::MonthNotOver(_) | ReportError::WrongState { .. } => ErrorKind::FailedPrecondition,
        }
    }

    fn violations(&self) -> &[FieldViolation] {
        match self {
            ReportError::Rejected(r) => &r.violations,
            _ => &[],
        }
    }
}
