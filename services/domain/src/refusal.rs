//! PROVISIONAL (replaced by the domain branch): the shared refusal vocabulary.

pub use crate::error_kind::ErrorKind;
pub use crate::intake::{FieldViolation, Rejection};

/// Why an aggregate refuses a command.
pub trait Refusal: std::error::Error + Send + Sync + 'static {
    fn kind(&self) -> ErrorKind;
    fn violations(&self) -> &[FieldViolation] {
        &[]
    }
}
