//! How the gRPC edge answers a refusal of any aggregate: one status family
//! per kind, shared by every domain so the mapping lives in one place.

/// The gRPC status family of a domain refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// INVALID_ARGUMENT: the command is malformed or lacks a fact (with the
    /// field violations as rich details where there are any).
    InvalidArgument,
    /// FAILED_PRECONDITION: the aggregate's state does not allow the command.
    FailedPrecondition,
    /// ALREADY_EXISTS: the stream was started already.
    AlreadyExists,
    /// NOT_FOUND: nothing of that id in this stream.
    NotFound,
}
