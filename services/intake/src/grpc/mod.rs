//! The gRPC face of intake: CatalogService, CatalogPublishingService,
//! CalendarService, IntakeService, MaterialService and PrivacyService, and the
//! command plumbing they share.

mod calendar;
mod catalog;
mod closings;
mod credit;
mod downloads;
mod drafts;
mod intake;
mod materials;
mod notes;
mod privacy;
mod progress;
mod publishing;
mod reads;
mod scope;
mod steps;
mod supplements;
mod uploads;

pub use calendar::CalendarApi;
pub use catalog::CatalogApi;
pub use intake::IntakeApi;
pub use materials::STORAGE_PREFIX;
pub use privacy::PrivacyApi;
pub use publishing::{MAX_FILE_BYTES, PublishingApi};
pub use uploads::{MaterialApi, UploadBuffers};
