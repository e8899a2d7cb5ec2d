//! The gRPC face of intake: CatalogService, CatalogPublishingService,
//! CalendarService and IntakeService, and the
//! command plumbing they share.

mod calendar;
mod catalog;
mod drafts;
mod intake;
mod materials;
mod publishing;
mod scope;
mod supplements;

pub use calendar::CalendarApi;
pub use catalog::CatalogApi;
pub use intake::IntakeApi;
pub use publishing::{MAX_FILE_BYTES, PublishingApi};
