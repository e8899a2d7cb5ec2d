//! Integration tests of the issuance service: the real service on port 0
//! with its own database and NATS prefix, a manual clock, and a fixed
//! in-memory case directory standing in for intake and the task service
//! (Postgres and NATS stay real), driven over gRPC.

mod delivery;
mod helpers;
mod ledger;
mod legacy;
mod ratings;
mod refusals;
mod sampling;
mod scope;
