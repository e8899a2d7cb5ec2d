//! The one place where errors become gRPC statuses: a domain rejection is
//! `INVALID_ARGUMENT` (with every field violation in rich error details) or
//! `FAILED_PRECONDITION`, a version conflict `ABORTED`, a reused idempotency
//! key `ALREADY_EXISTS`; infrastructure failures are `INTERNAL`, logged with
//! their cause chain and not leaked to the caller.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt as _};
use yiciban_eventstore::StoreError;

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// Path of the field, e.g. `applicant.id_number` or `materials[2]`.
    pub field: String,
    /// What is wrong and how to fix it, for a person.
    pub description: String,
}

/// `INVALID_ARGUMENT` listing every violation in a `BadRequest` detail.
pub fn invalid_argument(message: &str, violations: &[FieldViolation]) -> Status {
    let mut details = ErrorDetails::new();
    for v in violations {
        details.add_bad_request_violation(v.field.clone(), v.description.clone());
    }
    let summary = if violations.is_empty() {
        message.to_owned()
    } else {
        format!(
            "{message}: {}",
            violations.iter().map(|v| format!("{}: {}", v.field, v.description)).collect::<Vec<_>>().join("; ")
        )
    };
    Status::with_error_details(Code::InvalidArgument, summary, details)
}

/// The violations carried in a status's rich details (for clients and tests).
pub fn violations_of(status: &Status) -> Vec<FieldViolation> {
    status
        .get_details_bad_request()
        .map(|b| {
            b.field_violations
                .into_iter()
                .map(|v| FieldViolation { field: v.field, description: v.description })
                .collect()
        })
        .unwrap_or_default()
}

/// `INTERNAL`, logging the cause chain.
pub fn internal(context: &str, error: &(dyn std::error::Error + 'static)) -> Status {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        source = s.source();
    }
    tracing::error!(error = %chain, "{context}");
    Status::internal(format!(
        "{context} failed; the error was logged (trace id {})",
        crate::telemetry::current_trace_id()
    ))
}

/// How a process manager takes a refusal of the service it called: one that
/// can never change (`INVALID_ARGUMENT`, `PERMISSION_DENIED`) is poison,
/// recorded for an operator; anything else (`UNAVAILABLE`, `ABORTED`,
/// `INTERNAL`, …) is tried again later — `UNAUTHENTICATED` too: the issuer
/// rotating its keys or a service's secret being replaced must delay a
/// hand-off, never drop it.
pub fn handler_error(context: &str, status: &Status) -> yiciban_eventstore::HandlerError {
    let message = format!("{context}: {:?} {}", status.code(), status.message());
    match status.code() {
        Code::InvalidArgument | Code::PermissionDenied => yiciban_eventstore::HandlerError::poison(message),
        _ => yiciban_eventstore::HandlerError::retry(message),
    }
}

/// Maps an event-store error at the edge.
pub fn from_store(error: StoreError) -> Status {
    match &error {
        StoreError::VersionConflict { .. } => Status::aborted(format!("{error}; read the current state and try again")),
        StoreError::IdempotencyKeyReused { .. } => {
            Status::already_exists(format!("{error}; use a new idempotency key for a new request"))
        }
        StoreError::Invalid(_) => Status::invalid_argument(error.to_string()),
        _ => internal("storing the events", &error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yiciban_eventstore::ExpectedVersion;

    #[test]
    fn every_violation_travels_in_the_details() {
        let v = vec![
            FieldViolation { field: "a".into(), description: "x".into() },
            FieldViolation { field: "b".into(), description: "y".into() },
        ];
        let s = invalid_argument("the application is incomplete", &v);
        assert_eq!(s.code(), Code::InvalidArgument);
        assert_eq!(violations_of(&s), v);
        assert!(s.message().contains("a: x") && s.message().contains("b: y"));
    }

    #[test]
    fn refusals_that_never_change_are_poison_and_the_rest_is_retried() {
        use yiciban_eventstore::HandlerError;
        assert!(matches!(handler_error("x", &Status::invalid_argument("bad")), HandlerError::Poison(_)));
        assert!(matches!(handler_error("x", &Status::permission_denied("no")), HandlerError::Poison(_)));
        assert!(matches!(handler_error("x", &Status::unavailable("down")), HandlerError::Retry(_)));
        assert!(matches!(handler_error("x", &Status::unauthenticated("unknown key")), HandlerError::Retry(_)));
        assert!(matches!(handler_error("x", &Status::aborted("moved")), HandlerError::Retry(_)));
    }

    #[test]
    fn store_errors_map_to_their_codes() {
        let c = StoreError::VersionConflict { stream: "s".into(), expected: ExpectedVersion::Exact(1), actual: 2 };
        assert_eq!(from_store(c).code(), Code::Aborted);
        assert_eq!(from_store(StoreError::IdempotencyKeyReused { key: "k".into() }).code(), Code::AlreadyExists);
    }
}
