//! The one place where errors become gRPC statuses: a domain rejection is
//! `INVALID_ARGUMENT` (with its field violations in rich error details,
//! bounded: see [`invalid_argument`]) or
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

/// The most violations one refusal lists; the rest are counted.
pub const MAX_LISTED: usize = 20;

/// The most characters of a field path a refusal echoes (a client's form
/// key can be anything, e.g. 100 KB).
pub const MAX_FIELD_CHARS: usize = 64;

/// The most characters of one violation's description.
pub const MAX_DESCRIPTION_CHARS: usize = 120;

/// The budget of the listed violations in the status message (encoded
/// bytes) and in the `BadRequest` detail (protobuf bytes): with the status
/// code, both fit well inside the 8 KB of metadata a default client reads.
const MESSAGE_BUDGET: usize = 1536;
const DETAILS_BUDGET: usize = 2048;

/// `INVALID_ARGUMENT` listing the violations in a `BadRequest` detail and in
/// the message — bounded for any default client: at most [`MAX_LISTED`]
/// (fewer if their text would not fit the budget; the first always), each field path cut to
/// [`MAX_FIELD_CHARS`] and description to [`MAX_DESCRIPTION_CHARS`]
/// characters with "…"; the message ends "and K more" when some are not
/// listed.
pub fn invalid_argument(message: &str, violations: &[FieldViolation]) -> Status {
    let mut details = ErrorDetails::new();
    let mut listed = Vec::new();
    let (mut message_bytes, mut details_bytes) = (0, 0);
    for v in violations.iter().take(MAX_LISTED) {
        let field = crate::answer::cut(&v.field, MAX_FIELD_CHARS);
        let description = crate::answer::cut(&v.description, MAX_DESCRIPTION_CHARS);
        let text = format!("{field}: {description}");
        // Two length-delimited strings inside a length-delimited violation.
        let proto = field.len() + description.len() + 9;
        let over = message_bytes + crate::answer::encoded_len(&text) > MESSAGE_BUDGET
            || details_bytes + proto > DETAILS_BUDGET;
        if over && !listed.is_empty() {
            break;
        }
        message_bytes += crate::answer::encoded_len(&text) + 2;
        details_bytes += proto;
        details.add_bad_request_violation(field, description);
        listed.push(text);
    }
    let more = violations.len() - listed.len();
    let message = crate::answer::cut(message, 200);
    let summary = match (listed.is_empty(), more) {
        (true, 0) => message,
        (false, 0) => format!("{message}: {}", listed.join("; ")),
        (true, _) => format!("{message}: {more} problem(s)"),
        (false, _) => format!("{message}: {}; and {more} more", listed.join("; ")),
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
    fn long_lists_and_long_values_are_bounded() {
        let key = "k".repeat(100_000);
        let mut v = vec![FieldViolation { field: format!("form.{key}"), description: "未知字段".into() }];
        v.extend((0..10_000).map(|i| FieldViolation {
            field: format!("materials[{i}].material_id"),
            description: "材料 m_id 重复提交，同一材料请合并为一个文件".into(),
        }));
        let s = invalid_argument("the request is malformed", &v);
        let listed = violations_of(&s);
        assert!(!listed.is_empty() && listed.len() <= MAX_LISTED, "{}", listed.len());
        assert_eq!(listed[0].field, format!("form.{}…", "k".repeat(MAX_FIELD_CHARS - 5)));
        assert_eq!(listed[1].field, "materials[0].material_id");
        assert!(s.message().ends_with(&format!("; and {} more", v.len() - listed.len())), "{}", s.message());
        let headers = s.into_http::<tonic::body::Body>().headers().clone();
        let size: usize = headers.iter().map(|(k, v)| k.as_str().len() + v.len()).sum();
        assert!(size < 4096, "{size} bytes of status");
        let long = FieldViolation { field: "note".into(), description: "长".repeat(1000) };
        let s = invalid_argument("x", &[long]);
        assert_eq!(violations_of(&s)[0].description.chars().count(), MAX_DESCRIPTION_CHARS + 1);
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
