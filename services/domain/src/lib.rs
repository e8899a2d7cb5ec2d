#![forbid(unsafe_code)]
//! The pure domain of yiciban: validated values (ID numbers, credit codes,
//! case numbers, codes), the catalog of "one thing" packages with their
//! guides, and the four aggregates of a case — intake's application, the
//! routing plan that dispatches the departments' steps, the department task
//! with its working-day clock, and issuance — and a department's monthly
//! report to the 政务公开 office (`reporting`), each an [`Aggregate`] refusing
//! in the shared [`Refusal`] vocabulary. No I/O: facts from outside (the
//! guide, the applicant's credit status, working-day deadlines, the time) are
//! looked up by the services and passed in.

pub mod aggregate;
pub mod case;
pub mod catalog;
pub mod intake;
pub mod issuance;
pub mod refusal;
pub mod reporting;
pub mod routing;
pub mod sampling;
pub mod supervision;
pub mod tasks;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod values;

pub use aggregate::Aggregate;
pub use refusal::{ErrorKind, FieldViolation, Refusal, Rejection, Violations};
