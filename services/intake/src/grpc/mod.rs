//! The gRPC face of intake: CatalogService and IntakeService, and the
//! command plumbing they share.

mod catalog;
mod intake;
mod materials;
mod scope;
mod supplements;

pub use catalog::CatalogApi;
pub use intake::IntakeApi;
