#![forbid(unsafe_code)]
//! The pure domain of yiciban: validated values (ID numbers, credit codes,
//! case numbers, codes), the catalog of "one thing" packages with their
//! guides, the intake aggregate that decides acceptance and the routing plan
//! that dispatches the departments' steps, and the department task with its
//! working-day clock. No I/O: facts
//! from outside (the guide, the applicant's credit status, working-day
//! deadlines, the time) are looked up by the services and passed in.

pub mod aggregate;
pub mod catalog;
pub mod error_kind;
pub mod intake;
pub mod issuance;
pub mod refusal;
pub mod routing;
pub mod tasks;
pub mod values;

pub use aggregate::Aggregate;
pub use error_kind::ErrorKind;
pub use refusal::Refusal;
