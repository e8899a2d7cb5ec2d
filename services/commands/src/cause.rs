//! Correlation and causation of a command (defined in the platform, where
//! the interceptor reads them off a calling service's metadata).

pub use yiciban_platform::cause::{CausationId, Cause, CorrelationId};
