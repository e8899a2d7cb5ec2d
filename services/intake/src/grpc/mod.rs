//! The gRPC face of intake: CatalogService, CalendarService and IntakeService, and the
//! command plumbing they share.

mod calendar;
mod catalog;
mod intake;
mod materials;
mod scope;
mod supplements;

pub use calendar::CalendarApi;
pub use catalog::CatalogApi;
pub use intake::IntakeApi;
