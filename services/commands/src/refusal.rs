//! The one place where an aggregate's refusal becomes a gRPC status: a
//! malformed command is `INVALID_ARGUMENT` with every field violation in the
//! rich error details, a state that does not allow it `FAILED_PRECONDITION`,
//! a stream that exists already `ALREADY_EXISTS`, one that does not
//! `NOT_FOUND`.

use tonic::Status;
use yiciban_domain::refusal::{ErrorKind, FieldViolation, Refusal};
use yiciban_platform::status::{self, invalid_argument};

fn wire(violations: impl IntoIterator<Item = FieldViolation>) -> Vec<status::FieldViolation> {
    violations.into_iter().map(|v| status::FieldViolation { field: v.field, description: v.description }).collect()
}

/// The status of a refusal.
pub fn refusal_status(refusal: &dyn Refusal) -> Status {
    let message = refusal.to_string();
    match refusal.kind() {
        ErrorKind::InvalidArgument if !refusal.violations().is_empty() => invalid_argument(
            "the request cannot be carried out as it is; correct every listed field",
            &wire(refusal.violations().iter().cloned()),
        ),
        ErrorKind::InvalidArgument => Status::invalid_argument(message),
        ErrorKind::FailedPrecondition => Status::failed_precondition(message),
        ErrorKind::AlreadyExists => Status::already_exists(message),
        ErrorKind::NotFound => Status::not_found(message),
    }
}

/// `INVALID_ARGUMENT` for a request that could not be parsed, every
/// violation listed.
pub fn refuse(violations: impl IntoIterator<Item = FieldViolation>) -> Status {
    invalid_argument("the request is malformed; correct every listed field", &wire(violations))
}
