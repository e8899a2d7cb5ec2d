//! Why the issuance aggregate refuses a command; nothing is recorded.

use crate::refusal::{ErrorKind, FieldViolation, Refusal, Rejection};

/// Why the issuance aggregate refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssuanceError {
    /// The command is malformed: every violation at once.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// Nothing was issued for the case yet.
    #[error("nothing was issued for this case yet")]
    NoIssuance,
    /// No batch of that number.
    #[error("the case has no batch {0}")]
    NoSuchBatch(u32),
    /// No rating of that id.
    #[error("the case has no rating {0}")]
    NoSuchRating(String),
    /// No rectification of that id.
    #[error("the case has no rectification {0}")]
    NoSuchRectification(String),
    /// No return visit of that id.
    #[error("the case has no return visit {0}")]
    NoSuchReturnVisit(String),
    /// The final batch exists: no early batch any more.
    #[error("the case's final batch is prepared already; no early batch can follow it")]
    FinalBatchPrepared,
    /// A document was handed out in an earlier batch.
    #[error("document {number} was issued in batch {batch} already")]
    AlreadyIssued {
        /// Its number.
        number: String,
        /// The batch that holds it.
        batch: u32,
    },
    /// The batch is not where the command needs it.
    #[error("batch {batch} is {state}; {action} needs it to be {needed}")]
    WrongBatchState {
        /// The batch.
        batch: u32,
        /// Where it is, in words.
        state: &'static str,
        /// What was tried.
        action: &'static str,
        /// What it needs, in words.
        needed: &'static str,
    },
    /// A tracking number other than the batch's mailing.
    #[error("batch {batch} was mailed under another tracking number")]
    TrackingNumberMismatch {
        /// The batch.
        batch: u32,
    },
    /// A collector who says they are the applicant but is not.
    #[error(
        "the collector's ID number is not the applicant's: only the applicant, or an agent with a power of attorney, may collect"
    )]
    CollectorNotApplicant,
    /// Nothing delivered yet: too early to rate or to sample.
    #[error("no batch of the case has been delivered yet; {action} follows delivery")]
    NotDelivered {
        /// What was tried.
        action: &'static str,
    },
    /// The case was rated before, differently.
    #[error("the case was rated already (rating {rating_id}); a case is rated once")]
    AlreadyRated {
        /// The first rating.
        rating_id: String,
    },
    /// The rating was set aside already.
    #[error("rating {0} was set aside already")]
    RatingAlreadyInvalid(String),
    /// The rectification is not where the command needs it.
    #[error("rectification {id} is {state}; {action} needs it to be {needed}")]
    WrongRectificationState {
        /// The rectification.
        id: String,
        /// Where it is.
        state: &'static str,
        /// What was tried.
        action: &'static str,
        /// What it needs.
        needed: &'static str,
    },
    /// The return visit was recorded already.
    #[error("return visit {0} was recorded already")]
    ReturnVisitAlreadyRecorded(String),
}

impl Refusal for IssuanceError {
    fn kind(&self) -> ErrorKind {
        match self {
            IssuanceError::Rejected(_) => ErrorKind::InvalidArgument,
            IssuanceError::NoIssuance
            | IssuanceError::NoSuchBatch(_)
            | IssuanceError::NoSuchRating(_)
            | IssuanceError::NoSuchRectification(_)
            | IssuanceError::NoSuchReturnVisit(_) => ErrorKind::NotFound,
            IssuanceError::FinalBatchPrepared
            | IssuanceError::AlreadyIssued { .. }
            | IssuanceError::WrongBatchState { .. }
            | IssuanceError::TrackingNumberMismatch { .. }
            | IssuanceError::CollectorNotApplicant
            | IssuanceError::NotDelivered { .. }
            | IssuanceError::AlreadyRated { .. }
            | IssuanceError::RatingAlreadyInvalid(_)
            | IssuanceError::WrongRectificationState { .. }
            | IssuanceError::ReturnVisitAlreadyRecorded(_) => ErrorKind::FailedPrecondition,
        }
    }

    fn violations(&self) -> &[FieldViolation] {
        match self {
            IssuanceError::Rejected(r) => &r.violations,
            _ => &[],
        }
    }
}
