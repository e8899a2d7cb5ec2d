//! Integration tests of the intake service: the real service on port 0 with
//! its own database and NATS prefix, driven over gRPC.

mod abuse;
mod calendar;
mod catalog;
mod catalog_drafts;
mod catalog_versions;
mod credit;
mod downloads;
mod fixtures;
mod helpers;
mod legacy;
mod lifecycle;
mod limits;
mod materials;
mod notes;
mod officers;
mod privacy;
mod reads;
mod restore;
mod retention;
mod scope;
mod submit;
mod uploads;
