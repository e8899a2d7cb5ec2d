//! The gRPC face of intake: CatalogService and IntakeService, and the
//! command plumbing they share.

mod catalog;
pub mod commands;
mod intake;
mod materials;

pub use catalog::CatalogApi;
pub use intake::IntakeApi;
